"""What the API views share: the view base class, body validation, lookups that 404,
and the page of contact summaries every contact list returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.http import HttpRequest
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from segments.models import ContactSegment

from ..exceptions import (
    ApiError,
    flatten,
    unknown_keys,
)
from ..parsers import ApiRequest
from ..serializers import as_list
from ..serializers.contacts import ContactSummarySerializer
from ..serializers.errors import ErrorsSerializer

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the user model: settings set no AUTH_USER_MODEL

ERRORS = ErrorsSerializer

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


def contact_summaries(rows: Sequence[dict]) -> list[dict]:
    """A page of contact rows (`.values(*SUMMARY_COLUMNS)`) as the API shows them."""
    return as_list(ContactSummarySerializer, rows)


class NotFoundView(ApiView):
    """Any other path under /api/: a JSON 404 (after authentication, like the rest)."""

    schema = None

    # `request` typed wide: this one method also stands in for View.options (HttpRequest).
    def dispatch_not_found(
        self, request: Request | HttpRequest, *args: Any, **kwargs: Any
    ) -> Response:
        raise NotFound("There is no such API endpoint; see /api/docs/.")

    get = post = put = patch = delete = head = options = dispatch_not_found
