"""The From address of a mailing: one mailbox, on one line.

A From header names one sender. A list (``a@x, b@x``), leftovers after the
address (``<a@x>>``) or a line separator (U+2028 as much as CR LF) are refused
here, with a message that says what to change, rather than surfacing later as
a ``ValueError`` from the mail library when the first message is built.
"""

from __future__ import annotations

import unicodedata
from email import _header_value_parser as parser
from email.errors import HeaderParseError

from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email

EXAMPLE = "Flock <hello@example.com>"
# Control characters (CR, LF, NUL…), line and paragraph separators (U+2028, U+2029).
_NOT_ON_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


def validate_from_address(value: str) -> str:
    """The address as it will be used (surrounding spaces removed); ValidationError if unusable."""
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"Enter a From address, for example {EXAMPLE}.", code="from_required")
    if any(unicodedata.category(char) in _NOT_ON_ONE_LINE for char in value):
        raise ValidationError(
            "The From address must be on one line: remove the line break or control "
            "character in it.",
            code="from_multiline",
        )
    not_an_address = ValidationError(
        "“%(value)s” is not an address: enter an address, or a name and an address, "
        f"like {EXAMPLE}.",
        params={"value": value},
        code="from_invalid",
    )
    try:
        mailbox, rest = parser.get_mailbox(value)
    except (HeaderParseError, ValueError, IndexError):
        raise not_an_address from None
    if rest.strip().startswith(",") or "@" in rest:
        raise ValidationError(
            "Enter one From address, not several: a mail comes from a single sender. "
            '(A name with a comma goes in quotes: "Smith, Jo" <jo@example.com>.)',
            code="from_several",
        )
    if rest:
        raise ValidationError(
            "Remove “%(rest)s” after the address: From takes one address, or a name and "
            f"an address, like {EXAMPLE}.",
            params={"rest": rest.strip()},
            code="from_trailing",
        )
    if mailbox.all_defects or not mailbox.domain:
        raise not_an_address
    try:
        validate_email(mailbox.addr_spec)
        sanitize_address(value, "utf-8")  # what building each message will do
    except (ValidationError, ValueError):
        raise not_an_address from None
    return value
