"""Typed custom fields: what a value of each registered type may be.

A registered field (`CustomField`) gives a name in `Contact.custom_fields` a type;
every writer checks values against it through `typed_custom_fields`, with the
registry read once per write (`custom_field_types()` in selectors). Keys nobody
registered are stored as they come (docs/design.md#custom-fields). Pure functions:
no database here.

Values come in two ways: as JSON (the API: a number is a number) and as text (a
form, a CSV cell: "12" is the number 12). Each way has its reader; both give the
value as it is stored: text as a string, a number as a JSON number, a date as
"YYYY-MM-DD", yes/no as a boolean, a choice as the option's own spelling.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

TEXT, NUMBER, DATE, BOOLEAN, CHOICE = "text", "number", "date", "boolean", "choice"

# Whole numbers beyond this lose digits when compared as doubles (as rules do).
MAX_NUMBER = 10**15

_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CONTROL_CHARACTER = re.compile("[\x00-\x1f]")


@dataclass(frozen=True)
class FieldType:
    """One registered field as the checks need it."""

    name: str
    type: str
    options: tuple[str, ...] = ()


# The registry keyed by the lower-case name: a key that differs only in case from a
# registered name is an error (it would be a second, unchecked field to the rules).
FieldTypes = Mapping[str, FieldType]


class WrongType(ValueError):
    """A value the field's type does not take; the message says what to send."""


def typed_custom_fields(values: dict, types: FieldTypes) -> dict:
    """`values` (names already stripped) with each registered field's value checked
    and stored in its type's form. Raises WrongTypes listing every bad value."""
    if not types:
        return values
    clean = {}
    problems: dict[str, str] = {}
    for name, value in values.items():
        field = types.get(name.lower())
        if field is None:
            clean[name] = value
        elif field.name != name:
            problems[name] = (
                f"Custom field '{name}' is registered as '{field.name}'; use that name."
            )
        else:
            try:
                clean[name] = from_json(field, value)
            except WrongType as exc:
                problems[name] = str(exc)
    if problems:
        raise WrongTypes(problems)
    return clean


class WrongTypes(ValueError):
    def __init__(self, problems: dict[str, str]):
        self.problems = problems  # by field name
        super().__init__("; ".join(problems.values()))


def from_json(field: FieldType, value: Any) -> Any:
    """A JSON value for this field, as stored; None (no value) fits every type."""
    if value is None:
        return None
    name = field.name
    if field.type == TEXT:
        if isinstance(value, str):
            return value
        raise WrongType(f"Custom field '{name}' is text: send it as a string, in quotes.")
    if field.type == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WrongType(f"Custom field '{name}' is a number: send it without quotes, e.g. 12.")
        return _checked_number(field, value)
    if field.type == DATE:
        if isinstance(value, str):
            return _date(field, value)
        raise WrongType(_date_message(field))
    if field.type == BOOLEAN:
        if isinstance(value, bool):
            return value
        raise WrongType(f"Custom field '{name}' is yes/no: send true or false.")
    if field.type == CHOICE:
        if isinstance(value, str):
            return _choice(field, value)
        raise WrongType(_choice_message(field))
    raise WrongType(f"Custom field '{name}' has an unknown type '{field.type}'.")


def from_text(field: FieldType, text: str) -> Any:
    """What typed text (a form field, a CSV cell) means for this field; blank is None."""
    text = text.strip()
    if not text:
        return None
    if field.type == NUMBER:
        if not _NUMBER.fullmatch(text):
            raise WrongType(f"Custom field '{field.name}' is a number: enter one, e.g. 12 or 4.5.")
        number = float(text)
        return _checked_number(field, int(number) if number.is_integer() else number)
    if field.type == BOOLEAN:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise WrongType(f"Custom field '{field.name}' is yes/no: enter yes or no.")
    return from_json(field, text)


def as_text(field: FieldType, value: Any) -> str:
    """A stored value as a form field shows it (the reverse of from_text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _checked_number(field: FieldType, value: int | float) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise WrongType(f"Custom field '{field.name}' must be a finite number.")
    if abs(value) >= MAX_NUMBER:
        raise WrongType(f"Custom field '{field.name}' is too large a number.")
    return value


def _date_message(field: FieldType) -> str:
    return f"Custom field '{field.name}' is a date: send it as YYYY-MM-DD, e.g. 2026-03-01."


def _date(field: FieldType, text: str) -> str:
    text = text.strip()
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise WrongType(_date_message(field))


def _choice_message(field: FieldType) -> str:
    return f"Custom field '{field.name}' must be one of: {', '.join(field.options)}."


def _choice(field: FieldType, text: str) -> str:
    wanted = text.strip().lower()
    for option in field.options:
        if option.lower() == wanted:
            return option
    raise WrongType(_choice_message(field))


def normalise_custom_fields(value) -> dict:
    """Custom fields with the spaces around each name removed, or a ValidationError.

    The one rule for every writer (API, admin, services): rules name a field as
    `customField:plan` and the parser strips that name, so a field stored as
    " plan " could never be matched. Two names that are one once stripped
    ("plan" and " plan ") are an error, not a silent choice between their values.
    """
    if not isinstance(value, dict):
        raise ValidationError("Custom fields must be an object of name: value pairs.")
    clean: dict = {}
    given: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not name.strip() or CONTROL_CHARACTER.search(name):
            raise ValidationError(f"Custom field name {name!r} is empty or has control characters.")
        stripped = name.strip()
        if stripped in clean:
            raise ValidationError(
                f"Custom fields {given[stripped]!r} and {name!r} are the same name once the "
                "spaces around it are removed; keep only one of them."
            )
        if isinstance(item, dict | list):
            raise ValidationError(
                f"Custom field '{stripped}' must be text, a number, true/false or a date, "
                "not a list."
            )
        clean[stripped], given[stripped] = item, name
    return clean


def validate_custom_fields(value) -> None:
    """An object of name → string, number, boolean or null (docs/design.md#custom-fields),
    whose names stay distinct once stripped (Contact.clean_fields() strips them)."""
    normalise_custom_fields(value)
