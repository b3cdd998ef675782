"""The development SMTP sink (scripts/smtp_sink.py) receives real SMTP and shows it."""

import importlib.util
import json
import smtplib
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "smtp_sink.py"
_spec = importlib.util.spec_from_file_location("smtp_sink", _PATH)
smtp_sink = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(smtp_sink)


@pytest.fixture
def sink():
    with smtp_sink.SmtpSink(http_port=0) as s:
        yield s


def _send(sink, subject="Spring sale", to=("ann@example.com", "bob@example.com")):
    msg = EmailMessage()
    msg["From"] = "Flock <news@flock.test>"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content("Hello <there> & welcome")
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
        smtp.send_message(msg, to_addrs=[*to, "hidden@example.com"])


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read().decode()


def test_message_arrives_with_subject_and_recipients(sink):
    _send(sink)

    [msg] = sink.messages()
    assert msg["Subject"] == "Spring sale"
    assert msg["To"] == "ann@example.com, bob@example.com"
    assert msg["X-Sink-Envelope-From"] == "news@flock.test"
    assert msg["X-Sink-Envelope-To"] == "ann@example.com, bob@example.com, hidden@example.com"
    assert msg.get_content().strip() == "Hello <there> & welcome"


def test_http_list_and_api_show_messages_newest_first(sink):
    _send(sink, subject="first")
    _send(sink, subject="second <b>")

    status, page = _get(sink.url + "/")
    assert status == 200
    assert page.index("second &lt;b&gt;") < page.index("first")
    assert "<b>" not in page

    _, data = _get(sink.url + "/api/messages")
    items = json.loads(data)
    assert [m["subject"] for m in items] == ["second <b>", "first"]
    assert items[0]["recipients"][-1] == "hidden@example.com"

    status, detail = _get(f"{sink.url}/messages/{items[0]['id']}")
    assert status == 200 and "Hello &lt;there&gt; &amp; welcome" in detail

    req = urllib.request.Request(sink.url + "/api/messages", method="DELETE")
    urllib.request.urlopen(req, timeout=10).close()
    assert sink.messages() == []
