"""Property test of living segments (issue 17): random contacts, random saved
segments (some using others), random writes through the services and clock
advances; once the re-checks settle, every segment's members are exactly what
`contacts_matching` says, and replaying its events gives the same members."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts.models import Contact, ContactTag, Group, GroupMembership, Tag
from contacts.services import contact_update, group_add_members, group_remove_members
from segments.membership import membership_settle, membership_time_recheck
from segments.models import ContactSegment, SegmentEvent, SegmentMember
from segments.selectors import contacts_matching

from .strategies import (
    GROUP_POOL,
    NOW,
    TAG_POOL,
    TreeContext,
    contact_lists,
    insert_contacts,
    trees,
)
from .test_rule_properties import examples

pytestmark = pytest.mark.django_db

# One write: (what, which contact by position, a drawn value).
writes = st.one_of(
    st.tuples(st.just("score"), st.integers(0, 7), st.sampled_from([0, 50, 69, 70, 71, 100])),
    st.tuples(st.just("unsubscribe"), st.integers(0, 7), st.booleans()),
    st.tuples(st.just("company"), st.integers(0, 7), st.sampled_from(["Acme", "a%b", ""])),
    st.tuples(st.just("interacted"), st.integers(0, 7), st.integers(-72, 0)),  # hours
    st.tuples(st.just("custom"), st.integers(0, 7), st.sampled_from([{}, {"plan": "pro"}])),
    st.tuples(st.just("tags"), st.integers(0, 7), st.lists(st.sampled_from(TAG_POOL), max_size=2)),
    st.tuples(st.just("group"), st.integers(0, 7), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 7), st.none()),
    st.tuples(st.just("clock"), st.integers(0, 7), st.sampled_from([1, 6, 24, 24 * 40])),
    st.tuples(st.just("clock"), st.integers(0, 7), st.sampled_from([12, 30])),
)


def _apply(write: tuple, ids: list[int], group: Group, clock: dt.datetime) -> dt.datetime:
    what, position, value = write
    if what == "clock":
        return clock + dt.timedelta(hours=value)
    if not ids:
        return clock
    contact = Contact.objects.filter(pk=ids[position % len(ids)]).first()
    if contact is None:
        return clock
    if what == "score":
        contact_update(contact=contact, data={"lead_score": value})
    elif what == "unsubscribe":
        contact_update(contact=contact, data={"is_unsubscribed": value})
    elif what == "company":
        contact_update(contact=contact, data={"company": value})
    elif what == "interacted":
        contact_update(
            contact=contact, data={"last_interacted_at": clock + dt.timedelta(days=value)}
        )
    elif what == "custom":
        contact_update(contact=contact, data={"custom_fields": value})
    elif what == "tags":
        contact_update(contact=contact, data={"tags": value})
    elif what == "group":
        change = group_add_members if value else group_remove_members
        change(group=group, contact_ids=[contact.pk])
    elif what == "delete":
        contact.delete()
    return clock


def _replayed(segment: ContactSegment) -> set[int]:
    inside: dict[int, bool] = {}
    for contact_id, entered in (
        SegmentEvent.objects.filter(segment=segment)
        .order_by("id")
        .values_list("contact_id", "entered")
    ):
        assert inside.get(contact_id, False) != entered, "an entry while in, or an exit while out"
        inside[contact_id] = entered
    return {contact_id for contact_id, now_in in inside.items() if now_in}


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_members_equal_the_selector_after_any_writes_and_clock_advances(data):
    with transaction.atomic():  # a savepoint per example, rolled back at its end
        tag_ids = {name: Tag.objects.create(name=name).pk for name in TAG_POOL}
        groups = tuple((Group.objects.create(name=name).pk, name) for name in GROUP_POOL)
        ctx = TreeContext(tag_names=TAG_POOL, groups=groups)
        rows = data.draw(contact_lists(TAG_POOL, [g for g, _ in groups], max_size=6))
        insert_contacts(rows, tag_ids)
        ids = [row["id"] for row in rows]
        for pk in ids:  # about half of them last seen in the 3 days before NOW
            hours = data.draw(st.one_of(st.none(), st.integers(-72, 0)))
            if hours is not None:
                recent = NOW + dt.timedelta(hours=hours)
                Contact.objects.filter(pk=pk).update(last_interacted_at=recent)
        saved: list[int] = []
        for i in range(3):
            tree = data.draw(
                trees(replace(ctx, segment_ids=tuple(saved)), max_depth=2, max_conditions=3)
            )
            saved.append(ContactSegment.objects.create(name=f"S{i}", filter_json=tree).pk)
        # And one that moves with the clock, so that clock advances cross boundaries.
        days = data.draw(st.sampled_from([1, 2]))
        moving = {
            "match": "any",
            "negate": False,
            "rules": [
                {"field": "lastInteracted", "op": "within_days", "value": days},
                {"field": "createdAt", "op": "older_than_days", "value": 400},
            ],
        }
        saved.append(ContactSegment.objects.create(name="Moving", filter_json=moving).pk)
        clock = NOW
        membership_settle(now=clock)
        group = Group.objects.get(pk=groups[0][0])
        for write in data.draw(st.lists(writes, max_size=6)):
            clock = _apply(write, ids, group, clock)
            if data.draw(st.booleans()):  # settle now and then, not after every write
                membership_settle(now=clock)
                membership_time_recheck(now=clock)
        membership_settle(now=clock)
        membership_time_recheck(now=clock)
        for segment in ContactSegment.objects.filter(pk__in=saved):
            expected = set(
                contacts_matching(segment.filter_json, now=clock).values_list("pk", flat=True)
            )
            members = set(
                SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True)
            )
            assert members == expected, segment.filter_json
            assert _replayed(segment) == members
            assert segment.member_count == len(members)
        transaction.set_rollback(True)
    assert not Contact.objects.exists()
    assert not (ContactTag.objects.exists() or GroupMembership.objects.exists())
