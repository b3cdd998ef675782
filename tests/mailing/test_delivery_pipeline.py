"""The send path against a real SMTP server: claims, suppression, retries, bounces."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from contacts.models import Contact
from mailing import journal
from mailing.journal import JournalUnavailable, SentJournal
from mailing.models import Delivery, Mailing
from mailing.recipients import deliveries_claim, deliveries_materialize
from mailing.sending import deliveries_release_expired, deliveries_send, mailing_finish_if_done
from mailing.tasks import mailing_send
from mailing.unsubscribe import read_token

from ..contacts.factories import ContactFactory
from ..segments.factories import HIGH_SCORE
from .factories import MailingFactory
from .smtp import SmtpServer
from .worker import SlowSmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False
        yield server.recorder


@pytest.fixture
def mailing(marketer):
    return MailingFactory(
        segment__filter_json=HIGH_SCORE,
        subject="Hello {{ first_name|default:'there' }}",
        body="Hi {{ first_name }} from {{ company }}",
        from_email="Flock <news@flock.example>",
        status=Mailing.Status.QUEUED,
        created_by=marketer,
    )


def send_all(mailing: Mailing) -> None:
    mailing_send.run(mailing.pk)  # the task body, in this process


def test_each_reachable_member_gets_one_personal_message(smtp, mailing):
    ada = ContactFactory(
        email="ada@example.com", first_name="Ada", company="Engines", lead_score=90
    )
    bob = ContactFactory(email="bob@example.com", first_name="", lead_score=80)
    ContactFactory(email="gone@example.com", lead_score=90, is_unsubscribed=True)
    ContactFactory(email="low@example.com", lead_score=10)
    deliveries_materialize(mailing=mailing)
    send_all(mailing)

    assert sorted(m["To"] for m in smtp.messages) == ["ada@example.com", "bob@example.com"]
    (to_ada,) = smtp.to("ada@example.com")
    assert to_ada["Subject"] == "Hello Ada"
    assert smtp.to("bob@example.com")[0]["Subject"] == "Hello there"
    assert "Hi Ada from Engines" in to_ada.get_body(("plain",)).get_content()
    assert to_ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = to_ada["List-Unsubscribe"].strip().strip("<>")
    assert read_token(link.rstrip("/").rsplit("/", 1)[1]) == (ada.pk, mailing.pk)
    assert link in to_ada.get_body(("html",)).get_content()
    assert to_ada["Message-ID"]
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent, mailing.failed, mailing.suppressed) == ("sent", 2, 0, 0)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert bob.deliveries.get().sent_at is not None


def test_a_contact_who_unsubscribed_after_materialisation_is_suppressed(smtp, mailing):
    ContactFactory(email="stays@example.com", lead_score=90)
    leaver = ContactFactory(email="leaves@example.com", lead_score=90)
    deliveries_materialize(mailing=mailing)
    Contact.objects.filter(pk=leaver.pk).update(is_unsubscribed=True)
    send_all(mailing)
    assert [m["To"] for m in smtp.messages] == ["stays@example.com"]
    assert leaver.deliveries.get().status == Delivery.Status.SUPPRESSED
    mailing.refresh_from_db()
    assert (mailing.sent, mailing.suppressed) == (1, 1)


def test_a_contact_deleted_after_materialisation_is_suppressed_not_lost(smtp, mailing):
    ContactFactory(email="stays@example.com", lead_score=90)
    gone = ContactFactory(email="gone@example.com", lead_score=90)
    deliveries_materialize(mailing=mailing)
    with connection.cursor() as cursor:  # deleted behind the ORM's back: no cascade
        cursor.execute("DELETE FROM contacts_contact WHERE id = %s", [gone.pk])
    send_all(mailing)
    assert [m["To"] for m in smtp.messages] == ["stays@example.com"]
    orphan = Delivery.objects.get(mailing=mailing, contact_id=gone.pk)
    assert orphan.status == Delivery.Status.SUPPRESSED
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent, mailing.suppressed) == (Mailing.Status.SENT, 1, 1)


def test_deleting_a_contact_deletes_its_deliveries(mailing):
    contact = ContactFactory(lead_score=90)
    deliveries_materialize(mailing=mailing)
    contact.delete()
    assert not Delivery.objects.filter(mailing=mailing).exists()


def test_5xx_fails_the_delivery_and_marks_the_contact_bounced(smtp, mailing):
    bad = ContactFactory(email="nobody@example.com", lead_score=90)
    smtp.refuse["nobody@example.com"] = ["550 5.1.1 No such user"]
    deliveries_materialize(mailing=mailing)
    send_all(mailing)
    delivery = bad.deliveries.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith("550")
    bad.refresh_from_db()
    assert bad.is_bounced
    mailing.refresh_from_db()
    assert (mailing.status, mailing.failed) == ("failed", 1)  # not one message went out


def test_a_mailing_with_some_messages_sent_is_sent_despite_failures(smtp, mailing):
    ContactFactory(email="nobody@example.com", lead_score=90)
    ContactFactory(email="somebody@example.com", lead_score=90)
    smtp.refuse["nobody@example.com"] = ["550 5.1.1 No such user"]
    deliveries_materialize(mailing=mailing)
    send_all(mailing)
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent, mailing.failed) == ("sent", 1, 1)


def test_4xx_is_retried_later_and_then_sent_once(smtp, mailing):
    slow = ContactFactory(email="slow@example.com", lead_score=90)
    smtp.refuse["slow@example.com"] = ["451 4.3.0 Try again later"]
    deliveries_materialize(mailing=mailing)
    send_all(mailing)
    delivery = slow.deliveries.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 1)
    assert delivery.lease_until > timezone.now()  # backing off, not claimed again at once
    assert deliveries_claim(mailing_id=mailing.pk) == []
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now())  # time passes
    send_all(mailing)
    assert len(smtp.to("slow@example.com")) == 1
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent) == ("sent", 1)


def test_a_paused_mailing_is_not_claimed(smtp, mailing):
    ContactFactory(lead_score=90)
    deliveries_materialize(mailing=mailing)
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.PAUSED)
    assert deliveries_claim(mailing_id=mailing.pk) == []


def test_claims_of_a_dead_worker_come_back_after_their_lease(smtp, mailing, settings):
    ContactFactory.create_batch(3, lead_score=90)
    deliveries_materialize(mailing=mailing)
    settings.SEND_LEASE_SECONDS = -1  # the claim is already expired, as if the worker died
    claimed = deliveries_claim(mailing_id=mailing.pk)
    assert len(claimed) == 3
    assert not mailing_finish_if_done(mailing_id=mailing.pk)  # rows in flight: not done
    assert deliveries_release_expired() == 3
    settings.SEND_LEASE_SECONDS = 300
    send_all(mailing)
    assert len(smtp.messages) == 3


def test_a_dead_workers_journal_marks_what_the_server_accepted(smtp, mailing, settings):
    ContactFactory.create_batch(3, lead_score=90)
    deliveries_materialize(mailing=mailing)
    settings.SEND_LEASE_SECONDS = -1  # the claim is already expired, as if the worker died
    first, second, third = deliveries_claim(mailing_id=mailing.pk)
    # The worker had heard the server accept two messages, then died before
    # PostgreSQL learned of them: only its journal in Redis says so.
    record = SentJournal(first.claim)
    record.add(first.pk)
    record.add(third.pk)
    record.close(delete=False)

    assert deliveries_release_expired() == 1  # only the unaccepted one goes back
    statuses = dict(Delivery.objects.filter(mailing=mailing).values_list("pk", "status"))
    assert statuses == {first.pk: "sent", second.pk: "pending", third.pk: "sent"}
    settings.SEND_LEASE_SECONDS = 300
    send_all(mailing)
    assert [m["To"] for m in smtp.messages] == [second.email]  # nobody mailed twice
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent) == (Mailing.Status.SENT, 3)


def test_a_sent_batch_leaves_no_journal_behind(smtp, mailing):
    ContactFactory.create_batch(3, lead_score=90)
    deliveries_materialize(mailing=mailing)
    batch = deliveries_claim(mailing_id=mailing.pk)
    assert deliveries_send(mailing=mailing, recipients=batch).sent == 3
    assert journal.accepted(batch[0].claim) == []
    assert set(Delivery.objects.filter(mailing=mailing).values_list("status", flat=True)) == {
        Delivery.Status.SENT
    }


def test_without_redis_a_batch_sends_nothing_and_hands_its_rows_back(smtp, mailing, settings):
    ContactFactory.create_batch(2, lead_score=90)
    deliveries_materialize(mailing=mailing)
    batch = deliveries_claim(mailing_id=mailing.pk)
    settings.SEND_JOURNAL_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with pytest.raises(JournalUnavailable, match="Redis cannot journal sent messages"):
        deliveries_send(mailing=mailing, recipients=batch)
    assert smtp.messages == []
    assert set(Delivery.objects.filter(mailing=mailing).values_list("status", "attempts")) == {
        (Delivery.Status.PENDING, 0)  # claimable again, no attempt spent
    }


def test_two_claims_never_share_a_row(smtp, mailing):
    ContactFactory.create_batch(5, lead_score=90)
    deliveries_materialize(mailing=mailing)
    mailing.refresh_from_db()
    first = deliveries_claim(mailing_id=mailing.pk, size=3)
    second = deliveries_claim(mailing_id=mailing.pk, size=3)
    first_ids, second_ids = {r.pk for r in first}, {r.pk for r in second}
    assert len(first_ids) == 3 and len(second_ids) == 2 and not first_ids & second_ids
    result = deliveries_send(mailing=mailing, recipients=first)
    assert result.sent == 3


def test_html_part_escapes_contact_values(smtp, mailing):
    ContactFactory(email="x@example.com", first_name="<b>X</b>", company="A&B", lead_score=90)
    deliveries_materialize(mailing=mailing)
    send_all(mailing)
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert "&lt;b&gt;X&lt;/b&gt;" in html and "A&amp;B" in html


def test_a_batch_stops_before_its_lease_runs_out_and_hands_back_the_rest(mailing, settings):
    ContactFactory.create_batch(8, lead_score=90)
    deliveries_materialize(mailing=mailing)
    # 0.3 s per message at the server; the lease leaves 1 s for sending (4 s less
    # 3 × the 1 s timeout, for what may follow the last look at the clock).
    settings.SEND_LEASE_SECONDS, settings.EMAIL_TIMEOUT = 4, 1
    with SlowSmtpServer(delay=0.3) as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False
        batch = deliveries_claim(mailing_id=mailing.pk, size=8)
        result = deliveries_send(mailing=mailing, recipients=batch)
        assert 1 <= result.sent < 8
        rest = Delivery.objects.filter(mailing=mailing).exclude(status=Delivery.Status.SENT)
        assert rest.count() == 8 - result.sent
        assert set(rest.values_list("status", "attempts", "lease_until")) == {
            (Delivery.Status.PENDING, 0, None)  # claimable at once, no attempt spent
        }
        settings.SEND_LEASE_SECONDS = 300
        send_all(mailing)
    assert sorted(m["To"] for m in server.recorder.messages) == sorted(
        Delivery.objects.filter(mailing=mailing).values_list("email", flat=True)
    )  # each once
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent) == (Mailing.Status.SENT, 8)


def _exhaust_retries(mailing: Mailing) -> None:
    """Send, let each backoff pass, and send again until nothing is left to retry."""
    for _ in range(10):
        send_all(mailing)
        waiting = Delivery.objects.filter(mailing=mailing, status=Delivery.Status.PENDING)
        if not waiting.exists():
            return
        waiting.update(lease_until=timezone.now())  # time passes


def test_a_message_that_cannot_be_prepared_fails_after_its_attempts(smtp, mailing, settings):
    ContactFactory.create_batch(2, lead_score=90)
    # Two mailboxes in From: accepted by the database, but no message can carry it.
    Mailing.objects.filter(pk=mailing.pk).update(from_email="a@x.example, b@x.example")
    mailing.refresh_from_db()
    deliveries_materialize(mailing=mailing)
    send_all(mailing)
    first = Delivery.objects.filter(mailing=mailing).first()
    assert (first.status, first.attempts) == (Delivery.Status.PENDING, 1)
    assert first.last_error.startswith("The message could not be prepared:")

    _exhaust_retries(mailing)
    assert smtp.messages == []
    rows = set(Delivery.objects.filter(mailing=mailing).values_list("status", "attempts"))
    assert rows == {(Delivery.Status.FAILED, settings.SEND_MAX_ATTEMPTS)}
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent, mailing.failed) == (Mailing.Status.FAILED, 0, 2)


def test_an_unexpected_error_mid_batch_keeps_what_was_sent_and_retries_the_rest(
    smtp, mailing, monkeypatch
):
    ContactFactory.create_batch(3, lead_score=90)
    deliveries_materialize(mailing=mailing)
    from mailing.messages import MessageTemplate

    render = MessageTemplate.render
    calls = []

    def render_then_break(self, recipient, **kwargs):
        calls.append(recipient.pk)
        # The third: by then the first is answered, the second's content not yet
        # sent (pipelining writes it with the third's envelope).
        if len(calls) == 3:
            raise RuntimeError("a bug in rendering")
        return render(self, recipient, **kwargs)

    monkeypatch.setattr(MessageTemplate, "render", render_then_break)
    batch = deliveries_claim(mailing_id=mailing.pk)
    result = deliveries_send(mailing=mailing, recipients=batch)  # no exception escapes
    assert (result.sent, result.retried) == (1, 2)
    statuses = dict(Delivery.objects.filter(mailing=mailing).values_list("pk", "status"))
    assert statuses == {batch[0].pk: "sent", batch[1].pk: "pending", batch[2].pk: "pending"}
    assert "a bug in rendering" in Delivery.objects.get(pk=batch[2].pk).last_error
    assert [m["To"] for m in smtp.messages] == [batch[0].email]

    monkeypatch.setattr(MessageTemplate, "render", render)
    _exhaust_retries(mailing)
    assert sorted(m["To"] for m in smtp.messages) == sorted(r.email for r in batch)
    mailing.refresh_from_db()
    assert (mailing.status, mailing.sent) == (Mailing.Status.SENT, 3)


def test_a_row_whose_worker_keeps_dying_fails_instead_of_coming_back_forever(
    smtp, mailing, settings
):
    ContactFactory(lead_score=90)
    deliveries_materialize(mailing=mailing)
    settings.SEND_LEASE_SECONDS = -1  # every claim expires at once, as if its worker died
    for attempt in range(1, settings.SEND_MAX_ATTEMPTS + 1):
        (claimed,) = deliveries_claim(mailing_id=mailing.pk)
        assert claimed.attempts == attempt
        deliveries_release_expired()
    (delivery,) = Delivery.objects.filter(mailing=mailing)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error == (
        f"Its worker stopped before a result was recorded, {settings.SEND_MAX_ATTEMPTS} times."
    )
    assert deliveries_claim(mailing_id=mailing.pk) == []
    assert mailing_finish_if_done(mailing_id=mailing.pk)
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.FAILED
