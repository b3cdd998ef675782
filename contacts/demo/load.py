"""Loading the demo contacts: one transaction, bulk mode into an empty table.

`seed_contacts` runs the statements of `sql.py` and reports what it wrote.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from contacts.db import IndexesSetAside, tag_ids_written_by_caller
from contacts.models import Contact, ContactTag, CustomField, Group, GroupMembership, Tag

from . import sql
from .data import CUSTOM_FIELDS, GROUPS, TAGS, anchor_datetime
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


def register_demo_fields() -> None:
    """The custom fields the demo data fills, registered (those not yet)."""
    for name, label, type_, options in CUSTOM_FIELDS:
        if not CustomField.objects.filter(name__iexact=name).exists():
            CustomField.objects.create(name=name, label=label, type=type_, options=options)


def seed_contacts(
    count: int, seed: int, anchor: dt.date, log: Callable[[str], None] = lambda msg: None
) -> SeedResult:
    """Add ``count`` demo contacts (plus their tags and group memberships).

    Everything happens in one transaction, holding a lock that keeps other writers out
    of the contact table. Into an empty table, the load runs in bulk mode (see
    contacts.db.IndexesSetAside): indexes and foreign keys are dropped first and
    rebuilt after; an error or Ctrl-C (psycopg cancels the running query) rolls all
    of it back. Appending to a non-empty table keeps them and maintains them row by
    row, which is slower.
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
        register_demo_fields()

        t = time.monotonic()
        bulk = IndexesSetAside() if max_id is None else None
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
