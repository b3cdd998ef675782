"""One contact as a client sends it, checked and normalised before any SQL runs.

Every writer of contacts by field name (the API's create, update and upsert) goes
through `contact_clean`, so a contact is accepted or refused for the same reasons
whoever sends it, and each refusal names the field and says what to change. A bad
item is caught here rather than by PostgreSQL, where it would abort a whole batch.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils.dateparse import parse_date, parse_datetime

from .custom_fields import FieldTypes, WrongTypes, normalise_custom_fields, typed_custom_fields
from .models import Contact, CustomField

MAX_NAMES_PER_CONTACT = 100
MAX_CUSTOM_FIELDS = 100
MAX_CUSTOM_NAME = 100
MAX_CUSTOM_TEXT = 1000

TEXT_FIELDS: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "company": 200,
    "job_title": 200,
    "country": 100,
    "city": 100,
    "source": 100,
}
BOOLEAN_FIELDS = ("is_bounced", "is_unsubscribed")
WRITABLE_FIELDS = frozenset(
    {
        "email",
        *TEXT_FIELDS,
        "lead_score",
        "lifecycle_stage",
        "last_interacted_at",
        "created_at",
        *BOOLEAN_FIELDS,
        "custom_fields",
        "tags",
        "groups",
    }
)
# What the API returns but nobody writes: accepted and ignored, so that a contact
# read from the API can be sent back as it is.
READ_ONLY_FIELDS = frozenset({"id", "name", "full_name", "status", "updated_at", "soft_bounces"})


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a contact: where and what, in plain words."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class ContactInvalid(ValueError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))


def contact_clean(
    raw: Any, *, partial: bool = False, types: FieldTypes | None = None
) -> dict[str, Any]:
    """The writable fields of one contact as given, checked and normalised.

    Only the keys present come back (an update changes only those). Registered
    custom fields are checked against their type (`types`, the registry; read here
    when not given, so a caller checking many contacts reads it once). Raises
    ContactInvalid listing every problem; never anything else, whatever `raw` is.
    """
    if not isinstance(raw, dict):
        raise ContactInvalid([FieldError("", "A contact must be a JSON object.")])
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for key, value in raw.items():
        if key in READ_ONLY_FIELDS:
            continue
        if key not in WRITABLE_FIELDS:
            shown = _printable(key if len(key) <= 50 else key[:50] + "…")
            close = difflib.get_close_matches(key, sorted(WRITABLE_FIELDS), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else "."
            errors.append(FieldError(shown, f"Unknown field '{shown}'{hint}"))
            continue
        try:
            clean[key] = _CLEANERS[key](value)
        except _Invalid as exc:
            errors.append(FieldError(key, str(exc)))
    if "custom_fields" in clean:
        try:
            clean["custom_fields"] = typed_custom_fields(
                clean["custom_fields"], CustomField.registry() if types is None else types
            )
        except WrongTypes as exc:
            errors += [FieldError(f"custom_fields.{n}", m) for n, m in exc.problems.items()]
    if not partial and "email" not in raw:
        errors.append(FieldError("email", "Enter an email address."))
    if errors:
        raise ContactInvalid(errors)
    return clean


class _Invalid(ValueError):
    pass


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


# NUL, which PostgreSQL text cannot hold, and lone UTF-16 surrogates (valid JSON
# escapes, but not Unicode text that any database takes).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_text(value: str, *, max_length: int) -> str:
    bad = ("\x00" in value) if value.isascii() else UNSTORABLE.search(value)
    if bad and (bad is True or bad.group() == "\x00"):
        raise _Invalid("Text cannot contain the NUL character (\\0); remove it.")
    if bad:
        raise _Invalid("This text is not valid Unicode; remove the broken characters.")
    value = value.strip()
    if len(value) > max_length:
        raise _Invalid(f"Keep this under {max_length + 1} characters (it has {len(value)}).")
    return value


# Django's email validator, with the check of each domain remembered: an import
# checks a million addresses of a few thousand domains, and the domain's regular
# expression is most of the cost (12 µs an address before, 2 µs after).
_USER_PART = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)


@functools.lru_cache(maxsize=4096)
def _valid_domain(domain: str) -> bool:
    return domain in validate_email.domain_allowlist or validate_email.validate_domain_part(domain)


def valid_email(value: str) -> bool:
    """What django.core.validators.validate_email accepts."""
    if not value or "@" not in value or len(value) > 320:
        return False
    user, domain = value.rsplit("@", 1)
    return bool(_USER_PART.match(user)) and _valid_domain(domain)


def _clean_email(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("Enter an email address as text.")
    email = _check_text(value, max_length=254)
    if not email:
        raise _Invalid("Enter an email address.")
    if not valid_email(email):
        raise _Invalid(f"'{_printable(email[:100])}' is not a valid email address.")
    return email


def _text_cleaner(max_length: int):
    def clean(value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise _Invalid("Enter text here (or null).")
        return _check_text(value, max_length=max_length)

    return clean


def _clean_lead_score(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise _Invalid("Lead score needs a whole number between 0 and 100.")
    return value


_STAGES = tuple(Contact.LifecycleStage.values)


def _clean_stage(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in _STAGES:
        return value.strip().lower()
    raise _Invalid(f"Lifecycle stage must be one of: {', '.join(_STAGES)}.")


def _clean_timestamp(value: Any) -> dt.datetime:
    message = "Enter a date as YYYY-MM-DD or a date and time, e.g. 2026-01-31T09:00:00Z."
    if not isinstance(value, str) or len(value) > 40:
        raise _Invalid(message)
    text = value.strip()
    try:
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            if day is not None:
                parsed = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        if parsed is None:
            raise _Invalid(message)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise _Invalid(message) from None


def _clean_optional_timestamp(value: Any) -> dt.datetime | None:
    return None if value is None else _clean_timestamp(value)


def _clean_boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("Use true or false.")
    return value


def _clean_custom_fields(value: Any) -> dict:
    if not isinstance(value, dict):
        raise _Invalid("Custom fields must be an object of name: value pairs.")
    if len(value) > MAX_CUSTOM_FIELDS:
        raise _Invalid(f"A contact can have at most {MAX_CUSTOM_FIELDS} custom fields.")
    clean = {}
    for name, item in value.items():
        if len(name) > MAX_CUSTOM_NAME:
            raise _Invalid(f"Custom field names can have at most {MAX_CUSTOM_NAME} characters.")
        _check_text(name, max_length=MAX_CUSTOM_NAME)  # NUL, broken Unicode
        if isinstance(item, str):
            item = _check_text(item, max_length=MAX_CUSTOM_TEXT)
        elif isinstance(item, float) and not math.isfinite(item):
            raise _Invalid(f"Custom field '{_printable(name)}' must be a finite number.")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 10**15:
            # Kept exact as JSON, compared as a double: larger whole numbers lose digits.
            raise _Invalid(f"Custom field '{_printable(name)}' is too large a number.")
        clean[name] = item
    try:
        return normalise_custom_fields(clean)  # names stripped, as rules read them
    except ValidationError as exc:
        raise _Invalid(exc.messages[0]) from None


def custom_text_clean(value: str) -> str:
    """A custom field's text value as `contact_clean` keeps it, or a ValueError (for
    the import, which checks the names of its custom fields once, not every row)."""
    return _check_text(value, max_length=MAX_CUSTOM_TEXT)


def _clean_names(max_length: int, kind: str):
    def clean(value: Any) -> list[str]:
        if not isinstance(value, list):
            raise _Invalid(f"Send {kind} as a list of names.")
        if len(value) > MAX_NAMES_PER_CONTACT:
            raise _Invalid(f"A contact can have at most {MAX_NAMES_PER_CONTACT} {kind}.")
        names: dict[str, str] = {}
        for item in value:
            if not isinstance(item, str):
                raise _Invalid(f"Each of the {kind} must be a name (text).")
            name = _check_text(item, max_length=max_length)
            if not name:
                raise _Invalid(f"Names of {kind} cannot be empty.")
            names.setdefault(name.lower(), name)
        return list(names.values())

    return clean


_CLEANERS = {
    "email": _clean_email,
    **{name: _text_cleaner(length) for name, length in TEXT_FIELDS.items()},
    "lead_score": _clean_lead_score,
    "lifecycle_stage": _clean_stage,
    "last_interacted_at": _clean_optional_timestamp,
    "created_at": _clean_timestamp,
    "is_bounced": _clean_boolean,
    "is_unsubscribed": _clean_boolean,
    "custom_fields": _clean_custom_fields,
    "tags": _clean_names(100, "tags"),
    "groups": _clean_names(200, "groups"),
}
