"""Hypothesis strategies for contacts, canonical rule trees and arbitrary JSON.

Text is kept to ASCII (letters, digits, space and ``% _ \\ '``) so that
Python's ``str.upper`` and PostgreSQL's ``UPPER`` agree, while the LIKE
metacharacters and quotes still get exercised. Timestamps cluster around the
boundaries that ``within_days``/``older_than_days``/``before``/``after`` draw
(exact days before NOW, midnights, plus or minus a microsecond).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from .reference import (
    CUSTOM_PREFIX,
    FIELD_OPS,
    LIFECYCLE_STAGES,
    NEGATION_OF,
    STATUSES,
    TEXT_FIELDS,
    TIMESTAMP_FIELDS,
    ops_for,
)

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
NOW_MIDNIGHT = datetime(2026, 3, 15, tzinfo=UTC)

ALPHABET = string.ascii_letters + string.digits + " %_\\'"
FRAGMENTS = (
    "a",
    "A",
    "b",
    "Ab",
    "inc",
    "INC",
    "Inc",
    "acme",
    "Acme",
    "co",
    "x y",
    "%",
    "_",
    "\\",
    "'",
    "50%",
    "a_c",
    "o'neil",
    "5",
    "pro",
    "PRO",
    "London",
    "lon",
    "DON",
)
CUSTOM_KEYS = ("plan", "seats", "renewal", "vip")
CONDITION_CUSTOM_KEYS = (*CUSTOM_KEYS, "ghost")
TAG_POOL = ("VIP", "beta", "Churned", "50%_off")
UNKNOWN_TAGS = ("ghost", "vi_", "VI%", "50%")
GROUP_POOL = ("Board", "Newsletter", "Dormant")

CASES = (str, str.upper, str.lower, str.title, str.swapcase)


def recase(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """The same text in a random letter case."""
    return st.tuples(strategy, st.sampled_from(CASES)).map(lambda pair: pair[1](pair[0]))


# --- contacts -------------------------------------------------------------------

fragment_text = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=3).map("".join)

#: A contact's text column: often empty, sometimes only a space, else fragments.
contact_texts = st.one_of(
    st.just(""),
    st.just(" "),
    recase(fragment_text),
    st.text(alphabet=ALPHABET, max_size=8),
    # spaces around the words, so that `name` trimming and `equals` get tested
    st.builds(lambda t: f" {t} ", fragment_text),
)

#: Instants on and around the edges the timestamp rules draw.
instants = st.builds(
    lambda base, days, micros: base + timedelta(days=days, microseconds=micros),
    st.sampled_from([NOW, NOW_MIDNIGHT]),
    st.integers(-400, 30),
    st.sampled_from([0, 0, 0, 1, -1, 3_600_000_000, -1_000_000]),
)
whole_instants = st.builds(
    lambda base, days: base + timedelta(days=days),
    st.sampled_from([NOW, NOW_MIDNIGHT]),
    st.integers(-400, 30),
)

PLUS_TWO = timezone(timedelta(hours=2))
MINUS_FIVE = timezone(timedelta(hours=-5))


def render_instant(moment: datetime, form: str) -> str:
    if form == "date":
        return moment.date().isoformat()
    if form == "Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == "naive":
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if form == "+02:00":
        return moment.astimezone(PLUS_TWO).isoformat()
    if form == "-05:00":
        return moment.astimezone(MINUS_FIVE).isoformat()
    raise ValueError(form)


#: A valid ISO date or datetime string, as a condition's before/after value.
date_strings = st.builds(
    render_instant,
    whole_instants,
    st.sampled_from(["date", "date", "Z", "naive", "+02:00", "-05:00"]),
)
INVALID_DATE_STRINGS = (
    "2026-02-30",
    "soon",
    "2026-13-01",
    "2026-3-1",
    "2026-03-01T25:00:00",
    "yesterday",
    "",
)

custom_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 1000),
    st.sampled_from([0, 5, 50, 100]),
    st.sampled_from(["", " ", "5", "50", "true", "TRUE", "false", "pro", "Pro", " pro"]),
    recase(fragment_text),
    date_strings,
    st.sampled_from(INVALID_DATE_STRINGS),
    # valid for Python's ISO parser but beyond what PostgreSQL's own parser takes
    st.sampled_from(
        ["2026-03-14T12:00:00+23:59", "2026-03-14T12:00:00-16:00", "2026-03-14T24:00:00"]
    ),
)
custom_field_dicts = st.dictionaries(st.sampled_from(CUSTOM_KEYS), custom_values, max_size=4)


@st.composite
def contacts(
    draw,
    tag_names: Sequence[str] = TAG_POOL,
    group_ids: Sequence[int] = (),
) -> dict:
    """One contact row (without id) in the shape the reference evaluator reads."""
    is_bounced = draw(st.booleans())
    return {
        "email": draw(recase(fragment_text))
        + "@"
        + draw(st.sampled_from(["example.com", "A_C.io"])),
        "first_name": draw(contact_texts),
        "last_name": draw(contact_texts),
        "company": draw(contact_texts),
        "job_title": draw(contact_texts),
        "country": draw(contact_texts),
        "city": draw(contact_texts),
        "source": draw(contact_texts),
        "lead_score": draw(st.one_of(st.integers(0, 100), st.sampled_from([0, 69, 70, 71, 100]))),
        "lifecycle_stage": draw(st.sampled_from(LIFECYCLE_STAGES)),
        "last_interacted_at": draw(st.one_of(st.none(), instants)),
        "created_at": draw(instants),
        "is_bounced": is_bounced,
        "is_unsubscribed": draw(st.booleans()),
        "custom_fields": draw(custom_field_dicts),
        "tags": draw(st.lists(st.sampled_from(list(tag_names)), max_size=3, unique=True))
        if tag_names
        else [],
        "groups": draw(st.lists(st.sampled_from(list(group_ids)), max_size=3, unique=True))
        if group_ids
        else [],
    }


def _unique_emails(rows: list[dict]) -> list[dict]:
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row["email"].lower() in seen:
            local, _, domain = row["email"].partition("@")
            row["email"] = f"{local}+{i}@{domain}"
        seen.add(row["email"].lower())
    return rows


def contact_lists(
    tag_names: Sequence[str] = TAG_POOL,
    group_ids: Sequence[int] = (),
    min_size: int = 0,
    max_size: int = 8,
) -> st.SearchStrategy[list[dict]]:
    return st.lists(contacts(tag_names, group_ids), min_size=min_size, max_size=max_size).map(
        _unique_emails
    )


# --- canonical trees --------------------------------------------------------------


@dataclass(frozen=True)
class TreeContext:
    """What a generated tree may refer to: existing tags, groups and segments."""

    tag_names: tuple[str, ...] = TAG_POOL
    groups: tuple[tuple[int, str], ...] = ()  # (id, name)
    segment_ids: tuple[int, ...] = ()
    #: extra text that condition values are drawn from (e.g. the contacts' own values)
    vocabulary: tuple[str, ...] = field(default=())

    def fields(self) -> list[str]:
        names = [name for name in FIELD_OPS if name not in ("group", "segment")]
        if self.groups:
            names.append("group")
        if self.segment_ids:
            names.append("segment")
        names += [CUSTOM_PREFIX + key for key in CONDITION_CUSTOM_KEYS]
        return names


def _clean_value(text: str) -> str | None:
    """Condition values: non-empty, no spaces at either end (those may be trimmed)."""
    text = text.strip(" ")
    return text or None


def condition_texts(ctx: TreeContext) -> st.SearchStrategy[str]:
    sources = [
        recase(fragment_text),
        st.text(alphabet=ALPHABET, min_size=1, max_size=4),
    ]
    if ctx.vocabulary:
        vocab = st.sampled_from(ctx.vocabulary)
        sources.append(recase(vocab))
        # a piece of a real value, so that contains/starts_with/ends_with hit
        sources.append(
            st.tuples(vocab, st.integers(0, 20), st.integers(1, 20)).map(
                lambda t: t[0][t[1] : t[1] + t[2]]
            )
        )
    return st.one_of(sources).map(_clean_value).filter(lambda v: v is not None)


def _text_value(ctx: TreeContext, op: str) -> st.SearchStrategy:
    if op in ("in", "not_in"):
        return st.lists(condition_texts(ctx), min_size=1, max_size=3)
    return condition_texts(ctx)


def _enum_value(values: Sequence[str], op: str, mixed_case: bool):
    one = st.sampled_from(values)
    if mixed_case:
        one = recase(one)
    if op in ("in", "not_in"):
        return st.lists(one, min_size=1, max_size=3)
    return one


def _tag_value(ctx: TreeContext, op: str):
    one = recase(st.sampled_from((*ctx.tag_names, *UNKNOWN_TAGS)))
    if op in ("is", "is_not"):
        return one
    return st.lists(one, min_size=1, max_size=3)


def _group_value(ctx: TreeContext):
    return st.sampled_from(ctx.groups).flatmap(
        lambda g: st.one_of(st.just(g[0]), recase(st.just(g[1])))
    )


def _score_value(op: str):
    score = st.one_of(st.integers(0, 100), st.sampled_from([0, 69, 70, 71, 100]))
    if op == "between":
        return st.tuples(score, score).map(lambda t: [min(t), max(t)])
    return score


def _timestamp_value(op: str):
    if op in ("within_days", "older_than_days"):
        return st.one_of(st.integers(0, 400), st.sampled_from([0, 1, 7, 30, 90]))
    return date_strings


def _custom_value(ctx: TreeContext, op: str):
    if op in ("equals", "not_equals"):
        return st.one_of(
            condition_texts(ctx),
            st.sampled_from(["5", "true", "pro", "50"]),
            st.integers(-10, 1000),
            st.booleans(),
        )
    if op in ("contains", "not_contains"):
        return st.one_of(condition_texts(ctx), st.sampled_from(["5", "tru", "pro", "-"]))
    if op in ("gt", "gte", "lt", "lte"):
        return st.one_of(st.integers(-10, 1000), st.sampled_from([0, 5, 50, 100]))
    if op in ("before", "after"):
        return date_strings
    raise ValueError(op)


def value_for(ctx: TreeContext, field_name: str, op: str) -> st.SearchStrategy:
    if op in ("is_set", "is_not_set"):
        raise ValueError("is_set/is_not_set take no value")
    if field_name in TEXT_FIELDS:
        return _text_value(ctx, op)
    if field_name == "status":
        return _enum_value(STATUSES, op, mixed_case=False)
    if field_name == "lifecycleStage":
        return _enum_value(LIFECYCLE_STAGES, op, mixed_case=True)
    if field_name == "tag":
        return _tag_value(ctx, op)
    if field_name == "group":
        return _group_value(ctx)
    if field_name == "segment":
        return st.sampled_from(ctx.segment_ids)
    if field_name == "leadScore":
        return _score_value(op)
    if field_name in TIMESTAMP_FIELDS:
        return _timestamp_value(op)
    if field_name in ("isBounced", "isUnsubscribed"):
        return st.booleans()
    if field_name.startswith(CUSTOM_PREFIX):
        return _custom_value(ctx, op)
    raise ValueError(field_name)


@st.composite
def conditions(
    draw, ctx: TreeContext, ops: Sequence[str] | None = None, also: Sequence[str] = ()
) -> dict:
    """A valid canonical condition; with ``ops``, only those operators, and only on
    fields that also have every operator in ``also``."""
    candidates = [
        name
        for name in ctx.fields()
        if (ops is None or set(ops_for(name)) & set(ops)) and set(also) <= set(ops_for(name))
    ]
    field_name = draw(st.sampled_from(candidates))
    allowed = [op for op in ops_for(field_name) if ops is None or op in ops]
    op = draw(st.sampled_from(allowed))
    cond = {"field": field_name, "op": op}
    if op not in ("is_set", "is_not_set"):
        cond["value"] = draw(value_for(ctx, field_name, op))
    return cond


#: The first operator of every negation pair (docs/design.md#negation).
POSITIVE_OPS = tuple(NEGATION_OF)


def negated(cond: dict) -> dict:
    return {**cond, "op": NEGATION_OF[cond["op"]]}


@st.composite
def trees(
    draw,
    ctx: TreeContext,
    max_depth: int = 3,
    max_conditions: int = 8,
    allow_empty_top: bool = True,
) -> dict:
    """A valid canonical tree: nested groups are never empty, the top one may be."""
    budget = [max_conditions]

    def group(depth: int, top: bool) -> dict:
        if top and allow_empty_top and draw(st.integers(0, 15)) == 15:
            n = 0  # now and then an empty top-level group (all: everybody, any: nobody)
        else:
            n = draw(st.integers(1, max(1, min(3, budget[0]))))
        rules: list[dict] = []
        for _ in range(n):
            if budget[0] <= 0:
                break
            if depth < max_depth and draw(st.integers(0, 3)) == 0:
                rules.append(group(depth + 1, top=False))
            else:
                budget[0] -= 1
                rules.append(draw(conditions(ctx)))
        return {
            "match": draw(st.sampled_from(["all", "any"])),
            "negate": draw(st.booleans()),
            "rules": rules,
        }

    return group(1, top=True)


def count_conditions(tree) -> int:
    if isinstance(tree, dict) and "rules" in tree:
        return sum(count_conditions(rule) for rule in tree["rules"])
    return 1


# --- arbitrary and near-valid JSON -------------------------------------------------

RULE_WORDS = ("match", "rules", "negate", "field", "op", "value", "all", "any")
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-5, 200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [*RULE_WORDS, *FIELD_OPS, "customField:", "customField:plan", "lead_score", ">=", "≥"]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(RULE_WORDS), st.text(max_size=6)), children, max_size=4
        ),
    ),
    max_leaves=20,
)

_ALL_OPS = sorted(
    {op for ops in FIELD_OPS.values() for op in ops} | {"=", ">=", "≤", "olderThanDays"}
)


def _nodes(tree, path=()):
    """Every (path, node) of a JSON tree, containers and leaves."""
    yield path, tree
    if isinstance(tree, dict):
        for key, child in tree.items():
            yield from _nodes(child, (*path, key))
    elif isinstance(tree, list):
        for i, child in enumerate(tree):
            yield from _nodes(child, (*path, i))


def _set_at(tree, path, new):
    if not path:
        return new
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return tree


#: Values that are easy to get wrong between Python and PostgreSQL.
HOSTILE_VALUES = (
    10**30,
    2**63,
    -1,
    101,
    1.5,
    "",
    " ",
    [],
    [1],
    [5, 1],
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T01:00:00+05:00",
    "\x00",
    "a\x00b",
    ["a\x00b"],
    "%",
    "_",
    "\\",
    "'; --",
)


@st.composite
def mutated_trees(draw, ctx: TreeContext):
    """A valid tree with one to three things broken (or merely odd)."""
    import copy

    tree = copy.deepcopy(draw(trees(ctx)))
    for _ in range(draw(st.integers(1, 3))):
        nodes = list(_nodes(tree))
        conditions_ = [(p, n) for p, n in nodes if isinstance(n, dict) and "field" in n]
        if conditions_ and draw(st.booleans()):
            path, node = draw(st.sampled_from(conditions_))  # most bugs live in values
        else:
            path, node = draw(st.sampled_from(nodes))
        kind = draw(
            st.sampled_from(
                [
                    "replace",
                    "drop_key",
                    "field",
                    "op",
                    "value",
                    "hostile",
                    "hostile",
                    "text",
                    "text",
                    "match",
                    "negate",
                    "deepen",
                    "widen",
                    "bare",
                ]
            )
        )
        if kind == "replace":
            tree = _set_at(tree, path, draw(json_values))
        elif kind == "drop_key" and isinstance(node, dict) and node:
            del node[draw(st.sampled_from(sorted(node)))]
        elif kind == "field" and isinstance(node, dict):
            node["field"] = draw(
                st.one_of(
                    st.sampled_from(ctx.fields()).map(lambda f: f[:-1]),
                    st.sampled_from(["lead_score", "created_at", "customField:", "tags", "Email"]),
                    st.text(max_size=8),
                )
            )
        elif kind == "op" and isinstance(node, dict):
            node["op"] = draw(st.one_of(st.sampled_from(_ALL_OPS), st.text(max_size=5)))
        elif kind == "value" and isinstance(node, dict):
            node["value"] = draw(
                st.one_of(
                    json_values,
                    st.integers(),
                    st.sampled_from(HOSTILE_VALUES),
                )
            )
        elif kind == "hostile" and isinstance(node, dict):
            node["value"] = draw(st.sampled_from(HOSTILE_VALUES))
        elif kind == "text" and isinstance(node, dict):
            # any unicode at all, NUL included, where a text is expected
            text = st.text(max_size=6)
            node["value"] = draw(st.one_of(text, st.lists(text, min_size=1, max_size=2)))
        elif kind == "match" and isinstance(node, dict):
            node["match"] = draw(json_scalars)
        elif kind == "negate" and isinstance(node, dict):
            node["negate"] = draw(json_scalars)
        elif kind == "deepen":
            for _ in range(draw(st.integers(1, 7))):
                tree = {"match": "all", "rules": [tree]}
        elif kind == "widen" and isinstance(node, dict) and "rules" in node:
            if isinstance(node["rules"], list) and node["rules"]:
                node["rules"] = node["rules"] * draw(st.integers(2, 60))
        elif kind == "bare" and isinstance(tree, dict) and "rules" in tree:
            tree = tree["rules"]
    return tree


# --- putting generated contacts into the database ------------------------------------


def insert_contacts(rows: list[dict], tag_ids: dict[str, int]) -> list[dict]:
    """bulk_create the rows (plus their tags and group memberships); set each row's id."""
    from contacts.models import Contact, ContactTag, GroupMembership

    columns = [{k: v for k, v in row.items() if k not in ("id", "tags", "groups")} for row in rows]
    created = Contact.objects.bulk_create([Contact(**cols) for cols in columns])
    for row, contact in zip(rows, created, strict=True):
        row["id"] = contact.pk
    ContactTag.objects.bulk_create(
        [
            ContactTag(contact_id=row["id"], tag_id=tag_ids[name])
            for row in rows
            for name in row["tags"]
        ]
    )
    GroupMembership.objects.bulk_create(
        [
            GroupMembership(contact_id=row["id"], group_id=gid)
            for row in rows
            for gid in row["groups"]
        ]
    )
    return rows


