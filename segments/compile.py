"""Compile a canonical rule tree to one `Q` over Contact.

Every condition compiles to a predicate that is never NULL (columns are NOT
NULL, nullable ones are guarded), so NOT is an exact complement in SQL's
three-valued logic: `not_contains`, `neq` and negated groups match exactly
the contacts their positive form does not (docs/design.md#negation).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    BooleanField,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    Field,
    Func,
    JSONField,
    OuterRef,
    Q,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import (
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IExact,
    LessThan,
    LessThanOrEqual,
    Lookup,
)

from contacts.models import GroupMembership, Tag
from contacts.selectors import contact_status_q

from .rules.errors import RuleError, RuleErrors
from .rules.fields import CUSTOM_PREFIX, FIELDS, Kind
from .rules.parse import parse_filter
from .rules.values import parse_timestamp

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

# What these as_sql overrides return: the SQL and its parameters.
_Sql = tuple[str, tuple[str | int, ...]]

EVERYBODY = Q(pk__isnull=False)
NOBODY = Q(pk__isnull=True)
_NEGATIONS = {
    "not_equals": "equals",
    "not_contains": "contains",
    "not_starts_with": "starts_with",
    "not_in": "in",
    "is_not": "is",
    "none_of": "any_of",
    "not_in_group": "in_group",
    "not_in_segment": "in_segment",
    "is_not_set": "is_set",
    "neq": "eq",
}


class CustomFieldsSql(Func):
    """An expression over `custom_fields` and one text value, written as raw SQL by
    `sql()`: Django has no lookup that sends a JSON key as text or uses
    flock_custom_terms."""

    def __init__(self, value: str):
        super().__init__(F("custom_fields"), Value(value))

    def sql(self, column: str, value: str) -> str:
        raise NotImplementedError

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> _Sql:
        (column, column_params), (value, value_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        return self.sql(column, value), (*column_params, *value_params)


class JsonKey(CustomFieldsSql):
    """custom_fields -> 'name', the key always sent as text: Django's KeyTransform
    would read a name like "2024" as an array index."""

    # Declared as any Field so that JsonKeyText can override it with a TextField.
    output_field: Field = JSONField()
    operator = "->"

    def sql(self, column: str, value: str) -> str:
        return f"({column} {self.operator} {value}::text)"


class JsonKeyText(JsonKey):
    """custom_fields ->> 'name' (text key, as in JsonKey): the value's text form."""

    output_field = TextField()
    operator = "->>"


class JsonNumber(Func):
    """flock_jsonb_number(value): the number a JSON value holds, else NULL (never an error)."""

    function = "flock_jsonb_number"
    output_field = DecimalField()


class JsonTimestamp(Func):
    """flock_jsonb_timestamp(value): the ISO date/datetime a JSON string holds, else NULL."""

    function = "flock_jsonb_timestamp"
    output_field = DateTimeField()


class _Place(Enum):
    """Where a condition sits, which decides the form its test may take."""

    # ANDed straight into the WHERE clause (all-groups down from the top, none
    # negated): PostgreSQL can drive the scan with any index on the condition.
    CONJUNCT = "conjunct"
    # No NOT above it, under an `any`: a NULL leaves the row out as false would (AND
    # and OR never make true of NULL), so the test may be bare, in the form an index
    # is built on, and PostgreSQL can OR indexes together (a BitmapOr).
    POSITIVE = "positive"
    # Under a NOT: the test must never be NULL (docs/design.md#negation).
    NEGATED = "negated"


def compile_filter(tree: dict, *, now: dt.datetime) -> Q:
    return _Compiler(now=now).group(tree)


