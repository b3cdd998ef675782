"""The builder's rows for registered custom fields (issue 16.2): each field offered by
its label, drawn with the operators and value input of its type, producing the rule
the API would send; values that do not fit the type are flagged at their row."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from contacts.models import CustomField
from segments.forms import encode_tree, registered_fields
from segments.models import ContactSegment
from segments.rules import parse_filter
from segments.services import segment_create

from ..contacts.factories import ContactFactory
from .builder_forms import form, row

pytestmark = pytest.mark.django_db
CREATE = reverse("segments:create")
PREVIEW = reverse("segments:preview")


@pytest.fixture
def fields() -> None:
    CustomField.objects.create(name="seats", label="Seats", type="number")
    CustomField.objects.create(name="renewal", label="Renewal date", type="date")
    CustomField.objects.create(name="trial", label="On trial", type="boolean")
    CustomField.objects.create(name="plan", label="Plan", type="choice", options=["basic", "pro"])
    CustomField.objects.create(name="industry", label="Industry", type="text")


def redraw_row(client, data: dict, path: str = "r.0") -> str:
    """What htmx posts when a row's field or operator changes; the row's partial."""
    response = client.post(
        CREATE,
        {**data, "action": "refresh"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"node-{path.replace('.', '-')}",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="rules-card">')
    return body


def switched_to(field: str, old: str = "email", op: str = "contains", value: str = "") -> dict:
    """Row r.0, drawn for `old`, whose field select was just changed to `field`."""
    data = form(row("r.0", old, op, value))
    data["r.0.field"] = field
    return data


def operators(body: str, path: str = "r-0") -> list[str]:
    select = re.search(rf'<select name="[^"]*" id="id_{path}_op".*?</select>', body, re.S)
    return [html.unescape(label) for label in re.findall(r">([^<]+)</option>", select.group(0))]


def value_input(body: str, path: str = "r-0") -> str:
    """The opening tag of the row's value input or select."""
    return re.search(rf'<(?:input|select) [^>]*id="id_{path}_value"[^>]*>', body).group(0)


def saved_rules(client, data: dict) -> list:
    response = client.post(CREATE, {**data, "name": "Typed", "action": "save"})
    assert response.status_code == 302, response.content.decode()
    return ContactSegment.objects.get(name="Typed").filter_json["rules"]


# -- the field picker ------------------------------------------------------------------


def test_the_picker_lists_registered_fields_by_label_in_their_own_group(marketer_client, fields):
    body = marketer_client.get(CREATE).content.decode()
    group = re.search(r'<optgroup label="Custom fields">(.*?)</optgroup>', body, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', group) == [
        ("customField:industry", "Industry"),
        ("customField:trial", "On trial"),
        ("customField:plan", "Plan"),
        ("customField:renewal", "Renewal date"),
        ("customField:seats", "Seats"),
        ("customField", "Other custom field…"),
    ]
    assert '<optgroup label="Contact">' in body


def test_without_registered_fields_the_picker_keeps_its_one_custom_entry(marketer_client):
    body = marketer_client.get(CREATE).content.decode()
    assert '<option value="customField">Custom field…</option>' in body
    assert 'value="customField:' not in body


def test_two_fields_with_one_label_are_told_apart_by_name():
    CustomField.objects.create(name="plan", label="Plan", type="text")
    CustomField.objects.create(name="plan_2024", label="Plan", type="text")
    assert [field.label for field in registered_fields().values()] == [
        "Plan (plan)",
        "Plan (plan_2024)",
    ]


# -- typed rows: operators and value inputs --------------------------------------------


@pytest.mark.parametrize(
    ("field", "ops", "widget"),
    [
        (
            "customField:seats",
            ["=", "≠", ">", "≥", "<", "≤", "is set", "is not set"],
            'inputmode="decimal"',
        ),
        (
            "customField:renewal",
            ["before", "after", "is on", "is not on", "is set", "is not set"],
            'type="date"',
        ),
        ("customField:trial", ["is", "is set", "is not set"], '<select name="r.0.value"'),
        ("customField:plan", ["is", "is not", "is set", "is not set"], '<select name="r.0.value"'),
        (
            "customField:industry",
            ["equals", "does not equal", "contains", "does not contain", "is set", "is not set"],
            'type="text"',
        ),
    ],
    ids=["number", "date", "boolean", "choice", "text"],
)
def test_a_registered_field_draws_its_types_operators_and_input(
    marketer_client, fields, field, ops, widget
):
    body = redraw_row(marketer_client, switched_to(field))
    assert f'<option value="{field}" selected>' in body
    assert operators(body) == ops
    assert widget in value_input(body)
    assert 'name="r.0.custom"' not in body  # the name is the choice, not typed in


