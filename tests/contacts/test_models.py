from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contacts.models import Contact, Tag

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_email_is_unique_whatever_its_case():
    ContactFactory(email="Ada@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(email="ada@example.COM")


def test_tag_names_are_unique_whatever_their_case():
    Tag.objects.create(name="VIP")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="vip")


def test_lead_score_above_100_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(lead_score=101)


def test_unknown_lifecycle_stage_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(lifecycle_stage="prospect")


@pytest.mark.parametrize(
    ("bounced", "unsubscribed", "status"),
    [
        (False, False, "active"),
        (True, False, "bounced"),
        (False, True, "unsubscribed"),
        (True, True, "unsubscribed"),
    ],
)
def test_status_is_derived_from_the_flags(bounced, unsubscribed, status):
    contact = ContactFactory(is_bounced=bounced, is_unsubscribed=unsubscribed)
    assert contact.status == status


def test_full_name_is_kept_by_the_database():
    contact = ContactFactory(first_name="Ada", last_name="Lovelace")
    contact.refresh_from_db()
    assert contact.full_name == "Ada Lovelace"
    assert Contact.objects.filter(full_name__icontains="ada love").get() == contact


def test_tags_and_groups_attach_to_contacts():
    vip, board = TagFactory(name="vip"), GroupFactory(name="Board")
    contact = ContactFactory(tags=[vip], groups=[board])
    assert list(contact.tags.values_list("name", flat=True)) == ["vip"]
    assert list(board.members.all()) == [contact]


def test_custom_fields_hold_strings_numbers_booleans_and_dates():
    fields = {"plan": "pro", "seats": 12, "beta": True, "trial_ends": "2026-12-01"}
    contact = ContactFactory(custom_fields=fields)
    contact.refresh_from_db()
    assert contact.custom_fields == fields
    assert Contact.objects.filter(custom_fields__seats__gte=10).get() == contact


def test_full_clean_strips_the_spaces_around_custom_field_names():
    contact = ContactFactory.build(custom_fields={" spaced ": "yes", "plan": "pro"})
    contact.full_clean()
    assert contact.custom_fields == {"spaced": "yes", "plan": "pro"}


def test_full_clean_refuses_names_that_are_one_once_stripped():
    contact = ContactFactory.build(custom_fields={"plan": "pro", " plan ": "team"})
    with pytest.raises(ValidationError) as info:
        contact.full_clean()
    assert info.value.message_dict == {
        "custom_fields": [
            "Custom fields 'plan' and ' plan ' are the same name once the spaces around it "
            "are removed; keep only one of them."
        ]
    }
    assert contact.custom_fields == {"plan": "pro", " plan ": "team"}  # nothing lost