class _Compiler:
    def __init__(self, *, now: dt.datetime):
        self.now = now
        self.seen: frozenset[int] = frozenset()  # segments being expanded (cycle guard)
        self.trees: dict[int, dict | None] = {}  # each referenced segment read once
        # Conditions after expanding in_segment references: each segment is within
        # the limit, but chains of references could multiply them without end.
        self.budget = 10 * settings.SEGMENT_MAX_CONDITIONS

    def group(self, node: dict, *, place: _Place = _Place.CONJUNCT) -> Q:
        if node.get("negate"):
            place = _Place.NEGATED
        elif place is _Place.CONJUNCT and node["match"] == "any":
            place = _Place.POSITIVE
        parts = [
            self.group(rule, place=place) if "rules" in rule else self.condition(rule, place=place)
            for rule in node["rules"]
        ]
        q = _combine(parts, node["match"])
        return ~q if node.get("negate") else q

    def condition(self, rule: dict, *, place: _Place = _Place.NEGATED) -> Q:
        self.budget -= 1
        if self.budget < 0:
            raise RuleErrors(
                [
                    RuleError(
                        "rules",
                        "The segments used here expand to more than "
                        f"{10 * settings.SEGMENT_MAX_CONDITIONS} conditions; simplify them.",
                    )
                ]
            )
        op = rule["op"]
        if op in _NEGATIONS:
            return ~self.condition({**rule, "op": _NEGATIONS[op]})
        name = rule["field"]
        value = rule.get("value")
        if name.startswith(CUSTOM_PREFIX):
            return self.custom(name[len(CUSTOM_PREFIX) :], op, value, place=place)
        field = FIELDS[name]
        if field.kind is Kind.SEGMENT:
            return self._segment(value, place=place)
        handler = getattr(self, f"_{field.kind.value}")
        return handler(field.column, op, value)

    # -- one method per kind --------------------------------------------------

    def _text(self, column: str, op: str, value: Any) -> Q:
        if op == "equals":
            return Q(**{f"{column}__iexact": value})
        if op == "contains":
            return Q(**{f"{column}__icontains": value})
        if op == "starts_with":
            return Q(**{f"{column}__istartswith": value})
        if op == "ends_with":
            return Q(**{f"{column}__iendswith": value})
        if op == "in":
            return _combine([Q(**{f"{column}__iexact": item}) for item in value], "any")
        if op == "is_set":
            return ~Q(**{column: ""})
        raise AssertionError(op)

    def _status(self, column: str, op: str, value: Any) -> Q:
        values = value if op == "in" else [value]
        return _combine([contact_status_q(status) for status in values], "any")

    def _stage(self, column: str, op: str, value: Any) -> Q:
        return Q(**{f"{column}__in": value if op == "in" else [value]})

    def _tag(self, column: str, op: str, value: Any) -> Q:
        if op == "all_of":
            return _combine([_has_any_tag([name]) for name in value], "all")
        return _has_any_tag(value if op == "any_of" else [value])

    def _group(self, column: str, op: str, value: Any) -> Q:
        return Q(Exists(GroupMembership.objects.filter(contact_id=OuterRef("pk"), group_id=value)))

    def _segment(self, value: Any, *, place: _Place) -> Q:
        from segments.models import ContactSegment

        if value in self.seen:
            raise RuleErrors([RuleError("rules", "These segments use each other (cycle).")])
        if value not in self.trees:
            filter_json = (
                ContactSegment.objects.filter(pk=value)
                .values_list("filter_json", flat=True)
                .first()
            )
            # Deleted since validation: like an unknown tag, it matches nobody.
            self.trees[value] = None if filter_json is None else parse_filter(filter_json)
        tree = self.trees[value]
        if tree is None:
            return NOBODY
        outer, self.seen = self.seen, self.seen | {value}
        try:
            return self.group(tree, place=place)
        finally:
            self.seen = outer

    def _integer(self, column: str, op: str, value: Any) -> Q:
        if op == "between":
            return Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
        lookup = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}[op]
        return Q(**{f"{column}__{lookup}": value})

    def _timestamp(self, column: str, op: str, value: Any) -> Q:
        if op == "is_set":
            return Q(**{f"{column}__isnull": False})
        lookup, bound = _time_bound(op, value, self.now)
        # Explicit guard: the column is nullable, and a NULL must not leak into NOT.
        return Q(**{f"{column}__isnull": False, f"{column}__{lookup}": bound})

    def _boolean(self, column: str, op: str, value: Any) -> Q:
        return Q(**{column: value})

    def custom(self, name: str, op: str, value: Any, *, place: _Place = _Place.NEGATED) -> Q:
        # A missing key or a value of another kind makes the comparison NULL (never
        # an error). Under a NOT it is wrapped in COALESCE(…, false), so that NOT gives
        # true; elsewhere it stays bare, in the form of the expression index each
        # registered field has (contacts/db.py: custom_field_indexes).
        # Values are scalars (Contact validates custom_fields), so ->> is the text form.
        def test(comparison) -> Q:
            return _true(comparison) if place is _Place.NEGATED else Q(comparison)

        text = JsonKeyText(name)
        if op == "is_set":
            return test(NotEqual(text, Value("")))
        if op == "equals":
            equal = test(IExact(text, _text_form(value)))
            if place is not _Place.CONJUNCT:
                return equal
            # Index-served (contact_custom_terms_gin) where it can drive the scan, for
            # fields nobody registered too. Not under an `any`: there PostgreSQL tests
            # the whole OR again on each row its bitmap found, and flock_custom_terms()
            # on each of them cost B8 1.4 s. The cheap test comes first so that, when
            # PostgreSQL filters rows instead, the terms function runs only on rows
            # that match anyway.
            return equal & Q(HasCustomTerm(name, _text_form(value)))
        if op == "contains":
            return test(IContains(text, _text_form(value)))
        if op in ("gt", "gte", "lt", "lte"):
            number = JsonNumber(JsonKey(name))
            compare = _COMPARE[op]
            return test(compare(number, Value(Decimal(str(value)), DecimalField())))
        if op in ("before", "after"):
            stamp = JsonTimestamp(JsonKey(name))
            lookup, bound = _time_bound(op, value, self.now)
            return test(_COMPARE[lookup](stamp, Value(bound, DateTimeField())))
        raise AssertionError(op)


