"""Writes for mailings: create one, and write its recipients (SPEC §5.1–5.2)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from segments.models import ContactSegment
from segments.selectors import reachable, segment_contacts
from segments.services import segment_evaluate

from .models import Delivery, Mailing


@transaction.atomic
def mailing_create(
    *,
    segment: ContactSegment,
    subject: str,
    body: str,
    user: AbstractBaseUser | None,
    from_email: str = "",
) -> Mailing:
    """A queued mailing; its recipients are written by a task after this commits."""
    mailing = Mailing(
        segment=segment,
        subject=subject.strip(),
        body=body,
        from_email=(from_email or settings.DEFAULT_FROM_EMAIL).strip(),
        status=Mailing.Status.QUEUED,
        created_by=user,
    )
    mailing.full_clean()
    mailing.save()
    from .tasks import mailing_materialize

    # Never before the row exists for the worker to read.
    transaction.on_commit(lambda: mailing_materialize.delay(mailing.pk))
    return mailing


@transaction.atomic
def deliveries_materialize(*, mailing: Mailing, now: dt.datetime | None = None) -> int:
    """Re-run the segment now and write one pending Delivery per reachable match.

    One INSERT … SELECT … ON CONFLICT DO NOTHING over the segment's compiled
    query: nothing is loaded into Python, and running it twice adds nobody twice.
    Returns the number of recipients.
    """
    if mailing.segment is None:
        raise ValidationError("This mailing's segment was deleted; it has nobody to send to.")
    now = now or timezone.now()
    segment = mailing.segment
    mailing.segment_count = segment_evaluate(segment=segment, now=now)
    mailing.evaluated_at = now
    contacts = reachable(segment_contacts(segment, now=now)).order_by().values("pk", "email")
    try:
        select_sql, params = contacts.query.sql_with_params()
    except EmptyResultSet:  # a tree that matches nobody
        select_sql, params = None, ()
    if select_sql is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Delivery._meta.db_table} "
                "(mailing_id, contact_id, email, status, attempts, last_error) "
                "SELECT %s, matches.contact_id, matches.email, 'pending', 0, '' "
                f"FROM ({select_sql}) AS matches(contact_id, email) "
                "ON CONFLICT (mailing_id, contact_id) DO NOTHING",
                [mailing.pk, *params],
            )
    mailing.recipients = Delivery.objects.filter(mailing=mailing).count()
    if mailing.status == Mailing.Status.QUEUED:
        mailing.status = Mailing.Status.SENDING
    mailing.save(update_fields=["segment_count", "evaluated_at", "recipients", "status"])
    return mailing.recipients
