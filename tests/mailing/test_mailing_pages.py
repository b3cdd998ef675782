"""The mailings list and a mailing's page: progress, polling, recipient filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mailing import selectors
from mailing.models import Delivery, Mailing
from mailing.selectors import mailing_progress

from ..segments.factories import SegmentFactory
from .factories import DeliveryFactory, MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment():
    return SegmentFactory(name="High")


def add_deliveries(mailing: Mailing, **counts: int) -> None:
    for status, count in counts.items():
        error = "550 5.1.1 No such user" if status == "failed" else ""
        DeliveryFactory.create_batch(count, mailing=mailing, status=status, last_error=error)


@pytest.fixture
def mailing(segment, marketer) -> Mailing:
    mailing = MailingFactory(
        segment=segment, status=Mailing.Status.SENDING, created_by=marketer,
        recipients=7, sent=3, failed=1, suppressed=1,
    )  # fmt: skip
    add_deliveries(mailing, sent=3, failed=1, suppressed=1, pending=1, sending=1)
    return mailing


def detail_url(mailing: Mailing) -> str:
    return reverse("mailing:detail", args=[mailing.pk])


def test_the_list_shows_mailings_newest_first(marketer_client, segment, mailing):
    newer = MailingFactory(segment=segment, subject="Winter news", status=Mailing.Status.SENT)
    response = marketer_client.get(reverse("mailing:list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(f'id="mailing-{newer.pk}"') < body.index(f'id="mailing-{mailing.pk}"')
    assert "Winter news" in body and "High" in body and "Sending" in body
    assert detail_url(mailing) in body
    assert f'href="{reverse("mailing:list")}"' in body  # the nav link


def test_the_list_is_empty_at_first(marketer_client):
    body = marketer_client.get(reverse("mailing:list")).content.decode()
    assert 'id="mailings-empty"' in body


def test_progress_counts_come_from_the_deliveries(mailing):
    progress = mailing_progress(mailing)
    assert (progress.sent, progress.failed, progress.suppressed, progress.pending) == (3, 1, 1, 2)
    assert progress.total == 7 and progress.done == 5


def test_the_detail_page_shows_counters_and_polls_while_sending(marketer_client, mailing):
    body = marketer_client.get(detail_url(mailing)).content.decode()
    assert '<dd id="count-sent">3</dd>' in body
    assert '<dd id="count-failed">1</dd>' in body
    assert '<dd id="count-suppressed">1</dd>' in body
    assert '<dd id="count-pending">2</dd>' in body
    assert 'class="bar-sent" style="width: 42.86%"' in body
    assert 'hx-trigger="every 2s"' in body
    assert 'id="pause"' in body and 'id="cancel"' in body and 'id="resume"' not in body
    assert 'id="delivery-table"' in body


def test_the_poll_returns_only_the_progress_fragment(marketer_client, mailing):
    response = marketer_client.get(
        detail_url(mailing), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="progress"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith('<section class="card mailing-progress" id="progress"')
    assert 'hx-trigger="every 2s"' in body
    assert 'id="delivery-table"' not in body


@pytest.mark.parametrize("status", ["sent", "cancelled", "failed"])
def test_polling_stops_once_the_mailing_has_ended(marketer_client, mailing, status):
    Mailing.objects.filter(pk=mailing.pk).update(status=status)
    # …and its last batch has recorded what it sent (tests/mailing/test_mailing_progress_view.py).
    Delivery.objects.filter(mailing=mailing, status="sending").update(status="sent")
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "progress"}):
        body = marketer_client.get(detail_url(mailing), **headers).content.decode()
        assert 'id="progress"' in body
        assert "every 2s" not in body
        assert 'id="pause"' not in body and 'id="resume"' not in body


def test_the_failed_filter_shows_failures_with_their_error(marketer_client, mailing):
    body = marketer_client.get(detail_url(mailing), {"status": "failed"}).content.decode()
    failed = Delivery.objects.get(mailing=mailing, status="failed")
    assert f'id="delivery-{failed.pk}"' in body
    assert "550 5.1.1 No such user" in body
    assert body.count('<tr id="delivery-') == 1


def test_the_suppressed_and_pending_filters(marketer_client, mailing):
    body = marketer_client.get(detail_url(mailing), {"status": "suppressed"}).content.decode()
    assert body.count('<tr id="delivery-') == 1
    body = marketer_client.get(detail_url(mailing), {"status": "pending"}).content.decode()
    assert body.count('<tr id="delivery-') == 2  # waiting and in flight


def test_a_filter_with_htmx_returns_only_the_recipient_list(marketer_client, mailing):
    response = marketer_client.get(
        detail_url(mailing),
        {"status": "sent"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="deliveries",
    )
    body = response.content.decode()
    assert body.strip().startswith('<section id="deliveries"')
    assert body.count('<tr id="delivery-') == 3
    assert 'id="progress"' not in body


def test_a_bad_filter_shows_everyone(marketer_client, mailing):
    body = marketer_client.get(detail_url(mailing), {"status": "x", "after": "y"}).content
    assert body.decode().count('<tr id="delivery-') == 7


def test_the_recipient_list_is_keyset_paged(mailing):
    page = selectors.deliveries_page(mailing, size=4)
    ids = sorted(Delivery.objects.filter(mailing=mailing).values_list("pk", flat=True))
    assert [d.pk for d in page.rows] == ids[:4] and page.next_after == ids[3]
    rest = selectors.deliveries_page(mailing, size=4, after=page.next_after)
    assert [d.pk for d in rest.rows] == ids[4:] and rest.next_after is None


def test_the_page_links_to_the_next_hundred(marketer_client):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    add_deliveries(mailing, sent=101)
    body = marketer_client.get(detail_url(mailing)).content.decode()
    assert body.count('<tr id="delivery-') == 100
    last = Delivery.objects.filter(mailing=mailing).order_by("pk")[99]
    assert f"after={last.pk}" in body
    body = marketer_client.get(detail_url(mailing), {"after": last.pk}).content.decode()
    assert body.count('<tr id="delivery-') == 1


def test_an_unknown_mailing_is_404(marketer_client):
    assert marketer_client.get(reverse("mailing:detail", args=[999999])).status_code == 404


def test_the_pages_require_login(stranger_client, mailing):
    for url in (reverse("mailing:list"), detail_url(mailing)):
        response = stranger_client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_list_shows_a_subject_with_merge_tags_readably(marketer_client):
    MailingFactory(subject='Big news for {{ company }}, {{ first_name|default:"you" }}')
    body = marketer_client.get(reverse("mailing:list")).content.decode()
    assert "Big news for ‹company›, ‹first_name›</a>" in body
    assert "{{" not in body
