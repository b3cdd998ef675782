"""Realistic demo contacts for `manage.py seed_demo`, generated inside PostgreSQL.

The top half of this module is the shape of the data (names, weights, shares);
the bottom half turns it into a few set-based SQL statements.

Determinism: every random choice is ``hashint8extended(n, salt)`` where ``n`` is the
contact's row number (which becomes its id) and ``salt`` is derived from the seed and
the name of the choice. Nothing depends on ``random()`` or on the order PostgreSQL
happens to produce rows in, so the same (seed, N, anchor date) on an empty table
gives the same rows, tags and memberships. Dates are spread over the two years
before the *anchor*: midnight UTC of the anchor date, today by default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import UniqueConstraint

from contacts.models import Contact, ContactTag, Group, GroupMembership, Tag

# --------------------------------------------------------------------------- data shape

HISTORY_DAYS = 730  # created_at / last_interacted_at spread over the last two years

BOUNCED_SHARE = 0.05
UNSUBSCRIBED_SHARE = 0.08  # drawn independently of bounced
NEVER_INTERACTED_SHARE = 0.15  # last_interacted_at IS NULL
NO_COMPANY_SHARE = 0.08
NO_JOB_TITLE_SHARE = 0.10
COMPANY_EMAIL_SHARE = 0.55  # of contacts with a company: e-mail at the company's domain

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
    "Anthony", "Betty", "Mark", "Sandra", "Paul", "Ashley", "Steven", "Emily",
    "Andrew", "Donna", "Joshua", "Michelle", "Kevin", "Carol", "Brian", "Amanda",
    "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Jason", "Rebecca",
    "Jeffrey", "Laura", "Ryan", "Sharon", "Jacob", "Cynthia", "Gary", "Kathleen",
    "Nicholas", "Amy", "Eric", "Angela", "Jonathan", "Helen", "Larry", "Anna",
    "Justin", "Brenda", "Scott", "Pamela", "Frank", "Nicole", "Benjamin", "Emma",
    "Samuel", "Samantha", "Gregory", "Katherine", "Alexander", "Christine", "Patrick",
    "Rachel", "Jack", "Olivia", "Dennis", "Sophia", "Noah", "Mia", "Lucas", "Chloe",
    "Luca", "Giulia", "Mateo", "Sofia", "Hugo", "Lea", "Jonas", "Hannah", "Lukas",
    "Marie", "Pierre", "Camille", "Hiroshi", "Yuki", "Wei", "Mei", "Arjun", "Priya",
    "Rahul", "Ananya", "Carlos", "Lucia", "Diego", "Valentina", "Ahmed", "Fatima",
    "Omar", "Amina", "Lars", "Ingrid", "Sven", "Freya", "Kwame", "Ama", "Tomasz", "Zofia",
]  # fmt: skip

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey",
    "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross",
    "Foster", "Jimenez", "Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois",
    "Laurent", "Rossi", "Russo", "Bianchi", "Tanaka", "Suzuki", "Sato", "Wang", "Chen",
    "Li", "Zhang", "Sharma", "Gupta", "Singh", "Silva", "Santos", "Oliveira", "Kowalski",
    "Nowak", "Jansen", "de Vries", "Andersson", "Johansson", "Hansen", "Mensah",
]  # fmt: skip

# Company names without a suffix. None of them contains "inc" in any case, so the
# share of companies matching `contains "inc"` is exactly the "Inc"/"Inc." suffixes.
COMPANY_NAMES = [
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
    "Wonka", "Soylent", "Cyberdyne", "Tyrell", "Massive Dynamic", "Aperture Science",
    "Black Mesa", "Gringotts", "Oscorp", "Vandelay Industries", "Dunder Mifflin",
    "Pied Piper", "Bluth Company", "Sterling Cooper", "Monarch Solutions", "Nakatomi Trading",
    "Wernham Hogg", "Kramerica", "Gekko & Co", "Tessier-Ashpool", "Weyland-Yutani",
    "Blue Sun", "Virtucon", "Duff Brewing", "Los Pollos Hermanos", "Bright Path",
    "Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Adventure Works",
    "Litware", "Proseware", "Wingtip Toys", "Woodgrove Bank", "Alpine Ski House",
    "Coho Winery", "Lucerne Publishing", "Margie's Travel", "Fourth Coffee", "Humongous Insurance",
    "Blue Yonder Airlines", "Graphic Design Institute", "Trey Research", "Southridge Video",
    "Datum Systems", "Lamna Healthcare", "Relecloud", "Munson's Pickles", "Paucek Labs",
    "Brightwave", "Cloudberry", "Quantum Leap", "Redwood Analytics", "Silverline",
    "Sunflower Foods", "Tidewater Logistics", "Evergreen Health", "Orbital Systems",
    "Copperleaf", "Harbor & Hale", "Ironclad Security", "Juniper Works", "Keystone Data",
    "Lighthouse Media", "Maple Robotics", "Nimbus Cloud", "Oakridge Partners", "Pinnacle Sports",
    "Riverstone", "Summit Outdoor", "Trailhead Apps", "Vertex Labs", "Zenith Retail",
]  # fmt: skip

# Legal-form suffixes with weights; "Inc" + "Inc." make up 22% of the contacts that
# have a company, i.e. about a fifth of all contacts.
COMPANY_SUFFIXES = [
    ("Inc", 13), ("Inc.", 9), ("LLC", 14), ("GmbH", 8), ("Ltd", 12), ("", 44),
]  # fmt: skip

# Addresses for contacts without a company address. .example is reserved (RFC 2606),
# so demo mail can never reach anyone.
PERSONAL_EMAIL_DOMAINS = ["mail.example", "inbox.example", "post.example", "webmail.example"]
COMPANY_EMAIL_TLD = "example"

JOB_TITLES = [
    ("Marketing Manager", 10), ("Software Engineer", 10), ("Sales Director", 6),
    ("CEO", 4), ("CTO", 3), ("Founder", 4), ("Product Manager", 8),
    ("Head of Growth", 4), ("Operations Manager", 6), ("Data Analyst", 6),
    ("Account Executive", 7), ("VP Marketing", 3), ("Designer", 5),
    ("Customer Success Manager", 6), ("Consultant", 6), ("HR Manager", 4),
    ("Student", 3), ("Office Manager", 5),
]  # fmt: skip

LOCATIONS = [  # (country, city, weight)
    ("United States", "New York", 9), ("United States", "San Francisco", 7),
    ("United States", "Austin", 4), ("United States", "Chicago", 5),
    ("United States", "Seattle", 4), ("United States", "Boston", 4),
    ("Canada", "Toronto", 4), ("Canada", "Vancouver", 2),
    ("United Kingdom", "London", 8), ("United Kingdom", "Manchester", 2),
    ("Germany", "Berlin", 5), ("Germany", "Munich", 3), ("France", "Paris", 5),
    ("Netherlands", "Amsterdam", 3), ("Spain", "Madrid", 2), ("Spain", "Barcelona", 2),
    ("Italy", "Milan", 2), ("Sweden", "Stockholm", 2), ("Poland", "Warsaw", 2),
    ("India", "Bangalore", 5), ("India", "Mumbai", 3), ("Japan", "Tokyo", 3),
    ("Australia", "Sydney", 3), ("Brazil", "São Paulo", 3), ("Mexico", "Mexico City", 2),
    ("Singapore", "Singapore", 2), ("Nigeria", "Lagos", 1), ("South Africa", "Cape Town", 1),
    ("Ireland", "Dublin", 2),
]  # fmt: skip

SOURCES = [
    ("website", 30), ("import", 18), ("referral", 12), ("event", 9), ("api", 9),
    ("webinar-q1", 8), ("webinar-q2", 7), ("webinar-product", 7),
]  # fmt: skip

# Lifecycle stages with weights and the lead-score band of each; scores are drawn
# skewed towards the bottom of the band, so the overall distribution is skewed low.
LIFECYCLE_STAGES = [  # (stage, weight, min score, max score)
    ("subscriber", 42, 0, 40),
    ("lead", 25, 5, 60),
    ("mql", 13, 30, 80),
    ("sql", 8, 50, 95),
    ("customer", 12, 40, 100),
]

# custom_fields: {"plan": ..., "seats": <int>, "trial_ends": "YYYY-MM-DD"}
PLAN_SHARE = 0.70  # the others have no "plan" (and no seats)
PLANS = [  # (plan, weight, min seats, max seats)
    ("free", 50, 1, 1),
    ("pro", 35, 2, 25),
    ("enterprise", 15, 25, 500),
]
TRIAL_SHARE = 0.30  # of contacts with a plan: "trial_ends" set
TRIAL_ENDS_DAYS = (-60, 30)  # relative to the anchor date


@dataclass(frozen=True)
class TagSpec:
    name: str
    share: float  # chance a contact gets the tag
    # Optionally a different chance for contacts whose lifecycle stage / plan matches.
    if_stage: str | None = None
    if_plan: str | None = None
    share_if: float = 0.0


TAGS = [
    TagSpec("newsletter", 0.55),
    TagSpec("webinar-attendee", 0.12),
    TagSpec("customer", 0.01, if_stage="customer", share_if=0.90),
    TagSpec("trial", 0.07),
    TagSpec("event-2026", 0.07),
    TagSpec("vip", 0.065),
    TagSpec("churn-risk", 0.05),
    TagSpec("enterprise", 0.01, if_plan="enterprise", share_if=0.70),
    TagSpec("partner", 0.03),
    TagSpec("beta", 0.015),
]
MAX_TAGS_PER_CONTACT = 3  # contacts drawing more keep 3 of them at random


@dataclass(frozen=True)
class GroupSpec:
    name: str
    description: str


CONFERENCE_LEADS = GroupSpec("Conference leads", "People we met at conference booths.")
BOARD = GroupSpec("Board", "Customer advisory board.")
EARLY_ADOPTERS = GroupSpec("Early adopters", "Signed up in our first months.")
GROUPS = [CONFERENCE_LEADS, BOARD, EARLY_ADOPTERS]
CONFERENCE_LEADS_SHARE_EVENT = 0.60  # of contacts with source "event"
CONFERENCE_LEADS_SHARE_OTHER = 0.01
BOARD_SIZE = 12  # high-scoring customers, per seeding run
EARLY_ADOPTER_DAYS = 120  # created in the first 120 days of the two-year window
EARLY_ADOPTERS_SHARE = 0.35  # of those

# --------------------------------------------------------------------------- generation

# Session settings for the load (SET LOCAL: they end with the transaction). Index
# builds after the load are the bulk of the time; GIN builds use maintenance_work_mem.
LOAD_SETTINGS = {
    "maintenance_work_mem": "512MB",
    "work_mem": "256MB",
    "synchronous_commit": "off",  # demo data: losing the last commit on a crash is fine
}


@dataclass(frozen=True)
class SeedResult:
    contacts: int
    first_id: int
    last_id: int
    tags: int  # ContactTag rows created
    memberships: int  # GroupMembership rows created
    rebuilt_indexes: int  # Contact indexes + unique constraints dropped and rebuilt (bulk mode)
    seconds: float


def anchor_datetime(anchor: dt.date) -> dt.datetime:
    """Dates are spread over the HISTORY_DAYS before midnight UTC of the anchor date."""
    return dt.datetime.combine(anchor, dt.time(0, 0), tzinfo=dt.UTC)


class _Sql:
    """Collects named parameters and builds the per-contact random draws.

    ``u(key)`` is a uniform float in [0, 1) and ``i(key)`` a uniform non-negative
    31-bit integer, both ``hashint8extended(<row number>, salt)`` with a salt derived
    from (seed, key): deterministic, independent per key, and no ``random()``.
    """

    def __init__(self, seed: int, n: str = "n") -> None:
        self.seed = seed
        self.n = n
        self.params: dict[str, object] = {}

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


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _contacts_insert(
    q: _Sql, first_id: int, last_id: int, anchor: dt.datetime, tag_ids: dict[str, int]
) -> str:
    """INSERT … SELECT of contacts with ids first_id..last_id (the row numbers).

    Each contact's tags are drawn here (Contact.tag_ids); _tags_insert then
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
    INSERT INTO {_qn(Contact._meta.db_table)}
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


