from __future__ import annotations

import datetime as dt

import pytest

from segments.prefabs import PREFABS
from segments.rules import parse_filter
from segments.selectors import contacts_matching

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


@pytest.mark.parametrize("key", PREFABS)
def test_each_prefab_is_valid_and_already_canonical(key):
    assert parse_filter(PREFABS[key].filter_json) == PREFABS[key].filter_json


def test_the_three_prefabs_of_the_spec_exist():
    assert {"win_back", "most_engaged", "high_value"} <= set(PREFABS)
    assert PREFABS["win_back"].label == "Win-back: inactive 90 days"


def test_win_back_finds_reachable_contacts_inactive_for_90_days():
    gone = ContactFactory(last_interacted_at=NOW - dt.timedelta(days=120))
    ContactFactory(last_interacted_at=NOW - dt.timedelta(days=120), is_unsubscribed=True)
    ContactFactory(last_interacted_at=NOW - dt.timedelta(days=120), is_bounced=True)
    ContactFactory(last_interacted_at=NOW - dt.timedelta(days=10))
    ContactFactory(last_interacted_at=None)  # never interacted: never won, so not won back
    assert list(contacts_matching(PREFABS["win_back"].filter_json, now=NOW)) == [gone]
