"""Unsubscribing by mail: the List-Unsubscribe mailto, inbound webhooks and the pipe command."""

from __future__ import annotations

import base64
import email
import io
import re
from email import policy

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from contacts.models import Contact
from mailing.messages import MessageTemplate
from mailing.models import Mailing
from mailing.unsubscribe import make_token, read_token

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
INBOUND = "/webhooks/postmark/inbound/"


@pytest.fixture(autouse=True)
def mailto(settings):
    settings.UNSUBSCRIBE_MAILTO = "unsubscribe@lists.example.com"
    settings.ANYMAIL = {"WEBHOOK_SECRET": "user:pass"}


def list_unsubscribe(contact) -> str:
    template = MessageTemplate(Mailing(pk=5, subject="Hi", body="Hello", from_email="a@b.example"))
    rendered = template.render(contact, contact_id=contact.pk)
    message = email.message_from_bytes(
        template.mime(rendered, to=contact.email), policy=policy.default
    )
    return message["List-Unsubscribe"]


def is_unsubscribed(contact) -> bool:
    return Contact.objects.get(pk=contact.pk).is_unsubscribed


def test_the_header_offers_the_link_and_a_mailto_carrying_the_token():
    contact = ContactFactory()
    header = list_unsubscribe(contact)
    link, mailto = re.fullmatch(r"<(.+)>, <(.+)>", header).groups()
    assert link.startswith("http")
    address, subject = re.fullmatch(r"mailto:(.+)\?subject=unsubscribe%20(.+)", mailto).groups()
    assert address == "unsubscribe@lists.example.com"
    assert read_token(subject) == (contact.pk, 5)


def test_without_a_configured_address_there_is_no_mailto(settings):
    settings.UNSUBSCRIBE_MAILTO = ""
    assert "mailto:" not in list_unsubscribe(ContactFactory())


def inbound(subject: str) -> dict:
    """A Postmark inbound webhook payload."""
    return {
        "FromFull": {"Email": "someone@example.com", "Name": ""},
        "ToFull": [{"Email": "unsubscribe@lists.example.com", "Name": ""}],
        "Subject": subject,
        "Headers": [],
        "TextBody": "",
    }


def post_inbound(payload: dict, credentials: str | None = "user:pass"):
    headers = {}
    if credentials:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    return Client(enforce_csrf_checks=True).post(
        INBOUND, payload, content_type="application/json", **headers
    )


def test_mail_to_the_mailto_address_unsubscribes_through_the_inbound_webhook():
    contact, other = ContactFactory(), ContactFactory()
    token = make_token(contact_id=contact.pk, mailing_id=5)
    response = post_inbound(inbound(f"Re: unsubscribe {token}"))
    assert response.status_code == 200
    assert is_unsubscribed(contact) and not is_unsubscribed(other)
    assert post_inbound(inbound(f"unsubscribe {token}")).status_code == 200  # idempotent
    assert is_unsubscribed(contact)


def test_the_inbound_webhook_refuses_requests_without_the_secret():
    contact = ContactFactory()
    token = make_token(contact_id=contact.pk, mailing_id=5)
    assert post_inbound(inbound(f"unsubscribe {token}"), credentials=None).status_code == 401
    assert post_inbound(inbound(f"unsubscribe {token}"), "user:wrong").status_code == 401
    assert not is_unsubscribed(contact)


def test_inbound_mail_with_a_forged_or_no_token_changes_nothing():
    contact = ContactFactory()
    token = make_token(contact_id=contact.pk, mailing_id=5)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for subject in (f"unsubscribe {forged}", "unsubscribe", "Hello there", ""):
        assert post_inbound(inbound(subject)).status_code == 200  # no retries from the ESP
    assert not is_unsubscribed(contact)


def raw_mail(subject: str) -> bytes:
    return (
        "From: someone@example.com\r\nTo: unsubscribe@lists.example.com\r\n"
        f"Subject: {subject}\r\n\r\nPlease remove me.\r\n"
    ).encode()


def test_the_pipe_command_unsubscribes_from_a_mail_on_stdin(monkeypatch):
    contact = ContactFactory()
    token = make_token(contact_id=contact.pk, mailing_id=5)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw_mail(f"unsubscribe {token}"))))
    call_command("unsubscribe_mail", stdout=out)
    assert is_unsubscribed(contact)
    assert out.getvalue().strip() == f"Contact {contact.pk} unsubscribed."


def test_the_pipe_command_reads_a_file_and_says_what_is_wrong(tmp_path):
    contact = ContactFactory()
    mail = tmp_path / "mail.eml"
    mail.write_bytes(raw_mail("Hello"))
    with pytest.raises(CommandError, match="No unsubscribe token in the subject"):
        call_command("unsubscribe_mail", str(mail))
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("unsubscribe_mail", str(tmp_path / "missing.eml"))
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="No message given"):
        call_command("unsubscribe_mail", str(empty))
    assert not is_unsubscribed(contact)
