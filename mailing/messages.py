"""One recipient's message: merged subject and body, unsubscribe link and headers.

A mailing sends the same template to every recipient, so everything that does
not depend on the recipient is prepared once, in `MessageTemplate`: the merge
tags parsed, the HTML part laid out (Markdown rendered once, with a placeholder
per tag), the From header encoded. Per recipient only the values are merged and
the MIME text written: the standard library's `email` generator, which Django's
`EmailMessage.message()` uses, costs more than the SMTP exchange itself.
"""

from __future__ import annotations

import binascii
import dataclasses
import functools
import html
import re
import secrets
from dataclasses import dataclass
from email import policy
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.utils.crypto import salted_hmac
from markdown_it import MarkdownIt

from .merge import (
    _CONTROL,
    Link,
    Piece,
    Tag,
    compile_template,
    is_safe_url,
    merge_html,
    merge_text,
    scheme_is_fixed,
)
from .models import Mailing
from .unsubscribe import UnsubscribeLinks, unsubscribe_mailto

_FOOTER_STYLE = "font-size:12px;color:#667085"
_TEST_BANNER_STYLE = (
    "margin:0 0 16px;padding:8px 12px;border:1px solid #f79009;border-radius:4px;"
    "background:#fffaeb;color:#93370d;font-size:13px"
)
TEST_SUBJECT_PREFIX = "[Test] "
_MAX_7BIT_LINE = 998  # RFC 5322 §2.1.1, without the CRLF


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one recipient gets: the merged parts and the personal headers."""

    subject: str
    text: str
    html: str
    headers: dict[str, str]


class MessageTemplate:
    """A mailing prepared for sending, reused for each of its recipients.

    With `test` (test sends and the preview), and for a mailing never saved, the
    unsubscribe links are the test link, which unsubscribes nobody.
    """

    def __init__(self, mailing: Mailing, *, test: bool = False):
        self._links = UnsubscribeLinks(mailing_id=mailing.pk, test=test or not mailing.pk)
        self.from_email = mailing.from_email
        self.subject = compile_template(_CONTROL.sub(" ", mailing.subject))
        self.text = compile_template(mailing.body)
        markdown = mailing.body_format == Mailing.Format.MARKDOWN
        self.html = html_pieces(mailing.body, markdown=markdown)
        self.domain = mailing.from_email.rpartition("@")[2].strip(" >") or "flock.localhost"
        # SMTP envelope and From header: what Django's SMTP backend would write.
        self.envelope_from = sanitize_address(mailing.from_email, "utf-8")
        self._from_header = _header("From", self.envelope_from)
        # "=_" never occurs in quoted-printable text; in a 7bit part it is the 96
        # random bits that keep a line from matching the boundary.
        self._boundary = f"=_flock_{secrets.token_hex(12)}"
        # A delivery's Message-ID is the same each time it is sent: should a crash
        # send one message twice, mailbox providers can tell it is the same mail.
        # The mailing's part is keyed with SECRET_KEY, so no other Flock, nor this
        # one's database restored, ever makes the same ID for another message.
        self._message_id_tag = salted_hmac(
            "flock.message-id", f"{mailing.pk}:{mailing.created_at.isoformat()}"
        ).hexdigest()[:20]

    def render(
        self, contact, *, contact_id: int | None, delivery_id: int | None = None
    ) -> Rendered:
        token = self._links.token(contact_id)
        link = self._links.url(token)
        list_unsubscribe = f"<{link}>"
        if mailto := unsubscribe_mailto(token):
            list_unsubscribe += f", <{mailto}>"
        return Rendered(
            subject=merge_text(self.subject, contact),
            text=f"{merge_text(self.text, contact)}\n\n--\nUnsubscribe: {link}\n",
            html=(
                f"<div>{merge_html(self.html, contact)}</div>\n"
                f'<p style="{_FOOTER_STYLE}"><a href="{html.escape(link)}">Unsubscribe</a></p>'
            ),
            headers={
                "List-Unsubscribe": list_unsubscribe,
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Message-ID": (
                    f"<{delivery_id}.{self._message_id_tag}@{self.domain}>"
                    if delivery_id
                    else make_msgid(domain=self.domain)  # a preview or test send
                ),
            },
        )

    def email(self, rendered: Rendered, *, to: str, connection=None) -> EmailMultiAlternatives:
        """A Django message: for the preview, test sends and non-SMTP (ESP) backends."""
        message = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            from_email=self.from_email,
            to=[to],
            connection=connection,
            headers=rendered.headers,
        )
        message.attach_alternative(rendered.html, "text/html")
        return message

    def mime(self, rendered: Rendered, *, to: str) -> bytes:
        """The same message as RFC 5322 bytes, for the SMTP backend's connection."""
        boundary = self._boundary
        head = "".join(
            (
                self._from_header,
                _header("To", address(to)),
                _header("Subject", rendered.subject),
                f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n",
                *(_header(name, value) for name, value in rendered.headers.items()),
                "MIME-Version: 1.0\r\n",
                f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n',
            )
        )
        text_encoding, text = _transfer_encoded(rendered.text)
        html_encoding, html_part = _transfer_encoded(rendered.html)
        part = '\r\nContent-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: {}\r\n\r\n'
        return b"".join(
            (
                head.encode("ascii"),
                f"--{boundary}{part.format('plain', text_encoding)}".encode("ascii"),
                text,
                f"\r\n--{boundary}{part.format('html', html_encoding)}".encode("ascii"),
                html_part,
                f"\r\n--{boundary}--\r\n".encode("ascii"),
            )
        )


