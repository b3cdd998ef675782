"""Normalise and validate a rule tree (docs/design.md#rule-language).

`parse_filter` turns whatever a builder, an integration or an old export
sends (bare arrays, snake_case fields, operator aliases, "operator" for
"op") into the canonical tree, or raises RuleErrors listing every problem
with its path. It never raises anything else, whatever the input.

It reads no database: group names and ids and segment references are
resolved through a `RuleLookup` (lookup.py), asked once per kind between
passes: the first pass collects the group names and ids, the lookup resolves
them, the second pass validates with the answers, then the segment
references are checked.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterable
from typing import Any

from django.conf import settings

from . import values
from .errors import RuleError, RuleErrors
from .fields import (
    CUSTOM_PREFIX,
    CUSTOM_PREFIX_ALIASES,
    FIELD_ALIASES,
    FIELDS,
    LIST_OPS,
    NUMBER_OPERATOR_ALIASES,
    OPERATOR_ALIASES,
    OPERATOR_LABELS,
    STAGE_VALUES,
    STATUS_VALUES,
    VALUELESS_OPS,
    Field,
    Kind,
)
from .lookup import RuleLookup
from .values import Invalid

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def parse_filter(
    raw: Any, *, segment_id: int | None = None, lookup: RuleLookup | None = None
) -> dict:
    """Return the canonical tree for `raw`, or raise RuleErrors.

    `lookup` answers for groups and saved segments; by default, the database.
    """
    if lookup is None:
        from segments.lookups import DatabaseRuleLookup  # the one default: the database

        lookup = DatabaseRuleLookup()
    collected = _CollectedGroups()
    parser = _Parser(segment_id=segment_id, groups=collected)
    tree = parser.parse(raw)
    if collected.names or collected.numbers:
        # Everything but the group answers is known: parse again with them.
        parser = _Parser(segment_id=segment_id, groups=_KnownGroups.resolve(collected, lookup))
        tree = parser.parse(raw)
    if not parser.errors and parser.segment_refs:
        parser.check_segment_refs(lookup)
    if parser.errors:
        raise RuleErrors(parser.errors)
    return tree


def count_conditions(tree: dict) -> int:
    return sum(count_conditions(rule) if "rules" in rule else 1 for rule in tree.get("rules", []))


def iter_conditions(tree: dict) -> Iterable[dict]:
    for rule in tree.get("rules", []):
        if "rules" in rule:
            yield from iter_conditions(rule)
        else:
            yield rule


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


class _Groups:
    """Which group a condition's value names: by name first, else by id."""

    def group_id(self, name: str | None, number: int | None) -> int | None:
        raise NotImplementedError


class _CollectedGroups(_Groups):
    """The first pass: note every name and id asked for, and take each as known.

    Only a missing group changes what the parser does next (the condition stops
    there), so this pass asks for every name and id the second pass can ask for.
    """

    def __init__(self) -> None:
        self.names: dict[str, None] = {}  # in order, without repeats
        self.numbers: dict[int, list[str | None]] = {}  # id -> the names tried before it

    def group_id(self, name: str | None, number: int | None) -> int | None:
        if name is not None:
            self.names[name] = None
        if number is not None:
            self.numbers.setdefault(number, []).append(name)
        return 0


class _KnownGroups(_Groups):
    def __init__(self, by_name: dict[str, int], ids: Collection[int]):
        self.by_name = by_name
        self.ids = ids

    @classmethod
    def resolve(cls, collected: _CollectedGroups, lookup: RuleLookup) -> _KnownGroups:
        by_name = dict(lookup.group_ids_by_name(list(collected.names))) if collected.names else {}
        # An id is only looked up for a value whose name no group has.
        numbers = [
            number
            for number, names in collected.numbers.items()
            if any(name is None or name not in by_name for name in names)
        ]
        ids = set(lookup.existing_group_ids(numbers)) if numbers else set()
        return cls(by_name, ids)

    def group_id(self, name: str | None, number: int | None) -> int | None:
        if name is not None and name in self.by_name:
            return self.by_name[name]
        if number is not None and number in self.ids:
            return number
        return None


