from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.rules import RuleErrors
from segments.selectors import contacts_matching, preview, segment_reachable_contacts
from segments.services import segment_create

from ..contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


def test_preview_counts_and_samples_the_ten_newest_matches():
    matches = [ContactFactory(lead_score=80) for _ in range(12)]
    ContactFactory(lead_score=10)
    result = preview(HIGH, now=NOW)
    assert result.count == 12
    assert [c.pk for c in result.sample] == [c.pk for c in reversed(matches)][:10]


def test_small_preview_counts_from_the_sample():
    ContactFactory.create_batch(3, lead_score=80)
    assert preview(HIGH, now=NOW).count == 3


def test_preview_of_nothing():
    ContactFactory(lead_score=10)
    result = preview(HIGH, now=NOW)
    assert (result.count, result.sample) == (0, [])


def test_whole_tree_is_one_sql_query():
    vip = TagFactory(name="vip")
    ContactFactory(lead_score=90, tags=[vip], custom_fields={"plan": "pro"})
    tree = {
        "match": "any",
        "rules": [
            {"field": "tag", "op": "is", "value": "vip"},
            {"match": "all", "negate": True, "rules": [
                {"field": "customField:plan", "op": "equals", "value": "PRO"},
                {"field": "lastInteracted", "op": "older_than_days", "value": 90},
            ]},
        ],
    }  # fmt: skip
    queryset = contacts_matching(tree, now=NOW)
    with CaptureQueriesContext(connection) as queries:
        assert queryset.count() == 1
    assert len(queries) == 1


def test_invalid_tree_raises_rule_errors():
    with pytest.raises(RuleErrors):
        contacts_matching([{"field": "nope", "op": "equals", "value": 1}])


def test_reachable_members_leave_out_bounced_and_unsubscribed(marketer):
    ok = ContactFactory(lead_score=90)
    ContactFactory(lead_score=90, is_bounced=True)
    ContactFactory(lead_score=90, is_unsubscribed=True)
    segment = segment_create(name="High", filter_json=HIGH, user=marketer)
    assert list(segment_reachable_contacts(segment, now=NOW)) == [ok]


def test_in_segment_follows_the_other_segments_rules_as_they_are_now(marketer):
    inner = segment_create(name="High", filter_json=HIGH, user=marketer)
    a = ContactFactory(lead_score=90, company="Acme Inc")
    ContactFactory(lead_score=10, company="Acme Inc")
    outer = [
        {"field": "segment", "op": "in_segment", "value": inner.pk},
        {"field": "company", "op": "contains", "value": "inc"},
    ]
    assert list(contacts_matching(outer, now=NOW)) == [a]
    inner.filter_json = {
        "match": "all",
        "rules": [{"field": "leadScore", "op": "lte", "value": 20}],
    }
    inner.save()
    assert list(contacts_matching(outer, now=NOW)) != [a]


def test_chains_of_segment_references_cannot_multiply_without_end(marketer, settings):
    settings.SEGMENT_MAX_CONDITIONS = 5
    inner = segment_create(name="L0", filter_json=HIGH, user=marketer)
    for level in range(1, 4):  # each level uses the previous one 5 times: 5^3 conditions
        rule = {"field": "segment", "op": "in_segment", "value": inner.pk}
        inner = segment_create(name=f"L{level}", filter_json=[rule] * 5, user=marketer)
    with pytest.raises(RuleErrors) as info:
        contacts_matching([{"field": "segment", "op": "in_segment", "value": inner.pk}]).count()
    assert "expand to more than 50 conditions" in str(info.value)
