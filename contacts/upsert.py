"""Create or update contacts by email, a batch at a time (the API's upsert, imports).

`contacts_upsert` writes a batch of up to MAX_UPSERT contacts in a fixed number of
statements whatever the batch size: one lookup of the emails, one INSERT of the new
contacts, one UPDATE of the existing ones, one INSERT of their tag links and one of
their group memberships (plus a lookup/insert per kind of name). Every item is
checked in Python first (`contact_clean`), so that a bad item is reported with its
reason and never reaches PostgreSQL, where it would abort the whole batch.

The statements are raw SQL because the ORM has no set-based form of them: an
upsert of a thousand contacts through it would be thousands of statements.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .db import tag_ids_written_by_caller
from .models import Contact, ContactTag, CustomField, Group, GroupMembership, Tag
from .validation import (
    BOOLEAN_FIELDS,
    TEXT_FIELDS,
    UNSTORABLE,
    ContactInvalid,
    FieldError,
    contact_clean,
)

MAX_UPSERT = 1000

# The columns an upsert writes, in a fixed order; bit i of an item's mask says
# whether column i was given (an update leaves the others alone).
UPSERT_COLUMNS = (
    *TEXT_FIELDS,
    "lead_score",
    "lifecycle_stage",
    "last_interacted_at",
    "created_at",
    *BOOLEAN_FIELDS,
    "custom_fields",
)


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
    # Raw: the ORM has no case-insensitive `IN` over a list, nor an insert that skips
    # names the LOWER(name) unique index already holds.
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
def contacts_upsert(
    *,
    items: list[Any],
    now: dt.datetime | None = None,
    update_existing: bool = True,
    tell_unchanged: bool = False,
) -> list[UpsertResult]:
    """Create or update contacts by email (case-insensitive), in bulk.

    For a contact that exists, only the fields an item gives change; its tags and
    groups are added to (never removed), custom fields merged key by key. New tag
    and group names are created. An item that does not validate is rejected with
    its reasons and the others are still written.

    `update_existing=False` only adds new contacts: those that exist are left as they
    are and reported "unchanged". `tell_unchanged` reports an existing contact that
    the item would not change as "unchanged" (and does not write it) instead of
    "updated" (the import's summary; the API reports every existing one as updated).
    """
    if len(items) > MAX_UPSERT:
        raise ValueError(f"At most {MAX_UPSERT} contacts per call.")
    now = now or timezone.now()
    results: dict[int, UpsertResult] = {}
    valid: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    types = CustomField.registry()  # read once for every item
    for index, raw in enumerate(items):
        try:
            data = contact_clean(raw, types=types)
        except ContactInvalid as exc:
            email = raw.get("email") if isinstance(raw, dict) else None
            if not isinstance(email, str) or UNSTORABLE.search(email):
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
        results.update(
            upsert_cleaned(
                valid, now=now, update_existing=update_existing, tell_unchanged=tell_unchanged
            )
        )
    return [results[index] for index in range(len(items))]


def upsert_cleaned(
    valid: list[tuple[int, dict]], *, now: dt.datetime, update_existing: bool, tell_unchanged: bool
) -> dict[int, UpsertResult]:
    """The write of `contacts_upsert` for contacts already through `contact_clean`,
    each email once (index, contact): the import checks its rows itself."""
    tell_unchanged = tell_unchanged or not update_existing
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
        changed: set[int] = set()
        written = valid
        if update_existing:
            updates = [(index, data) for index, data in valid if data["email"] in existing]
            changed = _update_existing(
                cursor, updates, existing, tag_ids=tag_ids, now=now, skip_unchanged=tell_unchanged
            )
        else:  # only the new ones get their tags and groups
            written = [(index, data) for index, data in valid if data["email"] in created]

        ids = {**existing, **created}
        links = [
            (ids[data["email"]], tag_ids[name.lower()])
            for _, data in written
            for name in data.get("tags", ())
        ]
        if links:
            # tag_ids was written above with the links, so the triggers that would
            # recompute it sit this one statement out.
            with tag_ids_written_by_caller(cursor):
                cursor.execute(
                    f"INSERT INTO {ContactTag._meta.db_table} (contact_id, tag_id) "
                    f"SELECT * FROM unnest({_ID_LIST}, {_ID_LIST}) ON CONFLICT DO NOTHING",
                    [_ids_text(c for c, _ in links), _ids_text(t for _, t in links)],
                )
        memberships = [
            (ids[data["email"]], group_ids[name.lower()])
            for _, data in written
            for name in data.get("groups", ())
        ]
        if memberships:
            cursor.execute(
                f"INSERT INTO {GroupMembership._meta.db_table} (contact_id, group_id, added_at) "
                "SELECT m.contact_id, m.group_id, %s "
                f"FROM unnest({_ID_LIST}, {_ID_LIST}) AS m(contact_id, group_id) "
                "ON CONFLICT DO NOTHING RETURNING contact_id",
                [now, _ids_text(c for c, _ in memberships), _ids_text(g for _, g in memberships)],
            )
            changed.update(contact_id for (contact_id,) in cursor.fetchall())

    def status(email: str) -> str:
        if email in created:
            return "created"
        return "updated" if not tell_unchanged or ids[email] in changed else "unchanged"

    return {
        index: UpsertResult(
            index, status(data["email"]), id=ids[data["email"]], email=data["email"]
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
RECORD_TYPES = {
    **dict.fromkeys(TEXT_FIELDS, "text"),
    "lead_score": "smallint",
    "lifecycle_stage": "text",
    "last_interacted_at": "timestamptz",
    "created_at": "timestamptz",
    "is_bounced": "boolean",
    "is_unsubscribed": "boolean",
    "custom_fields": "jsonb",
}
NEW_DEFAULTS: dict[str, object] = {
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
    defaults = {**NEW_DEFAULTS, "created_at": now}
    records = [
        {
            "email": data["email"],
            **{name: data.get(name, defaults[name]) for name in UPSERT_COLUMNS},
            "tag_ids": _sorted_ids(data, tag_ids),
        }
        for _, data in new
    ]
    columns = ", ".join(UPSERT_COLUMNS)
    types = ", ".join(f"{name} {RECORD_TYPES[name]}" for name in UPSERT_COLUMNS)
    sql = f"""
        INSERT INTO {Contact._meta.db_table} (email, {columns}, updated_at, tag_ids)
        SELECT v.email, {", ".join(f"v.{name}" for name in UPSERT_COLUMNS)}, %s, v.tag_ids
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


def _update_existing(
    cursor, updates, existing: dict[str, int], *, tag_ids, now, skip_unchanged: bool
) -> set[int]:
    """One UPDATE for every existing contact: each column changes only where given.

    With `skip_unchanged`, a contact whose row would stay the same is not written
    (no new row version, `updated_at` kept). The ids of the contacts written."""
    if not updates:
        return set()
    records = []
    for _, data in updates:
        mask = 0
        for bit, name in enumerate(UPSERT_COLUMNS):
            if name in data:
                mask |= 1 << bit
        records.append(
            {
                "id": existing[data["email"]],
                "mask": mask,
                **{name: data[name] for name in UPSERT_COLUMNS if name in data},
                "tag_ids": _sorted_ids(data, tag_ids),
            }
        )
    values = {}
    for bit, name in enumerate(UPSERT_COLUMNS):
        new_value = "c.custom_fields || v.custom_fields" if name == "custom_fields" else f"v.{name}"
        values[name] = f"CASE WHEN v.mask & {1 << bit} <> 0 THEN {new_value} ELSE c.{name} END"
    # Tags are added to the trigger-kept array here, in the same row update; the link
    # rows follow with the trigger switched off (see _upsert_valid).
    values["tag_ids"] = (
        "CASE WHEN cardinality(v.tag_ids) = 0 THEN c.tag_ids ELSE "
        "ARRAY(SELECT DISTINCT t FROM unnest(c.tag_ids || v.tag_ids) AS t ORDER BY t) END"
    )
    assignments = ", ".join(f"{name} = {value}" for name, value in values.items())
    changes = " OR ".join(f"({value}) IS DISTINCT FROM c.{name}" for name, value in values.items())
    types = ", ".join(f"{name} {RECORD_TYPES[name]}" for name in UPSERT_COLUMNS)
    cursor.execute(
        f"""
        UPDATE {Contact._meta.db_table} AS c
           SET {assignments}, updated_at = %s
          FROM json_to_recordset(%s::json)
            AS v(id bigint, mask int, {types}, tag_ids bigint[])
         WHERE c.id = v.id {f"AND ({changes})" if skip_unchanged else ""}
        RETURNING c.id
        """,
        [now, _records(records)],
    )
    return {contact_id for (contact_id,) in cursor.fetchall()}
