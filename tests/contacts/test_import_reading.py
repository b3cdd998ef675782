"""contacts/imports/reading.py: what a file is (packing, encoding, delimiter) and its
records with their lines; every unreadable file is a message, never a 500."""

from __future__ import annotations

import codecs
import gzip

import pytest

from contacts.imports.reading import Unreadable, records, sniff

HEADER = "Email,First name,Company\n"


def write(tmp_path, data: bytes, name: str = "f.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_with_and_without_bom_reads_the_same_header(tmp_path):
    plain = sniff(write(tmp_path, (HEADER + "zoë@example.com,Zoë,Ærø\n").encode(), "a.csv"))
    bom = sniff(write(tmp_path, codecs.BOM_UTF8 + (HEADER + "z@example.com,Zoë,X\n").encode()))
    assert plain.encoding == "utf-8" and bom.encoding == "utf-8-sig"
    assert plain.header == bom.header == ["Email", "First name", "Company"]
    assert plain.rows == [["zoë@example.com", "Zoë", "Ærø"]]


def test_windows_1252_is_detected_and_its_accents_and_euro_sign_come_out_right(tmp_path):
    data = (HEADER + "jose@example.com,José,Café € Müller\n").encode("cp1252")
    sniffed = sniff(write(tmp_path, data))
    assert sniffed.encoding == "cp1252"
    assert sniffed.rows == [["jose@example.com", "José", "Café € Müller"]]


def test_utf16_from_excel_unicode_text_is_read_by_its_bom(tmp_path):
    data = ("Email\tName\nann@example.com\tÅsa\n").encode("utf-16")
    sniffed = sniff(write(tmp_path, data))
    assert (sniffed.encoding, sniffed.delimiter) == ("utf-16", "\t")
    assert sniffed.rows == [["ann@example.com", "Åsa"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(tmp_path, delimiter):
    lines = [["Email", "First name", "City"], ["a@example.com", "Ann", "Oslo"],
             ["b@example.com", "Bo", "Bergen"]]  # fmt: skip
    data = "\n".join(delimiter.join(line) for line in lines).encode()
    sniffed = sniff(write(tmp_path, data))
    assert sniffed.delimiter == delimiter
    assert sniffed.rows[1] == ["b@example.com", "Bo", "Bergen"]


def test_a_quoted_cell_over_several_lines_is_one_record_and_lines_count_from_the_file(tmp_path):
    data = (HEADER + 'a@example.com,"Ann\nMarie",X\n\nb@example.com,Bo,Y\n').encode()
    path = write(tmp_path, data)
    got = list(records(path, encoding="utf-8", delimiter=","))
    # the header is line 1, Ann's record lines 2-3, a blank line 4, Bo line 5
    assert got == [
        (1, ["Email", "First name", "Company"]),
        (2, ["a@example.com", "Ann\nMarie", "X"]),
        (5, ["b@example.com", "Bo", "Y"]),
    ]


def test_a_gzipped_csv_is_unpacked_whatever_its_name(tmp_path):
    data = gzip.compress((HEADER + "a@example.com,Ann,X\n").encode())
    sniffed = sniff(write(tmp_path, data, "contacts.csv"))
    assert sniffed.rows == [["a@example.com", "Ann", "X"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"   \n\n", "The file is empty"),
        (bytes(range(256)) * 40, "This is not a CSV file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, "This is not a CSV file"),
        (b"\x1f\x8b\x08\x00garbage-that-is-not-deflate", "cannot be unpacked"),
        (b"a@example.com,Ann,X\nb@example.com,Bo,Y\n", "add a header row"),
    ],
    ids=["empty", "blank lines", "binary", "png", "broken gzip", "no header"],
)
def test_a_file_that_is_not_a_csv_is_refused_with_what_to_do(tmp_path, data, message):
    with pytest.raises(Unreadable, match=message):
        sniff(write(tmp_path, data))


def test_utf8_chosen_for_a_windows_1252_file_says_which_encoding_to_choose(tmp_path):
    data = (HEADER + "jose@example.com,José,X\n").encode("cp1252")
    with pytest.raises(Unreadable, match="Windows-1252"):
        sniff(write(tmp_path, data), encoding="utf-8")


def test_utf16_chosen_for_a_utf8_file_without_its_mark_says_to_choose_another(tmp_path):
    path = write(tmp_path, (HEADER + "ann@example.com,Ann,X\n").encode())
    with pytest.raises(Unreadable, match="The file is not UTF-16: choose another encoding"):
        sniff(path, encoding="utf-16")
    with pytest.raises(Unreadable, match="Line 1 is not UTF-16"):
        list(records(path, encoding="utf-16", delimiter=","))


def test_a_utf16_file_cut_in_the_middle_of_a_character_names_its_line(tmp_path):
    data = ("Email\tName\nann@example.com\tÅsa\n").encode("utf-16") + b"b"
    path = write(tmp_path, data)
    with pytest.raises(Unreadable, match="Line 3 is not UTF-16"):
        list(records(path, encoding="utf-16", delimiter="\t"))


def test_a_broken_byte_far_into_a_utf8_file_names_its_line(tmp_path):
    good = "".join(f"u{i}@example.com,Ann,X\n" for i in range(5000))
    data = (HEADER + good).encode() + b"bad@example.com,Jos\xe9,X\n"
    path = write(tmp_path, data)
    assert sniff(path).encoding == "utf-8"  # the start is UTF-8
    with pytest.raises(Unreadable, match="Line 5002 is not UTF-8"):
        list(records(path, encoding="utf-8", delimiter=","))


def test_an_unclosed_quote_that_swallows_the_file_is_an_error_with_its_line(tmp_path):
    data = (HEADER + 'a@example.com,"Ann,X\n' + "b@example.com,Bo,Y\n" * 20000).encode()
    with pytest.raises(Unreadable, match="Line 2: field larger than field limit"):
        list(records(write(tmp_path, data), encoding="utf-8", delimiter=","))
