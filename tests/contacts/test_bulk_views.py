"""/contacts/bulk and /contacts/bulk/<id>/: a bulk action from the contacts list,
asked with its count first, then done or followed on its progress page (issue 16.4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts import bulk
from contacts.models import BulkAction, Contact, Tag

from .factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

BULK = reverse("contacts:bulk")


def test_the_list_has_a_checkbox_per_contact_and_the_bulk_bar(marketer_client):
    contact = ContactFactory()
    body = marketer_client.get(reverse("contacts:list")).content.decode()
    assert f'name="ids" value="{contact.pk}" form="bulk-form"' in body
    assert 'id="bulk-all"' in body and '<option value="add_tag">Add tag</option>' in body


def test_the_bulk_bar_carries_the_lists_filters(marketer_client):
    ContactFactory(company="Acme")
    body = marketer_client.get(reverse("contacts:list"), {"q": "acme"}).content.decode()
    assert '<input type="hidden" name="q" value="acme">' in body


def test_ticked_contacts_are_asked_about_with_their_count_and_nothing_changes(marketer_client):
    contacts = ContactFactory.create_batch(3)
    data = {
        "action": "add_tag",
        "name": "vip",
        "scope": "selected",
        "ids": [c.pk for c in contacts[:2]],
    }
    response = marketer_client.post(BULK, data)
    assert response.status_code == 200
    assert "Add the tag “vip” to 2 contacts?" in response.content.decode()
    assert not Tag.objects.exists()


def test_confirming_a_small_action_does_it_and_goes_back_to_the_same_list(marketer_client):
    contacts = ContactFactory.create_batch(2, company="Acme")
    ContactFactory(company="Globex")
    data = {
        "action": "add_tag",
        "name": "vip",
        "scope": "all",
        "q": "acme",
        "confirm": "1",
        "asked": "2",
    }
    response = marketer_client.post(BULK, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:list") + "?q=acme"
    tagged = Contact.objects.filter(tags__name="vip")
    assert sorted(tagged.values_list("pk", flat=True)) == sorted(c.pk for c in contacts)
    page = marketer_client.get(response["Location"]).content.decode()
    assert "Added the tag “vip” to 2 contacts (2 changed)." in page


def test_all_matching_counts_the_filter_now(marketer_client):
    vip = TagFactory(name="vip")
    ContactFactory.create_batch(3, tags=[vip])
    ContactFactory()
    data = {"action": "unsubscribe", "scope": "all", "tag": "vip"}
    body = marketer_client.post(BULK, data).content.decode()
    assert "Unsubscribe 3 contacts?" in body
    assert '<input type="hidden" name="tag" value="vip">' in body  # carried to the confirmation


def test_a_large_action_is_queued_and_shows_its_progress(
    marketer_client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "BATCH", 2)
    ContactFactory.create_batch(3)
    with django_capture_on_commit_callbacks() as callbacks:
        response = marketer_client.post(
            BULK, {"action": "unsubscribe", "scope": "all", "confirm": "1", "asked": "3"}
        )
    job = BulkAction.objects.get()
    assert response["Location"] == reverse("contacts:bulk-job", args=[job.pk])
    assert len(callbacks) == 1
    page = marketer_client.get(response["Location"]).content.decode()
    assert "Waiting for a worker…" in page and 'hx-trigger="every 1s"' in page
    from contacts.tasks import bulk_action_run_task

    bulk_action_run_task(job.pk)
    fragment = marketer_client.get(response["Location"], headers={"HX-Request": "true"})
    text = fragment.content.decode()
    assert "Done: 3 contacts, 3 changed." in text
    assert "every 1s" not in text  # finished: the page stops asking
    assert "<h1>" not in text  # only the progress partial


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "add_tag", "scope": "all"}, "Name the tag."),
        ({"action": "remove_tag", "name": "nope", "scope": "all"}, "There is no tag named “nope”."),
        (
            {"action": "delete", "scope": "selected"},
            "Tick at least one contact, or apply to all matching.",
        ),
        (
            {"action": "delete", "scope": "selected", "ids": ["x"]},
            "The ticked rows are not contacts",
        ),
        ({"action": "explode", "scope": "all"}, "Select a valid choice."),
    ],
)
def test_bad_requests_change_nothing_and_say_why(marketer_client, data, message):
    ContactFactory()
    response = marketer_client.post(BULK, {**data, "confirm": "1"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Contact.objects.count() == 1 and not BulkAction.objects.exists()


def test_it_requires_login(stranger_client):
    assert stranger_client.post(BULK, {}).status_code == 302


def test_a_count_that_changed_since_the_question_is_asked_again(marketer_client):
    ContactFactory.create_batch(3)
    data = {"action": "unsubscribe", "scope": "all", "confirm": "1", "asked": "2"}
    body = marketer_client.post(BULK, data).content.decode()
    assert "Unsubscribe 3 contacts?" in body
    assert not Contact.objects.filter(is_unsubscribed=True).exists()


def test_a_filter_that_no_longer_holds_does_not_widen_to_everyone(marketer_client):
    ContactFactory.create_batch(2)
    data = {"action": "delete", "scope": "all", "tag": "renamed", "confirm": "1", "asked": "2"}
    body = marketer_client.post(BULK, data).content.decode()
    assert "There is no tag with that name" in body
    assert Contact.objects.count() == 2


def test_a_tag_name_longer_than_a_tag_can_be_is_refused(marketer_client):
    ContactFactory()
    data = {"action": "add_tag", "name": "x" * 150, "scope": "all", "confirm": "1", "asked": "1"}
    assert (
        "A tag name has at most 100 characters."
        in marketer_client.post(BULK, data).content.decode()
    )
    assert not Tag.objects.exists()
