"""parse_filter resolves groups and segment references through the lookup it is given:
with one backed by dicts, parsing needs no database (nothing here may touch one)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import pytest

from segments.rules import RuleErrors, StoredSegment, parse_filter


@dataclass
class DictLookup:
    """A RuleLookup over dicts that counts what it is asked."""

    groups: dict[int, str] = field(default_factory=dict)
    saved: dict[int, StoredSegment] = field(default_factory=dict)
    calls: list[tuple[str, tuple]] = field(default_factory=list)

    def group_ids_by_name(self, names: Collection[str]) -> Mapping[str, int]:
        self.calls.append(("group_ids_by_name", tuple(names)))
        by_name: dict[str, int] = {}
        for pk, group_name in sorted(self.groups.items(), key=lambda item: item[1]):
            by_name.setdefault(group_name.lower(), pk)
        return {name: by_name[name.lower()] for name in names if name.lower() in by_name}

    def existing_group_ids(self, ids: Collection[int]) -> Collection[int]:
        self.calls.append(("existing_group_ids", tuple(sorted(ids))))
        return {pk for pk in ids if pk in self.groups}

    def segments(self, ids: Collection[int]) -> Mapping[int, StoredSegment]:
        self.calls.append(("segments", tuple(sorted(ids))))
        return {pk: self.saved[pk] for pk in ids if pk in self.saved}


def in_group(value):
    return {"field": "group", "op": "in_group", "value": value}


def in_segment(value):
    return {"field": "segment", "op": "in_segment", "value": value}


def errors_of(raw, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(RuleErrors) as info:
        parse_filter(raw, **kwargs)
    return [(e.path, e.message) for e in info.value.errors]


@pytest.fixture
def lookup() -> DictLookup:
    return DictLookup(
        groups={7: "Board", 12: "Beta testers", 40: "40"},
        saved={
            3: StoredSegment("Customers", {"match": "all", "negate": False, "rules": []}),
            4: StoredSegment(
                "High customers",
                {"match": "all", "negate": False, "rules": [in_segment(3)]},
            ),
        },
    )


def test_group_names_resolve_ignoring_case_and_spaces(lookup):
    tree = parse_filter([in_group("  board "), in_group("BETA TESTERS")], lookup=lookup)
    assert [rule["value"] for rule in tree["rules"]] == [7, 12]


def test_a_group_id_is_used_when_no_group_has_the_value_as_name(lookup):
    tree = parse_filter([in_group(12), in_group("7"), in_group(7.0)], lookup=lookup)
    assert [rule["value"] for rule in tree["rules"]] == [12, 7, 7]


def test_a_group_name_that_looks_like_an_id_wins_over_the_id(lookup):
    lookup.groups[9] = "12"
    assert parse_filter([in_group("12")], lookup=lookup)["rules"][0]["value"] == 9


def test_unknown_group_names_and_ids_are_errors_at_their_value(lookup):
    assert errors_of(
        [in_group("No such group"), in_group(987654321), in_group(["Board"])], lookup=lookup
    ) == [
        ("rules[0].value", "There is no group 'No such group'."),
        ("rules[1].value", "There is no group '987654321'."),
        ("rules[2].value", "There is no group '[\"Board\"]'."),
    ]


def test_an_unknown_group_keeps_its_place_among_the_other_errors(lookup):
    rules = [
        {"field": "tag", "op": "is", "value": ""},
        in_group("nope"),
        {"field": "leadScore", "op": "gte", "value": 900},
    ]
    assert errors_of(rules, lookup=lookup) == [
        ("rules[0].value", "Enter a value for Tag."),
        ("rules[1].value", "There is no group 'nope'."),
        ("rules[2].value", "Lead score needs a whole number between 0 and 100."),
    ]


def test_groups_are_asked_once_per_kind_whatever_their_number(lookup):
    parse_filter(
        {"match": "any", "rules": [in_group("Board"), [in_group("board"), in_group(12)]]},
        lookup=lookup,
    )
    assert lookup.calls == [
        ("group_ids_by_name", ("Board", "board")),
        ("existing_group_ids", (12,)),
    ]


def test_ids_are_not_asked_when_every_name_is_found(lookup):
    parse_filter([in_group("Board"), in_group("40")], lookup=lookup)
    assert lookup.calls == [("group_ids_by_name", ("Board", "40"))]


def test_rules_without_groups_or_segments_ask_nothing(lookup):
    parse_filter([{"field": "tag", "op": "is", "value": "vip"}], lookup=lookup)
    assert lookup.calls == []


def test_text_with_nul_is_refused_before_any_lookup(lookup):
    assert errors_of([in_group("Bo\x00ard")], lookup=lookup) == [
        ("rules[0].value", "Text cannot contain the NUL character (\\0); remove it.")
    ]
    assert lookup.calls == []


def test_segment_references_resolve_through_the_lookup(lookup):
    tree = parse_filter([in_segment(4), in_segment("3")], lookup=lookup)
    assert [rule["value"] for rule in tree["rules"]] == [4, 3]
    assert lookup.calls == [("segments", (3, 4))]


def test_unknown_segment_is_an_error_at_its_value(lookup):
    assert errors_of([in_segment(3), in_segment(987654321)], lookup=lookup) == [
        ("rules[1].value", "There is no segment with id 987654321.")
    ]


def test_segment_references_are_not_checked_while_other_errors_stand(lookup):
    assert errors_of([in_segment(987654321), in_group("nope")], lookup=lookup) == [
        ("rules[1].value", "There is no group 'nope'.")
    ]
    assert [name for name, _ in lookup.calls] == ["group_ids_by_name"]


def test_a_segment_cannot_include_itself(lookup):
    assert errors_of([in_segment(3)], segment_id=3, lookup=lookup) == [
        ("rules[0].value", "A segment cannot include itself.")
    ]


def test_a_cycle_through_saved_segments_is_an_error(lookup):
    lookup.saved[5] = StoredSegment(
        "Via high", {"match": "all", "negate": False, "rules": [in_segment(4)]}
    )
    assert errors_of([{"match": "any", "rules": [in_segment(5)]}], segment_id=3, lookup=lookup) == [
        (
            "rules[0].rules[0].value",
            "Segment 'Via high' already uses this segment, so it cannot be used here (cycle).",
        )
    ]
    # Segment 3 uses no other segment, so segment 4 may use it.
    assert parse_filter([in_segment(3)], segment_id=4, lookup=lookup)["rules"][0]["value"] == 3


def test_the_canonical_tree_is_the_same_as_parsed_twice(lookup):
    raw = {
        "logic": "OR",
        "conditions": [in_group("board"), {"field": "lead_score", "operator": ">=", "value": "5"}],
    }
    tree = parse_filter(raw, lookup=lookup)
    assert tree == {
        "match": "any",
        "negate": False,
        "rules": [
            {"field": "group", "op": "in_group", "value": 7},
            {"field": "leadScore", "op": "gte", "value": 5},
        ],
    }
    assert parse_filter(tree, lookup=lookup) == tree
