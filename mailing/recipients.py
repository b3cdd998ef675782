"""The first steps of sending: write a mailing's recipients, then claim them in batches.

See docs/design.md#materialising-recipients and docs/design.md#claiming."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, transaction
from django.db.models import DateTimeField, Func
from django.utils import timezone

from contacts.models import Contact
from segments.selectors import reachable, segment_contacts
from segments.services import segment_evaluate

from . import journal
from .models import Delivery, Mailing

logger = logging.getLogger(__name__)


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
        # Raw: INSERT … SELECT over the compiled queryset, which the ORM cannot write.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Delivery._meta.db_table} "
                "(mailing_id, contact_id, email, status, attempts, last_error) "
                "SELECT %s, matches.contact_id, matches.email, %s, 0, '' "
                f"FROM ({select_sql}) AS matches(contact_id, email) "
                "ON CONFLICT (mailing_id, contact_id) DO NOTHING",
                [mailing.pk, Delivery.Status.PENDING, *params],
            )
    mailing.recipients = Delivery.objects.filter(mailing=mailing).count()
    mailing.save(update_fields=["segment_count", "evaluated_at", "recipients"])
    # Conditional: a pause or cancel that landed meanwhile must stand.
    if Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.QUEUED).update(
        status=Mailing.Status.SENDING
    ):
        mailing.status = Mailing.Status.SENDING
    return mailing.recipients


@dataclass(slots=True)
class Recipient:
    """A claimed delivery with its contact's merge fields: all a message needs."""

    pk: int
    mailing_id: int
    contact_id: int
    email: str
    attempts: int
    claim: int
    first_name: str
    last_name: str
    company: str
    job_title: str
    country: str
    city: str
    # JSON text, decoded on first use: most mailings merge no custom field.
    custom_json: str | None
    # Neither bounced nor unsubscribed now, and not deleted: may be mailed.
    reachable: bool
    _custom_fields: dict | None = None

    @property
    def custom_fields(self) -> dict:
        if self._custom_fields is None:
            self._custom_fields = json.loads(self.custom_json or "{}")
        return self._custom_fields


class DatabaseNow(Func):
    """The database's clock, which claims and the beat share (statement_timestamp():
    unlike now(), not the start of the transaction)."""

    template = "statement_timestamp()"
    output_field = DateTimeField()


_MERGE_COLUMNS = ("first_name", "last_name", "company", "job_title", "country", "city")


def deliveries_claim(*, mailing_id: int, size: int | None = None) -> list[Recipient]:
    """Claim the next batch of a sending mailing's due pending deliveries, with their contacts.

    A conditional UPDATE over `FOR UPDATE SKIP LOCKED` rows: workers never wait for
    or share a row, and a claim carries a lease; if the worker dies, the beat task
    (deliveries_release_expired) hands the rows back. The same statement reads each
    contact as it is now (merge fields, and whether it may still be mailed), so a
    batch costs one round trip to claim. The claim's token names its journal of
    accepted messages (mailing.journal). Leases are on the database's clock, which
    the beat reads too, whatever the workers' clocks say.
    """
    size = size or settings.SEND_BATCH_SIZE
    table, mailings = Delivery._meta.db_table, Mailing._meta.db_table
    contacts = Contact._meta.db_table
    merge_columns = ", ".join(f"c.{name}" for name in _MERGE_COLUMNS)
    # Raw: UPDATE … RETURNING joined to the contacts, one round trip; the ORM has neither.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH claimed AS (
                UPDATE {table}
                SET status = %s, attempts = attempts + 1, claim = %s,
                    lease_until = statement_timestamp() + make_interval(secs => %s)
                WHERE id IN (
                    SELECT d.id FROM {table} d JOIN {mailings} m ON m.id = d.mailing_id
                    WHERE d.mailing_id = %s AND d.status = %s AND m.status = %s
                      AND (d.lease_until IS NULL OR d.lease_until <= statement_timestamp())
                    ORDER BY d.id LIMIT %s
                    FOR UPDATE OF d SKIP LOCKED)
                RETURNING id, mailing_id, contact_id, email, attempts, claim)
            SELECT claimed.id, claimed.mailing_id, claimed.contact_id, claimed.email,
                   claimed.attempts, claimed.claim, {merge_columns}, c.custom_fields::text,
                   COALESCE(NOT c.is_bounced AND NOT c.is_unsubscribed, false)
            FROM claimed LEFT JOIN {contacts} c ON c.id = claimed.contact_id
            ORDER BY claimed.id
            """,
            [
                Delivery.Status.SENDING,
                journal.new_claim(),
                settings.SEND_LEASE_SECONDS,
                mailing_id,
                Delivery.Status.PENDING,
                Mailing.Status.SENDING,
                size,
            ],
        )
        rows = cursor.fetchall()
    return [Recipient(*row) for row in rows]
