"""Contact.tag_ids (what tag rules query) follows ContactTag whatever writes it."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts.db import tag_ids_written_by_caller
from contacts.models import Contact, ContactTag
from contacts.services import contacts_add_tag

from .factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def tag_ids(contact: Contact) -> list[int]:
    return Contact.objects.values_list("tag_ids", flat=True).get(pk=contact.pk)


def test_adding_and_removing_tags_updates_the_array():
    vip, beta = TagFactory(name="vip"), TagFactory(name="beta")
    contact = ContactFactory()
    contact.tags.add(beta, vip)
    assert tag_ids(contact) == sorted([vip.pk, beta.pk])
    contact.tags.remove(vip)
    assert tag_ids(contact) == [beta.pk]


def test_deleting_a_tag_removes_it_from_every_contact():
    vip = TagFactory(name="vip")
    contacts = ContactFactory.create_batch(3, tags=[vip])
    vip.delete()
    assert [tag_ids(c) for c in contacts] == [[], [], []]


def test_moving_a_link_to_another_contact_updates_both():
    vip = TagFactory(name="vip")
    first, second = ContactFactory(tags=[vip]), ContactFactory()
    ContactTag.objects.filter(contact=first).update(contact=second)
    assert (tag_ids(first), tag_ids(second)) == ([], [vip.pk])


def test_bulk_tagging_a_queryset_updates_every_array():
    ContactFactory.create_batch(4, company="Acme Inc")
    other = ContactFactory(company="Other")
    tag, added = contacts_add_tag(
        contacts=Contact.objects.filter(company__icontains="inc"), tag_name="Spring"
    )
    assert added == 4
    assert Contact.objects.filter(tag_ids__contains=[tag.pk]).count() == 4
    assert tag_ids(other) == []


def test_a_writer_that_sets_the_array_itself_can_pause_the_trigger_for_one_block():
    vip, beta = TagFactory(name="vip"), TagFactory(name="beta")
    contact = ContactFactory()
    with connection.cursor() as cursor, tag_ids_written_by_caller(cursor):
        ContactTag.objects.create(contact=contact, tag=vip)
    assert tag_ids(contact) == []  # the caller's promise: it writes the array itself
    contact.tags.add(beta)
    assert tag_ids(contact) == [beta.pk]  # after the block, the trigger is back


def test_saving_a_stale_contact_does_not_undo_its_tags():
    vip = TagFactory(name="vip")
    contact = ContactFactory()
    stale = Contact.objects.get(pk=contact.pk)  # loaded before the tag was added
    contact.tags.add(vip)
    stale.city = "Lisbon"
    stale.save()
    assert tag_ids(contact) == [vip.pk]
    assert Contact.objects.get(pk=contact.pk).city == "Lisbon"


def test_saving_a_stale_copy_keeps_an_unsubscribe_made_meanwhile():
    contact = ContactFactory()
    stale = Contact.objects.get(pk=contact.pk)
    Contact.objects.filter(pk=contact.pk).update(is_unsubscribed=True)
    stale.company = "Renamed Ltd"
    stale.save()
    fresh = Contact.objects.get(pk=contact.pk)
    assert (fresh.is_unsubscribed, fresh.company) == (True, "Renamed Ltd")


def test_a_just_created_contact_saved_again_keeps_its_tags():
    vip = TagFactory(name="vip")
    contact = ContactFactory()
    contact.tags.add(vip)
    contact.city = "Porto"
    contact.save()
    assert tag_ids(contact) == [vip.pk]


def test_custom_fields_edits_in_place_are_saved():
    contact = ContactFactory(custom_fields={"plan": "free"})
    loaded = Contact.objects.get(pk=contact.pk)
    loaded.custom_fields["plan"] = "pro"
    loaded.save()
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"plan": "pro"}
