"""Which messages of a claimed batch the server has accepted, kept in Redis as it says so.

SPEC §5.4: a killed worker may have mailed twice at most the one message in flight.
So each acceptance must be on record before the next message goes out. One
UPDATE and commit in PostgreSQL per message costs about as much CPU as the SMTP
exchange itself and held sending to 0.6 of plain smtplib's rate
(docs/benchmarks.md, "Sending"). One SADD to Redis costs a tenth of that: the
command goes out as the server's 250 is read, and its reply is read just before
the next message's content is written (`confirm`), by when it has long arrived.
PostgreSQL learns the acceptances in one UPDATE about once a second and at the
end of the batch (mailing.services).

A journal is keyed by its claim's random token (Delivery.claim), so it can never
be mistaken for another batch's, even by a database restored beside an older
Redis. When a worker dies, the beat (`deliveries_release_expired`) reads the
journal of each expired claim: what it lists is marked sent, the rest goes back
to pending. A journal outlives a claim by a week at most (its TTL).
"""

from __future__ import annotations

import secrets

import redis
from django.conf import settings

TTL_SECONDS = 7 * 24 * 3600


class JournalUnavailable(RuntimeError):
    """Redis cannot take the journal, so nothing may be sent (an acceptance could be lost)."""

_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    return _clients[url]


def _key(claim: int) -> str:
    return f"flock:sent:{claim}"


def new_claim() -> int:
    """A claim's token: random, positive, fits a bigint."""
    return secrets.randbits(62) + 1


def accepted(claim: int) -> list[int]:
    """The delivery ids a claim's journal lists as accepted by the server."""
    return [int(member) for member in _client().smembers(_key(claim))]


def forget(*claims: int) -> None:
    if claims:
        _client().delete(*(_key(claim) for claim in claims))


class SentJournal:
    """One batch's journal, written over a Redis connection of its own.

    `add` sends the SADD and returns at once; `confirm` reads the replies still
    owed. Raises redis.RedisError when Redis cannot take the record: the caller
    must then stop sending, since an acceptance could go unrecorded.
    """

    def __init__(self, claim: int):
        self.key = _key(claim)
        self._pool = _client().connection_pool
        self._conn = self._pool.get_connection()
        self._owed = 0
        self._fresh = True

    def add(self, delivery_id: int) -> None:
        if self._fresh:  # the first record of the batch sets the journal's lifetime
            self._conn.send_packed_command(
                self._conn.pack_commands(
                    [("SADD", self.key, delivery_id), ("EXPIRE", self.key, TTL_SECONDS)]
                )
            )
            self._owed += 2
            self._fresh = False
            return
        self._conn.send_command("SADD", self.key, delivery_id)
        self._owed += 1

    def confirm(self) -> None:
        """Wait until Redis has every record sent so far."""
        while self._owed:
            self._conn.read_response()
            self._owed -= 1

    def close(self, *, forget: bool) -> None:
        """Give the connection back; with `forget`, the journal is deleted first
        (PostgreSQL has all of it)."""
        try:
            if forget:
                self.confirm()
                self._conn.send_command("DEL", self.key)
                self._conn.read_response()
        except redis.RedisError:
            self._conn.disconnect()  # the TTL removes the journal
            raise
        finally:
            if self._owed:
                self._conn.disconnect()  # replies owed: not reusable as it is
            self._pool.release(self._conn)
