"""A plain-language summary of a rule tree, for lists, previews and admins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fields import CUSTOM_PREFIX, FIELDS, OPERATOR_LABELS

_BOOLEAN_PHRASES = {
    ("isBounced", True): "bounced",
    ("isBounced", False): "not bounced",
    ("isUnsubscribed", True): "unsubscribed",
    ("isUnsubscribed", False): "not unsubscribed",
}


Names = Mapping[str, Mapping[Any, str]]


def describe_filter(tree: dict, *, names: Names | None = None) -> str:
    """E.g. "Last interacted more than 90 days ago, not bounced and tagged vip".

    `names` maps "group"/"segment" ids to names for display (ids are shown otherwise),
    and "customField" names of registered custom fields to their labels, shown as
    written ("Seats ≥ 10"); other custom fields are shown by their name.
    """
    text = _group(tree, names or {}, top=True)
    return text[:1].upper() + text[1:] if text else "Everybody"


def _group(node: dict, names: Names, *, top: bool = False) -> str:
    parts = [
        _group(rule, names) if "rules" in rule else _condition(rule, names)
        for rule in node["rules"]
    ]
    if not parts:
        text = "everybody" if node["match"] == "all" else "nobody"
    elif len(parts) == 1:
        text = parts[0]
    else:
        joiner = " and " if node["match"] == "all" else " or "
        text = ", ".join(parts[:-1]) + joiner + parts[-1]
        if node["match"] == "any" and len(parts) > 2:
            text = "any of: " + ", ".join(parts)
        if not top:
            text = f"({text})"
    if node.get("negate"):
        return f"not {text}" if text.startswith("(") else f"not ({text})"
    return text


def _condition(rule: dict, names: Names) -> str:
    field, op = rule["field"], rule["op"]
    # A canonical tree: the value's shape is the one its operator takes (an int of days, a pair…).
    value: Any = rule.get("value")
    if isinstance(value, bool) and (field, value) in _BOOLEAN_PHRASES:
        return _BOOLEAN_PHRASES[(field, value)]
    custom = field[len(CUSTOM_PREFIX) :] if field.startswith(CUSTOM_PREFIX) else None
    labels = names.get("customField", {})
    if custom is not None and custom in labels:
        subject = labels[custom]  # a name the marketer chose ("NPS", "Plan tier"), as written
    elif custom is not None:
        subject = custom.lower()
    else:
        subject = (FIELDS[field].label if field in FIELDS else field).lower()
    match op:
        case "within_days":
            return f"{subject} within the last {_days(value)}"
        case "older_than_days":
            return f"{subject} more than {_days(value)} ago"
        case "is" | "is_not" | "any_of" | "all_of" | "none_of" if field == "tag":
            verb = {
                "is": "tagged",
                "is_not": "not tagged",
                "any_of": "tagged any of",
                "all_of": "tagged all of",
                "none_of": "tagged none of",
            }[op]
            return f"{verb} {_values(value)}"
        case "in_group" | "not_in_group":
            name = names.get("group", {}).get(value, f"#{value}")
            return f"{'in' if op == 'in_group' else 'not in'} group {name}"
        case "in_segment" | "not_in_segment":
            name = names.get("segment", {}).get(value, f"#{value}")
            return f"{'in' if op == 'in_segment' else 'not in'} segment {name}"
        case "between":
            return f"{subject} between {value[0]} and {value[1]}"
        case "is_set" | "is_not_set":
            return f"{subject} {OPERATOR_LABELS[op]}"
        case _:
            return f"{subject} {OPERATOR_LABELS[op]} {_values(value)}"


def _days(n: int) -> str:
    return "day" if n == 1 else f"{n} days"


def _values(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return _value(value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"“{value}”" if " " in value else value
    return str(value)
