"""Mailings: send one to a segment, list them, read one with its counters."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from mailing import selectors as mailing_selectors
from mailing.forms import ComposeForm
from mailing.models import Mailing
from mailing.services import NobodyReachable, ensure_reachable, mailing_create
from segments.rules import RuleErrors
from segments.selectors import segment_audience

from .. import examples
from ..exceptions import ApiError, conflict, error, rule_errors
from ..pagination import PAGE_PARAMETERS, paginated_response
from ..serializers import as_list
from ..serializers.mailings import CountedMailing, MailingSerializer, SendSerializer
from .base import ERRORS, ApiView, get_segment, request_user, valid_body


class SegmentSendView(ApiView):
    @extend_schema(
        operation_id="segments_send",
        summary="Send a mailing to a segment",
        description="Creates the mailing and queues it, as the dashboard's Send does: "
        "a worker re-runs the segment, leaves out bounced and unsubscribed contacts "
        "and sends. Answers 202 with the mailing (`recipients` is 0 until the worker "
        "has written them). 409 when nobody in the segment can receive it.",
        request=SendSerializer,
        responses={202: MailingSerializer, 404: ERRORS, 409: ERRORS},
        examples=[examples.SEND_REQUEST, examples.SEND_RESPONSE],
        tags=["mailings"],
    )
    def post(self, request: Request, segment_id: int) -> Response:
        segment = get_segment(segment_id)
        data = valid_body(SendSerializer, request)
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
                    # str(): an ErrorList yields text (its stubs say ValidationError too).
                    error("" if field == "__all__" else field, str(message))
                    for field, messages in form.errors.items()
                    for message in messages
                ]
            )
        try:
            audience = segment_audience(segment)
        except RuleErrors as exc:
            raise rule_errors(exc.errors, status_code=status.HTTP_409_CONFLICT) from None
        try:
            ensure_reachable(audience)
        except NobodyReachable as exc:
            raise conflict("", str(exc)) from None
        mailing = mailing_create(segment=segment, user=request_user(request), **form.cleaned_data)
        return Response(
            MailingSerializer(CountedMailing.from_totals(mailing)).data,
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
        responses={200: MailingSerializer(many=True)},
        tags=["mailings"],
    )
    def get(self, request: Request) -> Response:
        mailings = Mailing.objects.order_by("-created_at", "-id")
        return paginated_response(request, mailings, _mailings_json)


def _mailings_json(mailings: Sequence[Mailing]) -> list[dict]:
    return as_list(MailingSerializer, [CountedMailing.from_totals(m) for m in mailings])


class MailingDetailView(ApiView):
    @extend_schema(
        operation_id="mailings_retrieve",
        summary="One mailing",
        description="Status and counters counted from its delivery rows.",
        responses={200: MailingSerializer},
        examples=[examples.SEND_RESPONSE],
        tags=["mailings"],
    )
    def get(self, request: Request, mailing_id: int) -> Response:
        mailing = Mailing.objects.filter(pk=mailing_id).first()
        if mailing is None:
            raise NotFound(f"There is no mailing with id {mailing_id}.")
        progress = mailing_selectors.mailing_progress(mailing)
        return Response(MailingSerializer(CountedMailing.from_progress(mailing, progress)).data)
