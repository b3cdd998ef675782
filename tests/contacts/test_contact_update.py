"""contacts.services.contact_update: the given fields of one contact, tags and groups exactly."""

from __future__ import annotations

import pytest

from contacts.models import Contact, ContactTag
from contacts.services import EmailTaken, contact_update
from contacts.validation import contact_clean

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db


def links_agree_with_tag_ids(contact: Contact) -> bool:
    """The contact's trigger-kept tag_ids equals its ContactTag rows."""
    contact.refresh_from_db()
    linked = ContactTag.objects.filter(contact=contact).values_list("tag_id", flat=True)
    return sorted(contact.tag_ids) == sorted(linked)


def test_update_sets_tags_and_groups_exactly():
    keep, drop = TagFactory(name="keep"), TagFactory(name="drop")
    contact = ContactFactory(tags=[keep, drop], groups=[GroupFactory(name="G1")])
    contact_update(contact=contact, data={"tags": ["keep", "add"], "groups": []})
    assert sorted(contact.tags.values_list("name", flat=True)) == ["add", "keep"]
    assert not contact.groups.exists()
    assert links_agree_with_tag_ids(contact)


def test_update_refuses_a_taken_email():
    ContactFactory(email="taken@example.com")
    contact = ContactFactory(email="mine@example.com")
    with pytest.raises(EmailTaken):
        contact_update(contact=contact, data={"email": "Taken@Example.com"})
    assert Contact.objects.get(pk=contact.pk).email == "mine@example.com"


def test_the_update_service_stores_stripped_names_too():
    contact = ContactFactory(custom_fields={"plan": "free"})
    contact_update(
        contact=contact, data=contact_clean({"custom_fields": {" tier": 2}}, partial=True)
    )
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"tier": 2}
