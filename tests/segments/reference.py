"""A reference evaluator for the rule language, written from SPEC §2 alone.

It is deliberately naive: plain Python over plain dicts, one contact at a time,
so that it can disagree with the SQL compiler in ``segments/rules``. It only
understands *canonical* trees (``{"match", "negate", "rules"}`` groups and
``{"field", "op", "value"}`` conditions with canonical names); it does not
validate beyond what it needs, and raises ``ReferenceInvalid`` where the
SPEC says the input is a validation error (unknown group or segment, cycles).

A contact row is a dict with the model's column names plus ``tags`` (the tag
names it carries, as stored) and ``groups`` (the ids of its groups)::

    {"id": 1, "email": "...", "first_name": "...", "last_name": "...",
     "company": "...", "job_title": "...", "country": "...", "city": "...",
     "source": "...", "lead_score": 0, "lifecycle_stage": "lead",
     "last_interacted_at": datetime | None, "created_at": datetime,
     "is_bounced": False, "is_unsubscribed": False, "custom_fields": {...},
     "tags": ["VIP"], "groups": [3]}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

TEXT_FIELDS: dict[str, str] = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "name": "name",  # derived: first + " " + last, trimmed
    "company": "company",
    "jobTitle": "job_title",
    "country": "country",
    "city": "city",
    "source": "source",
}
TEXT_OPS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "not_starts_with",
    "ends_with",
    "in",
    "not_in",
    "is_set",
    "is_not_set",
)
ENUM_OPS = ("equals", "not_equals", "in", "not_in")
STATUSES = ("active", "bounced", "unsubscribed")
LIFECYCLE_STAGES = ("subscriber", "lead", "mql", "sql", "customer")
TAG_OPS = ("is", "is_not", "any_of", "all_of", "none_of")
GROUP_OPS = ("in_group", "not_in_group")
SEGMENT_OPS = ("in_segment", "not_in_segment")
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "between")
TIMESTAMP_FIELDS: dict[str, str] = {
    "lastInteracted": "last_interacted_at",
    "createdAt": "created_at",
}
TIMESTAMP_OPS = ("within_days", "older_than_days", "before", "after", "is_set", "is_not_set")
BOOLEAN_FIELDS: dict[str, str] = {
    "isBounced": "is_bounced",
    "isUnsubscribed": "is_unsubscribed",
}
BOOLEAN_OPS = ("equals",)
CUSTOM_PREFIX = "customField:"
CUSTOM_OPS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "is_set",
    "is_not_set",
    "gt",
    "gte",
    "lt",
    "lte",
    "before",
    "after",
)

FIELD_OPS: dict[str, tuple[str, ...]] = {
    **{name: TEXT_OPS for name in TEXT_FIELDS},
    "status": ENUM_OPS,
    "lifecycleStage": ENUM_OPS,
    "tag": TAG_OPS,
    "group": GROUP_OPS,
    "segment": SEGMENT_OPS,
    "leadScore": NUMBER_OPS,
    **{name: TIMESTAMP_OPS for name in TIMESTAMP_FIELDS},
    **{name: BOOLEAN_OPS for name in BOOLEAN_FIELDS},
}
CANONICAL_FIELDS = frozenset(FIELD_OPS)


def ops_for(field_name: str) -> tuple[str, ...]:
    if field_name.startswith(CUSTOM_PREFIX):
        return CUSTOM_OPS
    return FIELD_OPS[field_name]


# SPEC §2.2: each pair splits all contacts into two disjoint covering sets.
NEGATION_PAIRS: tuple[tuple[str, str], ...] = (
    ("equals", "not_equals"),
    ("contains", "not_contains"),
    ("starts_with", "not_starts_with"),
    ("in", "not_in"),
    ("is", "is_not"),
    ("any_of", "none_of"),
    ("in_group", "not_in_group"),
    ("in_segment", "not_in_segment"),
    ("is_set", "is_not_set"),
    ("eq", "neq"),
)
NEGATION_OF: dict[str, str] = dict(NEGATION_PAIRS)


class ReferenceInvalid(Exception):
    """The tree is one the SPEC calls a validation error."""


# --- values ---------------------------------------------------------------------

_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")


def parse_instant(text: object) -> tuple[datetime, bool] | None:
    """An ISO date or datetime as (aware UTC instant, was it a bare date?), else None.

    A bare date means its midnight UTC; a datetime without an offset is UTC.
    Anything else (other types, other formats, impossible dates) is None.
    """
    if not isinstance(text, str):
        return None
    if _BARE_DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    if _DATETIME.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC), False
        except OverflowError:  # e.g. 0001-01-01T01:00:00+05:00 is before year 1 in UTC
            return None
    return None


def _instant_before(value: datetime, bound_text: str) -> bool:
    bound = parse_instant(bound_text)
    if bound is None:
        raise ReferenceInvalid(f"not a date: {bound_text!r}")
    return value < bound[0]


def _instant_after(value: datetime, bound_text: str) -> bool:
    bound = parse_instant(bound_text)
    if bound is None:
        raise ReferenceInvalid(f"not a date: {bound_text!r}")
    moment, bare = bound
    if bare:  # after that whole day
        try:
            return value >= moment + timedelta(days=1)
        except OverflowError:  # after 9999-12-31: nothing is
            return False
    return value > moment


def custom_text_form(value: object) -> str | None:
    """The text form of a custom value: JSON 5 is "5", true is "true", null is unset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"the reference does not model custom values like {value!r}")


