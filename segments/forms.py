"""The rule builder as a plain HTML form (works without JavaScript; htmx enhances it).

A rule tree travels as flat fields named by the node's path: the root group is
`r`, its children `r.0`, `r.1`, a nested group's children `r.2.0`, … Each node
says what it is (`<path>.kind` = group | condition); a group has `.match` and
`.negate`, a condition `.field` (+ `.custom` for a custom field's name), `.op`
and `.value` (`.low`/`.high` for between). `decode_tree` reads them back into
the raw tree that `parse_filter` validates, in the order shown, so the paths of
its errors (`rules[2].rules[0].value`) point at the rows on screen.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

from .rules.fields import CUSTOM_PREFIX, FIELDS, LIST_OPS, OPERATOR_LABELS, OPERATORS_BY_KIND, Kind

ROOT = "r"
_PATH = re.compile(r"^r(?:\.\d+)*$")
CUSTOM_CHOICE = "customField"


class SegmentMetaForm(forms.Form):
    name = forms.CharField(max_length=200, error_messages={"required": "Give the segment a name."})
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _children_paths(data: QueryDict, path: str) -> list[str]:
    prefix = f"{path}."
    indexes = set()
    for key in data:
        if key.startswith(prefix) and key.endswith(".kind"):
            rest = key[len(prefix) : -len(".kind")]
            if rest.isdigit():
                indexes.add(int(rest))
    return [f"{path}.{i}" for i in sorted(indexes)]


def decode_tree(data: QueryDict, path: str = ROOT) -> dict:
    """The raw tree the form describes (not yet validated)."""
    children = []
    for child in _children_paths(data, path):
        if data.get(f"{child}.kind") == "group":
            children.append(decode_tree(data, child))
        else:
            children.append(_decode_condition(data, child))
    return {
        "match": data.get(f"{path}.match", "all"),
        "negate": data.get(f"{path}.negate") == "on",
        "rules": children,
    }


def _decode_condition(data: QueryDict, path: str) -> dict:
    name = data.get(f"{path}.field", "")
    if name == CUSTOM_CHOICE:
        name = CUSTOM_PREFIX + data.get(f"{path}.custom", "").strip()
    condition: dict[str, Any] = {"field": name, "op": data.get(f"{path}.op", "")}
    if condition["op"] == "between":
        condition["value"] = [data.get(f"{path}.low", ""), data.get(f"{path}.high", "")]
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


def apply_action(tree: dict, action: str) -> dict:
    """add-condition:<group path>, add-group:<group path>, remove:<node path>."""
    verb, _, path = action.partition(":")
    if verb in ("add-condition", "add-group"):
        group = node_at(tree, path)
        if group is not None and "rules" in group:
            if verb == "add-condition":
                group["rules"].append(new_condition())
            else:
                group["rules"].append({"match": "all", "negate": False, "rules": [new_condition()]})
    elif verb == "remove" and path != ROOT:
        parent_path, _, index = path.rpartition(".")
        parent = node_at(tree, parent_path)
        if parent is not None and index.isdigit() and int(index) < len(parent["rules"]):
            del parent["rules"][int(index)]
    return tree


# -- what the template draws ------------------------------------------------------


@dataclass
class Row:
    """One node of the tree as the builder draws it."""

    path: str
    kind: str  # group | condition
    depth: int
    errors: list[str] = dataclasses.field(default_factory=list)
    # groups
    match: str = "all"
    negate: bool = False
    children: list[Row] = dataclasses.field(default_factory=list)
    # conditions
    field: str = ""
    custom: str = ""
    op: str = ""
    value: Any = ""
    operators: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    widget: str = "text"

    @property
    def dom_id(self) -> str:
        """For element ids (htmx out-of-band swaps select by id; dots would not do)."""
        return self.path.replace(".", "-")

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    @property
    def values(self) -> list[str]:
        if isinstance(self.value, list):
            return [str(v) for v in self.value]
        return [str(self.value)] if self.value not in ("", None) else []

    @property
    def value_text(self) -> str:
        if isinstance(self.value, list):
            return ", ".join(str(v) for v in self.value)
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return "" if self.value is None else str(self.value)

    @property
    def low(self) -> str:
        return str(self.value[0]) if isinstance(self.value, list) and self.value else ""

    @property
    def high(self) -> str:
        return str(self.value[1]) if isinstance(self.value, list) and len(self.value) > 1 else ""


def build_rows(tree: dict, errors: dict[str, list[str]], path: str = ROOT, depth: int = 1) -> Row:
    row = Row(
        path=path,
        kind="group",
        depth=depth,
        match=tree.get("match", "all") if isinstance(tree.get("match"), str) else "all",
        negate=bool(tree.get("negate")),
        errors=errors.get(path, []),
    )
    for index, child in enumerate(tree.get("rules") or []):
        child_path = f"{path}.{index}"
        if isinstance(child, dict) and "rules" in child:
            row.children.append(build_rows(child, errors, child_path, depth + 1))
        elif isinstance(child, dict):
            row.children.append(_condition_row(child, errors, child_path, depth + 1))
    return row


def flatten(row: Row):
    """Every row of the tree, groups before their children."""
    yield row
    for child in row.children:
        yield from flatten(child)


def _condition_row(rule: dict, errors: dict[str, list[str]], path: str, depth: int) -> Row:
    name = str(rule.get("field") or "")
    custom = ""
    if name.startswith(CUSTOM_PREFIX):
        name, custom = CUSTOM_CHOICE, name[len(CUSTOM_PREFIX) :]
    kind = Kind.CUSTOM if name == CUSTOM_CHOICE else (FIELDS[name].kind if name in FIELDS else None)
    operators = OPERATORS_BY_KIND.get(kind, ()) if kind else ()
    op = str(rule.get("op") or rule.get("operator") or "")
    if operators and op not in operators:
        op = operators[0]  # the field changed: start from its first operator
    return Row(
        path=path,
        kind="condition",
        depth=depth,
        field=name,
        custom=custom,
        op=op,
        value=rule.get("value", ""),
        operators=[(o, OPERATOR_LABELS[o]) for o in operators],
        widget=widget_for(kind, op),
        errors=errors.get(path, []),
    )


def widget_for(kind: Kind | None, op: str) -> str:
    """Which value input fits the field and operator."""
    if op in ("is_set", "is_not_set"):
        return "none"
    if op == "between":
        return "between"
    if kind == Kind.INTEGER:
        return "number"
    if kind == Kind.TIMESTAMP:
        return "days" if op in ("within_days", "older_than_days") else "date"
    if kind == Kind.BOOLEAN:
        return "boolean"
    if kind in (Kind.STATUS, Kind.STAGE):
        return "multi-choice" if op in LIST_OPS else "choice"
    if kind == Kind.TAG:
        return "tags" if op in LIST_OPS else "tag"
    if kind == Kind.GROUP:
        return "group"
    if kind == Kind.SEGMENT:
        return "segment"
    if kind == Kind.CUSTOM and op in ("gt", "gte", "lt", "lte"):
        return "decimal"
    if kind == Kind.CUSTOM and op in ("before", "after"):
        return "date"
    return "list" if op in LIST_OPS else "text"


def errors_by_node(rule_errors: list) -> dict[str, list[str]]:
    """Map parse_filter's paths (`rules[2].rules[0].value`) to builder rows (`r.2.0`)."""
    mapped: dict[str, list[str]] = {}
    for error in rule_errors:
        indexes = re.findall(r"(?:rules|conditions)\[(\d+)\]", error.path)
        node = ".".join([ROOT, *indexes])
        mapped.setdefault(node, []).append(error.message)
    return mapped


FIELD_CHOICES: list[tuple[str, str]] = [(f.name, f.label) for f in FIELDS.values()] + [
    (CUSTOM_CHOICE, "Custom field…")
]


def encode_tree(tree: dict, path: str = ROOT) -> dict[str, list[str]]:
    """The form fields for a canonical tree: what a browser would post (tests, bench)."""
    data: dict[str, list[str]] = {
        f"{path}.kind": ["group"],
        f"{path}.match": [tree.get("match", "all")],
    }
    if tree.get("negate"):
        data[f"{path}.negate"] = ["on"]
    for index, rule in enumerate(tree.get("rules", [])):
        child = f"{path}.{index}"
        if "rules" in rule:
            data.update(encode_tree(rule, child))
            continue
        data[f"{child}.kind"] = ["condition"]
        name = rule["field"]
        if name.startswith(CUSTOM_PREFIX):
            data[f"{child}.field"] = [CUSTOM_CHOICE]
            data[f"{child}.custom"] = [name[len(CUSTOM_PREFIX) :]]
        else:
            data[f"{child}.field"] = [name]
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
