"""What a condition's value may be (docs/design.md#rule-language): each reader takes
what a builder or an integration sent and returns the canonical value, or raises
Invalid with the message shown next to the value."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

MAX_TEXT = 500
MAX_LIST = 1000
MAX_DAYS = 36_500
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)


class Invalid(Exception):
    """A value problem; the message is shown next to the value."""


def parse_timestamp(value: str) -> dt.datetime:
    """An ISO date (midnight UTC) or datetime (UTC unless it says otherwise)."""
    if _ISO_DATE.match(value):
        return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
    if not _ISO_DATETIME.match(value):
        raise ValueError(value)
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        # As UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(value) from None


def as_list(value: Any) -> list:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        # A builder's text box: "a, b, c".
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


NUL_MESSAGE = "Text cannot contain the NUL character (\\0); remove it."


def text(value: Any, label: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{label} needs text here.")
    if isinstance(value, str) and "\x00" in value:
        raise Invalid(NUL_MESSAGE)
    text = str(value).strip() if isinstance(value, str) else str(value)
    if not text:
        raise Invalid(f"Enter a value for {label}.")
    if len(text) > MAX_TEXT:
        raise Invalid(f"Keep the value under {MAX_TEXT} characters.")
    return text


def choice(value: Any, choices: tuple[str, ...], label: str) -> str:
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    raise Invalid(f"{label} must be one of: {', '.join(choices)}.")


def whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    return None


def whole_number_0_100(value: Any, label: str) -> int:
    number = whole_number(value)
    if number is None or not 0 <= number <= 100:
        raise Invalid(f"{label} needs a whole number between 0 and 100.")
    return number


def days(value: Any) -> int:
    number = whole_number(value)
    if number is None or not 0 <= number <= MAX_DAYS:
        raise Invalid(f"Enter a whole number of days between 0 and {MAX_DAYS}.")
    return number


def timestamp_text(value: Any) -> str:
    if isinstance(value, str):
        text = value.strip()
        try:
            parse_timestamp(text)
        except ValueError:
            pass
        else:
            return text
    raise Invalid("Enter a date as YYYY-MM-DD (or a date and time, e.g. 2026-01-31T09:00:00Z).")


def boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise Invalid(f"{label} needs true or false.")


def number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise Invalid("Enter a number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if number == number and abs(number) != float("inf"):
                return int(number) if number.is_integer() and "." not in value else number
    raise Invalid("Enter a number.")


def custom_scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and (value != value or abs(value) == float("inf")):
            raise Invalid("Enter a number, text or true/false.")
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise Invalid("Enter a value.")
        if "\x00" in text:
            raise Invalid(NUL_MESSAGE)
        if len(text) > MAX_TEXT:
            raise Invalid(f"Keep the value under {MAX_TEXT} characters.")
        return text
    raise Invalid("Enter a number, text or true/false.")


def segment_id(value: Any) -> int:
    number = whole_number(value)
    if number is None or number < 1:
        raise Invalid("Choose a segment.")
    return number
