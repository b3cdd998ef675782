"""Materialised segment membership, kept equal to `contacts_matching`
(docs/design.md#living-segments).

Every write to a contact is journalled by the database in the writer's transaction
(contacts.ContactChange, migration contacts 0014). `membership_settle` takes the
journal in order, and for each run of writes with one cause re-checks, for the
contacts written only, the segments whose rules read a column that changed: one
statement per segment that inserts the entries, deletes the exits and records an
event for each. The journal rows are deleted in the same transaction, so a re-check
that dies is done again whole by the next run. One run at a time (an advisory
lock): each re-check then reads every write committed before it began.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F
from django.utils import timezone

from contacts.models import Contact, ContactChange

from .models import ContactSegment, SegmentEvent, SegmentMember
from .rules import RuleErrors
from .rules.fields import CUSTOM_PREFIX, FIELDS, Kind
from .rules.parse import references
from .selectors import contacts_matching, rules_q

Cause = SegmentEvent.Cause
# One settle at a time across every worker (pg_advisory_xact_lock's key).
_LOCK = 0x5E6_0001
# Journal rows taken per transaction.
CLAIM = 1_000
# Up to this many contacts written, one statement re-checks every segment at once.
FEW = 200
# Rules that move with the clock: "within / more than N days" of a timestamp.
_RELATIVE_OPS = frozenset({"within_days", "older_than_days"})


@dataclass
class _Rules:
    """A segment's tree with what it reads, the referenced segments' trees included."""

    segment: ContactSegment
    columns: set[str] = field(default_factory=set)
    expanded: dict[str, Any] = field(default_factory=dict)  # id → tree, this one's too
    clock: list[tuple[str, str, int]] = field(default_factory=list)  # (column, op, days)


def _conditions(tree: Any) -> Iterator[dict]:
    for rule in tree.get("rules", []) if isinstance(tree, dict) else []:
        if isinstance(rule, dict) and "rules" in rule:
            yield from _conditions(rule)
        elif isinstance(rule, dict):
            yield rule


def _columns_of(condition: dict) -> set[str]:
    name = condition.get("field", "")
    if name.startswith(CUSTOM_PREFIX):
        return {"custom_fields"}
    kind = FIELDS[name].kind
    if kind is Kind.STATUS:
        return {"is_bounced", "is_unsubscribed"}
    if kind is Kind.TAG:
        return {"tag_ids"}
    if kind is Kind.GROUP:
        return {"groups"}
    return {FIELDS[name].column}


def _read_rules(segments: Iterable[ContactSegment]) -> list[_Rules]:
    """Each segment's rules, expanded through `in_segment`, ordered so that a segment
    comes after the ones it references."""
    trees = {s.pk: s.filter_json for s in segments}
    by_id = {s.pk: s for s in segments}
    ordered: list[_Rules] = []
    done: set[int] = set()

    def expand(rules: _Rules, pk: int, seen: frozenset[int]) -> None:
        tree = trees.get(pk)
        if tree is None or pk in seen or str(pk) in rules.expanded:
            return
        rules.expanded[str(pk)] = tree
        for condition in _conditions(tree):
            if condition.get("field") == "segment":
                continue
            if condition.get("field") in FIELDS or condition.get("field", "").startswith(
                CUSTOM_PREFIX
            ):
                rules.columns |= _columns_of(condition)
                column = FIELDS.get(condition["field"])
                if condition.get("op") in _RELATIVE_OPS and column is not None:
                    rules.clock.append((column.column, condition["op"], condition["value"]))
        for ref in references(tree, "segment"):
            expand(rules, ref, seen | {pk})

    def visit(pk: int, path: frozenset[int]) -> None:
        if pk in done or pk in path or pk not in by_id:
            return
        for ref in references(trees[pk], "segment"):
            visit(ref, path | {pk})
        done.add(pk)
        rules = _Rules(by_id[pk])
        expand(rules, pk, frozenset())
        ordered.append(rules)

    for pk in sorted(by_id):
        visit(pk, frozenset())
    return ordered


def _recheck(
    segment: ContactSegment, *, ids: list[int] | None, cause: int, now: dt.datetime
) -> tuple[int, int]:
    """Bring the segment's members up to date for these contacts (None: every contact)
    in one statement; returns (entered, left)."""
    try:
        matching = contacts_matching(segment.filter_json, now=now).order_by().values("pk")
        sql, params = matching.query.sql_with_params()
    except RuleErrors:
        return 0, 0  # broken rules say so on the segment list; the members stay
    members, events = SegmentMember._meta.db_table, SegmentEvent._meta.db_table
    only = " AND m.contact_id = ANY(%s::bigint[])" if ids is not None else ""
    narrow = " WHERE r.id = ANY(%s::bigint[])" if ids is not None else ""
    with connection.cursor() as cursor:
        # Raw: the ORM has no data-modifying WITH; the rules' SQL is the selector's.
        cursor.execute(
            f"""
            WITH matching AS MATERIALIZED (SELECT r.id FROM ({sql}) AS r(id){narrow}),
            entered AS (
                -- Only the newcomers (a hash anti-join, not an index probe per match);
                -- ON CONFLICT as well, though the settle's lock keeps others out.
                INSERT INTO {members} (segment_id, contact_id, since)
                SELECT %s, id, %s FROM matching
                 WHERE NOT EXISTS (SELECT 1 FROM {members} o
                                    WHERE o.segment_id = %s AND o.contact_id = matching.id)
                ON CONFLICT DO NOTHING RETURNING contact_id
            ),
            exited AS (
                DELETE FROM {members} m WHERE m.segment_id = %s{only}
                   AND NOT EXISTS (SELECT 1 FROM matching WHERE matching.id = m.contact_id)
                RETURNING contact_id
            ),
            logged AS (
                INSERT INTO {events} (segment_id, contact_id, at, entered, cause)
                SELECT %s, contact_id, %s, true, %s FROM entered
                UNION ALL SELECT %s, contact_id, %s, false, %s FROM exited
            )
            SELECT (SELECT count(*) FROM entered), (SELECT count(*) FROM exited)
            """,
            [
                *params,
                *([ids] if ids is not None else []),
                segment.pk, now, segment.pk,
                segment.pk, *([ids] if ids is not None else []),
                segment.pk, now, cause, segment.pk, now, cause,
            ],
        )  # fmt: skip
        entered, exited = cursor.fetchone()
    ContactSegment.objects.filter(pk=segment.pk).update(
        member_count=F("member_count") + entered - exited, members_as_of=now
    )
    return entered, exited


def _recheck_few(
    segments: list[ContactSegment], *, ids: list[int], cause: int, now: dt.datetime
) -> tuple[int, int]:
    """Like `_recheck`, for a few contacts and many segments at once: one query tests
    each contact against every segment (a yes/no column per segment, as
    `segments_containing` does), and one statement applies the difference. A write
    to one contact costs one statement, not one per segment."""
    tests: dict[str, Any] = {}
    for segment in segments:
        try:
            tests[f"s{segment.pk}"] = ExpressionWrapper(
                rules_q(segment.filter_json, now=now), output_field=BooleanField()
            )
        except RuleErrors:
            continue  # broken rules: the members stay (as in _recheck)
    if not tests:
        return 0, 0
    sql, params = (
        Contact.objects.filter(pk__in=ids).order_by().values("pk", **tests).query.sql_with_params()
    )
    pairs = ", ".join(f"({key[1:]}, t.{key})" for key in tests)
    segment_ids = [int(key[1:]) for key in tests]
    members, events = SegmentMember._meta.db_table, SegmentEvent._meta.db_table
    table = ContactSegment._meta.db_table
    with connection.cursor() as cursor:
        # Raw: as in _recheck; the tests' SQL is the selector's rules.
        cursor.execute(
            f"""
            WITH tests AS MATERIALIZED ({sql}),
            matching AS (
                SELECT v.segment_id, t.id FROM tests t(id, {", ".join(tests)})
                CROSS JOIN LATERAL (VALUES {pairs}) AS v(segment_id, inside) WHERE v.inside
            ),
            entered AS (
                INSERT INTO {members} (segment_id, contact_id, since)
                SELECT segment_id, id, %s FROM matching
                ON CONFLICT DO NOTHING RETURNING segment_id, contact_id
            ),
            exited AS (
                DELETE FROM {members} m
                 WHERE m.segment_id = ANY(%s::int[]) AND m.contact_id = ANY(%s::bigint[])
                   AND NOT EXISTS (SELECT 1 FROM matching x
                                    WHERE x.segment_id = m.segment_id AND x.id = m.contact_id)
                RETURNING segment_id, contact_id
            ),
            logged AS (
                INSERT INTO {events} (segment_id, contact_id, at, entered, cause)
                SELECT segment_id, contact_id, %s, true, %s FROM entered
                UNION ALL SELECT segment_id, contact_id, %s, false, %s FROM exited
            ),
            counted AS (
                UPDATE {table} s SET member_count = s.member_count + d.delta, members_as_of = %s
                  FROM (SELECT segment_id, sum(delta) AS delta FROM (
                            SELECT segment_id, 1 AS delta FROM entered
                            UNION ALL SELECT segment_id, -1 FROM exited) AS e
                        GROUP BY segment_id) AS d
                 WHERE s.id = d.segment_id
            )
            SELECT (SELECT count(*) FROM entered), (SELECT count(*) FROM exited)
            """,
            [*params, now, segment_ids, ids, now, cause, now, cause, now],
        )
        entered, exited = cursor.fetchone()
    return entered, exited


def _rebuild(rules: _Rules, *, cause: int, now: dt.datetime) -> tuple[int, int]:
    """A whole segment re-checked, its rules recorded as what the members reflect."""
    segment = rules.segment
    if segment.member_count is None:
        ContactSegment.objects.filter(pk=segment.pk).update(member_count=0)
    changed = _recheck(segment, ids=None, cause=cause, now=now)
    ContactSegment.objects.filter(pk=segment.pk).update(
        members_rules=rules.expanded, members_time_checked_at=now
    )
    return changed


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])


@dataclass
class Settled:
    changes: int = 0  # journal rows taken
    entered: int = 0
    exited: int = 0


def membership_settle(*, now: dt.datetime | None = None, limit: int = CLAIM) -> Settled:
    """Re-check what the journal says was written, until it is empty; segments whose
    rules changed since their members were computed are rebuilt first."""
    now = now or timezone.now()
    settled = Settled()
    while True:
        with transaction.atomic():
            _lock()
            segments = _read_rules(ContactSegment.objects.all())
            rebuilt: set[int] = set()  # whole at `now` already: no run re-checks them
            for rules in segments:
                recorded = rules.segment.members_rules
                if recorded == rules.expanded:
                    continue
                rebuilt.add(rules.segment.pk)
                own = str(rules.segment.pk)
                changed_here = recorded is None or recorded.get(own) != rules.expanded[own]
                why = Cause.RULES_CHANGED if changed_here else Cause.REFERENCE
                entered, exited = _rebuild(rules, cause=why, now=now)
                settled.entered, settled.exited = settled.entered + entered, settled.exited + exited
            claimed = list(
                ContactChange.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "contact_ids", "fields", "cause")[:limit]
            )
            for ids, columns, cause in _runs(claimed):
                touched = [
                    r.segment
                    for r in segments
                    if ("*" in columns or r.columns & columns) and r.segment.pk not in rebuilt
                ]
                if ids is not None and len(ids) <= FEW:
                    changed = [_recheck_few(touched, ids=ids, cause=cause, now=now)]
                else:
                    changed = [_recheck(s, ids=ids, cause=cause, now=now) for s in touched]
                settled.entered += sum(entered for entered, _ in changed)
                settled.exited += sum(exited for _, exited in changed)
            ContactChange.objects.filter(pk__in=[pk for pk, *_ in claimed]).delete()
            settled.changes += len(claimed)
        if len(claimed) < limit:
            return settled


def _runs(claimed: list[tuple]) -> Iterator[tuple[list[int] | None, set[str], int]]:
    """Consecutive journal rows of one cause merged: (ids or None, columns, cause)."""
    run: list[tuple] = []
    for row in claimed + [(None, None, None, None)]:
        if run and row[3] != run[-1][3]:
            every = any(ids is None for _, ids, _, _ in run)
            ids = None if every else sorted({i for _, ids, _, _ in run for i in ids})
            columns = {c for _, _, cols, _ in run for c in cols}
            yield ids, columns, _CAUSES.get(run[-1][3], Cause.DASHBOARD)
            run = []
        if row[0] is not None:
            run.append(row)


_CAUSES = {label: value for value, label in Cause.choices}


def membership_time_recheck(*, now: dt.datetime | None = None) -> Settled:
    """Move "within / more than N days" rules with the clock: only contacts whose
    timestamp crossed a rule's boundary since the last check are re-checked."""
    now = now or timezone.now()
    settled = Settled()
    with transaction.atomic():
        _lock()
        for rules in _read_rules(ContactSegment.objects.all()):
            if not rules.clock:
                continue
            since = rules.segment.members_time_checked_at
            if since is None or rules.segment.members_rules != rules.expanded:
                continue  # never built, or rules changed: the next settle rebuilds it
            ids = _crossed(rules.clock, since=since, now=now)
            if ids:
                entered, exited = _recheck(rules.segment, ids=ids, cause=Cause.TIME, now=now)
                settled.entered, settled.exited = settled.entered + entered, settled.exited + exited
            ContactSegment.objects.filter(pk=rules.segment.pk).update(members_time_checked_at=now)
    return settled


