"""POST /api/segments/{id}/send: a queued mailing, as the dashboard's Send makes it."""

from __future__ import annotations

import pytest
from django.conf import settings

from mailing.models import Mailing
from segments.services import segment_create
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

MAIL = {"subject": "Hello {{ first_name }}", "body": 'Hi {{ first_name|default:"there" }}!'}


@pytest.fixture
def segment(marketer):
    return segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )


def test_it_queues_a_mailing_and_answers_202(
    api, segment, marketer, django_capture_on_commit_callbacks
):
    ContactFactory.create_batch(2, lead_score=90)
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(
            f"/api/segments/{segment.pk}/send",
            {**MAIL, "from_email": "Acme <news@acme.example>"},
            format="json",
        )
    assert response.status_code == 202
    body = response.json()
    mailing = Mailing.objects.get()
    assert body["id"] == mailing.pk
    assert body["status"] == "queued"
    assert body["recipients"] == 0  # written by the worker once it has re-run the segment
    assert response["Location"].endswith(f"/api/mailings/{mailing.pk}")
    assert (mailing.segment, mailing.created_by) == (segment, marketer)
    assert (mailing.subject, mailing.from_email) == (MAIL["subject"], "Acme <news@acme.example>")
    assert mailing.body_format == "text"
    assert len(callbacks) == 1  # the materialize task, after commit


def test_it_takes_a_markdown_body(api, segment):
    ContactFactory(lead_score=90)
    response = api.post(
        f"/api/segments/{segment.pk}/send", {**MAIL, "body_format": "markdown"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["body_format"] == "markdown"
    assert Mailing.objects.get().body_format == "markdown"


def test_the_from_address_defaults_to_the_settings_one(api, segment):
    ContactFactory(lead_score=90)
    response = api.post(f"/api/segments/{segment.pk}/send", MAIL, format="json")
    assert response.status_code == 202
    assert Mailing.objects.get().from_email == settings.DEFAULT_FROM_EMAIL


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"body": "x"}, "subject"),
        ({"subject": "x"}, "body"),
        ({**MAIL, "subject": "Two\nlines"}, "subject"),
        ({**MAIL, "subject": "Hi {{ nickname }}"}, "subject"),
        ({**MAIL, "from_email": "not an address"}, "from_email"),
        ({**MAIL, "body": 5}, "body"),
        ({**MAIL, "subject": "x" * 301}, "subject"),
        ({**MAIL, "body_format": "html"}, "body_format"),
    ],
)
def test_bad_mail_is_a_400(api, segment, body, path):
    ContactFactory(lead_score=90)
    response = api.post(f"/api/segments/{segment.pk}/send", body, format="json")
    assert response.status_code == 400
    assert path in paths_of(response)
    assert not Mailing.objects.exists()


def test_nobody_reachable_is_a_409(api, segment):
    ContactFactory(lead_score=90, is_unsubscribed=True)
    response = api.post(f"/api/segments/{segment.pk}/send", MAIL, format="json")
    assert response.status_code == 409
    assert errors_of(response) == [
        {"path": "", "message": "Nobody in this segment can receive a mailing right now."}
    ]
    assert not Mailing.objects.exists()


def test_an_unknown_segment_is_a_404(api):
    assert api.post("/api/segments/999/send", MAIL, format="json").status_code == 404


def test_get_is_not_allowed(api, segment):
    assert api.get(f"/api/segments/{segment.pk}/send").status_code == 405
