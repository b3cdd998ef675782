"""POST /api/segments/{id}/send refuses a From that is not one mailbox on one line."""

from __future__ import annotations

import pytest

from mailing.models import Mailing
from segments.services import segment_create
from tests.api.conftest import errors_of
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

MAIL = {"subject": "Hello", "body": "Hi"}


@pytest.fixture
def segment(marketer):
    ContactFactory(lead_score=90)
    return segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )


@pytest.mark.parametrize(
    ("from_email", "message"),
    [
        ("a@example.com, b@example.com", "Enter one From address, not several"),
        ("Name <a@example.com>, Other <b@example.com>", "Enter one From address, not several"),
        ("<a@example.com>>", "Remove “>” after the address"),
        ("Na\u2028me <a@example.com>", "The From address must be on one line"),
    ],
)
def test_a_bad_from_address_is_a_400_naming_the_field(api, segment, from_email, message):
    response = api.post(
        f"/api/segments/{segment.pk}/send", {**MAIL, "from_email": from_email}, format="json"
    )
    assert response.status_code == 400
    (error,) = errors_of(response)
    assert error["path"] == "from_email"
    assert error["message"].startswith(message)
    assert not Mailing.objects.exists()


def test_one_name_and_address_is_still_accepted(api, segment):
    response = api.post(
        f"/api/segments/{segment.pk}/send",
        {**MAIL, "from_email": '"Acme, Inc." <news@acme.example>'},
        format="json",
    )
    assert response.status_code == 202
    assert Mailing.objects.get().from_email == '"Acme, Inc." <news@acme.example>'
