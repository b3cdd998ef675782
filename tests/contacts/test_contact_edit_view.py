"""/contacts/new and /contacts/<id>/edit: one contact typed in the dashboard, checked
by the same rules as the API's (contact_clean), with typed custom fields (issue 16.1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import Contact, CustomField

from .factories import ContactFactory, GroupFactory, TagFactory

pytestmark = pytest.mark.django_db

NEW = reverse("contacts:new")


def form_data(**changes) -> dict:
    data = {
        "email": "ann@example.com",
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Acme",
        "job_title": "",
        "country": "",
        "city": "",
        "source": "dashboard",
        "lifecycle_stage": "lead",
        "lead_score": "40",
        "tags": "",
        "new_field_name": "",
        "new_field_value": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_it_requires_login(stranger_client):
    assert stranger_client.get(NEW).status_code == 302


def test_adding_a_contact_stores_every_field_with_tags_and_groups(marketer_client):
    TagFactory(name="VIP")
    board = GroupFactory(name="Board")
    response = marketer_client.post(
        NEW, form_data(tags="vip, new-tag, ", groups=["Board"], city="Oslo")
    )
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == contact.get_absolute_url()
    assert (contact.email, contact.full_name, contact.company) == (
        "ann@example.com",
        "Ann Lee",
        "Acme",
    )
    assert (contact.city, contact.source, contact.lead_score) == ("Oslo", "dashboard", 40)
    assert contact.lifecycle_stage == "lead"
    assert sorted(t.name for t in contact.tags.all()) == ["VIP", "new-tag"]  # "vip" is VIP
    assert list(contact.groups.all()) == [board]


def test_an_email_another_contact_has_is_refused_at_the_email_field(marketer_client):
    ContactFactory(email="Ann@Example.com")
    response = marketer_client.post(NEW, form_data(company="Typed Corp"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Another contact already has this email." in body
    assert 'value="Typed Corp"' in body  # what was typed is kept
    assert Contact.objects.count() == 1


def test_contact_cleans_errors_are_shown_next_to_their_fields(marketer_client):
    response = marketer_client.post(NEW, form_data(email="not-an-email", lead_score="300"))
    body = response.content.decode()
    assert "&#x27;not-an-email&#x27; is not a valid email address." in body
    assert 'id="error-lead_score"' in body
    assert not Contact.objects.exists()


def test_registered_custom_fields_get_a_widget_of_their_type(marketer_client):
    CustomField.objects.create(name="seats", label="Seats", type="number")
    CustomField.objects.create(name="trial_ends", type="date")
    CustomField.objects.create(name="vip", type="boolean")
    CustomField.objects.create(name="plan", type="choice", options=["Free", "Pro"])
    body = marketer_client.get(NEW).content.decode()
    assert 'type="number" name="custom:seats"' in body
    assert 'type="date" name="custom:trial_ends"' in body
    assert '<option value="yes">Yes</option>' in body
    assert '<option value="Pro">Pro</option>' in body


def test_custom_values_are_stored_in_their_type_and_a_blank_one_is_left_out(marketer_client):
    CustomField.objects.create(name="seats", type="number")
    CustomField.objects.create(name="vip", type="boolean")
    CustomField.objects.create(name="plan", type="choice", options=["Free", "Pro"])
    data = form_data(**{"custom:seats": "12", "custom:vip": "no", "custom:plan": ""})
    data.update(new_field_name="colour", new_field_value="teal")
    marketer_client.post(NEW, data)
    assert Contact.objects.get().custom_fields == {"seats": 12, "vip": False, "colour": "teal"}


def test_a_custom_value_of_the_wrong_type_is_refused_at_its_field(marketer_client):
    CustomField.objects.create(name="seats", type="number")
    response = marketer_client.post(NEW, form_data(**{"custom:seats": "a dozen"}))
    body = response.content.decode()
    assert 'id="error-custom:seats"' in body
    assert "Custom field &#x27;seats&#x27; is a number: enter one, e.g. 12 or 4.5." in body
    assert 'value="a dozen"' in body
    assert not Contact.objects.exists()


def test_a_new_field_with_a_registered_name_is_typed_too(marketer_client):
    CustomField.objects.create(name="seats", type="number")
    response = marketer_client.post(
        NEW, form_data(**{"custom:seats": "", "new_field_name": "seats", "new_field_value": "x"})
    )
    assert 'id="error-new_field_value"' in response.content.decode()
    assert not Contact.objects.exists()


def test_editing_shows_the_stored_values_and_saves_the_changes(marketer_client):
    contact = ContactFactory(
        email="ann@example.com", company="Acme", tags=[TagFactory(name="vip")], lead_score=10
    )
    url = reverse("contacts:edit", args=[contact.pk])
    page = marketer_client.get(url).content.decode()
    assert 'value="Acme"' in page and 'value="vip"' in page
    response = marketer_client.post(url, form_data(company="Globex", tags="", lead_score="55"))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.company, contact.lead_score) == ("Globex", 55)
    assert not contact.tags.exists()  # the tags become exactly those typed


def test_unregistered_values_keep_their_json_type_unless_their_text_changes(marketer_client):
    contact = ContactFactory(custom_fields={"seats": 12, "beta": True, "note": "hi", "old": "x"})
    url = reverse("contacts:edit", args=[contact.pk])
    data = form_data(
        email=contact.email,
        **{"custom:seats": "12", "custom:beta": "yes", "custom:note": "hello", "custom:old": ""},
    )
    assert marketer_client.post(url, data).status_code == 302
    contact.refresh_from_db()
    assert contact.custom_fields == {"seats": 12, "beta": True, "note": "hello"}


def test_unsubscribing_is_asked_first_and_saved_on_confirmation(marketer_client):
    contact = ContactFactory(email="ann@example.com", company="Acme")
    url = reverse("contacts:edit", args=[contact.pk])
    response = marketer_client.post(url, form_data(is_unsubscribed="on", company="Globex"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Saving will mark it unsubscribed." in body
    assert 'value="Globex"' in body
    contact.refresh_from_db()
    assert (contact.is_unsubscribed, contact.company) == (False, "Acme")
    confirmed = form_data(is_unsubscribed="on", company="Globex", confirm_status="1")
    assert marketer_client.post(url, confirmed).status_code == 302
    contact.refresh_from_db()
    assert (contact.is_unsubscribed, contact.company) == (True, "Globex")


def test_clearing_a_bounce_is_asked_first_too(marketer_client):
    contact = ContactFactory(email="ann@example.com", is_bounced=True)
    url = reverse("contacts:edit", args=[contact.pk])
    body = marketer_client.post(url, form_data()).content.decode()
    assert "Saving will clear its bounced mark." in body
    assert "This contact will receive mailings again." in body


def test_a_save_that_leaves_the_status_alone_asks_nothing(marketer_client):
    contact = ContactFactory(email="ann@example.com", is_unsubscribed=True)
    url = reverse("contacts:edit", args=[contact.pk])
    assert marketer_client.post(url, form_data(is_unsubscribed="on")).status_code == 302


def test_an_unknown_contact_is_404(marketer_client):
    assert marketer_client.get(reverse("contacts:edit", args=[999999])).status_code == 404


def test_a_save_without_changes_keeps_a_tag_whose_name_has_a_comma(marketer_client):
    contact = ContactFactory(email="ann@example.com", tags=[TagFactory(name="Q1, 2026")])
    url = reverse("contacts:edit", args=[contact.pk])
    assert marketer_client.post(url, form_data(tags="Q1, 2026")).status_code == 302
    assert [tag.name for tag in contact.tags.all()] == ["Q1, 2026"]


def test_a_stored_choice_that_is_no_exact_option_is_not_dropped_by_a_save(marketer_client):
    CustomField.objects.create(name="plan", type="choice", options=["Pro", "Free"])
    contact = ContactFactory(email="ann@example.com", custom_fields={"plan": "pro"})
    url = reverse("contacts:edit", args=[contact.pk])
    assert '<option value="pro" selected>pro</option>' in marketer_client.get(url).content.decode()
    assert marketer_client.post(url, form_data(**{"custom:plan": "pro"})).status_code == 302
    contact.refresh_from_db()
    assert contact.custom_fields == {"plan": "Pro"}  # read as the option it is
