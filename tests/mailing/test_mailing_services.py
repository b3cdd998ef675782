from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from mailing.models import Delivery, Mailing
from mailing.recipients import deliveries_materialize
from mailing.services import mailing_create
from segments.models import SegmentEvaluation
from segments.services import segment_create

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


@pytest.fixture
def segment(marketer):
    return segment_create(name="High", filter_json=HIGH, user=marketer)


@pytest.fixture
def mailing(segment, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        mailing = mailing_create(segment=segment, subject="Hi", body="Hello", user=marketer)
    mailing.queued_callbacks = callbacks
    return mailing


def test_create_queues_the_mailing_and_enqueues_after_commit(mailing, settings):
    assert mailing.status == Mailing.Status.QUEUED
    assert mailing.from_email == settings.DEFAULT_FROM_EMAIL
    assert len(mailing.queued_callbacks) == 1  # the task is sent only once the row exists


def test_materialize_writes_one_delivery_per_reachable_match(mailing):
    reachable = ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=90, is_unsubscribed=True)
    ContactFactory(lead_score=90, is_bounced=True)
    ContactFactory(lead_score=10)
    assert deliveries_materialize(mailing=mailing, now=NOW) == 3
    deliveries = Delivery.objects.filter(mailing=mailing)
    assert {d.contact_id for d in deliveries} == {c.pk for c in reachable}
    assert {d.email for d in deliveries} == {c.email for c in reachable}
    assert {d.status for d in deliveries} == {Delivery.Status.PENDING}
    mailing.refresh_from_db()
    assert (mailing.status, mailing.recipients, mailing.segment_count) == ("sending", 3, 5)
    assert mailing.evaluated_at == NOW
    assert SegmentEvaluation.objects.filter(segment=mailing.segment, count=5).exists()


def test_materialize_twice_adds_only_new_matches(mailing):
    ContactFactory.create_batch(2, lead_score=90)
    deliveries_materialize(mailing=mailing, now=NOW)
    ContactFactory(lead_score=95)
    assert deliveries_materialize(mailing=mailing, now=NOW) == 3
    assert Delivery.objects.filter(mailing=mailing).count() == 3


def test_a_segment_matching_nobody_gives_no_recipients(mailing):
    ContactFactory(lead_score=10)
    assert deliveries_materialize(mailing=mailing, now=NOW) == 0


def test_a_mailing_whose_segment_was_deleted_cannot_be_materialized(mailing):
    mailing.segment.delete()
    mailing.refresh_from_db()
    with pytest.raises(ValidationError):
        deliveries_materialize(mailing=mailing, now=NOW)


def test_a_subject_is_required(segment, marketer):
    with pytest.raises(ValidationError):
        mailing_create(segment=segment, subject="  ", body="x", user=marketer)


def test_a_cancel_during_materialisation_stands(mailing):
    ContactFactory(lead_score=90)
    stale = Mailing.objects.get(pk=mailing.pk)  # loaded before the cancel, as the task does
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.CANCELLED)
    deliveries_materialize(mailing=stale, now=NOW)
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.CANCELLED


def test_finishing_takes_the_final_counters_from_the_rows(mailing):
    from mailing.sending import mailing_finish_if_done

    ContactFactory.create_batch(2, lead_score=90)
    deliveries_materialize(mailing=mailing, now=NOW)
    # As if a worker sent both and died before adding its batch to the totals.
    Delivery.objects.filter(mailing=mailing).update(status=Delivery.Status.SENT)
    assert mailing_finish_if_done(mailing_id=mailing.pk)
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent) == (Mailing.Status.SENT, 2)