class _Parser:
    def __init__(self, *, segment_id: int | None, groups: _Groups):
        self.segment_id = segment_id
        self.groups = groups
        self.errors: list[RuleError] = []
        self.conditions = 0
        self.segment_refs: list[tuple[str, int]] = []  # (path, id)
        self.max_depth = settings.SEGMENT_MAX_DEPTH
        self.max_conditions = settings.SEGMENT_MAX_CONDITIONS

    def error(self, path: str, message: str) -> None:
        self.errors.append(RuleError(path or "filter", message))

    # -- structure ----------------------------------------------------------

    def parse(self, raw: Any) -> dict:
        if isinstance(raw, str | bytes):
            try:
                raw = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                self.error("filter", f"The rules are not valid JSON ({exc}).")
                return _empty()
        try:
            # Lone UTF-16 surrogates are valid JSON escapes but no database takes them.
            json.dumps(raw, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except UnicodeEncodeError:
            self.error("filter", "The rules contain text that is not valid Unicode; remove it.")
            return _empty()
        except (TypeError, ValueError, RecursionError):
            self.error("filter", "Rules must be plain JSON (no NaN, Infinity or other values).")
            return _empty()
        if isinstance(raw, list):
            raw = {"match": "all", "rules": raw}
        if not isinstance(raw, dict):
            self.error(
                "filter",
                "Rules must be an object with 'match' and 'rules', or a list of conditions.",
            )
            return _empty()
        tree = self.group(raw, path="", depth=1)
        if self.conditions > self.max_conditions:
            self.error(
                "rules",
                f"A segment can have at most {self.max_conditions} conditions; "
                f"this one has {self.conditions}.",
            )
        return tree

    def group(self, node: dict, *, path: str, depth: int) -> dict:
        for key, alias in (("match", "logic"), ("rules", "conditions")):
            if key in node and alias in node:
                # One of them would be ignored: say so rather than guess.
                self.error(_join(path, alias), f"Send either '{key}' or '{alias}', not both.")
        match = node.get("match", node.get("logic", "all"))
        match_key = "match" if "match" in node else "logic"
        canonical_match = (
            {"all": "all", "and": "all", "any": "any", "or": "any"}.get(match.lower())
            if isinstance(match, str)
            else None
        )
        if canonical_match is None:
            self.error(_join(path, match_key), "Match must be 'all' or 'any'.")
            canonical_match = "all"
        negate = node.get("negate", False)
        if negate is None:
            negate = False
        if not isinstance(negate, bool):
            self.error(_join(path, "negate"), "Negate must be true or false.")
            negate = False
        rules_key = "rules" if "rules" in node or "conditions" not in node else "conditions"
        rules = node.get(rules_key, [])
        if not isinstance(rules, list):
            self.error(_join(path, rules_key), "Rules must be a list of conditions and groups.")
            rules = []
        self.unknown_keys(node, _GROUP_KEYS, "a group", path=path)
        if path and not rules:
            self.error(_join(path, rules_key), "This group is empty; add a condition or remove it.")
        children = []
        for index, rule in enumerate(rules):
            child_path = _join(path, f"{rules_key}[{index}]")
            if isinstance(rule, list):
                rule = {"match": "all", "rules": rule}
            if not isinstance(rule, dict):
                self.error(child_path, "Each rule must be a condition or a group.")
            elif "rules" in rule or "conditions" in rule or "match" in rule:
                if depth + 1 > self.max_depth:
                    self.error(
                        child_path,
                        f"Segments can be nested at most {self.max_depth} levels deep.",
                    )
                else:
                    children.append(self.group(rule, path=child_path, depth=depth + 1))
            else:
                self.conditions += 1
                if self.conditions > self.max_conditions:
                    continue  # counted for the error below; not worth validating
                condition = self.condition(rule, path=child_path)
                if condition is not None:
                    children.append(condition)
        return {"match": canonical_match, "negate": negate, "rules": children}

    # -- conditions ---------------------------------------------------------

    def condition(self, node: dict, *, path: str) -> dict | None:
        if "op" in node and "operator" in node:
            self.error(_join(path, "operator"), "Send either 'op' or 'operator', not both.")
        self.unknown_keys(node, _CONDITION_KEYS, "a condition", path=path)
        field_name = node.get("field")
        if not isinstance(field_name, str) or not field_name.strip():
            self.error(_join(path, "field"), "Choose a field.")
            return None
        field, custom_name = self.resolve_field(field_name.strip(), path)
        if field is None:
            return None
        op_key = "operator" if "operator" in node and "op" not in node else "op"
        raw_op = node.get(op_key)
        if not isinstance(raw_op, str) or not raw_op.strip():
            self.error(_join(path, op_key), f"Choose an operator for {field.label}.")
            return None
        op = _canonical_operator(raw_op.strip(), field.kind)
        if op not in field.operators:
            allowed = ", ".join(OPERATOR_LABELS[o] for o in field.operators)
            self.error(
                _join(path, op_key),
                f"'{raw_op}' cannot be used with {field.label}; use one of: {allowed}.",
            )
            return None
        name = f"{CUSTOM_PREFIX}{custom_name}" if custom_name is not None else field.name
        if op in VALUELESS_OPS:
            return {"field": name, "op": op}
        if "value" not in node or node["value"] is None or node["value"] == []:
            self.error(_join(path, "value"), f"{field.label} {OPERATOR_LABELS[op]} needs a value.")
            return None
        try:
            value = self.value(field, op, node["value"], path=path)
        except Invalid as exc:
            self.error(_join(path, "value"), str(exc))
            return None
        return {"field": name, "op": op, "value": value}

    def unknown_keys(self, node: dict, known: tuple[str, ...], what: str, *, path: str) -> None:
        """A key the language does not know is an error, never silently dropped:
        `valeu` would otherwise leave a condition without its value."""
        for key in node:
            if key not in known:
                shown = _printable(str(key)[:50])
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else "."
                self.error(_join(path, shown), f"Unknown key '{shown}' in {what}{hint}")

    def resolve_field(self, name: str, path: str) -> tuple[Field | None, str | None]:
        for prefix in CUSTOM_PREFIX_ALIASES:
            if name.startswith(prefix):
                custom = name[len(prefix) :].strip()
                if any(ord(ch) < 32 for ch in custom):
                    self.error(
                        _join(path, "field"),
                        "Custom field names cannot contain control characters; remove them.",
                    )
                    return None, None
                if not custom or len(custom) > 100:
                    self.error(
                        _join(path, "field"),
                        "Name the custom field after 'customField:' (at most 100 characters).",
                    )
                    return None, None
                return _CUSTOM_FIELD, custom
        canonical = FIELD_ALIASES.get(name, name)
        if canonical in FIELDS:
            return FIELDS[canonical], None
        known = [*FIELDS, *FIELD_ALIASES]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{FIELD_ALIASES.get(close[0], close[0])}'?" if close else ""
        self.error(_join(path, "field"), f"Unknown field '{name}'{hint}")
        return None, None

    def value(self, field: Field, op: str, value: Any, *, path: str) -> Any:
        if op in LIST_OPS:
            items = values.as_list(value)
            if not items:
                raise Invalid(f"{field.label} {OPERATOR_LABELS[op]} needs at least one value.")
            if len(items) > values.MAX_LIST:
                raise Invalid(f"Use at most {values.MAX_LIST} values.")
            return [self.scalar(field, op, item, path=path) for item in items]
        if op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise Invalid(f"{field.label} between needs two numbers: [low, high].")
            low, high = (values.whole_number_0_100(v, field.label) for v in value)
            if low > high:
                raise Invalid(f"The low end ({low}) is above the high end ({high}).")
            return [low, high]
        return self.scalar(field, op, value, path=path)

    def scalar(self, field: Field, op: str, value: Any, *, path: str) -> Any:
        kind = field.kind
        if kind == Kind.TEXT or kind == Kind.TAG:
            return values.text(value, field.label)
        if kind == Kind.STATUS:
            return values.choice(value, STATUS_VALUES, field.label)
        if kind == Kind.STAGE:
            return values.choice(value, STAGE_VALUES, field.label)
        if kind == Kind.INTEGER:
            return values.whole_number_0_100(value, field.label)
        if kind == Kind.BOOLEAN:
            return values.boolean(value, field.label)
        if kind == Kind.TIMESTAMP:
            if op in ("within_days", "older_than_days"):
                return values.days(value)
            return values.timestamp_text(value)
        if kind == Kind.GROUP:
            return self.group_id(value)
        if kind == Kind.SEGMENT:
            segment_id = values.segment_id(value)
            self.segment_refs.append((_join(path, "value"), segment_id))
            return segment_id
        # Custom fields.
        if op in ("gt", "gte", "lt", "lte"):
            return values.number(value)
        if op in ("before", "after"):
            return values.timestamp_text(value)
        return values.custom_scalar(value)

    def group_id(self, value: Any) -> int:
        if isinstance(value, str) and "\x00" in value:
            raise Invalid(values.NUL_MESSAGE)
        name = value.strip() if isinstance(value, str) and value.strip() else None
        number = values.whole_number(value)
        group_id = None if name is None and number is None else self.groups.group_id(name, number)
        if group_id is None:
            shown = value if isinstance(value, str | int) else json.dumps(value)[:50]
            raise Invalid(f"There is no group '{shown}'.")
        return group_id

    def check_segment_refs(self, lookup: RuleLookup) -> None:
        ids = {segment_id for _, segment_id in self.segment_refs}
        known = lookup.segments(ids)
        for path, segment_id in self.segment_refs:
            if segment_id not in known:
                self.error(path, f"There is no segment with id {segment_id}.")
            elif segment_id == self.segment_id:
                self.error(path, "A segment cannot include itself.")
            elif self.segment_id is not None and _segment_uses(lookup, segment_id, self.segment_id):
                self.error(
                    path,
                    f"Segment '{known[segment_id].name}' already uses this segment, "
                    "so it cannot be used here (cycle).",
                )


_CUSTOM_FIELD = Field("customField", "Custom field", Kind.CUSTOM)
# Every key a group or a condition may have ("logic", "conditions" and "operator" are
# other tools' spellings of "match", "rules" and "op").
_GROUP_KEYS = ("match", "logic", "negate", "rules", "conditions")
_CONDITION_KEYS = ("field", "op", "operator", "value")


def _empty() -> dict:
    return {"match": "all", "negate": False, "rules": []}


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _canonical_operator(raw: str, kind: Kind) -> str:
    snake = raw if raw in OPERATOR_ALIASES else _CAMEL.sub(r"_\1", raw).lower().replace(" ", "_")
    op = OPERATOR_ALIASES.get(snake, snake)
    if kind == Kind.INTEGER:
        op = NUMBER_OPERATOR_ALIASES.get(op, op)
    elif kind != Kind.CUSTOM and op == "eq":
        op = "equals"
    elif kind != Kind.CUSTOM and op == "neq":
        op = "not_equals"
    elif kind == Kind.CUSTOM:
        op = {"eq": "equals", "neq": "not_equals"}.get(op, op)
    return op


def _segment_uses(lookup: RuleLookup, start_id: int, target_id: int) -> bool:
    """Does segment `start_id` reach `target_id` through in_segment references?"""
    seen: set[int] = set()
    frontier = {start_id}
    while frontier:
        seen |= frontier
        rows = [segment.filter_json for segment in lookup.segments(frontier).values()]
        frontier = set()
        for filter_json in rows:
            for ref in references(filter_json, "segment"):
                if ref == target_id:
                    return True
                if ref not in seen:
                    frontier.add(ref)
    return False


def references(tree: Any, field: str) -> Iterable[int]:
    """The ids a saved (canonical) tree names in conditions on `field` ("segment" or
    "group"), at any depth."""
    if not isinstance(tree, dict):
        return
    for rule in tree.get("rules", []):
        if isinstance(rule, dict) and "rules" in rule:
            yield from references(rule, field)
        elif (
            isinstance(rule, dict)
            and rule.get("field") == field
            and isinstance(rule.get("value"), int)
        ):
            yield rule["value"]
