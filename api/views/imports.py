"""CSV imports as jobs: upload and start in one request, follow the progress, read the
summary and the rejected rows, cancel. The same service as the dashboard's import
pages and `manage.py import_contacts` (contacts.imports.run)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.imports.reading import Unreadable
from contacts.imports.run import MappingInvalid, import_cancel, import_start, import_upload
from contacts.models import CustomField, Group, ImportJob
from contacts.upsert import names_to_ids

from .. import examples
from ..exceptions import ApiError, conflict, error, flatten, invalid, unknown_keys
from ..pagination import KEYSET_PARAMETERS, PAGE_PARAMETERS, paginated_response
from ..parsers import MultiPartParser, upload_too_large
from ..serializers import as_list
from ..serializers.imports import (
    ImportCreateSerializer,
    ImportJobSerializer,
    ImportRejectionSerializer,
)
from .base import ERRORS, ApiView, request_user

Status = ImportJob.Status


def _get_job(job_id: int) -> ImportJob:
    # Every user of a Flock instance sees every import (as on the dashboard).
    job = ImportJob.objects.select_related("group").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no import with id {job_id}.")
    return job


def _job_url(request: Request, job: ImportJob) -> str:
    return request.build_absolute_uri(reverse("api:import", args=[job.pk]))


def _jobs_json(jobs: Sequence[ImportJob]) -> list[dict]:
    return as_list(ImportJobSerializer, jobs)


def _valid_form(request: Request) -> dict:
    """The form validated, or a 400 listing every problem: unknown and repeated fields
    among them (a form would take the last of two `mapping`s silently)."""
    data = request.data
    serializer = ImportCreateSerializer(data=data)
    errors = unknown_keys(data, serializer.fields)
    getlist = getattr(data, "getlist", None)
    if getlist is not None:
        errors += [
            error(str(key), f"Send {key} once.")
            for key in data
            if key in serializer.fields and key != "tags" and len(getlist(key)) > 1
        ]
    if not serializer.is_valid() or errors:
        raise ApiError(errors + flatten(serializer.errors))
    return serializer.validated_data


def resolved_mapping(
    header: list[str], guessed: list[dict[str, str]], given: dict[str, dict[str, str]]
) -> list[dict[str, str]]:
    """One entry per column as import_start takes it: the columns named in `given` (by
    header, any case), the others as guessed, except that a guess is skipped when a
    named column already takes its target. A header not in the file is a 400."""
    columns: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        columns.setdefault(name.strip().lower(), []).append(index)
    registered = CustomField.registry()
    chosen: dict[int, dict[str, str]] = {}
    named_by: dict[int, str] = {}
    errors = []
    for key, entry in given.items():
        indexes = columns.get(key.strip().lower())
        if not indexes:
            shown = ", ".join(f"“{name}”" for name in header[:30])
            more = f" and {len(header) - 30} more" if len(header) > 30 else ""
            errors.append(
                error(
                    f"mapping.{key}", f"The file has no column “{key}”; its columns: {shown}{more}."
                )
            )
            continue
        for index in indexes:
            if index in named_by:
                errors.append(
                    error(f"mapping.{key}", f"“{named_by[index]}” names this column already.")
                )
                continue
            named_by[index] = key
            entry = dict(entry)
            if entry["to"] == "custom":
                entry.setdefault("field", header[index])
                if entry["field"].lower() not in registered:
                    entry.setdefault("type", "text")  # the dashboard's default
            chosen[index] = entry
    if errors:
        raise ApiError(errors)
    taken = {_target(entry) for entry in chosen.values()} - {"skip", "tags"}
    mapping = []
    for index, guess in enumerate(guessed):
        if index in chosen:
            mapping.append(chosen[index])
        else:
            mapping.append(guess if _target(guess) not in taken else {"to": "skip"})
    return mapping


def _target(entry: dict[str, str]) -> str:
    if entry.get("to") == "custom":
        return "custom:" + (entry.get("field") or "").strip().lower()
    return entry.get("to", "")


def _discard(job: ImportJob) -> None:
    """A job whose mapping was refused: gone, with its file (no job waits for a mapping
    that the API has no way to send again)."""
    import_cancel(job=job)  # deletes the file of a job not started
    job.delete()


class ImportListView(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="imports_list",
        summary="List imports",
        description="Newest first; a plain JSON array paged with `page` and `per_page`.",
        parameters=KEYSET_PARAMETERS,
        responses={200: ImportJobSerializer(many=True)},
        tags=["imports"],
    )
    def get(self, request: Request) -> Response:
        jobs = ImportJob.objects.select_related("group").order_by("-pk")
        return paginated_response(request, jobs, _jobs_json, keyset=True)

    @extend_schema(
        operation_id="imports_create",
        summary="Import contacts from a CSV file",
        description=(
            "A multipart form: the file, and optionally what its columns hold. The file "
            "is read and its mapping checked now; the rows are imported by a worker, as "
            "the dashboard's import does. Answers 202 with the job and its `Location`: "
            "follow it for the progress and the summary.\n\n"
            "`mapping` is a JSON object from column header (any case) to what the "
            "column holds: a target (`email`, `first_name`, …, `tags`, `skip`), "
            '`custom:NAME[:TYPE]`, or `{"to": "custom", "field": NAME, "type": TYPE}`. '
            "Columns left out are guessed from their header (Email, First name, E-mail "
            "address, …) unless a column named in the mapping takes that target. One "
            "column must be the email.\n\n"
            "A file that cannot be read, or a mapping that cannot run (no email column, "
            "a header that is not in the file, two columns for one field), is a 400 and "
            "leaves no job behind. 413 for a file over FLOCK_IMPORT_MAX_BYTES."
        ),
        request={"multipart/form-data": ImportCreateSerializer},
        responses={202: ImportJobSerializer, 413: ERRORS},
        examples=[examples.IMPORT_REQUEST, examples.IMPORT_QUEUED, examples.IMPORT_ERRORS],
        tags=["imports"],
    )
    def post(self, request: Request) -> Response:
        data = _valid_form(request)
        upload = data["file"]
        if upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
            raise upload_too_large()
        try:
            job = import_upload(
                chunks=upload.chunks(),
                file_name=upload.name or "upload.csv",
                user=request_user(request),
                encoding=data.get("encoding", ""),
                delimiter=data.get("delimiter", ""),
            )
        except Unreadable as exc:
            raise invalid("file", str(exc)) from None
        try:
            mapping = resolved_mapping(job.header, job.mapping, data.get("mapping") or {})
            with transaction.atomic():  # a new group is kept only if the import starts
                group = None
                if data.get("group"):
                    name = data["group"]
                    group = Group.objects.get(pk=names_to_ids(Group, [name])[name.lower()])
                import_start(
                    job=job,
                    mapping=mapping,
                    update_existing=data["update_existing"],
                    tags=data["tags"],
                    group=group,
                )
        except ApiError:
            _discard(job)
            raise
        except MappingInvalid as exc:
            _discard(job)
            raise ApiError([error("mapping", message) for message in exc.errors]) from None
        job = _get_job(job.pk)
        return Response(
            ImportJobSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": _job_url(request, job)},
        )


class ImportDetailView(ApiView):
    @extend_schema(
        operation_id="imports_retrieve",
        summary="One import: progress and summary",
        description="`rows` of `total` read so far (`progress`, 0 to 1, and `rate` in rows "
        "per second), and how many were created, updated, unchanged and rejected. The "
        "total is counted when the run starts (null before).",
        responses={200: ImportJobSerializer},
        examples=[examples.IMPORT_DONE],
        tags=["imports"],
    )
    def get(self, request: Request, job_id: int) -> Response:
        return Response(ImportJobSerializer(_get_job(job_id)).data)


class ImportRejectionsView(ApiView):
    @extend_schema(
        operation_id="imports_rejections_list",
        summary="An import's rejected rows",
        description="In file order: the line each row starts on, its email cell and why it "
        "was not imported. A plain JSON array paged with `page` and `per_page`.",
        parameters=PAGE_PARAMETERS,
        responses={200: ImportRejectionSerializer(many=True)},
        examples=[examples.IMPORT_REJECTIONS],
        tags=["imports"],
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = _get_job(job_id)
        rows = job.rejections.order_by("line", "pk").values("line", "email", "reason")
        return paginated_response(
            request,
            rows,
            lambda page: as_list(ImportRejectionSerializer, page),
            hint=job.rejected if job.finished else None,
        )


class ImportCancelView(ApiView):
    @extend_schema(
        operation_id="imports_cancel",
        summary="Cancel an import",
        description="One not started yet is cancelled at once (`cancelled`); a running one "
        "after the batch it is in (`cancelling`, then `cancelled`): the rows committed "
        "before stay imported. Cancelling a cancelled import again changes nothing; 409 "
        "for one that is done or failed.",
        request=None,
        responses={200: ImportJobSerializer, 409: ERRORS},
        tags=["imports"],
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = _get_job(job_id)
        if job.status in (Status.DONE, Status.FAILED):
            raise conflict(
                "",
                f"The import has finished ({job.get_status_display().lower()}); there is "
                "nothing to cancel.",
            )
        import_cancel(job=job)
        return Response(ImportJobSerializer(_get_job(job_id)).data)
