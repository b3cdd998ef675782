"""A real SMTP server for delivery tests: aiosmtpd on a free port, with scripted refusals."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Recorder:
    """Keeps what arrives; refuses addresses listed in `refuse` with their SMTP reply.

    `refuse` maps an address to a list of replies used one per attempt, so
    ["451 4.3.0 Try again later"] refuses once and then accepts; `refuse_data`
    does the same for the reply to a message's content. It advertises PIPELINING,
    as real MTAs do, unless `pipelining` is false.
    """

    def __init__(self, *, pipelining: bool = True):
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, list[str]] = {}
        self.refuse_data: dict[str, list[str]] = {}
        self.pipelining = pipelining
        self.commands: list[str] = []  # every command's verb, in order of arrival

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses = [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RSET(self, server, session, envelope):
        self.commands.append("RSET")
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.commands.append("RCPT")
        replies = self.refuse.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.commands.append("DATA")
        replies = self.refuse_data.get(envelope.rcpt_tos[0])
        if replies:
            return replies.pop(0)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    def __init__(self, *, pipelining: bool = True):
        self.recorder = Recorder(pipelining=pipelining)
        self.port = free_port()
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, server_hostname="test-smtp"
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
