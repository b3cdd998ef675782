"""Property tests of the rule language against the reference evaluator.

- complement: every negation pair (docs/design.md#negation), and ``negate: true`` groups, split
  all contacts into two disjoint sets that cover all of them;
- agreement: the one SQL query built by ``contacts_matching`` returns exactly
  the contacts ``reference.py`` says match, for random contacts and trees;
- robustness: ``parse_filter`` of arbitrary or near-valid JSON returns a
  canonical tree or raises ``RuleErrors`` with a path and a message for every
  error, and a tree it accepts always runs in PostgreSQL.

Each example inserts its contacts with ``bulk_create`` inside a savepoint and
deletes them at the end, all inside the test's transaction.
"""

from __future__ import annotations

import copy
import os
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contacts.models import Contact, Group, Tag

from .reference import (
    CANONICAL_FIELDS,
    CUSTOM_PREFIX,
    NEGATION_PAIRS,
    Reference,
    ops_for,
)
from .strategies import (
    GROUP_POOL,
    NOW,
    TAG_POOL,
    TreeContext,
    conditions,
    contact_lists,
    delete_contacts,
    hostile_trees,
    insert_contacts,
    json_values,
    mutated_trees,
    negated,
    trees,
)

pytestmark = pytest.mark.django_db

#: FLOCK_HYPOTHESIS_SCALE=10 runs ten times as many examples (the default keeps the file < 60 s).
SCALE = float(os.environ.get("FLOCK_HYPOTHESIS_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@dataclass(frozen=True)
class Pool:
    tag_ids: dict[str, int]
    groups: tuple[tuple[int, str], ...]

    def context(self, **kwargs) -> TreeContext:
        return TreeContext(tag_names=tuple(self.tag_ids), groups=self.groups, **kwargs)


@pytest.fixture
def pool() -> Pool:
    tag_ids = {name: Tag.objects.create(name=name).pk for name in TAG_POOL}
    groups = tuple((Group.objects.create(name=name).pk, name) for name in GROUP_POOL)
    return Pool(tag_ids=tag_ids, groups=groups)


@contextmanager
def example_rows(rows: list[dict], pool: Pool):
    """The example's contacts exist inside this block, and only there."""
    with transaction.atomic():  # a savepoint: a failing query cannot poison later examples
        insert_contacts(rows, pool.tag_ids)
        yield rows
        delete_contacts(rows)
    assert not Contact.objects.exists()


def _vocabulary(rows: list[dict]) -> tuple[str, ...]:
    """The contacts' own text, so that generated conditions often hit."""
    words = set()
    for row in rows:
        for column in (
            "email",
            "first_name",
            "last_name",
            "company",
            "job_title",
            "country",
            "city",
            "source",
        ):
            words.add(row[column])
        words.add(f"{row['first_name']} {row['last_name']}")
        words.update(v for v in row["custom_fields"].values() if isinstance(v, str))
    return tuple(sorted(w.strip(" ") for w in words if w.strip(" ")))


def _draw_segments(data, ctx: TreeContext, how_many: int) -> dict[int, dict]:
    """Saved segments with random trees; each may use the ones saved before it."""
    from segments.models import ContactSegment

    saved: dict[int, dict] = {}
    for i in range(how_many):
        tree = data.draw(
            trees(replace(ctx, segment_ids=tuple(saved)), max_depth=2, max_conditions=3),
            label=f"segment {i}",
        )
        saved[ContactSegment.objects.create(name=f"S{i}", filter_json=tree).pk] = tree
    return saved


def _ids(tree) -> set[int]:
    from segments.selectors import contacts_matching

    return set(contacts_matching(tree, now=NOW).values_list("id", flat=True))


# --- agreement ---------------------------------------------------------------------------


@settings(max_examples=examples(250), **COMMON)
@given(data=st.data())
def test_sql_agrees_with_the_reference_evaluator(pool, data):
    from segments.models import ContactSegment

    rows = data.draw(
        contact_lists(tuple(pool.tag_ids), [gid for gid, _ in pool.groups], min_size=2),
        label="contacts",
    )
    with example_rows(rows, pool):
        ctx = pool.context(vocabulary=_vocabulary(rows))
        segments = _draw_segments(data, ctx, data.draw(st.integers(0, 2), label="segments"))
        tree = data.draw(trees(replace(ctx, segment_ids=tuple(segments))), label="tree")
        reference = Reference(
            now=NOW, groups=dict(pool.groups), segments=segments, tag_names=frozenset(pool.tag_ids)
        )
        expected = reference.matching_ids(rows, tree)
        everyone = {row["id"] for row in rows}
        event("matches: " + ("none" if not expected else "all" if expected == everyone else "some"))
        got = _ids(tree)
        if got != expected:
            by_id = {row["id"]: row for row in rows}
            wrongly_in = [by_id[i] for i in got - expected]
            wrongly_out = [by_id[i] for i in expected - got]
            pytest.fail(
                f"SQL and reference disagree.\n  tree: {tree}\n  segments: {segments}\n"
                f"  matched by SQL only: {wrongly_in}\n  matched by reference only: {wrongly_out}"
            )
        ContactSegment.objects.filter(pk__in=segments).delete()


@settings(max_examples=examples(60), **COMMON)
@given(data=st.data())
def test_sql_agrees_with_the_reference_on_single_conditions(pool, data):
    """One condition at a time: disagreements shrink to the smallest input."""
    rows = data.draw(
        contact_lists(tuple(pool.tag_ids), [gid for gid, _ in pool.groups], min_size=2),
        label="contacts",
    )
    with example_rows(rows, pool):
        ctx = pool.context(vocabulary=_vocabulary(rows))
        for _ in range(10):
            cond = data.draw(conditions(ctx), label="condition")
            tree = {"match": "all", "negate": False, "rules": [cond]}
            reference = Reference(now=NOW, groups=dict(pool.groups))
            expected = reference.matching_ids(rows, tree)
            event(
                "matches: "
                + ("none" if not expected else "all" if len(expected) == len(rows) else "some")
            )
            assert _ids(tree) == expected, cond


# --- complement ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("positive", "negative"), NEGATION_PAIRS, ids=[p for p, _ in NEGATION_PAIRS]
)
@settings(max_examples=examples(20), **COMMON)
@given(data=st.data())
def test_negation_pair_is_an_exact_complement(pool, data, positive, negative):
    from segments.models import ContactSegment

    rows = data.draw(
        contact_lists(tuple(pool.tag_ids), [gid for gid, _ in pool.groups], min_size=2),
        label="contacts",
    )
    with example_rows(rows, pool):
        ctx = pool.context(vocabulary=_vocabulary(rows))
        segments = _draw_segments(data, ctx, 2 if positive == "in_segment" else 0)
        ctx = replace(ctx, segment_ids=tuple(segments))
        for _ in range(5):
            cond = data.draw(conditions(ctx, ops=[positive], also=[negative]), label="condition")
            assert negated(cond)["op"] == negative
            hit = _ids({"match": "all", "negate": False, "rules": [cond]})
            miss = _ids({"match": "all", "negate": False, "rules": [negated(cond)]})
            everyone = {row["id"] for row in rows}
            assert hit.isdisjoint(miss), cond
            assert hit | miss == everyone, cond
            assert len(hit) + len(miss) == Contact.objects.count()
        ContactSegment.objects.filter(pk__in=segments).delete()


@settings(max_examples=examples(80), **COMMON)
@given(data=st.data())
def test_negated_group_is_an_exact_complement(pool, data):
    from segments.models import ContactSegment

    rows = data.draw(
        contact_lists(tuple(pool.tag_ids), [gid for gid, _ in pool.groups], min_size=2),
        label="contacts",
    )
    with example_rows(rows, pool):
        ctx = pool.context(vocabulary=_vocabulary(rows))
        segments = _draw_segments(data, ctx, data.draw(st.integers(0, 1), label="segments"))
        tree = data.draw(trees(replace(ctx, segment_ids=tuple(segments))), label="tree")
        flipped = {**tree, "negate": not tree["negate"]}
        everyone = {row["id"] for row in rows}
        # at the top level ...
        hit, miss = _ids(tree), _ids(flipped)
        assert hit.isdisjoint(miss)
        assert hit | miss == everyone
        assert len(hit) + len(miss) == Contact.objects.count()
        # ... and nested (an empty nested group is invalid, so only non-empty ones)
        if tree["rules"]:
            nested_hit = _ids({"match": "any", "negate": False, "rules": [tree]})
            nested_miss = _ids({"match": "any", "negate": False, "rules": [flipped]})
            assert nested_hit == hit
            assert nested_miss == miss
        ContactSegment.objects.filter(pk__in=segments).delete()


# --- robustness ----------------------------------------------------------------------------


def assert_canonical(tree, depth: int = 1) -> int:
    """The shape parse_filter promises; returns the number of conditions."""
    assert isinstance(tree, dict), tree
    assert set(tree) == {"match", "negate", "rules"}, tree
    assert tree["match"] in ("all", "any"), tree
    assert isinstance(tree["negate"], bool), tree
    assert isinstance(tree["rules"], list), tree
    assert depth <= 5, "deeper than 5 levels"
    count = 0
    for rule in tree["rules"]:
        assert isinstance(rule, dict), rule
        if "rules" in rule:
            assert rule["rules"], "an empty nested group was accepted"
            count += assert_canonical(rule, depth + 1)
            continue
        assert set(rule) <= {"field", "op", "value"}, rule
        field_name = rule["field"]
        assert field_name in CANONICAL_FIELDS or (
            field_name.startswith(CUSTOM_PREFIX) and len(field_name) > len(CUSTOM_PREFIX)
        ), rule
        assert rule["op"] in ops_for(field_name), rule
        if rule["op"] not in ("is_set", "is_not_set"):
            assert "value" in rule, rule
        count += 1
    return count


def check_parse(raw, segment_id=None):
    """parse_filter either returns a canonical dict or raises well-formed RuleErrors."""
    from segments.rules import RuleErrors, parse_filter

    before = copy.deepcopy(raw)
    try:
        result = parse_filter(raw, segment_id=segment_id)
    except RuleErrors as exc:
        assert isinstance(exc, Exception)
        assert isinstance(exc.errors, list) and exc.errors
        for error in exc.errors:
            assert isinstance(error.path, str) and error.path, error
            assert isinstance(error.message, str) and error.message, error
        result = None
    assert raw == before, "parse_filter changed its input"
    if result is not None:
        assert assert_canonical(result) <= 50
        assert parse_filter(copy.deepcopy(result), segment_id=segment_id) == result, (
            "the canonical form is not a fixed point"
        )
    return result


@pytest.fixture
def saved_segment(pool):
    from segments.models import ContactSegment

    return ContactSegment.objects.create(
        name="Saved",
        filter_json={
            "match": "all",
            "negate": False,
            "rules": [{"field": "tag", "op": "is", "value": "VIP"}],
        },
    )


@settings(max_examples=examples(400), **COMMON)
@given(raw=json_values, segment_id=st.one_of(st.none(), st.integers(-3, 10**6)))
def test_parse_filter_of_arbitrary_json_returns_a_tree_or_rule_errors(pool, raw, segment_id):
    with transaction.atomic():
        check_parse(raw, segment_id)


@settings(max_examples=examples(400), **COMMON)
@given(data=st.data())
def test_parse_filter_of_near_valid_trees_returns_a_tree_or_rule_errors(pool, saved_segment, data):
    ctx = pool.context(segment_ids=(saved_segment.pk,))
    raw = data.draw(mutated_trees(ctx), label="raw")
    with transaction.atomic():
        check_parse(raw, data.draw(st.sampled_from([None, saved_segment.pk]), label="segment_id"))


@settings(max_examples=examples(150), **COMMON)
@given(data=st.data())
def test_an_accepted_tree_always_runs_in_postgresql(pool, saved_segment, data):
    from segments.selectors import contacts_matching

    ctx = pool.context(segment_ids=(saved_segment.pk,))
    raw = data.draw(st.one_of(mutated_trees(ctx), json_values), label="raw")
    with transaction.atomic():
        if check_parse(raw) is not None:
            list(contacts_matching(raw, now=NOW).values_list("id", flat=True))


@settings(max_examples=examples(300), **COMMON)
@given(data=st.data())
def test_hostile_values_are_rule_errors_or_queries_that_run(pool, saved_segment, data):
    """Bad input never reaches the database and never raises a 500."""
    from segments.rules import RuleErrors
    from segments.selectors import contacts_matching

    ctx = pool.context(segment_ids=(saved_segment.pk,))
    raw = data.draw(hostile_trees(ctx), label="raw")
    with transaction.atomic():
        check_parse(raw)
    try:
        with transaction.atomic():
            list(contacts_matching(raw, now=NOW).values_list("id", flat=True))
    except RuleErrors:
        pass
