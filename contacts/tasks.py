"""Celery tasks: thin, they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from .bulk import bulk_action_fail, bulk_action_run
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
