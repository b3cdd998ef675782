"""The REST API (docs/design.md#api): thin views over the same selectors and services as the
dashboard. Segments are evaluated by `segments.selectors`, sent by
`mailing.services.mailing_create`, contacts written by `contacts.services`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.models import Contact, Group, GroupMembership, Tag
from contacts.selectors import contact_search
from contacts.services import (
    MAX_UPSERT,
    ContactInvalid,
    EmailTaken,
    contact_clean,
    contact_update,
    contacts_upsert,
    group_add_members,
    group_remove_members,
    names_to_ids,
)
from mailing import selectors as mailing_selectors
from mailing.forms import ComposeForm
from mailing.models import Mailing
from mailing.services import mailing_create
from segments import services as segment_services
from segments.models import ContactSegment
from segments.rules import RuleErrors, count_conditions, parse_filter
from segments.selectors import preview, segment_audience, segment_contacts, segments_using

from . import examples
from . import serializers as s
from .exceptions import (
    ApiError,
    conflict,
    error,
    flatten,
    invalid,
    prefixed,
    rule_errors,
    unknown_keys,
)
from .pagination import KEYSET_PARAMETERS, PAGE_PARAMETERS, paginated_response, whole_number
from .parsers import ApiRequest

ERRORS = s.ErrorsSerializer

# -- helpers --------------------------------------------------------------------------


class ApiView(APIView):
    """What every API view shares: a request that reads chunked bodies too."""

    def initialize_request(self, request, *args, **kwargs) -> ApiRequest:
        return ApiRequest(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context=self.get_parser_context(request),
        )


def _valid(serializer_class, request: Request, **kwargs) -> dict:
    """The request body validated by a serializer, or a 400 listing every problem,
    keys that the serializer does not know among them (DRF would drop them)."""
    serializer = serializer_class(data=request.data, **kwargs)
    unknown = unknown_keys(request.data, serializer.fields)
    if not serializer.is_valid() or unknown:
        raise ApiError(unknown + flatten(serializer.errors))
    return serializer.validated_data


def _get_segment(segment_id: int) -> ContactSegment:
    # Every user of a Flock instance works on the same segments (as in the dashboard).
    segment = ContactSegment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(f"There is no segment with id {segment_id}.")
    return segment


def _status(is_bounced: bool, is_unsubscribed: bool) -> str:
    if is_unsubscribed:
        return Contact.Status.UNSUBSCRIBED.value
    if is_bounced:
        return Contact.Status.BOUNCED.value
    return Contact.Status.ACTIVE.value


# -- segments ---------------------------------------------------------------------------


def _seed_rules(rules: Any) -> list:
    """Canonical rules (`op`) in the common spelling (`operator`), groups kept nested."""
    out = []
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        if "rules" in rule:
            out.append(
                {
                    "match": rule.get("match", "all"),
                    "negate": bool(rule.get("negate", False)),
                    "rules": _seed_rules(rule["rules"]),
                }
            )
        else:
            item = {"field": rule.get("field"), "operator": rule.get("op")}
            if "value" in rule:
                item["value"] = rule["value"]
            out.append(item)
    return out


def segment_json(segment: ContactSegment, *, contacts_count: int | None | bool = True) -> dict:
    """A segment as the API shows it. `contacts_count=True` counts its matches now
    (without recording it in the size history); an int is a count just taken."""
    tree = segment.filter_json
    if not isinstance(tree, dict) or not isinstance(tree.get("rules"), list):
        tree = {"match": "all", "negate": False, "rules": []}  # never saved so, but be safe
    problems: list[dict] = []
    if contacts_count is True:
        try:
            contacts_count = segment_contacts(segment).count()
        except RuleErrors as exc:
            contacts_count, problems = None, exc.as_list()
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "match": tree.get("match", "all"),
        "rules": _seed_rules(tree.get("rules")),
        "filter": tree,
        "contacts_count": contacts_count,
        "last_count": segment.last_count,
        "last_evaluated_at": segment.last_evaluated_at,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
        "rule_errors": problems,
    }


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
        responses={200: s.SegmentSerializer(many=True)},
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
        request=s.SegmentWriteSerializer,
        responses={201: s.SegmentSerializer},
        examples=[examples.SEGMENT_CREATE_SEED, examples.SEGMENT_CREATE_FILTER,
                  examples.SEGMENT_CREATED, examples.SEGMENT_RULE_ERRORS],
        tags=["segments"],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        data = _valid(s.SegmentWriteSerializer, request)
        tree, prefix = _tree_from(data)
        if tree is None:
            raise invalid("rules", "Add at least one condition to save.")
        with transaction.atomic():
            segment = segment_services.segment_create(
                name=data["name"],
                description=data.get("description", ""),
                filter_json=_checked_tree(tree, prefix),
                user=request.user,
            )
            count = segment_services.segment_evaluate(segment=segment)
        return Response(
            segment_json(segment, contacts_count=count),
            status=status.HTTP_201_CREATED,
            headers={"Location": _segment_url(request, segment)},
        )


def _segments_json(segments: Sequence[ContactSegment]) -> list[dict]:
    return [segment_json(segment) for segment in segments]


class SegmentDetailView(ApiView):
    @extend_schema(
        operation_id="segments_retrieve",
        summary="One segment",
        responses={200: s.SegmentSerializer},
        tags=["segments"],
    )
    def get(self, request: Request, segment_id: int) -> Response:
        return Response(segment_json(_get_segment(segment_id)))

    @extend_schema(
        operation_id="segments_update",
        summary="Replace a segment",
        description="Name and rules as for create; the segment is re-counted.",
        request=s.SegmentWriteSerializer,
        responses={200: s.SegmentSerializer},
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
        request=s.SegmentWriteSerializer(partial=True),
        responses={200: s.SegmentSerializer},
        examples=[examples.SEGMENT_PATCH],
        tags=["segments"],
    )
    def patch(self, request: Request, segment_id: int) -> Response:
        return self._update(request, segment_id, partial=True)

    def _update(self, request: Request, segment_id: int, *, partial: bool) -> Response:
        segment = _get_segment(segment_id)
        data = _valid(s.SegmentWriteSerializer, request, partial=partial)
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
        return Response(segment_json(segment, contacts_count=count))

    @extend_schema(
        operation_id="segments_destroy",
        summary="Delete a segment",
        description="409 while other segments use it (`in_segment`); its mailings stay.",
        responses={204: None, 409: ERRORS},
        tags=["segments"],
    )
    def delete(self, request: Request, segment_id: int) -> Response:
        segment = _get_segment(segment_id)
        users = segments_using(segment)
        if users:
            names = ", ".join(f"'{u.name}'" for u in users[:5])
            raise conflict("", f"Segments {names} use this segment; change them first.")
        segment.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


SUMMARY_COLUMNS = (
    "id", "email", "full_name", "first_name", "last_name", "company", "is_bounced",
    "is_unsubscribed", "lead_score", "lifecycle_stage", "last_interacted_at", "created_at",
)  # fmt: skip


def _summaries(rows: Sequence[dict]) -> list[dict]:
    return [
        {
            "id": row["id"],
            "email": row["email"],
            "name": row["full_name"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "company": row["company"],
            "status": _status(row["is_bounced"], row["is_unsubscribed"]),
            "lead_score": row["lead_score"],
            "lifecycle_stage": row["lifecycle_stage"],
            "last_interacted_at": row["last_interacted_at"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]


def _segment_contacts_page(request: Request, segment: ContactSegment) -> Response:
    try:
        contacts = segment_contacts(segment)
    except RuleErrors as exc:
        raise rule_errors(exc.errors, status_code=status.HTTP_409_CONFLICT) from None
    rows = contacts.order_by("-pk").values(*SUMMARY_COLUMNS)
    return paginated_response(request, rows, _summaries, keyset=True, hint=segment.last_count)


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
        responses={200: s.ContactSummarySerializer(many=True), 409: ERRORS},
        examples=[examples.SEGMENT_CONTACTS],
        tags=["segments"],
    )
    def get(self, request: Request, segment_id: int) -> Response:
        return _segment_contacts_page(request, _get_segment(segment_id))


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
        responses={200: s.ContactSummarySerializer(many=True), 404: ERRORS, 409: ERRORS},
        examples=[examples.SEGMENT_CONTACTS],
        tags=["segments"],
    )
    def get(self, request: Request) -> Response:
        segment_id = whole_number(request, "segment_id", default=None, low=1, high=2**63 - 1)
        return _segment_contacts_page(request, _get_segment(segment_id))


class SegmentPreviewView(ApiView):
    @extend_schema(
        operation_id="segments_preview",
        summary="Preview rules without saving",
        description="How many contacts match now and the 10 newest of them.",
        request=s.SegmentPreviewSerializer,
        responses={200: s.PreviewSerializer},
        examples=[examples.PREVIEW_REQUEST, examples.PREVIEW_RESPONSE],
        tags=["segments"],
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.SegmentPreviewSerializer, request)
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
            {
                "count": result.count,
                "sample": _summaries(sample),
                "evaluated_at": result.evaluated_at,
            }
        )


# -- sending -----------------------------------------------------------------------------


def mailing_json(mailing: Mailing, *, progress=None) -> dict:
    if progress is not None:
        sent, failed, suppressed, pending = (
            progress.sent, progress.failed, progress.suppressed, progress.pending,
        )  # fmt: skip
    else:
        sent, failed, suppressed = mailing.sent, mailing.failed, mailing.suppressed
        pending = max(mailing.recipients - sent - failed - suppressed, 0)
    return {
        "id": mailing.pk,
        "status": mailing.status,
        "segment_id": mailing.segment_id,
        "subject": mailing.subject,
        "body": mailing.body,
        "body_format": mailing.body_format,
        "from_email": mailing.from_email,
        "recipients": mailing.recipients,
        "sent": sent,
        "failed": failed,
        "suppressed": suppressed,
        "pending": pending,
        "segment_count": mailing.segment_count,
        "evaluated_at": mailing.evaluated_at,
        "created_at": mailing.created_at,
        "updated_at": mailing.updated_at,
    }


class SegmentSendView(ApiView):
    @extend_schema(
        operation_id="segments_send",
        summary="Send a mailing to a segment",
        description="Creates the mailing and queues it, as the dashboard's Send does: "
        "a worker re-runs the segment, leaves out bounced and unsubscribed contacts "
        "and sends. Answers 202 with the mailing (`recipients` is 0 until the worker "
        "has written them). 409 when nobody in the segment can receive it.",
        request=s.SendSerializer,
        responses={202: s.MailingSerializer, 404: ERRORS, 409: ERRORS},
        examples=[examples.SEND_REQUEST, examples.SEND_RESPONSE],
        tags=["mailings"],
    )
    def post(self, request: Request, segment_id: int) -> Response:
        segment = _get_segment(segment_id)
        data = _valid(s.SendSerializer, request)
        form = ComposeForm(
            {
                "subject": data["subject"],
                "body": data["body"],
                "from_email": data.get("from_email") or settings.DEFAULT_FROM_EMAIL,
                "body_format": data.get("body_format", ""),
            }
        )
        if not form.is_valid():
            raise ApiError(
                [
                    error("" if field == "__all__" else field, message)
                    for field, messages in form.errors.items()
                    for message in messages
                ]
            )
        try:
            audience = segment_audience(segment)
        except RuleErrors as exc:
            raise rule_errors(exc.errors, status_code=status.HTTP_409_CONFLICT) from None
        if audience.reachable == 0:
            raise conflict("", "Nobody in this segment can receive a mailing right now.")
        mailing = mailing_create(segment=segment, user=request.user, **form.cleaned_data)
        return Response(
            mailing_json(mailing),
            status=status.HTTP_202_ACCEPTED,
            headers={
                "Location": request.build_absolute_uri(reverse("api:mailing", args=[mailing.pk]))
            },
        )


class MailingListView(ApiView):
    @extend_schema(
        operation_id="mailings_list",
        summary="List mailings",
        description="Newest first, with status and the running counters the workers keep.",
        parameters=PAGE_PARAMETERS,
        responses={200: s.MailingSerializer(many=True)},
        tags=["mailings"],
    )
    def get(self, request: Request) -> Response:
        mailings = Mailing.objects.order_by("-created_at", "-id")
        return paginated_response(request, mailings, lambda rows: [mailing_json(m) for m in rows])


class MailingDetailView(ApiView):
    @extend_schema(
        operation_id="mailings_retrieve",
        summary="One mailing",
        description="Status and counters counted from its delivery rows.",
        responses={200: s.MailingSerializer},
        examples=[examples.SEND_RESPONSE],
        tags=["mailings"],
    )
    def get(self, request: Request, mailing_id: int) -> Response:
        mailing = Mailing.objects.filter(pk=mailing_id).first()
        if mailing is None:
            raise NotFound(f"There is no mailing with id {mailing_id}.")
        return Response(mailing_json(mailing, progress=mailing_selectors.mailing_progress(mailing)))


# -- contacts ----------------------------------------------------------------------------

CONTACT_COLUMNS = (
    "id", "email", "full_name", "first_name", "last_name", "company", "job_title",
    "country", "city", "source", "lead_score", "lifecycle_stage", "last_interacted_at",
    "created_at", "updated_at", "is_bounced", "is_unsubscribed", "custom_fields", "tag_ids",
)  # fmt: skip


_PLAIN_COLUMNS = (
    "first_name", "last_name", "company", "job_title", "country", "city", "source",
    "lead_score", "lifecycle_stage", "last_interacted_at", "created_at", "updated_at",
)  # fmt: skip


def contacts_json(rows: Sequence[dict]) -> list[dict]:
    """Contacts with their tag and group names: two queries for the whole page."""
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
    return [
        {
            "id": row["id"],
            "email": row["email"],
            "name": row["full_name"],
            **{name: row[name] for name in _PLAIN_COLUMNS},
            "is_bounced": row["is_bounced"],
            "is_unsubscribed": row["is_unsubscribed"],
            "status": _status(row["is_bounced"], row["is_unsubscribed"]),
            "custom_fields": row["custom_fields"] if isinstance(row["custom_fields"], dict) else {},
            "tags": sorted(
                (tag_names[t] for t in row["tag_ids"] or () if t in tag_names), key=str.lower
            ),
            "groups": groups.get(row["id"], []),
        }
        for row in rows
    ]


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
    OpenApiParameter("status", str, enum=s.STATUS_CHOICES, description="Derived status."),
]


class ContactListView(ApiView):
    @extend_schema(
        operation_id="contacts_list",
        summary="List contacts",
        description="Newest first; a plain JSON array paged with `page` and `per_page`.",
        parameters=[*CONTACT_FILTERS, *KEYSET_PARAMETERS],
        responses={200: s.ContactSerializer(many=True)},
        examples=[examples.CONTACT_LIST],
        tags=["contacts"],
    )
    def get(self, request: Request) -> Response:
        q = _search_text(request, "q", max_length=200)
        email = _search_text(request, "email", max_length=254)
        tag_name = _search_text(request, "tag", max_length=100)
        status_ = request.query_params.get("status")
        if status_ is not None and status_ not in s.STATUS_CHOICES:
            raise invalid("status", f"status must be one of: {', '.join(s.STATUS_CHOICES)}.")
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
            serializers=[s.ContactWriteSerializer, s.ContactWriteSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            200: PolymorphicProxySerializer(
                component_name="ContactUpsertResponse",
                serializers=[s.ContactSerializer, s.UpsertResultSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            201: s.ContactSerializer,
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
        return Response(
            {
                **counts,
                "results": [
                    {
                        "index": r.index,
                        "status": r.status,
                        "id": r.id,
                        "email": r.email,
                        "errors": [
                            error(prefixed(f"[{r.index}]", e.path), e.message) for e in r.errors
                        ],
                    }
                    for r in results
                ],
            }
        )

    def _one(self, body: dict) -> Response:
        (result,) = contacts_upsert(items=[body])
        if result.status == "rejected":
            raise ApiError([e.as_dict() for e in result.errors])
        code = status.HTTP_201_CREATED if result.status == "created" else status.HTTP_200_OK
        return Response(_contact_json(result.id), status=code)


class ContactDetailView(ApiView):
    @extend_schema(
        operation_id="contacts_retrieve",
        summary="One contact",
        responses={200: s.ContactSerializer},
        tags=["contacts"],
    )
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(_contact_json(contact_id))

    @extend_schema(
        operation_id="contacts_partial_update",
        summary="Change a contact",
        description="The fields given change; `tags` and `groups`, when given, become "
        "exactly those names. 409 when the new email belongs to another contact.",
        request=s.ContactPatchSerializer,
        responses={200: s.ContactSerializer, 409: ERRORS},
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


# -- tags and groups ------------------------------------------------------------------


class TagListView(ApiView):
    @extend_schema(
        operation_id="tags_list",
        summary="List tags",
        description="By name; a plain JSON array paged with `page` and `per_page`.",
        parameters=PAGE_PARAMETERS,
        responses={200: s.TagSerializer(many=True)},
        tags=["tags and groups"],
    )
    def get(self, request: Request) -> Response:
        rows = Tag.objects.order_by(Lower("name"), "pk").values("id", "name", "created_at")
        return paginated_response(request, rows, list)

    @extend_schema(
        operation_id="tags_create",
        summary="Create a tag",
        description="201 with the new tag; 200 with the existing one when the name "
        "is taken (in any case).",
        request=s.TagWriteSerializer,
        responses={200: s.TagSerializer, 201: s.TagSerializer},
        tags=["tags and groups"],
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.TagWriteSerializer, request)
        return _named_create(Tag, data)


def _named_create(model: type[Tag] | type[Group], data: dict) -> Response:
    """Get or create by name (any case), in the statements of `names_to_ids`."""
    existed = model.objects.alias(lname=Lower("name")).filter(lname=data["name"].lower()).exists()
    (pk,) = names_to_ids(model, [data["name"]]).values()
    if model is Group and not existed and data.get("description"):
        Group.objects.filter(pk=pk).update(description=data["description"])
    fields = ["id", "name", "created_at"]
    if model is Group:
        fields.insert(2, "description")
    row = model.objects.values(*fields).get(pk=pk)
    return Response(row, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class GroupListView(ApiView):
    @extend_schema(
        operation_id="groups_list",
        summary="List groups (static lists)",
        parameters=PAGE_PARAMETERS,
        responses={200: s.GroupSerializer(many=True)},
        tags=["tags and groups"],
    )
    def get(self, request: Request) -> Response:
        rows = Group.objects.order_by(Lower("name"), "pk").values(
            "id", "name", "description", "created_at"
        )
        return paginated_response(request, rows, list)

    @extend_schema(
        operation_id="groups_create",
        summary="Create a group",
        description="201 with the new group; 200 with the existing one when the name "
        "is taken (in any case).",
        request=s.GroupWriteSerializer,
        responses={200: s.GroupSerializer, 201: s.GroupSerializer},
        tags=["tags and groups"],
    )
    def post(self, request: Request) -> Response:
        return _named_create(Group, _valid(s.GroupWriteSerializer, request))


def _get_group(group_id: int) -> Group:
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(f"There is no group with id {group_id}.")
    return group


class GroupMembersView(ApiView):
    @extend_schema(
        operation_id="groups_members_list",
        summary="A group's members",
        description="Newest contacts first; a plain JSON array paged with `page` and `per_page`.",
        parameters=KEYSET_PARAMETERS,
        responses={200: s.ContactSummarySerializer(many=True)},
        tags=["tags and groups"],
    )
    def get(self, request: Request, group_id: int) -> Response:
        group = _get_group(group_id)
        rows = (
            Contact.objects.filter(groupmembership__group=group)
            .order_by("-pk")
            .values(*SUMMARY_COLUMNS)
        )
        return paginated_response(request, rows, _summaries, keyset=True)

    @extend_schema(
        operation_id="groups_members_add",
        summary="Add contacts to a group",
        description="Up to 1,000 contact ids; ids that do not exist are skipped. "
        "`changed` counts the new memberships.",
        request=s.MembersSerializer,
        responses={200: s.MembersResultSerializer},
        tags=["tags and groups"],
    )
    def post(self, request: Request, group_id: int) -> Response:
        group = _get_group(group_id)
        data = _valid(s.MembersSerializer, request)
        return Response(
            {"changed": group_add_members(group=group, contact_ids=data["contact_ids"])}
        )


class GroupMemberView(ApiView):
    @extend_schema(
        operation_id="groups_members_remove",
        summary="Take a contact out of a group",
        description="404 when the contact is not in the group.",
        responses={204: None},
        tags=["tags and groups"],
    )
    def delete(self, request: Request, group_id: int, contact_id: int) -> Response:
        group = _get_group(group_id)
        if not group_remove_members(group=group, contact_ids=[contact_id]):
            raise NotFound(f"Contact {contact_id} is not in group {group_id}.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotFoundView(ApiView):
    """Any other path under /api/: a JSON 404 (after authentication, like the rest)."""

    schema = None

    def dispatch_not_found(self, request: Request, *args, **kwargs) -> Response:
        raise NotFound("There is no such API endpoint; see /api/docs/.")

    get = post = put = patch = delete = head = options = dispatch_not_found
