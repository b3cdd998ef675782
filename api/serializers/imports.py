"""CSV imports in the API: what an upload takes (a multipart form, validated here),
an import job with its progress and summary, and a rejected row."""

from __future__ import annotations

import difflib
import json
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from contacts.imports.mapping import TARGETS
from contacts.imports.reading import ENCODINGS
from contacts.models import CustomField, ImportJob
from contacts.validation import MAX_CUSTOM_NAME, ContactInvalid, contact_clean

from ..exceptions import unknown_keys
from .fields import TextField, UtcDateTimeField

# The types a custom field registered by an import may have: a choice needs its
# options, which a column cannot give (as in the dashboard's mapping step).
NEW_FIELD_TYPES = [value for value in CustomField.Type.values if value != CustomField.Type.CHOICE]
ENTRY_KEYS = ("to", "field", "type")
DELIMITERS = {",": ",", ";": ";", "\t": "\t", "|": "|", "tab": "\t"}
_TARGET_LIST = ", ".join([*(t for t in TARGETS if t != "custom"), "custom:NAME"])

MAPPING_SCHEMA = {
    "type": "object",
    "description": "What each column holds, by its header (any case): a target, "
    "`custom:NAME[:TYPE]`, or `{to, field, type}`. Columns left out are guessed from "
    "their header, as the dashboard guesses them.",
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "enum": list(TARGETS)},
            {
                "type": "string",
                "pattern": f"^custom:[^:]+(:({'|'.join(NEW_FIELD_TYPES)}))?$",
            },
            {
                "type": "object",
                "properties": {
                    "to": {"type": "string", "enum": list(TARGETS)},
                    "field": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_CUSTOM_NAME,
                        "description": "With `custom`: the custom field (default: the header).",
                    },
                    "type": {
                        "type": "string",
                        "enum": NEW_FIELD_TYPES,
                        "description": "With `custom`: the type of a field the import "
                        "registers (default text); a registered field keeps its own.",
                    },
                },
                "required": ["to"],
                "additionalProperties": False,
            },
        ]
    },
    "example": {
        "Email": "email",
        "Plan": {"to": "custom", "field": "plan", "type": "text"},
        "Notes": "skip",
    },
}


def _strict_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


@extend_schema_field(MAPPING_SCHEMA)
class MappingField(serializers.Field):
    """The mapping as sent, checked entry by entry: {header: {"to", "field"?, "type"?}}.
    Whether each header is in the file is known only once the file is read."""

    default_error_messages = {
        "not_json": 'The mapping must be a JSON object, e.g. {{"Email": "email"}}: {error}.',
        "not_object": 'The mapping must be a JSON object, e.g. {{"Email": "email"}}.',
    }

    def to_internal_value(self, data: Any) -> dict[str, dict[str, str]]:
        if isinstance(data, str):
            try:
                data = json.loads(data, parse_constant=_strict_constant)
            except (ValueError, RecursionError) as exc:
                self.fail("not_json", error=str(exc)[:200])
        if not isinstance(data, dict):
            self.fail("not_object")
        entries: dict[str, dict[str, str]] = {}
        errors: dict[str, Any] = {}
        for header, value in data.items():
            try:
                entries[header] = mapping_entry(value)
            except serializers.ValidationError as exc:
                errors[header] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return entries

    def to_representation(self, value):
        return value


def mapping_entry(value: Any) -> dict[str, str]:
    """One column's entry as import_start takes it (a custom field's name defaults to
    the header later, when the column is found)."""
    if isinstance(value, str):
        if value.startswith("custom:"):
            _, name, *kind = value.split(":")
            if len(kind) > 1 or not name.strip() or (kind and kind[0] not in NEW_FIELD_TYPES):
                raise serializers.ValidationError(
                    "Write a custom field as custom:NAME or custom:NAME:TYPE, TYPE one of "
                    f"{', '.join(NEW_FIELD_TYPES)}."
                )
            return {"to": "custom", "field": name.strip(), **({"type": kind[0]} if kind else {})}
        return {"to": _target(value)}
    if not isinstance(value, dict):
        raise serializers.ValidationError(
            'Give a target (e.g. "email") or an object {"to": ..., "field": ..., "type": ...}.'
        )
    errors: dict[str, list[str]] = {
        e["path"]: [e["message"]] for e in unknown_keys(value, ENTRY_KEYS)
    }
    entry: dict[str, str] = {}
    if "to" not in value:
        errors["to"] = [f"Say what the column holds: one of {_TARGET_LIST}."]
    else:
        try:
            entry["to"] = _target(value["to"])
        except serializers.ValidationError as exc:
            errors["to"] = exc.detail  # type: ignore[assignment]  # a list of messages
    for key in ("field", "type"):
        if key not in value:
            continue
        if entry.get("to") not in ("custom", None):
            errors[key] = [f'"{key}" goes only with "to": "custom".']
        elif not isinstance(value[key], str) or not value[key].strip():
            errors[key] = ["Give it as text."]
        elif key == "field" and len(value[key].strip()) > MAX_CUSTOM_NAME:
            errors[key] = [f"A custom field's name has at most {MAX_CUSTOM_NAME} characters."]
        elif key == "type" and value[key] not in NEW_FIELD_TYPES:
            errors[key] = [f"The type is one of {', '.join(NEW_FIELD_TYPES)}."]
        else:
            entry[key] = value[key].strip()
    if errors:
        raise serializers.ValidationError(errors)
    return entry


