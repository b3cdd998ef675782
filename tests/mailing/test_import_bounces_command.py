"""``manage.py import_bounces``: bounce lists for providers without webhooks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.models import Contact
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def run(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_bounces", str(path), *args, stdout=out)
    return out.getvalue()


def state(email: str) -> tuple[bool, int]:
    contact = Contact.objects.get(email=email)
    return contact.is_bounced, contact.soft_bounces


def test_marks_the_listed_contacts_and_reports_unknown_and_invalid_rows(tmp_path):
    ContactFactory(email="ann@example.com")
    ContactFactory(email="bob@example.com")
    ContactFactory(email="keep@example.com")
    csv_file = tmp_path / "bounces.csv"
    csv_file.write_text(
        "name,Email,reason\n"
        "Ann,ANN@example.com,550\n"
        "Bob,bob@example.com,550\n"
        "Nobody,nobody@example.com,550\n"
        "Broken,not-an-email,550\n"
        "\n"
        "Empty,,550\n"
        "Short\n"
    )

    out = run(csv_file)

    assert state("ann@example.com") == (True, 0)
    assert state("bob@example.com") == (True, 0)
    assert state("keep@example.com") == (False, 0)
    assert "marked bounced: 2" in out
    assert "unknown emails (no such contact): 1" in out
    assert "invalid rows: 3" in out
    assert "line 5: 'not-an-email' is not a valid email address" in out
    assert "line 7: no email" in out
    assert "line 8: no email" in out


def test_first_column_when_there_is_no_header(tmp_path):
    ContactFactory(email="ann@example.com")
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("ann@example.com,hard\nnobody@example.com,hard\n")

    out = run(csv_file, "--kind", "complaint")

    assert state("ann@example.com") == (True, 0)
    assert "marked bounced: 1" in out
    assert "unknown emails (no such contact): 1" in out
    assert "invalid rows: 0" in out


def test_soft_bounces_are_counted_and_a_rerun_of_the_same_file_changes_nothing(tmp_path):
    ContactFactory(email="ann@example.com")
    csv_file = tmp_path / "soft.csv"
    csv_file.write_text("email\nann@example.com\nann@example.com\n")

    out = run(csv_file, "--kind", "soft")
    assert state("ann@example.com") == (False, 2)
    assert "soft bounces counted: 2" in out

    out = run(csv_file, "--kind", "soft")
    assert state("ann@example.com") == (False, 2)
    assert "already imported (unchanged): 2" in out

    other = tmp_path / "soft2.csv"
    other.write_text("email\nann@example.com\n")
    out = run(other, "--kind", "soft")
    assert state("ann@example.com") == (True, 3)
    assert "marked bounced: 1" in out


def test_semicolon_separated_file_with_a_byte_order_mark(tmp_path):
    ContactFactory(email="ann@example.com")
    csv_file = tmp_path / "excel.csv"
    csv_file.write_bytes("\ufeffNom;email\nAnn;ann@example.com\n".encode())

    run(csv_file)

    assert state("ann@example.com") == (True, 0)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"missing\.csv: no such file"):
        run(tmp_path / "missing.csv")


def test_file_without_an_email_column_is_a_clear_error(tmp_path):
    ContactFactory(email="ann@example.com")
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("name,address\nAnn,ann@example.com\n")

    with pytest.raises(CommandError, match="no 'email' column"):
        run(csv_file)
    assert state("ann@example.com") == (False, 0)


def test_empty_and_binary_files_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="is empty"):
        run(empty)

    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00e\x00m")
    with pytest.raises(CommandError, match="not UTF-8"):
        run(binary)


def test_unknown_kind_is_refused(tmp_path):
    csv_file = tmp_path / "b.csv"
    csv_file.write_text("email\nann@example.com\n")
    with pytest.raises(CommandError, match="invalid choice"):
        run(csv_file, "--kind", "bogus")
