from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from segments.models import SegmentEvaluation
from segments.services import segment_create, segment_evaluate, segment_update

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


def test_create_stores_the_canonical_tree(marketer):
    segment = segment_create(
        name="High", filter_json=[{"field": "lead_score", "op": ">=", "value": "70"}], user=marketer
    )
    assert segment.filter_json["rules"] == [{"field": "leadScore", "op": "gte", "value": 70}]
    assert segment.created_by == marketer


def test_create_refuses_invalid_rules_and_saves_nothing(marketer):
    with pytest.raises(ValidationError) as info:
        segment_create(name="Bad", filter_json=[{"field": "leadScore"}], user=marketer)
    assert "rules[0].op: Choose an operator for Lead score." in info.value.messages
    with pytest.raises(ValidationError):
        segment_create(name="Empty", filter_json=[], user=marketer)


def test_update_changes_rules(marketer):
    segment = segment_create(name="High", filter_json=HIGH, user=marketer)
    segment_update(segment=segment, name="Low", filter_json=[
        {"field": "leadScore", "op": "lt", "value": 10}
    ])  # fmt: skip
    segment.refresh_from_db()
    assert (segment.name, segment.filter_json["rules"][0]["op"]) == ("Low", "lt")


def test_evaluate_records_last_count_and_history(marketer):
    segment = segment_create(name="High", filter_json=HIGH, user=marketer)
    ContactFactory.create_batch(2, lead_score=90)
    first = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert segment_evaluate(segment=segment, now=first) == 2
    ContactFactory(lead_score=95)
    second = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    assert segment_evaluate(segment=segment, now=second) == 3
    segment.refresh_from_db()
    assert (segment.last_count, segment.last_evaluated_at) == (3, second)
    history = SegmentEvaluation.objects.filter(segment=segment).order_by("evaluated_at")
    assert [(h.count, h.evaluated_at) for h in history] == [(2, first), (3, second)]