def delete_contacts(rows: list[dict]) -> None:
    from contacts.models import Contact

    Contact.objects.filter(pk__in=[row["id"] for row in rows if "id" in row]).delete()


#: Per kind of operator, values that are easy to get wrong between Python and PostgreSQL
#: (out-of-range dates and numbers, NUL characters, LIKE metacharacters, huge ids).
_HOSTILE_DATES = (
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T01:00:00+05:00",
    "2026-02-30",
    "2026-02-29",
    "2024-02-29",
    "0000-01-01",
    "10000-01-01",
    "2026-03-14T24:00:00",
    "2026-03-14T23:59:60Z",
    "2026-03-14T12:00:00+23:59",
    "2026-03-14T12:00:00+16:00",
    "2026-03-14T12:00:00-16:00",
    "a\x00b",
)
_HOSTILE_TEXTS = ("\x00", "a\x00b", "%", "_", "\\", "'; --", "x" * 5000, "ß", "İ", "ﬃ")
_HOSTILE_NUMBERS = (2**31, 2**63, 10**30, -(2**63), 1e308, -1e308, 1.5, True, -1, 101)
HOSTILE_BY_KIND: dict[str, tuple] = {
    "date": _HOSTILE_DATES,
    "days": (36500, 36501, 2**31, 2**63, 10**30, -1, 1.5, True, "7"),
    "score": (*_HOSTILE_NUMBERS, [0, 2**63], [2**63, 0], [True, False]),
    "text": _HOSTILE_TEXTS,
    "texts": (["a\x00b"], [""], ["x"] * 1000, [None], [["x"]], ["%", "_"]),
    "tag": (*_HOSTILE_TEXTS, ["a\x00b"], ["vip", "\x00"]),
    "group": ("a\x00b", 2**31, 2**63, 10**30, -1, 0, True, 1.5, "1", ""),
    "segment": (2**31, 2**63, 10**30, -1, 0, True, 1.5, "1", ""),
    "custom_number": _HOSTILE_NUMBERS,
    "custom_text": (*_HOSTILE_TEXTS, *_HOSTILE_NUMBERS),
    "boolean": ("true", "a\x00b", 1, 0, None),
}


