"""Contacts list and admin change list at 1M contacts, end to end through Django.

    .venv/bin/python bench/contacts_list.py [--runs 10]

Uses the same 1,000,000-contact database as bench/preview.py (made once).
Each row is a full request through the test client (middleware, view, SQL,
template), one warm-up then N runs.
"""

from __future__ import annotations

import argparse
import time

from _common import (
    bench_services,
    logged_in_client,
    machine,
    million_contact_database,
    percentile,
    setup_django,
)


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    setup_django(million_contact_database())
    client = logged_in_client()
    pages = {
        "contacts, first page": "/contacts/",
        "contacts, page at id 500,000": "/contacts/?after=500000",
        "contacts, last page": "/contacts/?after=60",
        'contacts, search "acme"': "/contacts/?q=acme",
        'contacts, search "olivia"': "/contacts/?q=olivia",
        "contacts, tag vip": "/contacts/?tag=vip",
        "contacts, status bounced": "/contacts/?status=bounced",
        "admin change list": "/admin/contacts/contact/",
        'admin, search "acme"': "/admin/contacts/contact/?q=acme",
        "admin, filter source + status": "/admin/contacts/contact/?source=api&status=active",
    }
    print(f"Machine: {machine()}")
    print(f"Runs: {args.runs} after 1 warm-up; full request through Django's test client\n")
    print("| page | URL | p50 ms | p95 ms |")
    print("|---|---|---:|---:|")
    for label, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        print(
            f"| {label} | `{url}` | {percentile(timings, 50):.0f} | "
            f"{percentile(timings, 95):.0f} |",
            flush=True,
        )


def main() -> None:
    with bench_services():
        _main()


if __name__ == "__main__":
    main()