def condition_text_form(value: object) -> str:
    text = custom_text_form(value)
    if text is None:
        raise ReferenceInvalid(f"no text form: {value!r}")
    return text


def contact_name(row: Mapping) -> str:
    # PostgreSQL's TRIM() and this strip(" ") both remove spaces only.
    return f"{row['first_name']} {row['last_name']}".strip(" ")


def contact_status(row: Mapping) -> str:
    if row["is_unsubscribed"]:
        return "unsubscribed"
    if row["is_bounced"]:
        return "bounced"
    return "active"


def _require_str(value: object) -> str:
    if not isinstance(value, str) or value == "":
        raise ReferenceInvalid(f"needs a non-empty text: {value!r}")
    return value


def _require_str_list(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ReferenceInvalid(f"needs a non-empty list: {value!r}")
    return [_require_str(item) for item in value]


def _require_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReferenceInvalid(f"needs a whole number: {value!r}")
    return value


def _text_op(op: str, actual: str, value: object) -> bool:
    """Case-insensitive text operators over a never-NULL text ("" = not set)."""
    if op == "is_set":
        return actual != ""
    if op == "is_not_set":
        return actual == ""
    up = actual.upper()
    if op in ("in", "not_in"):
        wanted = {item.upper() for item in _require_str_list(value)}
        hit = up in wanted
        return hit if op == "in" else not hit
    needle = _require_str(value).upper()
    if op == "equals":
        return up == needle
    if op == "not_equals":
        return up != needle
    if op == "contains":
        return needle in up
    if op == "not_contains":
        return needle not in up
    if op == "starts_with":
        return up.startswith(needle)
    if op == "not_starts_with":
        return not up.startswith(needle)
    if op == "ends_with":
        return up.endswith(needle)
    raise ReferenceInvalid(f"unknown text operator {op!r}")


def _enum_op(op: str, actual: str, value: object, allowed: Iterable[str]) -> bool:
    allowed = set(allowed)
    if op in ("in", "not_in"):
        wanted = {item.lower() for item in _require_str_list(value)}
    else:
        wanted = {_require_str(value).lower()}
    if not wanted <= allowed:
        raise ReferenceInvalid(f"unknown value in {value!r}")
    hit = actual.lower() in wanted
    return hit if op in ("equals", "in") else not hit


def _number_op(op: str, actual: int, value: object) -> bool:
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ReferenceInvalid(f"between needs [low, high]: {value!r}")
        low, high = (_require_int(v) for v in value)
        return low <= actual <= high
    n = _require_int(value)
    return {
        "eq": actual == n,
        "neq": actual != n,
        "gt": actual > n,
        "gte": actual >= n,
        "lt": actual < n,
        "lte": actual <= n,
    }[op]


def _timestamp_op(op: str, actual: datetime | None, value: object, now: datetime) -> bool:
    if op == "is_set":
        return actual is not None
    if op == "is_not_set":
        return actual is None
    if op in ("within_days", "older_than_days"):
        days = _require_int(value)
        if days < 0:
            raise ReferenceInvalid("days must be >= 0")
        if actual is None:
            return False
        edge = now - timedelta(days=days)
        return actual >= edge if op == "within_days" else actual < edge
    if op == "before":
        return actual is not None and _instant_before(actual, value)
    if op == "after":
        return actual is not None and _instant_after(actual, value)
    raise ReferenceInvalid(f"unknown timestamp operator {op!r}")


def _custom_op(op: str, stored: object, value: object) -> bool:
    text = custom_text_form(stored)
    is_set = text is not None and text != ""
    if op == "is_set":
        return is_set
    if op == "is_not_set":
        return not is_set
    if op in ("equals", "not_equals"):
        hit = is_set and text.upper() == condition_text_form(value).upper()
        return hit if op == "equals" else not hit
    if op in ("contains", "not_contains"):
        hit = is_set and _require_str(value).upper() in text.upper()
        return hit if op == "contains" else not hit
    if op in ("gt", "gte", "lt", "lte"):
        n = _require_int(value)
        if isinstance(stored, bool) or not isinstance(stored, int | float):
            return False
        return {"gt": stored > n, "gte": stored >= n, "lt": stored < n, "lte": stored <= n}[op]
    if op in ("before", "after"):
        if parse_instant(value) is None:
            raise ReferenceInvalid(f"not a date: {value!r}")
        moment = parse_instant(stored)
        if moment is None:
            return False
        if op == "before":
            return _instant_before(moment[0], value)
        return _instant_after(moment[0], value)
    raise ReferenceInvalid(f"unknown custom field operator {op!r}")


# --- the evaluator ----------------------------------------------------------------


@dataclass
class Reference:
    """What a tree may refer to besides the contact itself.

    ``groups`` maps group id to name; ``segments`` maps segment id to its
    (canonical) filter_json; ``tag_names`` is every tag that exists (only
    informative: an unknown tag simply is on no contact).
    """

    now: datetime
    groups: Mapping[int, str] = field(default_factory=dict)
    segments: Mapping[int, Mapping] = field(default_factory=dict)
    tag_names: frozenset[str] = frozenset()

    def matching_ids(self, rows: Iterable[Mapping], tree: Mapping) -> set[int]:
        return {row["id"] for row in rows if self.matches(row, tree)}

    def matches(self, row: Mapping, tree: Mapping, _stack: tuple[int, ...] = ()) -> bool:
        if "rules" in tree:
            return self._group(row, tree, _stack)
        return self._condition(row, tree, _stack)

    def _group(self, row: Mapping, group: Mapping, stack: tuple[int, ...]) -> bool:
        results = (self.matches(row, rule, stack) for rule in group["rules"])
        if group["match"] == "all":
            hit = all(results)
        elif group["match"] == "any":
            hit = any(results)
        else:
            raise ReferenceInvalid(f"unknown match {group['match']!r}")
        return not hit if group.get("negate", False) else hit

    def _condition(self, row: Mapping, cond: Mapping, stack: tuple[int, ...]) -> bool:
        name, op, value = cond["field"], cond["op"], cond.get("value")
        if op not in ops_for(name):
            raise ReferenceInvalid(f"{op!r} does not apply to {name!r}")
        if name in TEXT_FIELDS:
            actual = contact_name(row) if name == "name" else row[TEXT_FIELDS[name]]
            return _text_op(op, actual, value)
        if name == "status":
            return _enum_op(op, contact_status(row), value, STATUSES)
        if name == "lifecycleStage":
            return _enum_op(op, row["lifecycle_stage"], value, LIFECYCLE_STAGES)
        if name == "tag":
            return self._tag(row, op, value)
        if name == "group":
            hit = self._group_id(value) in set(row["groups"])
            return hit if op == "in_group" else not hit
        if name == "segment":
            hit = self._in_segment(row, value, stack)
            return hit if op == "in_segment" else not hit
        if name == "leadScore":
            return _number_op(op, row["lead_score"], value)
        if name in TIMESTAMP_FIELDS:
            return _timestamp_op(op, row[TIMESTAMP_FIELDS[name]], value, self.now)
        if name in BOOLEAN_FIELDS:
            if not isinstance(value, bool):
                raise ReferenceInvalid(f"needs true or false: {value!r}")
            return row[BOOLEAN_FIELDS[name]] is value
        if name.startswith(CUSTOM_PREFIX):
            key = name[len(CUSTOM_PREFIX) :]
            return _custom_op(op, row["custom_fields"].get(key), value)
        raise ReferenceInvalid(f"unknown field {name!r}")

    @staticmethod
    def _tag(row: Mapping, op: str, value: object) -> bool:
        has = {name.upper() for name in row["tags"]}
        if op in ("is", "is_not"):
            hit = _require_str(value).upper() in has
            return hit if op == "is" else not hit
        wanted = [item.upper() for item in _require_str_list(value)]
        if op == "any_of":
            return any(w in has for w in wanted)
        if op == "all_of":
            return all(w in has for w in wanted)
        if op == "none_of":
            return not any(w in has for w in wanted)
        raise ReferenceInvalid(f"unknown tag operator {op!r}")

    def _group_id(self, value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            if value in self.groups:
                return value
        elif isinstance(value, str):
            for group_id, group_name in self.groups.items():
                if group_name.upper() == value.upper():
                    return group_id
        raise ReferenceInvalid(f"unknown group {value!r}")

    def _in_segment(self, row: Mapping, value: object, stack: tuple[int, ...]) -> bool:
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.segments:
            raise ReferenceInvalid(f"unknown segment {value!r}")
        if value in stack:
            raise ReferenceInvalid(f"cycle through segment {value}")
        return self.matches(row, self.segments[value], (*stack, value))


def matches(
    contact_row: Mapping,
    tree: Mapping,
    *,
    now: datetime,
    tag_names: Iterable[str] = (),
    groups: Mapping[int, str] | None = None,
    segments: Mapping[int, Mapping] | None = None,
) -> bool:
    """Does this contact match this canonical tree at ``now``?"""
    ref = Reference(
        now=now,
        groups=groups or {},
        segments=segments or {},
        tag_names=frozenset(tag_names),
    )
    return ref.matches(contact_row, tree)
