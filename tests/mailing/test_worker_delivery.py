"""The send pipeline through real Celery worker processes, Redis and an SMTP server.

Workers are `celery -A config worker` subprocesses (tests/mailing/worker.py) that
read the test database, so these tests commit their rows (transaction=True).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from contacts.models import Contact
from mailing.models import Delivery, Mailing
from mailing.sending import deliveries_release_expired
from mailing.services import mailing_cancel, mailing_create, mailing_pause, mailing_resume
from mailing.tasks import mailing_send
from segments.services import segment_create

from ..contacts.factories import ContactFactory
from .smtp import SmtpServer
from .worker import SlowSmtpServer, Worker, broker_db, running_workers, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

HIGH_SCORE = [{"field": "leadScore", "op": "gte", "value": 70}]


@pytest.fixture
def broker(settings):
    """Tasks of this test go through an empty Redis DB of their own."""
    with broker_db(settings) as url:
        yield url


def _contacts(prefix: str, count: int, **fields) -> list[Contact]:
    return [ContactFactory(email=f"{prefix}{n}@example.com", **fields) for n in range(count)]


def _outsiders() -> list[Contact]:
    """Not reachable members of HIGH_SCORE: none of them may get anything."""
    return [
        *_contacts("low", 3, lead_score=10),
        *_contacts("unsub", 2, lead_score=90, is_unsubscribed=True),
        *_contacts("bounced", 2, lead_score=90, is_bounced=True),
    ]


def _finished(mailing: Mailing) -> bool:
    return Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.SENT).exists()


def test_a_mailing_reaches_each_reachable_member_once_through_a_worker(broker, marketer):
    members = _contacts("member", 6, lead_score=80, first_name="Ada")
    outside = _outsiders()
    segment = segment_create(name="High", filter_json=HIGH_SCORE, user=marketer)

    with SmtpServer() as smtp, running_workers() as workers:
        workers.append(Worker(worker_env(smtp_port=smtp.port), "send").start())
        # What the Send button does: the row, then the task once it is committed.
        mailing = mailing_create(
            segment=segment, subject="Hello {{ first_name }}", body="Hi {{ first_name }}",
            user=marketer, from_email="Flock <news@flock.example>",
        )  # fmt: skip
        wait_for(lambda: _finished(mailing), timeout=30, what="the mailing to end", workers=workers)

    received = Counter(message["To"] for message in smtp.recorder.messages)
    assert received == {contact.email: 1 for contact in members}
    assert not {contact.email for contact in outside} & set(received)
    mailing.refresh_from_db()
    assert (mailing.recipients, mailing.sent, mailing.failed, mailing.suppressed) == (6, 6, 0, 0)
    assert set(Delivery.objects.filter(mailing=mailing).values_list("status", flat=True)) == {
        Delivery.Status.SENT
    }

    # The headers, and the link works: one-click POST, no login, no CSRF token.
    (message,) = smtp.recorder.to(members[0].email)
    assert message["Subject"] == "Hello Ada"
    assert message["Message-ID"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip().strip("<>")
    assert link in message.get_body(("plain",)).get_content()
    response = Client(enforce_csrf_checks=True).post(urlsplit(link).path)
    assert response.status_code == 200
    assert Contact.objects.get(pk=members[0].pk).is_unsubscribed
    assert not Contact.objects.get(pk=members[1].pk).is_unsubscribed


BATCH, LEASE, RECIPIENTS = 10, 4, 150


def test_a_worker_killed_mid_mailing_loses_nobody_and_repeats_at_most_the_message_in_flight(
    broker, marketer
):
    members = _contacts("member", RECIPIENTS, lead_score=90)
    outside = _outsiders()
    segment = segment_create(name="Everyone high", filter_json=HIGH_SCORE, user=marketer)

    def count(status: str) -> int:
        return Delivery.objects.filter(mailing=mailing, status=status).count()

    # 50 ms per message at the server: 150 take about 8 s, so the kill lands mid-way.
    # A batch of 10 takes 0.5 s: its acceptances reach PostgreSQL only at its end,
    # until then they are in the claim's journal alone.
    with SlowSmtpServer(delay=0.05) as smtp, running_workers() as workers:
        env = worker_env(
            smtp_port=smtp.port, FLOCK_SEND_BATCH_SIZE=BATCH, FLOCK_SEND_LEASE_SECONDS=LEASE,
            EMAIL_TIMEOUT=1,  # the lease leaves 1 s of sending per batch (4 s less 3 × 1 s)
        )  # fmt: skip
        first = Worker(env, "doomed").start()
        workers.append(first)
        mailing = mailing_create(
            segment=segment, subject="Hi", body="Hello {{ email }}", user=marketer
        )

        # The worst moment to die: half-way through a batch, with half of it accepted
        # by the server but not yet marked sent in PostgreSQL, and one more message at
        # the server whose 250 the worker has not read yet.
        def worst_moment() -> bool:
            received, sent = len(smtp.recorder.messages), count("sent")
            return sent >= 40 and received - sent >= BATCH // 2

        wait_for(
            worst_moment, timeout=30, interval=0.005, what="the first worker to be half-way",
            workers=workers,
        )  # fmt: skip
        first.kill(signal.SIGKILL)
        assert first.proc.returncode == -signal.SIGKILL

        sent_at_kill, in_flight = count("sent"), count("sending")
        received_at_kill = len(smtp.recorder.messages)
        assert 0 < sent_at_kill < RECIPIENTS
        assert 0 < in_flight <= BATCH
        assert received_at_kill - sent_at_kill >= BATCH // 2

        # Nothing moves until the lease of the dead worker's claim runs out.
        assert count("pending") + count("sending") == RECIPIENTS - sent_at_kill
        wait_for(
            lambda: not Delivery.objects.filter(
                mailing=mailing, status=Delivery.Status.SENDING, lease_until__gte=timezone.now()
            ).exists(),
            timeout=LEASE + 5, what="the dead worker's lease to expire",
        )  # fmt: skip
        released = deliveries_release_expired()  # what the beat task does
        # The claim's journal names every message the server had accepted: those are
        # marked sent; at most the one whose 250 was not read yet goes back.
        assert count("sent") >= received_at_kill - 1
        assert released == in_flight - (count("sent") - sent_at_kill)

        workers.append(Worker(env, "successor").start())
        mailing_send.delay(mailing.pk)
        wait_for(lambda: _finished(mailing), timeout=40, what="the mailing to end", workers=workers)

    received = Counter(message["To"] for message in smtp.recorder.messages)
    assert set(received) == {contact.email for contact in members}  # nobody lost
    assert not {contact.email for contact in outside} & set(received)
    duplicates = {email: n for email, n in received.items() if n > 1}
    # docs/design.md#crashes: only the message in flight at the kill can have gone twice.
    assert sum(n - 1 for n in duplicates.values()) <= 1
    assert count("sent") == RECIPIENTS
    print(
        f"\nkill after {sent_at_kill} marked sent ({received_at_kill} received), "
        f"{in_flight} claimed, {released} handed back; duplicates: {sorted(duplicates)}"
    )

    # The running totals miss what the killed batch recorded; the final ones come from
    # the rows (mailing_finish_if_done).
    mailing.refresh_from_db()
    assert (mailing.sent, mailing.failed, mailing.suppressed) == (RECIPIENTS, 0, 0)


def test_pause_resume_and_cancel_take_effect_while_a_worker_sends(broker, marketer):
    members = _contacts("member", 80, lead_score=90)
    segment = segment_create(name="Everyone high", filter_json=HIGH_SCORE, user=marketer)

    def count(status: str) -> int:
        return Delivery.objects.filter(mailing=mailing, status=status).count()

    def settled() -> bool:  # the batch in flight at the click has been recorded
        return count("sending") == 0

    # 40 ms per message at the server and batches of 5: a batch takes 0.2 s.
    with SlowSmtpServer(delay=0.04) as smtp, running_workers() as workers:
        workers.append(
            Worker(worker_env(smtp_port=smtp.port, FLOCK_SEND_BATCH_SIZE=5), "w").start()
        )
        mailing = mailing_create(segment=segment, subject="Hi", body="Hello", user=marketer)
        wait_for(lambda: count("sent") >= 10, timeout=30, what="sending to start", workers=workers)

        assert mailing_pause(mailing=mailing)
        assert not mailing_pause(mailing=mailing)  # twice changes nothing
        wait_for(settled, timeout=10, what="the batch in flight to end", workers=workers)
        paused_at = len(smtp.recorder.messages)
        time.sleep(1.0)  # a worker that ignored the pause would send 25 in this second
        assert len(smtp.recorder.messages) == paused_at == count("sent") < len(members)
        assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.PAUSED

        assert mailing_resume(mailing=mailing)  # enqueues a send task on commit
        wait_for(
            lambda: count("sent") >= paused_at + 10, timeout=30, what="sending to resume",
            workers=workers,
        )  # fmt: skip
        assert mailing_cancel(mailing=mailing)
        wait_for(settled, timeout=10, what="the batch in flight to end", workers=workers)
        cancelled_at = len(smtp.recorder.messages)
        time.sleep(1.0)
        assert len(smtp.recorder.messages) == cancelled_at == count("sent") < len(members)

    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.CANCELLED
    assert count("pending") == len(members) - cancelled_at  # left unsent, not lost
    received = Counter(message["To"] for message in smtp.recorder.messages)
    assert set(received.values()) == {1}


def test_no_new_message_starts_once_pause_or_cancel_returns(broker, marketer):
    """A batch in flight stops between two messages, not a batch or a second later."""
    members = _contacts("member", 80, lead_score=90)
    segment = segment_create(name="Everyone high", filter_json=HIGH_SCORE, user=marketer)

    def count(status: str) -> int:
        return Delivery.objects.filter(mailing=mailing, status=status).count()

    def settled() -> bool:
        return count("sending") == 0

    # 25 messages a second, all of them in one batch: only the stop announcement
    # can end it early (the status alone is read once a second: 25 more messages).
    with SlowSmtpServer(delay=0.04) as smtp, running_workers() as workers:
        workers.append(
            Worker(worker_env(smtp_port=smtp.port, FLOCK_SEND_BATCH_SIZE=500), "w").start()
        )
        mailing = mailing_create(segment=segment, subject="Hi", body="Hello", user=marketer)
        wait_for(
            lambda: len(smtp.recorder.messages) >= 10, timeout=30, what="sending to start",
            workers=workers,
        )  # fmt: skip
        assert mailing_pause(mailing=mailing)
        at_pause = len(smtp.recorder.messages)
        wait_for(settled, timeout=10, what="the batch to stop", workers=workers)
        # In flight at most: one message being answered, one whose envelope went out.
        assert len(smtp.recorder.messages) <= at_pause + 2
        assert count("sent") == len(smtp.recorder.messages)

        assert mailing_resume(mailing=mailing)
        resumed_at = len(smtp.recorder.messages)
        wait_for(
            lambda: len(smtp.recorder.messages) >= resumed_at + 10, timeout=30,
            what="sending to resume", workers=workers,
        )  # fmt: skip
        assert mailing_cancel(mailing=mailing)
        at_cancel = len(smtp.recorder.messages)
        wait_for(settled, timeout=10, what="the batch to stop", workers=workers)
        sent = len(smtp.recorder.messages)
        assert sent <= at_cancel + 2
        time.sleep(0.5)
        assert len(smtp.recorder.messages) == sent == count("sent")

    assert count("pending") == len(members) - sent  # left unsent, not lost
    assert set(Counter(m["To"] for m in smtp.recorder.messages).values()) == {1}
    client = Client()
    client.force_login(marketer)
    page = client.get(f"/mailings/{mailing.pk}/").content.decode()
    assert f"{sent} were sent before the cancel took effect. {len(members) - sent} will not" in page
    assert "every 2s" not in page
