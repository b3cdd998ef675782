"""Reading an uploaded CSV: how it is packed, encoded and delimited, and its records.

The file is streamed: `sniff` reads the first SAMPLE bytes to decide, `records`
yields one record at a time with the line it starts on. A `.csv.gz` is unpacked on
the fly (by its magic bytes, whatever its name). Everything a file can do wrong
before its rows are read is an `Unreadable` whose message says what to change.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..validation import valid_email

SAMPLE = 64 * 1024
DELIMITERS = ",;\t|"
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 / Latin-1",
}
# One cell larger than this is not a contact field but a broken quote swallowing
# the rest of the file.
MAX_CELL = 100_000
# A gzip that unpacks to more than this is refused (a "zip bomb").
MAX_UNPACKED = 4 * 1024**3

csv.field_size_limit(MAX_CELL)


class Unreadable(ValueError):
    """The file cannot be read as a CSV; the message says why and what to do."""


@dataclass(frozen=True)
class Sniffed:
    encoding: str
    delimiter: str
    header: list[str]
    rows: list[list[str]]  # the first few records after the header


class _Counted(io.RawIOBase):
    """The unpacked bytes, counted against MAX_UNPACKED."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.raw.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise Unreadable(
                f"The file looks gzip-compressed but cannot be unpacked ({exc}); "
                "upload it again, or upload the CSV itself."
            ) from None
        self.count += len(data)
        if self.count > MAX_UNPACKED:
            raise Unreadable(
                f"Unpacked, the file is over {MAX_UNPACKED // 1024**3} GB; split it into "
                "smaller files."
            )
        buffer[: len(data)] = data
        return len(data)


def open_binary(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """(the file's unpacked bytes, the file itself: its position is the progress)."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the returned pair
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        stream: BinaryIO = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
    else:
        raw.seek(0)
        stream = raw
    return io.BufferedReader(_Counted(stream), buffer_size=1024 * 1024), raw


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # The sample may end inside a character: an incremental decoder keeps it.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"  # decoded with latin-1 for the five bytes Windows-1252 lacks


def _decode(sample: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors=_errors(encoding))
    try:
        return decoder.decode(sample, final=False)
    except UnicodeError:  # also UTF-16 without its byte-order mark
        raise Unreadable(
            f"The file is not {ENCODINGS.get(encoding, encoding)}: choose another encoding "
            "(Windows-1252 for files from older Excel versions)."
        ) from None


def _errors(encoding: str) -> str:
    # Windows-1252 has no characters for 0x81, 0x8D, 0x8F, 0x90, 0x9D; Latin-1 has
    # (control characters), so such a byte is read as Latin-1 would.
    return "flock_latin1_fallback" if encoding == "cp1252" else "strict"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("flock_latin1_fallback", _latin1_fallback)


def detect_delimiter(text: str) -> str:
    lines = text.splitlines()[:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        # No consistent choice (one column, ragged rows): the header decides.
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    return "\x00" in text or controls > len(text) / 100


def sniff(path: Path, *, encoding: str = "", delimiter: str = "") -> Sniffed:
    """What the start of the file says about it (or what was chosen for it)."""
    stream, raw = open_binary(path)
    with raw, stream:
        sample = stream.read(SAMPLE)
    if not sample.strip():
        raise Unreadable("The file is empty: choose a CSV file with a header row and contacts.")
    encoding = encoding or detect_encoding(sample)
    text = _decode(sample, encoding)
    if _looks_binary(text):
        raise Unreadable(
            "This is not a CSV file (it holds binary data). Save the sheet as CSV "
            "(comma-separated values) and upload that."
        )
    delimiter = delimiter or detect_delimiter(text)
    preview: list[list[str]] = []
    try:
        for _, cells in records(path, encoding=encoding, delimiter=delimiter):
            preview.append(cells)
            if len(preview) > 10:
                break
    except csv.Error as exc:
        raise Unreadable(f"The file cannot be read as CSV ({exc}).") from None
    header = [cell.strip() for cell in preview[0]] if preview else []
    if not any(header):
        raise Unreadable("The first row must name the columns (e.g. Email, First name).")
    address = next((cell for cell in header if "@" in cell and valid_email(cell)), None)
    if address:
        raise Unreadable(
            f"The first row holds an email address ({address[:100]}), not column names: "
            "add a header row (e.g. Email, First name) above the contacts."
        )
    return Sniffed(encoding=encoding, delimiter=delimiter, header=header, rows=preview[1:])


class _BadLine(Exception):
    def __init__(self, line: int):
        self.line = line


def _lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """The text of the file line by line, decoded one line at a time so that a byte
    that is not in the encoding is reported with its line (_BadLine)."""
    if encoding == "utf-16":  # its newlines are two bytes: the codec splits them
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        number = 0
        while True:
            number += 1
            try:
                read = text.readline()
            except UnicodeError:  # an odd byte at the end, or no byte-order mark
                raise _BadLine(number) from None
            if not read:
                return
            yield read
    errors = _errors(encoding)
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    for number, line in enumerate(stream, start=1):
        if number == 1 and encoding == "utf-8-sig":
            line = line.removeprefix(codecs.BOM_UTF8)
        try:
            yield line.decode(codec, errors)
        except UnicodeDecodeError:
            raise _BadLine(number) from None


class Position:
    """How far `records` has read, in bytes of the file itself (packed, if it is)."""

    file: BinaryIO | None = None

    def bytes(self) -> int:
        try:
            return self.file.tell() if self.file else 0
        except ValueError:  # closed: all of it was read
            return 0


def records(
    path: Path, *, encoding: str, delimiter: str, position: Position | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its cells) for every record, the header first.

    A record quoted across lines counts all its lines. Blank lines are skipped. A
    csv.Error (a cell over MAX_CELL) is raised with the line; the rows before it
    are already yielded.
    """
    position = position or Position()
    stream, raw = open_binary(path)
    position.file = raw
    with raw, stream:
        text = _lines(stream, encoding)
        reader = csv.reader(text, delimiter=delimiter, strict=False)
        start = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except _BadLine as exc:
                raise Unreadable(
                    f"Line {exc.line} is not "
                    f"{ENCODINGS.get(encoding, encoding)}: choose the file's encoding "
                    "(Windows-1252 for files from older Excel versions) and import it again."
                ) from None
            except csv.Error as exc:
                raise Unreadable(f"Line {start}: {exc}; check the quotes on that line.") from None
            line, start = start, reader.line_num + 1
            if cells and any(cell.strip() for cell in cells):
                yield line, cells
