"""Stop announcements (mailing.stops) against real Redis, and a batch that hears one."""

from __future__ import annotations

import threading
import time

import pytest

from mailing.models import Delivery, Mailing
from mailing.recipients import deliveries_claim, deliveries_materialize
from mailing.sending import deliveries_send
from mailing.stops import StopListener, announce_stop

from ..contacts.factories import ContactFactory
from ..segments.factories import HIGH_SCORE
from .factories import MailingFactory
from .worker import SlowSmtpServer

pytestmark = pytest.mark.django_db


def test_a_listener_hears_a_stop_of_its_own_mailing_only():
    mine, other = StopListener(41), StopListener(42)
    try:
        assert not mine.heard() and not other.heard()
        announce_stop(41)
        assert _heard_soon(mine)
        assert mine.heard()  # and keeps saying so
        assert not other.heard()
    finally:
        mine.close()
        other.close()


def test_a_stop_announced_before_subscribing_is_not_heard():
    """The batch reads the status once after subscribing, which covers this case."""
    announce_stop(43)
    listener = StopListener(43)
    try:
        assert not listener.heard()
    finally:
        listener.close()


def test_without_redis_a_listener_hears_nothing_and_announcing_does_not_raise(settings, caplog):
    settings.SEND_JOURNAL_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    listener = StopListener(44)
    assert not listener.heard()
    listener.close()
    announce_stop(44)
    assert "stop announcements unavailable" in caplog.text
    assert "stop not announced" in caplog.text


def _heard_soon(listener: StopListener, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not listener.heard():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def mailing(marketer):
    return MailingFactory(
        segment__filter_json=HIGH_SCORE, status=Mailing.Status.QUEUED, created_by=marketer
    )


def test_a_batch_stops_between_two_messages_when_a_stop_is_announced(mailing, settings):
    """Not a second later: the status alone is read only once a second."""
    ContactFactory.create_batch(30, lead_score=90)
    deliveries_materialize(mailing=mailing)
    with SlowSmtpServer(delay=0.05) as server:  # 20 messages a second
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False
        batch = deliveries_claim(mailing_id=mailing.pk, size=30)
        at_stop: list[int] = []

        def stop_after_five() -> None:
            while len(server.recorder.messages) < 5:
                time.sleep(0.005)
            at_stop.append(len(server.recorder.messages))
            announce_stop(mailing.pk)  # the status stays `sending`: only the announcement

        stopper = threading.Thread(target=stop_after_five)
        stopper.start()
        result = deliveries_send(mailing=mailing, recipients=batch)
        stopper.join()
    # At most the messages in flight: one being answered, one whose envelope went out.
    assert result.sent == len(server.recorder.messages) <= at_stop[0] + 2
    rest = Delivery.objects.filter(mailing=mailing, status=Delivery.Status.PENDING)
    assert rest.count() == 30 - result.sent  # handed back, claimable again
