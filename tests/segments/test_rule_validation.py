"""parse_filter: canonical form for every accepted spelling, and errors with a path and words."""

from __future__ import annotations

import pytest
from django.test import override_settings

from segments.rules import RuleErrors, parse_filter
from segments.services import segment_create

from ..contacts.factories import GroupFactory

pytestmark = pytest.mark.django_db


def errors_of(raw, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(RuleErrors) as info:
        parse_filter(raw, **kwargs)
    return [(e.path, e.message) for e in info.value.errors]


def test_bare_array_means_match_all():
    tree = parse_filter([{"field": "leadScore", "op": "gte", "value": 70}])
    assert tree == {
        "match": "all",
        "negate": False,
        "rules": [{"field": "leadScore", "op": "gte", "value": 70}],
    }


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ({"field": "lead_score", "operator": ">=", "value": 70}, ("leadScore", "gte", 70)),
        ({"field": "leadScore", "op": "≥", "value": "70"}, ("leadScore", "gte", 70)),
        ({"field": "leadScore", "op": "equals", "value": 5}, ("leadScore", "eq", 5)),
        ({"field": "leadScore", "op": "=", "value": 5}, ("leadScore", "eq", 5)),
        ({"field": "leadScore", "op": "greater_than", "value": 5}, ("leadScore", "gt", 5)),
        ({"field": "leadScore", "op": "≤", "value": 5}, ("leadScore", "lte", 5)),
        ({"field": "last_interacted", "op": "olderThanDays", "value": 90},
         ("lastInteracted", "older_than_days", 90)),
        ({"field": "created_at", "operator": "withinDays", "value": 7},
         ("createdAt", "within_days", 7)),
        ({"field": "is_bounced", "op": "equals", "value": "false"}, ("isBounced", "equals", False)),
        ({"field": "company", "op": "notContains", "value": " Inc "},
         ("company", "not_contains", "Inc")),
        ({"field": "lifecycle_stage", "op": "equals", "value": "MQL"},
         ("lifecycleStage", "equals", "mql")),
        ({"field": "custom_field:plan", "op": "equals", "value": "pro"},
         ("customField:plan", "equals", "pro")),
        ({"field": "tag", "op": "any_of", "value": "vip, beta"},
         ("tag", "any_of", ["vip", "beta"])),
    ],
)  # fmt: skip
def test_aliases_and_snake_case_are_stored_in_canonical_form(given, canonical):
    rule = parse_filter([given])["rules"][0]
    assert (rule["field"], rule["op"], rule.get("value")) == canonical


def test_seed_002_example_is_accepted():
    tree = parse_filter(
        [
            {"field": "status", "operator": "equals", "value": "active"},
            {"field": "company", "operator": "contains", "value": "Inc"},
        ]
    )
    assert [r["field"] for r in tree["rules"]] == ["status", "company"]


def test_group_by_name_is_stored_as_its_id():
    board = GroupFactory(name="Board")
    tree = parse_filter([{"field": "group", "op": "in_group", "value": "board"}])
    assert tree["rules"][0]["value"] == board.pk


def test_is_set_drops_any_value():
    assert parse_filter([{"field": "city", "op": "is_set", "value": "x"}])["rules"][0] == {
        "field": "city",
        "op": "is_set",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([{"field": "lead_scor", "op": "gte", "value": 1}],
         [("rules[0].field", "Unknown field 'lead_scor'; did you mean 'leadScore'?")]),
        ([{"field": "leadScore", "op": "contains", "value": 1}],
         [("rules[0].op",
           "'contains' cannot be used with Lead score; use one of: =, ≠, >, ≥, <, ≤, between.")]),
        ([{"field": "leadScore", "op": "gte", "value": 170}],
         [("rules[0].value", "Lead score needs a whole number between 0 and 100.")]),
        ([{"field": "leadScore", "op": "gte", "value": "seventy"}],
         [("rules[0].value", "Lead score needs a whole number between 0 and 100.")]),
        ([{"field": "leadScore", "op": "between", "value": [80, 20]}],
         [("rules[0].value", "The low end (80) is above the high end (20).")]),
        ([{"field": "company", "op": "contains", "value": ""}],
         [("rules[0].value", "Enter a value for Company.")]),
        ([{"field": "company", "op": "contains"}],
         [("rules[0].value", "Company contains needs a value.")]),
        ([{"field": "lastInteracted", "op": "before", "value": "last tuesday"}],
         [("rules[0].value",
           "Enter a date as YYYY-MM-DD (or a date and time, e.g. 2026-01-31T09:00:00Z).")]),
        ([{"field": "lastInteracted", "op": "within_days", "value": -3}],
         [("rules[0].value", "Enter a whole number of days between 0 and 36500.")]),
        ([{"field": "status", "op": "equals", "value": "gone"}],
         [("rules[0].value", "Status must be one of: active, bounced, unsubscribed.")]),
        ([{"field": "group", "op": "in_group", "value": "Nope"}],
         [("rules[0].value", "There is no group 'Nope'.")]),
        ([{"field": "segment", "op": "in_segment", "value": 999999}],
         [("rules[0].value", "There is no segment with id 999999.")]),
        ([{"field": "customField:seats", "op": "gte", "value": "many"}],
         [("rules[0].value", "Enter a number.")]),
        ([{"field": "isBounced", "op": "equals", "value": "perhaps"}],
         [("rules[0].value", "Bounced needs true or false.")]),
        ([{"op": "equals", "value": 1}], [("rules[0].field", "Choose a field.")]),
        ({"match": "most", "rules": []}, [("match", "Match must be 'all' or 'any'.")]),
        ({"match": "all", "rules": [{"match": "any", "rules": []}]},
         [("rules[0].rules", "This group is empty; add a condition or remove it.")]),
        ("{not json", [("filter", "The rules are not valid JSON (Expecting property name "
                                  "enclosed in double quotes: line 1 column 2 (char 1)).")]),
        (42, [("filter",
               "Rules must be an object with 'match' and 'rules', or a list of conditions.")]),
    ],
)  # fmt: skip
def test_errors_name_the_place_and_the_problem(raw, expected):
    assert errors_of(raw) == expected


