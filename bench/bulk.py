"""Bulk actions over 500,000 contacts: each action of the contacts list's bulk bar
applied to every contact, as the background task does it (contacts/bulk.py).

    .venv/bin/python bench/bulk.py [--contacts 500000]

1. The database `flock_bench_bulk` on the bench server with `seed_demo --contacts N
   --seed 3` (made again when its count is not N: the last step deletes them all).
2. Each action, timed from the confirmed job to its last batch (what the worker
   spends): add a new tag, remove it, add to a new group, remove from it,
   unsubscribe, delete. Target: each ≤ 10 s for 500,000 contacts.
"""

from __future__ import annotations

import argparse
import time

from _common import bench_services, machine, seeded_database, setup_django


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=500_000)
    args = parser.parse_args()
    setup_django(seeded_database("flock_bench_bulk", args.contacts, seed=3))

    from contacts import bulk
    from contacts.models import BulkAction, Contact, Group, Tag

    tag = Tag.objects.get_or_create(name="bench bulk")[0]
    group = Group.objects.get_or_create(name="Bench bulk")[0]
    everyone = {"filter": {"q": "", "tag": None, "group": None, "status": ""}}
    total = Contact.objects.count()
    print(f"Machine: {machine()}")
    print(f"Database: flock_bench_bulk; {total:,} contacts; batches of {bulk.BATCH:,}\n")
    print("| action | contacts | changed | seconds | contacts/s | target |")
    print("|---|---:|---:|---:|---:|---:|")
    Action = BulkAction.Action
    for action in (
        Action.ADD_TAG, Action.REMOVE_TAG, Action.ADD_TO_GROUP, Action.REMOVE_FROM_GROUP,
        Action.UNSUBSCRIBE, Action.DELETE,
    ):  # fmt: skip
        job = BulkAction.objects.create(
            action=action, selection=everyone, total=total, tag=tag, group=group
        )
        start = time.perf_counter()
        bulk.bulk_action_run(job=job)
        seconds = time.perf_counter() - start
        job.refresh_from_db()
        assert job.status == BulkAction.Status.DONE, job.status
        print(
            f"| {job.get_action_display()} | {job.done:,} | {job.changed:,} | {seconds:.1f} "
            f"| {job.done / seconds:,.0f} | ≤ 10 s |",
            flush=True,
        )


if __name__ == "__main__":
    with bench_services():
        _main()
