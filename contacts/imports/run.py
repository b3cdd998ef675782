"""CSV imports, from the upload to the summary (docs/design.md#imports).

A job is uploaded (`import_upload`: the file stored, sniffed, its columns mapped by
guess), then started (`import_start`: the mapping checked, new custom fields
registered, the task queued), then run (`import_run`, in a worker or the command
line) and finished: done, cancelled or failed.

The run reads the file once to count its rows, then again in batches of
IMPORT_BATCH rows. Each batch is one transaction: its rows checked in Python (the
API's `contact_clean`), their emails claimed in `ImportEmail` (a later row with an
email already claimed is a duplicate: the first row wins), the contacts written by
the API's set-based upsert, the rejected rows recorded, and the job's counters and
`line` (the last line done) updated. A run that was stopped (a killed worker, a
restart) goes on after `line`, so nothing is written twice and the counts stay
right; only the lock of `_running` lets one run at a time.

Into an empty contact table, an import of IMPORT_BULK_MIN_ROWS rows or more is one
transaction instead (a first import of a whole list), staged with COPY and merged
set-based (bulk.py) with the indexes set aside: all or nothing, its progress written
over a second connection, the search indexes built after its commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Full, Queue
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import F
from django.utils import timezone

from ..changes import change_cause
from ..custom_fields import FieldTypes
from ..db import IndexesSetAside, build_missing_indexes, own_connection
from ..forms import CustomFieldForm
from ..models import Contact, CustomField, Group, ImportEmail, ImportJob, ImportRejection
from ..upsert import upsert_cleaned
from ..validation import UNSTORABLE, ContactInvalid
from .bulk import StagedLoad, copy_rows
from .mapping import TARGETS, RowReader, auto_mapping, reason
from .processes import map_in_order
from .reading import Position, Sniffed, Unreadable, records, sniff

Status = ImportJob.Status
# The first key of the advisory lock a run holds (the second is the job's id).
_LOCK_KEY = 0x464C4B49  # "FLKI"


# -- upload and start ----------------------------------------------------------------


def import_upload(
    *,
    chunks: Iterable[bytes],
    file_name: str,
    user=None,
    encoding: str = "",
    delimiter: str = "",
) -> ImportJob:
    """Store an uploaded file and read its start: a job waiting for its mapping.

    Raises Unreadable (and keeps nothing) for a file too large, empty, not a CSV, or
    with a header and no rows."""
    directory = Path(settings.IMPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.csv"
    try:
        size = 0
        with open(path, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > settings.IMPORT_MAX_BYTES:
                    raise Unreadable(too_large_message())
                out.write(chunk)
        sniffed = _sniff(path, encoding=encoding, delimiter=delimiter)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ImportJob.objects.create(
        file_name=file_name[:255],
        path=str(path),
        size=size,
        encoding=sniffed.encoding,
        delimiter=sniffed.delimiter,
        header=sniffed.header,
        mapping=auto_mapping(sniffed.header, CustomField.registry()),
        created_by=user,
    )


def too_large_message() -> str:
    limit = settings.IMPORT_MAX_BYTES / 1024 / 1024
    return (
        f"The file is larger than {limit:,.0f} MB, the most Flock imports at once. Split "
        "it, or compress it as .csv.gz (the limit counts the compressed size)."
    )


def _sniff(path: Path, *, encoding: str, delimiter: str) -> Sniffed:
    sniffed = sniff(path, encoding=encoding, delimiter=delimiter)
    if not sniffed.rows:
        raise Unreadable("The file has a header row but no contacts below it.")
    return sniffed


def import_preview(job: ImportJob) -> Sniffed:
    """The header and first rows as the job reads them (its encoding and delimiter)."""
    return _sniff(Path(job.path), encoding=job.encoding, delimiter=job.delimiter)


def import_reread(job: ImportJob, *, encoding: str, delimiter: str) -> ImportJob:
    """Read the file again with another encoding or delimiter (its mapping guessed anew
    if the header changed). Raises Unreadable; the job is then as it was."""
    sniffed = _sniff(Path(job.path), encoding=encoding, delimiter=delimiter)
    if sniffed.header != job.header:
        job.mapping = auto_mapping(sniffed.header, CustomField.registry())
    job.encoding, job.delimiter, job.header = sniffed.encoding, sniffed.delimiter, sniffed.header
    job.save(update_fields=["encoding", "delimiter", "header", "mapping"])
    return job


class MappingInvalid(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(" ".join(errors))


def check_mapping(header: list[str], mapping: list[dict[str, str]]) -> list[str]:
    """What is wrong with a mapping, in words (nothing: it can run)."""
    if len(mapping) != len(header):
        return [f"Map each of the {len(header)} columns (or skip it)."]
    errors = []
    columns: dict[str, list[str]] = {}
    for index, (name, entry) in enumerate(zip(header, mapping, strict=True)):
        to = entry.get("to", "")
        shown = name or f"column {index + 1}"
        if to not in TARGETS:
            errors.append(f"Column “{shown}”: choose what it holds.")
            continue
        if to == "custom":
            field = (entry.get("field") or "").strip()
            if not field:
                errors.append(f"Column “{shown}”: name the custom field it goes to.")
                continue
            to = f"custom field “{field}”"
        if to not in ("skip", "tags"):
            columns.setdefault(TARGETS.get(to, to), []).append(f"“{shown}”")
    for target, names in columns.items():
        if len(names) > 1:
            errors.append(
                f"{' and '.join(names)} are both mapped to {target}; map one of them, "
                "skip the other."
            )
    if "Email" not in columns:
        errors.append("Map one column to Email: contacts are matched by their email address.")
    return errors


def import_start(
    *,
    job: ImportJob,
    mapping: list[dict[str, str]],
    update_existing: bool,
    tags: list[str],
    group: Group | None,
    queue: bool = True,
) -> ImportJob:
    """Check the mapping, register the new custom fields it names (an entry with a
    "type"), and queue the run once committed (unless the caller runs it: the command
    line). Raises MappingInvalid."""
    errors = check_mapping(job.header, mapping)
    types = CustomField.registry()
    new_fields = []
    for entry in mapping:
        name = (entry.get("field") or "").strip()
        if entry.get("to") != "custom" or not name or name.lower() in types:
            continue
        form = CustomFieldForm({"name": name, "label": name, "type": entry.get("type") or ""})
        if form.is_valid():
            new_fields.append(form)
        else:
            problems = " ".join(str(e) for errs in form.errors.values() for e in errs)
            errors.append(f"New custom field “{name}”: {problems}")
    if errors:
        raise MappingInvalid(errors)
    with transaction.atomic():
        for form in new_fields:
            form.save()
        job.mapping = [
            {k: e[k].strip() for k in ("to", "field") if isinstance(e.get(k), str)} for e in mapping
        ]
        job.update_existing, job.tags, job.group = update_existing, tags, group
        job.status = Status.QUEUED
        job.save(update_fields=["mapping", "update_existing", "tags", "group", "status"])
        if queue:
            from ..tasks import import_run_task  # tasks.py imports this module

            transaction.on_commit(lambda: import_run_task.delay(job.pk))
    return job


def import_cancel(*, job: ImportJob) -> None:
    """Stop an import: one not started yet is cancelled now, a running one after the
    batch it is in (what is committed stays, except in bulk mode: nothing)."""
    ImportJob.objects.filter(pk=job.pk, status__in=[Status.MAPPING, Status.QUEUED]).update(
        status=Status.CANCELLED, finished_at=timezone.now()
    )
    ImportJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(status=Status.CANCELLING)
    job.refresh_from_db()
    if job.status == Status.CANCELLED:
        Path(job.path).unlink(missing_ok=True)


# -- the run ---------------------------------------------------------------------------


class _Cancelled(Exception):
    pass


@dataclass
class _Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: _Counts) -> None:
        for name in ("rows", "created", "updated", "unchanged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def import_run(*, job_id: int, progress: Callable[[ImportJob], None] = lambda job: None) -> None:
    """Run a queued job, or go on with one that was stopped, to its end.

    `progress` is called with the job after each batch (the command line's bar).
    What it writes moves contacts in and out of segments with cause "import"."""
    with _running(job_id) as mine, change_cause("import"):
        if not mine:
            return  # another run has it
        job = ImportJob.objects.get(pk=job_id)
        if job.status == Status.CANCELLING:
            return _finish(job, Status.CANCELLED)
        if job.status not in (Status.QUEUED, Status.RUNNING):
            return
        build_missing_indexes()  # a bulk load stopped after its commit
        try:
            if job.total is None:
                job.total = _count_rows(job)
            job.status, job.heartbeat_at = Status.RUNNING, timezone.now()
            job.started_at = job.started_at or job.heartbeat_at
            job.save(update_fields=["total", "status", "started_at", "heartbeat_at"])
            bulk = job.line == 0 and job.total >= settings.IMPORT_BULK_MIN_ROWS
            if not (bulk and _no_contacts() and _run_in_bulk(job, progress)):
                _run_in_batches(job, progress)
        except _Cancelled:
            _finish(ImportJob.objects.get(pk=job_id), Status.CANCELLED)
        except Unreadable as exc:
            _finish(ImportJob.objects.get(pk=job_id), Status.FAILED, error=str(exc))


def import_fail(*, job_id: int, error: str) -> None:
    """Record a run that broke on something unforeseen (the task's last resort)."""
    ImportJob.objects.filter(pk=job_id).exclude(status__in=ImportJob.FINISHED).update(
        status=Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )


@contextlib.contextmanager
def _running(job_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_KEY, job_id])
        (mine,) = cursor.fetchone()
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_KEY, job_id])


