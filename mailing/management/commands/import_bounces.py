"""``manage.py import_bounces FILE.csv [--kind hard|complaint|soft]``.

For providers without tracking webhooks: a CSV of bounced (or complaining)
addresses, in a column headed ``email`` or, when the file has no header, in the
first column. Each address goes through the same service as the webhooks
(``mailing.bounces``). Each row gets an event id made of the file's content
hash, the kind and the line number, so importing the same file twice changes
nothing the second time (a soft bounce is not counted twice).
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from mailing.bounces import COMPLAINT, HARD, SOFT, Outcome, apply_bounce

_EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address"}
_MAX_LISTED = 50


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a CSV file.") from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the CSV as UTF-8."
        ) from None


def _dialect(text: str):
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


class Command(BaseCommand):
    help = (
        "Apply a bounce list (CSV of emails, column 'email' or the first column when "
        "there is no header): hard bounces and complaints mark the contacts bounced, "
        "soft bounces are counted (the third in a row marks the contact bounced)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file of email addresses")
        parser.add_argument(
            "--kind",
            choices=[HARD, COMPLAINT, SOFT],
            default=HARD,
            help="what the listed addresses did (default: hard)",
        )

    def handle(self, *args, file: str, kind: str, **options):
        path = Path(file)
        text = _read(path)
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))

        counts = {outcome: 0 for outcome in Outcome}
        invalid: list[tuple[int, str]] = []
        column: int | None = None
        try:
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue  # blank line
                if column is None:
                    names = [cell.strip().lower() for cell in row]
                    header = next((i for i, n in enumerate(names) if n in _EMAIL_HEADERS), None)
                    if header is not None:
                        column = header
                        continue
                    if "@" not in row[0]:
                        raise CommandError(
                            f"{path}: no 'email' column (the first line is "
                            f"{', '.join(repr(cell) for cell in row)}); name the column "
                            "'email' or put the addresses in the first column without a header."
                        )
                    column = 0
                email = row[column].strip() if column < len(row) else ""
                if not email:
                    invalid.append((line, "no email"))
                    continue
                try:
                    validate_email(email)
                except ValidationError:
                    invalid.append((line, f"{email!r} is not a valid email address"))
                    continue
                outcome = apply_bounce(
                    email=email, kind=kind, event_id=f"csv:{digest}:{kind}:{line}"
                )
                counts[outcome] += 1
        except csv.Error as exc:
            raise CommandError(
                f"{path}, line {reader.line_num}: not a valid CSV ({exc})."
            ) from None
        if column is None:
            raise CommandError(f"{path} is empty: no 'email' column and no addresses.")

        out = self.stdout
        out.write(f"Bounce list {path} ({kind}):")
        out.write(f"  marked bounced: {counts[Outcome.BOUNCED]}")
        if kind == SOFT:
            out.write(f"  soft bounces counted: {counts[Outcome.SOFT_COUNTED]}")
        out.write(f"  unknown emails (no such contact): {counts[Outcome.UNKNOWN]}")
        if counts[Outcome.DUPLICATE]:
            out.write(f"  already imported (unchanged): {counts[Outcome.DUPLICATE]}")
        out.write(f"  invalid rows: {len(invalid)}")
        for line, reason in invalid[:_MAX_LISTED]:
            out.write(f"    line {line}: {reason}")
        if len(invalid) > _MAX_LISTED:
            out.write(f"    … and {len(invalid) - _MAX_LISTED} more")
