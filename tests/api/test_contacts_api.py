"""GET /api/contacts and GET/PATCH/DELETE /api/contacts/{id}."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts.models import Contact, GroupMembership
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db

CONTACT_KEYS = {
    "id", "email", "name", "first_name", "last_name", "company", "job_title", "country",
    "city", "source", "lead_score", "lifecycle_stage", "last_interacted_at", "created_at",
    "updated_at", "is_bounced", "is_unsubscribed", "status", "custom_fields", "tags", "groups",
}  # fmt: skip


def test_the_list_is_a_plain_array_of_contacts_newest_first(api):
    vip, beta = TagFactory(name="vip"), TagFactory(name="Beta")
    newsletter = GroupFactory(name="Newsletter")
    old = ContactFactory(email="old@example.com")
    new = ContactFactory(
        email="new@example.com", first_name="Ann", last_name="Lee", tags=[vip, beta],
        groups=[newsletter], custom_fields={"plan": "pro"}, is_bounced=True,
    )  # fmt: skip
    response = api.get("/api/contacts")
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body] == [new.pk, old.pk]
    assert set(body[0]) == CONTACT_KEYS
    assert body[0]["name"] == "Ann Lee"
    assert body[0]["tags"] == ["Beta", "vip"]
    assert body[0]["groups"] == ["Newsletter"]
    assert body[0]["status"] == "bounced"
    assert body[0]["custom_fields"] == {"plan": "pro"}
    assert body[1]["tags"] == [] and body[1]["groups"] == []


def test_the_list_filters(api):
    vip = TagFactory(name="VIP")
    alice = ContactFactory(email="alice@acme.com", company="Acme Inc", tags=[vip])
    ContactFactory(email="bob@globex.com", company="Globex")
    carol = ContactFactory(email="carol@acme.com", company="Acme Inc", is_unsubscribed=True)

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/contacts?{query}")
        assert response.status_code == 200
        return [c["id"] for c in response.json()]

    assert ids("q=acme") == [carol.pk, alice.pk]
    assert ids("tag=vip") == [alice.pk]
    assert ids("tag=nobody-has-this") == []
    assert ids("status=unsubscribed") == [carol.pk]
    assert ids("email=ALICE@acme.com") == [alice.pk]
    assert ids("q=acme&status=active") == [alice.pk]


@pytest.mark.parametrize(
    ("query", "path"),
    [("status=sleeping", "status"), ("status=", "status"), ("q=" + "x" * 201, "q"),
     ("email=" + "x" * 300, "email"), ("tag=" + "x" * 101, "tag")],
)  # fmt: skip
def test_bad_filters_are_a_400(api, query, path):
    response = api.get(f"/api/contacts?{query}")
    assert response.status_code == 400
    assert paths_of(response) == [path]


@pytest.mark.parametrize("query", ["q=a%00b", "email=a%00@example.com", "tag=v%00ip"])
def test_a_filter_with_a_nul_matches_nobody(api, query):
    ContactFactory(email="a@example.com", tags=[TagFactory(name="vip")])
    response = api.get(f"/api/contacts?{query}")
    assert response.status_code == 200
    assert response.json() == []


def test_get_one(api):
    contact = ContactFactory(email="one@example.com", tags=[TagFactory(name="x")])
    response = api.get(f"/api/contacts/{contact.pk}")
    assert response.status_code == 200
    assert response.json()["email"] == "one@example.com"
    assert response.json()["tags"] == ["x"]


def test_an_unknown_contact_is_a_404(api):
    response = api.get("/api/contacts/424242")
    assert response.status_code == 404
    assert errors_of(response) == [{"path": "", "message": "There is no contact with id 424242."}]


def test_patch_changes_the_fields_given_and_sets_tags_and_groups(api):
    vip, old = TagFactory(name="vip"), TagFactory(name="old")
    keep = GroupFactory(name="Keep")
    contact = ContactFactory(
        email="p@example.com", first_name="Pat", lead_score=1, tags=[vip, old],
        groups=[keep, GroupFactory(name="Drop")], custom_fields={"a": 1, "b": 2},
    )  # fmt: skip
    response = api.patch(
        f"/api/contacts/{contact.pk}",
        {"lead_score": 90, "tags": ["VIP", "new"], "groups": ["keep"], "custom_fields": {"a": 3}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["lead_score"] == 90 and body["first_name"] == "Pat"
    assert body["tags"] == ["new", "vip"]
    assert body["groups"] == ["Keep"]
    assert body["custom_fields"] == {"a": 3}
    contact.refresh_from_db()
    assert sorted(contact.tag_ids) == sorted(contact.tags.values_list("pk", flat=True))
    assert len(contact.tag_ids) == 2


def test_patch_can_change_the_email(api):
    contact = ContactFactory(email="before@example.com")
    response = api.patch(
        f"/api/contacts/{contact.pk}", {"email": "after@example.com"}, format="json"
    )
    assert response.status_code == 200
    assert Contact.objects.get(pk=contact.pk).email == "after@example.com"


def test_patch_refuses_an_email_another_contact_has(api):
    ContactFactory(email="taken@example.com")
    contact = ContactFactory(email="mine@example.com")
    response = api.patch(
        f"/api/contacts/{contact.pk}", {"email": "TAKEN@example.com"}, format="json"
    )
    assert response.status_code == 409
    assert errors_of(response) == [
        {"path": "email", "message": "Another contact already has this email."}
    ]
    assert Contact.objects.get(pk=contact.pk).email == "mine@example.com"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"lead_score": -1}, "lead_score"),
        ({"email": None}, "email"),
        ({"tags": "vip"}, "tags"),
        ({"unknown": 1}, "unknown"),
        ([{"lead_score": 1}], ""),
    ],
)
def test_patch_rejects_bad_fields(api, body, path):
    contact = ContactFactory(lead_score=5)
    response = api.patch(f"/api/contacts/{contact.pk}", body, format="json")
    assert response.status_code == 400
    assert paths_of(response) == [path]
    assert Contact.objects.get(pk=contact.pk).lead_score == 5


def test_patch_of_an_unknown_contact_is_a_404(api):
    assert api.patch("/api/contacts/999999", {"lead_score": 1}, format="json").status_code == 404


def test_delete(api):
    contact = ContactFactory(groups=[GroupFactory()])
    response = api.delete(f"/api/contacts/{contact.pk}")
    assert response.status_code == 204
    assert not Contact.objects.exists() and not GroupMembership.objects.exists()
    assert api.delete(f"/api/contacts/{contact.pk}").status_code == 404


def test_put_is_not_allowed(api):
    contact = ContactFactory()
    response = api.put(f"/api/contacts/{contact.pk}", {"email": "x@example.com"}, format="json")
    assert response.status_code == 405
    assert paths_of(response) == [""]


def test_times_are_written_in_utc_whatever_the_servers_time_zone(api, settings):
    settings.TIME_ZONE = "Europe/Oslo"
    ContactFactory(
        email="ann@example.com", created_at=dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC)
    )
    (contact,) = api.get("/api/contacts").json()
    assert contact["created_at"] == "2026-07-01T12:30:00Z"