def _no_contacts() -> bool:
    return not Contact.objects.exists()


def _count_rows(job: ImportJob) -> int:
    rows = records(Path(job.path), encoding=job.encoding, delimiter=job.delimiter)
    return max(sum(1 for _ in rows) - 1, 0)  # the header is not a row


def _reader(job: ImportJob, types: FieldTypes) -> RowReader:
    return RowReader(
        job.header,
        job.mapping,
        types,
        tags=job.tags,
        group=job.group.name if job.group else None,
    )


def _batches(job: ImportJob, position: Position) -> Iterator[list[tuple[int, list[str]]]]:
    """The rows after the header and after `job.line`, IMPORT_BATCH at a time."""
    rows = records(
        Path(job.path), encoding=job.encoding, delimiter=job.delimiter, position=position
    )
    next(rows, None)  # the header
    batch: list[tuple[int, list[str]]] = []
    for line, cells in rows:
        if line <= job.line:
            continue
        batch.append((line, cells))
        if len(batch) >= settings.IMPORT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_in_batches(job: ImportJob, progress: Callable[[ImportJob], None]) -> None:
    reader = _reader(job, CustomField.registry())
    position = Position()
    for checked in _prefetched(_checked(reader, _batches(job, position))):
        with transaction.atomic():
            status = ImportJob.objects.select_for_update().values_list("status", flat=True)
            if status.get(pk=job.pk) != Status.RUNNING:
                raise _Cancelled
            counts = _write_batch(job, checked)
            ImportJob.objects.filter(pk=job.pk).update(
                line=checked.line,
                bytes_read=position.bytes(),
                heartbeat_at=timezone.now(),
                **{name: F(name) + value for name, value in vars(counts).items()},
            )
        job.refresh_from_db()
        reset_queries()  # a DEBUG worker logs each batch's statements: keep memory flat
        progress(job)
    _finish(job, Status.DONE)


