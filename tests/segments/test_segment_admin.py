from __future__ import annotations

import json

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from contacts.models import Group
from segments.models import ContactSegment, SegmentEvaluation

from ..contacts.factories import ContactFactory, GroupFactory
from .factories import SegmentFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:segments_contactsegment_add")


def post_segment(client, filter_json, name="High value"):
    return client.post(
        ADD,
        {
            "name": name,
            "description": "",
            "filter_json": json.dumps(filter_json),
            "evaluations-TOTAL_FORMS": "0",
            "evaluations-INITIAL_FORMS": "0",
        },
    )


def test_saving_stores_the_canonical_tree_and_the_author(admin_client_, admin):
    response = post_segment(admin_client_, [{"field": "lead_score", "op": ">=", "value": 70}])
    assert response.status_code == 302
    segment = ContactSegment.objects.get()
    assert segment.filter_json == {
        "match": "all",
        "negate": False,
        "rules": [{"field": "leadScore", "op": "gte", "value": 70}],
    }
    assert segment.created_by == admin


def test_invalid_rules_are_shown_with_their_path_and_nothing_is_saved(admin_client_):
    response = post_segment(admin_client_, [{"field": "leadScore", "op": "contains", "value": 1}])
    assert response.status_code == 200
    assert "rules[0].op: &#x27;contains&#x27; cannot be used with Lead score" in (
        response.content.decode()
    )
    assert not ContactSegment.objects.exists()


def test_a_segment_needs_a_condition(admin_client_):
    response = post_segment(admin_client_, {"match": "all", "rules": []})
    assert response.status_code == 200
    assert b"Add at least one condition to save." in response.content


def test_reevaluate_action_records_count_and_history(admin_client_):
    ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=10)
    post_segment(admin_client_, [{"field": "leadScore", "op": "gte", "value": 70}])
    segment = ContactSegment.objects.get()
    response = admin_client_.post(
        reverse("admin:segments_contactsegment_changelist"),
        {"action": "evaluate_now", ACTION_CHECKBOX_NAME: [segment.pk]},
        follow=True,
    )
    assert b"3 contacts match now" in response.content
    segment.refresh_from_db()
    assert segment.last_count == 3
    assert list(SegmentEvaluation.objects.values_list("count", flat=True)) == [3]
    change = admin_client_.get(reverse("admin:segments_contactsegment_change", args=[segment.pk]))
    assert b"Lead score \xe2\x89\xa5 70" in change.content  # the plain-language summary
    assert b"size history" in change.content.lower()


def test_a_segment_that_another_uses_cannot_be_deleted_alone(admin_client_):
    post_segment(admin_client_, [{"field": "leadScore", "op": "gte", "value": 70}], name="Base")
    base = ContactSegment.objects.get(name="Base")
    post_segment(
        admin_client_, [{"field": "segment", "op": "in_segment", "value": base.pk}], "Uses"
    )
    user = ContactSegment.objects.get(name="Uses")
    delete_url = reverse("admin:segments_contactsegment_delete", args=[base.pk])

    page = admin_client_.get(delete_url).content.decode()
    assert "Segment “Uses”, whose rules use “Base”" in page
    admin_client_.post(delete_url, {"post": "yes"})
    changelist = reverse("admin:segments_contactsegment_changelist")
    admin_client_.post(
        changelist, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [base.pk], "post": "yes"}
    )
    assert ContactSegment.objects.filter(pk=base.pk).exists()

    # Together with the segment that uses it, it goes.
    admin_client_.post(
        changelist,
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [base.pk, user.pk], "post": "yes"},
    )
    assert not ContactSegment.objects.exists()


# --- the rules as JSON text -------------------------------------------------------


def post_rules_text(client, text: str, name: str = "Typed"):
    return client.post(
        ADD,
        {
            "name": name,
            "description": "",
            "filter_json": text,
            "evaluations-TOTAL_FORMS": "0",
            "evaluations-INITIAL_FORMS": "0",
        },
    )


def rules_errors(response) -> list[str]:
    return response.context["adminform"].form.errors.get("filter_json", [])


