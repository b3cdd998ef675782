"""Writes for mailings: create one, and write its recipients.

See docs/design.md#materialising-recipients."""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, F, Func, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from contacts.models import Contact
from segments.models import ContactSegment
from segments.selectors import reachable, segment_contacts
from segments.services import segment_evaluate

from . import journal
from .addresses import validate_from_address
from .journal import JournalUnavailable, SentJournal
from .messages import MessageTemplate, Rendered, address
from .models import Delivery, Mailing
from .stops import StopListener, announce_stop
from .transport import Refusal, transmit

logger = logging.getLogger(__name__)


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
        from_email=validate_from_address(from_email or settings.DEFAULT_FROM_EMAIL),
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


class _DatabaseNow(Func):
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
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH claimed AS (
                UPDATE {table}
                SET status = 'sending', attempts = attempts + 1, claim = %s,
                    lease_until = statement_timestamp() + make_interval(secs => %s)
                WHERE id IN (
                    SELECT d.id FROM {table} d JOIN {mailings} m ON m.id = d.mailing_id
                    WHERE d.mailing_id = %s AND d.status = 'pending' AND m.status = 'sending'
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
            [journal.new_claim(), settings.SEND_LEASE_SECONDS, mailing_id, size],
        )
        rows = cursor.fetchall()
    return [Recipient(*row) for row in rows]


def _claimed(claim: int, ids: list[int]) -> QuerySet[Delivery]:
    """Rows of this claim still in its hands.

    A batch only writes to these: had its lease run out and the beat handed the
    rows to another worker, this batch must not overwrite that worker's state.
    """
    return Delivery.objects.filter(pk__in=ids, claim=claim, status=Delivery.Status.SENDING)


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    retried: int = 0


def deliveries_send(*, mailing: Mailing, recipients: list[Recipient]) -> BatchResult:
    """Send claimed deliveries over one SMTP connection, recording each result.

    Contacts who bounced, unsubscribed or were deleted since the recipients were
    written are suppressed, not mailed. A 5xx refusal fails the delivery (and of a
    recipient, marks the contact bounced); a 4xx or a broken connection puts it
    back with backoff. A pause or cancel, or the end of the claim's lease, stops
    the batch within about a second and hands the unsent rest back.
    """
    result = BatchResult()
    keep_going = _KeepGoing(mailing.pk)  # the lease runs from the claim, set-up included
    try:
        if unreachable := [r.pk for r in recipients if not r.reachable]:
            result.suppressed = _claimed(recipients[0].claim, unreachable).update(
                status=Delivery.Status.SUPPRESSED, lease_until=None
            )
            recipients = [r for r in recipients if r.reachable]
        if recipients and keep_going.stopped:
            _release(recipients)  # paused or cancelled since the claim: none of them goes
        elif recipients:
            _send(mailing, recipients, result, keep_going)
    finally:
        keep_going.close()
    # Retries that ran out are counted as failed by _retry_later itself. Once
    # another worker has finished the mailing its totals come from the rows, which
    # already hold this batch: adding it again would count it twice.
    Mailing.objects.filter(pk=mailing.pk).exclude(status=Mailing.Status.SENT).update(
        sent=F("sent") + result.sent,
        failed=F("failed") + result.failed,
        suppressed=F("suppressed") + result.suppressed,
    )
    return result


def _send(
    mailing: Mailing, recipients: list[Recipient], result: BatchResult, keep_going: _KeepGoing
) -> None:
    try:
        template = MessageTemplate(mailing)
    except Exception as exc:  # e.g. a From address that cannot be encoded
        logger.exception("Mailing %s: its message cannot be prepared", mailing.pk)
        for recipient in recipients:
            result.retried += _retry_later(recipient, f"The message could not be prepared: {exc}")
        return
    try:
        recorder = _Recorder(recipients[0].claim)
    except JournalUnavailable:
        # Without the journal an accepted message could go unrecorded: send nothing.
        _release(recipients)
        raise
    backend = get_connection()
    try:
        backend.open()
    except (OSError, smtplib.SMTPException) as exc:
        recorder.close()
        for recipient in recipients:
            result.retried += _retry_later(recipient, f"Could not connect: {exc}")
        return
    handed = answered = 0  # recipients given to the transport / with its verdict

    def messages() -> Iterator[tuple[Recipient, Rendered]]:
        nonlocal handed
        for recipient in recipients:
            if not keep_going(first=not handed):
                return
            handed += 1
            yield (
                recipient,
                template.render(
                    recipient, contact_id=recipient.contact_id, delivery_id=recipient.pk
                ),
            )

    try:
        for recipient, refusal in _deliver(backend, template, messages()):
            answered += 1
            if refusal is None:
                result.sent += 1
                recorder.sent(recipient.pk)
            elif refusal.permanent:
                # SMTP 5xx for the address counts as a hard bounce
                # (docs/design.md#bounces-and-complaints).
                _fail(recipient, str(refusal), bounce=refusal.stage == "RCPT")
                result.failed += 1
            else:
                result.retried += _retry_later(recipient, str(refusal))
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        # The connection is gone: the message in flight and the rest wait.
        for recipient in recipients[answered:]:
            result.retried += _retry_later(recipient, f"Connection lost: {exc}")
        handed = len(recipients)
    except JournalUnavailable as exc:
        # No journal, no sending: what was answered is recorded below, the rest
        # (whose content was not written yet) goes back unsent.
        logger.warning("Mailing %s: Redis failed mid-batch, batch stopped: %s", mailing.pk, exc)
        handed = answered
    except Exception as exc:
        # A fault of ours (a message that cannot be written, …): the rest is retried
        # with backoff and fails after its last attempt, never claimed endlessly.
        logger.exception("Mailing %s: batch stopped by an unexpected error", mailing.pk)
        for recipient in recipients[answered:]:
            result.retried += _retry_later(recipient, f"Unexpected error: {exc!r}")
        handed = len(recipients)
    finally:
        try:
            recorder.close()
        finally:
            backend.close()
    _release(recipients[handed:])


def _deliver(
    backend, template: MessageTemplate, messages: Iterator[tuple[Recipient, Rendered]]
) -> Iterator[tuple[Recipient, Refusal | None]]:
    """Each message to the backend, with its verdict, in order.

    SMTP backends get MIME bytes on their open connection, one round trip per
    message where the server pipelines (mailing.transport); any other backend (an
    anymail ESP) gets Django messages.
    """
    if isinstance(backend, SMTPBackend):
        yield from transmit(
            backend.connection,
            template.envelope_from,
            (
                (recipient, address(recipient.email), template.mime(rendered, to=recipient.email))
                for recipient, rendered in messages
            ),
        )
        return
    for recipient, rendered in messages:
        try:
            template.email(rendered, to=recipient.email, connection=backend).send()
        except AnymailRecipientsRefused as exc:
            yield recipient, Refusal("RCPT", 550, str(exc))
        except AnymailError as exc:  # the ESP's API failed: not the address's fault
            yield recipient, Refusal("DATA", 0, str(exc))
        else:
            yield recipient, None


class _KeepGoing:
    """Whether a batch may start one more message: its lease holds, the mailing still sends.

    A pause or cancel is heard before the next message (mailing.stops); the
    status is also read at most once a second, in case its announcement was lost.
    The lease is checked before every message, with room for what may follow the
    last check: the exchange in flight, the pipelined last message and QUIT, each
    up to EMAIL_TIMEOUT. Past the lease, the beat would hand the rows to another
    worker while this one still sends them.
    """

    def __init__(self, mailing_id: int):
        self.mailing_id = mailing_id
        now = time.monotonic()
        self.deadline = now + settings.SEND_LEASE_SECONDS - 3 * settings.EMAIL_TIMEOUT
        self.stops = StopListener(mailing_id)
        # Subscribed first, then read: a stop committed before is seen here, after by the listener.
        self.next_look = now + settings.SEND_STATUS_CHECK_SECONDS
        self.stopped = not self._still_sending()

    def _still_sending(self) -> bool:
        return Mailing.objects.filter(pk=self.mailing_id, status=Mailing.Status.SENDING).exists()

    def __call__(self, *, first: bool = False) -> bool:
        """`first`: a batch always gets its first message out, whatever its lease."""
        if self.stopped or self.stops.heard():
            self.stopped = True
            return False
        now = time.monotonic()
        if now > self.deadline and not first:
            return False
        if now >= self.next_look:
            self.next_look = now + settings.SEND_STATUS_CHECK_SECONDS
            self.stopped = not self._still_sending()
        return not self.stopped

    def close(self) -> None:
        self.stops.close()


class _Recorder:
    """Accepted messages: journaled in Redis one by one, marked sent in PostgreSQL in groups.

    Each acceptance is written to the claim's journal (mailing.journal) as the
    server's 250 is read, before the next message's content goes out, so a worker
    killed mid-batch has at most the message in flight unrecorded. The
    deliveries are marked sent in one UPDATE about once a second (for the progress
    page) and when the batch ends, synchronously; the journal is deleted once
    PostgreSQL has all of it. If the batch cannot mark them (the database went away), the journal
    stays and the beat applies it when the claim's lease runs out.
    """

    def __init__(self, claim: int):
        self._claim = claim
        self._journal = SentJournal(claim)
        self._accepted: list[int] = []
        self._marked = 0
        self._next_mark = time.monotonic() + settings.SEND_STATUS_CHECK_SECONDS

    def sent(self, delivery_id: int) -> None:
        self._accepted.append(delivery_id)
        self._journal.add(delivery_id)
        if time.monotonic() >= self._next_mark:
            self._mark()

    def _mark(self) -> None:
        self._next_mark = time.monotonic() + settings.SEND_STATUS_CHECK_SECONDS
        if ids := self._accepted[self._marked :]:
            _claimed(self._claim, ids).update(
                status=Delivery.Status.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
            )
            self._marked += len(ids)

    def close(self) -> None:
        marked = False
        try:
            if connection.is_usable():
                self._mark()
                marked = True
        finally:
            try:
                self._journal.close(delete=marked)
            except JournalUnavailable as exc:  # the marks are in PostgreSQL, or the TTL ends it
                logger.warning("Sent-journal of a finished batch: %s", exc)


def _release(recipients: list[Recipient]) -> None:
    """Unsent claimed rows back to pending, their claim not counted as an attempt."""
    if recipients:
        _claimed(recipients[0].claim, [r.pk for r in recipients]).update(
            status=Delivery.Status.PENDING, lease_until=None, attempts=F("attempts") - 1
        )


def _retry_later(delivery: Recipient, error: str) -> int:
    """Back to pending with exponential backoff, or failed after the last attempt."""
    if delivery.attempts >= settings.SEND_MAX_ATTEMPTS:
        _fail(delivery, error, bounce=False)
        Mailing.objects.filter(pk=delivery.mailing_id).update(failed=F("failed") + 1)
        return 0
    wait = dt.timedelta(seconds=30 * 2 ** (delivery.attempts - 1))
    _claimed(delivery.claim, [delivery.pk]).update(
        status=Delivery.Status.PENDING, lease_until=timezone.now() + wait, last_error=error[:1000]
    )
    return 1


def _fail(delivery: Recipient, error: str, *, bounce: bool) -> None:
    _claimed(delivery.claim, [delivery.pk]).update(
        status=Delivery.Status.FAILED, lease_until=None, last_error=error[:1000]
    )
    # SMTP 5xx at send time counts as a hard bounce (docs/design.md#bounces-and-complaints)
    if bounce:
        Contact.objects.filter(pk=delivery.contact_id).update(is_bounced=True)


def deliveries_release_expired() -> int:
    """Claims whose worker died (their lease ran out): what the server accepted is
    marked sent, from each claim's journal; the rest goes back to pending.

    Returns the number handed back. Should Redis not answer, nothing changes: the
    rows wait for the next run rather than be sent again. The journals are left to
    their TTL: a worker that outlived its lease may still write to its own.
    """
    expired = Delivery.objects.filter(
        status=Delivery.Status.SENDING, lease_until__lt=_DatabaseNow()
    )
    claims = list(expired.exclude(claim=None).values_list("claim", flat=True).distinct())
    for claim in claims:
        if accepted := journal.accepted(claim):
            expired.filter(claim=claim, pk__in=accepted).update(
                status=Delivery.Status.SENT, sent_at=_DatabaseNow(), lease_until=None, last_error=""
            )
    # A row whose every claim ended with its worker gone (one that crashes the
    # process, say) is not handed out again forever.
    expired.filter(attempts__gte=settings.SEND_MAX_ATTEMPTS).update(
        status=Delivery.Status.FAILED,
        lease_until=None,
        last_error=Concat(
            Value("Its worker stopped before a result was recorded, "),
            Cast("attempts", CharField()),
            Value(" times."),
        ),
    )
    return expired.update(status=Delivery.Status.PENDING, lease_until=None)


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
    # Failed: not one message could be sent (the reasons are on the deliveries).
    nothing_sent = progress.sent == 0 and progress.failed > 0
    return bool(
        Mailing.objects.filter(pk=mailing_id, status=Mailing.Status.SENDING).update(
            status=Mailing.Status.FAILED if nothing_sent else Mailing.Status.SENT
        )
    )


# -- controls: pause, resume, cancel ---------------------------------------------
#
# Each is one conditional UPDATE … WHERE status IN (…) whose row count says whether
# it applied: pressing a button twice, or at the moment a worker finishes the
# mailing, changes nothing and is reported as such. The claim query only hands out
# rows of a mailing whose status is `sending`; a batch in flight hears a pause or
# cancel before its next message (mailing.stops).

PAUSABLE = (Mailing.Status.SENDING,)
RESUMABLE = (Mailing.Status.PAUSED,)
CANCELLABLE = (Mailing.Status.QUEUED, Mailing.Status.SENDING, Mailing.Status.PAUSED)


def _transition(mailing: Mailing, *, source: tuple[str, ...], target: str) -> bool:
    changed = Mailing.objects.filter(pk=mailing.pk, status__in=source).update(
        status=target, updated_at=timezone.now()
    )
    mailing.refresh_from_db(fields=["status", "updated_at"])
    return changed > 0


def _stop(mailing: Mailing, *, source: tuple[str, ...], target: str) -> bool:
    stopped = _transition(mailing, source=source, target=target)
    if stopped:  # once committed: before that, a worker would still see `sending`
        mailing_id = mailing.pk
        transaction.on_commit(lambda: announce_stop(mailing_id))
    return stopped


@transaction.atomic
def mailing_pause(*, mailing: Mailing) -> bool:
    """sending → paused; True if it was sending. No new message starts after it."""
    return _stop(mailing, source=PAUSABLE, target=Mailing.Status.PAUSED)


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
    and nothing claims rows of a cancelled mailing. No new message starts after it.
    """
    return _stop(mailing, source=CANCELLABLE, target=Mailing.Status.CANCELLED)
