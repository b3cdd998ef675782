"""validate_from_address: a mailing's From is one mailbox on one line (issue 14, point 19)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address

from mailing.addresses import validate_from_address
from mailing.models import Mailing
from mailing.services import mailing_create
from segments.services import segment_create


@pytest.mark.parametrize(
    "value",
    [
        "news@example.com",
        "Flock <news@example.com>",
        '"Smith, Jo" <jo@example.com>',
        "Zoë <zoe@exämple.com>",
        "<news@example.com>",
    ],
)
def test_one_address_or_a_name_and_an_address_is_accepted(value):
    assert validate_from_address(f"  {value} ") == value
    sanitize_address(value, "utf-8")  # and the mail library can use it


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a@example.com, b@example.com", "Enter one From address, not several"),
        ("Name <a@example.com>, Other <b@example.com>", "Enter one From address, not several"),
        ("a@example.com b@example.com", "Enter one From address, not several"),
        ("Smith, Jo <jo@example.com>", 'A name with a comma goes in quotes: "Smith, Jo"'),
        ("<a@example.com>>", "Remove “>” after the address"),
        ("Name <a@example.com> extra", "Remove “extra” after the address"),
        ("Na\u2028me <a@example.com>", "The From address must be on one line"),
        ("Name\u2029Other <a@example.com>", "The From address must be on one line"),
        ("Name\x85 <a@example.com>", "The From address must be on one line"),
        ("Name\r\nBcc: x@example.com <a@example.com>", "The From address must be on one line"),
        ("Name <a@example.com", "is not an address"),
        ("not an address", "“not an address” is not an address"),
        ("@example.com", "is not an address"),
        ("a@", "is not an address"),
        ("", "Enter a From address"),
    ],
)
def test_anything_else_is_refused_saying_what_to_change(value, message):
    with pytest.raises(ValidationError) as caught:
        validate_from_address(value)
    (text,) = caught.value.messages
    assert message in text
    assert "Flock <hello@example.com>" in text or "quotes" in text or "one line" in text


@pytest.mark.django_db
def test_mailing_create_refuses_a_bad_from_address(marketer):
    """Needs the one line in mailing.services.mailing_create (see the report)."""
    segment = segment_create(
        name="All", filter_json=[{"field": "leadScore", "op": "gte", "value": 0}], user=marketer
    )
    with pytest.raises(ValidationError):
        mailing_create(
            segment=segment, subject="Hi", body="Hello", user=marketer, from_email="<a@x.example>>"
        )
    assert not Mailing.objects.exists()
