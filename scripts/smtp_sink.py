#!/usr/bin/env python3
"""Local SMTP sink for development and tests.

Every message received over SMTP is stored as ``<time_ns>-<n>.eml`` in a folder, with the
SMTP envelope recorded in ``X-Sink-Envelope-From`` / ``X-Sink-Envelope-To`` headers
prepended to the message. A tiny web UI lists and shows the messages:

    GET    /                     HTML list, newest first
    GET    /messages/<id>        one message (headers + text body)
    GET    /messages/<id>.eml    raw source
    GET    /api/messages         JSON list [{id, from, to, subject, date, ...}], newest first
    GET    /api/messages/<id>    JSON of one message including its text body
    DELETE /api/messages         remove every stored message

Command line (``make dev`` runs this):

    python scripts/smtp_sink.py --smtp-port 1025 --http-port 8025 --dir .data/mail

In tests::

    with SmtpSink() as sink:          # free ports, temporary folder
        smtplib.SMTP("127.0.0.1", sink.port).send_message(msg)
        sink.messages()               # -> [email.message.EmailMessage]
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import re
import signal
import socket
import sys
import tempfile
import threading
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HOST = "127.0.0.1"
_ID_RE = re.compile(r"^\d+-\d+$")


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class MailStore:
    """A folder of ``<time_ns>-<n>.eml`` files."""

    def __init__(self, directory: Path | str):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)

    def save(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> str:
        msg_id = f"{time.time_ns()}-{next(self._counter)}"
        envelope = (
            f"X-Sink-Envelope-From: {mail_from}\r\nX-Sink-Envelope-To: {', '.join(rcpt_tos)}\r\n"
        )
        tmp = self.dir / f".{msg_id}.tmp"
        tmp.write_bytes(envelope.encode("utf-8") + content)
        tmp.rename(self.dir / f"{msg_id}.eml")  # atomic: readers never see half a message
        return msg_id

    def ids(self) -> list[str]:
        """Message ids, oldest first."""
        stems = [p.stem for p in self.dir.glob("*.eml") if _ID_RE.match(p.stem)]
        return sorted(stems, key=lambda s: tuple(int(x) for x in s.split("-")))

    def path(self, msg_id: str) -> Path | None:
        if not _ID_RE.match(msg_id):
            return None
        p = self.dir / f"{msg_id}.eml"
        return p if p.is_file() else None

    def load(self, msg_id: str) -> EmailMessage | None:
        p = self.path(msg_id)
        if p is None:
            return None
        with p.open("rb") as f:
            return BytesParser(policy=policy.default).parse(f)

    def clear(self) -> None:
        for p in self.dir.glob("*.eml"):
            p.unlink(missing_ok=True)


def summary(msg_id: str, msg: EmailMessage) -> dict:
    recipients = str(msg.get("X-Sink-Envelope-To", ""))
    return {
        "id": msg_id,
        "from": str(msg.get("From", "")),
        "to": str(msg.get("To", "")),
        "subject": str(msg.get("Subject", "")),
        "date": str(msg.get("Date", "")),
        "envelope_from": str(msg.get("X-Sink-Envelope-From", "")),
        "recipients": [r.strip() for r in recipients.split(",") if r.strip()],
    }


def text_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        return part.get_content()
    except (LookupError, KeyError):
        payload = part.get_payload(decode=True)
        # get_body() picked a text/plain or text/html part, never a multipart: decoded, bytes.
        assert isinstance(payload, bytes)
        return payload.decode("utf-8", "replace")


class _SmtpHandler:
    def __init__(self, store: MailStore):
        self.store = store

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        # Like any real MTA: Flock then sends a message per round trip (RFC 2920).
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.store.save(envelope.mail_from, list(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}
td,th{{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}}
pre{{white-space:pre-wrap;background:#f6f6f6;padding:1rem}}</style></head>
<body>{body}</body></html>"""


