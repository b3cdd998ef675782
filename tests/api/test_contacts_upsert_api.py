"""POST /api/contacts: one object or up to 1,000, upserted by email."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact, Group, GroupMembership, Tag
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db


def tag_names(contact: Contact) -> list[str]:
    contact.refresh_from_db()
    names = sorted(
        Tag.objects.filter(pk__in=contact.tag_ids).values_list("name", flat=True), key=str.lower
    )
    # The trigger-kept array and the link rows agree.
    assert sorted(contact.tags.values_list("name", flat=True), key=str.lower) == names
    return names


def test_one_new_contact_is_created_with_all_its_fields(api):
    response = api.post(
        "/api/contacts",
        {
            "email": "Alice@Acme-Inc.com",
            "first_name": "Alice",
            "last_name": "Chen",
            "company": "Acme Inc",
            "job_title": "CTO",
            "country": "Canada",
            "city": "Toronto",
            "source": "webinar",
            "lead_score": 72,
            "lifecycle_stage": "customer",
            "last_interacted_at": "2026-01-20T14:02:11Z",
            "created_at": "2024-05-01",
            "is_bounced": False,
            "is_unsubscribed": True,
            "custom_fields": {"plan": "pro", "seats": 12, "trial": True},
            "tags": ["VIP", "beta"],
            "groups": ["Newsletter"],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    contact = Contact.objects.get(pk=body["id"])
    assert contact.email == "Alice@Acme-Inc.com"
    assert contact.full_name == "Alice Chen"
    assert contact.created_at == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert contact.last_interacted_at == dt.datetime(2026, 1, 20, 14, 2, 11, tzinfo=dt.UTC)
    assert contact.custom_fields == {"plan": "pro", "seats": 12, "trial": True}
    assert tag_names(contact) == ["beta", "VIP"]
    assert list(contact.groups.values_list("name", flat=True)) == ["Newsletter"]
    assert body["name"] == "Alice Chen"
    assert body["status"] == "unsubscribed"
    assert body["tags"] == ["beta", "VIP"]
    assert body["groups"] == ["Newsletter"]
    assert body["created_at"] == "2024-05-01T00:00:00Z"


def test_a_known_email_in_any_case_is_updated_with_only_the_fields_given(api):
    vip = TagFactory(name="vip")
    contact = ContactFactory(
        email="bob@globex.com", first_name="Bob", company="Globex", lead_score=10, tags=[vip],
        custom_fields={"plan": "free", "seats": 2},
    )  # fmt: skip
    response = api.post(
        "/api/contacts",
        {
            "email": "BOB@GLOBEX.COM",
            "lead_score": 55,
            "custom_fields": {"plan": "pro"},
            "tags": ["Customer"],
            "groups": ["Newsletter"],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["id"] == contact.pk
    contact.refresh_from_db()
    assert (contact.email, contact.first_name, contact.company) == (
        "bob@globex.com",
        "Bob",
        "Globex",
    )
    assert contact.lead_score == 55
    assert contact.custom_fields == {"plan": "pro", "seats": 2}  # merged
    assert tag_names(contact) == ["Customer", "vip"]  # added to
    assert list(contact.groups.values_list("name", flat=True)) == ["Newsletter"]
    assert Contact.objects.count() == 1


def test_existing_tag_and_group_names_are_reused_whatever_their_case(api):
    vip = TagFactory(name="VIP")
    group = GroupFactory(name="Newsletter")
    response = api.post(
        "/api/contacts",
        [{"email": "a@example.com", "tags": ["vip"], "groups": ["NEWSLETTER"]},
         {"email": "b@example.com", "tags": ["Vip", "new one"], "groups": ["newsletter"]}],
        format="json",
    )  # fmt: skip
    assert response.status_code == 200
    assert Tag.objects.count() == 2 and Group.objects.count() == 1
    a = Contact.objects.get(email="a@example.com")
    assert a.tag_ids == [vip.pk]
    assert GroupMembership.objects.filter(group=group).count() == 2


def test_a_batch_with_bad_items_writes_the_good_ones_and_says_why_for_the_others(api):
    ContactFactory(email="known@example.com", lead_score=1)
    response = api.post(
        "/api/contacts",
        [
            {"email": "new@example.com", "first_name": "New", "tags": ["imported"]},
            {"email": "not-an-email", "first_name": "Carol"},
            {"email": "KNOWN@example.com", "lead_score": 99},
            {"email": "bad-score@example.com", "lead_score": 101, "lifecycle_stage": "boss"},
            "just a string",
            {"first_name": "No email"},
            {"email": "new@example.com", "first_name": "Again"},
            {"email": "nul@example.com", "company": "A\x00B"},
            {"email": "fields@example.com", "custom_fields": {"nested": {"no": 1}}},
            {"email": "typo@example.com", "fist_name": "Typo"},
        ],
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 1, 8)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(10))
    assert [r["status"] for r in results] == [
        "created", "rejected", "updated", "rejected", "rejected",
        "rejected", "rejected", "rejected", "rejected", "rejected",
    ]  # fmt: skip
    assert results[0]["id"] == Contact.objects.get(email="new@example.com").pk
    assert results[0]["errors"] == []
    assert results[1]["errors"] == [
        {"path": "[1].email", "message": "'not-an-email' is not a valid email address."}
    ]
    assert results[1]["id"] is None and results[1]["email"] == "not-an-email"
    assert {e["path"] for e in results[3]["errors"]} == {"[3].lead_score", "[3].lifecycle_stage"}
    assert results[4]["errors"] == [{"path": "[4]", "message": "A contact must be a JSON object."}]
    assert results[5]["errors"] == [{"path": "[5].email", "message": "Enter an email address."}]
    assert results[6]["errors"][0]["path"] == "[6].email"
    assert "already item 0" in results[6]["errors"][0]["message"]
    assert results[7]["errors"][0]["path"] == "[7].company"
    assert "NUL" in results[7]["errors"][0]["message"]
    assert results[8]["errors"][0]["path"] == "[8].custom_fields"
    assert results[9]["errors"] == [
        {
            "path": "[9].fist_name",
            "message": "Unknown field 'fist_name'; did you mean 'first_name'?",
        }
    ]
    assert Contact.objects.get(email="known@example.com").lead_score == 99
    assert Contact.objects.get(email="new@example.com").first_name == "New"
    assert Contact.objects.count() == 2


def test_a_thousand_contacts_take_a_fixed_number_of_queries(api):
    ContactFactory.create_batch(5, tags=[TagFactory(name="old")])
    existing = list(Contact.objects.values_list("email", flat=True))
    items = [
        {"email": f"person-{i}@example.com", "first_name": f"P{i}", "lead_score": i % 101,
         "tags": [f"t{i % 7}", "bulk"], "groups": [f"g{i % 3}"], "custom_fields": {"n": i}}
        for i in range(995)
    ] + [{"email": email.upper(), "tags": ["bulk"]} for email in existing]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/contacts", items, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["rejected"]) == (995, 5, 0)
    # The change cause set and put back, token, savepoints and the statements of
    # contacts_upsert; none per contact.
    assert len(queries) <= 22, [q["sql"][:80] for q in queries]
    assert Contact.objects.count() == 1000
    sample = Contact.objects.get(email="person-10@example.com")
    assert tag_names(sample) == ["bulk", "t3"]
    assert list(sample.groups.values_list("name", flat=True)) == ["g1"]
    assert sample.custom_fields == {"n": 10}
    assert all(set(tag_names(Contact.objects.get(email=e))) == {"old", "bulk"} for e in existing)


def test_a_contact_read_from_the_api_can_be_sent_back(api):
    created = api.post("/api/contacts", {"email": "c@example.com", "tags": ["x"]}, format="json")
    contact = created.json()
    contact["first_name"] = "Cleo"
    response = api.post("/api/contacts", contact, format="json")
    assert response.status_code == 200
    assert response.json()["first_name"] == "Cleo"
    assert response.json()["tags"] == ["x"]


def test_more_than_a_thousand_is_refused(api):
    items = [{"email": f"p{i}@example.com"} for i in range(1001)]
    response = api.post("/api/contacts", items, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [
        {"path": "", "message": "Send at most 1,000 contacts per request."}
    ]
    assert not Contact.objects.exists()


def test_an_empty_array_changes_nothing(api):
    response = api.post("/api/contacts", [], format="json")
    assert response.status_code == 200
    assert response.json() == {"created": 0, "updated": 0, "rejected": 0, "results": []}


@pytest.mark.parametrize(
    ("item", "path"),
    [
        ({"email": "x@example.com", "lead_score": "50"}, "lead_score"),
        ({"email": "x@example.com", "lead_score": True}, "lead_score"),
        ({"email": "x@example.com", "lead_score": 10**40}, "lead_score"),
        ({"email": "x@example.com", "lead_score": 5.5}, "lead_score"),
        ({"email": "x@example.com", "first_name": 5}, "first_name"),
        ({"email": "x@example.com", "first_name": "x" * 101}, "first_name"),
        ({"email": "x@example.com", "created_at": None}, "created_at"),
        ({"email": "x@example.com", "created_at": "yesterday"}, "created_at"),
        ({"email": "x@example.com", "created_at": "2026-02-30"}, "created_at"),
        ({"email": "x@example.com", "created_at": "0001-01-01T00:00:00+05:00"}, "created_at"),
        ({"email": "x@example.com", "last_interacted_at": 1700000000}, "last_interacted_at"),
        ({"email": "x@example.com", "is_bounced": "yes"}, "is_bounced"),
        ({"email": "x@example.com", "custom_fields": []}, "custom_fields"),
        ({"email": "x@example.com", "custom_fields": {"": 1}}, "custom_fields"),
        ({"email": "x@example.com", "custom_fields": {"a": "\x00"}}, "custom_fields"),
        ({"email": "x@example.com", "custom_fields": {"a\x00": 1}}, "custom_fields"),
        ({"email": "x@example.com", "custom_fields": {"big": 10**30}}, "custom_fields"),
        ({"email": "x@example.com", "tags": "vip"}, "tags"),
        ({"email": "x@example.com", "tags": [""]}, "tags"),
        ({"email": "x@example.com", "tags": [1]}, "tags"),
        ({"email": "x@example.com", "groups": ["g" * 201]}, "groups"),
        ({"email": ["x@example.com"]}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        ({"email": "a b@example.com"}, "email"),
    ],
)
def test_one_bad_contact_is_a_400_naming_the_field(api, item, path):
    response = api.post("/api/contacts", item, format="json")
    assert response.status_code == 400
    assert paths_of(response) == [path]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"email": "x@example.com", "company": "\\ud800"}', "company"),
        ('{"email": "x@example.com", "custom_fields": {"\\udfff": 1}}', "custom_fields"),
        ('{"email": "x@example.com", "custom_fields": {"a": "\\ud800"}}', "custom_fields"),
        ('{"email": "x@example.com", "tags": ["\\ud800"]}', "tags"),
    ],
)
def test_broken_unicode_escapes_are_refused(api, body, path):
    response = api.generic("POST", "/api/contacts", body, content_type="application/json")
    assert response.status_code == 400
    assert paths_of(response) == [path]


def test_infinity_from_an_overflowing_number_is_refused(api):
    response = api.generic(
        "POST", "/api/contacts", '{"email": "x@example.com", "custom_fields": {"n": 1e999}}',
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert paths_of(response) == ["custom_fields"]


@pytest.mark.parametrize("body", ["5", '"text"', "null", "true"])
def test_a_body_that_is_not_a_contact_or_a_list_is_a_400(api, body):
    response = api.generic("POST", "/api/contacts", body, content_type="application/json")
    assert response.status_code == 400
    assert errors_of(response) == [
        {"path": "", "message": "Send a contact object or an array of them."}
    ]
