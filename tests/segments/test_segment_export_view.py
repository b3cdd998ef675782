"""/contacts/segments/<id>/export: a segment's members now, as CSV (issue 16.6)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tests.contacts.factories import ContactFactory, GroupFactory

from .factories import SegmentFactory

pytestmark = pytest.mark.django_db


def test_it_exports_the_members_the_rules_match_now(marketer_client):
    segment = SegmentFactory(name="High scorers!")  # lead score 70 or more
    ContactFactory(email="high@example.com", lead_score=90)
    ContactFactory(email="low@example.com", lead_score=10)
    response = marketer_client.get(reverse("segments:export", args=[segment.pk]))
    assert response["Content-Disposition"].startswith('attachment; filename="high-scorers-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["email"] for row in rows] == ["high@example.com"]


def test_rules_that_no_longer_work_say_why_instead(marketer_client):
    group = GroupFactory(name="Board")
    segment = SegmentFactory(
        name="Board", filter_json=[{"field": "group", "op": "in_group", "value": "Board"}]
    )
    group.delete()
    response = marketer_client.get(reverse("segments:export", args=[segment.pk]), follow=True)
    assert "“Board” cannot be exported: There is no group" in response.content.decode()


def test_the_segment_list_links_to_it(marketer_client):
    segment = SegmentFactory()
    body = marketer_client.get(reverse("segments:list")).content.decode()
    assert f'href="{reverse("segments:export", args=[segment.pk])}"' in body
