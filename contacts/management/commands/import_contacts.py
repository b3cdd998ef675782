"""Import contacts from a CSV file here, with a progress bar: what /contacts/import/
does, without the upload (contacts/imports/)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from contacts.imports.mapping import TARGETS
from contacts.imports.reading import Unreadable
from contacts.imports.run import MappingInvalid, import_run, import_start, import_upload
from contacts.models import Group, ImportJob
from contacts.upsert import names_to_ids

CHUNK = 1024 * 1024


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV (or .csv.gz) file. Columns are mapped by their header "
        "(Email, First name, Company, …) unless --map says otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--map",
            default="",
            help="TARGET=Header pairs, comma-separated, e.g. email=Email,first_name=Given "
            "name,tags=Labels,custom:plan=Plan (custom:NAME:TYPE registers a new field of "
            "TYPE text, number, date or boolean). Columns not named are skipped.",
        )
        parser.add_argument(
            "--add-only",
            action="store_true",
            help="Only add new contacts; leave those that exist as they are.",
        )
        parser.add_argument("--tag", action="append", default=[], help="Tag every row (repeat).")
        parser.add_argument("--group", default="", help="Add every row to this group.")
        parser.add_argument("--encoding", default="", choices=["", "utf-8", "cp1252", "utf-16"])
        parser.add_argument("--delimiter", default="", help="Default: sniffed.")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        try:
            with open(path, "rb") as source:
                job = import_upload(
                    chunks=iter(lambda: source.read(CHUNK), b""),
                    file_name=path.name,
                    encoding=options["encoding"],
                    delimiter=options["delimiter"].replace("\\t", "\t"),
                )
        except Unreadable as exc:
            raise CommandError(f"{path}: {exc}") from None
        mapping = _mapping(job.header, options["map"]) if options["map"] else job.mapping
        group = None
        if options["group"]:
            name = options["group"].strip()
            group = Group.objects.get(pk=names_to_ids(Group, [name])[name.lower()])
        try:
            import_start(
                job=job,
                mapping=mapping,
                update_existing=not options["add_only"],
                tags=options["tag"],
                group=group,
                queue=False,
            )
        except MappingInvalid as exc:
            job.delete()
            raise CommandError("\n".join(exc.errors)) from None
        bar = _Bar(self.stderr)
        import_run(job_id=job.pk, progress=bar.show)
        job.refresh_from_db()
        bar.show(job, final=True)
        self.stdout.write(
            f"{job.get_status_display()}: {job.created:,} created, {job.updated:,} updated, "
            f"{job.unchanged:,} unchanged, {job.rejected:,} rejected of {job.rows:,} rows."
        )
        for rejection in job.rejections.all()[:20]:
            self.stdout.write(f"  line {rejection.line}: {rejection.reason}")
        if job.rejected > 20:
            self.stdout.write(f"  … and {job.rejected - 20:,} more (see the import's page).")
        if job.status != ImportJob.Status.DONE:
            raise CommandError(job.error or job.get_status_display())


def _mapping(header: list[str], spec: str) -> list[dict[str, str]]:
    """--map as a mapping: every column skipped unless named."""
    mapping = [{"to": "skip"} for _ in header]
    by_name = {name.strip().lower(): index for index, name in enumerate(header)}
    for pair in filter(None, (p.strip() for p in spec.split(","))):
        target, _, column = pair.partition("=")
        target, column = target.strip(), column.strip()
        if column.lower() not in by_name:
            columns = ", ".join(header)
            raise CommandError(f"--map {pair}: the file has no column “{column}” ({columns}).")
        entry: dict[str, str] = {"to": target}
        if target.startswith("custom:"):
            _, name, *kind = target.split(":")
            entry = {"to": "custom", "field": name, **({"type": kind[0]} if kind else {})}
        elif target not in TARGETS:
            raise CommandError(f"--map {pair}: “{target}” is not one of {', '.join(TARGETS)}.")
        mapping[by_name[column.lower()]] = entry
    return mapping


class _Bar:
    """A progress line on the terminal (a line every 10 s when not a terminal)."""

    def __init__(self, out):
        self.out, self.tty, self.last, self.rows = out, sys.stderr.isatty(), 0.0, -1

    def show(self, job: ImportJob, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else 10):
            return
        if final and not self.tty and job.rows == self.rows:
            return  # already printed
        self.last, self.rows = now, job.rows
        total = job.total or 0
        share = job.rows / total if total else 1.0
        elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0
        rate = job.rows / elapsed if elapsed > 0 else 0
        left = (total - job.rows) / rate if rate else 0
        filled = int(share * 30)
        text = (
            f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {job.rows:,}/{total:,} rows"
            f" · {rate:,.0f} rows/s · {left:,.0f} s left"
        )
        if self.tty:
            self.out.write("\r" + text, ending="\n" if final else "")
            self.out.flush()
        else:
            self.out.write(text)
