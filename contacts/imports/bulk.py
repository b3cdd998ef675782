"""The bulk load of an import into an empty contact table (docs/design.md#imports).

The rows checked by the run are streamed with COPY into a temporary staging table,
batch after batch, while the reader checks the next one; once the whole file is in,
set-based statements merge it: the repeated emails across batches found by one
aggregate (the first line wins, the others are rejected naming it), then one INSERT
of every contact with its `tag_ids`, its tag links and its group membership. The
caller has set the contact table's indexes aside and builds them after.

The staging table holds the contacts as they will be inserted (the defaults of a new
contact filled in), so the merge is a plain INSERT … SELECT: the per-row work is done
once, in Python, where `contact_clean` already was. `copy_rows` writes a batch as
COPY text in the process that checked it (processes.py), so the process that writes
only passes the bytes on; a row names its tags as a list (JSON text), each distinct
list given its ids once per load in a second temporary table.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection

from ..db import tag_ids_written_by_caller
from ..models import Contact, ContactTag, GroupMembership, ImportRejection, Tag
from ..upsert import NEW_DEFAULTS, RECORD_TYPES, UPSERT_COLUMNS, names_to_ids

_STAGING = "flock_import_staging"
_REPEATS = "flock_import_repeats"
_TAG_LISTS = "flock_import_tag_lists"
_COLUMNS = ("line", "key", "email", *UPSERT_COLUMNS, "tags")


def _copy_text(value: Any) -> str:
    """One value as COPY's text format writes it."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dt.datetime):
        return value.isoformat()
    elif not isinstance(value, str):
        return str(value)  # a number
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t")
        value = value.replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_rows(
    valid: dict[str, tuple[int, dict[str, Any]]], defaults: dict[str, Any]
) -> tuple[bytes, set[str]]:
    """A batch's checked contacts (lower-case email → first line, contact) as the
    staging table's COPY text, and the distinct tag lists they name."""
    lines, lists = [], set()
    for key, (line, data) in valid.items():
        tags = json.dumps(data.get("tags", []), ensure_ascii=False)
        lists.add(tags)
        values = [line, key, data["email"], *(data.get(n, defaults[n]) for n in UPSERT_COLUMNS)]
        values.append(tags)
        lines.append("\t".join(map(_copy_text, values)))
    return ("\n".join(lines) + "\n").encode() if lines else b"", lists


class StagedLoad:
    """One bulk load: `add` each batch, then `merge` (in the caller's transaction)."""

    def __init__(self, *, now: dt.datetime):
        self.now = now
        self.defaults = {**NEW_DEFAULTS, "created_at": now}
        self.tag_ids: dict[str, int] = {}  # lower-case name → id, across batches
        self.tag_lists: set[str] = set()  # the lists given their ids
        types = ", ".join(f"{name} {RECORD_TYPES[name]}" for name in UPSERT_COLUMNS)
        with connection.cursor() as cursor:
            # Temporary and dropped at the commit: no WAL, nothing left behind by a
            # run that stops (its transaction rolls back).
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGING} (line integer, key text, email text, "
                f"{types}, tags text) ON COMMIT DROP"
            )
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_TAG_LISTS} (tags text PRIMARY KEY, tag_ids bigint[]) "
                "ON COMMIT DROP"
            )

    def add(self, rows: bytes, tag_lists: set[str]) -> None:
        """A batch as `copy_rows` wrote it; the new tag names of its lists are created
        now."""
        self._learn_tags(tag_lists - self.tag_lists)
        sql = f"COPY {_STAGING} ({', '.join(_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(rows)

    def _learn_tags(self, lists: set[str]) -> None:
        """Each new list of a row's tags with its ids, the names not seen before
        created: a file repeats a few lists, so each is worked out once per load."""
        if not lists:
            return
        parsed = {tags: json.loads(tags) for tags in lists}
        names = {name for tags in parsed.values() for name in tags}
        self.tag_ids.update(names_to_ids(Tag, {n for n in names if n.lower() not in self.tag_ids}))
        with connection.cursor() as cursor, cursor.copy(f"COPY {_TAG_LISTS} FROM STDIN") as copy:
            for tags, names in parsed.items():
                ids = sorted({self.tag_ids[name.lower()] for name in names})
                copy.write_row([tags, ids])
        self.tag_lists |= lists

    def merge(self, *, job_id: int, group_id: int | None, duplicate: str) -> tuple[int, int]:
        """Insert the staged contacts, each email once; the repeats are rejected with
        `duplicate` ("… line {} …", the first line put in). (created, rejected)."""
        contacts = Contact._meta.db_table
        columns = ", ".join(UPSERT_COLUMNS)
        with connection.cursor() as cursor:
            # Batches are deduplicated as they are checked: what is left repeats an
            # email of another batch, a handful of rows among a million.
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_REPEATS} ON COMMIT DROP AS "
                f"SELECT s.line, s.email, f.first FROM {_STAGING} s JOIN ("
                f"  SELECT key, min(line) AS first FROM {_STAGING} GROUP BY key "
                "   HAVING count(*) > 1) f USING (key) "
                "WHERE s.line > f.first"
            )
            cursor.execute(
                f"INSERT INTO {ImportRejection._meta.db_table} (job_id, line, email, reason) "
                f"SELECT %s, line, email, replace(%s, '{{}}', first::text) FROM {_REPEATS}",
                [job_id, duplicate],
            )
            rejected = cursor.rowcount
            params: list[Any] = [self.now]
            if group_id is not None:
                params += [group_id, self.now]
            membership = (
                f", members AS (INSERT INTO {GroupMembership._meta.db_table} "
                "(contact_id, group_id, added_at) SELECT id, %s, %s FROM created) "
                if group_id is not None
                else ""
            )
            # The links carry tag_ids already (see tag_ids_written_by_caller), and the
            # foreign keys are set aside with the indexes. Hash joins on the small
            # tables (analysed: the planner knows which is small) keep the staging
            # table's order (the file's): the ids follow the lines.
            cursor.execute(f"ANALYZE {_STAGING}, {_TAG_LISTS}, {_REPEATS}")
            with tag_ids_written_by_caller(cursor):
                cursor.execute(
                    f"""
                    WITH created AS (
                        INSERT INTO {contacts} (email, {columns}, updated_at, tag_ids)
                        SELECT s.email, {", ".join(f"s.{n}" for n in UPSERT_COLUMNS)}, %s,
                               t.tag_ids
                          FROM {_STAGING} s JOIN {_TAG_LISTS} t USING (tags)
                         WHERE NOT EXISTS (SELECT FROM {_REPEATS} r WHERE r.line = s.line)
                        RETURNING id, tag_ids
                    ), links AS (
                        INSERT INTO {ContactTag._meta.db_table} (contact_id, tag_id)
                        SELECT id, unnest(tag_ids) FROM created
                    ){membership}
                    SELECT count(*) FROM created
                    """,
                    params,
                )
                (created,) = cursor.fetchone()
        return created, rejected
