from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.mailing.factories import DeliveryFactory

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_it_requires_login(stranger_client):
    contact = ContactFactory()
    response = stranger_client.get(reverse("contacts:detail", args=[contact.pk]))
    assert response.status_code == 302


def test_it_shows_fields_tags_groups_and_custom_fields(marketer_client):
    contact = ContactFactory(
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Engines Ltd",
        is_bounced=True,
        custom_fields={"plan": "pro", "seats": 3},
        tags=[TagFactory(name="vip")],
        groups=[GroupFactory(name="Board")],
    )
    response = marketer_client.get(contact.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["Ada Lovelace", "ada@example.com", "Engines Ltd", "Bounced", "vip", "Board"]:
        assert text in body
    assert "<dt>plan</dt><dd>pro</dd>" in body
    assert "<dt>seats</dt><dd>3</dd>" in body


def test_unknown_contact_is_404(marketer_client):
    assert marketer_client.get(reverse("contacts:detail", args=[999999])).status_code == 404


def test_it_rejects_post(marketer_client):
    contact = ContactFactory()
    assert marketer_client.post(contact.get_absolute_url()).status_code == 405


def test_it_lists_the_segments_the_contact_is_in_now(marketer_client, marketer):
    from segments.services import segment_create

    contact = ContactFactory(lead_score=90, company="Acme Inc")
    segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )
    segment_create(
        name="Low", filter_json=[{"field": "leadScore", "op": "lt", "value": 10}], user=marketer
    )
    body = marketer_client.get(contact.get_absolute_url()).content.decode()
    segments = body.split('id="contact-segments"')[1].split("</ul>")[0]
    assert "High" in segments and "Low" not in segments


def test_it_lists_the_mailings_sent_to_the_contact_newest_first(marketer_client):
    contact = ContactFactory()
    sent_at = timezone.now()
    DeliveryFactory(
        contact=contact, mailing__subject="Spring launch", status="sent", sent_at=sent_at
    )
    DeliveryFactory(
        contact=contact,
        mailing__subject="Summer sale",
        status="failed",
        last_error="550 no such user",
    )
    DeliveryFactory(mailing__subject="Someone else's")
    body = marketer_client.get(contact.get_absolute_url()).content.decode()
    assert body.index("Summer sale") < body.index("Spring launch")
    assert "550 no such user" in body and "Someone else" not in body
    assert sent_at.strftime("%-d %b %Y %H:%M") in body


def test_a_contact_no_mailing_reached_says_so(marketer_client):
    body = marketer_client.get(ContactFactory().get_absolute_url()).content.decode()
    assert "No mailing has been sent to this contact yet." in body


def test_the_page_links_to_edit_and_delete(marketer_client):
    contact = ContactFactory()
    body = marketer_client.get(contact.get_absolute_url()).content.decode()
    assert f'href="{reverse("contacts:edit", args=[contact.pk])}"' in body
    assert f'href="{reverse("contacts:delete", args=[contact.pk])}"' in body
