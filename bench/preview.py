"""Segment preview at 1M contacts: count + 10 samples through the builder's selector.

    .venv/bin/python bench/preview.py [--runs 20]

Loads 1,000,000 contacts with `seed_demo --seed 1` into the database
`flock_bench` once (reused afterwards), then times `segments.selectors.preview`
for the segments B1–B8 of issue 3: one warm-up, then N runs each.
"""

from __future__ import annotations

import argparse
import json
import time

from _common import bench_services, machine, million_contact_database, percentile, setup_django

WIN_BACK = [
    {"field": "lastInteracted", "op": "older_than_days", "value": 90},
    {"field": "isBounced", "op": "equals", "value": False},
    {"field": "isUnsubscribed", "op": "equals", "value": False},
]
SEGMENTS = {
    "B1": ("win-back prefab", {"match": "all", "rules": WIN_BACK}),
    "B2": (
        "win-back + tag is vip",
        {"match": "all", "rules": [*WIN_BACK, {"field": "tag", "op": "is", "value": "vip"}]},
    ),
    "B3": ("leadScore gte 70", [{"field": "leadScore", "op": "gte", "value": 70}]),
    "B4": ('company contains "inc"', [{"field": "company", "op": "contains", "value": "inc"}]),
    "B5": (
        'customField:plan equals "pro"',
        [{"field": "customField:plan", "op": "equals", "value": "pro"}],
    ),
    "B6": (
        "any: tag vip, score ≥ 90, source starts webinar",
        {
            "match": "any",
            "rules": [
                {"field": "tag", "op": "is", "value": "vip"},
                {"field": "leadScore", "op": "gte", "value": 90},
                {"field": "source", "op": "starts_with", "value": "webinar"},
            ],
        },
    ),
    "B7": ("lastInteracted within_days 30", [
        {"field": "lastInteracted", "op": "within_days", "value": 30}
    ]),
    "B8": (
        "not unsubscribed, any[pro & seats ≥ 10, customer & 60 days]",
        {
            "match": "all",
            "rules": [
                {"field": "isUnsubscribed", "op": "equals", "value": False},
                {"match": "any", "rules": [
                    {"match": "all", "rules": [
                        {"field": "customField:plan", "op": "equals", "value": "pro"},
                        {"field": "customField:seats", "op": "gte", "value": 10},
                    ]},
                    {"match": "all", "rules": [
                        {"field": "lifecycleStage", "op": "equals", "value": "customer"},
                        {"field": "lastInteracted", "op": "within_days", "value": 60},
                    ]},
                ]},
            ],
        },
    ),
}  # fmt: skip


def plan_summary(filter_json) -> str:
    """The scan nodes of the count's plan, e.g. 'Parallel Seq Scan; Bitmap Index Scan(...)'."""
    from django.db import connection

    from segments.selectors import contacts_matching

    sql, params = contacts_matching(filter_json).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT count(*) FROM ({sql}) s", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found: list[str] = []

    def walk(node):
        kind = node["Node Type"]
        if "Scan" in kind or "Join" in kind:
            index = node.get("Index Name")
            label = f"{kind}({index})" if index else kind
            if node.get("Parallel Aware"):
                label = "Parallel " + label
            if label not in found:
                found.append(label)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return "; ".join(found)


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default="flock_bench")
    args = parser.parse_args()

    url = million_contact_database(args.database)
    setup_django(url)
    from django.db import connection

    from contacts.db import build_missing_indexes
    from contacts.demo.load import register_demo_fields
    from segments.selectors import preview

    # A database seeded before the demo registered its fields: as the beat would.
    register_demo_fields()
    build_missing_indexes()

    print(f"Machine: {machine()}")
    print(f"Runs: {args.runs} after 1 warm-up, count + 10 samples via segments.selectors.preview\n")
    header = "| id | segment | p50 ms | p95 ms | count | plan |"
    print(header)
    print("|---|---|---:|---:|---:|---|")
    # The reference, timed in the same run (the machine drifts): a count of every row.
    timings = []
    for _ in range(args.runs + 1):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM contacts_contact")
            (total,) = cursor.fetchone()
        timings.append((time.perf_counter() - start) * 1000)
    timings = timings[1:]  # the warm-up
    print(
        f"| ref | count(*) of every contact | {percentile(timings, 50):.0f} "
        f"| {percentile(timings, 95):.0f} | {total:,} | |",
        flush=True,
    )
    for key, (label, filter_json) in SEGMENTS.items():
        preview(filter_json)  # warm-up
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = preview(filter_json)
            timings.append((time.perf_counter() - start) * 1000)
        print(
            f"| {key} | {label} | {percentile(timings, 50):.0f} | {percentile(timings, 95):.0f} "
            f"| {result.count:,} | {plan_summary(filter_json)} |",
            flush=True,
        )


def main():
    with bench_services():
        return _main()


if __name__ == "__main__":
    main()
