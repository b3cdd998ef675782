"""Contacts in the API: the contact and its summary as the API answers with them,
what a create or change may send, and the result of a bulk upsert."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Contact
from contacts.validation import MAX_NAMES_PER_CONTACT, TEXT_FIELDS

from .errors import ErrorSerializer
from .fields import UtcDateTimeField

STATUS_CHOICES = Contact.Status.values
STAGE_CHOICES = Contact.LifecycleStage.values


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
            "nullable": True,
        },
        "example": {"plan": "pro", "seats": 12, "trial_ends": "2026-03-01"},
    }
)
class CustomFieldsField(serializers.JSONField):
    def to_representation(self, value):
        return value if isinstance(value, dict) else {}


class StatusField(serializers.ChoiceField):
    """The derived status, from a contact row's two flags (read with `source="*"`)."""

    def __init__(self, **kwargs):
        super().__init__(STATUS_CHOICES, source="*", **kwargs)

    # The stubs type the value as the field's own; this field is given the whole row.
    def to_representation(self, value: Mapping[str, Any]) -> str:  # type: ignore[override]
        return Contact.status_of(
            is_bounced=value["is_bounced"], is_unsubscribed=value["is_unsubscribed"]
        ).value


# The contact rows these serializers read: `.values()` of these columns (`tags` and
# `groups` are added as lists of names by the view, which reads them for a page at once).
SUMMARY_COLUMNS = (
    "id", "email", "full_name", "first_name", "last_name", "company", "is_bounced",
    "is_unsubscribed", "lead_score", "lifecycle_stage", "last_interacted_at", "created_at",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "email", "full_name", "first_name", "last_name", "company", "job_title",
    "country", "city", "source", "lead_score", "lifecycle_stage", "last_interacted_at",
    "created_at", "updated_at", "is_bounced", "is_unsubscribed", "custom_fields", "tag_ids",
)  # fmt: skip


class ContactSummarySerializer(serializers.Serializer):
    """A contact in a segment's list or a preview sample (common segment-contact shape)."""

    id = serializers.IntegerField()
    email = serializers.CharField()
    name = serializers.CharField(source="full_name")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    company = serializers.CharField()
    status = StatusField()
    lead_score = serializers.IntegerField()
    lifecycle_stage = serializers.ChoiceField(STAGE_CHOICES)
    last_interacted_at = UtcDateTimeField(allow_null=True)
    created_at = UtcDateTimeField()


class ContactSerializer(ContactSummarySerializer):
    """A contact: one flat object with tags and groups by name."""

    job_title = serializers.CharField()
    country = serializers.CharField()
    city = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field (see fields.py)
    updated_at = UtcDateTimeField()
    is_bounced = serializers.BooleanField()
    is_unsubscribed = serializers.BooleanField()
    custom_fields = CustomFieldsField()
    tags = serializers.ListField(child=serializers.CharField())
    groups = serializers.ListField(child=serializers.CharField())

    # The order of the keys in a contact object (the summary's fields among the others).
    ORDER = (
        "id", "email", "name", "first_name", "last_name", "company", "job_title", "country",
        "city", "source", "lead_score", "lifecycle_stage", "last_interacted_at", "created_at",
        "updated_at", "is_bounced", "is_unsubscribed", "status", "custom_fields", "tags",
        "groups",
    )  # fmt: skip

    def get_fields(self):
        fields = super().get_fields()
        return {name: fields[name] for name in self.ORDER}


class IgnoredField(serializers.JSONField):
    """A key of the API's contacts that nobody writes (`id`, `status`, …): accepted
    and ignored, so that a contact read from the API can be sent back as it is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Read-only: accepted and ignored.")
        super().__init__(required=False, **kwargs)


def _optional_text(name: str) -> serializers.CharField:
    return serializers.CharField(
        max_length=TEXT_FIELDS[name], allow_blank=True, allow_null=True, required=False
    )


class ContactWriteSerializer(serializers.Serializer):
    """What `POST /api/contacts` and `PATCH /api/contacts/{id}` take (documentation;
    `contacts.services.contact_clean` validates)."""

    email = serializers.EmailField(max_length=254)
    first_name = _optional_text("first_name")
    last_name = _optional_text("last_name")
    company = _optional_text("company")
    job_title = _optional_text("job_title")
    country = _optional_text("country")
    city = _optional_text("city")
    source = _optional_text("source")  # type: ignore[assignment]  # a field (see fields.py)
    lead_score = serializers.IntegerField(min_value=0, max_value=100, required=False)
    lifecycle_stage = serializers.ChoiceField(STAGE_CHOICES, required=False)
    last_interacted_at = serializers.DateTimeField(allow_null=True, required=False)
    created_at = serializers.DateTimeField(required=False)
    is_bounced = serializers.BooleanField(required=False)
    is_unsubscribed = serializers.BooleanField(required=False)
    custom_fields = CustomFieldsField(required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=MAX_NAMES_PER_CONTACT,
        required=False,
        help_text="Tag names; new names are created. POST adds them, PATCH sets exactly these.",
    )
    groups = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=MAX_NAMES_PER_CONTACT,
        required=False,
        help_text="Group names; new names are created. POST adds them, PATCH sets exactly these.",
    )
    # contacts.services.READ_ONLY_FIELDS (tests/api/test_schema.py checks that they agree).
    id = IgnoredField()
    name = IgnoredField()
    full_name = IgnoredField()
    status = IgnoredField()
    updated_at = IgnoredField()
    soft_bounces = IgnoredField()


class ContactPatchSerializer(ContactWriteSerializer):
    email = serializers.EmailField(max_length=254, required=False)


UPSERT_STATUSES = ["created", "updated", "rejected"]


# One item's result, read from a contacts.upsert.UpsertResult whose error paths the
# view has prefixed with the item's place in the request ("[3].email"). (No
# docstring: a serializer's docstring is its description in the public schema.)
class UpsertItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in the request, from 0.")
    status = serializers.ChoiceField(UPSERT_STATUSES)
    id = serializers.IntegerField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]  # a field (see fields.py)


class UpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UpsertItemResultSerializer(many=True)
