"""CSV imports (contacts/imports/): upload, map the columns, follow the progress,
read the summary and download the rejected rows."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.http import HtmxHttpRequest

from ..export import csv_response, rejections_csv
from ..forms import ImportMappingForm, ImportUploadForm
from ..imports.reading import ENCODINGS, Unreadable
from ..imports.run import (
    MappingInvalid,
    import_cancel,
    import_preview,
    import_reread,
    import_start,
    import_upload,
    too_large_message,
)
from ..models import Group, ImportJob
from ..upsert import names_to_ids

SHOWN_REJECTIONS = 100


@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    """The upload form and the latest imports."""
    form = ImportUploadForm()
    if request.method == "POST":
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.IMPORT_MAX_BYTES + 64 * 1024:
            # Refused before Django reads the body into a temporary file.
            form = ImportUploadForm({})
            form.is_valid()
            form.errors["file"] = form.error_class([too_large_message()])
        else:
            form = ImportUploadForm(request.POST, request.FILES)
        if form.is_bound and not form.errors and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_upload(
                    chunks=upload.chunks(),
                    file_name=upload.name,
                    user=request.user,
                    encoding=form.cleaned_data["encoding"],
                )
            except Unreadable as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("contacts:import", job_id=job.pk)
    context = {
        "form": form,
        "jobs": ImportJob.objects.select_related("created_by")[:10],
        "limit_mb": settings.IMPORT_MAX_BYTES // 1024 // 1024,
    }
    return render(request, "contacts/import_new.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def import_job(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """One import: its mapping step, then its progress, then its summary."""
    job = get_object_or_404(ImportJob.objects.select_related("group"), pk=job_id)
    if job.status == ImportJob.Status.MAPPING:
        return _mapping(request, job)
    context = {"job": job, **_progress(job)}
    if job.finished:
        context["rejections"] = job.rejections.all()[:SHOWN_REJECTIONS]
    template_name = "contacts/import_job.html"
    if request.htmx and request.method == "GET":
        template_name += "#progress"
    return render(request, template_name, context)


def _mapping(request: HttpRequest, job: ImportJob) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {
        "encoding": job.encoding,
        "delimiter": job.delimiter,
        "update_existing": "yes" if job.update_existing else "no",
    }
    form = ImportMappingForm(data, header=job.header, mapping=job.mapping, initial=initial)
    errors: list[str] = []
    if form.is_valid():
        cleaned = form.cleaned_data
        if (cleaned["encoding"], cleaned["delimiter"]) != (job.encoding, job.delimiter):
            # Read again with what was chosen: a new preview, and the mapping again.
            try:
                import_reread(job, encoding=cleaned["encoding"], delimiter=cleaned["delimiter"])
            except Unreadable as exc:
                errors.append(str(exc))
            else:
                return redirect("contacts:import", job_id=job.pk)
        else:
            group = None
            if cleaned["group"].strip():
                name = cleaned["group"].strip()
                group = Group.objects.get(pk=names_to_ids(Group, [name])[name.lower()])
            try:
                import_start(
                    job=job,
                    mapping=form.mapping(),
                    update_existing=cleaned["update_existing"],
                    tags=cleaned["tags"],
                    group=group,
                )
            except MappingInvalid as exc:
                errors += exc.errors
            else:
                return redirect("contacts:import", job_id=job.pk)
    try:
        preview = import_preview(job)
    except Unreadable as exc:
        preview = None
        errors.append(str(exc))
    rows = preview.rows[:3] if preview else []
    samples = [[row[i] if i < len(row) else "" for row in rows] for i in range(len(job.header))]
    context = {
        "job": job,
        "form": form,
        "columns": list(zip(form.columns(), samples, strict=True)),
        "errors": errors,
        "encoding_name": ENCODINGS.get(job.encoding, job.encoding),
        "groups": Group.objects.order_by("name").values_list("name", flat=True)[:500],
    }
    status = 400 if errors or form.errors else 200
    return render(request, "contacts/import_mapping.html", context, status=status)


def _progress(job: ImportJob) -> dict:
    """Rows done of the total, the rate and the time left, as the page shows them."""
    total = job.total or 0
    percent = min(100, job.rows * 100 // total) if total else (100 if job.finished else 0)
    rate = left = None
    if job.started_at and job.rows:
        end = job.finished_at or timezone.now()
        seconds = max((end - job.started_at).total_seconds(), 0.001)
        rate = job.rows / seconds
        if not job.finished and total:
            left = max(total - job.rows, 0) / rate
    return {"percent": percent, "rate": rate, "left": left}


@require_POST
def import_cancel_view(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=job_id)
    import_cancel(job=job)
    if job.status == ImportJob.Status.CANCELLED:
        messages.info(request, f"Cancelled the import of {job.file_name}.")
        if not job.rows:
            return redirect("contacts:import-new")
    return redirect("contacts:import", job_id=job.pk)


@require_GET
def import_rejections(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    """Every rejected row of an import, as CSV: line, email, reason."""
    job = get_object_or_404(ImportJob, pk=job_id)
    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in job.file_name)[:60]
    return csv_response(rejections_csv(job.pk), f"{name}-rejected")
