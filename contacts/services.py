"""Writes over contacts that span rows or models; each is one set-based statement."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .models import Contact, ContactTag, Group, GroupMembership, Tag, normalise_custom_fields


def tag_get_or_create(*, name: str) -> Tag:
    """The tag with this name whatever its case ("VIP" is "vip"), created if new.

    Matches on LOWER(name), the expression of the unique index, and survives a
    concurrent create of the same name.
    """
    name = name.strip()
    same_name = Tag.objects.alias(lname=Lower("name")).filter(lname=Lower(Value(name)))
    tag = same_name.first()
    if tag is None:
        try:
            with transaction.atomic():
                tag = Tag.objects.create(name=name)
        except IntegrityError:
            tag = same_name.get()
    return tag


@transaction.atomic
def contacts_add_tag(*, contacts: QuerySet[Contact], tag_name: str) -> tuple[Tag, int]:
    """Tag every contact of the queryset (even all of a million) in one INSERT … SELECT."""
    tag = tag_get_or_create(name=tag_name)
    try:
        ids_sql, params = contacts.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # e.g. .none(): nothing to tag
        return tag, 0
    table = ContactTag._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (contact_id, tag_id) SELECT ids.contact_id, %s "
            f"FROM ({ids_sql}) AS ids(contact_id) "
            "ON CONFLICT (tag_id, contact_id) DO NOTHING",
            [tag.pk, *params],
        )
        return tag, cursor.rowcount


@transaction.atomic
def contacts_unsubscribe(*, contacts: QuerySet[Contact]) -> int:
    """Mark contacts unsubscribed; every later send leaves them out."""
    return contacts.filter(is_unsubscribed=False).update(is_unsubscribed=True)


# -- upsert by email (API, imports) ------------------------------------------------
#
# `contacts_upsert` writes a batch of up to MAX_UPSERT contacts in a fixed number of
# statements whatever the batch size: one lookup of the emails, one INSERT of the new
# contacts, one UPDATE of the existing ones, one INSERT of their tag links and one of
# their group memberships (plus a lookup/insert per kind of name). Every item is
# checked in Python first (`contact_clean`), so that a bad item is reported with its
# reason and never reaches PostgreSQL, where it would abort the whole batch.

MAX_UPSERT = 1000
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
# The columns an upsert writes, in a fixed order; bit i of an item's mask says
# whether column i was given (an update leaves the others alone).
_UPSERT_COLUMNS = (
    *TEXT_FIELDS,
    "lead_score",
    "lifecycle_stage",
    "last_interacted_at",
    "created_at",
    *BOOLEAN_FIELDS,
    "custom_fields",
)


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


def contact_clean(raw: Any, *, partial: bool = False) -> dict[str, Any]:
    """The writable fields of one contact as given, checked and normalised.

    Only the keys present come back (an update changes only those). Raises
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
    if not partial and "email" not in raw:
        errors.append(FieldError("email", "Enter an email address."))
    if errors:
        raise ContactInvalid(errors)
    return clean


class _Invalid(Exception):
    pass


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


# NUL, which PostgreSQL text cannot hold, and lone UTF-16 surrogates (valid JSON
# escapes, but not Unicode text that any database takes).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_text(value: str, *, max_length: int) -> str:
    bad = ("\x00" in value) if value.isascii() else _UNSTORABLE.search(value)
    if bad and (bad is True or bad.group() == "\x00"):
        raise _Invalid("Text cannot contain the NUL character (\\0); remove it.")
    if bad:
        raise _Invalid("This text is not valid Unicode; remove the broken characters.")
    value = value.strip()
    if len(value) > max_length:
        raise _Invalid(f"Keep this under {max_length + 1} characters (it has {len(value)}).")
    return value


