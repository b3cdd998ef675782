from __future__ import annotations

import pytest
from django.urls import reverse

from ..contacts.factories import ContactFactory
from .helpers import builder_data

pytestmark = pytest.mark.django_db
URL = reverse("segments:preview")
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


def test_it_requires_login(stranger_client):
    assert stranger_client.post(URL, builder_data(HIGH)).status_code == 302


def test_it_rejects_get(marketer_client):
    assert marketer_client.get(URL).status_code == 405


def test_it_shows_count_share_summary_and_sample(marketer_client):
    ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=10, email="low@example.com")
    response = marketer_client.post(URL, builder_data(HIGH), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<span id="preview-count">3</span>' in body
    assert 'id="preview-share"' in body
    assert "Lead score ≥ 70" in body
    assert body.count("<tr><td><a href=") == 3
    assert "low@example.com" not in body
    assert "<html" not in body


def test_invalid_rules_answer_200_with_the_error_next_to_the_row(marketer_client):
    data = builder_data(HIGH)
    data["r.0.value"] = ["500"]
    response = marketer_client.post(URL, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="preview-invalid"' in body
    assert (
        '<div class="row-errors" id="err-r-0" role="alert" hx-swap-oob="true">'
        "<p>Lead score needs a whole number between 0 and 100.</p></div>"
    ) in body
    # Rows without errors get an empty out-of-band box, clearing stale messages.
    assert 'id="err-r" role="alert" hx-swap-oob="true"></div>' in body


def test_garbage_form_data_is_an_error_not_a_crash(marketer_client):
    response = marketer_client.post(
        URL, {"r.kind": "group", "r.match": "sometimes", "r.0.kind": "condition", "r.0.op": "x"}
    )
    assert response.status_code == 200
    assert b"Match must be" in response.content
