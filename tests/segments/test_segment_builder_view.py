from __future__ import annotations

import re

import pytest
from django.urls import reverse

from segments.models import ContactSegment
from segments.services import segment_create

from ..contacts.factories import ContactFactory, TagFactory
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
CREATE = reverse("segments:create")
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]
FIVE = [
    {"field": "leadScore", "op": "gte", "value": 70},
    {"field": "tag", "op": "is", "value": "vip"},
    {"field": "company", "op": "contains", "value": "inc"},
    {"field": "country", "op": "equals", "value": "Germany"},
    {"field": "isBounced", "op": "equals", "value": False},
]
WIN_BACK_QUESTION = "Replace the 5 rules with “Win-back: inactive 90 days”?"


def button(body: str, button_id: str) -> str:
    """The opening tag of the button with this id."""
    return re.search(rf'<button [^>]*id="{button_id}"[^>]*>', body).group(0)


def test_it_requires_login(stranger_client):
    assert stranger_client.get(CREATE).status_code == 302


def test_new_builder_starts_with_one_condition_and_the_prefabs(marketer_client):
    body = marketer_client.get(CREATE).content.decode()
    assert 'name="r.0.kind" value="condition"' in body
    for key in ("win_back", "most_engaged", "high_value"):
        assert f'id="prefab-{key}"' in body
    assert 'id="live-preview"' in body


