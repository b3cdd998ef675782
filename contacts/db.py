"""What the contact tables promise in PostgreSQL, beyond what the models say.

Contact.tag_ids mirrors the ContactTag rows: statement-level triggers on the link
table (migration contacts 0003, `flock_tag_ids_add` / `flock_tag_ids_remove`) add
or remove the ids each INSERT, UPDATE or DELETE of links changed, so tag rules can
read one indexed array instead of joining the links. Every write of links keeps it
right without doing anything; the one thing a writer may do is switch the
triggers off for a statement whose contacts already carry the right array.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
