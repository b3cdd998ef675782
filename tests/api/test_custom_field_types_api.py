"""Registered custom fields through the API: every write checks the value's type
(create, bulk upsert, PATCH), says what to send, and stores the typed form."""

from __future__ import annotations

import pytest

from contacts.models import Contact, CustomField
from tests.api.conftest import errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def registry():
    CustomField.objects.create(name="seats", type="number")
    CustomField.objects.create(name="plan", type="choice", options=["Free", "Pro"])
    CustomField.objects.create(name="trial_ends", type="date")


def test_values_of_the_registered_types_are_stored_in_their_form(api):
    response = api.post(
        "/api/contacts",
        {
            "email": "ann@example.com",
            "custom_fields": {"seats": 12, "plan": "pro", "trial_ends": "2026-03-01", "x": "y"},
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["custom_fields"] == {
        "seats": 12,
        "plan": "Pro",
        "trial_ends": "2026-03-01",
        "x": "y",  # not registered: as it came
    }


def test_a_value_of_the_wrong_type_is_a_400_at_its_field(api):
    response = api.post(
        "/api/contacts",
        {"email": "ann@example.com", "custom_fields": {"seats": "12", "plan": "Gold"}},
        format="json",
    )
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "custom_fields.seats",
            "message": "Custom field 'seats' is a number: send it without quotes, e.g. 12.",
        },
        {"path": "custom_fields.plan", "message": "Custom field 'plan' must be one of: Free, Pro."},
    ]
    assert not Contact.objects.exists()


def test_a_bulk_upsert_rejects_only_the_items_with_a_wrong_type(api):
    response = api.post(
        "/api/contacts",
        [
            {"email": "ok@example.com", "custom_fields": {"seats": 3}},
            {"email": "bad@example.com", "custom_fields": {"trial_ends": "next week"}},
        ],
        format="json",
    )
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["results"][1]["errors"] == [
        {
            "path": "[1].custom_fields.trial_ends",
            "message": "Custom field 'trial_ends' is a date: send it as YYYY-MM-DD, "
            "e.g. 2026-03-01.",
        }
    ]
    assert list(Contact.objects.values_list("email", flat=True)) == ["ok@example.com"]


def test_patch_checks_the_type_and_keeps_the_stored_value_on_error(api):
    contact = Contact.objects.create(email="ann@example.com", custom_fields={"seats": 3})
    response = api.patch(
        f"/api/contacts/{contact.pk}", {"custom_fields": {"seats": True}}, format="json"
    )
    assert response.status_code == 400
    assert [e["path"] for e in errors_of(response)] == ["custom_fields.seats"]
    contact.refresh_from_db()
    assert contact.custom_fields == {"seats": 3}


def test_a_key_in_another_case_than_the_registered_name_is_refused(api):
    response = api.post(
        "/api/contacts", {"email": "ann@example.com", "custom_fields": {"Seats": 3}}, format="json"
    )
    assert errors_of(response) == [
        {
            "path": "custom_fields.Seats",
            "message": "Custom field 'Seats' is registered as 'seats'; use that name.",
        }
    ]


def test_null_clears_a_registered_field_of_any_type(api):
    response = api.post(
        "/api/contacts",
        {"email": "ann@example.com", "custom_fields": {"seats": None, "plan": None}},
        format="json",
    )
    assert response.status_code == 201
