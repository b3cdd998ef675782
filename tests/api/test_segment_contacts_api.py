"""GET /api/segments/{id}/contacts and GET /api/segments/contacts?segment_id=."""

from __future__ import annotations

import pytest

from segments.services import segment_create
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory, GroupFactory

pytestmark = pytest.mark.django_db

SUMMARY_KEYS = {
    "id", "email", "name", "first_name", "last_name", "company", "status", "lead_score",
    "lifecycle_stage", "last_interacted_at", "created_at",
}  # fmt: skip


@pytest.fixture
def segment(marketer):
    return segment_create(
        name="Active Enterprise",
        user=marketer,
        filter_json=[
            {"field": "status", "operator": "equals", "value": "active"},
            {"field": "company", "operator": "contains", "value": "Inc"},
        ],
    )


@pytest.fixture
def members():
    alice = ContactFactory(
        email="alice@acme-inc.com", first_name="Alice", last_name="Chen", company="Acme Inc"
    )
    bob = ContactFactory(
        email="bob@globex-inc.com", first_name="Bob", last_name="Martin", company="Globex Inc"
    )
    ContactFactory(company="Initech Inc", is_bounced=True)
    ContactFactory(company="Umbrella")
    return [bob, alice]  # newest first


def test_the_seed_002_query_spelling_lists_the_matches(api, segment, members):
    response = api.get(f"/api/segments/contacts?segment_id={segment.pk}")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [c["id"] for c in body] == [c.pk for c in members]
    assert set(body[0]) == SUMMARY_KEYS
    assert {k: body[1][k] for k in ("email", "name", "company", "status")} == {
        "email": "alice@acme-inc.com",
        "name": "Alice Chen",
        "company": "Acme Inc",
        "status": "active",
    }
    assert response["X-Total-Count"] == "2"


def test_the_path_spelling_gives_the_same(api, segment, members):
    by_query = api.get(f"/api/segments/contacts?segment_id={segment.pk}").json()
    assert api.get(f"/api/segments/{segment.pk}/contacts").json() == by_query
    assert api.get(f"/api/segments/{segment.pk}/contacts/").json() == by_query


def test_it_pages(api, segment, members):
    response = api.get(f"/api/segments/{segment.pk}/contacts?per_page=1")
    assert [c["id"] for c in response.json()] == [members[0].pk]
    assert response["X-Total-Count"] == "2"
    assert 'rel="next"' in response["Link"]


@pytest.mark.parametrize("query", ["", "segment_id=", "segment_id=abc", "segment_id=-3",
                                   "segment_id=1.5", "segment_id=" + "9" * 40])  # fmt: skip
def test_the_query_spelling_needs_a_segment_id(api, query):
    response = api.get(f"/api/segments/contacts?{query}")
    assert response.status_code == 400
    assert paths_of(response) == ["segment_id"]


def test_an_unknown_segment_is_a_404(api):
    for url in ("/api/segments/contacts?segment_id=999", "/api/segments/999/contacts"):
        response = api.get(url)
        assert response.status_code == 404
        assert errors_of(response) == [{"path": "", "message": "There is no segment with id 999."}]


def test_a_segment_whose_rules_broke_is_a_409_saying_why(api, marketer):
    group = GroupFactory(name="Webinar")
    segment = segment_create(
        name="Webinar", user=marketer,
        filter_json=[{"field": "group", "op": "in_group", "value": "Webinar"}],
    )  # fmt: skip
    group.delete()
    response = api.get(f"/api/segments/{segment.pk}/contacts")
    assert response.status_code == 409
    assert paths_of(response) == ["rules[0].value"]


def test_post_is_not_allowed(api, segment):
    response = api.post(f"/api/segments/{segment.pk}/contacts", {}, format="json")
    assert response.status_code == 405
