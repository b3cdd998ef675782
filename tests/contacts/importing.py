"""Helpers of the import tests: a file uploaded, mapped and run as the page does it."""

from __future__ import annotations

from contacts.imports.run import import_run, import_start, import_upload
from contacts.models import ImportJob


def upload(data: bytes | str, *, name: str = "contacts.csv", **options) -> ImportJob:
    raw = data.encode() if isinstance(data, str) else data
    return import_upload(chunks=[raw], file_name=name, **options)


def run(
    data: bytes | str | ImportJob,
    *,
    mapping: list[dict] | None = None,
    update_existing: bool = True,
    tags: list[str] = (),
    group=None,
) -> ImportJob:
    """Upload (unless given a job), start with the guessed mapping and run to the end."""
    job = data if isinstance(data, ImportJob) else upload(data)
    import_start(
        job=job,
        mapping=job.mapping if mapping is None else mapping,
        update_existing=update_existing,
        tags=list(tags),
        group=group,
        queue=False,
    )
    import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def rejections(job: ImportJob) -> list[tuple[int, str]]:
    return list(job.rejections.values_list("line", "reason"))
