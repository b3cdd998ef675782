"""Materialised membership (segments/membership.py): every write path journalled by
the database, re-checked by a settle, entries and exits recorded with their cause."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.bulk import bulk_action_create
from contacts.changes import change_cause
from contacts.models import BulkAction, Contact, ContactChange
from contacts.services import contact_update, group_add_members
from contacts.upsert import contacts_upsert
from segments.membership import membership_settle, membership_time_recheck, segment_reconcile
from segments.models import ContactSegment, SegmentEvent, SegmentMember
from segments.selectors import contacts_matching
from segments.services import segment_update
from tests.contacts.factories import ContactFactory, GroupFactory, TagFactory
from tests.segments.factories import SegmentFactory

pytestmark = pytest.mark.django_db
Cause = SegmentEvent.Cause


def members(segment: ContactSegment) -> set[int]:
    return set(SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True))


def events(segment: ContactSegment) -> list[tuple[int, bool, str]]:
    rows = SegmentEvent.objects.filter(segment=segment).order_by("id")
    return [(e.contact_id, e.entered, e.get_cause_display()) for e in rows]


def assert_exact(segment: ContactSegment) -> None:
    """Members are what the selector says, and the count says how many."""
    segment.refresh_from_db()
    assert members(segment) == set(
        contacts_matching(segment.filter_json).values_list("pk", flat=True)
    )
    assert segment.member_count == len(members(segment))


def test_a_new_segment_is_built_with_an_entry_for_each_member():
    inside = ContactFactory(lead_score=80)
    ContactFactory(lead_score=10)
    segment = SegmentFactory()
    membership_settle()
    assert events(segment) == [(inside.pk, True, "rules changed")]
    assert_exact(segment)


def test_an_edit_moves_the_contact_in_and_out_with_cause_dashboard():
    contact = ContactFactory(lead_score=10)
    segment = SegmentFactory()
    membership_settle()
    contact_update(contact=contact, data={"lead_score": 90})
    membership_settle()
    assert members(segment) == {contact.pk}
    contact_update(contact=contact, data={"lead_score": 5})
    membership_settle()
    assert members(segment) == set()
    assert events(segment) == [(contact.pk, True, "dashboard"), (contact.pk, False, "dashboard")]
    assert ContactChange.objects.count() == 0  # the journal was taken


def test_a_write_that_no_rule_reads_journals_only_the_columns_it_changed():
    contact = ContactFactory(lead_score=80, company="Acme")
    segment = SegmentFactory()
    membership_settle()
    Contact.objects.filter(pk=contact.pk).update(company="Globex", soft_bounces=2)
    assert list(ContactChange.objects.values_list("fields", flat=True)) == [["company"]]
    Contact.objects.filter(pk=contact.pk).update(soft_bounces=3, updated_at=timezone.now())
    assert ContactChange.objects.count() == 1  # nothing a rule reads: not journalled
    # A segment reading only leadScore is not re-checked for a company change: a
    # member removed by hand stays removed until something it reads changes.
    SegmentMember.objects.filter(segment=segment).delete()
    membership_settle()
    assert members(segment) == set()
    segment_reconcile(segment_id=segment.pk)
    assert events(segment)[-1] == (contact.pk, True, "reconcile")


def test_api_upsert_enters_with_cause_api():
    segment = SegmentFactory()
    membership_settle()
    with change_cause("api"):
        (result,) = contacts_upsert(items=[{"email": "hi@example.com", "lead_score": 75}])
        assert result.status == "created", result
    membership_settle()
    contact = Contact.objects.get(email="hi@example.com")
    assert events(segment) == [(contact.pk, True, "api")]
    assert_exact(segment)


def test_tags_and_groups_move_contacts():
    vip, group = TagFactory(name="vip"), GroupFactory()
    contact = ContactFactory()
    tagged = SegmentFactory(filter_json=[{"field": "tag", "op": "is", "value": "vip"}])
    grouped = SegmentFactory(filter_json=[{"field": "group", "op": "in_group", "value": group.pk}])
    membership_settle()
    contact.tags.add(vip)
    group_add_members(group=group, contact_ids=[contact.pk])
    membership_settle()
    assert members(tagged) == members(grouped) == {contact.pk}
    contact.tags.remove(vip)
    membership_settle()
    assert members(tagged) == set()
    assert_exact(tagged)
    assert_exact(grouped)


def test_a_bulk_unsubscribe_moves_every_selected_contact():
    contacts = ContactFactory.create_batch(3, lead_score=90)
    reachable = SegmentFactory(
        filter_json=[
            {"field": "leadScore", "op": "gte", "value": 70},
            {"field": "isUnsubscribed", "op": "equals", "value": False},
        ]
    )
    membership_settle()
    assert members(reachable) == {c.pk for c in contacts}
    bulk_action_create(
        action=BulkAction.Action.UNSUBSCRIBE, selection={"ids": [contacts[0].pk]}, total=1
    )
    membership_settle()
    assert members(reachable) == {c.pk for c in contacts[1:]}
    assert events(reachable)[-1] == (contacts[0].pk, False, "dashboard")


def test_a_deleted_contact_leaves_with_an_exit():
    contact = ContactFactory(lead_score=90)
    segment = SegmentFactory()
    membership_settle()
    pk = contact.pk
    with change_cause("api"):
        contact.delete()
    membership_settle()
    assert events(segment) == [(pk, True, "rules changed"), (pk, False, "api")]
    assert_exact(segment)


def test_a_rule_edit_reconciles_in_one_diff_and_a_referencing_segment_follows():
    low, high = ContactFactory(lead_score=20), ContactFactory(lead_score=90)
    base = SegmentFactory()
    outer = SegmentFactory(filter_json=[{"field": "segment", "op": "in_segment", "value": base.pk}])
    membership_settle()
    assert members(outer) == {high.pk}
    segment_update(
        segment=base, name=base.name, filter_json=[{"field": "leadScore", "op": "lt", "value": 50}]
    )
    membership_settle()
    assert events(base)[-2:] == [(low.pk, True, "rules changed"), (high.pk, False, "rules changed")]
    assert sorted(events(outer)[-2:]) == [
        (low.pk, True, "reference"),
        (high.pk, False, "reference"),
    ]
    assert_exact(base)
    assert_exact(outer)


def test_within_days_moves_with_the_clock_and_only_crossing_contacts_are_rechecked():
    now = timezone.now()
    old = ContactFactory(last_interacted_at=now - dt.timedelta(days=29, hours=23))
    ContactFactory(last_interacted_at=now - dt.timedelta(days=3))
    recent = SegmentFactory(
        filter_json=[{"field": "lastInteracted", "op": "within_days", "value": 30}]
    )
    membership_settle(now=now)
    assert len(members(recent)) == 2
    later = now + dt.timedelta(hours=2)
    membership_time_recheck(now=later)
    assert events(recent)[-1] == (old.pk, False, "time")
    recent.refresh_from_db()
    assert members(recent) == set(
        contacts_matching(recent.filter_json, now=later).values_list("pk", flat=True)
    )


def test_reconcile_command_repairs_drift_and_says_what_it_changed(capsys):
    contact = ContactFactory(lead_score=90)
    segment = SegmentFactory(name="Hot")
    membership_settle()
    SegmentMember.objects.filter(segment=segment).delete()
    call_command("segments_reconcile", "--segment", str(segment.pk))
    out = capsys.readouterr().out
    assert f"Hot (#{segment.pk}): 1 added, 0 removed" in out
    assert members(segment) == {contact.pk}
    call_command("segments_reconcile")
    assert "0 repaired" in capsys.readouterr().out


def test_a_settle_that_dies_midway_is_done_again_whole(monkeypatch):
    from segments import membership

    contact = ContactFactory(lead_score=10)
    first, second = SegmentFactory(), SegmentFactory()
    membership_settle()
    contact_update(contact=contact, data={"lead_score": 90})
    real = membership._recheck_few

    def dies_after_writing(segments, **kwargs):
        real(segments, **kwargs)  # the entries are written, then the worker dies
        raise RuntimeError("worker killed")

    monkeypatch.setattr(membership, "_recheck_few", dies_after_writing)
    with pytest.raises(RuntimeError):
        membership_settle()
    # Rolled back whole: the entries too, and the journal row is still there.
    assert members(first) == members(second) == set()
    assert ContactChange.objects.count() == 1
    monkeypatch.setattr(membership, "_recheck_few", real)
    membership_settle()
    for segment in (first, second):
        assert events(segment) == [(contact.pk, True, "dashboard")]  # once, not twice
        assert_exact(segment)


REACHABLE = [{"field": "status", "op": "equals", "value": "active"}]


def test_the_unsubscribe_link_and_a_bounce_leave_with_their_causes():
    from mailing.bounces import apply_bounce
    from mailing.unsubscribe import contact_unsubscribe

    leaving, bouncing = ContactFactory(), ContactFactory()
    active = SegmentFactory(filter_json=REACHABLE)
    membership_settle()
    contact_unsubscribe(contact_id=leaving.pk)
    apply_bounce(email=bouncing.email, kind="hard", event_id="ev-1")
    membership_settle()
    assert events(active)[-2:] == [
        (leaving.pk, False, "unsubscribe"),
        (bouncing.pk, False, "bounce"),
    ]
    assert_exact(active)


def test_an_import_enters_with_cause_import(settings, tmp_path):
    from tests.contacts.importing import run

    settings.IMPORT_DIR = tmp_path / "imports"
    segment = SegmentFactory(filter_json=[{"field": "company", "op": "equals", "value": "Acme"}])
    membership_settle()
    job = run("Email,Company\nnew@example.com,Acme\nother@example.com,Globex\n")
    assert job.created == 2
    membership_settle()
    new = Contact.objects.get(email="new@example.com")
    assert events(segment) == [(new.pk, True, "import")]


def test_requests_to_the_api_and_the_admin_write_with_their_causes(admin, admin_client_):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    first, second = ContactFactory(lead_score=10), ContactFactory(lead_score=90)
    segment = SegmentFactory()
    membership_settle()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")
    assert (
        api.patch(f"/api/contacts/{first.pk}", {"lead_score": 80}, format="json").status_code == 200
    )
    response = admin_client_.post(f"/admin/contacts/contact/{second.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    membership_settle()
    assert events(segment)[-2:] == [(first.pk, True, "api"), (second.pk, False, "admin")]


@pytest.mark.parametrize("few", [0, 200], ids=["segment by segment", "all segments at once"])
def test_both_ways_of_rechecking_written_contacts_agree(monkeypatch, few):
    from segments import membership

    monkeypatch.setattr(membership, "FEW", few)
    contacts = ContactFactory.create_batch(4, lead_score=50)
    high, low = (
        SegmentFactory(),
        SegmentFactory(filter_json=[{"field": "leadScore", "op": "lt", "value": 40}]),
    )
    membership_settle()
    Contact.objects.filter(pk__in=[c.pk for c in contacts[:2]]).update(lead_score=90)
    Contact.objects.filter(pk=contacts[2].pk).update(lead_score=5)
    contacts[3].delete()
    membership_settle()
    assert members(high) == {contacts[0].pk, contacts[1].pk}
    assert members(low) == {contacts[2].pk}
    assert_exact(high)
    assert_exact(low)
