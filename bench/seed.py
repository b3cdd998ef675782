"""Seeding 1M demo contacts end to end: `manage.py seed_demo --contacts 1000000 --seed 1`.

    .venv/bin/python bench/seed.py [--contacts N] [--keep] [--budget SECONDS]

Creates a fresh scratch database (flock_bench_seed) on the server of DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/flock), migrates it, then times the
command as a subprocess: Django start-up, generating the rows, tags and group
memberships, rebuilding the indexes and foreign keys, VACUUM ANALYZE. The database
is dropped afterwards unless --keep. Exits 1 when the run takes longer than the
budget (120 s by default).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from _common import ROOT, bench_services, database_url, machine, manage, setup_django


def _admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _recreate_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    from django.db import connections

    connections.close_all()
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check(contacts: int) -> str:
    """The loaded database is complete: counts, and every index the model declares."""
    from django.db import connection
    from django.db.models import UniqueConstraint

    from contacts.models import Contact, ContactTag, GroupMembership

    expected = {i.name for i in Contact._meta.indexes} | {
        c.name for c in Contact._meta.constraints if isinstance(c, UniqueConstraint)
    }
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s", [Contact._meta.db_table]
        )
        missing = expected - {name for (name,) in cur.fetchall()}
    if missing:
        raise SystemExit(f"indexes missing after the load: {', '.join(sorted(missing))}")
    have = Contact.objects.count()
    if have != contacts:
        raise SystemExit(f"expected {contacts:,} contacts, found {have:,}")
    return (
        f"{have:,} contacts, {ContactTag.objects.count():,} tag assignments, "
        f"{GroupMembership.objects.count():,} group memberships, all indexes present"
    )


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="flock_bench_seed")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = database_url(args.database)
    _recreate_database(url)
    try:
        manage(url, "migrate", "--noinput", "-v0")
        command = ["seed_demo", "--contacts", str(args.contacts), "--seed", str(args.seed)]
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            check=True,
        )
        seconds = time.perf_counter() - start

        setup_django(url)
        print(f"Check: {_check(args.contacts)}")
        print(f"Machine: {machine()}")
        verdict = "OK" if seconds <= args.budget else "OVER BUDGET"
        print(
            f"\n| `manage.py {' '.join(command)}` | {seconds:.1f} s | "
            f"budget {args.budget:.0f} s: {verdict} |"
        )
    finally:
        if args.keep:
            print(f"Kept the database {args.database}.")
        else:
            _drop_database(url)
    return 0 if seconds <= args.budget else 1


def main():
    with bench_services():
        return _main()


if __name__ == "__main__":
    sys.exit(main())
