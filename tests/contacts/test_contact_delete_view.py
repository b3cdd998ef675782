"""/contacts/<id>/delete: asked first, then the contact goes with its links."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import Contact, ContactTag

from .factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_the_page_asks_before_deleting(marketer_client):
    contact = ContactFactory(email="ann@example.com")
    body = marketer_client.get(reverse("contacts:delete", args=[contact.pk])).content.decode()
    assert "Delete ann@example.com?" in body
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_posting_deletes_the_contact_and_its_tags(marketer_client):
    contact = ContactFactory(tags=[TagFactory(name="vip")])
    response = marketer_client.post(reverse("contacts:delete", args=[contact.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:list")
    assert not Contact.objects.exists()
    assert not ContactTag.objects.exists()


def test_an_unknown_contact_is_404(marketer_client):
    assert marketer_client.post(reverse("contacts:delete", args=[999999])).status_code == 404
