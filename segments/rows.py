"""What the rule builder's template draws: the tree as rows (one per group or
condition), each with its widget, operators and the errors that point at it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from .forms import CUSTOM_CHOICE, ROOT, Registered, RegisteredField, registered_field
from .rules.fields import (
    CUSTOM_OPERATOR_LABELS,
    CUSTOM_OPS,
    CUSTOM_PREFIX,
    FIELDS,
    LIST_OPS,
    OPERATOR_LABELS,
    OPERATORS_BY_KIND,
    VALUELESS_OPS,
    Kind,
)


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
    options: list[str] = dataclasses.field(default_factory=list)  # a registered choice's
    incomplete: bool = False  # left out of the preview until it has a value
    autofocus: bool = False  # the row just added: its field select takes the focus

    @property
    def dom_id(self) -> str:
        """For element ids (htmx out-of-band swaps select by id; dots would not do)."""
        return self.path.replace(".", "-")

    @property
    def is_group(self) -> bool:
        return self.kind == "group"

    @property
    def hint(self) -> str:
        """Why the preview leaves this row out (an error, when there is one, says more)."""
        if self.incomplete and not self.errors:
            return "Incomplete: left out of the preview until it has a value."
        return ""

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


NodeErrors = dict[str, list[tuple[str, str]]]  # row path → [(part, message)]


@dataclass(frozen=True)
class _Draw:
    """What every row of one drawing needs to know."""

    errors: NodeErrors
    incomplete: frozenset[str]
    focus: str | None
    registered: Registered


def build_rows(
    tree: dict,
    errors: NodeErrors,
    *,
    incomplete: frozenset[str] = frozenset(),
    focus: str | None = None,
    registered: Registered | None = None,
) -> Row:
    return _group_row(tree, _Draw(errors, incomplete, focus, registered or {}), ROOT, 1)


def _group_row(tree: dict, draw: _Draw, path: str, depth: int) -> Row:
    row = Row(
        path=path,
        kind="group",
        depth=depth,
        match=tree.get("match", "all") if isinstance(tree.get("match"), str) else "all",
        negate=bool(tree.get("negate")),
        errors=[message for _, message in draw.errors.get(path, [])],
    )
    for index, child in enumerate(tree.get("rules") or []):
        child_path = f"{path}.{index}"
        if isinstance(child, dict) and "rules" in child:
            row.children.append(_group_row(child, draw, child_path, depth + 1))
        elif isinstance(child, dict):
            row.children.append(_condition_row(child, draw, child_path, depth + 1))
    return row


def flatten(row: Row):
    """Every row of the tree, groups before their children."""
    yield row
    for child in row.children:
        yield from flatten(child)


def _condition_row(rule: dict, draw: _Draw, path: str, depth: int) -> Row:
    name = str(rule.get("field") or "")
    op = str(rule.get("op") or rule.get("operator") or "")
    value = rule.get("value", "")
    registered = registered_field(name, draw.registered)
    row = Row(
        path=path,
        kind="condition",
        depth=depth,
        incomplete=path in draw.incomplete,
        autofocus=path == draw.focus,
        **(_typed(registered, op, value) if registered else _untyped(name, op, value)),
    )
    typed = _what_was_typed(row)
    row.errors = [
        f"{message.removesuffix('.')}; {typed}." if part == "value" and typed else message
        for part, message in draw.errors.get(path, [])
    ]
    return row


def _untyped(name: str, op: str, value: Any) -> dict[str, Any]:
    """A contact field's row, or a custom field nobody registered (its name in a box)."""
    custom = ""
    if name.startswith(CUSTOM_PREFIX):
        name, custom = CUSTOM_CHOICE, name[len(CUSTOM_PREFIX) :]
    kind = Kind.CUSTOM if name == CUSTOM_CHOICE else (FIELDS[name].kind if name in FIELDS else None)
    operators = OPERATORS_BY_KIND.get(kind, ()) if kind else ()
    if operators and op not in operators:
        op = operators[0]  # the field changed: start from its first operator
    return {
        "field": name,
        "custom": custom,
        "op": op,
        "value": value,
        "operators": [(o, OPERATOR_LABELS[o]) for o in operators],
        "widget": widget_for(kind, op),
    }


def _typed(field: RegisteredField, op: str, value: Any) -> dict[str, Any]:
    """A registered custom field's row: its type's operators and value input.

    An operator of the language that the type does not offer (a rule the API saved,
    `contains` on a number) is kept and listed, so that opening and saving a segment
    never changes its rules unseen."""
    operators = field.operators
    if op in CUSTOM_OPS and op not in operators:
        operators = (*operators, op)
    elif op not in operators:
        op = operators[0]  # the field changed: start from its first operator
    labels = CUSTOM_OPERATOR_LABELS.get(field.type, {})
    widget = _typed_widget(field, op, value)
    options: list[str] = []
    if widget == "option":
        # The option's own spelling is selected; a value that is no longer an option
        # (options change) is listed too, so that it stays until it is changed.
        spelled = {option.lower(): option for option in field.options}
        shown = "" if value is None else str(value)
        value = spelled.get(shown.lower(), shown)
        options = list(field.options)
        if value and value not in options:
            options.append(value)
    return {
        "field": field.choice,
        "op": op,
        "value": value,
        "operators": [(o, labels.get(o, OPERATOR_LABELS[o])) for o in operators],
        "widget": widget,
        "options": options,
    }


_BARE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _typed_widget(field: RegisteredField, op: str, value: Any) -> str:
    if op in VALUELESS_OPS:
        return "none"
    if op not in field.operators:
        return widget_for(Kind.CUSTOM, op)
    if field.type == "number":
        return "decimal"
    if field.type == "date":
        # A date box shows only YYYY-MM-DD: a date and time (the API's) stays as text.
        bare = value in ("", None) or isinstance(value, str) and _BARE_DATE.fullmatch(value)
        return "date" if bare else "text"
    if field.type == "boolean":
        return "boolean"
    if field.type == "choice":
        return "option"
    return "text"


NUMBER_WIDGETS = frozenset({"number", "days", "between", "decimal"})
_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _what_was_typed(row: Row) -> str:
    """What is wrong with the text in a number box, quoted ('abc' is not a number): the
    rule language only says what it needs, and only the form knows what was typed."""
    if row.widget not in NUMBER_WIDGETS:
        return ""
    for text in [row.low, row.high] if row.widget == "between" else [row.value_text]:
        text = text.strip()
        shown = text if len(text) <= 30 else f"{text[:30]}…"
        if text and not _DECIMAL.fullmatch(text):
            return f"'{shown}' is not a number"
        if text and row.widget != "decimal" and not _WHOLE.fullmatch(text):
            return f"'{shown}' is not a whole number"
    return ""


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


def errors_by_node(rule_errors: list, paths: dict[str, str] | None = None) -> NodeErrors:
    """Map parse_filter's paths (`rules[2].rules[0].value`) to builder rows (`r.2.0`),
    each message with the part it is about (`value`, `op`, …). `paths` maps the rows of
    a part of the tree (the preview's) back to the rows on screen."""
    mapped: NodeErrors = {}
    for error in rule_errors:
        indexes = re.findall(r"(?:rules|conditions)\[(\d+)\]", error.path)
        node = ".".join([ROOT, *indexes])
        if paths:
            node = paths.get(node, node)
        mapped.setdefault(node, []).append((error.path.rpartition(".")[2], error.message))
    return mapped