class _HttpHandler(BaseHTTPRequestHandler):
    store: MailStore  # set on the subclass made per server

    def log_message(self, format, *args):  # keep the dev console quiet
        pass

    def _send(self, status, body: bytes | str, ctype="text/html; charset=utf-8", headers=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _json(self, obj, status=HTTPStatus.OK):
        self._send(status, json.dumps(obj, indent=1), "application/json")

    def _not_found(self):
        self._send(HTTPStatus.NOT_FOUND, _PAGE.format(title="Not found", body="<p>Not found</p>"))

    def _summaries(self) -> list[dict]:
        out = []
        for msg_id in reversed(self.store.ids()):
            msg = self.store.load(msg_id)
            if msg is not None:
                out.append(summary(msg_id, msg))
        return out

    def do_GET(self):  # noqa: N802
        path = urlsplit(self.path).path.rstrip("/") or "/"
        if path == "/":
            return self._index()
        if path == "/api/messages":
            return self._json(self._summaries())
        if m := re.fullmatch(r"/api/messages/([\d-]+)", path):
            msg = self.store.load(m[1])
            if msg is None:
                return self._json({"error": "not found"}, HTTPStatus.NOT_FOUND)
            return self._json(summary(m[1], msg) | {"text": text_body(msg)})
        if m := re.fullmatch(r"/messages/([\d-]+)\.eml", path):
            p = self.store.path(m[1])
            if p is None:
                return self._not_found()
            return self._send(HTTPStatus.OK, p.read_bytes(), "text/plain; charset=utf-8")
        if m := re.fullmatch(r"/messages/([\d-]+)", path):
            return self._show(m[1])
        return self._not_found()

    do_HEAD = do_GET

    def do_DELETE(self):  # noqa: N802
        if urlsplit(self.path).path.rstrip("/") == "/api/messages":
            self.store.clear()
            return self._send(HTTPStatus.NO_CONTENT, b"", "text/plain")
        return self._not_found()

    def do_POST(self):  # noqa: N802 (the "clear" button of the HTML page)
        if urlsplit(self.path).path.rstrip("/") == "/clear":
            self.store.clear()
            return self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": "/"})
        return self._not_found()

    def _index(self):
        e = html.escape
        rows = "".join(
            f"<tr><td>{e(s['date'])}</td><td>{e(s['from'])}</td><td>{e(s['to'])}</td>"
            f'<td><a href="/messages/{s["id"]}">{e(s["subject"]) or "(no subject)"}</a></td></tr>'
            for s in self._summaries()
        )
        body = (
            '<h1>Flock mail sink</h1><form method="post" action="/clear">'
            "<button>Delete all</button></form>"
            "<table><tr><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr>"
            f"{rows or '<tr><td colspan=4>No messages yet.</td></tr>'}</table>"
        )
        self._send(HTTPStatus.OK, _PAGE.format(title="Mail sink", body=body))

    def _show(self, msg_id: str):
        msg = self.store.load(msg_id)
        if msg is None:
            return self._not_found()
        e = html.escape
        headers = "\n".join(f"{k}: {v}" for k, v in msg.items())
        body = (
            f'<p><a href="/">&larr; all messages</a> · <a href="/messages/{msg_id}.eml">raw</a></p>'
            f"<h1>{e(str(msg.get('Subject', '')))}</h1><pre>{e(headers)}</pre>"
            f"<pre>{e(text_body(msg))}</pre>"
        )
        self._send(HTTPStatus.OK, _PAGE.format(title="Message", body=body))


class SmtpSink:
    """SMTP server (aiosmtpd) + optional web UI, runnable in-process.

    ``port=0`` picks a free port; ``directory=None`` stores in a temporary folder that is
    removed by ``stop()``; ``http_port=None`` runs no web UI (0 picks a free port).
    """

    def __init__(self, directory=None, *, host=HOST, port=0, http_port=None):
        self.host = host
        self.port = port
        self.http_port = http_port
        self._tmp = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smtp-sink-")
            directory = self._tmp.name
        self.store = MailStore(directory)
        self._controller = None
        self._httpd = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller  # imported late: stdlib-only module import

        if not self.port:
            self.port = free_port(self.host)
        self._controller = Controller(
            _SmtpHandler(self.store),
            hostname=self.host,
            port=self.port,
            server_hostname="flock-smtp-sink",  # avoids a slow getfqdn() lookup
            ready_timeout=10,
        )
        self._controller.start()
        if self.http_port is not None:
            try:
                handler = type("Handler", (_HttpHandler,), {"store": self.store})
                self._httpd = ThreadingHTTPServer((self.host, self.http_port), handler)
            except OSError:
                self._controller.stop()
                raise
            self._httpd.daemon_threads = True
            self.http_port = self._httpd.server_address[1]
            threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def messages(self) -> list[EmailMessage]:
        """Received messages, oldest first."""
        return [m for m in map(self.store.load, self.store.ids()) if m is not None]

    def clear(self) -> None:
        self.store.clear()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smtp-port", type=int, default=1025)
    p.add_argument("--http-port", type=int, default=8025)
    p.add_argument("--dir", default=".data/mail", help="folder for received .eml files")
    p.add_argument("--host", default=HOST)
    args = p.parse_args(argv)

    sink = SmtpSink(args.dir, host=args.host, port=args.smtp_port, http_port=args.http_port)
    try:
        sink.start()
    except Exception as exc:  # port taken etc.: one clear line, no traceback
        print(f"smtp_sink: cannot start on {args.host}: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(
        f"SMTP sink listening on smtp://{args.host}:{sink.port}, "
        f"messages in {args.dir}, web UI at {sink.url}",
        flush=True,
    )
    while not done.wait(1):
        pass
    sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
