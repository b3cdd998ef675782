"""Writes for mailings: create one, and write its recipients (SPEC §5.1–5.2)."""

from __future__ import annotations

import datetime as dt
import smtplib
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from contacts.models import Contact
from segments.models import ContactSegment
from segments.selectors import reachable, segment_contacts
from segments.services import segment_evaluate

from .messages import MessageTemplate, address
from .models import Delivery, Mailing


@transaction.atomic
def mailing_create(
    *,
    segment: ContactSegment,
    subject: str,
    body: str,
    user: AbstractBaseUser | None,
    from_email: str = "",
    body_format: str = Mailing.Format.TEXT,
) -> Mailing:
    """A queued mailing; its recipients are written by a task after this commits."""
    mailing = Mailing(
        segment=segment,
        subject=subject.strip(),
        body=body,
        body_format=body_format,
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
    mailing.save(update_fields=["segment_count", "evaluated_at", "recipients"])
    # Conditional: a pause or cancel that landed meanwhile must stand.
    if Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.QUEUED).update(
        status=Mailing.Status.SENDING
    ):
        mailing.status = Mailing.Status.SENDING
    return mailing.recipients


def deliveries_claim(*, mailing_id: int, size: int | None = None) -> list[int]:
    """Claim the next batch of a sending mailing's due pending deliveries.

    A conditional UPDATE over `FOR UPDATE SKIP LOCKED` rows: workers never wait for
    or share a row, and a claim carries a lease; if the worker dies, the beat task
    (deliveries_release_expired) hands the rows back.
    """
    size = size or settings.SEND_BATCH_SIZE
    now = timezone.now()
    lease_until = now + dt.timedelta(seconds=settings.SEND_LEASE_SECONDS)
    table, mailings = Delivery._meta.db_table, Mailing._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET status = 'sending', lease_until = %s, attempts = attempts + 1
            WHERE id IN (
                SELECT d.id FROM {table} d JOIN {mailings} m ON m.id = d.mailing_id
                WHERE d.mailing_id = %s AND d.status = 'pending' AND m.status = 'sending'
                  AND (d.lease_until IS NULL OR d.lease_until <= %s)
                ORDER BY d.id LIMIT %s
                FOR UPDATE OF d SKIP LOCKED)
            RETURNING id
            """,
            [lease_until, mailing_id, now, size],
        )
        return sorted(row[0] for row in cursor.fetchall())


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    retried: int = 0


@dataclass(slots=True)
class Recipient:
    """A claimed delivery with its contact's merge fields: all a message needs."""

    pk: int
    mailing_id: int
    contact_id: int
    email: str
    attempts: int
    first_name: str
    last_name: str
    company: str
    job_title: str
    country: str
    city: str
    custom_fields: dict


_RECIPIENT_COLUMNS = (
    ("pk", "mailing_id", "contact_id", "email", "attempts")
    + tuple(
        f"contact__{name}"
        for name in ("first_name", "last_name", "company", "job_title", "country", "city")
    )
    + ("contact__custom_fields",)
)


def _recipients(delivery_ids: list[int]) -> list[Recipient]:
    rows = (
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.SENDING)
        .order_by("pk")
        .values_list(*_RECIPIENT_COLUMNS)
    )
    return [Recipient(*row) for row in rows]


