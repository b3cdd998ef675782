"""Example-based tests of the rule language, one per field × operator
(docs/design.md#rule-language).

Six hand-made contacts cover the edges: empty text, names with only a first or
a last part, LIKE metacharacters taken literally, a never-interacted contact,
timestamps exactly on the ``within_days``/``older_than_days`` and midnight
boundaries, and custom values of the wrong kind. Every expected set is written
by hand; ``test_reference_agrees_with_the_hand_written_expectation`` checks the
reference evaluator (``reference.py``) against the same table, so the oracle
used by the property tests is itself pinned down by these examples.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from contacts.models import Group, Tag

from .reference import Reference, ReferenceInvalid
from .strategies import NOW, insert_contacts

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
US = timedelta(microseconds=1)
EVERYONE = {"ada", "bob", "cy", "dee", "eve", "fay"}

TAGS = ("VIP", "beta", "churned", "50%_off")
GROUPS = ("Board", "Newsletter", "Dormant")


def _contact(**fields) -> dict:
    row = {
        "first_name": "",
        "last_name": "",
        "company": "",
        "job_title": "",
        "country": "",
        "city": "",
        "source": "",
        "lead_score": 0,
        "lifecycle_stage": "subscriber",
        "last_interacted_at": None,
        "created_at": NOW - 400 * DAY,
        "is_bounced": False,
        "is_unsubscribed": False,
        "custom_fields": {},
        "tags": [],
        "groups": [],
    }
    row.update(fields)
    return row


# NOW is 2026-03-15 12:00 UTC.
CONTACTS: dict[str, dict] = {
    "ada": _contact(
        email="Ada@Example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Acme Inc",
        job_title="CTO",
        country="UK",
        city="London",
        source="webinar-2025",
        lead_score=85,
        lifecycle_stage="customer",
        last_interacted_at=NOW - 10 * DAY,
        created_at=NOW - 400 * DAY,
        custom_fields={"plan": "Pro", "seats": 5, "renewal": "2026-04-01", "trial": True},
        tags=["VIP", "beta"],
        groups=["Board"],
    ),
    # bounced, never interacted, almost everything empty
    "bob": _contact(
        email="bob@globex.io",
        first_name="Bob",
        country="us",
        lead_score=70,
        lifecycle_stage="lead",
        last_interacted_at=None,
        created_at=NOW - 5 * DAY,
        is_bounced=True,
    ),
    # bounced *and* unsubscribed (status: unsubscribed); wrong-kind custom values
    "cy": _contact(
        email="cy_oneil@50pct.org",
        last_name="O'Neil",
        company="50% Off_Deals",
        job_title="Head of Growth",
        country="US",
        city="New York",
        source="Webinar",
        lead_score=0,
        lifecycle_stage="mql",
        last_interacted_at=NOW - 90 * DAY,  # exactly on the 90-day edge
        created_at=NOW - 30 * DAY,
        is_bounced=True,
        is_unsubscribed=True,
        custom_fields={"plan": None, "seats": "5", "renewal": "soon", "trial": "true"},
        tags=["VIP", "50%_off"],
        groups=["Newsletter"],
    ),
    "dee": _contact(
        email="dee@acme-inc.com",
        first_name="Dee",
        last_name="Dee",
        company="ACME INCORPORATED",
        job_title="cto",
        country="",
        city="LONDON",
        source="Partner",
        lead_score=100,
        lifecycle_stage="sql",
        last_interacted_at=NOW - 90 * DAY - US,  # a microsecond past the edge
        created_at=NOW - DAY,
        custom_fields={
            "plan": "enterprise",
            "seats": 50,
            "renewal": "2026-03-15T09:00:00Z",
            "trial": False,
        },
        tags=["churned"],
        groups=["Board", "Newsletter"],
    ),
    "eve": _contact(
        email="eve@abc.example",
        first_name="Eve",
        company="ABC Corp",
        job_title="Growth Lead",
        country="Uk",
        city="london",
        source="webinar",
        lead_score=69,
        lifecycle_stage="subscriber",
        last_interacted_at=NOW,
        created_at=NOW - 90 * DAY,
        is_unsubscribed=True,
        custom_fields={"plan": "", "seats": True, "renewal": "2026-02-30"},
        tags=["beta"],
    ),
    "fay": _contact(
        email="fay@a-c.example",
        first_name="Fay",
        last_name="Smith",
        company="A_C \\ Co",
        country="France",
        city="Paris",
        source="import",
        lead_score=71,
        lifecycle_stage="customer",
        last_interacted_at=datetime(2026, 3, 14, tzinfo=UTC),  # midnight, the day before
        created_at=datetime(2026, 3, 14, tzinfo=UTC) - US,  # last microsecond of the 13th
        custom_fields={"plan": "PRO", "seats": 100, "renewal": "2026-03-16", "trial": "yes"},
        tags=["VIP", "churned"],
        groups=["Newsletter"],
    ),
}


@dataclass(frozen=True)
class Grp:
    """A group referred to by id (resolved when the groups exist)."""

    name: str


@dataclass(frozen=True)
class Seg:
    """A saved segment referred to by id."""

    name: str


def _all(*rules, negate=False):
    return {"match": "all", "negate": negate, "rules": list(rules)}


def _any(*rules, negate=False):
    return {"match": "any", "negate": negate, "rules": list(rules)}


def _c(field, op, *value):
    cond = {"field": field, "op": op}
    if value:
        (cond["value"],) = value
    return cond


# Saved segments, in creation order (later ones may use earlier ones).
SEGMENTS: dict[str, dict] = {
    "Customers": _all(_c("lifecycleStage", "equals", "customer")),
    "High customers": _all(
        _c("segment", "in_segment", Seg("Customers")), _c("leadScore", "gte", 80)
    ),
    "Win-back": _all(_c("lastInteracted", "older_than_days", 90)),
}


def _resolve(value, group_ids: dict[str, int], segment_ids: dict[str, int]):
    if isinstance(value, Grp):
        return group_ids[value.name]
    if isinstance(value, Seg):
        return segment_ids[value.name]
    if isinstance(value, dict):
        return {k: _resolve(v, group_ids, segment_ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, group_ids, segment_ids) for v in value]
    return value


@dataclass
class World:
    ids: dict[str, int]  # contact key -> id
    group_ids: dict[str, int]
    segment_ids: dict[str, int]
    rows: list[dict]

    def resolve(self, tree):
        return _resolve(copy.deepcopy(tree), self.group_ids, self.segment_ids)

    def keys(self, ids) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[i] for i in ids}


@pytest.fixture
def world() -> World:
    from segments.models import ContactSegment

    tag_ids = {name: Tag.objects.create(name=name).pk for name in TAGS}
    group_ids = {name: Group.objects.create(name=name).pk for name in GROUPS}
    rows = []
    for spec in CONTACTS.values():
        row = copy.deepcopy(spec)
        row["groups"] = [group_ids[g] for g in spec["groups"]]
        rows.append(row)
    insert_contacts(rows, tag_ids)
    ids = {key: row["id"] for key, row in zip(CONTACTS, rows, strict=True)}
    segment_ids: dict[str, int] = {}
    for name, tree in SEGMENTS.items():
        segment = ContactSegment.objects.create(
            name=name, filter_json=_resolve(copy.deepcopy(tree), group_ids, segment_ids)
        )
        segment_ids[name] = segment.pk
    return World(ids=ids, group_ids=group_ids, segment_ids=segment_ids, rows=rows)


def matching(world: World, tree, *, now=NOW) -> set[str]:
    from segments.selectors import contacts_matching

    return world.keys(contacts_matching(world.resolve(tree), now=now).values_list("id", flat=True))


def _pure_world() -> tuple[list[dict], Reference, dict[str, int], dict[str, int]]:
    """The same population without a database, for checking the reference itself."""
    group_ids = {name: i for i, name in enumerate(GROUPS, start=1)}
    segment_ids: dict[str, int] = {}
    segments: dict[int, dict] = {}
    for i, (name, tree) in enumerate(SEGMENTS.items(), start=101):
        segments[i] = _resolve(copy.deepcopy(tree), group_ids, segment_ids)
        segment_ids[name] = i
    rows = []
    for i, (key, spec) in enumerate(CONTACTS.items(), start=1):
        row = copy.deepcopy(spec)
        row["groups"] = [group_ids[g] for g in spec["groups"]]
        row["id"] = i
        row["key"] = key
        rows.append(row)
    ref = Reference(
        now=NOW,
        groups={i: name for name, i in group_ids.items()},
        segments=segments,
        tag_names=frozenset(TAGS),
    )
    return rows, ref, group_ids, segment_ids


# --- the field × operator table ---------------------------------------------------------

P = pytest.param
CASES = [
    # text: email
    P(_c("email", "equals", "ada@example.com"), {"ada"}, id="email_equals_ignores_case"),
    P(
        _c("email", "not_equals", "ada@example.com"),
        EVERYONE - {"ada"},
        id="email_not_equals_is_the_rest",
    ),
    P(_c("email", "contains", "ACME"), {"dee"}, id="email_contains_ignores_case"),
    P(_c("email", "starts_with", "cy_"), {"cy"}, id="email_starts_with_prefix"),
    P(_c("email", "starts_with", "c_"), set(), id="email_starts_with_underscore_is_literal"),
    P(
        _c("email", "not_starts_with", "c_"),
        EVERYONE,
        id="email_not_starts_with_underscore_is_literal",
    ),
    P(_c("email", "ends_with", ".EXAMPLE"), {"eve", "fay"}, id="email_ends_with_suffix"),
    P(
        _c("email", "in", ["BOB@GLOBEX.IO", "nobody@x.org"]),
        {"bob"},
        id="email_in_list_ignores_case",
    ),
    P(_c("email", "is_set"), EVERYONE, id="email_is_set_for_everyone"),
    P(_c("email", "is_not_set"), set(), id="email_is_not_set_for_nobody"),
    # text: first / last name
    P(_c("firstName", "equals", "ada"), {"ada"}, id="first_name_equals_ignores_case"),
    P(_c("firstName", "is_set"), EVERYONE - {"cy"}, id="first_name_is_set_skips_empty"),
    P(_c("firstName", "is_not_set"), {"cy"}, id="first_name_is_not_set_finds_empty"),
    P(
        _c("firstName", "not_equals", "bob"),
        EVERYONE - {"bob"},
        id="first_name_not_equals_matches_empty_first_name",
    ),
    P(
        _c("firstName", "not_contains", "e"),
        {"ada", "bob", "cy", "fay"},
        id="first_name_not_contains_matches_empty_first_name",
    ),
    P(_c("lastName", "is_not_set"), {"bob", "eve"}, id="last_name_is_not_set_finds_empty"),
    P(_c("lastName", "equals", "o'neil"), {"cy"}, id="last_name_equals_with_a_quote"),
    P(_c("lastName", "contains", "'"), {"cy"}, id="last_name_contains_a_quote"),
    P(_c("lastName", "ends_with", "EE"), {"dee"}, id="last_name_ends_with_ignores_case"),
    # text: name (first + last, trimmed)
    P(_c("name", "equals", "ada lovelace"), {"ada"}, id="name_equals_first_space_last"),
    P(_c("name", "equals", "bob"), {"bob"}, id="name_equals_first_only_without_trailing_space"),
    P(_c("name", "equals", "o'neil"), {"cy"}, id="name_equals_last_only_without_leading_space"),
    P(_c("name", "contains", "dee dee"), {"dee"}, id="name_contains_across_first_and_last"),
    P(_c("name", "starts_with", "BOB"), {"bob"}, id="name_starts_with"),
    P(
        _c("name", "not_starts_with", "o'"),
        EVERYONE - {"cy"},
        id="name_not_starts_with_last_only_name",
    ),
    P(_c("name", "ends_with", "neil"), {"cy"}, id="name_ends_with"),
    P(_c("name", "in", ["EVE", "fay smith"]), {"eve", "fay"}, id="name_in_whole_names"),
    P(_c("name", "is_set"), EVERYONE, id="name_is_set_with_either_part"),
    P(_c("name", "is_not_set"), set(), id="name_is_not_set_for_nobody"),
    # text: company
    P(_c("company", "contains", "inc"), {"ada", "dee"}, id="company_contains_ignores_case"),
    P(
        _c("company", "not_contains", "inc"),
        {"bob", "cy", "eve", "fay"},
        id="company_not_contains_matches_contacts_without_company",
    ),
    P(_c("company", "equals", "acme inc"), {"ada"}, id="company_equals_whole_value"),
    P(
        _c("company", "not_equals", "acme inc"),
        EVERYONE - {"ada"},
        id="company_not_equals_matches_contacts_without_company",
    ),
    P(_c("company", "contains", "%"), {"cy"}, id="company_contains_percent_is_literal"),
    P(_c("company", "contains", "50%"), {"cy"}, id="company_contains_50_percent_is_literal"),
    P(_c("company", "contains", "_"), {"cy", "fay"}, id="company_contains_underscore_is_literal"),
    P(_c("company", "contains", "a_c"), {"fay"}, id="company_contains_a_underscore_c_skips_abc"),
    P(_c("company", "contains", "\\"), {"fay"}, id="company_contains_backslash_is_literal"),
    P(_c("company", "starts_with", "a"), {"ada", "dee", "eve", "fay"}, id="company_starts_with"),
    P(
        _c("company", "not_starts_with", "a"),
        {"bob", "cy"},
        id="company_not_starts_with_matches_contacts_without_company",
    ),
    P(_c("company", "starts_with", "%"), set(), id="company_starts_with_percent_is_literal"),
    P(_c("company", "ends_with", "co"), {"fay"}, id="company_ends_with"),
    P(_c("company", "ends_with", "_deals"), {"cy"}, id="company_ends_with_underscore_is_literal"),
    P(_c("company", "is_set"), EVERYONE - {"bob"}, id="company_is_set"),
    P(_c("company", "is_not_set"), {"bob"}, id="company_is_not_set_finds_empty_company"),
    P(_c("company", "in", ["acme inc", "ABC CORP"]), {"ada", "eve"}, id="company_in_ignores_case"),
    P(_c("company", "in", ["acme"]), set(), id="company_in_is_whole_value"),
    P(
        _c("company", "not_in", ["acme inc", "abc corp"]),
        {"bob", "cy", "dee", "fay"},
        id="company_not_in_matches_contacts_without_company",
    ),
    # text: job title, country, city, source
    P(_c("jobTitle", "equals", "cto"), {"ada", "dee"}, id="job_title_equals_ignores_case"),
    P(_c("jobTitle", "contains", "growth"), {"cy", "eve"}, id="job_title_contains"),
    P(_c("jobTitle", "is_not_set"), {"bob", "fay"}, id="job_title_is_not_set"),
    P(_c("country", "in", ["uk", "US"]), {"ada", "bob", "cy", "eve"}, id="country_in_ignores_case"),
    P(
        _c("country", "not_in", ["uk", "us"]),
        {"dee", "fay"},
        id="country_not_in_matches_contacts_without_country",
    ),
    P(_c("country", "is_not_set"), {"dee"}, id="country_is_not_set"),
    P(_c("city", "equals", "london"), {"ada", "dee", "eve"}, id="city_equals_ignores_case"),
    P(
        _c("city", "not_equals", "london"),
        {"bob", "cy", "fay"},
        id="city_not_equals_matches_contacts_without_city",
    ),
    P(_c("city", "starts_with", "new"), {"cy"}, id="city_starts_with"),
    P(
        _c("source", "starts_with", "webinar"),
        {"ada", "cy", "eve"},
        id="source_starts_with_ignores_case",
    ),
    P(
        _c("source", "not_starts_with", "webinar"),
        {"bob", "dee", "fay"},
        id="source_not_starts_with_matches_contacts_without_source",
    ),
    P(_c("source", "ends_with", "-2025"), {"ada"}, id="source_ends_with"),
    P(_c("source", "is_not_set"), {"bob"}, id="source_is_not_set"),
    # status (derived)
    P(_c("status", "equals", "active"), {"ada", "dee", "fay"}, id="status_equals_active"),
    P(_c("status", "equals", "bounced"), {"bob"}, id="status_bounced_excludes_unsubscribed"),
    P(
        _c("status", "equals", "unsubscribed"),
        {"cy", "eve"},
        id="status_unsubscribed_wins_over_bounced",
    ),
    P(_c("status", "not_equals", "active"), {"bob", "cy", "eve"}, id="status_not_equals_active"),
    P(_c("status", "in", ["bounced", "unsubscribed"]), {"bob", "cy", "eve"}, id="status_in"),
    P(_c("status", "not_in", ["bounced"]), EVERYONE - {"bob"}, id="status_not_in"),
    # lifecycle stage
    P(_c("lifecycleStage", "equals", "customer"), {"ada", "fay"}, id="lifecycle_stage_equals"),
    P(
        _c("lifecycleStage", "equals", "Customer"),
        {"ada", "fay"},
        id="lifecycle_stage_equals_ignores_case",
    ),
    P(
        _c("lifecycleStage", "not_equals", "customer"),
        {"bob", "cy", "dee", "eve"},
        id="lifecycle_stage_not_equals",
    ),
    P(_c("lifecycleStage", "in", ["MQL", "sql"]), {"cy", "dee"}, id="lifecycle_stage_in"),
    P(
        _c("lifecycleStage", "not_in", ["mql", "sql"]),
        {"ada", "bob", "eve", "fay"},
        id="lifecycle_stage_not_in",
    ),
    # tags
    P(_c("tag", "is", "vip"), {"ada", "cy", "fay"}, id="tag_is_ignores_case"),
    P(_c("tag", "is_not", "VIP"), {"bob", "dee", "eve"}, id="tag_is_not_matches_untagged_contacts"),
    P(_c("tag", "is", "ghost"), set(), id="tag_is_unknown_tag_matches_nobody"),
    P(_c("tag", "is_not", "ghost"), EVERYONE, id="tag_is_not_unknown_tag_matches_everybody"),
    P(_c("tag", "is", "50%_OFF"), {"cy"}, id="tag_is_with_percent_and_underscore"),
    P(_c("tag", "is", "50%"), set(), id="tag_is_whole_name_not_a_pattern"),
    P(_c("tag", "is", "vi_"), set(), id="tag_is_underscore_is_literal"),
    P(_c("tag", "any_of", ["beta", "CHURNED"]), {"ada", "dee", "eve", "fay"}, id="tag_any_of"),
    P(_c("tag", "any_of", ["ghost"]), set(), id="tag_any_of_unknown_matches_nobody"),
    P(_c("tag", "all_of", ["vip", "beta"]), {"ada"}, id="tag_all_of_needs_every_tag"),
    P(
        _c("tag", "all_of", ["vip", "ghost"]),
        set(),
        id="tag_all_of_with_unknown_tag_matches_nobody",
    ),
    P(_c("tag", "all_of", ["vip", "VIP"]), {"ada", "cy", "fay"}, id="tag_all_of_repeated_tag"),
    P(_c("tag", "none_of", ["vip", "beta"]), {"bob", "dee"}, id="tag_none_of"),
    P(_c("tag", "none_of", ["ghost"]), EVERYONE, id="tag_none_of_unknown_matches_everybody"),
    # groups
    P(_c("group", "in_group", Grp("Board")), {"ada", "dee"}, id="group_in_group_by_id"),
    P(_c("group", "in_group", "board"), {"ada", "dee"}, id="group_in_group_by_name_ignores_case"),
    P(
        _c("group", "not_in_group", Grp("Board")),
        {"bob", "cy", "eve", "fay"},
        id="group_not_in_group_by_id",
    ),
    P(_c("group", "in_group", "Newsletter"), {"cy", "dee", "fay"}, id="group_in_group_by_name"),
    P(
        _c("group", "not_in_group", "NEWSLETTER"),
        {"ada", "bob", "eve"},
        id="group_not_in_group_by_name",
    ),
    P(_c("group", "in_group", Grp("Dormant")), set(), id="group_in_empty_group_matches_nobody"),
    P(
        _c("group", "not_in_group", "dormant"),
        EVERYONE,
        id="group_not_in_empty_group_matches_everybody",
    ),
    # segments
    P(_c("segment", "in_segment", Seg("Customers")), {"ada", "fay"}, id="segment_in_segment"),
    P(
        _c("segment", "not_in_segment", Seg("Customers")),
        {"bob", "cy", "dee", "eve"},
        id="segment_not_in_segment",
    ),
    P(
        _c("segment", "in_segment", Seg("High customers")),
        {"ada"},
        id="segment_in_segment_that_uses_a_segment",
    ),
    P(
        _c("segment", "not_in_segment", Seg("High customers")),
        EVERYONE - {"ada"},
        id="segment_not_in_segment_that_uses_a_segment",
    ),
    P(
        _c("segment", "in_segment", Seg("Win-back")),
        {"dee"},
        id="segment_in_segment_uses_the_evaluation_time",
    ),
    P(
        _c("segment", "not_in_segment", Seg("Win-back")),
        EVERYONE - {"dee"},
        id="segment_not_in_segment_includes_never_interacted",
    ),
    # lead score: ada 85, bob 70, cy 0, dee 100, eve 69, fay 71
    P(_c("leadScore", "eq", 70), {"bob"}, id="lead_score_eq"),
    P(_c("leadScore", "neq", 70), EVERYONE - {"bob"}, id="lead_score_neq"),
    P(_c("leadScore", "gt", 70), {"ada", "dee", "fay"}, id="lead_score_gt_is_strict"),
    P(
        _c("leadScore", "gte", 70),
        {"ada", "bob", "dee", "fay"},
        id="lead_score_gte_includes_the_bound",
    ),
    P(_c("leadScore", "lt", 70), {"cy", "eve"}, id="lead_score_lt_is_strict"),
    P(_c("leadScore", "lte", 69), {"cy", "eve"}, id="lead_score_lte_includes_the_bound"),
    P(_c("leadScore", "lte", 0), {"cy"}, id="lead_score_lte_zero"),
    P(_c("leadScore", "eq", 0), {"cy"}, id="lead_score_eq_zero"),
    P(
        _c("leadScore", "between", [69, 71]),
        {"bob", "eve", "fay"},
        id="lead_score_between_is_inclusive",
    ),
    P(_c("leadScore", "between", [100, 100]), {"dee"}, id="lead_score_between_a_single_value"),
    P(_c("leadScore", "between", [0, 100]), EVERYONE, id="lead_score_between_the_whole_range"),
    # last interacted: ada now-10d, bob never, cy now-90d, dee now-90d-1µs, eve now, fay 14th 00:00
    P(
        _c("lastInteracted", "within_days", 90),
        {"ada", "cy", "eve", "fay"},
        id="last_interacted_within_days_includes_the_edge",
    ),
    P(
        _c("lastInteracted", "older_than_days", 90),
        {"dee"},
        id="last_interacted_older_than_days_excludes_the_edge_and_never_interacted",
    ),
    P(
        _c("lastInteracted", "within_days", 0),
        {"eve"},
        id="last_interacted_within_zero_days_is_from_now_on",
    ),
    P(
        _c("lastInteracted", "older_than_days", 0),
        {"ada", "cy", "dee", "fay"},
        id="last_interacted_older_than_zero_days_is_before_now",
    ),
    P(
        _c("lastInteracted", "within_days", 1),
        {"eve"},
        id="last_interacted_within_one_day_is_24_hours",
    ),
    P(_c("lastInteracted", "within_days", 2), {"eve", "fay"}, id="last_interacted_within_two_days"),
    P(
        _c("lastInteracted", "within_days", 36500),
        {"ada", "cy", "dee", "eve", "fay"},
        id="last_interacted_within_many_days_skips_never_interacted",
    ),
    P(
        _c("lastInteracted", "before", "2026-03-14"),
        {"ada", "cy", "dee"},
        id="last_interacted_before_a_date_is_before_its_midnight",
    ),
    P(
        _c("lastInteracted", "after", "2026-03-13"),
        {"eve", "fay"},
        id="last_interacted_after_a_date_is_after_the_whole_day",
    ),
    P(
        _c("lastInteracted", "after", "2026-03-14"),
        {"eve"},
        id="last_interacted_after_a_date_excludes_that_day",
    ),
    P(
        _c("lastInteracted", "after", "2026-03-14T00:00:00Z"),
        {"eve"},
        id="last_interacted_after_a_datetime_is_strict",
    ),
    P(
        _c("lastInteracted", "before", "2026-03-14T01:00:00+01:00"),
        {"ada", "cy", "dee"},
        id="last_interacted_before_a_datetime_with_offset",
    ),
    P(
        _c("lastInteracted", "before", "2026-03-14T00:00:01"),
        {"ada", "cy", "dee", "fay"},
        id="last_interacted_before_a_datetime_without_offset_is_utc",
    ),
    P(
        _c("lastInteracted", "after", "2026-03-15T11:59:59Z"),
        {"eve"},
        id="last_interacted_after_a_datetime",
    ),
    P(_c("lastInteracted", "is_set"), EVERYONE - {"bob"}, id="last_interacted_is_set"),
    P(
        _c("lastInteracted", "is_not_set"),
        {"bob"},
        id="last_interacted_is_not_set_finds_never_interacted",
    ),
    # created at: ada now-400d, bob now-5d, cy now-30d, dee now-1d, eve now-90d,
    # fay 13th 23:59:59.999999
    P(_c("createdAt", "within_days", 7), {"bob", "dee", "fay"}, id="created_at_within_days"),
    P(
        _c("createdAt", "older_than_days", 90),
        {"ada"},
        id="created_at_older_than_days_excludes_the_edge",
    ),
    P(
        _c("createdAt", "within_days", 90),
        EVERYONE - {"ada"},
        id="created_at_within_days_includes_the_edge",
    ),
    P(_c("createdAt", "before", "2026-03-14"), EVERYONE - {"dee"}, id="created_at_before_a_date"),
    P(
        _c("createdAt", "after", "2026-03-13"),
        {"dee"},
        id="created_at_after_a_date_skips_its_last_microsecond",
    ),
    P(
        _c("createdAt", "after", "2026-03-13T23:59:59Z"),
        {"dee", "fay"},
        id="created_at_after_a_datetime",
    ),
    P(_c("createdAt", "is_set"), EVERYONE, id="created_at_is_set"),
    P(_c("createdAt", "is_not_set"), set(), id="created_at_is_not_set"),
    # booleans
    P(_c("isBounced", "equals", True), {"bob", "cy"}, id="is_bounced_true"),
    P(_c("isBounced", "equals", False), {"ada", "dee", "eve", "fay"}, id="is_bounced_false"),
    P(_c("isUnsubscribed", "equals", True), {"cy", "eve"}, id="is_unsubscribed_true"),
    P(
        _c("isUnsubscribed", "equals", False),
        {"ada", "bob", "dee", "fay"},
        id="is_unsubscribed_false",
    ),
    # custom fields: text form
    P(_c("customField:plan", "equals", "pro"), {"ada", "fay"}, id="custom_equals_ignores_case"),
    P(
        _c("customField:plan", "not_equals", "pro"),
        {"bob", "cy", "dee", "eve"},
        id="custom_not_equals_matches_contacts_without_the_field",
    ),
    P(_c("customField:plan", "contains", "pRO"), {"ada", "fay"}, id="custom_contains_ignores_case"),
    P(
        _c("customField:plan", "contains", "PR"),
        {"ada", "dee", "fay"},
        id="custom_contains_a_substring",
    ),
    P(
        _c("customField:plan", "not_contains", "pro"),
        {"bob", "cy", "dee", "eve"},
        id="custom_not_contains_matches_null_empty_and_missing",
    ),
    P(
        _c("customField:plan", "is_set"),
        {"ada", "dee", "fay"},
        id="custom_is_set_skips_null_empty_and_missing",
    ),
    P(
        _c("customField:plan", "is_not_set"),
        {"bob", "cy", "eve"},
        id="custom_is_not_set_finds_null_empty_and_missing",
    ),
    P(
        _c("customField:seats", "equals", "5"),
        {"ada", "cy"},
        id="custom_equals_text_matches_json_number",
    ),
    P(
        _c("customField:seats", "equals", 5),
        {"ada", "cy"},
        id="custom_equals_number_matches_json_text",
    ),
    P(
        _c("customField:seats", "not_equals", 5),
        {"bob", "dee", "eve", "fay"},
        id="custom_not_equals_number",
    ),
    P(
        _c("customField:seats", "equals", "TRUE"),
        {"eve"},
        id="custom_equals_text_matches_json_true",
    ),
    P(
        _c("customField:trial", "equals", True),
        {"ada", "cy"},
        id="custom_equals_true_matches_text_true",
    ),
    P(
        _c("customField:trial", "equals", "false"),
        {"dee"},
        id="custom_equals_text_matches_json_false",
    ),
    P(
        _c("customField:trial", "not_equals", True),
        {"bob", "dee", "eve", "fay"},
        id="custom_not_equals_true",
    ),
    P(
        _c("customField:seats", "contains", "5"),
        {"ada", "cy", "dee"},
        id="custom_contains_in_a_number",
    ),
    P(_c("customField:renewal", "contains", "%"), set(), id="custom_contains_percent_is_literal"),
    P(
        _c("customField:renewal", "contains", "2026-0_-"),
        set(),
        id="custom_contains_underscore_is_literal",
    ),
    # custom fields: numbers (ada 5, cy "5", dee 50, eve true, fay 100)
    P(_c("customField:seats", "gt", 5), {"dee", "fay"}, id="custom_gt_compares_numbers_only"),
    P(_c("customField:seats", "gte", 5), {"ada", "dee", "fay"}, id="custom_gte_skips_numeric_text"),
    P(_c("customField:seats", "lt", 50), {"ada"}, id="custom_lt_is_strict"),
    P(_c("customField:seats", "lte", 100), {"ada", "dee", "fay"}, id="custom_lte_skips_booleans"),
    P(_c("customField:seats", "gt", 0), {"ada", "dee", "fay"}, id="custom_gt_zero_skips_true"),
    P(_c("customField:seats", "lt", 10), {"ada"}, id="custom_lt_is_numeric_not_textual"),
    P(_c("customField:plan", "gt", 0), set(), id="custom_gt_on_text_matches_nobody"),
    P(_c("customField:renewal", "lt", 3000), set(), id="custom_lt_on_dates_matches_nobody"),
    # custom fields: dates (ada 2026-04-01, cy "soon", dee 2026-03-15T09Z, eve 2026-02-30,
    # fay 2026-03-16)
    P(
        _c("customField:renewal", "before", "2026-03-16"),
        {"dee"},
        id="custom_before_a_date_skips_invalid_dates",
    ),
    P(
        _c("customField:renewal", "after", "2026-03-15"),
        {"ada", "fay"},
        id="custom_after_a_date_is_after_the_whole_day",
    ),
    P(
        _c("customField:renewal", "after", "2026-03-15T08:00:00Z"),
        {"ada", "dee", "fay"},
        id="custom_after_a_datetime",
    ),
    P(
        _c("customField:renewal", "before", "2026-03-15T09:00:00Z"),
        set(),
        id="custom_before_a_datetime_is_strict",
    ),
    P(
        _c("customField:renewal", "before", "2027-01-01"),
        {"ada", "dee", "fay"},
        id="custom_before_skips_text_and_impossible_dates",
    ),
    P(
        _c("customField:seats", "before", "2030-01-01"),
        set(),
        id="custom_before_on_numbers_matches_nobody",
    ),
    P(
        _c("customField:plan", "after", "2000-01-01"),
        set(),
        id="custom_after_on_text_matches_nobody",
    ),
    # custom fields: a key nobody has
    P(
        _c("customField:ghost", "equals", "x"),
        set(),
        id="custom_equals_on_missing_key_matches_nobody",
    ),
    P(
        _c("customField:ghost", "not_equals", "x"),
        EVERYONE,
        id="custom_not_equals_on_missing_key_matches_everybody",
    ),
    P(
        _c("customField:ghost", "is_not_set"),
        EVERYONE,
        id="custom_is_not_set_on_missing_key_matches_everybody",
    ),
    P(_c("customField:ghost", "gt", -1000), set(), id="custom_gt_on_missing_key_matches_nobody"),
]


@pytest.mark.parametrize(("condition", "expected"), CASES)
def test_condition_matches_the_expected_contacts(world, condition, expected):
    assert matching(world, _all(condition)) == expected


@pytest.mark.parametrize(("condition", "expected"), CASES)
def test_reference_agrees_with_the_hand_written_expectation(condition, expected):
    rows, ref, group_ids, segment_ids = _pure_world()
    tree = _resolve(_all(condition), group_ids, segment_ids)
    assert {row["key"] for row in rows if ref.matches(row, tree)} == expected


# --- every text field × every text operator ----------------------------------------------
#
# Four contacts differ only in the field under test: "p" has "Acme_50% Inc", "q" has
# "acme", "r" has nothing, "s" has "the ACME co". (For `name` the value is the first
# name and the last name is empty.) The same hand-written table holds for every text field.

TEXT_VALUES = {"p": "Acme_50% Inc", "q": "acme", "r": "", "s": "the ACME co"}
TEXT_BATTERY = [
    ("equals", "ACME", {"q"}, "equals_is_whole_value_ignoring_case"),
    ("not_equals", "acme", {"p", "r", "s"}, "not_equals_matches_contacts_without_a_value"),
    ("contains", "acme", {"p", "q", "s"}, "contains_ignores_case"),
    ("not_contains", "acme", {"r"}, "not_contains_matches_contacts_without_a_value"),
    ("contains", "e_5", {"p"}, "contains_underscore_is_literal"),
    ("contains", "_", {"p"}, "contains_only_underscore_is_literal"),
    ("contains", "0%", {"p"}, "contains_percent_is_literal"),
    ("not_contains", "%", {"q", "r", "s"}, "not_contains_percent_is_literal"),
    ("starts_with", "acme", {"p", "q"}, "starts_with_ignores_case"),
    ("starts_with", "acme_", {"p"}, "starts_with_underscore_is_literal"),
    ("not_starts_with", "acme", {"r", "s"}, "not_starts_with_matches_contacts_without_a_value"),
    ("ends_with", "CO", {"s"}, "ends_with_ignores_case"),
    ("ends_with", "% inc", {"p"}, "ends_with_percent_is_literal"),
    ("in", ["x", "ACME"], {"q"}, "in_is_whole_value_ignoring_case"),
    ("not_in", ["acme", "the acme co"], {"p", "r"}, "not_in_matches_contacts_without_a_value"),
    ("is_set", None, {"p", "q", "s"}, "is_set_skips_empty"),
    ("is_not_set", None, {"r"}, "is_not_set_finds_empty"),
]
TEXT_COLUMNS = {
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "name": "first_name",
    "company": "company",
    "jobTitle": "job_title",
    "country": "country",
    "city": "city",
    "source": "source",
}
TEXT_CASES = [
    P(field_name, op, value, expected, id=f"{field_name}_{name}")
    for field_name in TEXT_COLUMNS
    for op, value, expected, name in TEXT_BATTERY
]


def _text_rows(field_name: str) -> dict[str, dict]:
    rows = {}
    for i, (key, value) in enumerate(TEXT_VALUES.items()):
        row = _contact(
            email=f"k{i}@x.org",
            first_name="zzz",
            last_name="zzz",
            company="zzz",
            job_title="zzz",
            country="zzz",
            city="zzz",
            source="zzz",
        )
        row[TEXT_COLUMNS[field_name]] = value
        if field_name == "name":
            row["last_name"] = ""
        rows[key] = row
    return rows


@pytest.mark.parametrize(("field_name", "op", "value", "expected"), TEXT_CASES)
def test_text_field_operator(field_name, op, value, expected):
    from segments.selectors import contacts_matching

    rows = _text_rows(field_name)
    insert_contacts(list(rows.values()), {})
    cond = _c(field_name, op) if value is None else _c(field_name, op, value)
    ids = set(contacts_matching(_all(cond), now=NOW).values_list("id", flat=True))
    assert {key for key, row in rows.items() if row["id"] in ids} == expected


@pytest.mark.parametrize(("field_name", "op", "value", "expected"), TEXT_CASES)
def test_reference_agrees_with_the_text_battery(field_name, op, value, expected):
    ref = Reference(now=NOW)
    cond = _c(field_name, op) if value is None else _c(field_name, op, value)
    rows = _text_rows(field_name)
    assert {key for key, row in rows.items() if ref.matches(row, _all(cond))} == expected


def test_every_field_and_operator_of_the_spec_table_has_an_example():
    from .reference import CUSTOM_OPS, FIELD_OPS

    wanted = {(f, op) for f, ops in FIELD_OPS.items() for op in ops}
    wanted |= {("customField:*", op) for op in CUSTOM_OPS}
    covered = {(c.values[0], c.values[1]) for c in TEXT_CASES}
    for case in CASES:
        field_name, op = case.values[0]["field"], case.values[0]["op"]
        if field_name.startswith("customField:"):
            field_name = "customField:*"
        covered.add((field_name, op))
    assert wanted - covered == set()


# --- groups ---------------------------------------------------------------------------


def test_match_all_over_no_rules_matches_everybody(world):
    assert matching(world, _all()) == EVERYONE


def test_match_any_over_no_rules_matches_nobody(world):
    assert matching(world, _any()) == set()


def test_negated_empty_all_matches_nobody(world):
    assert matching(world, _all(negate=True)) == set()


def test_nested_groups_combine_all_and_any(world):
    tree = _all(
        _c("tag", "is", "vip"),
        _any(_c("leadScore", "gte", 80), _c("customField:plan", "equals", "pro")),
    )
    assert matching(world, tree) == {"ada", "fay"}


def test_negated_group_matches_exactly_the_other_contacts(world):
    inner = _any(_c("company", "contains", "inc"), _c("lastInteracted", "older_than_days", 30))
    hit = matching(world, _all(inner))
    negated = {**inner, "negate": True}
    assert matching(world, _all(negated)) == EVERYONE - hit
    assert hit == {"ada", "cy", "dee"}


def test_negated_top_level_group(world):
    tree = _all(_c("tag", "is", "vip"), _c("leadScore", "gte", 80), negate=True)
    assert matching(world, tree) == EVERYONE - {"ada"}


def test_the_spec_example_tree(world):
    tree = {
        "match": "all",
        "rules": [
            {"field": "lastInteracted", "op": "older_than_days", "value": 90},
            {"field": "tag", "op": "is", "value": "churned"},
            {
                "match": "any",
                "negate": False,
                "rules": [
                    {"field": "leadScore", "op": "gte", "value": 70},
                    {"field": "customField:plan", "op": "equals", "value": "pro"},
                ],
            },
        ],
    }
    assert matching(world, tree) == {"dee"}


def test_win_back_prefab_leaves_out_never_interacted_contacts(world):
    tree = _all(
        _c("lastInteracted", "older_than_days", 90),
        _c("isBounced", "equals", False),
        _c("isUnsubscribed", "equals", False),
    )
    assert matching(world, tree) == {"dee"}


def test_depth_five_is_allowed(world):
    tree = _c("tag", "is", "vip")
    for _ in range(4):
        tree = _all(tree)
    tree = _all(tree)  # depth 5 counting the top group
    assert matching(world, tree) == {"ada", "cy", "fay"}


def test_fifty_conditions_are_allowed(world):
    tree = _all(*[_c("leadScore", "gte", i) for i in range(50)])
    assert matching(world, tree) == {"ada", "bob", "dee", "eve", "fay"}


# --- time --------------------------------------------------------------------------------


def test_evaluation_time_defaults_to_now(world):
    from segments.selectors import contacts_matching

    with time_machine.travel(NOW, tick=False):
        ids = contacts_matching(_all(_c("lastInteracted", "within_days", 0)))
        assert world.keys(ids.values_list("id", flat=True)) == {"eve"}


def test_within_days_moves_with_the_evaluation_time(world):
    tree = _all(_c("lastInteracted", "within_days", 90))
    assert matching(world, tree, now=NOW) == {"ada", "cy", "eve", "fay"}
    assert matching(world, tree, now=NOW + US) == {"ada", "eve", "fay"}
    assert matching(world, tree, now=NOW - 10 * DAY) == {"ada", "cy", "dee", "eve", "fay"}


def test_older_than_days_moves_with_the_evaluation_time(world):
    tree = _all(_c("lastInteracted", "older_than_days", 90))
    assert matching(world, tree, now=NOW) == {"dee"}
    assert matching(world, tree, now=NOW + US) == {"cy", "dee"}


def test_evaluation_time_in_another_zone_is_the_same_instant(world):
    from datetime import timezone

    tree = _all(_c("lastInteracted", "within_days", 90))
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert matching(world, tree, now=tokyo) == {"ada", "cy", "eve", "fay"}


# --- input forms ---------------------------------------------------------------------------

ALIASES = [
    P(
        {"field": "lead_score", "op": "gte", "value": 70},
        _c("leadScore", "gte", 70),
        id="lead_score_snake_case",
    ),
    P({"field": "leadScore", "op": ">=", "value": 70}, _c("leadScore", "gte", 70), id="gte_as_>="),
    P({"field": "leadScore", "op": "≥", "value": 70}, _c("leadScore", "gte", 70), id="gte_as_≥"),
    P(
        {"field": "lead_score", "op": ">=", "value": 70},
        _c("leadScore", "gte", 70),
        id="lead_score_and_>=",
    ),
    P({"field": "leadScore", "op": "=", "value": 70}, _c("leadScore", "eq", 70), id="eq_as_="),
    P(
        {"field": "leadScore", "op": "equals", "value": 70},
        _c("leadScore", "eq", 70),
        id="eq_as_equals",
    ),
    P(
        {"field": "leadScore", "op": "not_equals", "value": 70},
        _c("leadScore", "neq", 70),
        id="neq_as_not_equals",
    ),
    P(
        {"field": "leadScore", "op": "greater_than", "value": 70},
        _c("leadScore", "gt", 70),
        id="gt_as_greater_than",
    ),
    P(
        {"field": "leadScore", "op": "less_than", "value": 70},
        _c("leadScore", "lt", 70),
        id="lt_as_less_than",
    ),
    P({"field": "leadScore", "op": "<=", "value": 70}, _c("leadScore", "lte", 70), id="lte_as_<="),
    P({"field": "leadScore", "op": "≤", "value": 70}, _c("leadScore", "lte", 70), id="lte_as_≤"),
    P(
        {"field": "lastInteracted", "op": "olderThanDays", "value": 90},
        _c("lastInteracted", "older_than_days", 90),
        id="olderThanDays",
    ),
    P(
        {"field": "lastInteracted", "op": "withinDays", "value": 90},
        _c("lastInteracted", "within_days", 90),
        id="withinDays",
    ),
    P(
        {"field": "last_interacted", "op": "olderThanDays", "value": 90},
        _c("lastInteracted", "older_than_days", 90),
        id="last_interacted_snake_case",
    ),
    P(
        {"field": "created_at", "op": "after", "value": "2026-03-13"},
        _c("createdAt", "after", "2026-03-13"),
        id="created_at_snake_case",
    ),
    P(
        {"field": "is_bounced", "op": "equals", "value": True},
        _c("isBounced", "equals", True),
        id="is_bounced_snake_case",
    ),
    P(
        {"field": "is_unsubscribed", "op": "equals", "value": False},
        _c("isUnsubscribed", "equals", False),
        id="is_unsubscribed_snake_case",
    ),
    P(
        {"field": "first_name", "op": "equals", "value": "ada"},
        _c("firstName", "equals", "ada"),
        id="first_name_snake_case",
    ),
    P(
        {"field": "last_name", "op": "is_not_set"},
        _c("lastName", "is_not_set"),
        id="last_name_snake_case",
    ),
    P(
        {"field": "job_title", "op": "contains", "value": "growth"},
        _c("jobTitle", "contains", "growth"),
        id="job_title_snake_case",
    ),
    P(
        {"field": "lifecycle_stage", "op": "in", "value": ["mql", "sql"]},
        _c("lifecycleStage", "in", ["mql", "sql"]),
        id="lifecycle_stage_snake_case",
    ),
]


@pytest.mark.parametrize(("alias", "canonical"), ALIASES)
def test_alias_input_is_stored_in_canonical_form(world, alias, canonical):
    from segments.rules import parse_filter

    parsed = parse_filter([alias])
    assert parsed == parse_filter(_all(canonical))
    assert parsed["match"] == "all"
    assert parsed["negate"] is False
    assert parsed["rules"][0]["field"] == canonical["field"]
    assert parsed["rules"][0]["op"] == canonical["op"]


@pytest.mark.parametrize(("alias", "canonical"), ALIASES)
def test_alias_input_matches_like_canonical_input(world, alias, canonical):
    assert matching(world, [alias]) == matching(world, _all(canonical))


def test_bare_array_means_match_all(world):
    from segments.rules import parse_filter

    rules = [_c("tag", "is", "vip"), _c("leadScore", "gte", 80)]
    assert matching(world, rules) == {"ada"}
    parsed = parse_filter(rules)
    assert parsed["match"] == "all"
    assert parsed["negate"] is False
    assert parsed == parse_filter(_all(*rules))


def test_empty_bare_array_matches_everybody(world):
    assert matching(world, []) == EVERYONE


def test_negate_defaults_to_false(world):
    from segments.rules import parse_filter

    tree = {"match": "any", "rules": [{"match": "all", "rules": [_c("tag", "is", "vip")]}]}
    parsed = parse_filter(tree)
    assert parsed["negate"] is False
    assert parsed["rules"][0]["negate"] is False
    assert matching(world, tree) == {"ada", "cy", "fay"}


def test_canonical_input_is_a_fixed_point(world):
    from segments.rules import parse_filter

    tree = _all(
        _c("company", "contains", "Inc"),
        _any(
            _c("leadScore", "between", [10, 90]),
            _c("lastInteracted", "within_days", 30),
            _c("customField:plan", "equals", "pro"),
            negate=True,
        ),
        _c("isBounced", "equals", False),
        _c("createdAt", "before", "2026-01-01"),
    )
    assert parse_filter(copy.deepcopy(tree)) == tree
    assert parse_filter(parse_filter(copy.deepcopy(tree))) == tree


def test_parse_filter_does_not_change_its_input(world):
    from segments.rules import parse_filter

    raw = [{"field": "lead_score", "op": ">=", "value": 70}]
    before = copy.deepcopy(raw)
    parse_filter(raw)
    assert raw == before


def test_a_whole_tree_is_one_sql_query(world, django_assert_num_queries):
    from segments.selectors import contacts_matching

    tree = world.resolve(
        _any(
            _all(_c("tag", "all_of", ["vip", "beta"]), _c("group", "in_group", Grp("Board"))),
            _c("segment", "in_segment", Seg("High customers")),
            _c("customField:renewal", "after", "2026-03-15"),
            _c("name", "contains", "dee"),
            _c("lastInteracted", "older_than_days", 90),
            negate=True,
        )
    )
    qs = contacts_matching(tree, now=NOW)
    with django_assert_num_queries(1):
        ids = list(qs.values_list("id", flat=True))
    assert world.keys(ids) == {"bob", "cy", "eve"}


# --- validation ------------------------------------------------------------------------------

INVALID = [
    P(_c("lead_scor", "gte", 5), "rules[0]", id="unknown_field"),
    P(_c("leadScore", "contains", 5), "rules[0]", id="operator_that_does_not_fit_the_field"),
    P(_c("leadScore", "gte", 101), "rules[0]", id="lead_score_above_100"),
    P(_c("leadScore", "gte", -1), "rules[0]", id="lead_score_below_0"),
    P(_c("leadScore", "gte", 7.5), "rules[0]", id="lead_score_not_whole"),
    P(_c("leadScore", "gte", True), "rules[0]", id="lead_score_boolean"),
    P(_c("leadScore", "gte", None), "rules[0]", id="lead_score_null"),
    P(_c("leadScore", "gte"), "rules[0]", id="lead_score_without_value"),
    P(_c("leadScore", "between", [10]), "rules[0]", id="between_one_bound"),
    P(_c("leadScore", "between", [10, 20, 30]), "rules[0]", id="between_three_bounds"),
    P(_c("leadScore", "between", "10-20"), "rules[0]", id="between_text"),
    P(_c("leadScore", "between", [10, 101]), "rules[0]", id="between_above_100"),
    P(_c("lastInteracted", "within_days", -1), "rules[0]", id="within_negative_days"),
    P(_c("lastInteracted", "older_than_days", 1.5), "rules[0]", id="older_than_fractional_days"),
    P(_c("lastInteracted", "within_days", "ten"), "rules[0]", id="within_days_text"),
    P(_c("lastInteracted", "within_days", True), "rules[0]", id="within_days_boolean"),
    P(_c("lastInteracted", "before", "soon"), "rules[0]", id="before_not_a_date"),
    P(_c("lastInteracted", "after", "2026-02-30"), "rules[0]", id="after_impossible_date"),
    P(_c("createdAt", "before", 20260101), "rules[0]", id="before_a_number"),
    P(_c("company", "contains", ""), "rules[0]", id="contains_empty_text"),
    P(_c("company", "equals", ""), "rules[0]", id="equals_empty_text"),
    P(_c("company", "starts_with", ""), "rules[0]", id="starts_with_empty_text"),
    P(_c("company", "ends_with", ""), "rules[0]", id="ends_with_empty_text"),
    P(_c("company", "in", []), "rules[0]", id="in_empty_list"),
    P(_c("company", "not_in", [["acme"]]), "rules[0]", id="not_in_a_list_of_lists"),
    P(_c("company", "gt", 5), "rules[0]", id="text_gt"),
    P(_c("status", "equals", "gone"), "rules[0]", id="unknown_status"),
    P(_c("lifecycleStage", "equals", "prospect"), "rules[0]", id="unknown_lifecycle_stage"),
    P(_c("status", "contains", "act"), "rules[0]", id="status_contains"),
    P(_c("tag", "any_of", []), "rules[0]", id="tag_any_of_empty_list"),
    P(_c("tag", "all_of", []), "rules[0]", id="tag_all_of_empty_list"),
    P(_c("tag", "none_of", []), "rules[0]", id="tag_none_of_empty_list"),
    P(_c("group", "in_group", 987654321), "rules[0]", id="unknown_group_id"),
    P(_c("group", "not_in_group", "No such group"), "rules[0]", id="unknown_group_name"),
    P(_c("segment", "in_segment", 987654321), "rules[0]", id="unknown_segment"),
    P(_c("isBounced", "equals", "banana"), "rules[0]", id="boolean_text"),
    P(_c("customField:renewal", "before", "soon"), "rules[0]", id="custom_before_not_a_date"),
    P(_c("customField:seats", "gt", "many"), "rules[0]", id="custom_gt_text"),
    P(_c("customField:", "equals", "x"), "rules[0]", id="custom_field_without_a_name"),
    P(_c("customField:plan", "contains", ""), "rules[0]", id="custom_contains_empty_text"),
    P(_c("customField:plan", "between", [1, 2]), "rules[0]", id="custom_between"),
    P({"op": "equals", "value": "x"}, "rules[0]", id="condition_without_field"),
    P({"field": "company", "value": "x"}, "rules[0]", id="condition_without_operator"),
    P({"field": "company", "op": "equals"}, "rules[0]", id="condition_without_value"),
    P("company equals acme", "rules[0]", id="condition_as_text"),
    P(None, "rules[0]", id="condition_null"),
    P(_all(), "rules[0]", id="nested_empty_group"),
    P(_any(), "rules[0]", id="nested_empty_any_group"),
    P({"match": "some", "rules": [_c("tag", "is", "vip")]}, "rules[0]", id="nested_unknown_match"),
    P(
        {"match": "all", "negate": "yes", "rules": [_c("tag", "is", "vip")]},
        "rules[0]",
        id="negate_not_a_boolean",
    ),
    P({"match": "all", "rules": {"field": "company"}}, "rules[0]", id="rules_not_a_list"),
]


@pytest.mark.parametrize(("rule", "path_prefix"), INVALID)
def test_invalid_rule_is_a_validation_error(world, rule, path_prefix):
    from segments.rules import RuleErrors, parse_filter
    from segments.selectors import contacts_matching

    tree = {"match": "all", "rules": [rule]}
    with pytest.raises(RuleErrors) as excinfo:
        parse_filter(tree)
    errors = excinfo.value.errors
    assert errors
    for error in errors:
        assert isinstance(error.path, str) and error.path
        assert isinstance(error.message, str) and error.message
    assert any(error.path.startswith(path_prefix) for error in errors), errors
    with pytest.raises(RuleErrors):
        contacts_matching(tree, now=NOW)


@pytest.mark.parametrize(
    "raw",
    [
        P(None, id="null"),
        P(5, id="number"),
        P("all", id="text"),
        P({"match": "most", "rules": []}, id="unknown_match"),
        P({"match": "all", "rules": [], "negate": "no"}, id="negate_text"),
        P([5], id="bare_array_of_numbers"),
    ],
)
def test_invalid_top_level_is_a_validation_error(world, raw):
    from segments.rules import RuleErrors, parse_filter

    with pytest.raises(RuleErrors) as excinfo:
        parse_filter(raw)
    assert excinfo.value.errors
    for error in excinfo.value.errors:
        assert isinstance(error.path, str) and error.path
        assert isinstance(error.message, str) and error.message


def test_error_path_names_the_nested_value(world):
    from segments.rules import RuleErrors, parse_filter

    tree = _all(
        _c("tag", "is", "vip"),
        _c("company", "contains", "inc"),
        _any(_c("leadScore", "gte", 101), _c("company", "contains", "x")),
    )
    with pytest.raises(RuleErrors) as excinfo:
        parse_filter(tree)
    assert [e.path for e in excinfo.value.errors] == ["rules[2].rules[0].value"]
    assert "lead score" in excinfo.value.errors[0].message.lower()


def test_unknown_field_message_names_the_field(world):
    from segments.rules import RuleErrors, parse_filter

    with pytest.raises(RuleErrors) as excinfo:
        parse_filter([_c("lead_scor", "gte", 5)])
    assert any("lead_scor" in e.message for e in excinfo.value.errors)


def test_every_invalid_condition_is_reported(world):
    from segments.rules import RuleErrors, parse_filter

    tree = _all(_c("leadScore", "gte", 101), _c("tag", "is", "vip"), _c("nope", "equals", "x"))
    with pytest.raises(RuleErrors) as excinfo:
        parse_filter(tree)
    paths = [e.path for e in excinfo.value.errors]
    assert any(p.startswith("rules[0]") for p in paths)
    assert any(p.startswith("rules[2]") for p in paths)
    assert not any(p.startswith("rules[1]") for p in paths)


def test_empty_top_level_group_is_accepted_by_parse_filter(world):
    from segments.rules import parse_filter

    assert parse_filter({"match": "any", "rules": []}) == {
        "match": "any",
        "negate": False,
        "rules": [],
    }


def test_depth_six_is_a_validation_error(world):
    from segments.rules import RuleErrors, parse_filter

    tree = _c("tag", "is", "vip")
    for _ in range(6):
        tree = _all(tree)
    with pytest.raises(RuleErrors) as excinfo:
        parse_filter(tree)
    assert any("5" in e.message for e in excinfo.value.errors)


def test_fifty_one_conditions_are_a_validation_error(world):
    from segments.rules import RuleErrors, parse_filter

    with pytest.raises(RuleErrors):
        parse_filter(
            _all(
                *[_c("leadScore", "gte", 1) for _ in range(26)],
                _any(*[_c("tag", "is", "x") for _ in range(25)]),
            )
        )


def test_depth_limit_is_a_setting(world, settings):
    from segments.rules import RuleErrors, parse_filter

    settings.SEGMENT_MAX_DEPTH = 2
    parse_filter(_all(_all(_c("tag", "is", "vip"))))
    with pytest.raises(RuleErrors):
        parse_filter(_all(_all(_all(_c("tag", "is", "vip")))))


def test_condition_limit_is_a_setting(world, settings):
    from segments.rules import RuleErrors, parse_filter

    settings.SEGMENT_MAX_CONDITIONS = 3
    parse_filter(_all(*[_c("tag", "is", "vip")] * 3))
    with pytest.raises(RuleErrors):
        parse_filter(_all(*[_c("tag", "is", "vip")] * 4))


# --- segments referring to segments ------------------------------------------------------------


def test_a_segment_cannot_use_itself(world):
    from segments.rules import RuleErrors, parse_filter

    customers = world.segment_ids["Customers"]
    with pytest.raises(RuleErrors) as excinfo:
        parse_filter([_c("segment", "in_segment", customers)], segment_id=customers)
    assert any(e.path.startswith("rules[0]") for e in excinfo.value.errors)


def test_a_segment_cannot_use_a_segment_that_uses_it(world):
    from segments.rules import RuleErrors, parse_filter

    customers = world.segment_ids["Customers"]
    high = world.segment_ids["High customers"]  # uses Customers
    with pytest.raises(RuleErrors) as excinfo:
        parse_filter([_c("segment", "not_in_segment", high)], segment_id=customers)
    assert any(e.path.startswith("rules[0]") for e in excinfo.value.errors)
    # but the other way round is fine, and so is a new segment
    parse_filter([_c("segment", "in_segment", customers)], segment_id=high)
    parse_filter([_c("segment", "in_segment", high)])


def test_a_stored_cycle_is_a_validation_error_not_a_hang(world):
    from segments.models import ContactSegment
    from segments.rules import RuleErrors
    from segments.selectors import contacts_matching

    first = ContactSegment.objects.create(name="First", filter_json=_all(_c("tag", "is", "vip")))
    second = ContactSegment.objects.create(
        name="Second", filter_json=_all(_c("segment", "in_segment", first.pk))
    )
    ContactSegment.objects.filter(pk=first.pk).update(
        filter_json=_all(_c("segment", "in_segment", second.pk))
    )
    with pytest.raises(RuleErrors):
        contacts_matching([_c("segment", "in_segment", first.pk)], now=NOW)


def test_a_segment_used_twice_is_not_a_cycle(world):
    customers = Seg("Customers")
    tree = _any(
        _c("segment", "in_segment", customers), _c("segment", "in_segment", Seg("High customers"))
    )
    assert matching(world, tree) == {"ada", "fay"}


def test_reference_rejects_what_the_spec_calls_invalid():
    rows, ref, _, segment_ids = _pure_world()
    with pytest.raises(ReferenceInvalid):
        ref.matches(rows[0], _all(_c("group", "in_group", "No such group")))
    with pytest.raises(ReferenceInvalid):
        ref.matches(rows[0], _all(_c("segment", "in_segment", 999)))


# --- hostile values: a validation error or a query that runs, never anything else ------------

HOSTILE = [
    P(_c("lastInteracted", "after", "9999-12-31"), id="after_the_last_day_there_is"),
    P(_c("createdAt", "after", "9999-12-31"), id="created_at_after_the_last_day_there_is"),
    P(_c("customField:renewal", "after", "9999-12-31"), id="custom_after_the_last_day_there_is"),
    P(_c("lastInteracted", "before", "0001-01-01"), id="before_the_first_day_there_is"),
    P(
        _c("lastInteracted", "after", "9999-12-31T23:00:00-05:00"),
        id="after_a_datetime_past_year_9999_in_utc",
    ),
    P(
        _c("lastInteracted", "before", "0001-01-01T01:00:00+05:00"),
        id="before_a_datetime_before_year_1_in_utc",
    ),
    P(
        _c("customField:renewal", "before", "0001-01-01T01:00:00+05:00"),
        id="custom_before_a_datetime_before_year_1_in_utc",
    ),
    P(
        _c("lastInteracted", "before", "2026-03-14T12:00:00+16:00"),
        id="before_a_datetime_with_a_16_hour_offset",
    ),
    P(
        _c("createdAt", "after", "2026-03-14T12:00:00-23:59"),
        id="after_a_datetime_with_a_24_hour_offset",
    ),
    P(
        _c("customField:renewal", "after", "2026-03-14T12:00:00+23:59"),
        id="custom_after_a_datetime_with_a_24_hour_offset",
    ),
    P(_c("company", "equals", "a\x00b"), id="nul_character_in_text"),
    P(_c("company", "not_contains", "\x00"), id="nul_character_alone"),
    P(_c("company", "in", ["a\x00b"]), id="nul_character_in_a_text_list"),
    P(_c("customField:plan", "equals", "a\x00b"), id="nul_character_in_a_custom_value"),
    P(_c("customField:pl\x00an", "is_set"), id="nul_character_in_a_custom_field_name"),
    P(_c("tag", "is", "a\x00b"), id="nul_character_in_a_tag"),
    P(_c("tag", "all_of", ["vip", "a\x00b"]), id="nul_character_in_a_tag_list"),
    P(_c("group", "in_group", "a\x00b"), id="nul_character_in_a_group_name"),
    P(_c("group", "in_group", 2**70), id="group_id_beyond_bigint"),
    P(_c("segment", "in_segment", 2**70), id="segment_id_beyond_bigint"),
    P(_c("customField:seats", "gt", 10**30), id="custom_number_beyond_bigint"),
    P(_c("customField:seats", "equals", 10**30), id="custom_equals_number_beyond_bigint"),
    P(_c("leadScore", "gte", 10**30), id="lead_score_beyond_bigint"),
    P(_c("lastInteracted", "within_days", 10**30), id="days_beyond_bigint"),
    P(_c("company", "contains", "x" * 10_000), id="very_long_text"),
]


@pytest.mark.parametrize("rule", HOSTILE)
def test_hostile_value_is_a_rule_error_or_a_query_that_runs(world, rule):
    """Bad input never reaches the database and never raises a 500."""
    from django.db import transaction

    from segments.rules import RuleErrors, parse_filter
    from segments.selectors import contacts_matching

    tree = _all(rule)
    with contextlib.suppress(RuleErrors):
        parse_filter(copy.deepcopy(tree))
    with contextlib.suppress(RuleErrors), transaction.atomic():
        list(contacts_matching(tree, now=NOW).values_list("id", flat=True))


def test_after_the_last_day_there_is_matches_nobody_if_accepted(world):
    from segments.rules import RuleErrors

    for name in ("lastInteracted", "customField:renewal"):
        with contextlib.suppress(RuleErrors):
            assert matching(world, _all(_c(name, "after", "9999-12-31"))) == set()


# --- tag rules follow the tags as they change ----------------------------------------------------
#
# "tag is X ⇔ the contact has tag X" must hold after every ordinary way of changing tags,
# not only for rows written by bulk_create.


def _tagged(name: str) -> set[str]:
    from segments.selectors import contacts_matching

    return set(contacts_matching([_c("tag", "is", name)], now=NOW).values_list("email", flat=True))


def test_tag_rules_follow_tags_added_and_removed_through_the_orm():
    from contacts.models import Contact

    vip, beta = Tag.objects.create(name="VIP"), Tag.objects.create(name="beta")
    ada = Contact.objects.create(email="ada@example.com")
    bob = Contact.objects.create(email="bob@example.com")
    ada.tags.add(vip)
    bob.tags.set([vip, beta])
    assert _tagged("vip") == {"ada@example.com", "bob@example.com"}
    bob.tags.remove(vip)
    assert _tagged("vip") == {"ada@example.com"}
    assert _tagged("beta") == {"bob@example.com"}
    ada.tags.clear()
    assert _tagged("vip") == set()
    vip.contacts.add(bob)  # from the tag's side
    assert _tagged("VIP") == {"bob@example.com"}


def test_tag_rules_follow_a_renamed_tag():
    from contacts.models import Contact

    vip = Tag.objects.create(name="VIP")
    Contact.objects.create(email="ada@example.com").tags.add(vip)
    vip.name = "Gold"
    vip.save()
    assert _tagged("gold") == {"ada@example.com"}
    assert _tagged("vip") == set()


def test_tag_rules_follow_a_deleted_tag_and_a_new_one_with_its_name():
    from contacts.models import Contact

    vip = Tag.objects.create(name="VIP")
    Contact.objects.create(email="ada@example.com").tags.add(vip)
    vip.delete()
    assert _tagged("vip") == set()
    Tag.objects.create(name="vip")
    assert _tagged("vip") == set()


def test_tag_rules_follow_tag_rows_deleted_or_moved_in_bulk():
    from contacts.models import Contact, ContactTag

    vip, gold = Tag.objects.create(name="VIP"), Tag.objects.create(name="Gold")
    ada = Contact.objects.create(email="ada@example.com")
    bob = Contact.objects.create(email="bob@example.com")
    ada.tags.add(vip)
    bob.tags.add(vip)
    ContactTag.objects.filter(contact=ada).delete()
    assert _tagged("vip") == {"bob@example.com"}
    ContactTag.objects.filter(tag=vip).update(tag=gold)  # merging two tags
    assert _tagged("vip") == set()
    assert _tagged("gold") == {"bob@example.com"}


def test_tag_rules_follow_a_deleted_contact():
    from contacts.models import Contact

    vip = Tag.objects.create(name="VIP")
    ada = Contact.objects.create(email="ada@example.com")
    ada.tags.add(vip)
    ada.delete()
    assert _tagged("vip") == set()
    assert list(vip.contacts.all()) == []
