"""Loading the demo contacts: one transaction, bulk mode into an empty table.

`seed_contacts` runs the statements of `sql.py` and reports what it wrote.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import UniqueConstraint

from contacts.db import tag_ids_written_by_caller
from contacts.models import Contact, ContactTag, Group, GroupMembership, Tag

from . import sql
from .data import GROUPS, TAGS, anchor_datetime
from .sql import Sql, qn

# Session settings for the load (SET LOCAL: they end with the transaction). Index
# builds after the load are the bulk of the time; GIN builds use maintenance_work_mem.
LOAD_SETTINGS = {
    "maintenance_work_mem": "512MB",
    "work_mem": "256MB",
    "synchronous_commit": "off",  # demo data: losing the last commit on a crash is fine
}


@dataclass(frozen=True)
class SeedResult:
    contacts: int
    first_id: int
    last_id: int
    tags: int  # ContactTag rows created
    memberships: int  # GroupMembership rows created
    rebuilt_indexes: int  # Contact indexes + unique constraints dropped and rebuilt (bulk mode)
    seconds: float


def _get_or_create_ci(model, name: str, **defaults) -> int:
    """Id of the row named ``name`` in any case (names are unique case-insensitively)."""
    obj = model.objects.filter(name__iexact=name).first()
    if obj is None:
        obj = model.objects.create(name=name, **defaults)
    return obj.pk


class _BulkMode:
    """Drop what slows a bulk load down, and put it back afterwards (as pg_restore does).

    * the contact table's Meta.indexes and unique constraints (the unique e-mail index is
      built in a couple of seconds, but maintained row by row it costs much more), via
      Django's schema editor so they are exactly what the migrations created;
    * the foreign keys of ContactTag and GroupMembership: re-adding one validates all
      rows with a single join, where a deferred FK checks and locks one row at a time.
      They are restored from their catalog definition (pg_get_constraintdef).

    Must run inside a transaction: PostgreSQL's DDL is transactional, so if the load
    fails or is interrupted, the rollback restores everything that was dropped.
    """

    def __init__(self) -> None:
        table = Contact._meta.db_table
        link_tables = [ContactTag._meta.db_table, GroupMembership._meta.db_table]
        with connection.cursor() as cur:
            cur.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s",
                [table],
            )
            existing = {name for (name,) in cur.fetchall()}
            cur.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
                "ORDER BY 1, 2",
                [link_tables],
            )
            self.foreign_keys = cur.fetchall()
        self.indexes = [i for i in Contact._meta.indexes if i.name in existing]
        self.constraints = [
            c
            for c in Contact._meta.constraints
            if isinstance(c, UniqueConstraint) and c.name in existing
        ]

    def drop(self) -> None:
        with connection.cursor() as cur:
            # ALTER TABLE refuses tables with deferred FK checks still pending, which a
            # caller's transaction may have (e.g. it deleted contacts): run them now.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
        with connection.schema_editor() as editor:
            for index in self.indexes:
                editor.remove_index(Contact, index)
            for constraint in self.constraints:
                editor.remove_constraint(Contact, constraint)
        with connection.cursor() as cur:
            for table, name, _ in self.foreign_keys:
                cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")

    def restore(self, log: Callable[[str], None]) -> None:
        with connection.schema_editor() as editor:
            for constraint in self.constraints:
                t = time.monotonic()
                editor.add_constraint(Contact, constraint)
                log(f"    {constraint.name}: {time.monotonic() - t:.1f} s")
            for index in self.indexes:
                t = time.monotonic()
                editor.add_index(Contact, index)
                log(f"    {index.name}: {time.monotonic() - t:.1f} s")
        with connection.cursor() as cur:
            for table, name, definition in self.foreign_keys:
                t = time.monotonic()
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")
                log(f"    {name}: {time.monotonic() - t:.1f} s")


def seed_contacts(
    count: int, seed: int, anchor: dt.date, log: Callable[[str], None] = lambda msg: None
) -> SeedResult:
    """Add ``count`` demo contacts (plus their tags and group memberships).

    Everything happens in one transaction, holding a lock that keeps other writers out
    of the contact table. Into an empty table, the load runs in bulk mode (see
    _BulkMode): indexes and foreign keys are dropped first and rebuilt after; an error
    or Ctrl-C (psycopg cancels the running query) rolls all of it back. Appending to
    a non-empty table keeps them and maintains them row by row, which is slower.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    started = time.monotonic()
    anchor_ts = anchor_datetime(anchor)
    table = Contact._meta.db_table

    def step(label: str, t0: float) -> float:
        now = time.monotonic()
        log(f"  {label}: {now - t0:.1f} s")
        return now

    with transaction.atomic(), connection.cursor() as cur:
        for name, value in LOAD_SETTINGS.items():
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])
        # Other writers wait for the commit; readers carry on (unless in bulk mode).
        cur.execute(f"LOCK TABLE {qn(table)} IN SHARE ROW EXCLUSIVE MODE")
        cur.execute(f"SELECT max(id) FROM {qn(table)}")
        (max_id,) = cur.fetchone()
        first_id = (max_id or 0) + 1
        last_id = first_id + count - 1

        tag_ids = {spec.name: _get_or_create_ci(Tag, spec.name) for spec in TAGS}
        group_ids = {
            g.name: _get_or_create_ci(Group, g.name, description=g.description) for g in GROUPS
        }

        t = time.monotonic()
        bulk = _BulkMode() if max_id is None else None
        if bulk:
            bulk.drop()
            t = step(
                f"bulk mode: dropped {len(bulk.indexes) + len(bulk.constraints)} indexes and "
                f"{len(bulk.foreign_keys)} foreign keys",
                t,
            )

        q = Sql(seed)
        cur.execute(sql.contacts_insert(q, first_id, last_id, anchor_ts, tag_ids), q.params)
        t = step(f"{count} contacts", t)

        # Keep the id sequence ahead of the ids chosen here (never move it back).
        cur.execute(
            "SELECT setval(s, GREATEST(%s, COALESCE(pg_sequence_last_value(s), 0))) "
            "FROM CAST(pg_get_serial_sequence(%s, 'id') AS regclass) AS s",
            [last_id, table],
        )

        # The arrays are already right: the trigger that would recompute them from
        # these rows sits this one statement out.
        q = Sql(seed)
        with tag_ids_written_by_caller(cur):
            cur.execute(sql.tags_insert(q, first_id, last_id), q.params)
            tags = cur.rowcount
        t = step(f"{tags} tag assignments", t)

        q = Sql(seed, n="c.id")
        cur.execute(sql.memberships_insert(q, first_id, last_id, anchor_ts, group_ids), q.params)
        memberships = cur.rowcount
        t = step(f"{memberships} group memberships", t)

        if bulk:
            bulk.restore(log)
            t = step("bulk mode: rebuilt indexes and foreign keys", t)
    t = step("commit", t)

    # Fresh statistics for the planner. VACUUM also sets the visibility map (index-only
    # scans) and spares the next benchmark an autovacuum run; it cannot run inside a
    # transaction (e.g. a test's), where ANALYZE alone does.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cur:
        for model in (Contact, ContactTag, GroupMembership, Tag, Group):
            cur.execute(f"{command} {qn(model._meta.db_table)}")
    step(command.lower(), t)

    return SeedResult(
        contacts=count,
        first_id=first_id,
        last_id=last_id,
        tags=tags,
        memberships=memberships,
        rebuilt_indexes=len(bulk.indexes) + len(bulk.constraints) if bulk else 0,
        seconds=time.monotonic() - started,
    )