def _target(value: Any) -> str:
    if isinstance(value, str) and value in TARGETS:
        return value  # "custom" alone: the custom field named as the header
    shown = value[:50] if isinstance(value, str) else json.dumps(value)[:50]
    close = difflib.get_close_matches(shown, list(TARGETS), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise serializers.ValidationError(
        f"'{shown}' is not something a column can hold; use one of {_TARGET_LIST}.{hint}"
    )


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "maxLength": 100},
        "description": "Tags for every imported row (new ones are created): repeat the "
        "field, or separate names with commas.",
    }
)
class TagsField(serializers.Field):
    """Tag names from a form: `tags=a&tags=b` or `tags=a,b` (or both)."""

    def get_value(self, dictionary):
        if html.is_html_input(dictionary):
            return dictionary.getlist(self.field_name) if self.field_name in dictionary else empty
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data: Any) -> list[str]:
        values = data if isinstance(data, list) else [data]
        if not all(isinstance(value, str) for value in values):
            raise serializers.ValidationError("Give tags as names, separated by commas.")
        return [name.strip() for value in values for name in value.split(",") if name.strip()]

    def to_representation(self, value):
        return value


# The form of POST /api/imports. (No docstring: a serializer's docstring is its
# description in the public schema.)
class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The CSV, or a gzip-compressed one (.csv.gz), with a header row; comma, "
        "semicolon, tab or pipe separated."
    )
    mapping = MappingField(required=False)
    update_existing = serializers.BooleanField(
        required=False,
        default=True,
        help_text="`false`: only add new contacts, leave those that exist as they are.",
    )
    tags = TagsField(required=False)
    group = TextField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="A group (by name) for every imported row; a new name creates it.",
    )
    encoding = serializers.ChoiceField(
        list(ENCODINGS),
        required=False,
        help_text="Default: detected (UTF-8, with or without BOM, UTF-16, or Windows-1252).",
    )
    delimiter = serializers.ChoiceField(
        list(DELIMITERS),
        required=False,
        help_text="Default: detected. `tab` for a tab.",
    )

    def validate(self, attrs: dict) -> dict:
        """Tag and group names checked as every writer checks them (before the rows:
        one bad name would refuse every row)."""
        names = {"tags": attrs.get("tags") or []}
        if attrs.get("group"):
            names["groups"] = [attrs["group"]]
        try:
            clean = contact_clean(names, partial=True)
        except ContactInvalid as exc:
            by_field: dict[str, list[str]] = {}
            for e in exc.errors:
                by_field.setdefault("group" if e.path == "groups" else e.path, []).append(e.message)
            raise serializers.ValidationError(by_field) from None
        attrs["tags"] = clean["tags"]
        if "delimiter" in attrs:
            attrs["delimiter"] = DELIMITERS[attrs["delimiter"]]
        return attrs


# -- answers ---------------------------------------------------------------------------


class ImportColumnSerializer(serializers.Serializer):
    header = serializers.CharField(help_text="The column's name in the file.")
    to = serializers.ChoiceField(list(TARGETS))
    field = serializers.CharField(allow_null=True, help_text="The custom field, with `custom`.")


@extend_schema_field(
    {
        "type": "string",
        "enum": ImportJob.Status.values,
        "description": "queued → running → done; or failed (see `error`), or "
        "cancelling → cancelled.",
    }
)
class ImportStatusField(serializers.CharField):
    pass


@extend_schema_field(ImportColumnSerializer(many=True))
class ColumnsField(serializers.Field):
    """Each column of the file with what it is imported as (read with `source="*"`)."""

    def to_representation(self, value: ImportJob) -> list[dict]:
        return [
            {
                "header": header,
                "to": entry.get("to", "skip"),
                "field": entry.get("field") if entry.get("to") == "custom" else None,
            }
            for header, entry in zip(value.header, value.mapping, strict=False)
        ]


def progress(job: ImportJob) -> float:
    """Rows read of the total, 0 to 1 (the total is counted when the run starts)."""
    if job.total:
        return round(min(job.rows / job.total, 1.0), 4)
    return 1.0 if job.status == ImportJob.Status.DONE else 0.0


def rate(job: ImportJob) -> float | None:
    """Rows per second since the run started (until it finished)."""
    if not job.started_at or not job.rows:
        return None
    end = job.finished_at or timezone.now()
    return round(job.rows / max((end - job.started_at).total_seconds(), 0.001), 1)


# An import job as the API shows it. (No docstring: see ImportCreateSerializer.)
class ImportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = ImportStatusField()
    file_name = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes uploaded.")
    columns = ColumnsField(source="*")
    update_existing = serializers.BooleanField()
    tags = serializers.ListField(child=serializers.CharField())
    group = serializers.CharField(source="group.name", allow_null=True)
    total = serializers.IntegerField(
        allow_null=True, help_text="Rows in the file; null until the run has counted them."
    )
    rows = serializers.IntegerField(help_text="Rows read so far.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField(help_text="Rows matching a contact as it was.")
    rejected = serializers.IntegerField(help_text="Rows not imported; see /rejections.")
    progress = serializers.SerializerMethodField(help_text="`rows` of `total`, 0 to 1.")
    rate = serializers.SerializerMethodField(help_text="Rows per second; null before any.")
    error = serializers.CharField(help_text="Why the import failed; empty otherwise.")
    created_at = UtcDateTimeField()
    started_at = UtcDateTimeField(allow_null=True)
    finished_at = UtcDateTimeField(allow_null=True)

    def get_progress(self, job: ImportJob) -> float:
        return progress(job)

    def get_rate(self, job: ImportJob) -> float | None:
        return rate(job)


class ImportRejectionSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Where the row starts in the file (1: header).")
    email = serializers.CharField(help_text="The row's email cell, as it was.")
    reason = serializers.CharField()
