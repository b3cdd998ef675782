"""The bulk load of an import into an empty contact table (docs/design.md#imports).

The rows checked by the run are streamed with COPY into a temporary staging table,
batch after batch, while the reader checks the next one; once the whole file is in,
set-based statements merge it: the repeated emails across batches found by one
aggregate (the first line wins, the others are rejected naming it), then one INSERT
of every contact with its `tag_ids`, its tag links and its group membership. The
caller has set the contact table's indexes aside and builds them after.

The staging table holds the contacts as they will be inserted (the defaults of a new
contact filled in), so the merge is a plain INSERT … SELECT: the per-row work is done
once, in Python, where `contact_clean` already was.
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
_COLUMNS = ("line", "key", "email", *UPSERT_COLUMNS, "tag_ids")


class StagedLoad:
    """One bulk load: `add` each batch, then `merge` (in the caller's transaction)."""

    def __init__(self, *, now: dt.datetime):
        self.now = now
        self.defaults = {**NEW_DEFAULTS, "created_at": now}
        self.staged = 0
        self.tag_ids: dict[str, int] = {}  # lower-case name → id, across batches
        self.tag_arrays: dict[tuple[str, ...], str] = {}  # a row's tags → its tag_ids
        types = ", ".join(f"{name} {RECORD_TYPES[name]}" for name in UPSERT_COLUMNS)
        with connection.cursor() as cursor:
            # Temporary and dropped at the commit: no WAL, nothing left behind by a
            # run that stops (its transaction rolls back).
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGING} (line integer, key text, email text, "
                f"{types}, tag_ids bigint[]) ON COMMIT DROP"
            )

    def add(self, valid: dict[str, tuple[int, dict[str, Any]]]) -> None:
        """A batch's checked contacts (lower-case email → first line, contact), in
        line order. Their new tag names are created now."""
        self._learn_tags(valid)
        defaults, arrays = self.defaults, self.tag_arrays
        sql = f"COPY {_STAGING} ({', '.join(_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for key, (line, data) in valid.items():
                row: list[Any] = [line, key, data["email"]]
                row += [data.get(name, defaults[name]) for name in UPSERT_COLUMNS]
                row[-1] = json.dumps(row[-1], ensure_ascii=False)  # custom_fields
                row.append(arrays[tuple(data.get("tags", ()))])
                copy.write_row(row)
        self.staged += len(valid)

    def _learn_tags(self, valid: dict[str, tuple[int, dict[str, Any]]]) -> None:
        """The ids of the batch's tags (new names created), and each distinct list of a
        row's tags as the array literal its contact gets: a file repeats a few lists, so
        each is worked out once per load, not once per row."""
        lists = {tuple(data.get("tags", ())) for _, data in valid.values()} - self.tag_arrays.keys()
        names = {name for tags in lists for name in tags if name.lower() not in self.tag_ids}
        self.tag_ids.update(names_to_ids(Tag, names))
        for tags in lists:
            ids = sorted({self.tag_ids[name.lower()] for name in tags})
            self.tag_arrays[tags] = "{" + ",".join(map(str, ids)) + "}"

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
            # foreign keys are set aside with the indexes. A hash anti-join keeps the
            # staging table's order (the file's): the ids follow the lines.
            with tag_ids_written_by_caller(cursor):
                cursor.execute(
                    f"""
                    WITH created AS (
                        INSERT INTO {contacts} (email, {columns}, updated_at, tag_ids)
                        SELECT s.email, {", ".join(f"s.{n}" for n in UPSERT_COLUMNS)}, %s,
                               s.tag_ids
                          FROM {_STAGING} s
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
