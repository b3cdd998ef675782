"""Shared by the benchmarks: the machine they ran on and a 1M-contact database.

Each benchmark prints its figures and this machine description; the latest
table lives in docs/benchmarks.md with the command that reproduces it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("DJANGO_DEBUG", "true")  # a development run; settings default to production
# Benchmarks run on a project-local PostgreSQL with the settings of scripts/devenv.py
# (shared_buffers 1GB, work_mem 64MB, 2 parallel workers), so that the figures do
# not depend on how the machine's own server happens to be configured. Point
# FLOCK_BENCH_DATABASE_URL at another server to measure that one instead.
BENCH_URL = os.environ.get(
    "FLOCK_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:55432/flock_bench"
)
DEFAULT_URL = BENCH_URL


@contextlib.contextmanager
def bench_services():
    """PostgreSQL (and Redis) for a benchmark, started if needed and stopped after."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import devenv

    os.environ["DATABASE_URL"] = BENCH_URL
    try:
        with devenv.Services(for_tests=False):
            yield
    except devenv.Fail as exc:
        raise SystemExit(f"bench: {exc}") from None


def database_url(name: str) -> str:
    """DATABASE_URL with its database name replaced (same server, other database)."""
    parts = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_URL))
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seeded_database(name: str, contacts: int, seed: int) -> str:
    """A migrated database with `seed_demo --contacts N --seed S`, made once and reused."""
    url = database_url(name)
    ensure_database(url)
    manage(url, "migrate", "--noinput", "-v0")
    import psycopg

    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM contacts_contact").fetchone()[0]
    if have != contacts:
        if have:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE contacts_contact, mailing_delivery CASCADE")
        print(f"Seeding {contacts:,} contacts into {name} (once)...", flush=True)
        manage(url, "seed_demo", "--contacts", str(contacts), "--seed", str(seed))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return url


def million_contact_database(name: str = "flock_bench", contacts: int = 1_000_000) -> str:
    """The 1M-contact database (seed 1) that the preview and list benchmarks share."""
    return seeded_database(name, contacts, seed=1)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = "? RAM"
    pg = "PostgreSQL ?"
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            pg = f"PostgreSQL {version} (shared_buffers {cursor.fetchone()[0]})"
    except Exception:  # noqa: BLE001 - the description is best effort
        pass
    return f"{cpu}, {os.cpu_count()} cores, {memory}, {pg}, Python {platform.python_version()}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]


def logged_in_client():
    """Django's test client, signed in as a `bench` superuser, against the bench database."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client run against this database
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()  # CSRF checks are off in the test client
    client.force_login(user)
    return client
