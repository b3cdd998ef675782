"""Living segments (segments/membership.py) at 1M contacts with 50 saved segments.

    .venv/bin/python bench/membership.py [--contacts 1000000] [--writes 100]

1. The database `flock_bench_members` on the bench server with `seed_demo --contacts
   N --seed 1` (made once and reused), and 50 segments: B1–B8 of bench/preview.py
   and variants of them with other thresholds, tags, days and plans.
2. First build: every segment's membership from nothing (what a settle does for new
   rules), and a rule edit of a segment matching every contact (`leadScore ≥ 0`),
   both timed as the database does them.
3. Write → membership: WRITES times, one contact's lead score PATCHed through the
   API (Django's test client) so that it enters or leaves B3, then the settle that
   records it, run right after the response, in this process. p50 / p99 of
   response + settle: the delay a worker adds to that (the notification at commit,
   the task's hop through Redis) is not in these figures.
4. The clock: `membership_time_recheck` over all 50 segments, once a minute's worth
   of time has passed.
5. An API upsert of 1,000 contacts (updates of existing ones that change their lead
   score), with the journal's triggers and, as the reference in the same run, with
   them disabled; then the settle of the 1,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from _common import bench_services, machine, percentile, seeded_database, setup_django
from preview import SEGMENTS

TRIGGERS = ("flock_contacts_inserted", "flock_contacts_updated", "flock_contacts_deleted")


def _variants() -> list[tuple[str, object]]:
    """B1–B8 and 42 variants of them: 50 segments."""
    rules = [(key, tree) for key, (_label, tree) in SEGMENTS.items()]
    for n in range(42):
        kind = n % 6
        if kind == 0:
            tree = [{"field": "leadScore", "op": "gte", "value": 10 + n}]
        elif kind == 1:
            tag = ["vip", "customer", "newsletter", "trial", "webinar"][n % 5]
            tree = [{"field": "tag", "op": "is", "value": tag}]
        elif kind == 2:
            tree = [{"field": "lastInteracted", "op": "within_days", "value": 7 + n}]
        elif kind == 3:
            plan = ["free", "pro", "team", "enterprise"][n % 4]
            tree = [{"field": "customField:plan", "op": "equals", "value": plan}]
        elif kind == 4:
            tree = {
                "match": "any",
                "rules": [
                    {"field": "leadScore", "op": "gte", "value": 80 + n % 20},
                    {"field": "lastInteracted", "op": "within_days", "value": n},
                ],
            }
        else:
            tree = [{"field": "company", "op": "contains", "value": ["inc", "llc", "ltd"][n % 3]}]
        rules.append((f"V{n}", tree))
    return rules


def _timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=100)
    args = parser.parse_args()
    setup_django(seeded_database("flock_bench_members", args.contacts, seed=1))

    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from contacts.models import Contact, ContactChange
    from segments.membership import membership_settle, membership_time_recheck
    from segments.models import ContactSegment, SegmentEvent, SegmentMember
    from segments.services import segment_update

    ContactSegment.objects.all().delete()
    ContactChange.objects.all().delete()
    segments = [
        ContactSegment(name=key, filter_json=tree) for key, tree in _variants()
    ]  # fmt: skip
    for segment in segments:
        segment.full_clean()
        segment.save()
    print(f"Machine: {machine()}")
    print(f"{Contact.objects.count():,} contacts, {len(segments)} segments")

    seconds, settled = _timed(membership_settle)
    print(
        f"first build of {len(segments)} segments: {seconds:.1f} s, "
        f"{SegmentMember.objects.count():,} memberships"
    )
    everybody = ContactSegment.objects.get(name="V0")
    segment_update(
        segment=everybody, name="V0", filter_json=[{"field": "leadScore", "op": "gte", "value": 0}]
    )
    seconds, settled = _timed(membership_settle)
    print(
        f"rule edit of one segment to every contact: {seconds:.1f} s "
        f"({settled.entered:,} entered, {settled.exited:,} left)"
    )

    from django.contrib.auth.models import User

    user = User.objects.get_or_create(username="bench-members")[0]
    token = Token.objects.get_or_create(user=user)[0]
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    b3 = ContactSegment.objects.get(name="B3")
    rng = random.Random(7)
    ids = list(Contact.objects.order_by("?").values_list("pk", flat=True)[: args.writes])
    latencies, settles = [], []
    for pk in ids:
        score = 90 if rng.random() < 0.5 else 10
        last_event = SegmentEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        start = time.perf_counter()
        response = client.patch(
            f"/api/contacts/{pk}", {"lead_score": score}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        answered = time.perf_counter()
        membership_settle()
        done = time.perf_counter()
        latencies.append((done - start) * 1000)
        settles.append((done - answered) * 1000)
        expected = score >= 70
        assert SegmentMember.objects.filter(segment=b3, contact_id=pk).exists() == expected
        assert SegmentEvent.objects.filter(pk__gt=last_event, segment=b3).count() <= 1
    print(
        f"PATCH + settle, {len(ids)} writes: p50 {percentile(latencies, 50):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms (the settle alone p50 "
        f"{percentile(settles, 50):.0f} ms, p99 {percentile(settles, 99):.0f} ms)"
    )

    later = (
        ContactSegment.objects.order_by().values_list("members_time_checked_at", flat=True).first()
        or dt.datetime.now(dt.UTC)
    ) + dt.timedelta(minutes=1)
    seconds, settled = _timed(lambda: membership_time_recheck(now=later))
    print(
        f"time re-check of {len(segments)} segments, a minute on: {seconds:.2f} s "
        f"({settled.entered:,} entered, {settled.exited:,} left)"
    )

    emails = list(Contact.objects.order_by("pk").values_list("email", flat=True)[:1000])

    def upsert(score: int) -> float:
        items = [{"email": email, "lead_score": score} for email in emails]
        start = time.perf_counter()
        response = client.post("/api/contacts", items, content_type="application/json")
        assert response.status_code == 200, response.content
        return time.perf_counter() - start

    with_journal, without = [], []
    for round_ in range(5):
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                cursor.execute(f"ALTER TABLE contacts_contact DISABLE TRIGGER {name}")
        without.append(upsert(20 + round_))
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                cursor.execute(f"ALTER TABLE contacts_contact ENABLE TRIGGER {name}")
        with_journal.append(upsert(80 + round_))
        membership_settle()
    seconds, _ = _timed(lambda: (upsert(95), membership_settle()))
    print(
        f"API upsert of 1,000 contacts: {percentile(with_journal, 50) * 1000:.0f} ms with the "
        f"journal, {percentile(without, 50) * 1000:.0f} ms without (median of 5); "
        f"upsert + settle: {seconds * 1000:.0f} ms"
    )
    segment_reconcile_check()


def segment_reconcile_check() -> None:
    from segments.membership import membership_time_recheck, segment_reconcile

    membership_time_recheck()  # the clock moved on while the steps above ran
    seconds, changed = _timed(segment_reconcile)
    drift = sum(entered + left for entered, left in changed.values())
    print(f"full reconcile of every segment: {seconds:.1f} s, drift found: {drift}")


if __name__ == "__main__":
    with bench_services():
        _main()