def _run_in_bulk(job: ImportJob, progress: Callable[[ImportJob], None]) -> bool:
    """The whole file in one transaction, through a staged load (see bulk.py), the
    contact table's search indexes built once it is committed. False (and nothing
    done): the table got contacts meanwhile, so the batches are the way."""
    reader = _reader(job, CustomField.registry())
    total = _Counts()
    with transaction.atomic(), _SideChannel(job.pk) as side:
        aside = IndexesSetAside()
        aside.drop()  # locks the table: nobody else writes it from now on
        if not _no_contacts():
            transaction.set_rollback(True)
            return False
        load = StagedLoad(now=timezone.now())
        staging = contextlib.closing(_staged_in_processes(job, reader, load.defaults))
        with staging as batches:
            for staged in batches:
                load.add(staged.copy, staged.tag_lists)
                ImportRejection.objects.bulk_create(
                    [_rejection(job, *rejected) for rejected in staged.rejections]
                )
                # Created counts what is staged: a repeat across batches is found (and
                # moved to the rejected) when the load is merged.
                total.add(_Counts(rows=staged.rows, created=staged.valid,
                                  rejected=len(staged.rejections)))  # fmt: skip
                job.line, job.bytes_read = staged.line, staged.bytes_read
                for name, value in vars(total).items():
                    setattr(job, name, value)
                if side.report(job) != Status.RUNNING:
                    raise _Cancelled  # the transaction rolls back: nothing was imported
                reset_queries()
                progress(job)
        created, repeats = load.merge(job_id=job.pk, group_id=job.group_id, duplicate=_DUPLICATE)
        total.created, total.rejected = created, total.rejected + repeats
        side.close()  # before this transaction writes the job row
        aside.restore(lambda message: None, indexes=False)
        ImportJob.objects.filter(pk=job.pk).update(
            line=job.line, bytes_read=job.bytes_read, heartbeat_at=timezone.now(), **vars(total)
        )
    # Committed: the contacts are in. The search indexes are built two at a time (if
    # this stops, the rerun builds what is missing), then the statistics that said
    # "empty" are renewed, and only then is the job done. The custom fields' indexes
    # are the beat's, as for a field registered any other time: it builds them within
    # the minute while writes go on (a date field's alone took 5 s of the 1M-row load).
    build_missing_indexes(wait=True, custom=False)  # after a build that held the lock
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Contact._meta.db_table}")
    _finish(job, Status.DONE)
    return True


