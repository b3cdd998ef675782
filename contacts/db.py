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

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection
from django.db.models import UniqueConstraint

from .models import Contact, ContactTag, GroupMembership

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


class IndexesSetAside:
    """Drop what slows a bulk load down, and put it back afterwards (as pg_restore does).

    * the contact table's Meta.indexes and unique constraints (the unique e-mail index is
      built in a couple of seconds, but maintained row by row it costs much more), via
      Django's schema editor so they are exactly what the migrations created;
    * the foreign keys of ContactTag and GroupMembership: re-adding one validates all
      rows with a single join, where a deferred FK checks and locks one row at a time.
      They are restored from their catalog definition (pg_get_constraintdef).

    Must run inside a transaction: PostgreSQL's DDL is transactional, so if the load
    fails or is interrupted, the rollback restores everything that was dropped. The
    drop locks the contact table against readers too until the commit: for a load
    into an empty table (the demo data, a first import).
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
                cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_qn(name)}")

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


def own_connection() -> psycopg.Connection:
    """A connection of its own to Django's database, in autocommit: for work that must
    not wait for (or be rolled back with) the caller's transaction."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


# The first key of the advisory lock that lets one process build the indexes.
_BUILD_LOCK = 0x464C4B58  # "FLKX"


def build_missing_indexes(*, lanes: int = 2) -> list[str]:
    """Build the contact table's Meta.indexes that the database lacks, `lanes` at a
    time on connections of their own, the largest (GIN) first; their names.

    After a bulk load committed without them (PostgreSQL 15 builds a GIN index on
    one core: two at once take half the time), and as the repair if that build was
    stopped. Each CREATE INDEX blocks writes to the table, not reads, while it runs.
    One process builds at a time; another caller returns at once."""
    table = Contact._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s",
            [table],
        )
        existing = {name for (name,) in cur.fetchall()}
    missing = [i for i in Contact._meta.indexes if i.name not in existing]
    if not missing:
        return []
    with connection.schema_editor(collect_sql=True) as editor:
        work = [str(i.create_sql(Contact, editor)) for i in missing]
    work.sort(key=lambda statement: " USING gin " not in statement.lower())
    with own_connection() as lock:
        row = lock.execute("SELECT pg_try_advisory_lock(%s)", [_BUILD_LOCK]).fetchone()
        if not (row and row[0]):
            return []
        pending = list(reversed(work))
        errors: list[BaseException] = []

        def build() -> None:
            with own_connection() as conn:
                while not errors:
                    try:
                        statement = pending.pop()  # atomic: the lanes share the list
                    except IndexError:
                        return
                    try:
                        # IF NOT EXISTS: an index built by a process that lost the lock.
                        conn.execute(statement.replace("INDEX ", "INDEX IF NOT EXISTS ", 1))
                    except BaseException as exc:
                        errors.append(exc)

        threads = [threading.Thread(target=build, name=f"index-{n}") for n in range(lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    return [i.name for i in missing]
