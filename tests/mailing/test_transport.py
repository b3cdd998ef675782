"""mailing.transport against real SMTP servers: verdicts per message, pipelined or not."""

from __future__ import annotations

import smtplib
import socket
import threading

import pytest

from mailing.transport import Refusal, _path, transmit

from .smtp import SmtpServer

SENDER = "news@flock.example"


def message(n: int, body: str = "Hello") -> bytes:
    return f"From: {SENDER}\r\nTo: r{n}@example.com\r\nSubject: n{n}\r\n\r\n{body}\r\n".encode()


def batch(count: int, **kwargs) -> list[tuple[int, str, bytes]]:
    return [(n, f"r{n}@example.com", message(n, **kwargs)) for n in range(count)]


@pytest.fixture(params=[True, False], ids=["pipelining", "no-pipelining"])
def server(request):
    with SmtpServer(pipelining=request.param) as server:
        yield server


@pytest.fixture
def smtp(server):
    connection = smtplib.SMTP("127.0.0.1", server.port, timeout=10)
    yield connection
    connection.close()


def test_every_message_arrives_once_and_each_gets_its_verdict_in_order(server, smtp):
    verdicts = list(transmit(smtp, SENDER, batch(5)))
    assert verdicts == [(n, None) for n in range(5)]
    assert [m["Subject"] for m in server.recorder.messages] == [f"n{n}" for n in range(5)]


def test_a_refused_recipient_fails_alone_and_the_rest_still_go(server, smtp):
    server.recorder.refuse["r1@example.com"] = ["550 5.1.1 No such user"]
    server.recorder.refuse["r3@example.com"] = ["451 4.3.0 Try again later"]
    verdicts = dict(transmit(smtp, SENDER, batch(5)))
    assert verdicts[1] == Refusal("RCPT", 550, "5.1.1 No such user")
    assert verdicts[1].permanent
    assert verdicts[3] == Refusal("RCPT", 451, "4.3.0 Try again later")
    assert not verdicts[3].permanent
    assert [verdicts[n] for n in (0, 2, 4)] == [None, None, None]
    assert sorted(m["To"] for m in server.recorder.messages) == [
        "r0@example.com", "r2@example.com", "r4@example.com"
    ]  # fmt: skip


def test_a_message_refused_after_its_content_is_reported_at_data(server, smtp):
    server.recorder.refuse_data["r0@example.com"] = ["554 5.6.0 Content rejected"]
    verdicts = dict(transmit(smtp, SENDER, batch(3)))
    assert verdicts == {0: Refusal("DATA", 554, "5.6.0 Content rejected"), 1: None, 2: None}
    assert [m["To"] for m in server.recorder.messages] == ["r1@example.com", "r2@example.com"]


def test_lines_that_start_with_a_dot_arrive_as_written(server, smtp):
    body = ".leading dot\r\n..two dots\r\n.\r\nlast"
    assert list(transmit(smtp, SENDER, batch(2, body=body))) == [(0, None), (1, None)]
    for received in server.recorder.messages:
        assert received.get_content() == body + "\r\n"


def test_the_caller_may_stop_feeding_messages_and_gets_the_verdict_of_the_last(server, smtp):
    def two_then_stop():
        yield from batch(2)
        # the caller decided to stop (a pause, the end of its lease)

    assert list(transmit(smtp, SENDER, two_then_stop())) == [(0, None), (1, None)]
    assert len(server.recorder.messages) == 2


class ChunkServer:
    """A bare SMTP server on a socket that notes what each read of the client's bytes held.

    It accepts everything, answers each command as it is read, and says whether it
    offers PIPELINING; `reads` is the list of chunks received after the greeting.
    """

    def __init__(self, *, pipelining: bool):
        self.pipelining = pipelining
        self.reads: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.sendall(b"220 chunks ESMTP\r\n")
            buffer, in_data = b"", False
            while chunk := conn.recv(65536):
                self.reads.append(chunk)
                buffer += chunk
                replies = []
                while True:
                    if in_data:
                        end = buffer.find(b"\r\n.\r\n")
                        if end < 0:
                            break
                        buffer, in_data = buffer[end + 5 :], False
                        replies.append(b"250 2.0.0 Ok: queued\r\n")
                        continue
                    line, sep, rest = buffer.partition(b"\r\n")
                    if not sep:
                        break
                    buffer, verb = rest, line[:4].upper()
                    if verb == b"EHLO":
                        extra = b"250-PIPELINING\r\n" if self.pipelining else b""
                        replies.append(b"250-chunks\r\n" + extra + b"250 8BITMIME\r\n")
                    elif verb == b"DATA":
                        replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        buffer, in_data = b"\r\n" + buffer, True
                    elif verb == b"QUIT":
                        conn.sendall(b"221 Bye\r\n")
                        return
                    else:
                        replies.append(b"250 Ok\r\n")
                conn.sendall(b"".join(replies))

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_pipelining_server_gets_one_write_per_message_and_others_one_per_command(pipelining):
    server = ChunkServer(pipelining=pipelining)
    smtp = smtplib.SMTP("127.0.0.1", server.port, timeout=10)
    try:
        assert list(transmit(smtp, SENDER, batch(20))) == [(n, None) for n in range(20)]
        smtp.quit()
    finally:
        smtp.close()
        server.close()
    writes = server.reads[1:-1]  # after EHLO, before QUIT
    if pipelining:
        # The envelope of the first message, then each content with the next envelope.
        assert len(writes) == 21
        assert all(w.count(b"MAIL FROM:") == 1 for w in writes[:-1])
    else:
        assert len(writes) >= 20 * 4  # MAIL, RCPT, DATA and the content, each waited for
        assert all(w.count(b"MAIL FROM:") <= 1 for w in writes)


@pytest.mark.parametrize(
    "address",
    [
        "ada@example.com",
        "first.last+tag@sub.example.co.uk",
        "xn--bcher-kva@xn--bcher-kva.example",
        "Ada Lovelace <ada@example.com>",
        '"odd local"@example.com',
        "ada@[192.0.2.1]",
        "<ada@example.com>",
        "no-at-sign",
    ],
)
def test_envelope_addresses_are_written_as_smtplib_would(address):
    assert _path(address) == smtplib.quoteaddr(address)
