"""contacts/db.py: the index each registered custom field (but a boolean) gets, so
that its comparisons are index scans (also inside an `any` group), and loses with
the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from contacts.db import build_missing_indexes, custom_field_index_name
from contacts.models import Contact, CustomField
from segments.compile import compile_filter
from segments.rules import parse_filter

from .factories import ContactFactory

# The indexes are built on connections of their own: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'contacts_contact'")
        return {name for (name,) in cursor.fetchall()}


def _plan(rules: list[dict]) -> str:
    """The plan of the rules' count, with sequential scans priced out (a test table is
    too small for PostgreSQL to pick an index otherwise): which index can answer it."""
    where = compile_filter(parse_filter({"match": "any", "rules": rules}), now=NOW)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        return Contact.objects.filter(where).explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")


def test_a_registered_field_gets_its_index_and_loses_it_when_deleted():
    seats = CustomField.objects.create(name="seats", type="number")
    CustomField.objects.create(name="renewal", type="date")
    CustomField.objects.create(name="region", type="text")
    CustomField.objects.create(name="plan", type="choice", options=["free", "pro"])
    CustomField.objects.create(name="trial", type="boolean")  # two values: no index
    built = build_missing_indexes(concurrently=True)
    names = ("seats", "renewal", "region", "plan")
    assert sorted(built) == sorted(custom_field_index_name(n) for n in names)
    assert set(built) <= _indexes()
    assert build_missing_indexes(concurrently=True) == []  # nothing left to do
    seats.delete()
    build_missing_indexes(concurrently=True)
    assert custom_field_index_name("seats") not in _indexes()
    assert custom_field_index_name("renewal") in _indexes()


def test_comparisons_inside_an_any_group_are_answered_by_the_fields_indexes():
    CustomField.objects.create(name="seats", type="number")
    CustomField.objects.create(name="renewal", type="date")
    CustomField.objects.create(name="plan", type="text")
    build_missing_indexes()
    ContactFactory(custom_fields={"seats": 12, "renewal": "2026-03-01"})
    ContactFactory(custom_fields={"seats": 3, "plan": "Pro"})
    ContactFactory(custom_fields={"seats": 4, "plan": "free"})
    rules = [
        {"field": "customField:seats", "op": "gte", "value": 10},
        {"field": "customField:renewal", "op": "before", "value": "2026-06-01"},
        {"field": "customField:plan", "op": "equals", "value": "pro"},
    ]
    plan = _plan(rules)
    for name in ("seats", "renewal", "plan"):
        assert custom_field_index_name(name) in plan
    assert "flock_custom_terms" not in plan  # its recheck on every row found cost 1.4 s
    where = compile_filter(parse_filter({"match": "any", "rules": rules}), now=NOW)
    assert Contact.objects.filter(where).count() == 2


def test_a_name_with_a_quote_and_spaces_gets_a_working_index():
    name = "O'Reilly seats"
    CustomField.objects.create(name=name, type="number")
    assert build_missing_indexes() == [custom_field_index_name(name)]
    ContactFactory(custom_fields={name: 40})
    plan = _plan([{"field": f"customField:{name}", "op": "gt", "value": 30}])
    assert custom_field_index_name(name) in plan


def test_an_index_left_invalid_by_a_stopped_build_is_built_again():
    CustomField.objects.create(name="seats", type="number")
    build_missing_indexes()
    index = custom_field_index_name("seats")
    with connection.cursor() as cursor:  # what a CREATE INDEX CONCURRENTLY cut off leaves
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [index]
        )
    assert build_missing_indexes(concurrently=True) == [index]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", [index])
        assert cursor.fetchone() == (True,)


def test_a_field_registered_in_an_open_transaction_gets_no_index_that_outlives_it():
    # The builds commit on connections of their own: an index for a registration
    # that then rolls back would be left without its field.
    with pytest.raises(RuntimeError), transaction.atomic():
        CustomField.objects.create(name="seats", type="number")
        assert build_missing_indexes() == []
        raise RuntimeError("rolled back")
    assert custom_field_index_name("seats") not in _indexes()


def test_a_stale_index_is_left_to_the_beat_while_a_transaction_holds_the_table():
    # It hung an import inside a transaction that had written contacts, and would make
    # every reader of the table queue behind the wait for its exclusive lock.
    CustomField.objects.create(name="seats", type="number")
    build_missing_indexes()
    CustomField.objects.all().delete()
    index = custom_field_index_name("seats")
    with transaction.atomic():
        ContactFactory()
        assert build_missing_indexes() == []
        assert index in _indexes()
    build_missing_indexes()
    assert index not in _indexes()
