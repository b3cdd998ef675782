"""A pause or cancel reaches the workers sending a mailing between two messages.

The mailing's status in PostgreSQL says whether it may send, and the claim query
hands out no batch of a mailing that is not `sending`. But a batch in flight
would have to read the status before every message to stop at once: a query per
message, about as dear as the message. Reading it once a second let a second's
worth of messages (a thousand, at full speed) out after the button was pressed.

So a pause or cancel, once committed, is also announced on the mailing's Redis
channel. Each batch subscribes before its first message and then, before every
next one, asks the kernel whether anything arrived on that socket: a poll with no
wait and no round trip. Anything at all stops the batch (only stops are ever
published there; a closed socket stops it too, harmlessly: the rows go back and
the next batch subscribes anew). The batch still reads the status once a second,
so a stop whose announcement was lost (Redis away) takes a second at most.
"""

from __future__ import annotations

import logging
import select

import redis

from .journal import client

logger = logging.getLogger(__name__)


def _channel(mailing_id: int) -> str:
    return f"flock:mailing:{mailing_id}:stop"


def announce_stop(mailing_id: int) -> None:
    """Tell the batches sending this mailing to stop before their next message."""
    try:
        client().publish(_channel(mailing_id), "stop")
    except redis.RedisError as exc:  # they see the status within a second anyway
        logger.warning("Mailing %s: stop not announced to its workers: %s", mailing_id, exc)


class StopListener:
    """One batch's subscription to its mailing's stop announcements.

    Subscribed (confirmed by Redis) when built, so any stop committed afterwards
    is heard; the caller reads the status once after building it, which covers a
    stop committed before. Without Redis it hears nothing and says so in the log.
    """

    def __init__(self, mailing_id: int):
        self._pubsub: redis.client.PubSub | None = None
        self._poll: select.poll | None = None
        self._heard = False
        try:
            pubsub = client().pubsub()
            pubsub.subscribe(_channel(mailing_id))
            # Redis's confirmation: from here on every publication reaches this socket.
            confirmation = pubsub.get_message(timeout=5)
            # Anything read with it (a stop published at once) is in the parser's
            # buffer, not the socket: read that too, or the poll would miss it.
            early = pubsub.get_message(timeout=0)
        except (redis.RedisError, OSError) as exc:
            logger.warning("Mailing %s: stop announcements unavailable: %s", mailing_id, exc)
            return
        self._pubsub = pubsub
        if confirmation is None or confirmation.get("type") != "subscribe":
            logger.warning("Mailing %s: Redis did not confirm the stop subscription", mailing_id)
        self._heard = early is not None and early.get("type") == "message"
        # Typed optional (redis 8): a subscribed PubSub always holds its connection.
        connection = pubsub.connection
        if connection is None:
            logger.warning("Mailing %s: the stop subscription has no connection", mailing_id)
            return
        self._poll = select.poll()
        self._poll.register(connection._sock, select.POLLIN | select.POLLHUP)

    def heard(self) -> bool:
        """Whether a stop (or anything) has arrived; one system call, no wait."""
        if self._poll is None:
            return False
        if not self._heard and self._poll.poll(0):
            self._heard = True
        return self._heard

    def close(self) -> None:
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = self._poll = None
