from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ..contacts.factories import ContactFactory
from .builder_forms import (
    blank_builder,
    form,
    many_conditions,
    nested_groups,
    post_urlencoded,
    row,
)
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


def test_the_sample_shows_each_contacts_status(marketer_client):
    ContactFactory(lead_score=90)
    ContactFactory(lead_score=95, is_unsubscribed=True, email="gone@example.com")
    body = marketer_client.post(URL, builder_data(HIGH), HTTP_HX_REQUEST="true").content.decode()
    first_row = body[body.index("<tbody>") :].split("</tr>")[0]
    assert "gone@example.com" in first_row
    assert '<span class="badge badge-unsubscribed">Unsubscribed</span>' in first_row
    assert '<span class="badge badge-active">Active</span>' in body


# -- incomplete rows (issue 14.6) -------------------------------------------------------


def test_an_incomplete_row_is_left_out_of_the_preview_and_marked(marketer_client):
    ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=10)
    data = form(row("r.0", "leadScore", "gte", "70"), row("r.1", "email", "contains"))
    response = marketer_client.post(URL, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<span id="preview-count">3</span>' in body
    assert 'id="err-r-1" role="alert" hx-swap-oob="true"></div>' in body
    assert 'id="hint-r-1" hx-swap-oob="true">Incomplete: left out of the preview' in body
    assert 'id="preview-left-out"' in body
    assert "Lead score ≥ 70" in body  # the summary is of what was counted


def test_errors_after_an_incomplete_row_stay_on_their_own_row(marketer_client):
    data = form(
        row("r.0", "email", "contains"),
        {"r.1.kind": "group", "r.1.match": "any"},
        row("r.1.0", "email", "contains"),
        row("r.1.1", "leadScore", "gte", "500"),
    )
    body = marketer_client.post(URL, data, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="preview-invalid"' in body
    assert (
        '<div class="row-errors" id="err-r-1-1" role="alert" hx-swap-oob="true">'
        "<p>Lead score needs a whole number between 0 and 100.</p></div>"
    ) in body
    for quiet in ("r-0", "r-1", "r-1-0"):
        assert f'id="err-{quiet}" role="alert" hx-swap-oob="true"></div>' in body


def test_only_incomplete_rows_ask_for_a_value_instead_of_an_error(marketer_client):
    ContactFactory()
    body = marketer_client.post(URL, blank_builder(), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="preview-incomplete"' in body
    assert 'id="preview-count"' not in body and 'id="preview-invalid"' not in body
    assert 'id="err-r-0" role="alert" hx-swap-oob="true"></div>' in body


def test_a_group_of_incomplete_rows_is_left_out_with_them(marketer_client):
    ContactFactory.create_batch(2, lead_score=90)
    data = form(
        row("r.0", "leadScore", "gte", "70"),
        {"r.1.kind": "group", "r.1.match": "all"},
        row("r.1.0", "tag", "is"),
    )
    body = marketer_client.post(URL, data, HTTP_HX_REQUEST="true").content.decode()
    assert '<span id="preview-count">2</span>' in body
    assert "This group is empty" not in body


# -- what was typed (issue 14.7) --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        (row("r.0", "leadScore", "gte", "abc"), "&#x27;abc&#x27; is not a number"),
        (row("r.0", "leadScore", "gte", "7e"), "&#x27;7e&#x27; is not a number"),
        (row("r.0", "leadScore", "gte", "7.5"), "&#x27;7.5&#x27; is not a whole number"),
        (
            {**row("r.0", "leadScore", "between"), "r.0.low": "10", "r.0.high": "x"},
            "&#x27;x&#x27; is not a number",
        ),
        (row("r.0", "lastInteracted", "within_days", "ten"), "&#x27;ten&#x27; is not a number"),
    ],
)
def test_a_number_that_is_not_one_says_what_was_typed(marketer_client, fields, note):
    body = marketer_client.post(URL, form(fields), HTTP_HX_REQUEST="true").content.decode()
    errors = re.search(r'id="err-r-0" role="alert" hx-swap-oob="true">(.*?)</div>', body).group(1)
    assert f"; {note}.</p>" in errors


# -- hostile forms (issue 14.20) --------------------------------------------------------


@pytest.mark.parametrize("levels", [500, 990])
def test_a_form_nested_too_deep_is_an_error_not_a_crash(marketer_client, settings, levels):
    settings.SEGMENT_MAX_CONDITIONS = 100  # the field cap (1,600) lets the depth reach decoding
    response = post_urlencoded(marketer_client, URL, nested_groups(levels), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Segments can be nested at most 5 levels deep." in body
    assert 'id="preview-invalid"' in body


def test_a_form_with_too_many_fields_is_refused_with_a_message(marketer_client, settings):
    settings.SEGMENT_MAX_CONDITIONS = 10
    response = marketer_client.post(URL, many_conditions(40), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "This form has 202 rule fields; the builder reads at most 160" in (
        response.content.decode()
    )
