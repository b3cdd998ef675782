"""Personal unsubscribe links (docs/design.md#unsubscribe, RFC 8058).

A link carries a signed token naming the contact (and the mailing it came
from, when there is one). Tokens never expire: a link in a mail from years
ago must still work. They are signed with SECRET_KEY (old keys keep working
through SECRET_KEY_FALLBACKS) under a salt of their own, so no other signed
value of the site can be replayed as an unsubscribe token, nor the reverse.

Test messages and the compose preview carry a test token instead: signed like
the others, it names nobody, and its page says that it unsubscribes no one.
"""

from __future__ import annotations

import logging
import re
import uuid
import zlib

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from contacts.changes import change_cause
from contacts.models import Contact

SALT = "flock.unsubscribe"
# The whole payload of a preview/test token, where a real one has (contact id, mailing id).
PREVIEW_PAYLOAD = "test-message"
RESUBSCRIBED = "resubscribed"  # TrackingEvent.event_type of a resubscription
logger = logging.getLogger(__name__)


class BadToken(Exception):
    """The token was not made by make_token: forged, altered, truncated or garbage."""


class PreviewToken(BadToken):
    """The token of a test send or the compose preview: genuine, but it names nobody.

    A BadToken, so that every caller that does not look for it treats it as no token.
    """


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def make_token(*, contact_id: int, mailing_id: int | None) -> str:
    """A URL-safe token (base64url payload, ':' and base64url signature)."""
    return _signer().sign_object((contact_id, mailing_id), compress=True)


def make_preview_token() -> str:
    """The one token of every test send and preview; `read_token` raises PreviewToken for it."""
    return _signer().sign_object(PREVIEW_PAYLOAD, compress=True)


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def read_token(token: str) -> tuple[int, int | None]:
    """(contact_id, mailing_id) from a token; BadToken unless make_token made it."""
    if not isinstance(token, str) or not token:
        raise BadToken("Empty token.")
    try:
        payload = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, zlib.error) as exc:
        raise BadToken("Invalid unsubscribe token.") from exc
    if payload == PREVIEW_PAYLOAD:
        raise PreviewToken("A test message's link; it unsubscribes nobody.")
    # The signature is ours, so the payload is too; check its shape all the same.
    if not (isinstance(payload, list) and len(payload) == 2):
        raise BadToken("Unexpected unsubscribe token payload.")
    contact_id, mailing_id = payload
    if not _is_id(contact_id) or not (mailing_id is None or _is_id(mailing_id)):
        raise BadToken("Unexpected unsubscribe token payload.")
    return contact_id, mailing_id


def unsubscribe_url(*, contact_id: int, mailing_id: int | None) -> str:
    """The absolute link for a message's footer and its List-Unsubscribe header."""
    return unsubscribe_url_for(make_token(contact_id=contact_id, mailing_id=mailing_id))


class UnsubscribeLinks:
    """Tokens, links and mailto addresses for one mailing's recipients.

    The route is reversed once per mailing, not once per message. With `test`
    (test sends, the preview) every link is the test link.
    """

    def __init__(self, *, mailing_id: int | None, test: bool = False):
        self.mailing_id = mailing_id
        marker = "flock-token"
        self._head, _, self._tail = unsubscribe_url_for(marker).partition(marker)
        self._signer = _signer()
        self._preview_token = make_preview_token() if test else None

    def token(self, contact_id: int | None) -> str:
        if self._preview_token is not None:
            return self._preview_token
        return self._signer.sign_object((contact_id, self.mailing_id), compress=True)

    def url(self, token: str) -> str:
        return f"{self._head}{token}{self._tail}"


def unsubscribe_mailto(token: str) -> str | None:
    """The List-Unsubscribe mailto, when an address that reads such mail is configured.

    The token rides in the subject; `unsubscribe_by_mail` finds it there again
    (the ESP's inbound webhook, or `manage.py unsubscribe_mail` piped from the MTA).
    """
    if not settings.UNSUBSCRIBE_MAILTO:
        return None
    return f"mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe%20{token}"


def on_inbound_mail(sender, event, esp_name, **kwargs) -> None:
    """Receiver of anymail's ``inbound`` signal: mail to the unsubscribe address."""
    message = getattr(event, "message", None)
    result = unsubscribe_by_mail(getattr(message, "subject", "") or "")
    if result is None:
        logger.info("Inbound %s mail without an unsubscribe token ignored.", esp_name)


# A token as make_token writes it: base64url payload (".": compressed), ":", signature.
_TOKEN_IN_TEXT = re.compile(r"unsubscribe\s+(\.?[A-Za-z0-9_-]+:[A-Za-z0-9_-]+)", re.IGNORECASE)


def unsubscribe_by_mail(subject: str) -> tuple[int, bool] | None:
    """Unsubscribe the contact whose token is in an unsubscribe mail's subject.

    Returns (contact id, whether this changed anything), or None when the subject
    holds no valid token (replies add "Re:" and the like; that is fine).
    """
    for candidate in _TOKEN_IN_TEXT.findall(subject or ""):
        try:
            contact_id, _mailing_id = read_token(candidate)
        except BadToken:
            continue
        return contact_id, contact_unsubscribe(contact_id=contact_id)
    return None


def unsubscribe_url_for(token: str) -> str:
    return settings.SITE_URL + reverse("mailing:unsubscribe", kwargs={"token": token})


def contact_unsubscribe(*, contact_id: int) -> bool:
    """Mark the contact unsubscribed in one UPDATE; True if it was not already.

    Idempotent, and safe against a concurrent save of a stale copy of the
    contact (Contact.save writes only the fields that copy changed).
    """
    with change_cause("unsubscribe"):
        changed = Contact.objects.filter(pk=contact_id, is_unsubscribed=False).update(
            is_unsubscribed=True, updated_at=timezone.now()
        )
    return changed > 0


@transaction.atomic
def contact_resubscribe(*, contact_id: int) -> bool:
    """Undo an unsubscribe, asked for through the contact's own link; True if it was unsubscribed.

    One conditional UPDATE, like the unsubscribe. A resubscription is recorded as a
    TrackingEvent ("resubscribed", with the address and time), the table of mail
    events applied to contacts, so that an admin can tell why a contact who
    unsubscribed gets mail again.
    """
    from .models import TrackingEvent

    with change_cause("unsubscribe"):
        changed = Contact.objects.filter(pk=contact_id, is_unsubscribed=True).update(
            is_unsubscribed=False, updated_at=timezone.now()
        )
    if not changed:
        return False
    email = Contact.objects.filter(pk=contact_id).values_list("email", flat=True).first() or ""
    TrackingEvent.objects.create(
        event_id=f"{RESUBSCRIBED}:{contact_id}:{uuid.uuid4().hex}",
        event_type=RESUBSCRIBED,
        email=email[:254],
    )
    return True


def mask_email(email: str) -> str:
    """'alice@example.com' → 'a***@example.com': enough to recognise, not to harvest."""
    local, at, domain = email.rpartition("@")
    if not at:
        return email[:1] + "***"
    return f"{local[:1]}***@{domain}"
