"""Tags and groups: lists, creation, group membership changes."""

from __future__ import annotations

import pytest

from contacts.models import Group, GroupMembership, Tag
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_tags_are_listed_by_name(api):
    TagFactory(name="vip")
    TagFactory(name="Beta")
    response = api.get("/api/tags")
    assert response.status_code == 200
    assert [t["name"] for t in response.json()] == ["Beta", "vip"]
    assert set(response.json()[0]) == {"id", "name", "created_at"}


def test_creating_a_tag_reuses_an_existing_name_in_any_case(api):
    created = api.post("/api/tags", {"name": "VIP"}, format="json")
    assert created.status_code == 201
    again = api.post("/api/tags", {"name": "vip"}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert Tag.objects.count() == 1


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": 7},
                                  {"name": "x" * 101}, {"name": "a\x00"}])  # fmt: skip
def test_a_tag_needs_a_name(api, body):
    response = api.post("/api/tags", body, format="json")
    assert response.status_code == 400
    assert paths_of(response) == ["name"]


def test_groups_are_listed_and_created(api):
    response = api.post(
        "/api/groups", {"name": "Newsletter", "description": "Monthly"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["description"] == "Monthly"
    assert [g["name"] for g in api.get("/api/groups").json()] == ["Newsletter"]
    assert api.post("/api/groups", {"name": "newsletter"}, format="json").status_code == 200
    assert Group.objects.count() == 1


def test_members_are_added_listed_and_removed(api):
    group = GroupFactory(name="Webinar")
    a, b = ContactFactory(), ContactFactory()
    response = api.post(
        f"/api/groups/{group.pk}/members", {"contact_ids": [a.pk, b.pk, 999999]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"changed": 2}
    again = api.post(f"/api/groups/{group.pk}/members", {"contact_ids": [a.pk]}, format="json")
    assert again.json() == {"changed": 0}
    members = api.get(f"/api/groups/{group.pk}/members")
    assert [c["id"] for c in members.json()] == [b.pk, a.pk]
    assert members["X-Total-Count"] == "2"
    assert api.delete(f"/api/groups/{group.pk}/members/{a.pk}").status_code == 204
    assert list(GroupMembership.objects.values_list("contact_id", flat=True)) == [b.pk]
    gone = api.delete(f"/api/groups/{group.pk}/members/{a.pk}")
    assert gone.status_code == 404
    assert errors_of(gone)[0]["message"] == f"Contact {a.pk} is not in group {group.pk}."


@pytest.mark.parametrize(
    "body",
    [{}, {"contact_ids": []}, {"contact_ids": ["1"]}, {"contact_ids": [0]},
     {"contact_ids": [2**64]}, {"contact_ids": list(range(1, 1002))}, {"contact_ids": 5}],
)  # fmt: skip
def test_adding_members_needs_contact_ids(api, body):
    group = GroupFactory()
    response = api.post(f"/api/groups/{group.pk}/members", body, format="json")
    assert response.status_code == 400
    assert paths_of(response)[0].startswith("contact_ids")


def test_an_unknown_group_is_a_404(api):
    assert api.get("/api/groups/999/members").status_code == 404
    assert (
        api.post("/api/groups/999/members", {"contact_ids": [1]}, format="json").status_code == 404
    )
