from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class ContactSegment(models.Model):
    """A saved rule set (docs/design.md#segments), re-evaluated every time it is used."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    filter_json = models.JSONField(default=dict)
    last_count = models.PositiveIntegerField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    # The materialised membership (segments/membership.py): its size, when it was
    # last brought up to date, and the rules it was computed from (this segment's
    # and those of the segments it references), to see when they change.
    member_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
    members_as_of = models.DateTimeField(null=True, blank=True, editable=False)
    members_rules = models.JSONField(null=True, blank=True, editable=False)
    # When rules of the form "within / more than N days" were last moved with the clock.
    members_time_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "segment"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Validate and canonicalise the rules; admin forms and services both land here."""
        from .rules import RuleErrors, count_conditions, parse_filter

        try:
            tree = parse_filter(self.filter_json, segment_id=self.pk)
        except RuleErrors as exc:
            raise ValidationError(
                {"filter_json": [f"{e.path}: {e.message}" for e in exc.errors]}
            ) from None
        if count_conditions(tree) == 0:
            raise ValidationError({"filter_json": "rules: Add at least one condition to save."})
        self.filter_json = tree


class SegmentEvaluation(models.Model):
    """One row per evaluation: the segment's size history."""

    segment = models.ForeignKey(
        ContactSegment, on_delete=models.CASCADE, related_name="evaluations"
    )
    count = models.PositiveIntegerField()
    evaluated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-evaluated_at"]
        indexes = [
            # The size history of one segment, newest first (sparkline, admin).
            models.Index(fields=["segment", "-evaluated_at"], name="segment_eval_history_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.count} at {self.evaluated_at:%Y-%m-%d %H:%M}"


class SegmentMember(models.Model):
    """Who is in a segment now, and since when (segments/membership.py keeps it equal
    to `contacts_matching`). `contact_id` has no foreign key: a deleted contact
    leaves through the same re-check as any other exit, with its event."""

    pk = models.CompositePrimaryKey("segment", "contact_id")
    segment = models.ForeignKey(ContactSegment, on_delete=models.CASCADE, related_name="members")
    contact_id = models.BigIntegerField()
    since = models.DateTimeField()

    class Meta:
        indexes = [
            # The segments a contact is in (contact page, API); the primary key
            # (segment_id, contact_id) serves a segment's members and every re-check.
            models.Index(fields=["contact_id"], name="segment_member_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.segment_id} since {self.since:%Y-%m-%d %H:%M}"


class SegmentEvent(models.Model):
    """A contact entered or left a segment: when, and what caused it. Narrow rows
    (they grow with every change), deleted after SEGMENT_EVENTS_RETENTION_DAYS."""

    class Cause(models.IntegerChoices):
        API = 1, "api"
        IMPORT = 2, "import"
        DASHBOARD = 3, "dashboard"
        ADMIN = 4, "admin"
        UNSUBSCRIBE = 5, "unsubscribe"
        BOUNCE = 6, "bounce"
        TIME = 7, "time"
        RULES_CHANGED = 8, "rules changed"
        REFERENCE = 9, "reference"
        RECONCILE = 10, "reconcile"

    segment = models.ForeignKey(
        ContactSegment, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    contact_id = models.BigIntegerField()
    at = models.DateTimeField()
    entered = models.BooleanField(help_text="True for an entry, false for an exit.")
    cause = models.PositiveSmallIntegerField(choices=Cause.choices)

    class Meta:
        indexes = [
            # A segment's latest events, and the API's `since` pages (id order).
            models.Index(fields=["segment", "id"], name="segment_event_segment_idx"),
            # A contact's history on the contact page.
            models.Index(fields=["contact_id", "id"], name="segment_event_contact_idx"),
            # Retention deletes by age; rows arrive in time order, so a BRIN is enough.
            BrinIndex(fields=["at"], name="segment_event_at_brin"),
        ]

    def __str__(self) -> str:
        way = "entered" if self.entered else "left"
        return f"{self.contact_id} {way} {self.segment_id} ({self.get_cause_display()})"