def _tag_draw(q: _Sql, tag_ids: dict[str, int]) -> str:
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


def _tags_insert(q: _Sql, first_id: int, last_id: int) -> str:
    """ContactTag rows from the tag_ids the contacts were created with."""
    return f"""
    INSERT INTO {_qn(ContactTag._meta.db_table)} (contact_id, tag_id)
    SELECT id, unnest(tag_ids) FROM {_qn(Contact._meta.db_table)}
    WHERE id BETWEEN {q.param(first_id, "bigint")} AND {q.param(last_id, "bigint")}
    ORDER BY 1, 2
    """


def _memberships_insert(
    q: _Sql, first_id: int, last_id: int, anchor: dt.datetime, group_ids: dict[str, int]
) -> str:
    contact = _qn(Contact._meta.db_table)
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
    return f"""
    INSERT INTO {_qn(GroupMembership._meta.db_table)} (group_id, contact_id, added_at)
    SELECT {group_ids[CONFERENCE_LEADS.name]}, c.id, {added_at(CONFERENCE_LEADS)}
    FROM {contact} AS c
    WHERE {ids} AND {q.u("group:" + CONFERENCE_LEADS.name)}
        < CASE WHEN c.source = 'event' THEN {CONFERENCE_LEADS_SHARE_EVENT!r}
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
     ORDER BY (c.lifecycle_stage = 'customer' AND c.lead_score >= 80) DESC,
              {q.i("group:" + BOARD.name)}, c.id
     LIMIT {BOARD_SIZE})
    """


