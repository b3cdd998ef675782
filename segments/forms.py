"""The rule builder as a plain HTML form (works without JavaScript; htmx enhances it).

A rule tree travels as flat fields named by the node's path: the root group is
`r`, its children `r.0`, `r.1`, a nested group's children `r.2.0`, … Each node
says what it is (`<path>.kind` = group | condition); a group has `.match` and
`.negate`, a condition `.field` (+ `.custom` for a custom field's name), `.op`
and `.value` (`.low`/`.high` for between), and `.drawn`, the field the row was
drawn for (so a changed field is told from a changed operator). A registered
custom field (contacts.CustomField) is offered by its own name, `.field` =
`customField:plan`, with the operators and the value input of its type; the
generic `customField` entry with its `.custom` box still takes any name. `decode_tree`
reads them back into the raw tree that `parse_filter` validates, in the order
shown, so the paths of its errors (`rules[2].rules[0].value`) point at the rows
on screen.

The builder's preview counts the finished rows only (`preview_part`): a row
still waiting for its value is left out and marked, not an error. Saving
validates every row, so a segment is never saved with a row the preview left out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict

from contacts.custom_fields import FieldType, WrongType, from_json, from_text
from contacts.models import CustomField

from .rules import RuleError, RuleErrors, parse_filter
from .rules.fields import (
    CUSTOM_OPERATORS_BY_TYPE,
    CUSTOM_OPS,
    CUSTOM_PREFIX,
    FIELDS,
    LIST_OPS,
    OPERATORS_BY_KIND,
    VALUELESS_OPS,
    Kind,
)

ROOT = "r"
_PATH = re.compile(r"^r(?:\.\d+)*$")
# `<path>.kind` keys; four digits an index is plenty (a segment has 50 conditions).
_KIND_KEY = re.compile(r"^(r(?:\.[0-9]{1,4})*)\.kind$")
CUSTOM_CHOICE = "customField"


class SegmentMetaForm(forms.Form):
    name = forms.CharField(max_length=200, error_messages={"required": "Give the segment a name."})
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FormTooLarge(ValueError):
    """More rule fields than a builder form ever has: refused before it is read."""

    def __init__(self, fields: int, limit: int):
        self.fields, self.limit = fields, limit
        super().__init__(
            f"This form has {fields:,} rule fields; the builder reads at most {limit:,} "
            f"(a segment has at most {settings.SEGMENT_MAX_CONDITIONS} conditions). "
            "Nothing was changed: remove some rules and try again."
        )


def max_form_fields() -> int:
    """Room for SEGMENT_MAX_CONDITIONS rows (a row posts up to ten fields, a multiple
    choice's options included) and their groups; at the default 50 this stays under
    Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000), so the builder says it first."""
    return 16 * settings.SEGMENT_MAX_CONDITIONS


# -- registered custom fields ------------------------------------------------------


@dataclass(frozen=True)
class RegisteredField:
    """A registered custom field as the builder offers it (contacts.CustomField)."""

    name: str
    label: str  # its label, or its name; "Label (name)" when two share a label
    type: str
    options: tuple[str, ...] = ()

    @property
    def choice(self) -> str:
        """Its entry in the field select: the rule's own field name, customField:NAME."""
        return CUSTOM_PREFIX + self.name

    @property
    def operators(self) -> tuple[str, ...]:
        return CUSTOM_OPERATORS_BY_TYPE.get(self.type, CUSTOM_OPS)

    def as_type(self) -> FieldType:
        return FieldType(self.name, self.type, self.options)


# By name, exactly as a rule spells it (keys are case-sensitive to the rules).
Registered = Mapping[str, RegisteredField]


def registered_fields() -> dict[str, RegisteredField]:
    """The registry for one builder request (one query), in the select's order: by label."""
    rows = sorted(
        CustomField.objects.values_list("name", "label", "type", "options"),
        key=lambda row: ((row[1] or row[0]).lower(), row[0]),
    )
    labels = [label or name for name, label, _, _ in rows]
    return {
        name: RegisteredField(
            name,
            f"{shown} ({name})" if labels.count(shown) > 1 and shown != name else shown,
            type_,
            tuple(options),
        )
        for (name, _, type_, options), shown in zip(rows, labels, strict=True)
    }


def registered_field(field_name: Any, registered: Registered) -> RegisteredField | None:
    """The registered field a rule's `customField:NAME` reads, if NAME is registered."""
    if isinstance(field_name, str) and field_name.startswith(CUSTOM_PREFIX):
        return registered.get(field_name[len(CUSTOM_PREFIX) :])
    return None


