"""The admin's contact form stores custom-field names as rules read them (issue 14,
point 23): Contact.full_clean() strips them and refuses names that then collide."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from contacts.models import Contact

from .factories import ContactFactory

pytestmark = pytest.mark.django_db


def change_custom_fields(client, contact: Contact, text: str):
    return client.post(
        reverse("admin:contacts_contact_change", args=[contact.pk]),
        {
            "email": contact.email,
            "lead_score": str(contact.lead_score),
            "lifecycle_stage": contact.lifecycle_stage,
            "custom_fields": text,
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
            "contacttag_set-TOTAL_FORMS": "0",
            "contacttag_set-INITIAL_FORMS": "0",
            "groupmembership_set-TOTAL_FORMS": "0",
            "groupmembership_set-INITIAL_FORMS": "0",
        },
    )


def test_the_admin_saves_custom_field_names_without_outer_spaces(admin_client_):
    contact = ContactFactory(custom_fields={})
    response = change_custom_fields(admin_client_, contact, '{" plan ": "pro", "seats ": 5}')
    assert response.status_code == 302
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"plan": "pro", "seats": 5}


def test_the_admin_refuses_names_that_are_one_once_stripped_and_keeps_the_text(admin_client_):
    contact = ContactFactory(custom_fields={"plan": "free"})
    text = '{"plan": "pro", " plan ": "team"}'
    response = change_custom_fields(admin_client_, contact, text)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["custom_fields"] == [
        "Custom fields 'plan' and ' plan ' are the same name once the spaces around it "
        "are removed; keep only one of them."
    ]
    assert json.loads(form["custom_fields"].value()) == json.loads(text)  # shown again, indented
    assert Contact.objects.get(pk=contact.pk).custom_fields == {"plan": "free"}
