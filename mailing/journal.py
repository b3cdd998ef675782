"""Which messages of a claimed batch the server has accepted, kept in Redis as it says so.

docs/design.md#crashes: a killed worker may have mailed twice at most the one message in flight.
So each acceptance must be on record before the next message goes out. One
UPDATE and commit in PostgreSQL per message costs about as much CPU as the SMTP
exchange itself and held sending to 0.6 of plain smtplib's rate
(docs/benchmarks.md, "Sending"). Instead each acceptance is one SADD to Redis,
written as the server's 250 is read. The journal's connection runs with
`CLIENT REPLY OFF`: Redis sends nothing back, so recording costs one write and
no wait. That write is in the kernel before the next message is written to the
SMTP server, and a killed process's kernel still delivers it: with no unread
replies, its socket closes with a FIN after the data, not a reset. A batch
first proves that Redis takes its writes and honours REPLY OFF, and ends by
turning replies on and counting the journal, so a Redis that lost or refused
records is noticed. PostgreSQL learns the acceptances in one UPDATE
about once a second and at the end of the batch (mailing.services).

A journal is keyed by its claim's random token (Delivery.claim), so it can never
be mistaken for another batch's, even by a database restored beside an older
Redis. When a worker dies, the beat (`deliveries_release_expired`) reads the
journal of each expired claim: what it lists is marked sent, the rest goes back
to pending. A journal outlives a claim by a week at most (its TTL).

What the journal cannot survive, each time with a few messages going out twice:
the worker's machine (or its container's network) going away with a record still
unsent in its kernel; Redis losing its data (a restart without persistence, an
eviction policy other than Redis's default `noeviction`) while a worker dies. The
journals live at FLOCK_SEND_JOURNAL_URL, by default REDIS_URL.
"""

from __future__ import annotations

import secrets

import redis
from django.conf import settings

TTL_SECONDS = 7 * 24 * 3600


class JournalUnavailable(RuntimeError):
    """Redis cannot take the journal, so nothing may be sent (an acceptance could be lost)."""


_clients: dict[str, redis.Redis] = {}


def client() -> redis.Redis:
    """The Redis of the sending workers' records: journals and stop announcements."""
    url = settings.SEND_JOURNAL_URL
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
    return [int(member) for member in client().smembers(_key(claim)) if member != b"0"]


class SentJournal:
    """One batch's journal, written over a Redis connection of its own, replies off.

    Every method raises JournalUnavailable when Redis cannot take the records:
    the caller must then stop sending, as an acceptance could go unrecorded.
    """

    def __init__(self, claim: int):
        self.key = _key(claim)
        self._pool = client().connection_pool
        self._added = 0
        self._conn: redis.Connection | None = None  # None once given back
        try:
            self._conn = self._pool.get_connection()
        except redis.RedisError as exc:
            raise JournalUnavailable(f"Redis cannot journal sent messages: {exc}") from exc
        # With replies still on, a first write proves that Redis takes writes (a full
        # one refuses) and gives the journal its lifetime; 0 is no delivery id. Then
        # a probe: with REPLY OFF honoured, the first echo goes unanswered. A server
        # or proxy that ignores it would leave replies unread on the connection, and
        # a killed worker's socket would then be reset, its last records dropped.
        *_, echoed = self._call(
            [
                ("SADD", self.key, 0),
                ("EXPIRE", self.key, TTL_SECONDS),
                ("CLIENT", "REPLY", "OFF"),
                ("ECHO", "unanswered"),
                ("CLIENT", "REPLY", "ON"),
                ("ECHO", "answered"),
                ("CLIENT", "REPLY", "OFF"),
            ],
            replies=4,
        )
        if echoed != b"answered":
            self._discard()
            raise JournalUnavailable("Redis does not honour CLIENT REPLY OFF.")

    def add(self, delivery_id: int) -> None:
        try:
            self._open().send_command("SADD", self.key, delivery_id, check_health=False)
        except redis.RedisError as exc:
            self._discard()
            raise JournalUnavailable(f"Redis stopped taking the journal: {exc}") from exc
        self._added += 1

    def close(self, *, delete: bool) -> None:
        """Check that Redis holds every record, and give the connection back.

        With `delete`, the journal is deleted (PostgreSQL has all of it).
        """
        if self._conn is None:  # already given up: an error was raised
            return
        commands = [("CLIENT", "REPLY", "ON"), ("SCARD", self.key)]
        if delete:
            commands.append(("DEL", self.key))
        _, held, *_ = self._call(commands, replies=len(commands))
        self._pool.release(self._open())
        self._conn = None
        if held != self._added + 1:  # the records and the placeholder
            raise JournalUnavailable(
                f"Journal {self.key} is incomplete in Redis: "
                f"{max(held - 1, 0)} of its {self._added} records."
            )

    def _open(self) -> redis.Connection:
        if self._conn is None:
            raise JournalUnavailable(f"Journal {self.key} is closed.")
        return self._conn

    def _call(self, commands: list[tuple], *, replies: int) -> list:
        conn = self._open()
        try:
            conn.send_packed_command(conn.pack_commands(commands), check_health=False)
            return [conn.read_response() for _ in range(replies)]
        except redis.RedisError as exc:
            self._discard()
            raise JournalUnavailable(f"Redis cannot journal sent messages: {exc}") from exc

    def _discard(self) -> None:
        """A connection in an unknown state (replies off?) is closed, not reused."""
        conn = self._open()
        conn.disconnect()
        self._pool.release(conn)
        self._conn = None