_COMPARE = {
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}


class NotEqual(Lookup):
    lookup_name = "ne"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> _Sql:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <> {rhs}", (*lhs_params, *rhs_params)


class HasCustomTerm(CustomFieldsSql):
    """`customField:<name> equals <value>` through contact_custom_terms_gin.

    flock_custom_terms(custom_fields) (migration contacts 0004) lists every
    set value as UPPER(name || U+001F || text form); containment of one such
    term is case-insensitive text-form equality, exact and index-served.
    """

    output_field = BooleanField()

    def __init__(self, name: str, text: str):
        super().__init__(f"{name}\x1f{text}")

    def sql(self, column: str, value: str) -> str:
        return f"flock_custom_terms({column}) @> ARRAY[UPPER({value})]"


def _true(comparison) -> Q:
    """The comparison where it holds, false where it is false or NULL."""
    return Q(Coalesce(comparison, Value(False), output_field=BooleanField()))


def _combine(parts: list[Q], match: str) -> Q:
    """AND ("all") or OR ("any") of the parts; all of none is everybody, any of none nobody."""
    if not parts:
        return EVERYBODY if match == "all" else NOBODY
    q = parts[0]
    for part in parts[1:]:
        q = q & part if match == "all" else q | part
    return q


def _has_any_tag(names: list[str]) -> Q:
    """Contacts with at least one tag named (case-insensitively) in `names`.

    `tag_ids && ARRAY(SELECT id FROM tag WHERE …)`: the tag lookup is an
    InitPlan evaluated once, and the overlap test uses contact_tag_ids_gin.
    An unknown name gives an empty array, which overlaps nothing.
    """
    named = Q()
    for name in names:
        named |= Q(name__iexact=name)
    return Q(tag_ids__overlap=ArraySubquery(Tag.objects.filter(named).values("pk")))


def _time_bound(op: str, value: Any, now: dt.datetime) -> tuple[str, dt.datetime]:
    """(lookup, bound) for the four time operators (docs/design.md#time)."""
    if op == "within_days":
        return "gte", now - dt.timedelta(days=value)
    if op == "older_than_days":
        return "lt", now - dt.timedelta(days=value)
    moment = parse_timestamp(value)
    if op == "before":
        return "lt", moment
    if len(value) == 10:  # `after` a bare date: after that whole day
        if moment.date() == dt.date.max:
            return "gt", dt.datetime.max.replace(tzinfo=dt.UTC)  # nothing is after 9999
        return "gte", moment + dt.timedelta(days=1)
    return "gt", moment


def _text_form(value: Any) -> str:
    """How a JSON value reads as text: 5 → "5", true → "true" (docs/design.md#custom-fields)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
