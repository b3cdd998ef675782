"""The fields and operators of the rule language (docs/design.md#fields-and-operators), as data.

Everything else — normalising, validating, compiling, describing and the
builder's selects — reads these tables, so a field is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    STATUS = "status"
    STAGE = "stage"
    TAG = "tag"
    GROUP = "group"
    SEGMENT = "segment"
    INTEGER = "integer"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"
    CUSTOM = "custom"


# Operator → how it reads in messages, selects and summaries.
OPERATOR_LABELS: dict[str, str] = {
    "equals": "equals",
    "not_equals": "does not equal",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "not_starts_with": "does not start with",
    "ends_with": "ends with",
    "in": "is one of",
    "not_in": "is none of",
    "is_set": "is set",
    "is_not_set": "is not set",
    "is": "is",
    "is_not": "is not",
    "any_of": "any of",
    "all_of": "all of",
    "none_of": "none of",
    "in_group": "in group",
    "not_in_group": "not in group",
    "in_segment": "in segment",
    "not_in_segment": "not in segment",
    "eq": "=",
    "neq": "≠",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "between": "between",
    "within_days": "within the last (days)",
    "older_than_days": "more than (days) ago",
    "before": "before",
    "after": "after",
}

TEXT_OPS = (
    "equals", "not_equals", "contains", "not_contains", "starts_with", "not_starts_with",
    "ends_with", "in", "not_in", "is_set", "is_not_set",
)  # fmt: skip
ENUM_OPS = ("equals", "not_equals", "in", "not_in")
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "between")
TIME_OPS = ("within_days", "older_than_days", "before", "after", "is_set", "is_not_set")
CUSTOM_OPS = (
    "equals", "not_equals", "contains", "not_contains", "is_set", "is_not_set",
    "gt", "gte", "lt", "lte", "before", "after",
)  # fmt: skip

OPERATORS_BY_KIND: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: TEXT_OPS,
    Kind.STATUS: ENUM_OPS,
    Kind.STAGE: ENUM_OPS,
    Kind.TAG: ("is", "is_not", "any_of", "all_of", "none_of"),
    Kind.GROUP: ("in_group", "not_in_group"),
    Kind.SEGMENT: ("in_segment", "not_in_segment"),
    Kind.INTEGER: NUMBER_OPS,
    Kind.TIMESTAMP: TIME_OPS,
    Kind.BOOLEAN: ("equals",),
    Kind.CUSTOM: CUSTOM_OPS,
}

# Registered custom fields (contacts.CustomField, by its type): the operators of
# CUSTOM_OPS that mean something for values of that type, as the builder offers them.
# Nothing here is new to the language: each is the customField operator of the same
# name (docs/design.md#custom-fields). There are no `in`, `between` or `within_days`
# for custom fields, so the builder offers none.
CUSTOM_OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "text": ("equals", "not_equals", "contains", "not_contains", "is_set", "is_not_set"),
    "number": ("equals", "not_equals", "gt", "gte", "lt", "lte", "is_set", "is_not_set"),
    "date": ("before", "after", "equals", "not_equals", "is_set", "is_not_set"),
    "boolean": ("equals", "is_set", "is_not_set"),
    "choice": ("equals", "not_equals", "is_set", "is_not_set"),
}
# How those operators read in the builder's select, where the type makes a word fit
# better than OPERATOR_LABELS' (the rule stays the same).
CUSTOM_OPERATOR_LABELS: dict[str, dict[str, str]] = {
    "number": {"equals": "=", "not_equals": "≠"},
    "date": {"equals": "is on", "not_equals": "is not on"},
    "boolean": {"equals": "is"},
    "choice": {"equals": "is", "not_equals": "is not"},
}

# Operators that take no value.
VALUELESS_OPS = frozenset({"is_set", "is_not_set"})
# Operators that take a list.
LIST_OPS = frozenset({"in", "not_in", "any_of", "all_of", "none_of"})


@dataclass(frozen=True)
class Field:
    name: str  # canonical, as stored in filter_json
    label: str  # as a marketer reads it
    kind: Kind
    column: str = ""  # the Contact column, for fields that map to one

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS_BY_KIND[self.kind]


FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        Field("email", "Email", Kind.TEXT, "email"),
        Field("firstName", "First name", Kind.TEXT, "first_name"),
        Field("lastName", "Last name", Kind.TEXT, "last_name"),
        Field("name", "Name", Kind.TEXT, "full_name"),
        Field("company", "Company", Kind.TEXT, "company"),
        Field("jobTitle", "Job title", Kind.TEXT, "job_title"),
        Field("country", "Country", Kind.TEXT, "country"),
        Field("city", "City", Kind.TEXT, "city"),
        Field("source", "Source", Kind.TEXT, "source"),
        Field("status", "Status", Kind.STATUS),
        Field("lifecycleStage", "Lifecycle stage", Kind.STAGE, "lifecycle_stage"),
        Field("tag", "Tag", Kind.TAG),
        Field("group", "Group", Kind.GROUP),
        Field("segment", "Segment", Kind.SEGMENT),
        Field("leadScore", "Lead score", Kind.INTEGER, "lead_score"),
        Field("lastInteracted", "Last interacted", Kind.TIMESTAMP, "last_interacted_at"),
        Field("createdAt", "Created", Kind.TIMESTAMP, "created_at"),
        Field("isBounced", "Bounced", Kind.BOOLEAN, "is_bounced"),
        Field("isUnsubscribed", "Unsubscribed", Kind.BOOLEAN, "is_unsubscribed"),
    ]
}
CUSTOM_PREFIX = "customField:"

# snake_case and other spellings other segment tools and integrations use.
FIELD_ALIASES: dict[str, str] = {
    "first_name": "firstName",
    "last_name": "lastName",
    "full_name": "name",
    "job_title": "jobTitle",
    "lifecycle_stage": "lifecycleStage",
    "tags": "tag",
    "groups": "group",
    "lead_score": "leadScore",
    "last_interacted": "lastInteracted",
    "last_interacted_at": "lastInteracted",
    "lastInteractedAt": "lastInteracted",
    "created_at": "createdAt",
    "created": "createdAt",
    "is_bounced": "isBounced",
    "bounced": "isBounced",
    "is_unsubscribed": "isUnsubscribed",
    "unsubscribed": "isUnsubscribed",
}
CUSTOM_PREFIX_ALIASES = (
    "customField:",
    "custom_field:",
    "customFields.",
    "custom_fields.",
    "custom.",
)

# Operator aliases, looked up after camelCase → snake_case.
OPERATOR_ALIASES: dict[str, str] = {
    "=": "equals",
    "==": "equals",
    "!=": "not_equals",
    "≠": "not_equals",
    "<>": "not_equals",
    "greater_than": "gt",
    ">": "gt",
    ">=": "gte",
    "≥": "gte",
    "greater_than_or_equal": "gte",
    "less_than": "lt",
    "<": "lt",
    "<=": "lte",
    "≤": "lte",
    "less_than_or_equal": "lte",
    "not_contain": "not_contains",
    "does_not_contain": "not_contains",
    "is_one_of": "in",
    "is_none_of": "not_in",
    "within": "within_days",
    "within_last_days": "within_days",
    "older_than": "older_than_days",
    "more_than_days_ago": "older_than_days",
    "exists": "is_set",
    "not_exists": "is_not_set",
    "is_empty": "is_not_set",
    "is_not_empty": "is_set",
}
# For numbers the canonical names are eq/neq; the text spellings are aliases.
NUMBER_OPERATOR_ALIASES: dict[str, str] = {"equals": "eq", "not_equals": "neq"}

STATUS_VALUES = ("active", "bounced", "unsubscribed")
STAGE_VALUES = ("subscriber", "lead", "mql", "sql", "customer")
