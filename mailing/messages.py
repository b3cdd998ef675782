"""One recipient's message: merged subject and body, unsubscribe link and headers."""

from __future__ import annotations

from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape

from .merge import render_html, render_text
from .models import Mailing
from .unsubscribe import unsubscribe_url


def build_message(*, mailing: Mailing, contact, to: str, connection=None) -> EmailMultiAlternatives:
    """Text and HTML parts, a personal unsubscribe link in both, RFC 8058 headers."""
    link = unsubscribe_url(contact_id=contact.pk, mailing_id=mailing.pk)
    text = f"{render_text(mailing.body, contact)}\n\n--\nUnsubscribe: {link}\n"
    html_body = render_html(mailing.body, contact).replace("\n", "<br>\n")
    html = (
        f"<div>{html_body}</div>\n"
        f'<p style="font-size:12px;color:#667085"><a href="{escape(link)}">Unsubscribe</a></p>'
    )
    list_unsubscribe = f"<{link}>"
    if settings.UNSUBSCRIBE_MAILTO:
        list_unsubscribe += f", <mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe>"
    domain = mailing.from_email.rpartition("@")[2].strip(" >") or "flock.localhost"
    message = EmailMultiAlternatives(
        subject=render_text(mailing.subject, contact),
        body=text,
        from_email=mailing.from_email,
        to=[to],
        connection=connection,
        headers={
            "List-Unsubscribe": list_unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": make_msgid(domain=domain),
        },
    )
    message.attach_alternative(html, "text/html")
    return message
