"""Real Celery workers for delivery tests: subprocesses on a Redis DB of their own.

A worker started here is a separate `celery -A config worker` process (its own
process group, so a SIGKILL takes all of it) that reads the pytest test database
and sends to an SMTP server started by the test. Tasks go through Redis DB 15,
which the tests flush before and after, so nothing of `make dev`'s queue (DB 0)
is consumed or left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app

from .smtp import Recorder, SmtpServer

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = "redis://127.0.0.1:6379/15"


def flush_broker() -> None:
    redis.Redis.from_url(BROKER_URL).flushdb()


def _reset_producer_pool() -> None:
    """Forget the app's pools made for the previous URL (cached lazily, on first send).

    Not closed: kombu keeps one pool per URL process-wide and hands it out again.
    """
    celery_app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        celery_app.__dict__["amqp"]._producer_pool = None


@contextlib.contextmanager
def broker_db(django_settings) -> Iterator[str]:
    """This process publishes to BROKER_URL (an empty Redis DB) for the block."""
    old_url, old_eager = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    django_settings.CELERY_BROKER_URL = BROKER_URL
    django_settings.SEND_JOURNAL_URL = BROKER_URL  # the workers' sent-journals (mailing.journal)
    django_settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.broker_url = BROKER_URL
    celery_app.conf.task_always_eager = False
    _reset_producer_pool()
    flush_broker()
    try:
        yield BROKER_URL
    finally:
        _reset_producer_pool()
        celery_app.conf.broker_url = old_url
        celery_app.conf.task_always_eager = old_eager
        flush_broker()


def current_database_url() -> str:
    """DATABASE_URL of the database this test runs in (pytest-django's test_… one)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{quote(db['NAME'], safe='')}"


def worker_env(*, smtp_port: int, **extra: str | int) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the unsubscribe links must verify here
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "false",
        "EMAIL_TIMEOUT": "10",
        "ANYMAIL_ESP": "",
        "FLOCK_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Worker:
    """`celery -A config worker --pool solo` (or `pool`, e.g. the default prefork
    with one child) in its own process group."""

    def __init__(self, env: dict[str, str], name: str, pool: str = "solo"):
        self.env, self.name, self.pool = env, name, pool
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"flock-{name}-", suffix=".log", delete=False
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--pool", self.pool, "--concurrency", "1", "-l", "warning", "-n", f"{self.name}@%h",
                "--without-mingle", "--without-gossip", "--without-heartbeat",
            ],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 10) -> None:
        """Signal the worker's whole process group and wait for it to be gone."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), SIGKILL if that takes too long; closes the log."""
        self.kill(signal.SIGTERM, timeout=10)
        self.log.close()

    def output(self, lines: int = 40) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


@contextlib.contextmanager
def running_workers() -> Iterator[list[Worker]]:
    """Collects the workers a test starts; every one is stopped on the way out."""
    workers: list[Worker] = []
    try:
        yield workers
    finally:
        for worker in workers:
            worker.kill(signal.SIGKILL)
            worker.log.close()
            with contextlib.suppress(OSError):
                os.unlink(worker.log.name)


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    workers: list[Worker] = (),
):
    """Poll until `predicate()` is truthy; fail with the workers' logs after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name} ---\n{w.output()}" for w in workers)
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.\n{logs}")
        for worker in workers:
            if worker.proc is not None and worker.proc.poll() not in (None, -signal.SIGKILL):
                raise AssertionError(
                    f"Worker {worker.name} exited ({worker.proc.returncode}) while waiting "
                    f"for {what}:\n{worker.output()}"
                )
        time.sleep(interval)


class SlowRecorder(Recorder):
    """Answers each message `delay` seconds after it arrived, like a remote server."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        # Kept first, answered later: a client that dies before reading the 250 has
        # still delivered the message, as with a real MTA.
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return reply


class SlowSmtpServer(SmtpServer):
    def __init__(self, delay: float):
        super().__init__()
        self.recorder = SlowRecorder(delay)
        self.controller.handler = self.recorder
