"""Contacts: list and search, upsert in bulk, read, update, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.export import csv_response, export_csv
from contacts.models import Contact, GroupMembership, Tag
from contacts.selectors import contact_search
from contacts.services import EmailTaken, contact_update
from contacts.upsert import MAX_UPSERT, UpsertResult, contacts_upsert
from contacts.validation import ContactInvalid, contact_clean

from .. import examples
from ..exceptions import ApiError, conflict, invalid, prefixed
from ..pagination import KEYSET_PARAMETERS, paginated_response
from ..serializers import as_list
from ..serializers.contacts import (
    CONTACT_COLUMNS,
    STATUS_CHOICES,
    ContactPatchSerializer,
    ContactSerializer,
    ContactWriteSerializer,
    UpsertResultSerializer,
)
from .base import ERRORS, ApiView


def contacts_json(rows: Sequence[dict]) -> list[dict]:
    """A page of contact rows (`.values(*CONTACT_COLUMNS)`) as the API shows them, with
    their tag and group names: two queries for the whole page."""
    tag_ids = {tag_id for row in rows for tag_id in row["tag_ids"] or ()}
    tag_names = dict(Tag.objects.filter(pk__in=tag_ids).values_list("pk", "name"))
    groups: dict[int, list[str]] = {}
    memberships = (
        GroupMembership.objects.filter(contact_id__in=[row["id"] for row in rows])
        .order_by("group__name")
        .values_list("contact_id", "group__name")
    )
    for contact_id, name in memberships:
        groups.setdefault(contact_id, []).append(name)
    named = [
        {
            **row,
            "tags": sorted(
                (tag_names[t] for t in row["tag_ids"] or () if t in tag_names), key=str.lower
            ),
            "groups": groups.get(row["id"], []),
        }
        for row in rows
    ]
    return as_list(ContactSerializer, named)


def _contact_json(contact_id: int) -> dict:
    rows = list(Contact.objects.filter(pk=contact_id).values(*CONTACT_COLUMNS))
    if not rows:
        raise NotFound(f"There is no contact with id {contact_id}.")
    return contacts_json(rows)[0]


def _search_text(request: Request, name: str, *, max_length: int) -> str:
    value = request.query_params.get(name, "")
    if len(value) > max_length:
        raise invalid(name, f"{name} can have at most {max_length} characters.")
    return value.strip()


CONTACT_FILTERS = [
    OpenApiParameter(
        "q",
        {"type": "string", "maxLength": 200},
        description="Words to find in email, name or company.",
    ),
    OpenApiParameter(
        "email", {"type": "string", "maxLength": 254}, description="Exactly this email (any case)."
    ),
    OpenApiParameter(
        "tag",
        {"type": "string", "maxLength": 100},
        description="Only contacts with this tag (by name).",
    ),
    OpenApiParameter("status", str, enum=STATUS_CHOICES, description="Derived status."),
]


def _filtered_contacts(request: Request) -> QuerySet[Contact]:
    """The contacts the filters of the query string select (a 400 for a bad one)."""
    q = _search_text(request, "q", max_length=200)
    email = _search_text(request, "email", max_length=254)
    tag_name = _search_text(request, "tag", max_length=100)
    status_ = request.query_params.get("status")
    if status_ is not None and status_ not in STATUS_CHOICES:
        raise invalid("status", f"status must be one of: {', '.join(STATUS_CHOICES)}.")
    tag = None
    if tag_name and "\x00" not in tag_name:
        tag = Tag.objects.alias(lname=Lower("name")).filter(lname=tag_name.lower()).first()
    contacts: QuerySet = contact_search(q=q, tag=tag, status=status_ or "")
    if tag_name and tag is None:
        contacts = contacts.none()  # an unknown tag: nobody has it
    if email:
        contacts = contacts.alias(lemail=Lower("email")).filter(lemail=email.lower())
    if "\x00" in q + email + tag_name:
        contacts = contacts.none()  # no stored text has a NUL: nothing can match
    return contacts


class ContactListView(ApiView):
    @extend_schema(
        operation_id="contacts_list",
        summary="List contacts",
        description="Newest first; a plain JSON array paged with `page` and `per_page`.",
        parameters=[*CONTACT_FILTERS, *KEYSET_PARAMETERS],
        responses={200: ContactSerializer(many=True)},
        examples=[examples.CONTACT_LIST],
        tags=["contacts"],
    )
    def get(self, request: Request) -> Response:
        contacts = _filtered_contacts(request)
        rows = contacts.order_by("-pk").values(*CONTACT_COLUMNS)
        return paginated_response(request, rows, contacts_json, keyset=True)

    @extend_schema(
        operation_id="contacts_upsert",
        summary="Create or update contacts by email",
        description=(
            "One contact object, or an array of up to 1,000. Each is matched by email "
            "(any case): new emails are created, known ones get the fields given (tags "
            "and groups are added, custom fields merged); tag and group names that do "
            "not exist yet are created.\n\n"
            "One object: 201 (created) or 200 (updated) with the contact, or 400.\n\n"
            "An array: 200 with `created`, `updated`, `rejected` and a result per item; "
            "a rejected item says why and does not stop the others."
        ),
        request=PolymorphicProxySerializer(
            component_name="ContactUpsert",
            serializers=[ContactWriteSerializer, ContactWriteSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            200: PolymorphicProxySerializer(
                component_name="ContactUpsertResponse",
                serializers=[ContactSerializer, UpsertResultSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            201: ContactSerializer,
        },
        examples=[examples.CONTACT_UPSERT_ONE, examples.CONTACT_UPSERT_MANY,
                  examples.CONTACT_UPSERT_RESULT],
        tags=["contacts"],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        body = request.data
        if isinstance(body, dict):
            return self._one(body)
        if not isinstance(body, list):
            raise invalid("", "Send a contact object or an array of them.")
        if len(body) > MAX_UPSERT:
            raise invalid("", f"Send at most {MAX_UPSERT:,} contacts per request.")
        results = contacts_upsert(items=body)
        counts = {"created": 0, "updated": 0, "rejected": 0}
        for result in results:
            counts[result.status] += 1
        located = [_located(result) for result in results]
        return Response(UpsertResultSerializer({**counts, "results": located}).data)

    def _one(self, body: dict) -> Response:
        (result,) = contacts_upsert(items=[body])
        if result.status == "rejected":
            raise ApiError([e.as_dict() for e in result.errors])
        assert result.id is not None  # a created or updated contact has its row's id
        code = status.HTTP_201_CREATED if result.status == "created" else status.HTTP_200_OK
        return Response(_contact_json(result.id), status=code)


def _located(result: UpsertResult) -> UpsertResult:
    """The item's error paths from its place in the request: "[3].email"."""
    prefix = f"[{result.index}]"
    return replace(
        result, errors=tuple(replace(e, path=prefixed(prefix, e.path)) for e in result.errors)
    )


