"""GET /api/contacts/export: the list's filters, as streamed CSV (issue 16.6)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.conftest import paths_of
from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_exports_the_contacts_the_filters_select(api):
    vip = TagFactory(name="vip")
    ContactFactory(email="ann@example.com", tags=[vip])
    ContactFactory(email="bob@example.com")
    rows = rows_of(api.get("/api/contacts/export?tag=VIP"))
    assert [(row["email"], row["tags"]) for row in rows] == [("ann@example.com", "vip")]


def test_a_client_that_accepts_only_csv_gets_it(api):
    ContactFactory(email="ann@example.com")
    rows = rows_of(api.get("/api/contacts/export", HTTP_ACCEPT="text/csv"))
    assert [row["email"] for row in rows] == ["ann@example.com"]


def test_an_unknown_tag_is_a_header_only(api):
    ContactFactory()
    assert rows_of(api.get("/api/contacts/export?tag=nope")) == []


def test_a_bad_filter_is_a_json_400(api):
    response = api.get("/api/contacts/export?status=gone")
    assert response.status_code == 400
    assert paths_of(response) == ["status"]


def test_it_needs_the_token(anonymous):
    assert anonymous.get("/api/contacts/export").status_code == 401