def test_prefab_fills_the_rules_card_via_htmx(marketer_client):
    response = marketer_client.post(
        CREATE,
        blank_builder(action="prefab:win_back"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="rules-card",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="rules-card">')
    assert 'name="r.0.field"' in body and 'value="lastInteracted" selected' in body
    assert 'name="r.2.kind"' in body and 'name="r.3.kind"' not in body
    assert response["HX-Trigger-After-Settle"] == '{"rules-changed": {}}'


def test_prefab_works_without_javascript(marketer_client):
    body = marketer_client.post(CREATE, {"action": "prefab:high_value"}).content.decode()
    assert "<html" in body and 'value="leadScore" selected' in body


@pytest.mark.parametrize(
    ("action", "present", "absent"),
    [
        ("add-condition:r", 'name="r.1.kind" value="condition"', None),
        ("add-group:r", 'name="r.1.kind" value="group"', None),
        ("remove:r.0", None, 'name="r.0.kind"'),
    ],
)
def test_add_and_remove_rows(marketer_client, action, present, absent):
    body = marketer_client.post(
        CREATE, {**builder_data(HIGH), "action": action}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="rules-card",
    ).content.decode()  # fmt: skip
    if present:
        assert present in body
    if absent:
        assert absent not in body


def test_changing_the_field_offers_its_operators(marketer_client):
    data = builder_data(HIGH)
    data["r.0.field"] = ["tag"]
    body = marketer_client.post(
        CREATE, {**data, "action": "refresh"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="rules-card"
    ).content.decode()
    assert '<option value="is" selected>is</option>' in body
    assert 'list="tag-names"' in body


def test_save_creates_evaluates_and_returns_to_the_list(marketer_client, marketer):
    vip = TagFactory(name="vip")
    ContactFactory(lead_score=90, tags=[vip])
    rules = [*HIGH, {"field": "tag", "op": "is", "value": "vip"}]
    response = marketer_client.post(
        CREATE, {**builder_data(rules), "name": "VIP high", "action": "save"}, follow=True
    )
    segment = ContactSegment.objects.get(name="VIP high")
    assert segment.created_by == marketer
    assert segment.filter_json["rules"][1] == {"field": "tag", "op": "is", "value": "vip"}
    assert segment.last_count == 1
    assert "Saved “VIP high”: 1 contacts match now." in response.content.decode()


def test_save_with_htmx_redirects_the_client(marketer_client):
    response = marketer_client.post(
        CREATE, {**builder_data(HIGH), "name": "H", "action": "save"}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Redirect"] == reverse("segments:list")


def test_invalid_save_keeps_what_was_typed_and_marks_the_row(marketer_client):
    data = {**builder_data(HIGH), "name": "Typo", "action": "save"}
    data["r.0.value"] = ["500"]
    response = marketer_client.post(CREATE, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="500"' in body
    assert 'value="Typo"' in body
    assert '<div class="row-errors" id="err-r-0" role="alert"><p>Lead score needs' in body
    assert not ContactSegment.objects.exists()


def test_a_name_is_required(marketer_client):
    response = marketer_client.post(CREATE, {**builder_data(HIGH), "action": "save"})
    assert b"Give the segment a name." in response.content
    assert not ContactSegment.objects.exists()


def test_an_empty_segment_cannot_be_saved(marketer_client):
    response = marketer_client.post(
        CREATE, {"r.kind": "group", "r.match": "all", "name": "Empty", "action": "save"}
    )
    assert b"Add at least one condition to save." in response.content


def test_run_preview_without_javascript(marketer_client):
    ContactFactory.create_batch(2, lead_score=75)
    body = marketer_client.post(CREATE, {**builder_data(HIGH), "action": "preview"}).content
    assert b'<span id="preview-count">2</span>' in body


def test_edit_shows_the_rules_and_updates_them(marketer_client, marketer):
    segment = segment_create(name="High", filter_json=HIGH, user=marketer)
    url = reverse("segments:edit", args=[segment.pk])
    body = marketer_client.get(url).content.decode()
    assert 'value="70"' in body and 'id="preview-count"' in body
    rules = [{"field": "leadScore", "op": "lt", "value": 10}]
    marketer_client.post(url, {**builder_data(rules), "name": "Low", "action": "save"})
    segment.refresh_from_db()
    assert (segment.name, segment.filter_json["rules"][0]["op"]) == ("Low", "lt")


def test_nested_negated_group_round_trips(marketer_client, marketer):
    rules = {"match": "all", "rules": [
        {"match": "any", "negate": True, "rules": [
            {"field": "company", "op": "contains", "value": "inc"}]},
    ]}  # fmt: skip
    marketer_client.post(CREATE, {**builder_data(rules), "name": "No Inc", "action": "save"})
    segment = ContactSegment.objects.get(name="No Inc")
    assert segment.filter_json["rules"][0]["negate"] is True
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    assert 'name="r.0.negate" id="id_r-0_negate" checked' in body


def test_editing_a_segment_into_a_cycle_is_refused(marketer_client, marketer):
    a = segment_create(name="A", filter_json=HIGH, user=marketer)
    segment_create(
        name="B", filter_json=[{"field": "segment", "op": "in_segment", "value": a.pk}],
        user=marketer,
    )  # fmt: skip
    b = ContactSegment.objects.get(name="B")
    rules = [{"field": "segment", "op": "in_segment", "value": b.pk}]
    response = marketer_client.post(
        reverse("segments:edit", args=[a.pk]),
        {**builder_data(rules), "name": "A", "action": "save"},
    )
    assert "Segment &#x27;B&#x27; already uses this segment" in response.content.decode()


def test_a_row_redraw_gets_the_rules_card_to_select_the_row_from(marketer_client):
    data = builder_data(HIGH)
    data["r.0.op"] = ["between"]
    body = marketer_client.post(
        CREATE, {**data, "action": "refresh"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="node-r-0"
    ).content.decode()
    assert body.lstrip().startswith('<section class="card" id="rules-card">')
    assert 'id="node-r-0"' in body and 'name="r.0.low"' in body


# -- Enter, prefabs over existing rules (issue 14.5) ------------------------------------


def test_the_first_submit_button_runs_the_preview_so_enter_does(marketer_client, marketer):
    """A browser's Enter in a text box submits the form with its first submit button."""
    segment = segment_create(name="Five", filter_json=FIVE, user=marketer)
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    form_html = body[body.index('<form id="builder"') :]
    first = re.search(r"<button\b[^>]*>", form_html).group(0)
    assert 'type="submit"' in first and 'name="action" value="preview"' in first


def test_a_prefab_over_existing_rules_asks_first_and_keeps_them(marketer_client, marketer):
    segment = segment_create(name="Five", filter_json=FIVE, user=marketer)
    url = reverse("segments:edit", args=[segment.pk])
    data = {**builder_data(FIVE), "name": "Five", "action": "prefab:win_back"}
    response = marketer_client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert WIN_BACK_QUESTION in body
    assert 'value="prefab-replace:win_back"' in button(body, "prefab-replace")
    assert ">Keep my rules</button>" in body
    # The five rules are still on the page, as they were; nothing was saved.
    assert 'name="r.4.kind"' in body and 'value="inc"' in body
    assert 'value="lastInteracted" selected' not in body
    segment.refresh_from_db()
    assert segment.filter_json["rules"] == FIVE


def test_a_prefab_over_existing_rules_asks_first_via_htmx(marketer_client):
    response = marketer_client.post(
        CREATE,
        {**builder_data(FIVE), "action": "prefab:win_back"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="rules-card",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="rules-card">')
    assert WIN_BACK_QUESTION in body
    assert 'name="r.4.kind"' in body and 'value="lastInteracted" selected' not in body


def test_replace_puts_the_prefab_in_place_of_the_rules(marketer_client):
    body = marketer_client.post(
        CREATE, {**builder_data(FIVE), "action": "prefab-replace:win_back"}
    ).content.decode()
    assert 'value="lastInteracted" selected' in body
    assert 'name="r.2.kind"' in body and 'name="r.3.kind"' not in body
    assert "Replace the" not in body


def test_keep_my_rules_leaves_them_as_they_were(marketer_client):
    asked = marketer_client.post(CREATE, {**builder_data(FIVE), "action": "prefab:win_back"})
    keep = re.search(r'value="([^"]+)"', button(asked.content.decode(), "prefab-keep")).group(1)
    body = marketer_client.post(CREATE, {**builder_data(FIVE), "action": keep}).content.decode()
    assert 'name="r.4.kind"' in body and 'value="inc"' in body
    assert 'value="lastInteracted" selected' not in body
    assert "Replace the" not in body


def test_a_prefab_on_a_new_builder_fills_it_without_asking(marketer_client):
    body = marketer_client.post(CREATE, blank_builder(action="prefab:win_back")).content.decode()
    assert 'value="lastInteracted" selected' in body and "Replace the" not in body


# -- new and incomplete rows (issue 14.6, 14.8) -----------------------------------------


def test_save_refuses_an_incomplete_row_and_says_so_next_to_it(marketer_client):
    data = form(row("r.0", "leadScore", "gte", "70"), row("r.1", "email", "contains"))
    response = marketer_client.post(CREATE, {**data, "name": "Half", "action": "save"})
    body = response.content.decode()
    message = "<p>Email contains needs a value.</p>"
    assert f'<div class="row-errors" id="err-r-1" role="alert">{message}' in body
    assert not ContactSegment.objects.exists()


def test_switching_a_row_to_a_custom_field_starts_it_at_equals(marketer_client):
    data = form(row("r.0", "email", "contains"))
    data["r.0.field"] = "customField"  # was drawn for Email
    body = marketer_client.post(
        CREATE, {**data, "action": "refresh"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="node-r-0"
    ).content.decode()
    assert '<option value="equals" selected>equals</option>' in body
    assert 'name="r.0.custom"' in body


def test_switching_to_a_field_of_another_kind_starts_the_row_afresh(marketer_client):
    data = form(row("r.0", "email", "contains", "gmail"))
    data["r.0.field"] = "leadScore"
    body = marketer_client.post(
        CREATE, {**data, "action": "refresh"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="node-r-0"
    ).content.decode()
    assert '<option value="eq" selected>=</option>' in body
    assert "gmail" not in body  # a text value means nothing as a lead score
    assert 'id="err-r-0" role="alert"></div>' in body


def test_switching_to_a_field_of_the_same_kind_keeps_operator_and_value(marketer_client):
    data = form(row("r.0", "email", "ends_with", "gmail.com"))
    data["r.0.field"] = "company"
    body = marketer_client.post(
        CREATE, {**data, "action": "refresh"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="node-r-0"
    ).content.decode()
    assert '<option value="ends_with" selected>' in body and 'value="gmail.com"' in body


@pytest.mark.parametrize(
    ("action", "focused"), [("add-condition:r", "r-1"), ("add-group:r", "r-1-0")]
)
def test_the_added_row_takes_the_focus(marketer_client, action, focused):
    body = marketer_client.post(
        CREATE, {**builder_data(HIGH), "action": action}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="rules-card",
    ).content.decode()  # fmt: skip
    assert re.search(rf'<select [^>]*id="id_{focused}_field"[^>]*\bautofocus\b', body)
    assert body.count("autofocus") == 1


def test_a_number_box_keeps_what_was_typed_and_says_what_is_wrong(marketer_client):
    data = form(row("r.0", "leadScore", "gte", "abc"))
    body = marketer_client.post(CREATE, {**data, "action": "preview"}).content.decode()
    box = r'<input type="text" inputmode="numeric" name="r.0.value"[^>]*value="abc"'
    assert re.search(box, body)
    assert (
        "Lead score needs a whole number between 0 and 100; &#x27;abc&#x27; is not a number."
    ) in body


# -- hostile forms (issue 14.20) --------------------------------------------------------


@pytest.mark.parametrize("levels", [500, 990])
def test_a_form_nested_too_deep_is_an_error_next_to_the_row(marketer_client, settings, levels):
    settings.SEGMENT_MAX_CONDITIONS = 100  # the field cap (1,600) lets the depth reach decoding
    data = {**nested_groups(levels), "action": "preview"}
    response = post_urlencoded(marketer_client, CREATE, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Segments can be nested at most 5 levels deep." in body
    assert 'name="r.0.0.0.0.0.kind"' in body and 'name="r.0.0.0.0.0.0.kind"' not in body


def test_a_form_with_too_many_fields_is_refused_with_a_message(marketer_client, settings):
    settings.SEGMENT_MAX_CONDITIONS = 10  # the builder then reads at most 160 rule fields
    data = {**many_conditions(40), "name": "Big", "action": "save"}
    response = marketer_client.post(CREATE, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "This form has 202 rule fields; the builder reads at most 160" in body
    assert 'value="Big"' in body
    assert not ContactSegment.objects.exists()


def test_a_form_past_djangos_field_limit_is_a_400(marketer_client):
    response = marketer_client.post(CREATE, {**many_conditions(250), "action": "save"})
    assert response.status_code == 400
