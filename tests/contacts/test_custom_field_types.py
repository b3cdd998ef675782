"""What a value of each registered custom-field type may be (contacts/custom_fields.py):
as JSON from the API, as text from a form or a CSV cell, and the messages that say
what to send instead. No database: the registry is passed in."""

from __future__ import annotations

import pytest

from contacts.custom_fields import (
    FieldType,
    WrongType,
    WrongTypes,
    as_text,
    from_json,
    from_text,
    typed_custom_fields,
)

SEATS = FieldType("seats", "number")
PLAN = FieldType("plan", "choice", ("Free", "Pro", "Team"))
TRIAL = FieldType("trial_ends", "date")
VIP = FieldType("vip", "boolean")
NOTE = FieldType("note", "text")
A_DATE = "Custom field 'trial_ends' is a date: send it as YYYY-MM-DD, e.g. 2026-03-01."
REGISTRY = {field.name.lower(): field for field in (SEATS, PLAN, TRIAL, VIP, NOTE)}


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        (SEATS, 12, 12),
        (SEATS, 4.5, 4.5),
        (PLAN, "pro", "Pro"),  # the option's own spelling
        (PLAN, " TEAM ", "Team"),
        (TRIAL, "2026-03-01", "2026-03-01"),
        (VIP, False, False),
        (NOTE, "anything", "anything"),
        (SEATS, None, None),  # no value fits every type
    ],
)
def test_a_json_value_of_the_right_type_is_stored_in_its_form(field, value, stored):
    assert from_json(field, value) == stored


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (SEATS, "12", "Custom field 'seats' is a number: send it without quotes, e.g. 12."),
        (SEATS, True, "Custom field 'seats' is a number: send it without quotes, e.g. 12."),
        (SEATS, float("inf"), "Custom field 'seats' must be a finite number."),
        (SEATS, 10**15, "Custom field 'seats' is too large a number."),
        (PLAN, "Enterprise", "Custom field 'plan' must be one of: Free, Pro, Team."),
        (PLAN, 3, "Custom field 'plan' must be one of: Free, Pro, Team."),
        (TRIAL, "2026-02-30", A_DATE),
        (TRIAL, "01/03/2026", A_DATE),
        (TRIAL, "2026-03-01T10:00:00Z", A_DATE),
        (VIP, "yes", "Custom field 'vip' is yes/no: send true or false."),
        (NOTE, 5, "Custom field 'note' is text: send it as a string, in quotes."),
    ],
)  # fmt: skip
def test_a_json_value_of_another_type_says_what_to_send(field, value, message):
    with pytest.raises(WrongType) as exc:
        from_json(field, value)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        (SEATS, "12", 12),
        (SEATS, " 4.50 ", 4.5),
        (SEATS, "-3", -3),
        (SEATS, "1e3", 1000),
        (VIP, "Yes", True),
        (VIP, "0", False),
        (VIP, "off", False),
        (PLAN, "free", "Free"),
        (TRIAL, "2026-12-31", "2026-12-31"),
        (NOTE, "  spaced  ", "spaced"),
        (SEATS, "   ", None),  # a blank cell is no value
    ],
)
def test_text_from_a_form_or_a_csv_cell_reads_as_the_type(field, text, value):
    assert from_text(field, text) == value
    assert type(from_text(field, text)) is type(value)


@pytest.mark.parametrize(
    ("field", "text"), [(SEATS, "twelve"), (SEATS, "1,5"), (VIP, "maybe"), (TRIAL, "soon")]
)
def test_text_that_is_not_the_type_is_refused(field, text):
    with pytest.raises(WrongType, match=field.name):
        from_text(field, text)


@pytest.mark.parametrize(
    ("field", "value"), [(SEATS, 12), (VIP, True), (VIP, False), (PLAN, "Pro"), (SEATS, None)]
)
def test_a_stored_value_shown_as_text_reads_back_as_itself(field, value):
    assert from_text(field, as_text(field, value)) == value


def test_unregistered_keys_pass_as_they_are_and_registered_ones_are_typed():
    values = {"seats": 3, "plan": "team", "colour": ["any", "thing"], "other": "x"}
    assert typed_custom_fields(values, REGISTRY) == {
        "seats": 3,
        "plan": "Team",
        "colour": ["any", "thing"],
        "other": "x",
    }


def test_every_bad_value_is_reported_by_its_field():
    with pytest.raises(WrongTypes) as exc:
        typed_custom_fields({"seats": "many", "vip": 1, "note": "fine"}, REGISTRY)
    assert set(exc.value.problems) == {"seats", "vip"}


def test_a_key_that_differs_from_a_registered_name_only_in_case_is_refused():
    with pytest.raises(WrongTypes) as exc:
        typed_custom_fields({"Seats": 3}, REGISTRY)
    assert exc.value.problems == {
        "Seats": "Custom field 'Seats' is registered as 'seats'; use that name."
    }
