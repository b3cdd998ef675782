"""ESP tracking webhooks (django-anymail), included under ``/webhooks/``.

Every tracking webhook anymail ships is routed at ``/webhooks/<esp>/tracking/``
(named ``webhooks:<esp>_tracking_webhook``), for instance:

* ``POST /webhooks/postmark/tracking/``
* ``POST /webhooks/mailgun/tracking/``
* ``POST /webhooks/sendgrid/tracking/``
* ``POST /webhooks/amazon_ses/tracking/``, ``brevo``, ``mailersend``, ``mailjet``,
  ``mailtrap``, ``mandrill``, ``postal``, ``resend``, ``sendinblue``,
  ``sparkpost``, ``unisender_go``

Configure the ESP to call ``https://USER:PASS@<host>/webhooks/<esp>/tracking/``
where ``USER:PASS`` is ``ANYMAIL_WEBHOOK_SECRET`` (``ANYMAIL["WEBHOOK_SECRET"]``).
Where anymail would only warn when no secret is configured, these routes refuse
(403): an open webhook would let anyone mark contacts bounced. The views need no
login (``login_not_required``) and no CSRF token; the events go to
``mailing.bounces.on_tracking_event`` through anymail's ``tracking`` signal.

What a request gets, in this order (each refusal is logged at warning level):

* 403 while no secret is configured;
* 401 with a ``WWW-Authenticate: Basic`` challenge without that basic auth (some
  senders, Amazon SNS among them, send credentials only once challenged); nothing
  of the body is read before this check;
* 403 ``{"error": ...}`` when the ESP's own signature check fails, for ESPs that
  sign their webhooks (anymail's ``AnymailWebhookValidationFailure``);
* 400 ``{"error": ...}`` for a body that is not what the ESP sends: not UTF-8, not
  JSON, nested too deeply, an empty list, ``null`` or a string where events belong,
  an object without the ESP's keys, a bounce without an address
  (``mailing.bounces.tracking_event_problem``). Nothing of such a request is applied;
* 503 while the ESP's own settings are missing (e.g. Mailgun's signing key), so
  that the ESP retries once they are set;
* otherwise 200; an error while applying the events stays a 500, and the ESP retries.

Inbound-mail webhooks are routed the same way at ``/webhooks/<esp>/inbound/``
(``webhooks:<esp>_inbound_webhook``): point the ESP's inbound route for the
``FLOCK_UNSUBSCRIBE_MAILTO`` address there, and mail sent to the
``List-Unsubscribe`` mailto unsubscribes its sender's contact
(``mailing.unsubscribe.on_inbound_mail``; the signed token is in the subject).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, cast

from anymail import urls as anymail_urls
from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailImproperlyInstalled,
    AnymailRequestsAPIError,
    AnymailWebhookValidationFailure,
)
from anymail.utils import get_anymail_setting, get_request_basic_auth
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.http.request import RawPostDataException
from django.urls import URLPattern, path
from django.utils.crypto import constant_time_compare
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from .bounces import tracking_event_problem

app_name = "webhooks"
logger = logging.getLogger(__name__)


class _Refused(Exception):
    """A request refused with `status` and a short reason, before any event is applied."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _is_malformed_body(exc: Exception) -> bool:
    """Whether an error raised while anymail reads a body means the body is wrong.

    What its parsers raise on bodies they do not expect: JSON and UTF-8 errors
    (ValueErrors), KeyError/TypeError/AttributeError/AssertionError on missing keys
    or wrong types, RecursionError on deep nesting, and its own refusals (Postmark's
    "inbound event at the tracking URL", Amazon SES's "malformed SNS message").
    Not a missing library or a failed call to the ESP's API: those are ours.
    """
    if isinstance(exc, AnymailImproperlyInstalled | AnymailRequestsAPIError):
        return False
    return isinstance(
        exc,
        ValueError
        | TypeError
        | LookupError
        | AttributeError
        | AssertionError
        | RecursionError
        | AnymailAPIError
        | AnymailConfigurationError,
    )


def _reason(exc: Exception, esp_name: str, kind: str) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "The body is not UTF-8 text."
    if isinstance(exc, json.JSONDecodeError):
        return f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
    if isinstance(exc, RecursionError):
        return "The body is nested too deeply."
    detail = (str(exc).splitlines() or [""])[0][:200]
    return f"The body is not a {esp_name} {kind} payload ({type(exc).__name__}: {detail})."