def _crossed(clock: list[tuple[str, str, int]], *, since: dt.datetime, now: dt.datetime) -> list:
    """Contacts whose timestamp lies between a boundary's place at `since` and at `now`
    (boundary = moment − N days): each an index range scan over a few minutes."""
    ids: set[int] = set()
    for column, _op, days in clock:
        low, high = since - dt.timedelta(days=days), now - dt.timedelta(days=days)
        found = Contact.objects.filter(**{f"{column}__gte": low, f"{column}__lte": high})
        ids.update(found.values_list("pk", flat=True))
    return sorted(ids)


def segment_reconcile(
    *, segment_id: int | None = None, now: dt.datetime | None = None
) -> dict[int, tuple[int, int]]:
    """Every segment (or one) re-checked whole; what had drifted is repaired and
    recorded with cause "reconcile". Returns {segment id: (entered, left)}."""
    now = now or timezone.now()
    changed: dict[int, tuple[int, int]] = {}
    with transaction.atomic():
        _lock()
        for rules in _read_rules(ContactSegment.objects.all()):
            if segment_id is not None and rules.segment.pk != segment_id:
                continue
            changed[rules.segment.pk] = _rebuild(rules, cause=Cause.RECONCILE, now=now)
            # The count is made exact again too.
            ContactSegment.objects.filter(pk=rules.segment.pk).update(
                member_count=SegmentMember.objects.filter(segment=rules.segment).count()
            )
    return changed


def events_prune(*, days: int, now: dt.datetime | None = None) -> int:
    """Delete entry/exit events older than `days`."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = SegmentEvent.objects.filter(at__lt=cutoff).delete()
    return deleted