def deliveries_send(*, mailing: Mailing, delivery_ids: list[int]) -> BatchResult:
    """Send claimed deliveries over one SMTP connection, recording each result.

    Contacts who bounced or unsubscribed since the recipients were written are
    suppressed, not mailed. A 5xx refusal fails the delivery and marks the contact
    bounced; a 4xx or a broken connection puts it back with backoff.
    """
    result = BatchResult()
    table, contacts = Delivery._meta.db_table, Contact._meta.db_table
    with connection.cursor() as cursor:
        # Deleted since the recipients were written counts as unreachable too.
        cursor.execute(
            f"""
            UPDATE {table} d SET status = 'suppressed', lease_until = NULL
            WHERE d.id = ANY(%s) AND d.status = 'sending' AND NOT EXISTS (
                SELECT 1 FROM {contacts} c
                WHERE c.id = d.contact_id AND NOT c.is_bounced AND NOT c.is_unsubscribed)
            """,
            [delivery_ids],
        )
        result.suppressed = cursor.rowcount
    recipients = _recipients(delivery_ids)
    template = MessageTemplate(mailing)
    backend = get_connection()
    try:
        backend.open()
    except (OSError, smtplib.SMTPException) as exc:
        for recipient in recipients:
            result.retried += _retry_later(recipient, f"Could not connect: {exc}")
        recipients = []
    # SMTP backends get the bytes straight on their connection (MessageTemplate.mime);
    # any other backend (an anymail ESP) gets Django messages.
    smtp = getattr(backend, "connection", None) if isinstance(backend, SMTPBackend) else None
    # Stop while the claim's lease still holds, with room for one more exchange; the
    # rest go back for another claim. Past the lease, the beat would hand the rows
    # to another worker while this one still sends them.
    deadline = time.monotonic() + settings.SEND_LEASE_SECONDS - settings.EMAIL_TIMEOUT
    try:
        with _record_sends(table) as record_sent:
            for index, recipient in enumerate(recipients):
                if index and time.monotonic() > deadline:
                    _release(recipients[index:])
                    break
                rendered = template.render(recipient, contact_id=recipient.contact_id)
                try:
                    if smtp is not None:
                        smtp.sendmail(
                            template.envelope_from,
                            [address(recipient.email)],
                            template.mime(rendered, to=recipient.email),
                        )
                    else:
                        template.email(rendered, to=recipient.email, connection=backend).send()
                except smtplib.SMTPRecipientsRefused as exc:
                    code, reply = next(iter(exc.recipients.values()), (0, b""))
                    if 500 <= code < 600:  # the address is refused for good
                        _fail(recipient, _smtp_error(code, reply), bounce=True)
                        result.failed += 1
                    else:
                        result.retried += _retry_later(recipient, _smtp_error(code, reply))
                except smtplib.SMTPResponseException as exc:  # refused at MAIL FROM or DATA
                    error = _smtp_error(exc.smtp_code, exc.smtp_error)
                    if 500 <= exc.smtp_code < 600:
                        _fail(recipient, error, bounce=False)
                        result.failed += 1
                    else:
                        result.retried += _retry_later(recipient, error)
                except (smtplib.SMTPServerDisconnected, OSError) as exc:
                    # The connection is gone: this one and the rest of the batch wait.
                    for pending in recipients[index:]:
                        result.retried += _retry_later(pending, f"Connection lost: {exc}")
                    break
                except smtplib.SMTPException as exc:
                    result.retried += _retry_later(recipient, str(exc))
                else:
                    record_sent(recipient.pk)
                    result.sent += 1
    finally:
        backend.close()
    # Retries that ran out are counted as failed by _retry_later itself. This
    # commit is synchronous, so it also makes the batch's sent marks durable. Once
    # another worker has finished the mailing its totals come from the rows, which
    # already hold this batch: adding it again would count it twice.
    Mailing.objects.filter(pk=mailing.pk).exclude(status=Mailing.Status.SENT).update(
        sent=F("sent") + result.sent,
        failed=F("failed") + result.failed,
        suppressed=F("suppressed") + result.suppressed,
    )
    return result


@contextmanager
def _record_sends(table: str):
    """Mark deliveries sent one by one, as each message is accepted.

    One prepared UPDATE per message, so a worker that dies loses at most the
    message in flight. Within the batch the commits are asynchronous
    (synchronous_commit off): a commit then returns without waiting for the WAL
    flush, which would otherwise cost more than the SMTP exchange. A worker crash
    loses none of them (PostgreSQL has them); only a crash of PostgreSQL itself
    could forget the last fraction of a second of marks, and those messages would
    be sent again: the same at-least-once promise, never a lost recipient. The
    batch ends with a synchronous commit (the mailing's counters), which flushes
    everything before it.
    """
    sql = (
        f"UPDATE {table} SET status = 'sent', sent_at = now(), lease_until = NULL, "
        "last_error = '' WHERE id = %s"
    )  # by id alone: with a status test, psycopg's prepared (generic) plan scans
    # the partial index of rows being sent instead of the primary key
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        try:
            yield lambda delivery_id: cursor.execute(sql, [delivery_id])
        finally:
            if connection.is_usable():
                cursor.execute("RESET synchronous_commit")


