"""The demo data of `data.py` as a few set-based SQL statements, run by `load.py`.

Raw SQL because the contacts are generated inside PostgreSQL: a million rows never
travel through Python, which is what makes seeding 1M contacts take under a minute.

Determinism: every random choice is ``hashint8extended(n, salt)`` where ``n`` is the
contact's row number (which becomes its id) and ``salt`` is derived from the seed and
the name of the choice. Nothing depends on ``random()`` or on the order PostgreSQL
happens to produce rows in, so the same (seed, N, anchor date) on an empty table
gives the same rows, tags and memberships.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from django.db import connection

from contacts.models import Contact, ContactTag, GroupMembership

from .data import (
    BOARD,
    BOARD_MIN_SCORE,
    BOARD_SIZE,
    BOUNCED_SHARE,
    COMPANY_EMAIL_SHARE,
    COMPANY_EMAIL_TLD,
    COMPANY_NAMES,
    COMPANY_SUFFIXES,
    CONFERENCE_LEADS,
    CONFERENCE_LEADS_SHARE_EVENT,
    CONFERENCE_LEADS_SHARE_OTHER,
    EARLY_ADOPTER_DAYS,
    EARLY_ADOPTERS,
    EARLY_ADOPTERS_SHARE,
    EVENT_SOURCE,
    FIRST_NAMES,
    HISTORY_DAYS,
    JOB_TITLES,
    LAST_NAMES,
    LIFECYCLE_STAGES,
    LOCATIONS,
    MAX_TAGS_PER_CONTACT,
    NEVER_INTERACTED_SHARE,
    NO_COMPANY_SHARE,
    NO_JOB_TITLE_SHARE,
    PERSONAL_EMAIL_DOMAINS,
    PLAN_SHARE,
    PLANS,
    SOURCES,
    TAGS,
    TRIAL_ENDS_DAYS,
    TRIAL_SHARE,
    UNSUBSCRIBED_SHARE,
    GroupSpec,
)


class Sql:
    """Collects named parameters and builds the per-contact random draws.

    ``u(key)`` is a uniform float in [0, 1) and ``i(key)`` a uniform non-negative
    31-bit integer, both ``hashint8extended(<row number>, salt)`` with a salt derived
    from (seed, key): deterministic, independent per key, and no ``random()``.
    """

    def __init__(self, seed: int, n: str = "n") -> None:
        self.seed = seed
        self.n = n
        # Any: values of every kind (text, numbers, dates, lists), for psycopg to adapt.
        self.params: dict[str, Any] = {}

    def param(self, value: object, cast: str | None = None) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s" + (f"::{cast}" if cast else "")

    def salt(self, key: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}:{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    def i(self, key: str, salt_sql: str | None = None) -> str:
        salt = salt_sql or str(self.salt(key))
        return f"(hashint8extended({self.n}, {salt}) & 2147483647)"

    def u(self, key: str, salt_sql: str | None = None) -> str:
        return f"({self.i(key, salt_sql)}::float8 / 2147483648.0)"

    def pick(self, i: str, values: Sequence[object]) -> str:
        """values[i mod len] for a uniform integer draw ``i``."""
        return f"({self.param(list(values), 'text[]')})[1 + mod({i}, {len(values)})]"

    def weighted(self, u: str, items: Sequence[tuple[object, float]]) -> str:
        """items[k][0] with probability weight/total, for a uniform draw ``u``."""
        total = float(sum(w for _, w in items))
        whens, cumulative = [], 0.0
        for value, weight in items[:-1]:
            cumulative += weight / total
            whens.append(f"WHEN {u} < {cumulative!r} THEN {self.param(value, 'text')}")
        return f"(CASE {' '.join(whens)} ELSE {self.param(items[-1][0], 'text')} END)"


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def contacts_insert(
    q: Sql, first_id: int, last_id: int, anchor: dt.datetime, tag_ids: dict[str, int]
) -> str:
    """INSERT … SELECT of contacts with ids first_id..last_id (the row numbers).

    Each contact's tags are drawn here (Contact.tag_ids); tags_insert then
    writes the ContactTag rows from those arrays.
    """
    company_domains = [
        "".join(ch for ch in name.lower() if ch.isalnum()) + "." + COMPANY_EMAIL_TLD
        for name in COMPANY_NAMES
    ]
    locations = [(f"{country}|{city}", w) for country, city, w in LOCATIONS]
    score = " ".join(
        f"WHEN '{s}' THEN {lo} + floor({hi - lo + 1}.0 * score_u * score_u)::int"
        for s, _, lo, hi in LIFECYCLE_STAGES
    )
    seats = " ".join(
        f"WHEN '{name}' THEN {lo} + mod(seats_i, {hi - lo + 1})" for name, _, lo, hi in PLANS
    )
    trial_lo, trial_hi = TRIAL_ENDS_DAYS
    anchor_ts = q.param(anchor, "timestamptz")
    anchor_date = q.param(anchor.date(), "date")
    # Level 1 draws; level 2 combines them. OFFSET 0 stops PostgreSQL from inlining
    # level 1 into level 2, which would evaluate a draw once per use.
    return f"""
    INSERT INTO {qn(Contact._meta.db_table)}
        (id, email, first_name, last_name, company, job_title, country, city, source,
         lead_score, lifecycle_stage, last_interacted_at, created_at, updated_at,
         is_bounced, is_unsubscribed, custom_fields, tag_ids)
    SELECT n, email, first_name, last_name, company, job_title, country, city, source,
           lead_score, stage, last_interacted_at, created_at,
           COALESCE(last_interacted_at, created_at), is_bounced, is_unsubscribed, custom_fields,
           tag_ids
    FROM (
        SELECT n, first_name, last_name, job_title, source, stage, is_bounced, is_unsubscribed,
               {_tag_draw(q, tag_ids)} AS tag_ids,
               CASE WHEN no_company THEN ''
                    ELSE concat_ws(' ', {q.pick("company_i", COMPANY_NAMES)}, nullif(suffix, ''))
               END AS company,
               lower(replace(first_name, ' ', '')) || '.' || lower(replace(last_name, ' ', ''))
                   || '.' || n || '@'
                   || CASE WHEN NOT no_company AND company_email
                           THEN {q.pick("company_i", company_domains)}
                           ELSE personal_domain END AS email,
               split_part(location, '|', 1) AS country,
               split_part(location, '|', 2) AS city,
               LEAST(100, CASE stage {score} END) AS lead_score,
               {anchor_ts} - age_s * interval '1 second' AS created_at,
               -- Uniformly between created_at and the anchor.
               CASE WHEN NOT never THEN
                   {anchor_ts} - floor(age_s * (1 - interacted_u))::bigint * interval '1 second'
               END AS last_interacted_at,
               CASE WHEN has_plan THEN
                   jsonb_build_object('plan', plan, 'seats', CASE plan {seats} END)
                   || CASE WHEN has_trial THEN jsonb_build_object('trial_ends', to_char(
                          {anchor_date} + {trial_lo} + mod(trial_i, {trial_hi - trial_lo + 1})::int,
                          'YYYY-MM-DD'))
                      ELSE '{{}}'::jsonb END
               ELSE '{{}}'::jsonb END AS custom_fields
        FROM (
            SELECT n,
                   {q.pick(q.i("first_name"), FIRST_NAMES)} AS first_name,
                   {q.pick(q.i("last_name"), LAST_NAMES)} AS last_name,
                   {q.i("company")} AS company_i,
                   {q.u("no_company")} < {NO_COMPANY_SHARE!r} AS no_company,
                   {q.weighted(q.u("suffix"), COMPANY_SUFFIXES)} AS suffix,
                   {q.u("company_email")} < {COMPANY_EMAIL_SHARE!r} AS company_email,
                   {q.pick(q.i("domain"), PERSONAL_EMAIL_DOMAINS)} AS personal_domain,
                   CASE WHEN {q.u("no_title")} < {NO_JOB_TITLE_SHARE!r} THEN ''
                        ELSE {q.weighted(q.u("title"), JOB_TITLES)} END AS job_title,
                   {q.weighted(q.u("location"), locations)} AS location,
                   {q.weighted(q.u("source"), SOURCES)} AS source,
                   {q.weighted(q.u("stage"), [(s, w) for s, w, _, _ in LIFECYCLE_STAGES])}
                       AS stage,
                   {q.u("score")} AS score_u,
                   -- Age in seconds; u^1.5 makes recent sign-ups more common.
                   floor({HISTORY_DAYS * 86400}.0 * {q.u("age")} * sqrt({q.u("age")}))::bigint
                       AS age_s,
                   {q.u("never")} < {NEVER_INTERACTED_SHARE!r} AS never,
                   {q.u("interacted")} AS interacted_u,
                   {q.u("bounced")} < {BOUNCED_SHARE!r} AS is_bounced,
                   {q.u("unsubscribed")} < {UNSUBSCRIBED_SHARE!r} AS is_unsubscribed,
                   {q.u("has_plan")} < {PLAN_SHARE!r} AS has_plan,
                   {q.weighted(q.u("plan"), [(name, w) for name, w, _, _ in PLANS])} AS plan,
                   {q.i("seats")} AS seats_i,
                   {q.u("has_trial")} < {TRIAL_SHARE!r} AS has_trial,
                   {q.i("trial_ends")} AS trial_i
            FROM generate_series({q.param(first_id, "bigint")}, {q.param(last_id, "bigint")})
                AS n
            OFFSET 0
        ) AS l1
        OFFSET 0
    ) AS l2
    """


def _tag_draw(q: Sql, tag_ids: dict[str, int]) -> str:
    """The contact's tag ids: each tag independently with its share (a different
    one when the contact's stage or plan matches), at most MAX_TAGS_PER_CONTACT
    kept in a per-contact random order, sorted by id like the trigger keeps them."""
    tags = ", ".join(
        f"({tag_ids[spec.name]}::bigint, {q.salt('tag:' + spec.name)}::bigint,"
        f" {q.salt('tag-order:' + spec.name)}::bigint,"
        f" {spec.share!r}::float8, {q.param(spec.if_stage, 'text')},"
        f" {q.param(spec.if_plan, 'text')}, {spec.share_if!r}::float8)"
        for spec in TAGS
    )
    return f"""ARRAY(
        SELECT tag_id FROM (
            SELECT t.tag_id FROM (VALUES {tags})
                AS t(tag_id, salt, order_salt, share, if_stage, if_plan, share_if)
            WHERE {q.u("", salt_sql="t.salt")}
                < CASE WHEN stage = t.if_stage OR (has_plan AND plan = t.if_plan)
                       THEN t.share_if ELSE t.share END
            ORDER BY hashint8extended({q.n}, t.order_salt)
            LIMIT {MAX_TAGS_PER_CONTACT}
        ) AS picked ORDER BY tag_id)"""


def tags_insert(q: Sql, first_id: int, last_id: int) -> str:
    """ContactTag rows from the tag_ids the contacts were created with."""
    return f"""
    INSERT INTO {qn(ContactTag._meta.db_table)} (contact_id, tag_id)
    SELECT id, unnest(tag_ids) FROM {qn(Contact._meta.db_table)}
    WHERE id BETWEEN {q.param(first_id, "bigint")} AND {q.param(last_id, "bigint")}
    ORDER BY 1, 2
    """


def memberships_insert(
    q: Sql, first_id: int, last_id: int, anchor: dt.datetime, group_ids: dict[str, int]
) -> str:
    contact = qn(Contact._meta.db_table)
    ids = f"c.id BETWEEN {q.param(first_id, 'bigint')} AND {q.param(last_id, 'bigint')}"
    anchor_ts = q.param(anchor, "timestamptz")

    def added_at(group: GroupSpec) -> str:
        # Some time between the contact's creation and the anchor.
        frac = q.u("added:" + group.name)
        return (
            f"{anchor_ts} - floor(extract(epoch FROM {anchor_ts} - c.created_at) * {frac})"
            f"::bigint * interval '1 second'"
        )

    early_cutoff = f"{anchor_ts} - interval '{HISTORY_DAYS - EARLY_ADOPTER_DAYS} days'"
    event = q.param(EVENT_SOURCE, "text")
    customer = q.param(Contact.LifecycleStage.CUSTOMER.value, "text")
    return f"""
    INSERT INTO {qn(GroupMembership._meta.db_table)} (group_id, contact_id, added_at)
    SELECT {group_ids[CONFERENCE_LEADS.name]}, c.id, {added_at(CONFERENCE_LEADS)}
    FROM {contact} AS c
    WHERE {ids} AND {q.u("group:" + CONFERENCE_LEADS.name)}
        < CASE WHEN c.source = {event} THEN {CONFERENCE_LEADS_SHARE_EVENT!r}
               ELSE {CONFERENCE_LEADS_SHARE_OTHER!r} END
    UNION ALL
    SELECT {group_ids[EARLY_ADOPTERS.name]}, c.id, {added_at(EARLY_ADOPTERS)}
    FROM {contact} AS c
    WHERE {ids} AND c.created_at < {early_cutoff}
      AND {q.u("group:" + EARLY_ADOPTERS.name)} < {EARLY_ADOPTERS_SHARE!r}
    UNION ALL
    (SELECT {group_ids[BOARD.name]}, c.id, {added_at(BOARD)}
     FROM {contact} AS c
     WHERE {ids}
     ORDER BY (c.lifecycle_stage = {customer} AND c.lead_score >= {BOARD_MIN_SCORE}) DESC,
              {q.i("group:" + BOARD.name)}, c.id
     LIMIT {BOARD_SIZE})
    """
