"""A thread in each Celery worker that LISTENs for `flock_contacts_changed` (sent by
the journal's triggers, delivered once per transaction at its commit) and queues a
membership settle: a write is re-checked within milliseconds and never waits for
it. Should the thread miss one, the beat's minute settle takes the journal anyway."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from django.db import connection

log = logging.getLogger(__name__)
CHANNEL = "flock_contacts_changed"


def _listen() -> None:
    from .tasks import membership_settle_soon

    params = connection.get_connection_params()
    while True:
        try:
            with psycopg.connect(**params, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                membership_settle_soon()  # writes made while nobody listened
                for _ in conn.notifies():
                    membership_settle_soon()
        except Exception:  # a restarted database, a lost connection: listen again
            log.exception("segment membership listener stopped; listening again in 5 s")
            time.sleep(5)


def start_listener(**_kwargs) -> None:
    threading.Thread(target=_listen, name="flock-membership-listener", daemon=True).start()