def _get_or_create_ci(model, name: str, **defaults) -> int:
    """Id of the row named ``name`` in any case (names are unique case-insensitively)."""
    obj = model.objects.filter(name__iexact=name).first()
    if obj is None:
        obj = model.objects.create(name=name, **defaults)
    return obj.pk


class _BulkMode:
    """Drop what slows a bulk load down, and put it back afterwards (as pg_restore does).

    * the contact table's Meta.indexes and unique constraints (the unique e-mail index is
      built in a couple of seconds, but maintained row by row it costs much more), via
      Django's schema editor so they are exactly what the migrations created;
    * the foreign keys of ContactTag and GroupMembership: re-adding one validates all
      rows with a single join, where a deferred FK checks and locks one row at a time.
      They are restored from their catalog definition (pg_get_constraintdef).

    Must run inside a transaction: PostgreSQL's DDL is transactional, so if the load
    fails or is interrupted, the rollback restores everything that was dropped.
    """

    def __init__(self) -> None:
        table = Contact._meta.db_table
        link_tables = [ContactTag._meta.db_table, GroupMembership._meta.db_table]
        with connection.cursor() as cur:
            cur.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s",
                [table],
            )
            existing = {name for (name,) in cur.fetchall()}
            cur.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
                "ORDER BY 1, 2",
                [link_tables],
            )
            self.foreign_keys = cur.fetchall()
        self.indexes = [i for i in Contact._meta.indexes if i.name in existing]
        self.constraints = [
            c
            for c in Contact._meta.constraints
            if isinstance(c, UniqueConstraint) and c.name in existing
        ]

    def drop(self) -> None:
        with connection.cursor() as cur:
            # ALTER TABLE refuses tables with deferred FK checks still pending, which a
            # caller's transaction may have (e.g. it deleted contacts): run them now.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
        with connection.schema_editor() as editor:
            for index in self.indexes:
                editor.remove_index(Contact, index)
            for constraint in self.constraints:
                editor.remove_constraint(Contact, constraint)
        with connection.cursor() as cur:
            for table, name, _ in self.foreign_keys:
                cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_qn(name)}")

    def restore(self, log: Callable[[str], None]) -> None:
        with connection.schema_editor() as editor:
            for constraint in self.constraints:
                t = time.monotonic()
                editor.add_constraint(Contact, constraint)
                log(f"    {constraint.name}: {time.monotonic() - t:.1f} s")
            for index in self.indexes:
                t = time.monotonic()
                editor.add_index(Contact, index)
                log(f"    {index.name}: {time.monotonic() - t:.1f} s")
        with connection.cursor() as cur:
            for table, name, definition in self.foreign_keys:
                t = time.monotonic()
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_qn(name)} {definition}")
                log(f"    {name}: {time.monotonic() - t:.1f} s")