def _clean_email(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("Enter an email address as text.")
    email = _check_text(value, max_length=254)
    if not email:
        raise _Invalid("Enter an email address.")
    try:
        validate_email(email)
    except ValidationError:
        raise _Invalid(f"'{_printable(email[:100])}' is not a valid email address.") from None
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


@dataclass(frozen=True)
class UpsertResult:
    index: int
    status: str  # created, updated or rejected
    id: int | None = None
    email: str | None = None
    errors: tuple[FieldError, ...] = ()


def names_to_ids(model: type[Tag] | type[Group], names: Iterable[str]) -> dict[str, int]:
    """Ids of the tags or groups with these names (any case), creating those missing.

    Keyed by the lower-case name. Two statements at most, whatever the number of
    names, and a concurrent create of the same name is not an error.
    """
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(name.lower(), name)
    if not wanted:
        return {}
    table = model._meta.db_table
    spellings = list(wanted.values())
    select = (
        f"SELECT n.name, t.id FROM unnest(%s::text[]) AS n(name) "
        f"JOIN {table} t ON lower(t.name) = lower(n.name)"
    )
    with connection.cursor() as cursor:
        cursor.execute(select, [spellings])
        found = dict(cursor.fetchall())
        missing = [name for name in spellings if name not in found]
        if missing:
            extra = ", description" if model is Group else ""
            extra_value = ", ''" if model is Group else ""
            cursor.execute(
                f"INSERT INTO {table} (name, created_at{extra}) "
                f"SELECT n.name, now(){extra_value} FROM unnest(%s::text[]) AS n(name) "
                "ON CONFLICT DO NOTHING",
                [missing],
            )
            cursor.execute(select, [missing])
            found.update(cursor.fetchall())
    return {name.lower(): found[name] for name in spellings}


@transaction.atomic
def contacts_upsert(*, items: list[Any], now: dt.datetime | None = None) -> list[UpsertResult]:
    """Create or update contacts by email (case-insensitive), in bulk.

    For a contact that exists, only the fields an item gives change; its tags and
    groups are added to (never removed), custom fields merged key by key. New tag
    and group names are created. An item that does not validate is rejected with
    its reasons and the others are still written.
    """
    if len(items) > MAX_UPSERT:
        raise ValueError(f"At most {MAX_UPSERT} contacts per call.")
    now = now or timezone.now()
    results: dict[int, UpsertResult] = {}
    valid: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(items):
        try:
            data = contact_clean(raw)
        except ContactInvalid as exc:
            email = raw.get("email") if isinstance(raw, dict) else None
            if not isinstance(email, str) or _UNSTORABLE.search(email):
                email = None  # echoed back only when it is text that can be shown
            results[index] = UpsertResult(index, "rejected", email=email, errors=tuple(exc.errors))
            continue
        key = data["email"].lower()
        if key in seen:
            twice = FieldError(
                "email",
                f"The same email is already item {seen[key]} of this request; "
                "send each contact once.",
            )
            results[index] = UpsertResult(index, "rejected", email=data["email"], errors=(twice,))
            continue
        seen[key] = index
        valid.append((index, data))
    if valid:
        results.update(_upsert_valid(valid, now=now))
    return [results[index] for index in range(len(items))]


def _upsert_valid(valid: list[tuple[int, dict]], *, now: dt.datetime) -> dict[int, UpsertResult]:
    tag_ids = names_to_ids(Tag, (n for _, data in valid for n in data.get("tags", ())))
    group_ids = names_to_ids(Group, (n for _, data in valid for n in data.get("groups", ())))
    emails = [data["email"] for _, data in valid]
    with connection.cursor() as cursor:
        cursor.execute(_EMAILS_TO_IDS, [_lines(emails)])
        existing = dict(cursor.fetchall())
        new = [(index, data) for index, data in valid if data["email"] not in existing]
        created = _insert_new(cursor, new, tag_ids=tag_ids, now=now)
        # Written by someone else between the lookup and the insert: update instead.
        raced = [data["email"] for _, data in new if data["email"] not in created]
        if raced:
            cursor.execute(_EMAILS_TO_IDS, [_lines(raced)])
            existing.update(cursor.fetchall())
        updates = [(index, data) for index, data in valid if data["email"] in existing]
        _update_existing(cursor, updates, existing, tag_ids=tag_ids, now=now)

        ids = {**existing, **created}
        links = [
            (ids[data["email"]], tag_ids[name.lower()])
            for _, data in valid
            for name in data.get("tags", ())
        ]
        if links:
            # tag_ids was written above with the links, so the triggers that would
            # recompute it (migration contacts 0003) sit this one statement out.
            cursor.execute("SELECT set_config('flock.tag_ids_written', 'on', true)")
            cursor.execute(
                f"INSERT INTO {ContactTag._meta.db_table} (contact_id, tag_id) "
                f"SELECT * FROM unnest({_ID_LIST}, {_ID_LIST}) ON CONFLICT DO NOTHING",
                [_ids_text(c for c, _ in links), _ids_text(t for _, t in links)],
            )
            cursor.execute("SELECT set_config('flock.tag_ids_written', 'off', true)")
        memberships = [
            (ids[data["email"]], group_ids[name.lower()])
            for _, data in valid
            for name in data.get("groups", ())
        ]
        if memberships:
            cursor.execute(
                f"INSERT INTO {GroupMembership._meta.db_table} (contact_id, group_id, added_at) "
                "SELECT m.contact_id, m.group_id, %s "
                f"FROM unnest({_ID_LIST}, {_ID_LIST}) AS m(contact_id, group_id) "
                "ON CONFLICT DO NOTHING",
                [now, _ids_text(c for c, _ in memberships), _ids_text(g for _, g in memberships)],
            )
    return {
        index: UpsertResult(
            index,
            "created" if data["email"] in created else "updated",
            id=ids[data["email"]],
            email=data["email"],
        )
        for index, data in valid
    }


# Lists of a thousand values go to PostgreSQL as one text parameter that it splits:
# the driver adapts a Python list element by element, which costs more than the
# statement. Emails cannot hold a newline (validated), ids are digits.
# The lookup is LATERAL so that it is always one probe of the unique index per
# email: as a join, a table of some 100k rows whose statistics lag behind a bulk
# import got a hash join over every row instead (2 ms became 100 ms).
_EMAILS_TO_IDS = (
    f"SELECT k.email, c.id FROM unnest(string_to_array(%s, E'\\n')) AS k(email) "
    f"CROSS JOIN LATERAL (SELECT id FROM {Contact._meta.db_table} "
    "WHERE lower(email) = lower(k.email) LIMIT 1) AS c"
)
_ID_LIST = "string_to_array(%s, ',')::bigint[]"


def _lines(values: list[str]) -> str:
    return "\n".join(values)


def _ids_text(ids) -> str:
    return ",".join(map(str, ids))


def _sorted_ids(data: dict, tag_ids: dict[str, int]) -> list[int]:
    return sorted({tag_ids[name.lower()] for name in data.get("tags", ())})


# How each upserted column is read out of the JSON document a statement receives
# (one parameter for the whole batch: PostgreSQL parses it, instead of the driver
# quoting a thousand values per column into arrays).
_RECORD_TYPES = {
    **dict.fromkeys(TEXT_FIELDS, "text"),
    "lead_score": "smallint",
    "lifecycle_stage": "text",
    "last_interacted_at": "timestamptz",
    "created_at": "timestamptz",
    "is_bounced": "boolean",
    "is_unsubscribed": "boolean",
    "custom_fields": "jsonb",
}
_NEW_DEFAULTS = {
    **dict.fromkeys(TEXT_FIELDS, ""),
    "lead_score": 0,
    "lifecycle_stage": Contact.LifecycleStage.SUBSCRIBER.value,
    "last_interacted_at": None,
    "is_bounced": False,
    "is_unsubscribed": False,
    "custom_fields": {},
}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _records(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, default=_json_value)


def _insert_new(cursor, new: list[tuple[int, dict]], *, tag_ids, now) -> dict[str, int]:
    """INSERT the new contacts with every column (defaults filled in); email → id."""
    if not new:
        return {}
    defaults = {**_NEW_DEFAULTS, "created_at": now}
    records = [
        {
            "email": data["email"],
            **{name: data.get(name, defaults[name]) for name in _UPSERT_COLUMNS},
            "tag_ids": _sorted_ids(data, tag_ids),
        }
        for _, data in new
    ]
    columns = ", ".join(_UPSERT_COLUMNS)
    types = ", ".join(f"{name} {_RECORD_TYPES[name]}" for name in _UPSERT_COLUMNS)
    sql = f"""
        INSERT INTO {Contact._meta.db_table} (email, {columns}, updated_at, tag_ids)
        SELECT v.email, {", ".join(f"v.{name}" for name in _UPSERT_COLUMNS)}, %s, v.tag_ids
          FROM json_to_recordset(%s::json) AS v(email text, {types}, tag_ids bigint[])
        """
    params = [now, _records(records)]
    try:
        # A plain INSERT is some 15% cheaper than a speculative one (ON CONFLICT),
        # and these emails were just looked up and are not there …
        with transaction.atomic():
            cursor.execute(sql + "RETURNING email, id", params)
            return dict(cursor.fetchall())
    except IntegrityError:
        # … unless another request added one meanwhile: those are left to the update.
        cursor.execute(sql + "ON CONFLICT DO NOTHING RETURNING email, id", params)
        return dict(cursor.fetchall())


def _update_existing(cursor, updates, existing: dict[str, int], *, tag_ids, now) -> None:
    """One UPDATE for every existing contact: each column changes only where given."""
    if not updates:
        return
    records = []
    for _, data in updates:
        mask = 0
        for bit, name in enumerate(_UPSERT_COLUMNS):
            if name in data:
                mask |= 1 << bit
        records.append(
            {
                "id": existing[data["email"]],
                "mask": mask,
                **{name: data[name] for name in _UPSERT_COLUMNS if name in data},
                "tag_ids": _sorted_ids(data, tag_ids),
            }
        )
    assignments = []
    for bit, name in enumerate(_UPSERT_COLUMNS):
        new_value = "c.custom_fields || v.custom_fields" if name == "custom_fields" else f"v.{name}"
        assignments.append(
            f"{name} = CASE WHEN v.mask & {1 << bit} <> 0 THEN {new_value} ELSE c.{name} END"
        )
    # Tags are added to the trigger-kept array here, in the same row update; the link
    # rows follow with the trigger switched off (see _upsert_valid).
    assignments.append(
        "tag_ids = CASE WHEN cardinality(v.tag_ids) = 0 THEN c.tag_ids ELSE "
        "ARRAY(SELECT DISTINCT t FROM unnest(c.tag_ids || v.tag_ids) AS t ORDER BY t) END"
    )
    types = ", ".join(f"{name} {_RECORD_TYPES[name]}" for name in _UPSERT_COLUMNS)
    cursor.execute(
        f"""
        UPDATE {Contact._meta.db_table} AS c
           SET {", ".join(assignments)}, updated_at = %s
          FROM json_to_recordset(%s::json)
            AS v(id bigint, mask int, {types}, tag_ids bigint[])
         WHERE c.id = v.id
        """,
        [now, _records(records)],
    )


class EmailTaken(ValueError):
    """Another contact already has this email (emails are unique whatever their case)."""


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    """Change the given fields of one contact (`data` as `contact_clean(partial=True)`
    returns it); `tags` and `groups`, when given, become exactly those names.

    Raises EmailTaken when the new email belongs to another contact.
    """
    fields = {name: value for name, value in data.items() if name not in ("tags", "groups")}
    if fields:
        try:
            with transaction.atomic():
                Contact.objects.filter(pk=contact.pk).update(**fields, updated_at=timezone.now())
        except IntegrityError:
            raise EmailTaken(data.get("email", "")) from None
    if "tags" in data:
        _set_links(ContactTag, "tag_id", contact, names_to_ids(Tag, data["tags"]).values())
    if "groups" in data:
        _set_links(
            GroupMembership, "group_id", contact, names_to_ids(Group, data["groups"]).values()
        )
    contact.refresh_from_db()
    return contact


def _set_links(model, column: str, contact: Contact, ids: Iterable[int]) -> None:
    """Exactly these tags/groups: one DELETE of the others, one INSERT of the missing.
    (For tags, the triggers of migration contacts 0003 keep tag_ids in step.)"""
    ids = sorted(set(ids))
    model.objects.filter(contact=contact).exclude(**{f"{column}__in": ids}).delete()
    if ids:
        extra = ", added_at" if model is GroupMembership else ""
        extra_value = ", now()" if model is GroupMembership else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {model._meta.db_table} (contact_id, {column}{extra}) "
                f"SELECT %s, x{extra_value} FROM unnest(%s::bigint[]) AS x "
                "ON CONFLICT DO NOTHING",
                [contact.pk, ids],
            )


@transaction.atomic
def group_add_members(*, group: Group, contact_ids: list[int]) -> int:
    """Add contacts to a static list in one INSERT … SELECT; ids that do not exist
    are skipped. Returns how many were not members before."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {GroupMembership._meta.db_table} (group_id, contact_id, added_at) "
            f"SELECT %s, c.id, now() FROM {Contact._meta.db_table} c "
            "WHERE c.id = ANY(%s::bigint[]) ON CONFLICT DO NOTHING",
            [group.pk, contact_ids],
        )
        return cursor.rowcount


@transaction.atomic
def group_remove_members(*, group: Group, contact_ids: list[int]) -> int:
    deleted, _ = GroupMembership.objects.filter(group=group, contact_id__in=contact_ids).delete()
    return deleted
