"""Writes for segments: create, update, evaluate-and-record."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from .models import ContactSegment, SegmentEvaluation
from .selectors import segment_contacts

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the user model: settings set no AUTH_USER_MODEL


@transaction.atomic
def segment_create(
    *, name: str, filter_json: Any, user: User | None, description: str = ""
) -> ContactSegment:
    segment = ContactSegment(
        name=name, description=description, filter_json=filter_json, created_by=user
    )
    segment.full_clean()  # validates and canonicalises filter_json
    segment.save()
    _members_soon()
    return segment


@transaction.atomic
def segment_update(
    *, segment: ContactSegment, name: str, filter_json: Any, description: str = ""
) -> ContactSegment:
    segment.name, segment.description, segment.filter_json = name, description, filter_json
    segment.full_clean()
    segment.save(update_fields=["name", "description", "filter_json", "updated_at"])
    _members_soon()
    return segment


def _members_soon() -> None:
    """Membership follows new rules in the background (membership.py: a settle
    rebuilds a segment whose rules are not the ones its members reflect)."""
    from .tasks import membership_settle_soon

    transaction.on_commit(membership_settle_soon)


@transaction.atomic
def segment_evaluate(*, segment: ContactSegment, now: dt.datetime | None = None) -> int:
    """Count the segment now and record it (last count, size history)."""
    now = now or timezone.now()
    count = segment_contacts(segment, now=now).count()
    segment.last_count, segment.last_evaluated_at = count, now
    segment.save(update_fields=["last_count", "last_evaluated_at"])
    SegmentEvaluation.objects.create(segment=segment, count=count, evaluated_at=now)
    return count