def _release(recipients: list[Recipient]) -> None:
    """Unsent claimed rows back to pending, their claim not counted as an attempt."""
    Delivery.objects.filter(pk__in=[r.pk for r in recipients]).update(
        status=Delivery.Status.PENDING, lease_until=None, attempts=F("attempts") - 1
    )


def _smtp_error(code: int, reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}"


def _retry_later(delivery: Recipient, error: str) -> int:
    """Back to pending with exponential backoff, or failed after the last attempt."""
    if delivery.attempts >= settings.SEND_MAX_ATTEMPTS:
        _fail(delivery, error, bounce=False)
        Mailing.objects.filter(pk=delivery.mailing_id).update(failed=F("failed") + 1)
        return 0
    wait = dt.timedelta(seconds=30 * 2 ** (delivery.attempts - 1))
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, lease_until=timezone.now() + wait, last_error=error[:1000]
    )
    return 1


def _fail(delivery: Recipient, error: str, *, bounce: bool) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, lease_until=None, last_error=error[:1000]
    )
    if bounce:  # SMTP 5xx at send time counts as a hard bounce (SPEC §5.6)
        Contact.objects.filter(pk=delivery.contact_id).update(is_bounced=True)


def deliveries_release_expired() -> int:
    """Claims whose worker died go back to pending (their lease ran out)."""
    return Delivery.objects.filter(
        status=Delivery.Status.SENDING, lease_until__lt=timezone.now()
    ).update(status=Delivery.Status.PENDING, lease_until=None)


def mailing_finish_if_done(*, mailing_id: int) -> bool:
    """Completion from the rows, not from task bookkeeping: nothing pending or in flight."""
    from .selectors import mailing_progress

    progress = mailing_progress(Mailing(pk=mailing_id))
    # The running totals miss a batch whose worker died before adding it up;
    # the rows do not, so the final figures come from them.
    Mailing.objects.filter(pk=mailing_id).update(
        sent=progress.sent, failed=progress.failed, suppressed=progress.suppressed
    )
    if progress.pending:
        return False
    return bool(
        Mailing.objects.filter(pk=mailing_id, status=Mailing.Status.SENDING).update(
            status=Mailing.Status.SENT
        )
    )


# -- controls: pause, resume, cancel ---------------------------------------------
#
# Each is one conditional UPDATE … WHERE status IN (…) whose row count says whether
# it applied: pressing a button twice, or at the moment a worker finishes the
# mailing, changes nothing and is reported as such. Workers need no signal: the
# claim query only hands out rows of a mailing whose status is `sending`, so a
# paused or cancelled mailing stops after the batch in flight.

PAUSABLE = (Mailing.Status.SENDING,)
RESUMABLE = (Mailing.Status.PAUSED,)
CANCELLABLE = (Mailing.Status.QUEUED, Mailing.Status.SENDING, Mailing.Status.PAUSED)


def _transition(mailing: Mailing, *, source: tuple[str, ...], target: str) -> bool:
    changed = Mailing.objects.filter(pk=mailing.pk, status__in=source).update(
        status=target, updated_at=timezone.now()
    )
    mailing.refresh_from_db(fields=["status", "updated_at"])
    return changed > 0


@transaction.atomic
def mailing_pause(*, mailing: Mailing) -> bool:
    """sending → paused; True if it was sending."""
    return _transition(mailing, source=PAUSABLE, target=Mailing.Status.PAUSED)


@transaction.atomic
def mailing_resume(*, mailing: Mailing) -> bool:
    """paused → sending, and a send task once that is committed; True if it was paused."""
    resumed = _transition(mailing, source=RESUMABLE, target=Mailing.Status.SENDING)
    if resumed:
        from .tasks import mailing_send

        mailing_id = mailing.pk
        transaction.on_commit(lambda: mailing_send.delay(mailing_id))
    return resumed


@transaction.atomic
def mailing_cancel(*, mailing: Mailing) -> bool:
    """queued/sending/paused → cancelled; its pending deliveries stay pending, unsent.

    A queued mailing's recipients may still be written afterwards by its
    materialize task; that task leaves the status alone unless it is `queued`,
    and nothing claims rows of a cancelled mailing.
    """
    return _transition(mailing, source=CANCELLABLE, target=Mailing.Status.CANCELLED)
