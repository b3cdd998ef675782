from __future__ import annotations

import pytest

from segments.prefabs import PREFABS
from segments.rules import describe_filter, parse_filter

pytestmark = pytest.mark.django_db


def test_win_back_with_vip_reads_like_a_sentence():
    tree = parse_filter(
        [*PREFABS["win_back"].filter_json["rules"], {"field": "tag", "op": "is", "value": "vip"}]
    )
    assert describe_filter(tree) == (
        "Last interacted more than 90 days ago, not bounced, not unsubscribed and tagged vip"
    )


def test_nested_and_negated_groups_are_parenthesised():
    tree = parse_filter(
        {
            "match": "any",
            "rules": [
                {"field": "leadScore", "op": "gte", "value": 90},
                {"match": "all", "negate": True, "rules": [
                    {"field": "company", "op": "contains", "value": "inc"},
                    {"field": "customField:plan", "op": "equals", "value": "pro"},
                ]},
            ],
        }
    )  # fmt: skip
    assert describe_filter(tree) == (
        "Lead score ≥ 90 or not (company contains inc and plan equals pro)"
    )


def test_group_and_segment_names_are_shown_when_known():
    tree = {"match": "all", "negate": False, "rules": [
        {"field": "group", "op": "in_group", "value": 3},
        {"field": "segment", "op": "not_in_segment", "value": 4},
    ]}  # fmt: skip
    names = {"group": {3: "Board"}, "segment": {4: "VIP"}}
    assert describe_filter(tree, names=names) == "In group Board and not in segment VIP"


def test_list_values_are_listed():
    tree = parse_filter(
        [
            {"field": "tag", "op": "any_of", "value": ["vip", "beta"]},
            {"field": "leadScore", "op": "between", "value": [10, 20]},
            {"field": "country", "op": "in", "value": ["France", "Spain"]},
        ]
    )
    assert describe_filter(tree) == (
        "Tagged any of vip, beta, lead score between 10 and 20 and country is one of France, Spain"
    )


def test_registered_custom_fields_are_named_by_their_label_as_written():
    tree = parse_filter(
        [
            {"field": "customField:nps", "op": "gte", "value": 9},
            {"field": "customField:plan", "op": "equals", "value": "pro"},
            {"field": "customField:renewal", "op": "is_set"},
        ]
    )
    names = {"customField": {"nps": "NPS score", "plan": "Plan tier", "renewal": "Renewal"}}
    assert describe_filter(tree, names=names) == (
        "NPS score ≥ 9, Plan tier equals pro and Renewal is set"
    )


def test_unregistered_custom_fields_keep_their_name():
    tree = parse_filter([{"field": "customField:Legacy", "op": "equals", "value": "x"}])
    # Keys are case-sensitive: "Legacy" is not the registered "legacy".
    names = {"customField": {"legacy": "Old ID"}}
    assert describe_filter(tree, names=names) == "Legacy equals x"
