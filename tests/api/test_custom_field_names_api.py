"""Custom-field names are stored as rules read them, without outer spaces, on every
API write (issue 14, point 23): single and batch POST, PATCH."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from tests.api.conftest import errors_of
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

SPACED_RULE = {"rules": [{"field": "customField:spaced", "op": "equals", "value": "yes"}]}
COLLISION = (
    "Custom fields 'plan' and ' plan ' are the same name once the spaces around it "
    "are removed; keep only one of them."
)


def matches(api) -> int:
    response = api.post("/api/segments/preview", SPACED_RULE, format="json")
    assert response.status_code == 200
    return response.json()["count"]


def test_a_spaced_name_from_one_post_is_found_by_a_rule(api):
    response = api.post(
        "/api/contacts",
        {"email": "a@example.com", "custom_fields": {" spaced ": "yes"}},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["custom_fields"] == {"spaced": "yes"}
    assert matches(api) == 1  # was 0: stored as " spaced ", looked up as "spaced"


def test_spaced_names_in_a_batch_are_stripped(api):
    batch = [{"email": f"p{i}@example.com", "custom_fields": {"spaced ": "yes"}} for i in range(3)]
    response = api.post("/api/contacts", batch, format="json")
    assert response.json()["created"] == 3
    assert matches(api) == 3


def test_patch_strips_spaced_names(api):
    contact = ContactFactory()
    response = api.patch(
        f"/api/contacts/{contact.pk}", {"custom_fields": {"  spaced": "yes"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"spaced": "yes"}
    assert matches(api) == 1


def test_names_that_collide_once_stripped_are_a_400_and_nothing_changes(api):
    contact = ContactFactory(custom_fields={"plan": "free"})
    response = api.patch(
        f"/api/contacts/{contact.pk}",
        {"custom_fields": {"plan": "pro", " plan ": "team"}},
        format="json",
    )
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "custom_fields", "message": COLLISION}]
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"plan": "free"}


def test_a_collision_in_a_batch_rejects_that_item_only(api):
    batch = [
        {"email": "ok@example.com", "custom_fields": {" plan": "pro"}},
        {"email": "twice@example.com", "custom_fields": {"plan": "pro", " plan ": "team"}},
    ]
    results = api.post("/api/contacts", batch, format="json").json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert results[1]["errors"] == [{"path": "[1].custom_fields", "message": COLLISION}]
    assert Contact.objects.get().custom_fields == {"plan": "pro"}