def _body_of(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RawPostDataException:  # a multipart body anymail already read as request.POST
        return b""


if TYPE_CHECKING:  # the anymail view it is mixed into, as far as mypy can know it
    from anymail.webhooks.base import AnymailBaseWebhookView as _AnymailView
else:
    _AnymailView = object


class _Guarded(_AnymailView):
    """Mixed in before an anymail webhook view: refusals as 4xx answers, not 500s.

    Every event is parsed and checked before the first one is sent to the signal,
    so a refused request applies nothing.
    """

    kind: str
    event_problem: Callable[[object], str | None]

    def run_validators(self, request: HttpRequest) -> None:
        try:
            super().run_validators(request)
        except AnymailWebhookValidationFailure as exc:
            raise _Refused(403, f"The request could not be verified: {exc}") from exc
        except Exception as exc:
            if _is_malformed_body(exc):
                raise _Refused(400, _reason(exc, self.esp_name, self.kind)) from exc
            raise

    def parse_events(self, request: HttpRequest) -> list:
        try:
            events = list(super().parse_events(request))
        except Exception as exc:
            if _is_malformed_body(exc):
                raise _Refused(400, _reason(exc, self.esp_name, self.kind)) from exc
            raise
        # Zero events can be right (SparkPost's ping, an SNS subscription); an empty body is not.
        if not events and _body_of(request).strip() in (b"[]", b"{}"):
            raise _Refused(400, "The body holds no events.")
        for index, event in enumerate(events):
            if problem := self.event_problem(event):
                where = f"Event {index}" if len(events) > 1 else "The event"
                raise _Refused(400, f"{where} {problem}.")
        return events

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except _Refused as refusal:
            logger.warning(
                "Refused a %s %s webhook (%s bytes): %s",
                self.esp_name,
                self.kind,
                len(_body_of(request)),
                refusal.reason,
            )
            return JsonResponse({"error": refusal.reason}, status=refusal.status)


def _inbound_event_problem(event) -> str | None:
    message = getattr(event, "message", None)
    if message is None or not message.get("From"):
        return "is not a mail (it has no From header)"
    return None


def _has_webhook_credentials(request: HttpRequest, secrets: str | list[str]) -> bool:
    sent = get_request_basic_auth(request)
    if sent is None:
        return False
    # Like anymail: constant-time against each configured "user:pass".
    allowed = [secrets] if isinstance(secrets, str) else list(secrets)
    return any(constant_time_compare(sent, secret) for secret in allowed)


def _authenticated_first(view, esp: str, kind: str):
    """Secret configured and basic auth right before anything reads the body."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        secrets = get_anymail_setting("webhook_secret", default=None)
        if not secrets:
            logger.warning("Refused a %s %s webhook: no webhook secret is set.", esp, kind)
            return HttpResponseForbidden("Webhooks are disabled: set ANYMAIL_WEBHOOK_SECRET.")
        if not _has_webhook_credentials(request, secrets):
            logger.warning("Refused a %s %s webhook without the right credentials.", esp, kind)
            response = HttpResponse(
                "The webhook's basic auth credentials are missing or wrong.",
                content_type="text/plain; charset=utf-8",
                status=401,
            )
            response["WWW-Authenticate"] = 'Basic realm="Flock webhooks"'
            return response
        try:
            return view(request, *args, **kwargs)
        except AnymailConfigurationError as exc:  # raised when anymail builds the view
            logger.error("The %s %s webhook is not configured: %s", esp, kind, exc)
            return JsonResponse(
                {"error": f"The {esp} webhook is not configured on this server."}, status=503
            )

    return wrapped


def _routes(kind: str) -> list[URLPattern]:
    """anymail's `<esp>_<kind>_webhook` views at `<esp>/<kind>/`, secret required."""
    routes = []
    for pattern in anymail_urls.urlpatterns:
        name = pattern.name or ""
        if not name.endswith(f"_{kind}_webhook"):
            continue
        esp = name.removesuffix(f"_{kind}_webhook")
        anymail_view = pattern.callback.view_class
        guarded = cast(
            "type[View]",
            type(
                f"Guarded{anymail_view.__name__}",
                (_Guarded, anymail_view),
                {
                    "kind": kind,
                    "event_problem": staticmethod(
                        tracking_event_problem if kind == "tracking" else _inbound_event_problem
                    ),
                },
            ),
        )
        view = guarded.as_view(**pattern.callback.view_initkwargs)
        view = login_not_required(csrf_exempt(_authenticated_first(view, esp, kind)))
        routes.append(path(f"{esp}/{kind}/", view, name=name))
    return routes


urlpatterns = _routes("tracking") + _routes("inbound")