@pytest.mark.parametrize(
    "text", ["[" * 5000, '{"a":' * 5000, '{"match": "all", "rules": ' + "[" * 5000]
)
def test_deeply_nested_rules_are_refused_with_a_message_not_a_500(admin_client_, text):
    response = post_rules_text(admin_client_, text)

    assert response.status_code == 200
    assert rules_errors(response) == [
        "The JSON is nested too deeply (more than 64 levels of [ and {); nothing was saved. "
        "Remove the extra brackets."
    ]
    assert not ContactSegment.objects.exists()
    # What was typed is shown again, to be fixed rather than typed anew.
    assert response.context["adminform"].form["filter_json"].value() == text


def test_brackets_inside_strings_do_not_count_as_nesting(admin_client_):
    rules = [{"field": "tag", "op": "is", "value": "[" * 500}]
    response = post_rules_text(admin_client_, json.dumps(rules))
    assert response.status_code == 302
    assert ContactSegment.objects.get().filter_json["rules"][0]["value"] == "[" * 500


def test_json_that_does_not_parse_says_where(admin_client_):
    response = post_rules_text(admin_client_, '{"match": "all",\n "rules": [}')

    assert response.status_code == 200
    assert rules_errors(response) == [
        "This is not valid JSON: Expecting value at line 2, column 12."
    ]
    assert not ContactSegment.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[{"field": "leadScore", "op": "gte", "value": NaN}]',
            "This is not valid JSON: NaN is not allowed in JSON.",
        ),
        (
            '[{"field": "leadScore", "op": "gte", "value": 1e999}]',
            "Numbers must be finite: NaN, Infinity and numbers such as 1e999 are not allowed.",
        ),
        (
            '[{"field": "email", "op": "contains", "value": "a\\u0000b"}]',
            "It contains a NUL character (\\u0000), which cannot be stored; remove it.",
        ),
    ],
)
def test_values_postgresql_cannot_store_are_refused_with_a_message(admin_client_, text, message):
    response = post_rules_text(admin_client_, text)

    assert response.status_code == 200
    assert message in rules_errors(response)
    assert not ContactSegment.objects.exists()


def test_a_rule_error_from_typed_text_uses_the_builders_message(admin_client_):
    response = post_rules_text(admin_client_, '[{"field": "lead_scor", "op": "gte", "value": 1}]')

    assert response.status_code == 200
    assert rules_errors(response) == [
        "rules[0].field: Unknown field 'lead_scor'; did you mean 'leadScore'?"
    ]


def test_the_change_form_shows_the_rules_indented_in_a_monospace_box_with_help(admin_client_):
    post_segment(admin_client_, [{"field": "leadScore", "op": "gte", "value": 70}])
    segment = ContactSegment.objects.get()

    response = admin_client_.get(reverse("admin:segments_contactsegment_change", args=[segment.pk]))

    # In the order people write rules in, not jsonb's (shortest key first).
    assert response.context["adminform"].form["filter_json"].value() == (
        '{\n  "match": "all",\n  "negate": false,\n  "rules": [\n    {\n'
        '      "field": "leadScore",\n      "op": "gte",\n      "value": 70\n    }\n  ]\n}'
    )
    page = response.content.decode()
    assert 'class="flock-json"' in page
    assert "css/admin.css" in page
    assert "Example:" in page and "leadScore" in page


def test_a_group_that_a_segment_uses_cannot_be_deleted_in_the_admin(admin_client_):
    group = GroupFactory(name="Board")
    SegmentFactory(
        name="Board members", filter_json=[{"field": "group", "op": "in_group", "value": "Board"}]
    )
    unused = GroupFactory(name="Unused")
    delete_url = reverse("admin:contacts_group_delete", args=[group.pk])
    page = admin_client_.get(delete_url).content.decode()
    assert "Segment “Board members”, whose rules use the group “Board”" in page
    admin_client_.post(delete_url, {"post": "yes"})
    changelist = reverse("admin:contacts_group_changelist")
    admin_client_.post(
        changelist, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [group.pk], "post": "yes"}
    )
    assert Group.objects.filter(pk=group.pk).exists()
    admin_client_.post(reverse("admin:contacts_group_delete", args=[unused.pk]), {"post": "yes"})
    assert not Group.objects.filter(pk=unused.pk).exists()
