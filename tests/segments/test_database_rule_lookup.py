"""DatabaseRuleLookup, parse_filter's default: one query per kind, PostgreSQL's idea of case."""

from __future__ import annotations

import pytest

from segments.lookups import DatabaseRuleLookup
from segments.rules import RuleErrors, parse_filter

from ..contacts.factories import GroupFactory

pytestmark = pytest.mark.django_db


def in_group(value):
    return {"field": "group", "op": "in_group", "value": value}


def test_group_names_and_ids_cost_one_query_each(django_assert_num_queries):
    board, beta = GroupFactory(name="Board"), GroupFactory(name="Beta testers")
    rules = [in_group("board"), in_group(" BETA testers "), in_group("Board"), in_group(beta.pk)]
    with django_assert_num_queries(2):
        tree = parse_filter(rules)
    assert [rule["value"] for rule in tree["rules"]] == [board.pk, beta.pk, board.pk, beta.pk]


def test_names_map_to_their_group_and_unknown_names_are_left_out():
    board = GroupFactory(name="Board")
    assert DatabaseRuleLookup().group_ids_by_name(["BOARD", "board", "nope"]) == {
        "BOARD": board.pk,
        "board": board.pk,
    }


def test_ids_the_column_cannot_hold_are_no_group(django_assert_num_queries):
    group = GroupFactory(name="Board")
    with django_assert_num_queries(1):
        assert DatabaseRuleLookup().existing_group_ids([group.pk, 10**30, -(10**30)]) == {group.pk}
    with pytest.raises(RuleErrors) as info:
        parse_filter([in_group(10**30)])
    assert [e.message for e in info.value.errors] == [f"There is no group '{10**30}'."]
