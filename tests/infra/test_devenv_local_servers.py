"""`make dev` / `make test` bring up project-local PostgreSQL and Redis in any folder.

Each test copies scripts/devenv.py into a fresh `mktemp -d` folder (mode 700, so closed to
other users: as root the postgres system user cannot reach it, like /root/flock) and runs
its commands there against free ports where nothing answers. Never the real .data/ of the
checkout, never 5432/6379.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
DEVENV = ROOT / "scripts" / "devenv.py"
AS_ROOT = os.geteuid() == 0
PG_BINDIRS = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")

pytestmark = pytest.mark.skipif(
    not PG_BINDIRS or not shutil.which("redis-server"),
    reason="needs Debian's postgresql and redis-server packages (make test installs them)",
)
root_only = pytest.mark.skipif(not AS_ROOT, reason="only root runs PostgreSQL as another user")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running(pid: int) -> bool:
    """Exited processes count as gone even before init reaps them (zombies)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Checkout:
    """A copy of devenv.py in a folder only its owner may enter, with its own ports."""

    def __init__(self, parent: Path):
        self.root = parent / "flock"
        (self.root / "scripts").mkdir(parents=True)
        shutil.copy(DEVENV, self.root / "scripts" / "devenv.py")
        self.pg_port, self.redis_port = free_port(), free_port()
        assert {self.pg_port, self.redis_port}.isdisjoint({5432, 6379})
        self.database_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/flock"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"

    def devenv(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}
        return subprocess.run(
            [sys.executable, str(self.root / "scripts" / "devenv.py"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> None:
        r = self.devenv("services")
        assert r.returncode == 0, r.stderr
        assert f"export DATABASE_URL={self.database_url}" in r.stdout

    def sql(self, query: str) -> list[tuple]:
        with psycopg.connect(self.database_url, connect_timeout=5, autocommit=True) as conn:
            cur = conn.execute(query)
            return cur.fetchall() if cur.description else []

    @property
    def pg_home(self) -> Path:
        return (self.root / ".data" / "postgres").resolve()

    def server_pids(self) -> list[int]:
        pg = (self.pg_home / "data" / "postmaster.pid").read_text().split()[0]
        rd = (self.root / ".data" / "redis" / "redis.pid").read_text().strip()
        return [int(pg), int(rd)]


@pytest.fixture
def checkout():
    parent = Path(tempfile.mkdtemp())  # mode 700, as `mktemp -d`
    assert parent.stat().st_mode & 0o777 == 0o700
    co = Checkout(parent)
    try:
        yield co
    finally:  # never leave servers or data behind, whatever the test did
        co.devenv("stop")
        co.devenv("clean-data")
        shutil.rmtree(parent, ignore_errors=True)
        leaked = [p for p in (co.pg_port, co.redis_port) if answers(p)]
        assert not leaked, f"a server of the test is still running on port(s) {leaked}"


def test_postgres_and_redis_answer_in_a_closed_folder_and_stop_leaves_nothing_running(checkout):
    checkout.start()

    assert checkout.sql("SELECT current_database()") == [("flock",)]
    assert redis.Redis.from_url(checkout.redis_url, socket_timeout=5).ping()
    if AS_ROOT:  # postgres cannot enter the checkout: its data lives in a folder it owns
        home = checkout.pg_home
        assert not home.is_relative_to(checkout.root)
        assert pwd.getpwuid(home.stat().st_uid).pw_name == "postgres"
    pids = checkout.server_pids()

    r = checkout.devenv("stop")

    assert r.returncode == 0, r.stderr
    assert "stopping the local PostgreSQL" in r.stderr
    assert not answers(checkout.pg_port) and not answers(checkout.redis_port)
    assert [pid for pid in pids if running(pid)] == []
    assert "no project-local servers were running" in checkout.devenv("stop").stderr


def test_a_restart_finds_the_data_again_and_clean_data_deletes_all_of_it(checkout):
    checkout.start()
    checkout.sql("CREATE TABLE kept (name text); INSERT INTO kept VALUES ('spring')")
    home = checkout.pg_home
    assert checkout.devenv("stop").returncode == 0

    checkout.start()

    assert checkout.sql("SELECT name FROM kept") == [("spring",)]

    r = checkout.devenv("clean-data")

    assert r.returncode == 0, r.stderr
    assert not answers(checkout.pg_port) and not answers(checkout.redis_port)
    assert not home.exists()
    assert not (checkout.root / ".data").exists()


@root_only
def test_the_empty_folder_an_earlier_failed_start_left_does_not_block_the_next(checkout):
    # What devenv.py did before it could keep the cluster outside: chown, then give up.
    left = checkout.root / ".data" / "postgres"
    left.mkdir(parents=True)
    pw = pwd.getpwnam("postgres")
    os.chown(left, pw.pw_uid, pw.pw_gid)

    checkout.start()

    assert checkout.sql("SELECT 1") == [(1,)]
    assert (checkout.root / ".data" / "postgres").is_symlink()


@root_only
def test_deleting_dot_data_by_hand_starts_a_fresh_cluster(checkout):
    checkout.start()
    checkout.sql("CREATE TABLE old_rows (id int)")
    home = checkout.pg_home
    assert checkout.devenv("stop").returncode == 0
    shutil.rmtree(checkout.root / ".data")  # what a user, or `git clean -fdx`, does

    checkout.start()

    assert checkout.pg_home == home
    assert checkout.sql("SELECT to_regclass('old_rows') IS NULL") == [(True,)]


@root_only
def test_a_reachable_checkout_keeps_its_cluster_in_dot_data(checkout):
    checkout.root.parent.chmod(0o755)

    checkout.start()

    assert checkout.sql("SELECT 1") == [(1,)]
    pg_dir = checkout.root / ".data" / "postgres"
    assert not pg_dir.is_symlink()
    assert (pg_dir / "data" / "PG_VERSION").is_file()


@root_only
def test_a_cluster_postgres_cannot_reach_stops_with_a_message_saying_what_to_do(checkout):
    # A checkout with a cluster in .data, moved where postgres cannot follow.
    data = checkout.root / ".data" / "postgres" / "data"
    data.mkdir(parents=True)
    version = Path(PG_BINDIRS[0]).parent.parent.name + "\n"
    (data / "PG_VERSION").write_text(version)

    r = checkout.devenv("services")

    assert r.returncode == 1
    assert "holds a PostgreSQL cluster the postgres user cannot reach" in r.stderr
    assert "make clean-data" in r.stderr
    assert "Traceback" not in r.stderr
    assert (data / "PG_VERSION").read_text() == version  # nothing deleted
    assert not answers(checkout.pg_port)
