"""/contacts/fields/: the registry of custom fields in the dashboard (issue 16.2)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import CustomField

from .factories import ContactFactory

pytestmark = pytest.mark.django_db

FIELDS = reverse("contacts:fields")


def _field(**kwargs) -> CustomField:
    return CustomField.objects.create(
        **{"name": "seats", "label": "Seats", "type": "number", **kwargs}
    )


def test_it_requires_login(stranger_client):
    response = stranger_client.get(FIELDS)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_it_lists_the_registered_fields_with_their_type_and_options(marketer_client):
    _field()
    _field(name="plan", label="Plan", type="choice", options=["Free", "Pro"])
    body = marketer_client.get(FIELDS).content.decode()
    assert "<code>plan</code>" in body and "Free, Pro" in body
    assert "<code>seats</code>" in body and "Number" in body


def test_an_empty_registry_says_that_custom_fields_take_any_value(marketer_client):
    assert "custom fields take any value" in marketer_client.get(FIELDS).content.decode()


def test_registering_a_choice_keeps_its_options_once_each_in_order(marketer_client):
    response = marketer_client.post(
        FIELDS,
        {"name": " plan ", "label": "", "type": "choice", "options": "Pro\n\nfree\nPRO\nTeam"},
    )
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert (field.name, field.label, field.type) == ("plan", "plan", "choice")
    assert field.options == ["Pro", "free", "Team"]
    followed = marketer_client.get(FIELDS).content.decode()
    assert "Registered “plan” (Choice)." in followed


def test_a_choice_without_options_is_refused_and_what_was_typed_is_kept(marketer_client):
    response = marketer_client.post(FIELDS, {"name": "plan", "label": "Plan", "type": "choice"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "A choice needs its options: one per line." in body
    assert 'value="plan"' in body
    assert not CustomField.objects.exists()


def test_options_of_another_type_are_dropped(marketer_client):
    marketer_client.post(FIELDS, {"name": "seats", "type": "number", "options": "a\nb"})
    assert CustomField.objects.get().options == []


def test_a_name_taken_in_another_case_is_refused(marketer_client):
    _field()
    response = marketer_client.post(FIELDS, {"name": "SEATS", "type": "text"})
    assert "There is a field with this name already" in response.content.decode()
    assert CustomField.objects.count() == 1


def test_a_name_with_control_characters_is_refused(marketer_client):
    response = marketer_client.post(FIELDS, {"name": "se\x07ats", "type": "text"})
    assert "cannot have control characters" in response.content.decode()
    assert not CustomField.objects.exists()


def test_registering_a_type_that_stored_values_do_not_fit_names_them(marketer_client):
    ContactFactory(email="ann@example.com", custom_fields={"seats": "twelve"})
    ContactFactory(email="bob@example.com", custom_fields={"seats": 12})
    ContactFactory(email="cy@example.com", custom_fields={"seats": None})
    response = marketer_client.post(FIELDS, {"name": "seats", "type": "number"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Contacts already have &#x27;seats&#x27; values that are not number" in body
    assert "ann@example.com (&quot;twelve&quot;)" in body
    assert "bob@example.com" not in body  # 12 fits, and null fits every type
    assert not CustomField.objects.exists()


@pytest.mark.parametrize(
    ("type_", "options", "fits", "misfit"),
    [
        ("date", "", "2026-03-01", "2026-02-30"),
        ("date", "", "2026-03-01", "2026-03-01T10:00:00Z"),
        ("boolean", "", True, "yes"),
        ("choice", "Free\nPro", "pro", "Enterprise"),
        ("text", "", "anything", 5),
    ],
)
def test_each_type_checks_the_values_already_stored(marketer_client, type_, options, fits, misfit):
    ContactFactory(email="fits@example.com", custom_fields={"f": fits})
    ContactFactory(email="misfit@example.com", custom_fields={"f": misfit})
    body = marketer_client.post(FIELDS, {"name": "f", "type": type_, "options": options})
    assert "misfit@example.com" in body.content.decode()
    assert "fits@example.com" not in body.content.decode()


def test_editing_changes_label_and_options_but_never_name_or_type(marketer_client):
    field = _field(name="plan", type="choice", options=["Free"])
    url = reverse("contacts:field-edit", args=[field.pk])
    page = marketer_client.get(url).content.decode()
    assert "Fixed once the field is saved." in page
    response = marketer_client.post(
        url, {"name": "other", "label": "Plan name", "type": "text", "options": "Free\nPro"}
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.name, field.label, field.type, field.options) == (
        "plan",
        "Plan name",
        "choice",
        ["Free", "Pro"],
    )


def test_deleting_asks_first_then_keeps_the_contacts_values(marketer_client):
    field = _field()
    contact = ContactFactory(custom_fields={"seats": 3})
    url = reverse("contacts:field-delete", args=[field.pk])
    page = marketer_client.get(url).content.decode()
    assert "its values stay on every contact" in page
    assert CustomField.objects.exists()
    assert marketer_client.post(url).status_code == 302
    assert not CustomField.objects.exists()
    contact.refresh_from_db()
    assert contact.custom_fields == {"seats": 3}


def test_an_unknown_field_is_404(marketer_client):
    assert marketer_client.get(reverse("contacts:field-edit", args=[999])).status_code == 404
    assert marketer_client.post(reverse("contacts:field-delete", args=[999])).status_code == 404


def test_the_contacts_list_links_to_the_registry(marketer_client):
    body = marketer_client.get(reverse("contacts:list")).content.decode()
    assert f'href="{FIELDS}"' in body


def test_registering_a_name_contacts_have_in_another_case_is_refused(marketer_client):
    ContactFactory(email="ann@example.com", custom_fields={"Plan": "pro"})
    response = marketer_client.post(FIELDS, {"name": "plan", "type": "text"})
    assert "Contacts have this field under another case: ann@example.com (Plan)." in (
        response.content.decode()
    )
    assert not CustomField.objects.exists()
