"""A CSV import through a real Celery worker that is killed mid-file: the beat's
resume hands it to another worker, which goes on after the last committed batch
(or, in bulk mode, starts the rolled-back load again); nothing is lost or doubled
and the summary is right (issue 16.5)."""

from __future__ import annotations

import datetime as dt
import signal

import pytest

from contacts.imports.run import import_start, imports_resume
from contacts.models import Contact, ImportJob

from ..mailing.worker import Worker, broker_db, running_workers, wait_for, worker_env
from .factories import ContactFactory
from .importing import upload

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 30_000


@pytest.fixture
def broker(settings):
    with broker_db(settings) as url:
        yield url


def test_a_worker_killed_mid_import_loses_nothing_and_doubles_nothing(broker, import_dir):
    ContactFactory(email="u7@example.com", first_name="Before")  # an update, not bulk mode
    # Every 1,000th row repeats the row before it: 30 duplicates to report.
    lines = ["Email,First name"]
    for n in range(ROWS):
        lines.append(f"u{n - 1 if n % 1000 == 999 else n}@example.com,Name {n}")
    job = upload("\n".join(lines) + "\n")
    env = worker_env(
        smtp_port=1, FLOCK_IMPORT_BATCH=500, FLOCK_IMPORT_DIR=str(import_dir),
        FLOCK_IMPORT_BULK_MIN_ROWS=10**9,
    )  # fmt: skip
    with running_workers() as workers:
        first = Worker(env, "import-1").start()
        workers.append(first)
        import_start(
            job=job, mapping=job.mapping, update_existing=True, tags=["fair"], group=None
        )  # fmt: skip  (queued on commit: autocommit here)

        def midway():
            job.refresh_from_db()
            return job.total and 0 < job.rows < job.total // 2

        wait_for(midway, timeout=60, what="the first batches", workers=workers)
        first.kill(signal.SIGKILL)
        job.refresh_from_db()
        assert job.status == "running" and 0 < job.line < ROWS
        second = Worker(env, "import-2").start()
        workers.append(second)
        assert imports_resume(stale_after=dt.timedelta(0)) == 1  # the beat's check

        def finished():
            job.refresh_from_db()
            return job.finished

        wait_for(finished, timeout=120, what="the import to finish", workers=workers)
    assert job.status == "done", job.error
    assert (job.rows, job.rejected) == (ROWS, 30)
    assert (job.created, job.updated) == (ROWS - 30 - 1, 1)
    assert Contact.objects.count() == ROWS - 30
    assert Contact.objects.filter(tags__name="fair").count() == ROWS - 30
    assert job.rejections.count() == 30
    assert not ImportJob.objects.exclude(pk=job.pk).exists()


def test_a_bulk_load_in_a_prefork_worker_killed_midway_is_done_again_whole(broker, import_dir):
    # The production pool: the bulk load forks its checking processes from a pool
    # child. Killed mid-file (the whole process group, checkers too), the load rolls
    # back; the resumed run loads the whole file once.
    rows = 20_000
    lines = ["Email,First name"] + [f"b{n}@example.com,Name {n}" for n in range(rows)]
    lines.append("b5@example.com,Again")  # a repeat across batches
    job = upload("\n".join(lines) + "\n")
    env = worker_env(
        smtp_port=1, FLOCK_IMPORT_BATCH=200, FLOCK_IMPORT_DIR=str(import_dir),
        FLOCK_IMPORT_BULK_MIN_ROWS=1000,
    )  # fmt: skip
    with running_workers() as workers:
        first = Worker(env, "bulk-1", pool="prefork").start()
        workers.append(first)
        import_start(job=job, mapping=job.mapping, update_existing=True, tags=["fair"],
                     group=None)  # fmt: skip

        def midway():
            job.refresh_from_db()  # the bulk run reports over a connection of its own
            return job.total and 0 < job.rows < job.total // 2

        wait_for(midway, timeout=60, what="the first staged batches", workers=workers)
        first.kill(signal.SIGKILL)
        assert not Contact.objects.exists()  # all or nothing: rolled back
        second = Worker(env, "bulk-2", pool="prefork").start()
        workers.append(second)
        assert imports_resume(stale_after=dt.timedelta(0)) == 1

        def finished():
            job.refresh_from_db()
            return job.finished

        wait_for(finished, timeout=120, what="the bulk load to finish", workers=workers)
    assert job.status == "done", job.error
    assert (job.rows, job.created, job.rejected) == (rows + 1, rows, 1)
    assert Contact.objects.count() == rows
    assert Contact.objects.filter(tags__name="fair").count() == rows
    assert Contact.objects.get(email="b5@example.com").first_name == "Name 5"
