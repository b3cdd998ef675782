"""Sending a claimed batch: build, transmit, record, release (docs/design.md#sending).

Every write is scoped to the rows the batch's claim still holds, so a batch whose
lease expired changes nothing another worker owns (docs/design.md#crashes)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from contacts.changes import change_cause
from contacts.models import Contact

from . import journal
from .journal import JournalUnavailable, SentJournal
from .messages import MessageTemplate, Rendered, address
from .models import Delivery, Mailing
from .recipients import DatabaseNow, Recipient
from .stops import StopListener
from .transport import Refusal, transmit

logger = logging.getLogger(__name__)


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
        assert backend.connection is not None, "opened by _send"
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
        with change_cause("bounce"):
            Contact.objects.filter(pk=delivery.contact_id).update(is_bounced=True)


def deliveries_release_expired() -> int:
    """Claims whose worker died (their lease ran out): what the server accepted is
    marked sent, from each claim's journal; the rest goes back to pending.

    Returns the number handed back. Should Redis not answer, nothing changes: the
    rows wait for the next run rather than be sent again. The journals are left to
    their TTL: a worker that outlived its lease may still write to its own.
    """
    expired = Delivery.objects.filter(status=Delivery.Status.SENDING, lease_until__lt=DatabaseNow())
    # Not None: excluded in the query, which the type of the column cannot tell.
    claims = cast(
        list[int], list(expired.exclude(claim=None).values_list("claim", flat=True).distinct())
    )
    for claim in claims:
        if accepted := journal.accepted(claim):
            expired.filter(claim=claim, pk__in=accepted).update(
                status=Delivery.Status.SENT, sent_at=DatabaseNow(), lease_until=None, last_error=""
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
