"""What the contact tables promise in PostgreSQL, beyond what the models say.

Contact.tag_ids mirrors the ContactTag rows: statement-level triggers on the link
table (migration contacts 0003, `flock_tag_ids_add` / `flock_tag_ids_remove`) add
or remove the ids each INSERT, UPDATE or DELETE of links changed, so tag rules can
read one indexed array instead of joining the links. Every write of links keeps it
right without doing anything; the one thing a writer may do is switch the
triggers off for a statement whose contacts already carry the right array.

A load of many contacts into an empty table sets the indexes aside and builds them
after (`IndexesSetAside`): built once, they cost a fraction of keeping them row by
row (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection
from django.db.models import UniqueConstraint

from .models import Contact, ContactTag, CustomField, GroupMembership

# The setting the trigger functions read: 'on' makes them return at once.
TAG_IDS_WRITTEN = "flock.tag_ids_written"


@contextmanager
def tag_ids_written_by_caller(cursor) -> Iterator[None]:
    """Inside this block, inserting ContactTag rows leaves Contact.tag_ids alone.

    For bulk writers that set each contact's tag_ids in the same statement that
    creates or updates the contact (the upsert, the demo seeding): the trigger
    would otherwise update every one of those contacts a second time, to the
    array it already has (one more row version each, a million when seeding).
    The caller promises that the arrays already hold the links the block writes;
    keep in the block only the statement that writes them.

    The setting is local to the transaction (`set_config(..., true)`), so it
    never leaks past a commit or a rollback. On an error nothing is reset: the
    transaction (or savepoint) is aborted and takes the setting with it, and a
    further statement would only hide the error.
    """
    cursor.execute("SELECT set_config(%s, 'on', true)", [TAG_IDS_WRITTEN])
    yield
    cursor.execute("SELECT set_config(%s, 'off', true)", [TAG_IDS_WRITTEN])


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


# A registered text, choice, number or date field gets a btree index on the expression
# the rule compiler compares (segments/compile.py: IExact of JsonKeyText, JsonNumber,
# JsonTimestamp), so `plan = pro`, `seats ≥ 10` or `renewal before 2027-01-01` is an
# index scan, also inside an `any` group where indexes are ORed.
CUSTOM_INDEX_PREFIX = "contact_cf_"
_CUSTOM_INDEX_EXPRESSIONS = {
    CustomField.Type.TEXT: "UPPER((custom_fields ->> {key}::text))",
    CustomField.Type.CHOICE: "UPPER((custom_fields ->> {key}::text))",
    CustomField.Type.NUMBER: "flock_jsonb_number((custom_fields -> {key}::text))",
    CustomField.Type.DATE: "flock_jsonb_timestamp((custom_fields -> {key}::text))",
}


def custom_field_index_name(name: str) -> str:
    """contact_cf_<the name, made an identifier>_<hash>: readable, unique, ≤ 63 bytes."""
    readable = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:36]
    return f"{CUSTOM_INDEX_PREFIX}{readable}_{hashlib.md5(name.encode()).hexdigest()[:8]}"


def custom_field_indexes(fields: Iterable[tuple[str, str]] | None = None) -> dict[str, str]:
    """Index name → CREATE INDEX statement, for each registered field but a boolean
    (`fields`: the registry's (name, type) rows, if read elsewhere)."""
    table = _qn(Contact._meta.db_table)
    if fields is None:
        registry = CustomField.objects.filter(type__in=list(_CUSTOM_INDEX_EXPRESSIONS))
        fields = registry.values_list("name", "type")
    statements = {}
    for name, type_ in fields:
        if type_ not in _CUSTOM_INDEX_EXPRESSIONS:
            continue
        key = "'" + name.replace("'", "''") + "'"  # a literal: the planner matches constants
        index = custom_field_index_name(name)
        expression = _CUSTOM_INDEX_EXPRESSIONS[CustomField.Type(type_)].format(key=key)
        statements[index] = f"CREATE INDEX {_qn(index)} ON {table} ({expression})"
    return statements


def _contact_indexes(cur) -> tuple[set[str], set[str]]:
    """The contact table's (valid, invalid) index names: an invalid one is what a
    CREATE INDEX CONCURRENTLY that was stopped leaves behind."""
    cur.execute(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass",
        [Contact._meta.db_table],
    )
    rows = cur.fetchall()
    return {name for name, valid in rows if valid}, {name for name, valid in rows if not valid}


class IndexesSetAside:
    """Drop what slows a bulk load down, and put it back afterwards (as pg_restore does).

    * the contact table's Meta.indexes and unique constraints (the unique e-mail index is
      built in a couple of seconds, but maintained row by row it costs much more), via
      Django's schema editor so they are exactly what the migrations created;
    * the foreign keys of ContactTag and GroupMembership: re-adding one validates all
      rows with a single join, where a deferred FK checks and locks one row at a time.
      They are restored from their catalog definition (pg_get_constraintdef);
    * the registered custom fields' indexes (`custom_field_indexes`).

    Must run inside a transaction: PostgreSQL's DDL is transactional, so if the load
    fails or is interrupted, the rollback restores everything that was dropped. The
    drop locks the contact table against readers too until the commit: for a load
    into an empty table (the demo data, a first import).
    """

    def __init__(self) -> None:
        link_tables = [ContactTag._meta.db_table, GroupMembership._meta.db_table]
        with connection.cursor() as cur:
            valid, invalid = _contact_indexes(cur)
            existing = valid | invalid
            cur.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
                "ORDER BY 1, 2",
                [link_tables],
            )
            self.foreign_keys = cur.fetchall()
        self.indexes = [i for i in Contact._meta.indexes if i.name in existing]
        self.custom = sorted(name for name in existing if name.startswith(CUSTOM_INDEX_PREFIX))
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
                cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_qn(name)}")
            for name in self.custom:
                cur.execute(f"DROP INDEX {_qn(name)}")

    def restore(self, log: Callable[[str], None], *, indexes: bool = True) -> None:
        """Everything back, in the caller's transaction; without `indexes`, only the
        unique constraints and the foreign keys (what the data must satisfy when it
        is committed): the rest is for `build_missing_indexes` after the commit."""
        with connection.schema_editor() as editor:
            for constraint in self.constraints:
                t = time.monotonic()
                editor.add_constraint(Contact, constraint)
                log(f"    {constraint.name}: {time.monotonic() - t:.1f} s")
            for index in self.indexes if indexes else ():
                t = time.monotonic()
                editor.add_index(Contact, index)
                log(f"    {index.name}: {time.monotonic() - t:.1f} s")
        with connection.cursor() as cur:
            for table, name, definition in self.foreign_keys:
                t = time.monotonic()
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_qn(name)} {definition}")
                log(f"    {name}: {time.monotonic() - t:.1f} s")
            for name, statement in custom_field_indexes().items() if indexes else ():
                t = time.monotonic()
                cur.execute(statement)
                log(f"    {name}: {time.monotonic() - t:.1f} s")


