"""CSV import end to end: a generated file of N rows (tags and 3 custom fields)
imported into an empty contact table, then a changed copy of it into the full one.

    .venv/bin/python bench/import.py [--rows 1000000] [--only-empty]

Each import is timed from the upload (the file copied into IMPORT_DIR and sniffed)
to the summary, run in this process as the worker runs it (contacts/imports/run.py).
The first goes into an empty table, so it takes bulk mode (indexes built at the
end); the second updates every row (a new first name) with every index kept. Peak
RSS is this process's (the file is generated and read as a stream) and its largest
child's (a checking process of the bulk load). Target:
≥ 20,000 rows/s for the first, peak RSS < 300 MB.

The reference, timed in the same run (the machine drifts by a third within an
hour): the same file COPYed by PostgreSQL into a table of text columns with no
index, nothing checked: the floor no importer of this file gets under here.
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from pathlib import Path

from _common import bench_services, database_url, ensure_database, machine, manage, setup_django


def _write(path: Path, rows: int, name: str) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Email", "First name", "Last name", "Company", "Tags", "Plan", "Seats",
                         "Renewal"])  # fmt: skip
        plans = ("free", "pro", "team")
        for n in range(rows):
            writer.writerow([
                f"user{n}@example{n % 997}.com", f"{name}{n % 1000}", "Smith",
                f"Company {n % 5000} Inc", "vip, news" if n % 3 == 0 else "news",
                plans[n % 3], n % 50, f"2026-0{1 + n % 9}-15",
            ])  # fmt: skip


def _reference(path: Path, rows: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        columns = ", ".join(f"c{n} text" for n in range(8))
        cursor.execute(f"CREATE TEMPORARY TABLE bench_reference ({columns})")
        start = time.perf_counter()
        with (
            open(path, "rb") as source,
            cursor.copy("COPY bench_reference FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_reference")
    print(f"| reference: COPY into text columns | {rows:,} | | | {seconds:.1f} | "
          f"{rows / seconds:,.0f} | |", flush=True)  # fmt: skip


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--only-empty", action="store_true", help="only the import into an empty table"
    )
    args = parser.parse_args()
    url = database_url("flock_bench_import")
    ensure_database(url)
    manage(url, "migrate", "--noinput", "-v0")
    setup_django(url)

    from django.db import connection

    from contacts.imports.run import import_run, import_start, import_upload
    from contacts.models import CustomField, ImportJob

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contacts_contact, contacts_importjob, contacts_customfield CASCADE"
        )
    for name, kind in (("plan", "text"), ("seats", "number"), ("renewal", "date")):
        CustomField.objects.create(name=name, type=kind)
    print(f"Machine: {machine()}\n")
    print("| import | rows | created | updated | seconds | rows/s | peak RSS MB (run / checker) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("into an empty table", "Ann"), ("again, every row changed", "Bo")]
        for label, name in runs[:1] if args.only_empty else runs:
            path = Path(tmp) / "contacts.csv"
            _write(path, args.rows, name)
            if name == "Ann":
                _reference(path, args.rows)
            start = time.perf_counter()
            with open(path, "rb") as source:
                job = import_upload(chunks=iter(lambda: source.read(1 << 20), b""),
                                    file_name=path.name)  # fmt: skip
            import_start(job=job, mapping=job.mapping, update_existing=True, tags=[],
                         group=None, queue=False)  # fmt: skip
            import_run(job_id=job.pk)
            seconds = time.perf_counter() - start
            job = ImportJob.objects.get(pk=job.pk)
            assert job.status == "done" and job.rows == args.rows, (job.status, job.error)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            # The largest process this one waited for: the bulk load's checking
            # processes (or the migrate run before, whichever was larger).
            children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            rate = job.rows / seconds
            print(f"| {label} | {job.rows:,} | {job.created:,} | {job.updated:,} | "
                  f"{seconds:.1f} | {rate:,.0f} | {rss:.0f} / {children:.0f} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    with bench_services():
        _main()
