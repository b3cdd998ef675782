"""Celery tasks: thin, they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from .models import Mailing
from .services import deliveries_materialize


@shared_task(acks_late=True)
def mailing_materialize(mailing_id: int) -> int:
    """Write the recipients of a queued mailing (idempotent, so a retry is harmless)."""
    mailing = Mailing.objects.select_related("segment").get(pk=mailing_id)
    return deliveries_materialize(mailing=mailing)
