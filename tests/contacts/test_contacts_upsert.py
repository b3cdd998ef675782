"""contacts.upsert.contacts_upsert and names_to_ids: set-based writes by email."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts import upsert
from contacts.models import Contact, ContactTag, Group, Tag
from contacts.upsert import contacts_upsert, names_to_ids
from segments.selectors import contacts_matching

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def links_agree_with_tag_ids() -> bool:
    """Every contact's trigger-kept tag_ids equals its ContactTag rows."""
    for contact in Contact.objects.all():
        linked = sorted(ContactTag.objects.filter(contact=contact).values_list("tag_id", flat=True))
        if sorted(contact.tag_ids) != linked:
            return False
    return True


def test_new_contacts_get_defaults_and_what_was_given():
    (result,) = contacts_upsert(items=[{"email": "a@example.com", "company": " Acme "}], now=NOW)
    assert result.status == "created"
    contact = Contact.objects.get(pk=result.id)
    assert contact.company == "Acme"
    assert (contact.lead_score, contact.lifecycle_stage) == (0, "subscriber")
    assert contact.created_at == NOW and contact.updated_at == NOW
    assert contact.last_interacted_at is None
    assert contact.soft_bounces == 0
    assert contact.custom_fields == {}


def test_updates_change_only_the_given_columns_even_within_one_batch():
    a = ContactFactory(email="a@example.com", first_name="Ann", lead_score=5, city="Oslo")
    b = ContactFactory(email="b@example.com", first_name="Bea", lead_score=6, city="Rome")
    results = contacts_upsert(
        items=[{"email": "A@example.com", "lead_score": 50},
               {"email": "b@EXAMPLE.com", "city": None, "last_interacted_at": None}],
        now=NOW,
    )  # fmt: skip
    assert [r.status for r in results] == ["updated", "updated"]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.first_name, a.lead_score, a.city) == ("Ann", 50, "Oslo")
    assert (b.first_name, b.lead_score, b.city, b.last_interacted_at) == ("Bea", 6, "", None)
    assert a.updated_at == NOW


def test_tags_go_into_the_links_and_the_array_together():
    old = TagFactory(name="old")
    known = ContactFactory(email="known@example.com", tags=[old])
    contacts_upsert(
        items=[{"email": "known@example.com", "tags": ["New", "OLD"]},
               {"email": "fresh@example.com", "tags": ["new", "other"]}],
    )  # fmt: skip
    assert Tag.objects.count() == 3  # "New" once, whatever the case
    known.refresh_from_db()
    assert len(known.tag_ids) == 2
    assert links_agree_with_tag_ids()
    # The segment rules read tag_ids: both contacts are tagged "new" now.
    assert contacts_matching([{"field": "tag", "op": "is", "value": "NEW"}]).count() == 2


def test_the_tag_triggers_still_work_after_an_upsert():
    contacts_upsert(items=[{"email": "x@example.com", "tags": ["a"]}])
    contact = Contact.objects.get()
    contact.tags.add(TagFactory(name="b"))
    contact.tags.remove(Tag.objects.get(name="a"))
    assert links_agree_with_tag_ids()
    assert len(Contact.objects.get().tag_ids) == 1


def test_the_number_of_statements_does_not_grow_with_the_batch():
    def statements(n: int, offset: int) -> int:
        items = [
            {"email": f"p{offset + i}@example.com", "tags": [f"t{i % 3}"], "groups": ["g"]}
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            contacts_upsert(items=items)
        return len(queries)

    statements(3, 0)  # creates the tags and the group
    assert statements(10, 100) == statements(500, 1000)


def test_a_concurrent_insert_of_the_same_email_becomes_an_update():
    real_insert = upsert._insert_new

    def insert_after_someone_else(cursor, new, **kwargs):
        ContactFactory(email="race@example.com", first_name="Theirs", lead_score=1)
        return real_insert(cursor, new, **kwargs)

    with mock.patch.object(upsert, "_insert_new", insert_after_someone_else):
        (result,) = contacts_upsert(items=[{"email": "race@example.com", "lead_score": 9}])
    assert result.status == "updated"
    contact = Contact.objects.get()
    assert (contact.first_name, contact.lead_score) == ("Theirs", 9)


def test_names_to_ids_creates_missing_names_once():
    GroupFactory(name="Existing")
    ids = names_to_ids(Group, ["existing", "New", "NEW"])
    assert set(ids) == {"existing", "new"}
    assert Group.objects.count() == 2
    assert Group.objects.get(pk=ids["new"]).description == ""


# -- custom field names (issue 14, point 23) ----------------------------------------------

SPACED_PLAN = [{"field": "customField:plan", "op": "equals", "value": "pro"}]


def test_custom_field_names_are_stored_without_outer_spaces_so_rules_match_them():
    contacts_upsert(items=[{"email": "a@example.com", "custom_fields": {" plan ": "pro"}}])
    assert Contact.objects.get().custom_fields == {"plan": "pro"}
    assert contacts_matching(SPACED_PLAN).count() == 1


def test_an_update_with_a_spaced_name_merges_into_the_field_of_that_name():
    ContactFactory(email="a@example.com", custom_fields={"plan": "free", "seats": 3})
    (result,) = contacts_upsert(
        items=[{"email": "a@example.com", "custom_fields": {"plan ": "pro"}}]
    )
    assert result.status == "updated"
    assert Contact.objects.get().custom_fields == {"plan": "pro", "seats": 3}


def test_two_names_that_are_one_once_stripped_are_refused():
    ContactFactory(email="a@example.com", custom_fields={"plan": "free"})
    (result,) = contacts_upsert(
        items=[{"email": "a@example.com", "custom_fields": {"plan": "pro", " plan ": "team"}}]
    )
    assert result.status == "rejected"
    (error,) = result.errors
    assert error.path == "custom_fields"
    assert error.message == (
        "Custom fields 'plan' and ' plan ' are the same name once the spaces around it "
        "are removed; keep only one of them."
    )
    assert Contact.objects.get().custom_fields == {"plan": "free"}
