"""/contacts/export: the list's contacts as CSV, streamed by PostgreSQL (issue 16.6)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from contacts.models import CustomField

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("contacts:export")


def rows_of(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_every_field_tags_groups_and_custom_fields_are_columns(marketer_client):
    CustomField.objects.create(name="seats", type="number")
    ContactFactory(
        email="ann@example.com",
        first_name="Ann",
        company="Acme, Inc.",
        lead_score=42,
        is_bounced=True,
        tags=[TagFactory(name="vip"), TagFactory(name="Beta")],
        groups=[GroupFactory(name="Board")],
        custom_fields={"seats": 12, "plan": "pro"},
    )
    (row,) = rows_of(marketer_client.get(EXPORT))
    assert row["email"] == "ann@example.com" and row["company"] == "Acme, Inc."
    assert (row["lead_score"], row["is_bounced"], row["status"]) == ("42", "t", "bounced")
    assert (row["tags"], row["groups"]) == ("Beta, vip", "Board")
    assert (row["seats"], row["plan"]) == ("12", "pro")
    assert list(row)[:3] == ["email", "first_name", "last_name"]
    assert list(row)[-2:] == ["seats", "plan"]  # registered first, then the others


def test_it_exports_what_the_list_shows(marketer_client):
    board = GroupFactory(name="Board")
    ContactFactory(email="member@example.com", groups=[board])
    ContactFactory(email="other@example.com")
    rows = rows_of(marketer_client.get(EXPORT, {"group": "Board"}))
    assert [row["email"] for row in rows] == ["member@example.com"]


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_cells_a_spreadsheet_would_run_as_a_formula_are_defused(marketer_client, text):
    ContactFactory(company=text, custom_fields={"note": text})
    (row,) = rows_of(marketer_client.get(EXPORT))
    assert row["company"] == "'" + text
    assert row["note"] == "'" + text


def test_a_custom_field_name_a_spreadsheet_would_run_as_a_formula_is_defused(marketer_client):
    # Unregistered keys arrive through the API as they are; the name is a header cell.
    ContactFactory(custom_fields={'=HYPERLINK("http://x")': "v", "-1": "w"})
    body = b"".join(marketer_client.get(EXPORT).streaming_content).decode()
    header = next(csv.reader(io.StringIO(body)))
    assert {'\'=HYPERLINK("http://x")', "'-1"} <= set(header)
    assert not any(cell[:1] in "=+-@" for cell in header)


def test_a_custom_key_named_like_a_field_gets_its_own_column(marketer_client):
    ContactFactory(email="ann@example.com", custom_fields={"email": "other"})
    (row,) = rows_of(marketer_client.get(EXPORT))
    assert (row["email"], row["custom:email"]) == ("ann@example.com", "other")


def test_an_empty_selection_is_a_header_only(marketer_client):
    response = marketer_client.get(EXPORT, {"q": "nobody"})
    assert b"".join(response.streaming_content).decode().startswith("email,first_name")


def test_it_requires_login(stranger_client):
    assert stranger_client.get(EXPORT).status_code == 302


def test_the_list_links_to_the_export_of_what_it_shows(marketer_client):
    ContactFactory(company="Acme")
    body = marketer_client.get(reverse("contacts:list"), {"q": "acme"}).content.decode()
    assert f'href="{EXPORT}?q=acme"' in body


def test_each_group_links_to_its_export(marketer_client):
    GroupFactory(name="Beta testers")
    body = marketer_client.get(reverse("contacts:groups")).content.decode()
    assert f'href="{EXPORT}?group=Beta%20testers"' in body


def test_an_unknown_group_exports_nothing_rather_than_everyone(marketer_client):
    ContactFactory()
    response = marketer_client.get(EXPORT, {"group": "Renamed"}, follow=True)
    assert "Nothing was exported: There is no group with that name" in response.content.decode()


def test_a_field_name_with_a_percent_sign_is_exported(marketer_client):
    CustomField.objects.create(name="discount%", type="number")
    ContactFactory(custom_fields={"discount%": 5})
    (row,) = rows_of(marketer_client.get(EXPORT))
    assert row["discount%"] == "5"