def test_a_choice_field_offers_its_options(marketer_client, fields):
    body = redraw_row(marketer_client, switched_to("customField:plan"))
    select = re.search(r'<select name="r.0.value".*?</select>', body, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "basic", "pro"]


def test_a_yes_no_field_offers_yes_and_no(marketer_client, fields):
    body = redraw_row(marketer_client, switched_to("customField:trial"))
    select = re.search(r'<select name="r.0.value".*?</select>', body, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', select) == [
        ("true", "yes"),
        ("false", "no"),
    ]


def test_the_other_custom_field_entry_still_takes_any_name(marketer_client, fields):
    body = redraw_row(marketer_client, switched_to("customField"))
    assert 'name="r.0.custom"' in body
    assert operators(body)[:2] == ["equals", "does not equal"]
    assert len(operators(body)) == 12  # every customField operator of the language


def test_switching_between_fields_of_one_type_keeps_operator_and_value(marketer_client):
    CustomField.objects.create(name="seats", type="number")
    CustomField.objects.create(name="licences", type="number")
    data = switched_to("customField:licences", old="customField:seats", op="gte", value="10")
    body = redraw_row(marketer_client, data)
    assert '<option value="gte" selected>' in body
    assert 'value="10"' in value_input(body)


def test_switching_to_a_field_of_another_type_starts_the_row_afresh(marketer_client, fields):
    data = switched_to("customField:plan", old="customField:seats", op="gte", value="10")
    body = redraw_row(marketer_client, data)
    assert '<option value="equals" selected>is</option>' in body
    assert 'value="10"' not in body


def test_a_field_change_without_javascript_redraws_the_whole_page(marketer_client, fields):
    body = marketer_client.post(
        CREATE, {**switched_to("customField:renewal"), "action": "refresh"}
    ).content.decode()
    assert "<html" in body
    assert 'type="date"' in value_input(body)


# -- the rule a typed row makes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "rule"),
    [
        (
            row("r.0", "customField:seats", "gte", "10"),
            {"field": "customField:seats", "op": "gte", "value": 10},
        ),
        (
            row("r.0", "customField:seats", "equals", "12.0"),
            {"field": "customField:seats", "op": "equals", "value": 12},
        ),
        (
            row("r.0", "customField:renewal", "before", "2026-03-01"),
            {"field": "customField:renewal", "op": "before", "value": "2026-03-01"},
        ),
        (
            row("r.0", "customField:trial", "equals", "true"),
            {"field": "customField:trial", "op": "equals", "value": True},
        ),
        (
            row("r.0", "customField:plan", "equals", "PRO"),
            {"field": "customField:plan", "op": "equals", "value": "pro"},
        ),
        (
            row("r.0", "customField:industry", "contains", "retail"),
            {"field": "customField:industry", "op": "contains", "value": "retail"},
        ),
        (
            {**row("r.0", "customField:plan", "is_set"), "r.0.value": ""},
            {"field": "customField:plan", "op": "is_set"},
        ),
    ],
    ids=["number", "number-as-stored", "date", "boolean", "choice", "text", "is-set"],
)
def test_a_typed_row_saves_the_rule_the_api_would_send(marketer_client, fields, posted, rule):
    assert saved_rules(marketer_client, form(posted)) == [rule]
    assert parse_filter([rule])["rules"] == [rule]  # the canonical form, unchanged