def own_connection() -> psycopg.Connection:
    """A connection of its own to Django's database, in autocommit: for work that must
    not wait for (or be rolled back with) the caller's transaction."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


# The first key of the advisory lock that lets one process build the indexes.
_BUILD_LOCK = 0x464C4B58  # "FLKX"


def _drop_index(conn: psycopg.Connection, name: str, *, concurrently: bool) -> bool:
    """DROP INDEX; a plain one waits for an exclusive lock on the table, and every
    reader queues behind that wait: if a transaction holds the table for long, give
    way (the beat drops it concurrently within the minute). Whether it is gone."""
    if concurrently:
        conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {_qn(name)}")
        return True
    conn.execute("SET lock_timeout = '2s'")
    try:
        conn.execute(f"DROP INDEX IF EXISTS {_qn(name)}")
    except psycopg.errors.LockNotAvailable:
        return False
    finally:
        conn.execute("RESET lock_timeout")
    return True


def build_missing_indexes(
    *, lanes: int = 2, concurrently: bool = False, wait: bool = False, custom: bool = True
) -> list[str]:
    """Build the contact table's indexes that the database lacks (its Meta.indexes and
    the registered custom fields' ones), `lanes` at a time on connections of their
    own, the largest (GIN) first, and drop the indexes of fields no longer registered
    (or left invalid by a stopped build); the names built.

    After a bulk load committed without them (PostgreSQL 15 builds a GIN index on
    one core: two at once take half the time), as the repair if that build was
    stopped, and every minute for the registry (the beat, `concurrently`: writes go
    on while it builds). Without `concurrently`, each CREATE INDEX blocks writes to
    the table, not reads, while it runs. One process builds at a time: another
    caller returns at once, or with `wait` waits for it and builds what is left.
    Without `custom`, the registered fields' indexes are left to the beat."""
    with own_connection() as lock:
        if wait:
            lock.execute("SELECT pg_advisory_lock(%s)", [_BUILD_LOCK])
        else:
            row = lock.execute("SELECT pg_try_advisory_lock(%s)", [_BUILD_LOCK]).fetchone()
            if not (row and row[0]):
                return []
        # Read under the lock (what a build that held it has done is seen) and on this
        # connection: the builds see committed rows only, so must the reads (a field
        # registered in a caller's open transaction is not built for; it may roll back).
        with lock.cursor() as cur:
            existing, invalid = _contact_indexes(cur)
            cur.execute(f"SELECT name, type FROM {_qn(CustomField._meta.db_table)}")
            registered = custom_field_indexes(cur.fetchall())
        with connection.schema_editor(collect_sql=True) as editor:
            work = {
                i.name: str(i.create_sql(Contact, editor))
                for i in Contact._meta.indexes
                if i.name not in existing
            }
        if custom:
            work |= {name: sql for name, sql in registered.items() if name not in existing}
        for name in sorted(existing | invalid):
            # First: an invalid index is rebuilt under its name.
            stale = name in invalid or (
                name.startswith(CUSTOM_INDEX_PREFIX) and name not in registered
            )
            if stale and not _drop_index(lock, name, concurrently=concurrently):
                work.pop(name, None)  # still there: not built again under its name
        built = sorted(work, key=lambda name: " USING gin " not in work[name].lower())
        create = "CREATE INDEX CONCURRENTLY " if concurrently else "CREATE INDEX "
        pending = [work[name] for name in reversed(built)]
        errors: list[BaseException] = []

        def build() -> None:
            with own_connection() as conn:
                while not errors:
                    try:
                        statement = pending.pop()  # atomic: the lanes share the list
                    except IndexError:
                        return
                    try:
                        conn.execute(statement.replace("CREATE INDEX ", create, 1))
                    except BaseException as exc:
                        errors.append(exc)

        # Two CREATE INDEX CONCURRENTLY on one table wait for each other: one lane.
        lanes = 1 if concurrently else lanes
        threads = [threading.Thread(target=build, name=f"index-{n}") for n in range(lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    return built
