"""Celery tasks for living segments: thin, they call segments/membership.py."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from .membership import events_prune, membership_settle, membership_time_recheck, segment_reconcile

log = logging.getLogger(__name__)
# Set while a settle is queued and not yet started: a burst of writes sends one task.
QUEUED_KEY = "segments:settle-queued"


def membership_settle_soon() -> None:
    """Queue a settle unless one is queued already (that one will see these writes:
    it clears the key before it reads the journal)."""
    if cache.add(QUEUED_KEY, 1, timeout=60):
        membership_settle_task.delay()


@shared_task(acks_late=True)
def membership_settle_task() -> None:
    cache.delete(QUEUED_KEY)
    membership_settle()


@shared_task
def membership_clock_task() -> None:
    """The beat, every minute: the journal (should a notification have been missed),
    then the rules that move with the clock."""
    membership_settle()
    membership_time_recheck()


@shared_task
def membership_drift_task() -> None:
    """The beat, hourly: a full reconcile, which should change nothing; it logs what
    it repaired."""
    for segment_id, (entered, left) in segment_reconcile().items():
        if entered or left:
            log.warning("segment %s drifted: %s entered, %s left", segment_id, entered, left)


@shared_task
def events_prune_task() -> None:
    events_prune(days=settings.SEGMENT_EVENTS_RETENTION_DAYS)