def build_message(
    *, mailing: Mailing, contact, to: str, connection=None, test_note: str | None = None
) -> EmailMultiAlternatives:
    """One recipient's message as a Django EmailMessage, for the preview and test sends.

    Its unsubscribe link is the test link. A test send (`test_note` given) is also
    marked: "[Test]" before the subject and the note in a banner above the body.
    """
    template = MessageTemplate(mailing, test=True)
    rendered = template.render(contact, contact_id=contact.pk)
    if test_note is not None:
        rendered = marked_as_test(rendered, note=test_note)
    return template.email(rendered, to=to, connection=connection)


def marked_as_test(rendered: Rendered, *, note: str) -> Rendered:
    """A message nobody takes for the real one: "[Test]" in the subject, a banner on top."""
    banner = f"Test message. {note}".strip()
    return dataclasses.replace(
        rendered,
        subject=TEST_SUBJECT_PREFIX + rendered.subject,
        text=f"[{banner}]\n\n{rendered.text}",
        html=(
            f'<p style="{_TEST_BANNER_STYLE}"><strong>Test message.</strong> '
            f"{html.escape(note)}</p>\n{rendered.html}"
        ),
    )


def address(email: str) -> str:
    """An address for SMTP and the To header: ASCII as is, IDN domains in punycode."""
    return email if email.isascii() else sanitize_address(email, "utf-8")


def html_pieces(body: str, *, markdown: bool) -> tuple[Piece, ...]:
    """The HTML part as compiled pieces: literal HTML and the tags still to merge.

    Plain text is escaped and its line breaks kept. Markdown is rendered once per
    mailing with each tag replaced by a placeholder that Markdown leaves alone
    (letters and digits), and the tags are put back where the placeholders ended up;
    their values are escaped when merged. Raw HTML in the body is escaped too.
    A link or image address whose scheme a tag could set becomes a `Link`, checked
    once merged (a contact's value may say ``javascript:``).
    """
    pieces = compile_template(body)
    if not markdown:
        return tuple(
            html.escape(p).replace("\n", "<br>\n") if isinstance(p, str) else p for p in pieces
        )
    nonce = secrets.token_hex(6)
    tags: list[Tag] = []
    source = []
    for piece in pieces:
        if isinstance(piece, str):
            source.append(piece)
        else:
            source.append(f"flock{nonce}x{len(tags)}x")
            tags.append(piece)
    rendered = _markdown().render("".join(source))
    placeholder = re.compile(rf"flock{nonce}x(\d+)x")

    def restored(chunk: str) -> list[str | Tag]:
        parts = placeholder.split(chunk)
        return [tags[int(part)] if i % 2 else part for i, part in enumerate(parts) if part]

    # Markdown writes each URL as ` href="…"` (links) or ` src="…"` (images).
    url_attribute = re.compile(rf' (href|src)="([^"]*{placeholder.pattern}[^"]*)"')
    out: list[Piece] = []
    pos = 0
    for match in url_attribute.finditer(rendered):
        url = restored(match[2])
        if isinstance(url[0], str) and scheme_is_fixed(url[0]):  # https://…/{{ tag }}
            out += restored(rendered[pos : match.end()])
        else:
            out += restored(rendered[pos : match.start()])
            out.append(Link(match[1], tuple(url)))
        pos = match.end()
    out += restored(rendered[pos:])
    # Neighbouring literals as one: fewer pieces to join per recipient.
    joined: list[Piece] = []
    for part in out:
        if isinstance(part, str) and joined and isinstance(last := joined[-1], str):
            joined[-1] = last + part
        else:
            joined.append(part)
    return tuple(joined)


class _SafeMarkdown(MarkdownIt):
    """CommonMark with raw HTML off: a body cannot inject markup or scripts.

    Links and images may only point to http, https and mailto (or a relative
    address, such as a tag's placeholder); any other is left as plain text.
    """

    def validateLink(self, url: str) -> bool:  # markdown-it-py's hook, camelCase
        return is_safe_url(url)


@functools.cache
def _markdown() -> MarkdownIt:
    return _SafeMarkdown("commonmark", {"html": False, "typographer": False})


def _header(name: str, value: str) -> str:
    """One header line; non-ASCII values RFC 2047 encoded, very long ones folded.

    ASCII values stay on one line below the hard limit of 998 characters: folding
    would gain nothing for an unbroken URL, and the email package would encode it.
    """
    if value.isascii() and len(name) + len(value) < 900:
        return f"{name}: {value}\r\n"
    return policy.SMTP.header_factory(name, value).fold(policy=policy.SMTP)


def _transfer_encoded(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body) of a text part, lines ending in CRLF.

    ASCII text whose lines fit SMTP's limit goes as it is (7bit), as Django's
    own messages do; anything else is quoted-printable, which costs more than
    the rest of the message put together.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii() and "\0" not in text and max(map(len, text.split("\n"))) <= _MAX_7BIT_LINE:
        return "7bit", text.replace("\n", "\r\n").encode("ascii")
    return "quoted-printable", binascii.b2a_qp(
        text.replace("\n", "\r\n").encode("utf-8"), istext=True
    )
