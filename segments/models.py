from __future__ import annotations

from django.conf import settings
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