def test_errors_in_nested_groups_carry_the_full_path():
    raw = {
        "match": "all",
        "rules": [
            {"field": "leadScore", "op": "gte", "value": 1},
            {"field": "tag", "op": "is", "value": "vip"},
            {"match": "any", "rules": [{"field": "leadScore", "op": "gte", "value": "x"}]},
        ],
    }
    assert errors_of(raw)[0][0] == "rules[2].rules[0].value"


def test_every_error_is_reported_at_once():
    raw = [
        {"field": "nope", "op": "equals", "value": 1},
        {"field": "leadScore", "op": "gte", "value": 500},
    ]
    assert [path for path, _ in errors_of(raw)] == ["rules[0].field", "rules[1].value"]


def nested(depth: int) -> dict:
    node: dict = {"match": "all", "rules": [{"field": "leadScore", "op": "gte", "value": 1}]}
    for _ in range(depth - 1):
        node = {"match": "all", "rules": [node]}
    return node


def test_five_levels_are_allowed_and_six_are_not():
    parse_filter(nested(5))
    assert errors_of(nested(6)) == [
        ("rules[0].rules[0].rules[0].rules[0].rules[0]",
         "Segments can be nested at most 5 levels deep."),
    ]  # fmt: skip


@override_settings(SEGMENT_MAX_CONDITIONS=3)
def test_condition_limit_is_a_setting():
    rule = {"field": "leadScore", "op": "gte", "value": 1}
    parse_filter([rule] * 3)
    assert errors_of([rule] * 4) == [
        ("rules", "A segment can have at most 3 conditions; this one has 4.")
    ]


def test_unknown_tag_is_not_an_error():
    assert parse_filter([{"field": "tag", "op": "is", "value": "never-made"}])


def test_a_segment_cannot_include_itself(marketer):
    segment = segment_create(
        name="A", filter_json=[{"field": "leadScore", "op": "gte", "value": 1}], user=marketer
    )
    raw = [{"field": "segment", "op": "in_segment", "value": segment.pk}]
    assert errors_of(raw, segment_id=segment.pk) == [
        ("rules[0].value", "A segment cannot include itself.")
    ]


def test_cycles_through_other_segments_are_rejected(marketer):
    a = segment_create(
        name="A", filter_json=[{"field": "leadScore", "op": "gte", "value": 1}], user=marketer
    )
    b = segment_create(
        name="VIP", filter_json=[{"field": "segment", "op": "in_segment", "value": a.pk}],
        user=marketer,
    )  # fmt: skip
    raw = [{"field": "segment", "op": "not_in_segment", "value": b.pk}]
    assert errors_of(raw, segment_id=a.pk) == [
        ("rules[0].value",
         "Segment 'VIP' already uses this segment, so it cannot be used here (cycle)."),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [
        [{"field": "group", "op": "in_group", "value": "\ud800"}],
        [{"field": "company", "op": "contains", "value": "a\udfffb"}],
        [{"field": "customField:\ud800", "op": "is_set"}],
        '[{"field": "city", "op": "equals", "value": "\\ud800"}]',
    ],
)
def test_lone_surrogates_are_a_validation_error(raw):
    assert errors_of(raw) == [
        ("filter", "The rules contain text that is not valid Unicode; remove it.")
    ]


def test_nan_is_a_validation_error():
    assert errors_of([{"field": "customField:x", "op": "gt", "value": float("nan")}]) == [
        ("filter", "Rules must be plain JSON (no NaN, Infinity or other values).")
    ]


@override_settings(SEGMENT_MAX_CONDITIONS=2)
def test_conditions_past_the_limit_are_not_looked_up(django_assert_max_num_queries):
    GroupFactory(name="Board")
    rule = {"field": "group", "op": "in_group", "value": "Board"}
    with django_assert_max_num_queries(2):
        assert errors_of([rule] * 200) == [
            ("rules", "A segment can have at most 2 conditions; this one has 200.")
        ]


def test_integer_like_custom_field_names_are_keys_not_array_indexes(marketer):
    from segments.selectors import contacts_matching

    from ..contacts.factories import ContactFactory

    contact = ContactFactory(custom_fields={"2024": "X", "7": 9})
    assert list(contacts_matching([{"field": "customField:2024", "op": "equals", "value": "x"}]))
    assert list(contacts_matching([{"field": "customField:7", "op": "gte", "value": 9}])) == [
        contact
    ]
