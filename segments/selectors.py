"""Reads over segments: the one way to evaluate a rule tree.

The preview, the segment list, the API, the admin and the send all call
`contacts_matching`; it compiles the whole tree to one SQL query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Contact

from .models import ContactSegment
from .rules import compile_filter, parse_filter

SAMPLE_SIZE = 10


def contacts_matching(filter_json: Any, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """Contacts that match the rule tree at `now` (default: this moment, UTC).

    Raises RuleErrors for a tree that does not validate.
    """
    tree = parse_filter(filter_json)
    return Contact.objects.filter(compile_filter(tree, now=now or timezone.now()))


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