def custom_field_labels(registered: Registered) -> dict[str, str]:
    """For describe_filter's `names["customField"]`."""
    return {name: field.label for name, field in registered.items()}


# The operators whose value is checked against the field's type. The rule language
# takes any text for `equals` (it compares text forms); only the builder knows that
# Seats is a number. `before`/`after` take what the language takes (dates and times).
_TYPED_VALUE_OPS: dict[str, frozenset[str]] = {
    "number": frozenset({"equals", "not_equals", "gt", "gte", "lt", "lte"}),
    "date": frozenset({"equals", "not_equals"}),
    "boolean": frozenset({"equals"}),
    "choice": frozenset({"equals", "not_equals"}),
}
_NUMBER_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _type_message(field: RegisteredField, value: Any) -> str:
    label = field.label
    if field.type == "number":
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
            return f"{label} needs a number with at most 15 digits before the point."
        return f"{label} needs a number, e.g. 12 or 4.5."
    if field.type == "date":
        return f"{label} needs a date as YYYY-MM-DD, e.g. 2026-03-01."
    if field.type == "boolean":
        return f"{label} needs yes or no."
    return f"{label} must be one of: {', '.join(field.options)}."


def typed_value_errors(tree: Any, registered: Registered) -> list[RuleError]:
    """The values of registered custom fields that do not fit the field's type, as rule
    errors at parse_filter's paths (`rules[1].value`).

    The values that fit are put in their type's form, in place, as the contact form
    stores them (contacts.custom_fields.from_text): "12" → 12, "PRO" → the option
    "pro", "true" → true. So `equals` compares what the contacts hold, and the saved
    rule is the one the API would send.
    """
    errors: list[RuleError] = []
    if registered and isinstance(tree, dict):
        _check_group(tree, "", registered, errors)
    return errors


def _check_group(node: dict, path: str, registered: Registered, errors: list[RuleError]) -> None:
    rules = node.get("rules")
    if not isinstance(rules, list):
        return
    for index, rule in enumerate(rules):
        rule_path = f"{path}.rules[{index}]" if path else f"rules[{index}]"
        if isinstance(rule, dict) and "rules" in rule:
            _check_group(rule, rule_path, registered, errors)
        elif isinstance(rule, dict):
            _check_condition(rule, rule_path, registered, errors)


def _check_condition(
    rule: dict, path: str, registered: Registered, errors: list[RuleError]
) -> None:
    field = registered_field(rule.get("field"), registered)
    value = rule.get("value")
    if field is None or rule.get("op") not in _TYPED_VALUE_OPS.get(field.type, ()):
        return
    if _blank(value):
        return  # waiting for its value (is_incomplete), or "needs a value" (parse_filter)
    try:
        if isinstance(value, str):
            typed = from_text(field.as_type(), value)
        elif isinstance(value, list | dict):
            raise WrongType(field.name)
        else:
            typed = from_json(field.as_type(), value)
    except WrongType:
        errors.append(RuleError(f"{path}.value", _type_message(field, value)))
    else:
        rule["value"] = typed


def rule_errors(
    tree: Any, registered: Registered, *, segment_id: int | None = None
) -> list[RuleError]:
    """Everything the builder refuses in `tree`: parse_filter's errors and the values
    that do not fit a registered field's type (one message per value, the type's)."""
    typed = typed_value_errors(tree, registered)
    try:
        parse_filter(tree, segment_id=segment_id)
    except RuleErrors as exc:
        at = {error.path for error in typed}
        return typed + [error for error in exc.errors if error.path not in at]
    return typed


# -- reading the form ----------------------------------------------------------------


def decode_tree(data: QueryDict, *, registered: Registered | None = None) -> dict:
    """The raw tree the form describes (not yet validated).

    Bounded whatever is posted: at most `max_form_fields()` rule fields (else
    FormTooLarge), and groups deeper than SEGMENT_MAX_DEPTH are read without their
    rows, which leaves parse_filter to put its depth error on them. `registered` says
    which `customField:NAME` rows are drawn typed (a switch between types resets a row).
    """
    fields = sum(len(values) for key, values in data.lists() if key.startswith(f"{ROOT}."))
    limit = max_form_fields()
    if fields > limit:
        raise FormTooLarge(fields, limit)
    children: dict[str, set[int]] = {}  # one pass over the keys, not one per group
    for key in data:
        match = _KIND_KEY.match(key)
        if match and match.group(1) != ROOT:
            parent, _, index = match.group(1).rpartition(".")
            children.setdefault(parent, set()).add(int(index))
    return _decode_group(data, children, ROOT, depth=1, registered=registered or {})


