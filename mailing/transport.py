"""A batch of messages over one SMTP connection, one round trip per message.

`smtplib.SMTP.sendmail` waits for the server after each of MAIL, RCPT, DATA and
the message: four round trips, each a wake-up of both processes. A server that
advertises PIPELINING (RFC 2920; Postfix, Exim, every ESP relay) takes MAIL, RCPT
and DATA in one write, and the end of one message may travel with the next
envelope. So each message costs one write and one read here: the content of
message N goes with the envelope of N+1, and the server's verdict on N arrives
with its replies to that envelope. The message is never written before its 354,
so a refused recipient can never make the server read the content as commands.

The connection itself (TLS, AUTH, EHLO) stays Django's SMTP backend's; servers
without PIPELINING get plain `sendmail`. Either way the caller sees one verdict
per message, in order, as soon as the server has given it.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

Key = TypeVar("Key")

_LEADING_DOT = re.compile(rb"(?m)^\.")
# A bare local@domain, nothing that the address parser would have to read.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


@dataclass(frozen=True, slots=True)
class Refusal:
    """The server's no to one message: at which command, with its reply."""

    stage: str  # "MAIL", "RCPT" or "DATA"
    code: int
    text: str

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


def transmit(
    smtp: smtplib.SMTP, sender: str, messages: Iterable[tuple[Key, str, bytes]]
) -> Iterator[tuple[Key, Refusal | None]]:
    """Send (key, recipient, RFC 5322 bytes) messages; yield (key, None) once accepted.

    A refusal is yielded as (key, Refusal). A lost connection raises OSError or
    SMTPServerDisconnected: the messages without a verdict yet, the one in flight
    included, have an unknown fate and are the caller's to retry. `messages` is
    read lazily, one ahead of the verdicts, so the caller may stop it at any time.
    """
    smtp.ehlo_or_helo_if_needed()  # Django's backend connects, but says EHLO on first use
    if smtp.does_esmtp and smtp.has_extn("pipelining"):
        yield from _pipelined(smtp, sender, messages)
    else:
        for key, recipient, data in messages:
            yield key, _sendmail(smtp, sender, recipient, data)


def _pipelined(smtp, sender, messages):
    mail = f"MAIL FROM:{_path(sender)}\r\n".encode("ascii")
    waiting: tuple | None = None  # (key,) whose content went out, verdict not read yet
    content = b""  # that content, written together with the next envelope
    reset = False  # a refused transaction must be reset before the next MAIL
    for key, recipient, data in messages:
        try:
            rcpt = f"RCPT TO:{_path(recipient)}\r\n".encode("ascii")
        except UnicodeEncodeError:
            yield key, Refusal("RCPT", 553, "5.1.3 Address is not ASCII (no SMTPUTF8 here)")
            continue
        smtp.send(b"".join((content, b"RSET\r\n" if reset else b"", mail, rcpt, b"DATA\r\n")))
        content = b""
        if waiting is not None:
            yield waiting[0], _verdict(smtp, "DATA", (250,))
            waiting = None
        if reset:
            smtp.getreply()
            reset = False
        # Both replies are read whatever the first says: they are on their way.
        sender_refused = _verdict(smtp, "MAIL", (250,))
        recipient_refused = _verdict(smtp, "RCPT", (250, 251))
        refusal = sender_refused or recipient_refused
        code, text = smtp.getreply()
        if refusal is None and code == 354:
            waiting, content = (key,), _dot_stuffed(data)
            continue
        if code == 354:  # a server that wants content for a refused envelope: none
            smtp.send(b".\r\n")
            smtp.getreply()
        reset = True
        yield key, refusal or Refusal("DATA", code, _text(text))
    if waiting is not None:
        smtp.send(content)
        yield waiting[0], _verdict(smtp, "DATA", (250,))


def _path(address: str) -> str:
    """MAIL FROM / RCPT TO's <address>: what smtplib.quoteaddr gives, without its
    parser (a sixth of a message's cost) for the plain addresses of nearly everyone."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _verdict(smtp: smtplib.SMTP, stage: str, ok: tuple[int, ...]) -> Refusal | None:
    code, text = smtp.getreply()
    return None if code in ok else Refusal(stage, code, _text(text))


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA form of a message: leading dots doubled, CRLF and the final dot added."""
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _sendmail(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> Refusal | None:
    try:
        smtp.sendmail(sender, [recipient], data)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        return Refusal("RCPT", code, _text(reply))
    except smtplib.SMTPSenderRefused as exc:
        return Refusal("MAIL", exc.smtp_code, _text(exc.smtp_error))
    except smtplib.SMTPResponseException as exc:  # refused at DATA or after the content
        return Refusal("DATA", exc.smtp_code, _text(exc.smtp_error))
    except smtplib.SMTPServerDisconnected:
        raise
    except smtplib.SMTPException as exc:  # anything else: not the message's fault, try later
        return Refusal("DATA", 0, str(exc))
    except UnicodeEncodeError:
        return Refusal("RCPT", 553, "5.1.3 Address is not ASCII (no SMTPUTF8 here)")
    return None


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