def seed_contacts(
    count: int, seed: int, anchor: dt.date, log: Callable[[str], None] = lambda msg: None
) -> SeedResult:
    """Add ``count`` demo contacts (plus their tags and group memberships).

    Everything happens in one transaction, holding a lock that keeps other writers out
    of the contact table. Into an empty table, the load runs in bulk mode (see
    _BulkMode): indexes and foreign keys are dropped first and rebuilt after; an error
    or Ctrl-C (psycopg cancels the running query) rolls all of it back. Appending to
    a non-empty table keeps them and maintains them row by row, which is slower.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    started = time.monotonic()
    anchor_ts = anchor_datetime(anchor)
    table = Contact._meta.db_table

    def step(label: str, t0: float) -> float:
        now = time.monotonic()
        log(f"  {label}: {now - t0:.1f} s")
        return now

    with transaction.atomic(), connection.cursor() as cur:
        for name, value in LOAD_SETTINGS.items():
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])
        # Other writers wait for the commit; readers carry on (unless in bulk mode).
        cur.execute(f"LOCK TABLE {_qn(table)} IN SHARE ROW EXCLUSIVE MODE")
        cur.execute(f"SELECT max(id) FROM {_qn(table)}")
        (max_id,) = cur.fetchone()
        first_id = (max_id or 0) + 1
        last_id = first_id + count - 1

        tag_ids = {spec.name: _get_or_create_ci(Tag, spec.name) for spec in TAGS}
        group_ids = {
            g.name: _get_or_create_ci(Group, g.name, description=g.description) for g in GROUPS
        }

        t = time.monotonic()
        bulk = _BulkMode() if max_id is None else None
        if bulk:
            bulk.drop()
            t = step(
                f"bulk mode: dropped {len(bulk.indexes) + len(bulk.constraints)} indexes and "
                f"{len(bulk.foreign_keys)} foreign keys",
                t,
            )

        q = _Sql(seed)
        cur.execute(_contacts_insert(q, first_id, last_id, anchor_ts, tag_ids), q.params)
        t = step(f"{count} contacts", t)

        # Keep the id sequence ahead of the ids chosen here (never move it back).
        cur.execute(
            "SELECT setval(s, GREATEST(%s, COALESCE(pg_sequence_last_value(s), 0))) "
            "FROM CAST(pg_get_serial_sequence(%s, 'id') AS regclass) AS s",
            [last_id, table],
        )

        # The arrays are already right: the trigger that would recompute them from
        # these rows (migration contacts 0003) sits this one statement out.
        cur.execute("SELECT set_config('flock.tag_ids_written', 'on', true)")
        q = _Sql(seed)
        cur.execute(_tags_insert(q, first_id, last_id), q.params)
        tags = cur.rowcount
        cur.execute("SELECT set_config('flock.tag_ids_written', 'off', true)")
        t = step(f"{tags} tag assignments", t)

        q = _Sql(seed, n="c.id")
        cur.execute(_memberships_insert(q, first_id, last_id, anchor_ts, group_ids), q.params)
        memberships = cur.rowcount
        t = step(f"{memberships} group memberships", t)

        if bulk:
            bulk.restore(log)
            t = step("bulk mode: rebuilt indexes and foreign keys", t)
    t = step("commit", t)

    # Fresh statistics for the planner. VACUUM also sets the visibility map (index-only
    # scans) and spares the next benchmark an autovacuum run; it cannot run inside a
    # transaction (e.g. a test's), where ANALYZE alone does.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cur:
        for model in (Contact, ContactTag, GroupMembership, Tag, Group):
            cur.execute(f"{command} {_qn(model._meta.db_table)}")
    step(command.lower(), t)

    return SeedResult(
        contacts=count,
        first_id=first_id,
        last_id=last_id,
        tags=tags,
        memberships=memberships,
        rebuilt_indexes=len(bulk.indexes) + len(bulk.constraints) if bulk else 0,
        seconds=time.monotonic() - started,
    )
