"""Segment live preview at 1M contacts over HTTP: the htmx request, end to end.

    .venv/bin/python bench/preview_http.py [--runs 20]

Uses the same 1,000,000-contact database as bench/preview.py (made once). Each
row is the request the rule builder's live preview sends: a POST of the builder
form (`encode_tree` of the segment's canonical tree) with `HX-Request: true` to
/contacts/segments/preview, through Django's test client (middleware, session
auth, form decoding, selector, rendering of the `#preview` partial). One
warm-up, then N runs per segment B1–B8.
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
from preview import SEGMENTS


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default="flock_bench")
    args = parser.parse_args()

    setup_django(million_contact_database(args.database))
    from django.urls import reverse

    from segments.forms import encode_tree
    from segments.rules import parse_filter

    client = logged_in_client()
    url = reverse("segments:preview")

    print(f"Machine: {machine()}")
    print(f"Runs: {args.runs} after 1 warm-up; htmx POST {url} through Django's test client\n")
    print("| id | segment | p50 ms | p95 ms |")
    print("|---|---|---:|---:|")
    for key, (label, filter_json) in SEGMENTS.items():
        data = encode_tree(parse_filter(filter_json))
        # Warm-up, and the check that the partial rendered a count (not rule errors).
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, (key, response.status_code)
        body = response.content.decode()
        assert 'id="preview-count"' in body, (key, body[:2000])
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            response = client.post(url, data, HTTP_HX_REQUEST="true")
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (key, response.status_code)
        print(
            f"| {key} | {label} | {percentile(timings, 50):.0f} | {percentile(timings, 95):.0f} |",
            flush=True,
        )


def main() -> None:
    with bench_services():
        _main()


if __name__ == "__main__":
    main()