def _decode_group(
    data: QueryDict, children: dict[str, set[int]], path: str, depth: int, registered: Registered
) -> dict:
    rules = []
    if depth <= settings.SEGMENT_MAX_DEPTH:
        for index in sorted(children.get(path, ())):
            child = f"{path}.{index}"
            if data.get(f"{child}.kind") == "group":
                rules.append(_decode_group(data, children, child, depth + 1, registered))
            else:
                rules.append(_decode_condition(data, child, registered))
    return {
        "match": data.get(f"{path}.match", "all"),
        "negate": data.get(f"{path}.negate") == "on",
        "rules": rules,
    }


def _kind_of(choice: str, registered: Registered) -> Hashable:
    """What a row is drawn for: a switch to a choice of another kind starts it afresh.
    Registered fields of one type are alike (a choice's values are its options)."""
    field = registered_field(choice, registered)
    if field is not None:
        return (Kind.CUSTOM, field.type, field.options)
    if choice == CUSTOM_CHOICE or choice.startswith(CUSTOM_PREFIX):
        return Kind.CUSTOM
    return FIELDS[choice].kind if choice in FIELDS else None


def _operators_of(choice: str, registered: Registered) -> tuple[str, ...]:
    field = registered_field(choice, registered)
    if field is not None:
        return field.operators
    if choice == CUSTOM_CHOICE or choice.startswith(CUSTOM_PREFIX):
        return OPERATORS_BY_KIND[Kind.CUSTOM]
    return FIELDS[choice].operators if choice in FIELDS else ()


def _decode_condition(data: QueryDict, path: str, registered: Registered) -> dict:
    choice = data.get(f"{path}.field", "")
    name = choice  # a registered field's choice is its rule name, customField:NAME
    if choice == CUSTOM_CHOICE:
        name = CUSTOM_PREFIX + data.get(f"{path}.custom", "").strip()
    condition: dict[str, Any] = {"field": name, "op": data.get(f"{path}.op", "")}
    drawn = data.get(f"{path}.drawn")
    if drawn is not None and _kind_of(drawn, registered) != _kind_of(choice, registered):
        # The field was just switched to one of another kind: the operator and value
        # on screen were the old field's. Start from the new field's first operator.
        operators = _operators_of(choice, registered)
        condition["op"] = operators[0] if operators else ""
        return condition
    if condition["op"] == "between":
        low, high = data.get(f"{path}.low", ""), data.get(f"{path}.high", "")
        if low or high:
            condition["value"] = [low, high]
    else:
        values = [v for v in data.getlist(f"{path}.value") if v != ""]
        if len(values) > 1 or condition["op"] in LIST_OPS and values and _is_multi(name):
            condition["value"] = values
        elif values:
            condition["value"] = values[0]
    return condition


def _is_multi(field_name: str) -> bool:
    field = FIELDS.get(field_name)
    return field is not None and field.kind in (Kind.STATUS, Kind.STAGE)


# -- incomplete rows: what the builder's preview leaves out ------------------------------


def is_incomplete(condition: dict) -> bool:
    """A row still waiting for its value (new, or its field just changed)."""
    op = condition.get("op")
    if not condition.get("field") or not isinstance(op, str) or not op or op in VALUELESS_OPS:
        return False
    return _blank(condition.get("value"))


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(_blank(v) for v in value)
    return value is None


def _conditions(tree: dict) -> Iterator[dict]:
    for rule in tree.get("rules") or []:
        if isinstance(rule, dict) and "rules" in rule:
            yield from _conditions(rule)
        elif isinstance(rule, dict):
            yield rule


def rows_to_replace(tree: Any) -> int:
    """How many condition rows a prefab would replace; 0 when none is filled in yet (a
    new builder's empty row), as then there is nothing to lose and nothing to ask."""
    if not isinstance(tree, dict):
        return 0
    conditions = list(_conditions(tree))
    return len(conditions) if any(not is_incomplete(c) for c in conditions) else 0


@dataclass(frozen=True)
class PreviewPart:
    """The part of the tree the builder's preview evaluates: every finished row."""

    tree: Any  # None when every row still waits for a value
    paths: dict[str, str]  # node paths in `tree` → the rows on screen
    incomplete: frozenset[str]  # the rows left out

    @property
    def waiting(self) -> bool:
        return self.tree is None


def preview_part(tree: Any) -> PreviewPart:
    """`tree` without its incomplete rows, and without groups that held nothing else."""
    if not isinstance(tree, dict):
        return PreviewPart(tree, {}, frozenset())  # parse_filter says what is wrong
    paths: dict[str, str] = {}
    incomplete: set[str] = set()
    part = _complete_part(tree, ROOT, ROOT, paths, incomplete)
    return PreviewPart(part, paths, frozenset(incomplete))


