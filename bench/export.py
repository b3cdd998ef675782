"""CSV export of 1,000,000 contacts, end to end through Django (contacts/export.py).

    .venv/bin/python bench/export.py [--runs 2]

Uses the same 1,000,000-contact database as bench/preview.py (made once). Each run
is `GET /contacts/export` (every contact, unfiltered) through the test client,
timed until the last byte of the streamed body has been read; then the same for
`?tag=vip`. Target: ≤ 30 s for 1M contacts.
"""

from __future__ import annotations

import argparse
import resource
import time

from _common import (
    bench_services,
    logged_in_client,
    machine,
    million_contact_database,
    setup_django,
)


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    setup_django(million_contact_database())
    client = logged_in_client()
    print(f"Machine: {machine()}")
    print("| export | rows | MB | seconds | rows/s | target |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, url in (
        ("every contact", "/contacts/export"),
        ("tag vip", "/contacts/export?tag=vip"),
    ):
        for _ in range(args.runs):
            start = time.perf_counter()
            response = client.get(url)
            size = rows = 0
            for block in response.streaming_content:
                size += len(block)
                rows += block.count(b"\n")
            seconds = time.perf_counter() - start
            # Newlines inside quoted cells would count as rows; the demo data has none.
            print(
                f"| {label} | {rows - 1:,} | {size / 1e6:.0f} | {seconds:.1f} "
                f"| {(rows - 1) / seconds:,.0f} | ≤ 30 s |",
                flush=True,
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak RSS of this process (Django and the client reading the stream): {peak:.0f} MB")


if __name__ == "__main__":
    with bench_services():
        _main()
