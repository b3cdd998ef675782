"""GET /api/mailings and GET /api/mailings/{id}: status and counters."""

from __future__ import annotations

import pytest

from mailing.models import Mailing
from tests.api.conftest import errors_of
from tests.mailing.factories import DeliveryFactory, MailingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailing(marketer):
    mailing = MailingFactory(
        subject="Hi", status=Mailing.Status.SENDING, recipients=4, sent=1, created_by=marketer
    )
    for status in ["sent", "sent", "failed", "pending"]:
        DeliveryFactory(mailing=mailing, status=status)
    return mailing


def test_the_list_shows_status_and_counters(api, mailing):
    response = api.get("/api/mailings")
    assert response.status_code == 200
    (row,) = response.json()
    assert row["id"] == mailing.pk
    assert row["status"] == "sending"
    assert row["segment_id"] == mailing.segment_id
    assert (row["recipients"], row["sent"], row["pending"]) == (4, 1, 3)  # the running totals
    assert response["X-Total-Count"] == "1"


def test_one_mailing_counts_from_its_deliveries(api, mailing):
    response = api.get(f"/api/mailings/{mailing.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["sent"], body["failed"], body["suppressed"], body["pending"]) == (2, 1, 0, 1)
    assert body["subject"] == "Hi"


def test_an_unknown_mailing_is_a_404(api):
    response = api.get("/api/mailings/31337")
    assert response.status_code == 404
    assert errors_of(response) == [{"path": "", "message": "There is no mailing with id 31337."}]


def test_mailings_are_read_only(api, mailing):
    assert api.post("/api/mailings", {}, format="json").status_code == 405
    assert api.delete(f"/api/mailings/{mailing.pk}").status_code == 405
