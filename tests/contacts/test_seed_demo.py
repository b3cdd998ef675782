"""`manage.py seed_demo`: what someone seeding a demo or a benchmark would notice."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F, UniqueConstraint

from contacts.db import custom_field_index_name
from contacts.demo import data as demo_data
from contacts.demo import sql as demo_sql
from contacts.models import Contact, ContactTag, CustomField, Group, GroupMembership, Tag

pytestmark = pytest.mark.django_db

N = 4000
ANCHOR = "2026-03-15"


def seed(contacts: int = N, seed: int = 7, *extra: str) -> str:
    out = StringIO()
    call_command(
        "seed_demo", "--contacts", str(contacts), "--seed", str(seed), "--anchor", ANCHOR,
        *extra, stdout=out,
    )  # fmt: skip
    return out.getvalue()


def digest() -> str:
    """One hash over every contact with its tags and group memberships."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT md5(string_agg(row, E'\\n' ORDER BY id)) FROM (
                SELECT c.id, concat_ws('|', c.id, c.email, c.first_name, c.last_name,
                    c.company, c.job_title, c.country, c.city, c.source, c.lead_score,
                    c.lifecycle_stage, c.last_interacted_at, c.created_at, c.updated_at,
                    c.is_bounced, c.is_unsubscribed, c.custom_fields::text,
                    (SELECT string_agg(t.name, ',' ORDER BY t.name)
                     FROM contacts_contacttag ct JOIN contacts_tag t ON t.id = ct.tag_id
                     WHERE ct.contact_id = c.id),
                    (SELECT string_agg(g.name || '@' || gm.added_at, ',' ORDER BY g.name)
                     FROM contacts_groupmembership gm JOIN contacts_group g ON g.id = gm.group_id
                     WHERE gm.contact_id = c.id)) AS row
                FROM contacts_contact c
            ) AS rows
            """
        )
        return cur.fetchone()[0]


def share(**filters) -> float:
    return Contact.objects.filter(**filters).count() / Contact.objects.count()


def contact_index_names() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'contacts_contact'")
        return {name for (name,) in cur.fetchall()}


def expected_index_names() -> set[str]:
    return {i.name for i in Contact._meta.indexes} | {
        c.name for c in Contact._meta.constraints if isinstance(c, UniqueConstraint)
    }


def link_foreign_keys() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
            "('contacts_contacttag'::regclass, 'contacts_groupmembership'::regclass)"
        )
        return cur.fetchone()[0]


def test_creates_the_requested_number_and_says_so():
    out = seed()
    assert Contact.objects.count() == N
    assert "Seeded 4,000 contacts" in out
    assert " s (seed 7" in out


def test_same_seed_same_data_other_seed_other_data():
    seed(seed=7)
    first = digest()
    Contact.objects.all().delete()
    seed(seed=7)
    assert digest() == first
    Contact.objects.all().delete()
    seed(seed=8)
    assert digest() != first


def test_shares_are_roughly_right():
    seed()
    assert share(is_bounced=True) == pytest.approx(0.05, abs=0.02)
    assert share(is_unsubscribed=True) == pytest.approx(0.08, abs=0.025)
    assert share(last_interacted_at__isnull=True) == pytest.approx(0.15, abs=0.03)
    assert share(company__icontains="inc") == pytest.approx(0.20, abs=0.04)
    assert share(source__startswith="webinar") == pytest.approx(0.22, abs=0.04)
    assert {"website", "import", "referral", "api", "event"} <= set(
        Contact.objects.values_list("source", flat=True).distinct()
    )
    scores = list(Contact.objects.values_list("lead_score", flat=True))
    assert min(scores) >= 0 and max(scores) <= 100
    assert sorted(scores)[len(scores) // 2] < 50  # skewed towards low scores
    stages = set(Contact.objects.values_list("lifecycle_stage", flat=True).distinct())
    assert stages == set(Contact.LifecycleStage.values)


def test_custom_fields_have_the_documented_types():
    seed()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT DISTINCT jsonb_typeof(custom_fields -> 'seats') FROM contacts_contact "
            "WHERE custom_fields ? 'seats'"
        )
        assert [t for (t,) in cur.fetchall()] == ["number"]
    plans = Contact.objects.filter(custom_fields__has_key="plan")
    assert set(plans.values_list("custom_fields__plan", flat=True).distinct()) == {
        "free",
        "pro",
        "enterprise",
    }
    assert 0 < share(custom_fields__has_key="plan") < 1  # not every contact has a plan
    trials = Contact.objects.filter(custom_fields__has_key="trial_ends")
    assert trials.exists()
    for fields in trials.values_list("custom_fields", flat=True)[:200]:
        value = fields if isinstance(fields, dict) else json.loads(fields)
        assert dt.date.fromisoformat(value["trial_ends"])
        assert isinstance(value["seats"], int)


def test_dates_cover_two_years_before_the_anchor_and_interactions_follow_creation():
    seed()
    anchor = demo_data.anchor_datetime(dt.date.fromisoformat(ANCHOR))
    created = list(Contact.objects.values_list("created_at", flat=True))
    assert anchor - dt.timedelta(days=731) <= min(created) < anchor - dt.timedelta(days=600)
    assert max(created) <= anchor
    assert not Contact.objects.filter(last_interacted_at__lt=F("created_at")).exists()
    assert not Contact.objects.filter(last_interacted_at__gt=anchor).exists()
    assert Contact.objects.filter(last_interacted_at__lt=anchor - dt.timedelta(days=365)).exists()


def test_emails_are_unique_case_insensitively_and_look_real():
    seed()
    with connection.cursor() as cur:
        cur.execute("SELECT count(DISTINCT lower(email)), count(*) FROM contacts_contact")
        distinct, total = cur.fetchone()
    assert distinct == total == N
    contact = Contact.objects.order_by("id").first()
    local = f"{contact.first_name}.{contact.last_name}".lower().replace(" ", "")
    assert contact.email == f"{local}.{contact.id}@{contact.email.split('@')[1]}"


def test_tags_and_groups_are_assigned_with_skewed_frequencies():
    seed()
    counts = {t.name: t.contacts.count() for t in Tag.objects.all()}
    assert set(counts) == {spec.name for spec in demo_data.TAGS}
    assert max(counts, key=counts.get) == "newsletter"
    assert counts["vip"] / N == pytest.approx(0.065, abs=0.02)
    assert counts["beta"] < counts["vip"] < counts["newsletter"]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM contacts_contacttag "
            "GROUP BY contact_id) AS per_contact"
        )
        assert cur.fetchone()[0] == demo_data.MAX_TAGS_PER_CONTACT
    assert Contact.objects.filter(tags__isnull=True).exists()  # some have none
    for group in Group.objects.all():
        assert group.members.exists(), group.name
    assert {g.name for g in Group.objects.all()} == {g.name for g in demo_data.GROUPS}
    assert Group.objects.get(name="Board").members.count() == demo_data.BOARD_SIZE


def test_reuses_existing_tags_and_groups_whatever_their_case():
    Tag.objects.create(name="VIP")
    Group.objects.create(name="board")
    seed(contacts=500)
    assert Tag.objects.filter(name__iexact="vip").count() == 1
    assert Group.objects.filter(name__iexact="board").count() == 1
    assert Tag.objects.get(name="VIP").contacts.exists()


def test_if_empty_leaves_an_existing_table_alone():
    Contact.objects.create(email="someone@example.com")
    out = seed(500, 7, "--if-empty")
    assert Contact.objects.count() == 1
    assert "nothing seeded" in out


def test_if_empty_seeds_an_empty_table():
    seed(500, 7, "--if-empty")
    assert Contact.objects.count() == 500


def test_appends_to_a_non_empty_table_with_new_emails():
    existing = Contact.objects.create(email="someone@example.com")
    seed(1000, seed=7)
    seed(500, seed=7)  # same seed again: still new rows and new e-mails
    assert Contact.objects.count() == 1501
    with connection.cursor() as cur:
        cur.execute("SELECT count(DISTINCT lower(email)) FROM contacts_contact")
        assert cur.fetchone()[0] == 1501
    assert Contact.objects.filter(pk__gt=existing.pk).count() == 1500
    # The id sequence moved past the seeded ids: ordinary inserts still work.
    later = Contact.objects.create(email="later@example.com")
    assert later.pk > Contact.objects.exclude(pk=later.pk).order_by("-pk").first().pk
    assert contact_index_names() >= expected_index_names()


@pytest.mark.parametrize("bad", ["0", "-5"])
def test_bad_count_is_a_clear_error(bad):
    with pytest.raises(CommandError, match="--contacts must be a positive number"):
        call_command("seed_demo", "--contacts", bad, stdout=StringIO())
    assert not Contact.objects.exists()


def test_bad_anchor_is_a_clear_error():
    with pytest.raises(CommandError, match="--anchor"):
        call_command("seed_demo", "--contacts", "10", "--anchor", "yesterday", stdout=StringIO())


def test_indexes_and_foreign_keys_exist_after_a_run():
    before = contact_index_names()
    assert before >= expected_index_names()
    fks = link_foreign_keys()
    seed()
    # and the indexes of the custom fields the demo registers
    demo = {custom_field_index_name(name) for name in ("plan", "seats", "trial_ends")}
    assert contact_index_names() == before | demo
    assert link_foreign_keys() == fks == 4


def test_the_demos_custom_fields_are_registered_with_their_types():
    seed()
    registered = list(CustomField.objects.order_by("name").values_list("name", "type", "options"))
    assert registered == [
        ("plan", "choice", ["free", "pro", "enterprise"]),
        ("seats", "number", []),
        ("trial_ends", "date", []),
    ]
    seed()  # a second run appends contacts and registers nothing twice
    assert CustomField.objects.count() == 3


def test_a_failure_mid_way_restores_indexes_and_keeps_nothing(monkeypatch):
    before = contact_index_names()

    def broken(*args, **kwargs):
        return "SELECT 1 / 0"

    monkeypatch.setattr(demo_sql, "memberships_insert", broken)
    with pytest.raises(Exception, match="division by zero"):
        seed()
    assert contact_index_names() == before
    assert link_foreign_keys() == 4
    assert not Contact.objects.exists()
    assert not ContactTag.objects.exists()
    assert not GroupMembership.objects.exists()