def test_equals_on_a_number_field_compares_the_numbers_as_the_contacts_hold_them(
    marketer_client, fields
):
    ContactFactory(email="twelve@example.com", custom_fields={"seats": 12})
    ContactFactory(email="five@example.com", custom_fields={"seats": 5})
    data = form(row("r.0", "customField:seats", "equals", "12.0"), action="preview")
    body = marketer_client.post(PREVIEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert '<span id="preview-count">1</span>' in body
    assert "twelve@example.com" in body
    assert '<p class="summary" id="preview-summary">Seats equals 12</p>' in body


def test_the_preview_counts_a_typed_row_and_names_the_field_by_its_label(marketer_client, fields):
    ContactFactory(custom_fields={"plan": "pro", "seats": 40})
    ContactFactory(custom_fields={"plan": "pro", "seats": 3})
    ContactFactory(custom_fields={"plan": "basic", "seats": 90})
    data = form(
        row("r.0", "customField:plan", "equals", "pro"),
        row("r.1", "customField:seats", "gt", "10"),
    )
    body = marketer_client.post(PREVIEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert '<span id="preview-count">1</span>' in body
    assert '<p class="summary" id="preview-summary">Plan equals pro and Seats &gt; 10</p>' in body


def test_a_saved_segment_reopens_with_its_typed_rows(marketer_client, marketer, fields):
    segment = segment_create(
        name="Pro renewals",
        filter_json=[
            {"field": "customField:plan", "op": "equals", "value": "pro"},
            {"field": "customField:renewal", "op": "after", "value": "2026-01-31"},
            {"field": "customField:trial", "op": "equals", "value": False},
        ],
        user=marketer,
    )
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    assert '<option value="customField:plan" selected>Plan</option>' in body
    assert '<option value="pro" selected>pro</option>' in body
    assert '<option value="after" selected>after</option>' in body
    assert re.search(r'<input type="date" name="r.1.value"[^>]*value="2026-01-31"', body)
    assert '<option value="false" selected>no</option>' in body
    assert 'name="r.0.custom"' not in body
    summary = "Plan equals pro, Renewal date after 2026-01-31 and On trial equals false"
    assert f'id="preview-summary">{summary}</p>' in body


def test_reopened_and_saved_unchanged_the_rules_stay_the_same(marketer_client, marketer, fields):
    rules = [
        {"field": "customField:seats", "op": "lte", "value": 4.5},
        {"field": "customField:plan", "op": "not_equals", "value": "basic"},
        {"field": "customField:industry", "op": "not_contains", "value": "bank"},
    ]
    segment = segment_create(name="Small", filter_json=rules, user=marketer)
    registered = set(registered_fields())
    data = encode_tree(parse_filter(rules), registered=registered)
    response = marketer_client.post(
        reverse("segments:edit", args=[segment.pk]), {**data, "name": "Small", "action": "save"}
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.filter_json["rules"] == rules


def test_an_operator_the_type_does_not_offer_is_kept_when_reopened(marketer_client, marketer):
    CustomField.objects.create(name="seats", type="number")
    rule = {"field": "customField:seats", "op": "contains", "value": "1"}
    segment = segment_create(name="Odd", filter_json=[rule], user=marketer)
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    assert '<option value="contains" selected>contains</option>' in body
    assert 'value="1"' in value_input(body)


def test_an_option_no_longer_offered_stays_selected_and_is_flagged(marketer_client, marketer):
    field = CustomField.objects.create(
        name="plan", type="choice", options=["basic", "pro", "legacy"]
    )
    rule = {"field": "customField:plan", "op": "equals", "value": "legacy"}
    segment = segment_create(name="Old plan", filter_json=[rule], user=marketer)
    field.options = ["basic", "pro"]
    field.save()
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    assert '<option value="legacy" selected>legacy</option>' in body
    assert "plan must be one of: basic, pro." in body


def test_a_date_and_time_on_a_date_field_stays_in_a_text_box(marketer_client, marketer, fields):
    rule = {"field": "customField:renewal", "op": "before", "value": "2026-03-01T09:00:00Z"}
    segment = segment_create(name="Morning", filter_json=[rule], user=marketer)
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    assert re.search(r'<input type="text" name="r.0.value"[^>]*value="2026-03-01T09:00:00Z"', body)


def test_unregistered_keys_keep_their_generic_row(marketer_client, marketer, fields):
    rule = {"field": "customField:legacy_id", "op": "equals", "value": "A-1"}
    segment = segment_create(name="Legacy", filter_json=[rule], user=marketer)
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    assert '<option value="customField" selected>Other custom field…</option>' in body
    assert re.search(r'name="r.0.custom"[^>]*value="legacy_id"', body)
    assert 'id="preview-summary">Legacy_id equals A-1</p>' in body


def test_a_name_typed_in_the_generic_row_makes_the_same_rule(marketer_client, fields):
    data = form(row("r.0", "customField", "gt", "10"), **{"r.0.custom": "seats"})
    assert saved_rules(marketer_client, data) == [
        {"field": "customField:seats", "op": "gt", "value": 10}
    ]


def test_a_name_differing_only_in_case_is_not_the_registered_field(
    marketer_client, marketer, fields
):
    rule = {"field": "customField:Seats", "op": "equals", "value": "x"}
    segment = segment_create(name="Case", filter_json=[rule], user=marketer)
    body = marketer_client.get(reverse("segments:edit", args=[segment.pk])).content.decode()
    assert re.search(r'name="r.0.custom"[^>]*value="Seats"', body)
    assert 'id="err-r-0" role="alert"></div>' in body  # keys are case-sensitive: no type


# -- values that do not fit the type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        (
            row("r.0", "customField:seats", "gte", "ten"),
            "Seats needs a number, e.g. 12 or 4.5; &#x27;ten&#x27; is not a number.",
        ),
        (
            row("r.0", "customField:seats", "equals", "1e400"),
            "Seats needs a number with at most 15 digits before the point.",
        ),
        (
            row("r.0", "customField:renewal", "equals", "2026-02-30"),
            "Renewal date needs a date as YYYY-MM-DD, e.g. 2026-03-01.",
        ),
        (
            row("r.0", "customField:renewal", "after", "soon"),
            "Enter a date as YYYY-MM-DD (or a date and time, e.g. 2026-01-31T09:00:00Z).",
        ),
        (row("r.0", "customField:trial", "equals", "maybe"), "On trial needs yes or no."),
        (row("r.0", "customField:plan", "equals", "gold"), "Plan must be one of: basic, pro."),
    ],
    ids=["letters", "too-large", "no-such-day", "after-not-a-date", "boolean", "choice"],
)
def test_a_value_that_does_not_fit_the_type_is_flagged_at_its_row(
    marketer_client, fields, posted, message
):
    data = form(posted, row("r.1", "email", "contains", "example"))
    # The live preview: the message goes next to its row (out of band), status 200.
    response = marketer_client.post(PREVIEW, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    oob = '<div class="row-errors" id="err-r-0" role="alert" hx-swap-oob="true">'
    assert f"{oob}<p>{message}</p>" in body
    assert 'id="preview-invalid"' in body
    assert 'id="err-r-1" role="alert" hx-swap-oob="true"></div>' in body
    # Saving refuses, the page keeps what was typed and says why, once.
    response = marketer_client.post(CREATE, {**data, "name": "Bad", "action": "save"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count(message) == 1
    assert f'<div class="row-errors" id="err-r-0" role="alert"><p>{message}</p>' in body
    assert not ContactSegment.objects.exists()


def test_a_posted_list_for_a_typed_value_is_an_error_not_a_crash(marketer_client, fields):
    data = form(row("r.0", "customField:seats", "equals", "1"))
    response = marketer_client.post(
        CREATE, {**data, "r.0.value": ["1", "2"], "name": "Two", "action": "save"}
    )
    assert response.status_code == 200
    assert "Seats needs a number, e.g. 12 or 4.5; &#x27;1, 2&#x27; is not a number." in (
        response.content.decode()
    )
    assert not ContactSegment.objects.exists()


def test_a_new_typed_row_waits_for_its_value_without_an_error(marketer_client, fields):
    data = form(row("r.0", "leadScore", "gte", "50"), row("r.1", "customField:plan", "equals", ""))
    body = marketer_client.post(PREVIEW, data, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="preview-count"' in body
    assert 'id="preview-left-out"' in body
    assert 'id="err-r-1" role="alert" hx-swap-oob="true"></div>' in body
