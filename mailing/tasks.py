"""Celery tasks: thin, they take ids and call services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .models import Mailing
from .recipients import deliveries_claim, deliveries_materialize
from .sending import deliveries_release_expired, deliveries_send, mailing_finish_if_done


@shared_task(acks_late=True)
def mailing_materialize(mailing_id: int) -> int:
    """Write the recipients of a queued mailing (idempotent, so a retry is harmless)."""
    mailing = Mailing.objects.select_related("segment").get(pk=mailing_id)
    recipients = deliveries_materialize(mailing=mailing)
    # One sender per worker: SKIP LOCKED claims let them share the mailing.
    for _ in range(settings.SEND_TASKS_PER_MAILING):
        mailing_send.delay(mailing_id)
    return recipients


@shared_task(acks_late=True)
def mailing_send(mailing_id: int) -> int:
    """Claim and send batches until none is left; more workers may run it at once."""
    mailing = Mailing.objects.get(pk=mailing_id)
    sent = 0
    while batch := deliveries_claim(mailing_id=mailing_id):
        sent += deliveries_send(mailing=mailing, recipients=batch).sent
    mailing_finish_if_done(mailing_id=mailing_id)
    return sent


@shared_task
def deliveries_release() -> int:
    """Beat: hand expired claims back, and pick up mailings that still have work."""
    released = deliveries_release_expired()
    for mailing_id in Mailing.objects.filter(status=Mailing.Status.SENDING).values_list(
        "pk", flat=True
    ):
        mailing_send.delay(mailing_id)
    return released
