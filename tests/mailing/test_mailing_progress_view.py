"""The progress of a mailing after Pause or Cancel: refreshed until the counts are final."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from mailing.models import Delivery, Mailing
from mailing.sending import mailing_finish_if_done

from .factories import DeliveryFactory, MailingFactory

pytestmark = pytest.mark.django_db

POLL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "progress"}


@pytest.fixture
def mailing(marketer) -> Mailing:
    return MailingFactory(status=Mailing.Status.SENDING, created_by=marketer)


def deliveries(mailing: Mailing, status: str, count: int, **fields) -> None:
    DeliveryFactory.create_batch(count, mailing=mailing, status=status, **fields)


def poll(client, mailing: Mailing):
    return client.get(reverse("mailing:detail", args=[mailing.pk]), **POLL)


def test_after_a_cancel_the_page_refreshes_until_no_worker_holds_a_claim(marketer_client, mailing):
    deliveries(mailing, "sent", 2)
    deliveries(mailing, "sending", 3)  # a batch was in flight at the click
    deliveries(mailing, "pending", 5)
    response = marketer_client.post(reverse("mailing:cancel", args=[mailing.pk]), **POLL)
    body = response.content.decode()
    assert "Cancelled. No new message will start." in body
    assert 'hx-trigger="every 2s"' in body  # not final yet: keep refreshing
    assert "3 messages handed to workers are being recorded" in body
    assert "will not be sent" not in body

    # The batch stops and records what the server took: one more was sent.
    sending = Delivery.objects.filter(mailing=mailing, status="sending")
    Delivery.objects.filter(pk=sending.first().pk).update(status="sent")
    sending.update(status="pending")
    body = poll(marketer_client, mailing).content.decode()
    assert "every 2s" not in body
    assert "3 were sent before the cancel took effect. 7 will not be sent." in body
    assert '<dd id="count-sent">3</dd>' in body


def test_a_cancel_before_anything_went_out_says_so(marketer_client, mailing):
    deliveries(mailing, "pending", 4)
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.CANCELLED)
    body = poll(marketer_client, mailing).content.decode()
    assert "Nothing was sent before the cancel took effect. 4 will not be sent." in body


def test_a_paused_mailing_says_how_many_went_out_before_the_pause(marketer_client, mailing):
    deliveries(mailing, "sent", 1000)
    deliveries(mailing, "pending", 2)
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.PAUSED)
    body = poll(marketer_client, mailing).content.decode()
    assert "1,000 were sent before the pause took effect." in body


def test_each_poll_refreshes_the_recipient_list_too(marketer_client, mailing):
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.QUEUED)
    url = reverse("mailing:detail", args=[mailing.pk])
    page = marketer_client.get(url).content.decode()
    assert "The recipient list is being written." in page
    # The list listens for the event that every poll of the counters sends.
    assert 'hx-trigger="mailing-progress from:body"' in page
    response = poll(marketer_client, mailing)
    assert json.loads(response["HX-Trigger"]) == {"mailing-progress": {}}

    deliveries(mailing, "pending", 2)  # the recipients are written, sending starts
    Mailing.objects.filter(pk=mailing.pk).update(status=Mailing.Status.SENDING)
    listed = marketer_client.get(
        url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="deliveries"
    ).content.decode()
    assert "being written" not in listed
    assert len(re.findall(r'id="delivery-\d+"', listed)) == 2


def test_a_mailing_nobody_could_get_shows_why(marketer_client, mailing):
    deliveries(
        mailing, "failed", 2, attempts=5, last_error="The message could not be prepared: bad From"
    )
    assert mailing_finish_if_done(mailing_id=mailing.pk)
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.FAILED
    body = marketer_client.get(reverse("mailing:detail", args=[mailing.pk])).content.decode()
    assert "Not one message could be sent: The message could not be prepared: bad From" in body
    assert "every 2s" not in body
