"""What the API views share: the view base class, body validation, lookups that 404,
and the contact summary every contact list returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.models import Contact
from segments.models import ContactSegment

from .. import serializers as s
from ..exceptions import (
    ApiError,
    flatten,
    unknown_keys,
)
from ..parsers import ApiRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the user model: settings set no AUTH_USER_MODEL

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


def request_user(request: Request) -> User:
    """The signed-in user: the API's IsAuthenticated default lets no anonymous request in."""
    return cast("User", request.user)


def valid_body(serializer_class, request: Request, **kwargs) -> dict:
    """The request body validated by a serializer, or a 400 listing every problem,
    keys that the serializer does not know among them (DRF would drop them)."""
    serializer = serializer_class(data=request.data, **kwargs)
    unknown = unknown_keys(request.data, serializer.fields)
    if not serializer.is_valid() or unknown:
        raise ApiError(unknown + flatten(serializer.errors))
    return serializer.validated_data


def get_segment(segment_id: int) -> ContactSegment:
    # Every user of a Flock instance works on the same segments (as in the dashboard).
    segment = ContactSegment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(f"There is no segment with id {segment_id}.")
    return segment


def contact_status(is_bounced: bool, is_unsubscribed: bool) -> str:
    if is_unsubscribed:
        return Contact.Status.UNSUBSCRIBED.value
    if is_bounced:
        return Contact.Status.BOUNCED.value
    return Contact.Status.ACTIVE.value


SUMMARY_COLUMNS = (
    "id", "email", "full_name", "first_name", "last_name", "company", "is_bounced",
    "is_unsubscribed", "lead_score", "lifecycle_stage", "last_interacted_at", "created_at",
)  # fmt: skip


def contact_summaries(rows: Sequence[dict]) -> list[dict]:
    return [
        {
            "id": row["id"],
            "email": row["email"],
            "name": row["full_name"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "company": row["company"],
            "status": contact_status(row["is_bounced"], row["is_unsubscribed"]),
            "lead_score": row["lead_score"],
            "lifecycle_stage": row["lifecycle_stage"],
            "last_interacted_at": row["last_interacted_at"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]


class NotFoundView(ApiView):
    """Any other path under /api/: a JSON 404 (after authentication, like the rest)."""

    schema = None

    # `request` typed wide: this one method also stands in for View.options (HttpRequest).
    def dispatch_not_found(
        self, request: Request | HttpRequest, *args: Any, **kwargs: Any
    ) -> Response:
        raise NotFound("There is no such API endpoint; see /api/docs/.")

    get = post = put = patch = delete = head = options = dispatch_not_found
