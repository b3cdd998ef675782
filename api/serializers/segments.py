"""Segments in the API: what a body may give (a rule tree in any of its spellings)
and the segment and preview the API answers with."""

from __future__ import annotations

from dataclasses import dataclass, field

from rest_framework import serializers

from segments.models import ContactSegment

from .contacts import ContactSummarySerializer
from .errors import ErrorSerializer
from .fields import TextField, UtcDateTimeField
from .rules import (
    FilterInputField,
    FilterOutputField,
    LogicField,
    RulesInputField,
    RulesOutputField,
)


class SegmentPreviewSerializer(serializers.Serializer):
    """A rule tree as a body gives it: `match` + `rules`, or `filter`. `logic` and
    `conditions` are the names other tools use for `match` and `rules`."""

    match = serializers.ChoiceField(
        ["all", "any"], required=False, help_text="How the `rules` list combines (default all)."
    )
    logic = LogicField(
        required=False,
        help_text="Another name for `match`: AND (all) or OR (any), in any case.",
    )
    rules = RulesInputField(
        required=False,
        help_text="The conditions (a bare list means all of them), or a whole group.",
    )
    conditions = RulesInputField(required=False, help_text="Another name for `rules`.")
    filter = FilterInputField(
        required=False, help_text="The whole rule tree, instead of `match` and `rules`."
    )


class SegmentWriteSerializer(SegmentPreviewSerializer):
    """A segment: its name, and its rules as for a preview."""

    name = TextField(max_length=200)
    description = TextField(max_length=5000, required=False, allow_blank=True)


@dataclass(frozen=True)
class CountedSegment:
    """A segment with the count of its matches taken now: None, and `rule_errors`
    saying why, when its saved rules no longer work."""

    segment: ContactSegment
    contacts_count: int | None
    rule_errors: list[dict] = field(default_factory=list)

    @property
    def tree(self) -> dict:
        tree = self.segment.filter_json
        if not isinstance(tree, dict) or not isinstance(tree.get("rules"), list):
            return {"match": "all", "negate": False, "rules": []}  # never saved so, but be safe
        return tree

    @property
    def match(self) -> str:
        return self.tree.get("match", "all")


# A segment as the API shows it, read from a CountedSegment. (No docstring: a
# serializer's docstring is its description in the public schema.)
class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="segment.pk")
    name = serializers.CharField(source="segment.name")
    description = serializers.CharField(source="segment.description")
    match = serializers.ChoiceField(["all", "any"])
    rules = RulesOutputField(
        source="tree.rules",
        help_text="The top-level rules in the common `{field, operator, value}` segment format.",
    )
    filter = FilterOutputField(source="tree", help_text="The canonical rule tree, with `op`.")
    contacts_count = serializers.IntegerField(
        allow_null=True,
        help_text="Contacts that match now (null when the saved rules no longer work).",
    )
    last_count = serializers.IntegerField(
        source="segment.last_count",
        allow_null=True,
        help_text="The count recorded at the last evaluation.",
    )
    last_evaluated_at = UtcDateTimeField(source="segment.last_evaluated_at", allow_null=True)
    created_at = UtcDateTimeField(source="segment.created_at")
    updated_at = UtcDateTimeField(source="segment.updated_at")
    rule_errors = ErrorSerializer(
        many=True,
        help_text="Why the saved rules no longer work (e.g. a group was deleted); usually [].",
    )


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    sample = ContactSummarySerializer(many=True)
    evaluated_at = UtcDateTimeField()
