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
