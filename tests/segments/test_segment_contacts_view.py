"""/contacts/?segment=<id>: a segment's members in the contacts list, with its search,
bulk actions ("all N matching") and export, reached from the segment list and the
builder (issue 16.4). The rules are evaluated now, by segments.selectors."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from contacts.models import Contact
from segments.services import segment_create

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


@pytest.fixture
def segment(marketer):
    return segment_create(name="High value", filter_json=HIGH, user=marketer)


def test_the_list_shows_only_the_segments_members_under_its_name(marketer_client, segment):
    ContactFactory(email="hi@example.com", lead_score=90)
    ContactFactory(email="lo@example.com", lead_score=10)
    body = marketer_client.get(LIST, {"segment": segment.pk}).content.decode()
    assert "in “High value”" in body
    assert "hi@example.com" in body and "lo@example.com" not in body
    # the search and the bulk bar keep the segment
    assert f'<input type="hidden" name="segment" value="{segment.pk}" id="id_segment">' in body
    assert f'<input type="hidden" name="segment" value="{segment.pk}">' in body


def test_a_search_narrows_the_members(marketer_client, segment):
    ContactFactory(email="ann@acme.com", lead_score=90)
    ContactFactory(email="bo@globex.com", lead_score=90)
    ContactFactory(email="cy@acme.com", lead_score=5)
    body = marketer_client.get(LIST, {"segment": segment.pk, "q": "acme"}).content.decode()
    assert "ann@acme.com" in body
    assert "bo@globex.com" not in body and "cy@acme.com" not in body


def test_a_deleted_segment_shows_nobody_as_its_members_but_says_so(marketer_client, segment):
    ContactFactory(lead_score=90)
    pk = segment.pk
    segment.delete()
    response = marketer_client.get(LIST, {"segment": pk}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "That segment no longer exists" in response.content.decode()


def test_all_matching_tags_the_members_now_and_no_one_else(marketer_client, segment):
    members = ContactFactory.create_batch(2, lead_score=80)
    ContactFactory(lead_score=20)
    data = {"action": "add_tag", "name": "vip", "scope": "all", "segment": segment.pk}
    body = marketer_client.post(reverse("contacts:bulk"), data).content.decode()
    assert "Add the tag “vip” to 2 contacts?" in body
    response = marketer_client.post(
        reverse("contacts:bulk"), {**data, "confirm": "1", "asked": "2"}
    )
    assert response["Location"] == f"{LIST}?segment={segment.pk}"
    tagged = Contact.objects.filter(tags__name="vip").values_list("pk", flat=True)
    assert sorted(tagged) == sorted(c.pk for c in members)


def test_an_action_on_a_segment_deleted_meanwhile_does_nothing(marketer_client, segment):
    ContactFactory(lead_score=80)
    data = {"action": "unsubscribe", "scope": "all", "segment": segment.pk, "confirm": "1",
            "asked": "1"}  # fmt: skip
    segment.delete()
    response = marketer_client.post(reverse("contacts:bulk"), data)
    assert "That segment no longer exists" in response.content.decode()
    assert not Contact.objects.filter(is_unsubscribed=True).exists()


def test_the_export_of_the_list_is_the_members(marketer_client, segment):
    ContactFactory(email="hi@example.com", lead_score=90)
    ContactFactory(email="lo@example.com", lead_score=10)
    response = marketer_client.get(reverse("contacts:export"), {"segment": segment.pk})
    text = b"".join(response.streaming_content).decode()
    assert [row["email"] for row in csv.DictReader(io.StringIO(text))] == ["hi@example.com"]


def test_the_segment_list_and_the_builder_link_to_the_members(marketer_client, segment):
    link = f'href="{LIST}?segment={segment.pk}"'
    assert link in marketer_client.get(reverse("segments:list")).content.decode()
    assert link in marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
