"""`manage.py import_contacts FILE --map …`: the import from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Contact, CustomField

pytestmark = pytest.mark.django_db


def test_the_command_imports_with_a_map_and_reports_the_counts(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Mail,Given,Tier,Ignored\nann@example.com,Ann,gold,x\nbad,Bo,,y\n")
    out = io.StringIO()
    call_command("import_contacts", str(path), "--map",
                 "email=Mail,first_name=Given,custom:tier:text=Tier", "--tag", "cli",
                 stdout=out, stderr=io.StringIO())  # fmt: skip
    ann = Contact.objects.get()
    assert (ann.first_name, ann.custom_fields) == ("Ann", {"tier": "gold"})
    assert list(ann.tags.values_list("name", flat=True)) == ["cli"]
    assert CustomField.objects.get(name="tier").type == "text"
    text = out.getvalue()
    assert "Done: 1 created, 0 updated, 0 unchanged, 1 rejected of 2 rows." in text
    assert "line 3: Mail: 'bad' is not a valid email address." in text


def test_a_map_naming_a_missing_column_says_which_columns_there_are(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Email\nann@example.com\n")
    with pytest.raises(CommandError, match="no column “Mail” \\(Email\\)"):
        call_command("import_contacts", str(path), "--map", "email=Mail")
    assert not Contact.objects.exists()


def test_an_unreadable_file_is_a_command_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="The file is empty"):
        call_command("import_contacts", str(path))
