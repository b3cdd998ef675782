"""Personal unsubscribe links (SPEC §5.5, RFC 8058).

A link carries a signed token naming the contact (and the mailing it came
from, when there is one). Tokens never expire: a link in a mail from years
ago must still work. They are signed with SECRET_KEY (old keys keep working
through SECRET_KEY_FALLBACKS) under a salt of their own, so no other signed
value of the site can be replayed as an unsubscribe token, nor the reverse.
"""

from __future__ import annotations

import zlib

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact

SALT = "flock.unsubscribe"


class BadToken(Exception):
    """The token was not made by make_token: forged, altered, truncated or garbage."""


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def make_token(*, contact_id: int, mailing_id: int | None) -> str:
    """A URL-safe token (base64url payload, ':' and base64url signature)."""
    return _signer().sign_object((contact_id, mailing_id), compress=True)


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


def unsubscribe_urls(*, mailing_id: int | None):
    """unsubscribe_url for many contacts of one mailing, with the route reversed once."""
    marker = "flock-token"
    head, _, tail = unsubscribe_url_for(marker).partition(marker)
    signer = _signer()

    def url(contact_id: int) -> str:
        return f"{head}{signer.sign_object((contact_id, mailing_id), compress=True)}{tail}"

    return url


def unsubscribe_url_for(token: str) -> str:
    return settings.SITE_URL + reverse("mailing:unsubscribe", kwargs={"token": token})


def contact_unsubscribe(*, contact_id: int) -> bool:
    """Mark the contact unsubscribed in one UPDATE; True if it was not already.

    Idempotent, and safe against a concurrent save of a stale copy of the
    contact (Contact.save writes only the fields that copy changed).
    """
    changed = Contact.objects.filter(pk=contact_id, is_unsubscribed=False).update(
        is_unsubscribed=True, updated_at=timezone.now()
    )
    return changed > 0


def mask_email(email: str) -> str:
    """'alice@example.com' → 'a***@example.com': enough to recognise, not to harvest."""
    local, at, domain = email.rpartition("@")
    if not at:
        return email[:1] + "***"
    return f"{local[:1]}***@{domain}"