class ContactExportView(ApiView):
    def perform_content_negotiation(self, request, force=False):
        # The CSV is streamed, not rendered, whatever the request accepts (a client
        # that accepts only text/csv gets it); an error is the usual JSON body.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        operation_id="contacts_export",
        summary="Export contacts as CSV",
        description="The contacts the same filters as the list select, oldest first, as "
        "CSV with a header row: every field, `status`, `tags` and `groups` (names, comma "
        "separated), then one column per custom field. Streamed: a million contacts "
        "come in well under a minute. Cells starting with `=`, `+`, `-`, `@`, a tab or a "
        "carriage return get a leading `'`, so a spreadsheet shows them as text.",
        parameters=CONTACT_FILTERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        tags=["contacts"],
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return csv_response(export_csv(_filtered_contacts(request)), "contacts")


class ContactDetailView(ApiView):
    @extend_schema(
        operation_id="contacts_retrieve",
        summary="One contact",
        responses={200: ContactSerializer},
        tags=["contacts"],
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(_contact_json(contact_id))

    @extend_schema(
        operation_id="contacts_partial_update",
        summary="Change a contact",
        description="The fields given change; `tags` and `groups`, when given, become "
        "exactly those names. 409 when the new email belongs to another contact.",
        request=ContactPatchSerializer,
        responses={200: ContactSerializer, 409: ERRORS},
        examples=[examples.CONTACT_PATCH],
        tags=["contacts"],
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        contact = Contact.objects.only("id").filter(pk=contact_id).first()
        if contact is None:
            raise NotFound(f"There is no contact with id {contact_id}.")
        try:
            data = contact_clean(request.data, partial=True)
        except ContactInvalid as exc:
            raise ApiError([e.as_dict() for e in exc.errors]) from None
        try:
            contact_update(contact=contact, data=data)
        except EmailTaken:
            raise conflict("email", "Another contact already has this email.") from None
        return Response(_contact_json(contact_id))

    @extend_schema(
        operation_id="contacts_destroy",
        summary="Delete a contact",
        description="With its tags, group memberships and deliveries.",
        responses={204: None},
        tags=["contacts"],
    )
    def delete(self, request: Request, contact_id: int) -> Response:
        deleted, _ = Contact.objects.filter(pk=contact_id).delete()
        if not deleted:
            raise NotFound(f"There is no contact with id {contact_id}.")
        return Response(status=status.HTTP_204_NO_CONTENT)
