from __future__ import annotations

import smtplib
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts.models import Contact
from contacts.views import HtmxHttpRequest
from segments.models import ContactSegment
from segments.rules import RuleErrors
from segments.selectors import segment_audience, segment_reachable_contacts

from . import selectors, services
from .forms import ComposeForm, DeliveryFilterForm
from .merge import SAMPLE_TAGS
from .models import Mailing
from .selectors import sample_message, sample_recipient
from .services import mailing_create
from .unsubscribe import BadToken, contact_unsubscribe, mask_email, read_token


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "mailing/unsubscribe.html", {"invalid": True}, status=404)


@login_not_required  # the recipient has no account
@csrf_exempt  # RFC 8058 one-click POSTs come from mail clients, with no CSRF token
@require_http_methods(["GET", "POST"])
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a confirm page that changes nothing (mail scanners pre-fetch links).

    POST (the confirm button, or a mail client's `List-Unsubscribe=One-Click`):
    unsubscribes at once, idempotently. A token that is not ours, or names a
    contact who no longer exists, is a 404 page.
    """
    try:
        contact_id, _mailing_id = read_token(token)
    except BadToken:
        return _invalid_link(request)

    if request.method == "POST":
        if not contact_unsubscribe(contact_id=contact_id) and not (
            Contact.objects.filter(pk=contact_id).exists()
        ):
            return _invalid_link(request)
        response = render(request, "mailing/unsubscribed.html")
    else:
        email = Contact.objects.filter(pk=contact_id).values_list("email", flat=True).first()
        if email is None:
            return _invalid_link(request)
        response = render(
            request,
            "mailing/unsubscribe.html",
            {"masked_email": mask_email(email), "action": request.path},
        )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# -- compose (SPEC §3: /contacts/segments/<id>/send) ------------------------------


def compose(request: HtmxHttpRequest, segment: ContactSegment) -> HttpResponse:
    """Write, preview, test and send a mailing to a segment.

    Every button submits the whole form with an `action`: preview, test, send
    (which shows a confirmation step) and confirm (which creates the mailing).
    With htmx a debounced POST of the form redraws only the preview.
    """
    action = request.POST.get("action", "preview") if request.method == "POST" else ""
    form = ComposeForm(request.POST) if request.method == "POST" else ComposeForm()
    try:
        audience = segment_audience(segment)
        sample = sample_recipient(segment_reachable_contacts(segment))
    except RuleErrors as exc:
        # Broken rules: say so instead of offering a form that cannot send.
        context = {"segment": segment, "problem": exc.errors[0].message}
        return render(request, COMPOSE_TEMPLATE, context)

    valid = form.is_bound and form.is_valid()
    if valid and action in ("send", "confirm") and audience.reachable == 0:
        form.add_error(None, "Nobody in this segment can receive a mailing right now.")
        valid = False
    confirming = False
    if valid and action == "test":
        _send_test(request, form, sample)
    elif valid and action == "send":
        confirming = True
    elif valid and action == "confirm":
        mailing = mailing_create(segment=segment, user=request.user, **form.cleaned_data)
        messages.success(
            request,
            f"“{mailing.subject}” is on its way to about {audience.reachable:,} "
            f"contact{pluralize(audience.reachable)}.",
        )
        return redirect("mailing:detail", mailing_id=mailing.pk)

    context = {
        "segment": segment,
        "audience": audience,
        "form": form,
        "sample": sample,
        "preview": _preview(form, sample) if valid else None,
        "confirming": confirming,
        "merge_tags": SAMPLE_TAGS,
    }
    template_name = COMPOSE_TEMPLATE
    if request.htmx and request.htmx.target == "mail-preview":
        template_name += "#mail-preview"
    return render(request, template_name, context)


COMPOSE_TEMPLATE = "segments/segment_send.html"


@dataclass(frozen=True)
class MailPreview:
    subject: str
    text: str
    html: str


def _preview(form: ComposeForm, sample) -> MailPreview:
    message = sample_message(
        subject=form.cleaned_data["subject"],
        body=form.cleaned_data["body"],
        body_format=form.cleaned_data["body_format"],
        from_email=form.cleaned_data["from_email"],
        contact=sample,
        to=sample.email if sample else "ada@example.com",
    )
    html = next((content for content, kind in message.alternatives if kind == "text/html"), "")
    return MailPreview(subject=message.subject, text=message.body, html=html)


def _send_test(request: HtmxHttpRequest, form: ComposeForm, sample) -> None:
    """One message, merged for the sample recipient, to the signed-in user."""
    to = getattr(request.user, "email", "")
    if not to:
        messages.error(
            request,
            "Your account has no email address, so there is nowhere to send a test. "
            "Ask an administrator to add one.",
        )
        return
    message = sample_message(
        subject=form.cleaned_data["subject"],
        body=form.cleaned_data["body"],
        body_format=form.cleaned_data["body_format"],
        from_email=form.cleaned_data["from_email"],
        contact=sample,
        to=to,
    )
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        messages.error(request, f"The test could not be sent: {exc}")
        return
    messages.success(request, f"Sent a test to {to}.")


# -- mailings (SPEC §3: /mailings/, /mailings/<id>/) -------------------------------


def _get_mailing_for_user(request: HttpRequest, mailing_id: int) -> Mailing:
    # Every signed-in user of a Flock instance works on the same mailings.
    return get_object_or_404(Mailing.objects.select_related("segment", "created_by"), pk=mailing_id)


@require_GET
def mailing_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "mailing/mailing_list.html",
        {"mailings": selectors.mailing_list(), "limit": selectors.LIST_LIMIT},
    )


@require_GET
def mailing_detail(request: HtmxHttpRequest, mailing_id: int) -> HttpResponse:
    mailing = _get_mailing_for_user(request, mailing_id)
    filters = DeliveryFilterForm(request.GET)
    status = filters.value("status") or ""
    template_name = "mailing/mailing_detail.html"
    target = request.htmx.target if request.htmx else None
    if target == "progress":  # the poll: only the counters and the buttons
        response = render(request, template_name + "#progress", _progress_context(mailing))
    else:
        context = {
            **_progress_context(mailing),
            "filters": filters,
            "status_filter": status,
            "filter_choices": DeliveryFilterForm.FILTERS,
            "page": selectors.deliveries_page(mailing, status=status, after=filters.value("after")),
        }
        if target == "deliveries":
            template_name += "#deliveries"
        response = render(request, template_name, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _progress_context(mailing: Mailing, notice: str = "", notice_ok: bool = True) -> dict:
    return {
        "mailing": mailing,
        "progress": selectors.mailing_progress(mailing),
        "ended": mailing.status in selectors.ENDED,
        "can_pause": mailing.status in services.PAUSABLE,
        "can_resume": mailing.status in services.RESUMABLE,
        "can_cancel": mailing.status in services.CANCELLABLE,
        "notice": notice,
        "notice_ok": notice_ok,
    }


_CONTROLS = {
    # action: (service, done, refused)
    "pause": (services.mailing_pause, "Paused. Sending stops after the messages in flight.",
              "Only a mailing that is sending can be paused; this one is {status}."),
    "resume": (services.mailing_resume, "Resumed. Sending picks up where it stopped.",
               "Only a paused mailing can be resumed; this one is {status}."),
    "cancel": (services.mailing_cancel, "Cancelled. Nobody else will get this mailing.",
               "This mailing is {status}; there is nothing to cancel."),
}  # fmt: skip


@require_POST
def mailing_control(request: HtmxHttpRequest, mailing_id: int, action: str) -> HttpResponse:
    """Pause, resume or cancel: each safe to press at any moment, and twice."""
    mailing = _get_mailing_for_user(request, mailing_id)
    service, done, refused = _CONTROLS[action]
    applied = service(mailing=mailing)
    text = done if applied else refused.format(status=mailing.get_status_display().lower())
    if request.htmx:
        return render(
            request,
            "mailing/mailing_detail.html#progress",
            _progress_context(mailing, notice=text, notice_ok=applied),
        )
    (messages.success if applied else messages.error)(request, text)
    return redirect("mailing:detail", mailing_id=mailing.pk)
