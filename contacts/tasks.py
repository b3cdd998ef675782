"""Celery tasks: thin, they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from .bulk import bulk_action_fail, bulk_action_run
from .db import build_missing_indexes
from .imports.run import import_fail, import_run, imports_resume
from .models import BulkAction


@shared_task(acks_late=True)
def bulk_action_run_task(job_id: int) -> None:
    """A large bulk action, batch by batch; a retry after a crash goes on where the
    last committed batch ended (bulk.py)."""
    job = BulkAction.objects.get(pk=job_id)
    try:
        bulk_action_run(job=job)
    except Exception as exc:
        bulk_action_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(acks_late=True)
def import_run_task(job_id: int) -> None:
    """A CSV import; a run that was stopped goes on after its last committed batch
    (contacts/imports/run.py)."""
    try:
        import_run(job_id=job_id)
    except Exception as exc:
        import_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task
def imports_resume_task() -> None:
    """Queue again the imports of workers that were killed (the beat, every minute)."""
    imports_resume()


@shared_task
def contact_indexes_task() -> None:
    """The indexes of the registered custom fields, built (or dropped with
    their field) while writes go on (the beat, every minute; contacts/db.py)."""
    build_missing_indexes(concurrently=True)
