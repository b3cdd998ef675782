"""Membership kept live by a real Celery worker: a write through the API is
journalled by the database, the worker's listener hears the commit and a settle
records the entry (issue 17.2), with no beat and no call from the test."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from segments.models import ContactSegment, SegmentEvent, SegmentMember
from segments.services import segment_create

from ..contacts.factories import ContactFactory
from ..mailing.worker import Worker, broker_db, running_workers, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(settings):
    with broker_db(settings) as url:
        yield url


def test_an_api_patch_enters_the_segment_through_the_workers_listener(broker, marketer):
    contact = ContactFactory(lead_score=10)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=marketer).key}")
    with running_workers() as workers:
        workers.append(Worker(worker_env(smtp_port=1), "membership").start())
        segment = segment_create(
            name="Hot", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=None
        )  # built by the worker: its rules were never materialised
        wait_for(
            lambda: ContactSegment.objects.get(pk=segment.pk).member_count == 0,
            timeout=30, what="the segment's first build", workers=workers,
        )  # fmt: skip
        response = api.patch(f"/api/contacts/{contact.pk}", {"lead_score": 95}, format="json")
        assert response.status_code == 200, response.content
        event = wait_for(
            lambda: SegmentEvent.objects.filter(segment=segment, contact_id=contact.pk).first(),
            timeout=30, what="the entry event", workers=workers,
        )  # fmt: skip
        assert (event.entered, event.get_cause_display()) == (True, "api")
        assert list(SegmentMember.objects.values_list("contact_id", flat=True)) == [contact.pk]
