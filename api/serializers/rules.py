"""Rule trees in the API (docs/design.md#tree-shape): the shared schema components,
the input fields that take a tree as other tools send it, and the output fields."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# `logic` as other tools send it: AND or OR (and all / any, as `match` has them), any case.
LOGIC_WORDS = {"and": "all", "all": "all", "or": "any", "any": "any"}
LOGIC_PATTERN = "^([Aa][Nn][Dd]|[Oo][Rr]|[Aa][Ll][Ll]|[Aa][Nn][Yy])$"
RULE_REF = {"$ref": "#/components/schemas/Rule"}
RULE_GROUP_REF = {"$ref": "#/components/schemas/RuleGroup"}
RULE_COMPONENTS = {
    "Condition": {
        "type": "object",
        "description": "`{field, op, value}`; `operator` is accepted for `op`, compatible "
        "with the common `{field, operator, value}` segment format. "
        "`value` is left out for is_set / is_not_set. Any other key is a 400.",
        "properties": {
            "field": {"type": "string", "example": "leadScore"},
            "op": {"type": "string", "example": "gte"},
            "operator": {
                "type": "string",
                "example": "gte",
                "description": "Another name for `op`.",
            },
            "value": {"description": "Text, number, true/false, a date or a list of them."},
        },
        "required": ["field"],
        "additionalProperties": False,
    },
    "RuleGroup": {
        "type": "object",
        "description": "A group of rules: all (AND) or any (OR) of them, negated if asked. "
        "`logic` and `conditions` are accepted for `match` and `rules`; any other key is a 400.",
        "properties": {
            "match": {"type": "string", "enum": ["all", "any"]},
            "logic": {
                "type": "string",
                "pattern": LOGIC_PATTERN,
                "description": "Another name for `match`: AND (all) or OR (any), in any case.",
            },
            "negate": {"type": "boolean"},
            "rules": {"type": "array", "items": RULE_REF},
            "conditions": {
                "type": "array",
                "items": RULE_REF,
                "description": "Another name for `rules`.",
            },
        },
        "anyOf": [{"required": ["rules"]}, {"required": ["conditions"]}],
        "additionalProperties": False,
    },
    "Rule": {"anyOf": [RULE_GROUP_REF, {"$ref": "#/components/schemas/Condition"}]},
}


@extend_schema_field({"anyOf": [{"type": "array", "items": RULE_REF}, RULE_GROUP_REF]})
class RulesInputField(serializers.JSONField):
    """A list of rules (all of them must match), or a whole group."""

    def to_internal_value(self, data):
        if not isinstance(data, list | dict):
            raise serializers.ValidationError(
                "Rules must be a list of conditions (or a group with 'match' and 'rules')."
            )
        if isinstance(data, dict):
            _check_group(data)
        return data


def _check_group(data: dict) -> None:
    # ("conditions" is other tools' spelling of "rules".)
    if "rules" not in data and "conditions" not in data:
        raise serializers.ValidationError("A group needs its 'rules': a list of conditions.")


@extend_schema_field(RULE_GROUP_REF)
class FilterInputField(serializers.JSONField):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("The filter must be an object: {match, rules}.")
        _check_group(data)
        return data


@extend_schema_field({"type": "array", "items": RULE_REF})
class RulesOutputField(serializers.JSONField):
    """A saved tree's rules in the common spelling: `operator` for `op`, groups nested."""

    def to_representation(self, value):
        return common_rules(value)


def common_rules(rules: Any) -> list:
    """Canonical rules (`op`) in the common spelling (`operator`), groups kept nested."""
    out = []
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        if "rules" in rule:
            out.append(
                {
                    "match": rule.get("match", "all"),
                    "negate": bool(rule.get("negate", False)),
                    "rules": common_rules(rule["rules"]),
                }
            )
        else:
            item = {"field": rule.get("field"), "operator": rule.get("op")}
            if "value" in rule:
                item["value"] = rule["value"]
            out.append(item)
    return out


@extend_schema_field(RULE_GROUP_REF)
class FilterOutputField(serializers.JSONField):
    pass


@extend_schema_field({"type": "string", "pattern": LOGIC_PATTERN, "example": "AND"})
class LogicField(serializers.Field):
    """`match` as other tools spell it: AND / OR (or all / any), in any case."""

    default_error_messages = {"invalid": "Logic must be AND or OR."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or data.lower() not in LOGIC_WORDS:
            self.fail("invalid")
        return LOGIC_WORDS[data.lower()]

    def to_representation(self, value):
        return value
