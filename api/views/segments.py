"""Segments: list, create, read, update, delete, their contacts, and the preview."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.models import Contact
from segments import services as segment_services
from segments.models import ContactSegment
from segments.rules import RuleErrors, count_conditions, parse_filter
from segments.selectors import preview, segment_contacts, segments_using

from .. import examples
from ..exceptions import conflict, invalid, prefixed, rule_errors
from ..pagination import KEYSET_PARAMETERS, PAGE_PARAMETERS, paginated_response, whole_number
from ..serializers import as_list
from ..serializers.contacts import SUMMARY_COLUMNS, ContactSummarySerializer
from ..serializers.segments import (
    CountedSegment,
    PreviewSerializer,
    SegmentPreviewSerializer,
    SegmentSerializer,
    SegmentWriteSerializer,
)
from .base import ERRORS, ApiView, contact_summaries, get_segment, request_user, valid_body


def counted(segment: ContactSegment) -> CountedSegment:
    """The segment with its matches counted now (not recorded in its size history)."""
    try:
        return CountedSegment(segment, segment_contacts(segment).count())
    except RuleErrors as exc:
        return CountedSegment(segment, None, exc.as_list())


def _tree_from(data: dict, *, base: dict | None = None) -> tuple[dict | None, str]:
    """The rule tree a body describes, and where its errors point ("", "rules",
    "conditions" or "filter").

    `filter` is a whole tree; `rules` a list (combined by `match`, default all) or
    a whole group; `conditions` and `logic` are other tools' names for `rules` and
    `match` (the serializer has read `logic` as all / any). On PATCH, `base` (the
    saved tree) supplies what is left out.
    """
    for key, alias in (("rules", "conditions"), ("match", "logic")):
        if key in data and alias in data:
            raise invalid(alias, f"Send either '{key}' or '{alias}', not both.")
    rules_key = "conditions" if "conditions" in data else "rules"
    match_key = "logic" if "logic" in data else "match"
    if "filter" in data:
        for other in (rules_key, match_key):
            if other in data:
                raise invalid(other, f"Send either '{other}' or 'filter', not both.")
        return data["filter"], "filter"
    rules, match = data.get(rules_key), data.get(match_key)
    if isinstance(rules, dict):
        if match is not None:
            raise invalid(
                match_key, f"Put '{match_key}' inside '{rules_key}' when '{rules_key}' is a group."
            )
        return rules, rules_key
    if rules is None and match is None:
        return None, ""
    base = base or {}
    # Under the key it was sent as, so that the parser's error paths say it too.
    tree = {
        "match": match or base.get("match", "all"),
        "negate": bool(base.get("negate", False)),
        rules_key: rules if rules is not None else base.get("rules", []),
    }
    return tree, ""


def _checked_tree(tree: Any, prefix: str, *, segment_id: int | None = None) -> dict:
    """Validate a tree to save, with errors at their place in the request body."""
    try:
        canonical = parse_filter(tree, segment_id=segment_id)
    except RuleErrors as exc:
        raise rule_errors(exc.errors, prefix=prefix) from None
    if count_conditions(canonical) == 0:
        rules_key = "conditions" if isinstance(tree, dict) and "conditions" in tree else "rules"
        raise invalid(prefixed(prefix, rules_key), "Add at least one condition to save.")
    return canonical


def _segment_url(request: Request, segment: ContactSegment) -> str:
    return request.build_absolute_uri(reverse("api:segment", args=[segment.pk]))


class SegmentListView(ApiView):
    @extend_schema(
        operation_id="segments_list",
        summary="List segments",
        description="Every segment with its rules and `contacts_count`, counted now. "
        "A plain JSON array, paged with `page` and `per_page`.",
        parameters=PAGE_PARAMETERS,
        responses={200: SegmentSerializer(many=True)},
        examples=[examples.SEGMENT_LIST],
        tags=["segments"],
    )
    def get(self, request: Request) -> Response:
        segments = ContactSegment.objects.order_by("name", "pk")
        return paginated_response(request, segments, _segments_json)

    @extend_schema(
        operation_id="segments_create",
        summary="Create a segment",
        description="From `{name, rules}` (a bare list of rules means all of them), "
        "`{name, match, rules}` or `{name, filter}`. Answers 201 with the segment and "
        "its `contacts_count`; rule errors are 400 with the path of each.",
        request=SegmentWriteSerializer,
        responses={201: SegmentSerializer},
        examples=[examples.SEGMENT_CREATE_SEED, examples.SEGMENT_CREATE_FILTER,
                  examples.SEGMENT_CREATED, examples.SEGMENT_RULE_ERRORS],
        tags=["segments"],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = valid_body(SegmentWriteSerializer, request)
        tree, prefix = _tree_from(data)
        if tree is None:
            raise invalid("rules", "Add at least one condition to save.")
        with transaction.atomic():
            segment = segment_services.segment_create(
                name=data["name"],
                description=data.get("description", ""),
                filter_json=_checked_tree(tree, prefix),
                user=request_user(request),
            )
            count = segment_services.segment_evaluate(segment=segment)
        return Response(
            SegmentSerializer(CountedSegment(segment, count)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": _segment_url(request, segment)},
        )


def _segments_json(segments: Sequence[ContactSegment]) -> list[dict]:
    return as_list(SegmentSerializer, [counted(segment) for segment in segments])


class SegmentDetailView(ApiView):
    @extend_schema(
        operation_id="segments_retrieve",
        summary="One segment",
        responses={200: SegmentSerializer},
        tags=["segments"],
    )
    def get(self, request: Request, segment_id: int) -> Response:
        return Response(SegmentSerializer(counted(get_segment(segment_id))).data)

    @extend_schema(
        operation_id="segments_update",
        summary="Replace a segment",
        description="Name and rules as for create; the segment is re-counted.",
        request=SegmentWriteSerializer,
        responses={200: SegmentSerializer},
        examples=[examples.SEGMENT_CREATE_SEED],
        tags=["segments"],
    )
    def put(self, request: Request, segment_id: int) -> Response:
        return self._update(request, segment_id, partial=False)

    @extend_schema(
        operation_id="segments_partial_update",
        summary="Change part of a segment",
        description="Any of `name`, `description`, `match`, `rules`, `filter`; `match` "
        "alone changes how the saved rules combine.",
        request=SegmentWriteSerializer(partial=True),
        responses={200: SegmentSerializer},
        examples=[examples.SEGMENT_PATCH],
        tags=["segments"],
    )
    def patch(self, request: Request, segment_id: int) -> Response:
        return self._update(request, segment_id, partial=True)

    def _update(self, request: Request, segment_id: int, *, partial: bool) -> Response:
        segment = get_segment(segment_id)
        data = valid_body(SegmentWriteSerializer, request, partial=partial)
        tree, prefix = _tree_from(data, base=segment.filter_json if partial else None)
        if tree is None and not partial:
            raise invalid("rules", "Add at least one condition to save.")
        with transaction.atomic():
            segment = segment_services.segment_update(
                segment=segment,
                name=data.get("name", segment.name),
                description=data.get("description", segment.description),
                filter_json=_checked_tree(
                    segment.filter_json if tree is None else tree, prefix, segment_id=segment.pk
                ),
            )
            count = segment_services.segment_evaluate(segment=segment)
        return Response(SegmentSerializer(CountedSegment(segment, count)).data)

    @extend_schema(
        operation_id="segments_destroy",
        summary="Delete a segment",
        description="409 while other segments use it (`in_segment`); its mailings stay.",
        responses={204: None, 409: ERRORS},
        tags=["segments"],
    )
    def delete(self, request: Request, segment_id: int) -> Response:
        segment = get_segment(segment_id)
        users = segments_using(segment)
        if users:
            names = ", ".join(f"'{u.name}'" for u in users[:5])
            raise conflict("", f"Segments {names} use this segment; change them first.")
        segment.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


def _segment_contacts_page(request: Request, segment: ContactSegment) -> Response:
    try:
        contacts = segment_contacts(segment)
    except RuleErrors as exc:
        raise rule_errors(exc.errors, status_code=status.HTTP_409_CONFLICT) from None
    rows = contacts.order_by("-pk").values(*SUMMARY_COLUMNS)
    return paginated_response(
        request, rows, contact_summaries, keyset=True, hint=segment.last_count
    )


SEGMENT_CONTACTS_DESCRIPTION = (
    "The contacts that match the segment now, newest first: a plain JSON array "
    "compatible with the common `{field, operator, value}` segment format, paged with "
    "`page` and `per_page`. 409 when the saved rules no "
    "longer work (e.g. a group they name was deleted)."
)


class SegmentContactsView(ApiView):
    @extend_schema(
        operation_id="segments_contacts",
        summary="A segment's contacts",
        description=SEGMENT_CONTACTS_DESCRIPTION,
        parameters=KEYSET_PARAMETERS,
        responses={200: ContactSummarySerializer(many=True), 409: ERRORS},
        examples=[examples.SEGMENT_CONTACTS],
        tags=["segments"],
    )
    def get(self, request: Request, segment_id: int) -> Response:
        return _segment_contacts_page(request, get_segment(segment_id))


class SegmentContactsByQueryView(ApiView):
    @extend_schema(
        operation_id="segments_contacts_by_query",
        summary="A segment's contacts (by query parameter)",
        description=SEGMENT_CONTACTS_DESCRIPTION,
        parameters=[
            OpenApiParameter(
                "segment_id",
                {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                required=True,
                description="The segment's id.",
            ),
            *KEYSET_PARAMETERS,
        ],
        responses={200: ContactSummarySerializer(many=True), 404: ERRORS, 409: ERRORS},
        examples=[examples.SEGMENT_CONTACTS],
        tags=["segments"],
    )
    def get(self, request: Request) -> Response:
        segment_id = whole_number(request, "segment_id", default=None, low=1, high=2**63 - 1)
        return _segment_contacts_page(request, get_segment(segment_id))


class SegmentPreviewView(ApiView):
    @extend_schema(
        operation_id="segments_preview",
        summary="Preview rules without saving",
        description="How many contacts match now and the 10 newest of them.",
        request=SegmentPreviewSerializer,
        responses={200: PreviewSerializer},
        examples=[examples.PREVIEW_REQUEST, examples.PREVIEW_RESPONSE],
        tags=["segments"],
    )
    def post(self, request: Request) -> Response:
        data = valid_body(SegmentPreviewSerializer, request)
        tree, prefix = _tree_from(data)
        if tree is None:
            raise invalid("rules", "Send the rules to preview.")
        try:
            result = preview(tree)
        except RuleErrors as exc:
            raise rule_errors(exc.errors, prefix=prefix) from None
        # The selector's sample has the builder's columns; the API's summary has a few
        # more, read for those ten contacts in one query.
        ids = [contact.pk for contact in result.sample]
        rows = {
            row["id"]: row for row in Contact.objects.filter(pk__in=ids).values(*SUMMARY_COLUMNS)
        }
        sample = [rows[pk] for pk in ids if pk in rows]
        return Response(
            PreviewSerializer(
                {"count": result.count, "sample": sample, "evaluated_at": result.evaluated_at}
            ).data
        )
