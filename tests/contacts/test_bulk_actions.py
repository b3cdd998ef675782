"""contacts/bulk.py: bulk actions over a selection, in batches, idempotent, resumed
after a crash from the last committed batch (issue 16.4)."""

from __future__ import annotations

import pytest

from contacts import bulk
from contacts.models import BulkAction, Contact, ContactTag, GroupMembership
from contacts.tasks import bulk_action_run_task
from mailing.models import Delivery
from tests.mailing.factories import DeliveryFactory

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db

Action = BulkAction.Action


def ids_of(contacts) -> list[int]:
    return [contact.pk for contact in contacts]


def test_adding_a_tag_to_ticked_contacts_is_one_batch_and_counts_the_new_links():
    vip = TagFactory(name="vip")
    had, new = ContactFactory(tags=[vip]), ContactFactory()
    ContactFactory()  # not ticked
    job = bulk.bulk_action_create(
        action=Action.ADD_TAG, selection={"ids": ids_of([had, new])}, total=2, tag=vip
    )
    job.refresh_from_db()
    assert (job.status, job.done, job.changed) == ("done", 2, 1)
    assert set(ContactTag.objects.values_list("contact_id", flat=True)) == {had.pk, new.pk}
    new.refresh_from_db()
    assert new.tag_ids == [vip.pk]  # the triggers keep the array in step


def test_every_contact_matching_the_filter_is_selected_when_it_runs():
    board = GroupFactory(name="Board")
    ContactFactory.create_batch(3, company="Acme Inc")
    ContactFactory(company="Globex")
    selection = {"filter": {"q": "acme", "tag": None, "group": None, "status": ""}}
    bulk.bulk_action_create(action=Action.ADD_TO_GROUP, selection=selection, total=3, group=board)
    assert GroupMembership.objects.filter(group=board).count() == 3


@pytest.mark.parametrize(
    ("action", "check"),
    [
        (Action.REMOVE_TAG, lambda: not ContactTag.objects.exists()),
        (Action.REMOVE_FROM_GROUP, lambda: not GroupMembership.objects.exists()),
        (Action.UNSUBSCRIBE, lambda: all(c.is_unsubscribed for c in Contact.objects.all())),
        (Action.DELETE, lambda: not Contact.objects.exists()),
    ],
)
def test_each_action_does_what_it_says_and_a_second_run_changes_nothing(action, check):
    vip, board = TagFactory(name="vip"), GroupFactory(name="Board")
    contacts = ContactFactory.create_batch(3, tags=[vip], groups=[board])
    selection = {"ids": ids_of(contacts)}
    first = bulk.bulk_action_create(
        action=action, selection=selection, total=3, tag=vip, group=board
    )
    again = bulk.bulk_action_create(
        action=action, selection=selection, total=3, tag=vip, group=board
    )
    first.refresh_from_db(), again.refresh_from_db()
    assert check()
    assert first.changed == 3
    assert again.changed == 0


def test_a_large_selection_is_queued_after_commit_and_runs_in_batches(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "BATCH", 2)
    contacts = ContactFactory.create_batch(5)
    with django_capture_on_commit_callbacks() as callbacks:
        job = bulk.bulk_action_create(
            action=Action.UNSUBSCRIBE, selection={"ids": ids_of(contacts)}, total=5
        )
    assert job.status == "queued" and len(callbacks) == 1
    assert not Contact.objects.filter(is_unsubscribed=True).exists()  # nothing before the task
    bulk_action_run_task(job.pk)  # what the worker runs
    job.refresh_from_db()
    assert (job.status, job.done, job.changed) == ("done", 5, 5)
    assert job.cursor == min(ids_of(contacts))  # newest first, down to the oldest


def test_a_task_retried_after_a_crash_goes_on_from_the_last_committed_batch(monkeypatch):
    monkeypatch.setattr(bulk, "BATCH", 2)
    tag = TagFactory(name="vip")
    contacts = ContactFactory.create_batch(5)
    job = BulkAction.objects.create(
        action=Action.ADD_TAG, selection={"ids": ids_of(contacts)}, total=5, tag=tag
    )
    real = bulk._ACTIONS[Action.ADD_TAG]
    calls = []

    def crash_on_the_second_batch(job, ids):
        calls.append(ids)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return real(job, ids)

    monkeypatch.setitem(bulk._ACTIONS, Action.ADD_TAG, crash_on_the_second_batch)
    with pytest.raises(RuntimeError):
        bulk_action_run_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.error) == ("failed", 2, "RuntimeError: worker lost")
    assert ContactTag.objects.count() == 2  # the first batch stays; the second rolled back

    monkeypatch.setitem(bulk._ACTIONS, Action.ADD_TAG, real)
    BulkAction.objects.filter(pk=job.pk).update(status="running")  # the broker redelivers
    bulk_action_run_task(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.changed) == ("done", 5, 5)
    assert ContactTag.objects.count() == 5


def test_a_filter_whose_tag_was_deleted_selects_nobody():
    tag = TagFactory(name="gone")
    ContactFactory(tags=[tag])
    selection = {"filter": {"q": "", "tag": tag.pk, "group": None, "status": ""}}
    tag.delete()
    assert not bulk.selection_contacts(selection).exists()


@pytest.mark.parametrize(
    ("action", "count", "text"),
    [
        (Action.ADD_TAG, 1, "Add the tag “vip” to 1 contact"),
        (Action.REMOVE_FROM_GROUP, 1234, "Remove 1,234 contacts from the group “vip”"),
        (Action.DELETE, 2, "Delete 2 contacts"),
    ],
)
def test_actions_are_described_in_words(action, count, text):
    assert bulk.bulk_description(action, "vip", count) == text


def test_deleting_takes_the_contacts_links_memberships_and_deliveries_only():
    vip, board = TagFactory(name="vip"), GroupFactory(name="Board")
    gone = ContactFactory.create_batch(2, tags=[vip], groups=[board])
    stays = ContactFactory(tags=[vip], groups=[board])
    for contact in (*gone, stays):
        DeliveryFactory(contact=contact)
    job = bulk.bulk_action_create(action=Action.DELETE, selection={"ids": ids_of(gone)}, total=2)
    assert job.changed == 2
    assert list(Contact.objects.all()) == [stays]
    assert list(Delivery.objects.values_list("contact_id", flat=True)) == [stays.pk]
    assert list(ContactTag.objects.values_list("contact_id", flat=True)) == [stays.pk]
    assert list(GroupMembership.objects.values_list("contact_id", flat=True)) == [stays.pk]
    stays.refresh_from_db()
    assert stays.tag_ids == [vip.pk]
