"""Reads over segments: the one way to evaluate a rule tree.

The preview, the segment list, the API, the admin and the send all call
`contacts_matching`; it compiles the whole tree to one SQL query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts.models import Contact, CustomField, Group

from .compile import compile_filter
from .models import ContactSegment
from .rules import RuleErrors, parse_filter

SAMPLE_SIZE = 10


def rules_q(filter_json: Any, *, now: dt.datetime | None = None) -> Q:
    """The condition on contacts of the rule tree at `now` (default: this moment, UTC).

    Raises RuleErrors for a tree that does not validate.
    """
    return compile_filter(parse_filter(filter_json), now=now or timezone.now())


def contacts_matching(filter_json: Any, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """Contacts that match the rule tree at `now`; RuleErrors for a tree that does not
    validate."""
    return Contact.objects.filter(rules_q(filter_json, now=now))


class SegmentLookup:
    """contacts.selectors.SegmentLookup: the contacts list filtered by a segment."""

    def name(self, pk: int) -> str | None:
        return ContactSegment.objects.filter(pk=pk).values_list("name", flat=True).first()

    def members(self, pk: int) -> Q | None:
        rules = ContactSegment.objects.filter(pk=pk).values_list("filter_json", flat=True)
        filter_json = rules.first()
        if filter_json is None:
            return None
        try:
            return rules_q(filter_json)
        except RuleErrors:
            return None


def segment_contacts(segment: ContactSegment, *, now: dt.datetime | None = None) -> QuerySet:
    return contacts_matching(segment.filter_json, now=now)


def reachable(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Leave out bounced and unsubscribed contacts (served by contact_reachable_idx)."""
    return contacts.filter(is_bounced=False, is_unsubscribed=False)


def segment_reachable_contacts(segment: ContactSegment, *, now: dt.datetime | None = None):
    return reachable(segment_contacts(segment, now=now))


@dataclass(frozen=True)
class Preview:
    count: int
    sample: list[Contact]
    evaluated_at: dt.datetime


def preview(filter_json: Any, *, now: dt.datetime | None = None) -> Preview:
    """Count and the 10 newest matching contacts: what the builder and the API show."""
    now = now or timezone.now()
    contacts = contacts_matching(filter_json, now=now)
    sample = list(
        contacts.order_by("-pk").only(
            "id", "email", "first_name", "last_name", "company", "lead_score",
            "last_interacted_at", "is_bounced", "is_unsubscribed",
        )[:SAMPLE_SIZE]
    )  # fmt: skip
    # Fewer than 10 in the sample means that was all of them: no count needed.
    count = len(sample) if len(sample) < SAMPLE_SIZE else contacts.count()
    return Preview(count=count, sample=sample, evaluated_at=now)


@dataclass(frozen=True)
class SegmentRow:
    segment: ContactSegment
    summary: str
    history: list[int]

    @property
    def sparkline_points(self) -> str:
        """SVG polyline points (100 × 24 box) for the size history, oldest first."""
        counts = self.history
        if len(counts) < 2:
            return ""
        low, high = min(counts), max(counts)
        span = (high - low) or 1
        step = 100 / (len(counts) - 1)
        return " ".join(
            f"{i * step:.1f},{22 - (count - low) / span * 20:.1f}" for i, count in enumerate(counts)
        )


def display_names() -> dict[str, dict[Any, str]]:
    """Group and segment names, and registered custom fields' labels, for plain-language
    summaries (three small tables)."""
    return {
        "group": dict(Group.objects.values_list("pk", "name")),
        "segment": dict(ContactSegment.objects.values_list("pk", "name")),
        "customField": {
            name: label or name for name, label in CustomField.objects.values_list("name", "label")
        },
    }


def segment_rows(segments: list[ContactSegment], *, history: int = 20) -> list[SegmentRow]:
    """The segment list: each segment with its summary and its last `history` counts."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    from .models import SegmentEvaluation
    from .rules import RuleErrors, describe_filter

    recent = (
        SegmentEvaluation.objects.filter(segment__in=segments)
        .annotate(
            n=Window(RowNumber(), partition_by=F("segment"), order_by=F("evaluated_at").desc())
        )
        .filter(n__lte=history)
        .values_list("segment_id", "count", "evaluated_at")
    )
    counts: dict[int, list[tuple]] = {}
    for segment_id, count, evaluated_at in recent:
        counts.setdefault(segment_id, []).append((evaluated_at, count))
    names = display_names()
    rows = []
    for segment in segments:
        try:
            summary = describe_filter(parse_filter(segment.filter_json), names=names)
        except RuleErrors as exc:
            summary = f"These rules no longer work: {exc.errors[0].message}"
        history_counts = [count for _, count in sorted(counts.get(segment.pk, []))]
        rows.append(SegmentRow(segment=segment, summary=summary, history=history_counts))
    return rows


def segments_using(segment: ContactSegment) -> list[ContactSegment]:
    """Segments whose rules say `in_segment`/`not_in_segment` this one."""
    return _segments_naming("segment", segment.pk, exclude=segment.pk)


def segments_using_group(group: Group) -> list[ContactSegment]:
    """Segments whose rules say `in_group`/`not_in_group` this group."""
    return _segments_naming("group", group.pk)


def _segments_naming(field: str, pk: int, *, exclude: int | None = None) -> list[ContactSegment]:
    # Segments are few (hundreds at most): their trees are read, not searched in SQL.
    from .rules.parse import references

    segments = ContactSegment.objects.only("id", "name", "filter_json")
    if exclude is not None:
        segments = segments.exclude(pk=exclude)
    return [s for s in segments if pk in set(references(s.filter_json, field))]


@dataclass(frozen=True)
class Audience:
    matches: int
    unsubscribed: int
    bounced: int

    @property
    def reachable(self) -> int:
        return self.matches - self.unsubscribed - self.bounced


def segment_audience(segment: ContactSegment, *, now: dt.datetime | None = None) -> Audience:
    """Matches now, and who sending would leave out: one query with three counts."""
    from django.db.models import Count, Q

    totals = segment_contacts(segment, now=now).aggregate(
        matches=Count("pk"),
        unsubscribed=Count("pk", filter=Q(is_unsubscribed=True)),
        bounced=Count("pk", filter=Q(is_bounced=True, is_unsubscribed=False)),
    )
    return Audience(**totals)


def segments_containing(contact: Contact, *, now: dt.datetime | None = None) -> list:
    """The segments this contact is in now: one query, a yes/no column per segment."""
    from django.db.models import BooleanField, ExpressionWrapper

    from .compile import compile_filter
    from .rules import RuleErrors

    now = now or timezone.now()
    tests = {}
    segments = {}
    for segment in ContactSegment.objects.order_by("name"):
        try:
            q = compile_filter(parse_filter(segment.filter_json), now=now)
        except RuleErrors:
            continue  # broken rules say so on the segment list, not here
        tests[f"s{segment.pk}"] = ExpressionWrapper(q, output_field=BooleanField())
        segments[f"s{segment.pk}"] = segment
    if not tests:
        return []
    row = Contact.objects.filter(pk=contact.pk).values(**tests).first() or {}
    return [segments[key] for key, inside in row.items() if inside]
