"""REST API with 100k contacts: bulk contact upsert and paging through a segment's contacts.

    .venv/bin/python bench/api.py [--contacts 100000] [--batch 1000] [--pages 200]
                                  [--clients 2]

1. The database `flock_bench_api` on the bench server, migrated and emptied of
   contacts, tags and groups (made again on each run).
2. Upsert from one client: N new contacts posted to `POST /api/contacts` in arrays
   of BATCH, each with 2 tags and 1 group by name, 4 custom fields and a
   `last_interacted_at`; then the same N again with changed names (every item an
   update). Contacts/s is N over the time spent inside the requests (from the call
   to the response); building the JSON bodies is done beforehand and left out.
3. Paging: a segment matching all N contacts (`leadScore gte 0`), read with
   `GET /api/segments/{id}/contacts?per_page=100`: first by following each
   response's `Link: rel="next"` (keyset cursors) from page 1 for PAGES pages, then
   by jumping with `?page=K` at a few depths (OFFSET). p50 / p95 per request.
4. Upsert from CLIENTS processes at once (an integration with as many connections,
   a server with as many workers): N more new contacts, then their update.
   Contacts/s is N over the wall clock from the first request to the last response.

Requests go through Django's test client with `Authorization: Token …` (routing,
middleware, DRF authentication and throttling, serialisation; no socket), against
the production settings' code paths (DJANGO_DEBUG=false).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from collections import Counter

from _common import bench_services, database_url, ensure_database, machine, manage, percentile

DB = "flock_bench_api"
TAGS = ["customer", "newsletter", "trial", "vip", "webinar", "partner"]
GROUPS = ["Imported 2026", "Conference leads", "Beta testers"]
PLANS = ["free", "pro", "team", "enterprise"]


def payload(start: int, count: int, *, rng: random.Random, renamed: bool) -> list[dict]:
    items = []
    for n in range(start, start + count):
        items.append(
            {
                "email": f"person{n}@example{n % 97}.com",
                "first_name": ("Renamed" if renamed else "Person") + str(n % 1000),
                "last_name": f"Tester{n % 313}",
                "company": f"Company {n % 5000}",
                "lead_score": rng.randint(0, 100),
                "last_interacted_at": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
                "T12:00:00Z",
                "tags": rng.sample(TAGS, 2),
                "groups": [GROUPS[n % len(GROUPS)]],
                "custom_fields": {
                    "plan": PLANS[n % len(PLANS)],
                    "seats": n % 50,
                    "trial": n % 3 == 0,
                    "region": f"r{n % 12}",
                },
            }
        )
    return items


def bodies(start: int, total: int, batch: int, *, renamed: bool) -> list[str]:
    """The request bodies, built before any clock starts."""
    rng = random.Random(7)
    return [
        json.dumps(payload(n, min(batch, start + total - n), rng=rng, renamed=renamed))
        for n in range(start, start + total, batch)
    ]


# Set before the client processes fork, so that they inherit it instead of
# receiving it pickled.
_BODIES: list[str] = []


def _post(args: tuple[dict, list[int]]) -> tuple[list[float], Counter]:
    """Post the bodies at these indexes one after another; per-request ms and outcomes."""
    from django.test import Client

    headers, indexes = args
    client, timings, outcomes = Client(), [], Counter()
    for index in indexes:
        t0 = time.perf_counter()
        response = client.post("/api/contacts", _BODIES[index], content_type="application/json",
                               **headers)  # fmt: skip
        assert response["Content-Type"].startswith("application/json"), response.content[:3000]
        result = response.json()
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (response.status_code, result)
        outcomes.update(item["status"] for item in result["results"])
    return timings, outcomes


def upsert(headers, requests: list[str], total: int, *, clients: int) -> dict:
    """Post every body: one client in this process (the time is the sum of its
    requests), or CLIENTS processes at once, like an integration with that many
    connections to a server with as many workers (the time is the wall clock from
    the first request to the last response)."""
    global _BODIES
    _BODIES = requests
    indexes = list(range(len(requests)))
    if clients == 1:
        timings, outcomes = _post((headers, indexes))
        elapsed = sum(timings) / 1000
    else:
        from django.db import connections

        connections.close_all()  # each process opens its own
        pool = multiprocessing.get_context("fork").Pool(clients)
        started = time.perf_counter()
        parts = pool.map(_post, [(headers, indexes[i::clients]) for i in range(clients)])
        elapsed = time.perf_counter() - started
        pool.close()
        timings = [ms for part, _ in parts for ms in part]
        outcomes = sum((part for _, part in parts), Counter())
    return {
        "clients": clients,
        "seconds": elapsed,
        "rate": total / elapsed,
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "outcomes": outcomes,
    }


def next_link(response) -> str | None:
    for part in response.get("Link", "").split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def paging(client, headers, segment_id: int, pages: int) -> dict:
    url = f"/api/segments/{segment_id}/contacts?per_page=100"
    client.get(url, **headers)  # warm-up
    follow, seen = [], 0
    while url and len(follow) < pages:
        t0 = time.perf_counter()
        response = client.get(url, **headers)
        rows = response.json()
        follow.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200 and len(rows) == 100, (response.status_code, url, rows)
        seen += len(rows)
        url = next_link(response)
    jumps = {}
    for page in (1, 10, 100, 500, 1000):
        timings = []
        for _ in range(5):
            t0 = time.perf_counter()
            response = client.get(
                f"/api/segments/{segment_id}/contacts?per_page=100&page={page}", **headers
            )
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
        jumps[page] = percentile(timings, 50)
    return {
        "follow_p50": percentile(follow, 50),
        "follow_p95": percentile(follow, 95),
        "pages": len(follow),
        "rows": seen,
        "total_header": response.get("X-Total-Count"),
        "jumps": jumps,
    }


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()

    url = database_url(DB)
    ensure_database(url)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["FLOCK_API_RATE"] = "1000000/min"  # measure the API, not the throttle
    manage(url, "migrate", "--noinput", "-v0")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE contacts_contact, contacts_tag, contacts_group, segments_contactsegment,"
            " mailing_mailing CASCADE"
        )
    from _common import setup_django

    setup_django(url)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.authtoken.models import Token

    from segments.services import segment_create

    setup_test_environment()
    user, _ = get_user_model().objects.get_or_create(username="bench-api")
    token, _ = Token.objects.get_or_create(user=user)
    # As behind the TLS-terminating proxy that production settings expect.
    headers = {
        "HTTP_AUTHORIZATION": f"Token {token.key}",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    client = Client()

    print(f"Machine: {machine()}")
    print(f"Database: {DB}; {args.contacts:,} contacts in requests of {args.batch:,}\n", flush=True)
    n, batch = args.contacts, args.batch
    runs = {}
    runs["create"] = upsert(headers, bodies(0, n, batch, renamed=False), n, clients=1)
    print(f"create: {json.dumps(runs['create'])}", flush=True)
    runs["update"] = upsert(headers, bodies(0, n, batch, renamed=True), n, clients=1)
    print(f"update: {json.dumps(runs['update'])}", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    segment = segment_create(
        name="bench: everyone", filter_json=[{"field": "leadScore", "op": "gte", "value": 0}],
        user=None,
    )  # fmt: skip
    pages = paging(client, headers, segment.pk, args.pages)
    print(f"paging: {json.dumps(pages)}", flush=True)
    # Then N more new contacts, and their update, from CLIENTS processes at once.
    c = args.clients
    runs["create, concurrent"] = upsert(headers, bodies(n, n, batch, renamed=False), n, clients=c)
    print(f"create, {c} clients: {json.dumps(runs['create, concurrent'])}", flush=True)
    runs["update, concurrent"] = upsert(headers, bodies(n, n, batch, renamed=True), n, clients=c)
    print(f"update, {c} clients: {json.dumps(runs['update, concurrent'])}\n", flush=True)

    print("| what | result | target |")
    print("|---|---:|---:|")
    for name, r in runs.items():
        who = "one client" if r["clients"] == 1 else f"{r['clients']} clients at once"
        print(
            f"| `POST /api/contacts`, {n:,} contacts in arrays of {batch:,} "
            f"({name.split(',')[0]}, {who}) | {r['seconds']:.1f} s, "
            f"**{r['rate']:,.0f} contacts/s** (p50 {r['p50_ms']:.0f} ms per request) | ≥ 5,000/s |"
        )
    print(
        f"| `GET /api/segments/{{id}}/contacts?per_page=100`, following `Link: next`, "
        f"{pages['pages']} pages | p50 **{pages['follow_p50']:.1f} ms**, "
        f"p95 {pages['follow_p95']:.1f} ms | p50 ≤ 50 ms |"
    )
    for page, ms in pages["jumps"].items():
        print(f"| the same with `?page={page}` (OFFSET) | p50 {ms:.1f} ms | |")


def main():
    with bench_services():
        _main()


if __name__ == "__main__":
    sys.exit(main())