class _SideChannel:
    """Progress written over a connection of its own, in autocommit: the page sees it
    while the bulk transaction is open, and a cancel is read back."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> _SideChannel:
        self.conn = own_connection()
        # The bulk transaction set the counters back to 0 when it began (a stopped
        # bulk run left nothing of its own).
        self.conn.execute(
            "UPDATE contacts_importjob SET rows = 0, created = 0, updated = 0, "
            "unchanged = 0, rejected = 0 WHERE id = %s",
            [self.job_id],
        )
        return self

    def report(self, job: ImportJob) -> str:
        assert self.conn is not None
        row = self.conn.execute(
            "UPDATE contacts_importjob SET rows = %s, created = %s, updated = %s, "
            "unchanged = %s, rejected = %s, bytes_read = %s, heartbeat_at = now() "
            "WHERE id = %s RETURNING status",
            [job.rows, job.created, job.updated, job.unchanged, job.rejected, job.bytes_read,
             self.job_id],
        ).fetchone()  # fmt: skip
        return row[0] if row else Status.CANCELLED

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class _Checked:
    """A batch of rows read and checked, not written yet."""

    rows: int
    line: int  # the last line of the batch
    valid: dict[str, tuple[int, dict[str, Any]]]  # by lower-case email, the first row
    rejections: list[tuple[int, str, str]]  # line, email as given, reason
    repeats: list[tuple[int, str]]  # rows whose email an earlier row of the batch has


def _checked(reader: RowReader, batches: Iterable[list[tuple[int, list[str]]]]):
    """Each batch's rows through the reader: pure Python, no database (so that it can
    run in a thread beside the writes, see _prefetched)."""
    for batch in batches:
        checked = _Checked(rows=len(batch), line=batch[-1][0], valid={}, rejections=[], repeats=[])
        for line, cells in batch:
            try:
                data = reader.contact(cells)
            except ContactInvalid as exc:
                checked.rejections.append((line, reader.email_cell(cells), reason(exc)))
                continue
            first = checked.valid.setdefault(data["email"].lower(), (line, data))
            if first[0] != line:
                checked.repeats.append((line, data["email"]))
        yield checked


@dataclass
class _Staged:
    """A batch read, checked and written as COPY text (in a checking process)."""

    rows: int
    line: int
    bytes_read: int
    valid: int
    copy: bytes  # the valid contacts, for the staging table
    tag_lists: set[str]
    rejections: list[tuple[int, str, str]]  # line, email as given, reason


def _staged_in_processes(
    job: ImportJob, reader: RowReader, defaults: dict[str, Any]
) -> Generator[_Staged, None, None]:
    """The file's batches, read here and checked by IMPORT_PROCESSES forked processes
    in turn (each batch's COPY text written there too); in the file's order."""
    position = Position()

    def stage(batch: tuple[list[tuple[int, list[str]]], int]) -> _Staged:
        rows, bytes_read = batch
        checked = next(_checked(reader, [rows]))
        first = {key: line for key, (line, _) in checked.valid.items()}
        rejections = checked.rejections + [
            (line, email, _duplicate(first[email.lower()])) for line, email in checked.repeats
        ]
        copy, tag_lists = copy_rows(checked.valid, defaults)
        return _Staged(rows=checked.rows, line=checked.line, bytes_read=bytes_read,
                       valid=len(checked.valid), copy=copy, tag_lists=tag_lists,
                       rejections=rejections)  # fmt: skip

    batches = ((rows, position.bytes()) for rows in _batches(job, position))
    return map_in_order(stage, batches, processes=settings.IMPORT_PROCESSES)


def _prefetched(items: Iterator[_Checked], depth: int = 2) -> Iterator[_Checked]:
    """`items` produced in a thread, up to `depth` ahead: the file is read and checked
    while PostgreSQL writes the batch before (psycopg lets go of the GIL meanwhile)."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        """Wait for room, unless the consumer has stopped (then False)."""
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _write_batch(job: ImportJob, checked: _Checked) -> _Counts:
    """One checked batch written (in the caller's transaction)."""
    counts = _Counts(rows=checked.rows)
    valid = checked.valid
    rejections = [_rejection(job, *rejected) for rejected in checked.rejections]
    first = {key: line for key, (line, _) in valid.items()}
    if valid:
        for key, first_line in _claim_emails(job, valid).items():
            line, data = valid.pop(key)
            rejections.append(_rejection(job, line, data["email"], _duplicate(first_line)))
            first[key] = first_line  # an earlier batch had it
    for line, email in checked.repeats:
        rejections.append(_rejection(job, line, email, _duplicate(first[email.lower()])))
    if valid:
        results = upsert_cleaned(
            list(valid.values()),
            now=timezone.now(),
            update_existing=job.update_existing,
            tell_unchanged=True,
        )
        for result in results.values():
            setattr(counts, result.status, getattr(counts, result.status) + 1)
    ImportRejection.objects.bulk_create(rejections)
    counts.rejected = len(rejections)
    job.line = checked.line
    return counts


def _claim_emails(job: ImportJob, valid: dict[str, tuple[int, dict]]) -> dict[str, int]:
    """Record this batch's emails for the job; those an earlier row had, with its line."""
    emails = list(valid)
    lines = [line for line, _ in valid.values()]
    table = ImportEmail._meta.db_table
    with connection.cursor() as cursor:
        # Raw: one statement for the batch, and the emails it did not insert back.
        # The lists go as text that PostgreSQL splits (emails hold no newline), as in
        # the upsert: the driver would adapt them element by element.
        cursor.execute(
            f"INSERT INTO {table} (job_id, email, line) "
            "SELECT %s, e.email, e.line FROM unnest(string_to_array(%s, E'\\n'), "
            "string_to_array(%s, ',')::int[]) AS e(email, line) "
            "ON CONFLICT DO NOTHING RETURNING email",
            [job.pk, "\n".join(emails), ",".join(map(str, lines))],
        )
        claimed = {email for (email,) in cursor.fetchall()}
        taken = [email for email in emails if email not in claimed]
        if not taken:
            return {}
        cursor.execute(
            f"SELECT email, line FROM {table} WHERE job_id = %s AND email = ANY(%s)",
            [job.pk, taken],
        )
        return dict(cursor.fetchall())


def _rejection(job: ImportJob, line: int, email: str, why: str) -> ImportRejection:
    if UNSTORABLE.search(email):
        email = ""
    return ImportRejection(job=job, line=line, email=email[:254], reason=why)


_DUPLICATE = "The same email is on line {}, which was imported; each contact once."


def _duplicate(first: int) -> str:
    return _DUPLICATE.format(first)


def _finish(job: ImportJob, status: str, *, error: str = "") -> None:
    """The job's end; its file is deleted once that is committed."""
    ImportEmail.objects.filter(job_id=job.pk).delete()
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, error=error[:2000], finished_at=timezone.now()
    )
    transaction.on_commit(lambda: Path(job.path).unlink(missing_ok=True))


def imports_resume(*, stale_after: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """Queue again the imports whose run stopped (a worker killed or restarted): any
    queued, running or cancelling job not heard from for `stale_after`. A run still
    alive holds its lock, so a second one just returns. How many were queued."""
    from ..tasks import import_run_task

    quiet = timezone.now() - stale_after
    ids = list(
        ImportJob.objects.filter(
            status__in=[Status.QUEUED, Status.RUNNING, Status.CANCELLING],
            created_at__lt=quiet,
        )
        .exclude(heartbeat_at__gte=quiet)
        .values_list("pk", flat=True)
    )
    for job_id in ids:
        import_run_task.delay(job_id)
    return len(ids)
