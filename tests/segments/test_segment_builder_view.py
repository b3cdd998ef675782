from __future__ import annotations

import pytest
from django.urls import reverse

from segments.models import ContactSegment
from segments.services import segment_create

from ..contacts.factories import ContactFactory, TagFactory
from .helpers import builder_data

pytestmark = pytest.mark.django_db
CREATE = reverse("segments:create")
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


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
        {**builder_data(HIGH), "action": "prefab:win_back"},
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