def _hostile_kind(field_name: str, op: str) -> str:
    if op in ("before", "after"):
        return "date"
    if op in ("within_days", "older_than_days"):
        return "days"
    if field_name == "leadScore":
        return "score"
    if field_name in ("tag", "group", "segment"):
        return field_name
    if field_name.startswith(CUSTOM_PREFIX):
        return "custom_number" if op in ("gt", "gte", "lt", "lte") else "custom_text"
    if field_name in ("isBounced", "isUnsubscribed"):
        return "boolean"
    return "texts" if op in ("in", "not_in") else "text"


@st.composite
def hostile_conditions(draw, ctx: TreeContext) -> dict:
    """A condition on a real field with a fitting operator and a hostile value."""
    field_name = draw(
        st.one_of(
            st.sampled_from(ctx.fields()),
            st.sampled_from(["customField:a\x00b", "customField:" + "x" * 300, "customField:it's"]),
        )
    )
    op = draw(
        st.sampled_from(
            [op for op in ops_for(field_name) if op not in ("is_set", "is_not_set")] or ["is_set"]
        )
    )
    cond = {"field": field_name, "op": op}
    if op != "is_set":
        cond["value"] = draw(
            st.one_of(
                st.sampled_from(HOSTILE_BY_KIND[_hostile_kind(field_name, op)]),
                st.text(max_size=4),
            )
        )
    return cond


@st.composite
def hostile_trees(draw, ctx: TreeContext) -> dict:
    """One to three hostile conditions among valid ones."""
    rules = draw(
        st.lists(st.one_of(hostile_conditions(ctx), conditions(ctx)), min_size=1, max_size=4)
    )
    rules[0] = draw(hostile_conditions(ctx))  # at least one
    return {"match": draw(st.sampled_from(["all", "any"])), "negate": False, "rules": rules}
