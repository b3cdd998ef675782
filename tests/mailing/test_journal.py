"""The sent-journal of a batch, against the real Redis (mailing.journal)."""

from __future__ import annotations

import pytest

from mailing import journal
from mailing.journal import JournalUnavailable, SentJournal


@pytest.fixture
def claim():
    token = journal.new_claim()
    yield token
    journal.client().delete(f"flock:sent:{token}")


def test_it_lists_the_accepted_deliveries_of_its_claim_only(claim):
    other = journal.new_claim()
    record, elsewhere = SentJournal(claim), SentJournal(other)
    for delivery_id in (11, 12, 13):
        record.add(delivery_id)
    elsewhere.add(99)
    record.close(delete=False)
    elsewhere.close(delete=True)
    assert sorted(journal.accepted(claim)) == [11, 12, 13]
    assert journal.accepted(other) == []


def test_forgetting_deletes_the_journal(claim):
    record = SentJournal(claim)
    record.add(5)
    record.close(delete=True)
    assert journal.accepted(claim) == []
    assert not journal.client().exists(f"flock:sent:{claim}")


def test_a_journal_lives_a_week_at_most(claim):
    record = SentJournal(claim)
    record.add(5)
    record.close(delete=False)
    assert 0 < journal.client().ttl(f"flock:sent:{claim}") <= 7 * 24 * 3600


def test_records_that_redis_lost_are_reported(claim):
    record = SentJournal(claim)
    record.add(5)
    journal.client().delete(f"flock:sent:{claim}")  # e.g. a Redis restarted without data
    with pytest.raises(JournalUnavailable, match="incomplete in Redis: 0 of its 1 records"):
        record.close(delete=False)


def test_its_connection_goes_back_to_the_pool_answering_again(claim):
    record = SentJournal(claim)
    record.add(5)
    record.close(delete=True)
    # A connection left with replies off would make this wait for its timeout.
    assert journal.client().ping()
    assert journal.client().set(f"flock:test:{claim}", 1, ex=10)


def test_an_unreachable_redis_is_reported_before_anything_is_recorded(claim, settings):
    settings.SEND_JOURNAL_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with pytest.raises(JournalUnavailable, match="Redis cannot journal sent messages"):
        SentJournal(claim)


@pytest.fixture
def no_client_commands(settings):
    """A Redis user that may not run CLIENT (as some managed Redis services set up)."""
    admin = journal.client()
    admin.acl_setuser(
        "flock-test-no-client", enabled=True, nopass=True, keys=["*"],
        commands=["+@all", "-client"],
    )  # fmt: skip
    settings.SEND_JOURNAL_URL = settings.SEND_JOURNAL_URL.replace(
        "redis://", "redis://flock-test-no-client:x@", 1
    )
    yield
    admin.acl_deluser("flock-test-no-client")


def test_a_redis_that_will_not_turn_replies_off_is_refused(claim, no_client_commands):
    with pytest.raises(JournalUnavailable, match="Redis cannot journal sent messages"):
        SentJournal(claim)
