from __future__ import annotations

import pytest
from django.urls import reverse

from mailing.models import Delivery, Mailing
from segments.services import segment_create

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_mailings_and_deliveries(admin_client_, admin):
    segment = segment_create(
        name="All", filter_json=[{"field": "leadScore", "op": "gte", "value": 0}], user=admin
    )
    mailing = Mailing.objects.create(
        segment=segment, subject="Spring news", body="x", from_email="a@b.c"
    )
    contact = ContactFactory(email="reader@example.com")
    Delivery.objects.create(mailing=mailing, contact=contact, email=contact.email)
    mailings = admin_client_.get(reverse("admin:mailing_mailing_changelist"))
    assert b"Spring news" in mailings.content
    deliveries = admin_client_.get(
        reverse("admin:mailing_delivery_changelist"), {"status": "pending"}
    )
    assert b"reader@example.com" in deliveries.content


@pytest.mark.parametrize(
    ("status", "deletable"),
    [("queued", False), ("sending", False), ("paused", False), ("sent", True), ("cancelled", True)],
)
def test_a_mailing_in_flight_cannot_be_deleted_in_admin(admin_client_, status, deletable):
    mailing = Mailing.objects.create(subject="News", body="x", from_email="a@b.c", status=status)
    contact = ContactFactory()
    Delivery.objects.create(mailing=mailing, contact=contact, email=contact.email)
    url = reverse("admin:mailing_mailing_delete", args=[mailing.pk])
    response = admin_client_.post(url, {"post": "yes"})
    assert response.status_code == (302 if deletable else 403)
    assert Mailing.objects.filter(pk=mailing.pk).exists() is not deletable
    assert Delivery.objects.filter(mailing_id=mailing.pk).exists() is not deletable