def _complete_part(
    node: dict, path: str, new_path: str, paths: dict[str, str], incomplete: set[str]
) -> dict | None:
    rules = node.get("rules")
    if not isinstance(rules, list):
        paths[new_path] = path
        return node
    kept: list = []
    kept_paths: dict[str, str] = {}
    for index, child in enumerate(rules):
        child_path, child_new_path = f"{path}.{index}", f"{new_path}.{len(kept)}"
        if isinstance(child, dict) and "rules" in child:
            part = _complete_part(child, child_path, child_new_path, kept_paths, incomplete)
            if part is not None:
                kept.append(part)
        elif isinstance(child, dict) and is_incomplete(child):
            incomplete.add(child_path)
        else:
            kept_paths[child_new_path] = child_path
            kept.append(child)
    if rules and not kept:
        return None  # only incomplete rows in it (an empty group stays: that is an error)
    paths[new_path] = path
    paths.update(kept_paths)
    return {**node, "rules": kept}


# -- actions on the tree (add, remove, prefab) ---------------------------------


def node_at(tree: dict, path: str) -> dict | None:
    if not _PATH.match(path):
        return None
    node = tree
    for part in path.split(".")[1:]:
        rules = node.get("rules")
        index = int(part)
        if not isinstance(rules, list) or index >= len(rules):
            return None
        node = rules[index]
    return node


def new_condition() -> dict:
    return {"field": "email", "op": "contains", "value": ""}


def apply_action(tree: dict, action: str) -> str | None:
    """add-condition:<group path>, add-group:<group path>, remove:<node path>, done to
    `tree` in place. Returns the path of the row that takes the focus: the new one."""
    verb, _, path = action.partition(":")
    if verb in ("add-condition", "add-group"):
        group = node_at(tree, path)
        if group is None or not isinstance(group.get("rules"), list):
            return None
        rules = group["rules"]
        if verb == "add-condition":
            rules.append(new_condition())
            return f"{path}.{len(rules) - 1}"
        if path.count(".") + 1 < settings.SEGMENT_MAX_DEPTH:
            rules.append({"match": "all", "negate": False, "rules": [new_condition()]})
            return f"{path}.{len(rules) - 1}.0"
    elif verb == "remove" and path != ROOT:
        parent_path, _, index = path.rpartition(".")
        parent = node_at(tree, parent_path)
        if parent is not None and index.isdigit() and int(index) < len(parent["rules"]):
            del parent["rules"][int(index)]
    return None


# The contact's own fields; the template adds the registered custom fields and the
# generic "Other custom field…" (CUSTOM_CHOICE) after them.
FIELD_CHOICES: list[tuple[str, str]] = [(f.name, f.label) for f in FIELDS.values()]


def encode_tree(
    tree: dict, path: str = ROOT, *, registered: Collection[str] = ()
) -> dict[str, list[str]]:
    """The form fields for a canonical tree: what a browser would post (tests, bench).
    Custom fields named in `registered` are posted as their typed rows post them."""
    data: dict[str, list[str]] = {
        f"{path}.kind": ["group"],
        f"{path}.match": [tree.get("match", "all")],
    }
    if tree.get("negate"):
        data[f"{path}.negate"] = ["on"]
    for index, rule in enumerate(tree.get("rules", [])):
        child = f"{path}.{index}"
        if "rules" in rule:
            data.update(encode_tree(rule, child, registered=registered))
            continue
        data[f"{child}.kind"] = ["condition"]
        name = rule["field"]
        if name.startswith(CUSTOM_PREFIX) and name[len(CUSTOM_PREFIX) :] in registered:
            data[f"{child}.field"] = [name]
        elif name.startswith(CUSTOM_PREFIX):
            data[f"{child}.field"] = [CUSTOM_CHOICE]
            data[f"{child}.custom"] = [name[len(CUSTOM_PREFIX) :]]
        else:
            data[f"{child}.field"] = [name]
        data[f"{child}.drawn"] = data[f"{child}.field"]
        data[f"{child}.op"] = [rule["op"]]
        value = rule.get("value")
        if rule["op"] == "between":
            data[f"{child}.low"], data[f"{child}.high"] = [str(value[0])], [str(value[1])]
        elif isinstance(value, list):
            joined = _is_multi(name)
            data[f"{child}.value"] = [str(v) for v in value] if joined else [", ".join(value)]
        elif isinstance(value, bool):
            data[f"{child}.value"] = ["true" if value else "false"]
        elif value is not None:
            data[f"{child}.value"] = [str(value)]
    return data
