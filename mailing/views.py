from __future__ import annotations

import smtplib
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from config.http import AuthenticatedHtmxHttpRequest, HtmxHttpRequest
from contacts.models import Contact
from segments.models import ContactSegment
from segments.rules import RuleErrors
from segments.selectors import segment_audience, segment_reachable_contacts

from . import selectors, services
from .forms import ComposeForm, DeliveryFilterForm
from .merge import SAMPLE_TAGS, readable, tags_without_default
from .models import Mailing
from .selectors import (
    SenderMerge,
    empty_merge_fields,
    merge_for_sender,
    sample_message,
    sample_recipient,
)
from .services import mailing_create
from .unsubscribe import (
    BadToken,
    PreviewToken,
    contact_resubscribe,
    contact_unsubscribe,
    mask_email,
    read_token,
)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "mailing/unsubscribe.html", {"invalid": True}, status=404)


def _for_recipient(response: HttpResponse) -> HttpResponse:
    """A page reached through a personal link: kept out of search engines and referrers."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _test_message_link(request: HttpRequest) -> HttpResponse:
    """The link of a test send or the preview: it says so and changes nothing."""
    return _for_recipient(render(request, "mailing/unsubscribe_test.html"))


@login_not_required  # the recipient has no account
@csrf_exempt  # RFC 8058 one-click POSTs come from mail clients, with no CSRF token
@require_http_methods(["GET", "POST"])
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a confirm page that changes nothing (mail scanners pre-fetch links).

    POST (the confirm button, or a mail client's `List-Unsubscribe=One-Click`):
    unsubscribes at once, idempotently. A contact already unsubscribed is told so,
    and offered to resubscribe. A test message's link says that it unsubscribes
    nobody. A token that is not ours, or names a contact who no longer exists,
    is a 404 page.
    """
    try:
        contact_id, _mailing_id = read_token(token)
    except PreviewToken:
        return _test_message_link(request)
    except BadToken:
        return _invalid_link(request)

    resubscribe_action = reverse("mailing:resubscribe", kwargs={"token": token})
    if request.method == "POST":
        if not contact_unsubscribe(contact_id=contact_id) and not (
            Contact.objects.filter(pk=contact_id).exists()
        ):
            return _invalid_link(request)
        response = render(
            request, "mailing/unsubscribed.html", {"resubscribe_action": resubscribe_action}
        )
    else:
        row = Contact.objects.filter(pk=contact_id).values_list("email", "is_unsubscribed").first()
        if row is None:
            return _invalid_link(request)
        email, already = row
        response = render(
            request,
            "mailing/unsubscribe.html",
            {
                "masked_email": mask_email(email),
                "action": request.path,
                "already": already,
                "resubscribe_action": resubscribe_action,
            },
        )
    return _for_recipient(response)


@login_not_required  # the recipient has no account
@require_http_methods(["GET", "POST"])
@never_cache
def resubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """POST (the button on the unsubscribe pages): subscribe again, recorded.

    The signed token is the credential. Unlike the unsubscribe, this keeps CSRF
    protection: mail clients never resubscribe, so only a press of our own
    button, never a POST from elsewhere, may put someone back on the list.
    A GET changes nothing; it shows the unsubscribe page.
    """
    if request.method == "GET":
        return redirect("mailing:unsubscribe", token=token)
    try:
        contact_id, _mailing_id = read_token(token)
    except PreviewToken:
        return _test_message_link(request)
    except BadToken:
        return _invalid_link(request)
    email = Contact.objects.filter(pk=contact_id).values_list("email", flat=True).first()
    if email is None:
        return _invalid_link(request)
    contact_resubscribe(contact_id=contact_id)
    response = render(
        request,
        "mailing/resubscribed.html",
        {
            "masked_email": mask_email(email),
            "action": reverse("mailing:unsubscribe", kwargs={"token": token}),
        },
    )
    return _for_recipient(response)


# -- compose (/contacts/segments/<id>/send) ----------------------------------------


@require_http_methods(["GET", "POST"])
def compose(request: AuthenticatedHtmxHttpRequest, segment_id: int) -> HttpResponse:
    """Write, preview, test and send a mailing to a segment.

    Every button submits the whole form with an `action`: preview, test, send
    (which shows a confirmation step) and confirm (which creates the mailing).
    With htmx a debounced POST of the form redraws only the preview.
    """
    # Every signed-in user of a Flock instance works on the same segments.
    segment = get_object_or_404(ContactSegment, pk=segment_id)
    action = request.POST.get("action", "preview") if request.method == "POST" else ""
    form = ComposeForm(request.POST) if request.method == "POST" else ComposeForm()
    try:
        audience = segment_audience(segment)
        recipients = segment_reachable_contacts(segment)
        sample = sample_recipient(recipients)
    except RuleErrors as exc:
        # Broken rules: say so instead of offering a form that cannot send.
        context = {"segment": segment, "problem": exc.errors[0].message}
        return render(request, COMPOSE_TEMPLATE, context)

    valid = form.is_bound and form.is_valid()
    if valid and action in ("send", "confirm"):
        try:
            services.ensure_reachable(audience)
        except services.NobodyReachable as exc:
            form.add_error(None, str(exc))
            valid = False
    confirming = False
    sender = merge_for_sender(request.user, sample)
    if valid and action == "test":
        _send_test(request, form, sender)
    elif valid and action == "send":
        confirming = True
    elif valid and action == "confirm":
        mailing = mailing_create(segment=segment, user=request.user, **form.cleaned_data)
        messages.success(
            request,
            f"“{readable(mailing.subject)}” is on its way to about {audience.reachable:,} "
            f"contact{pluralize(audience.reachable)}.",
        )
        return redirect("mailing:detail", mailing_id=mailing.pk)

    empty_fields = []
    if valid:  # tags without a default that would leave a gap for some recipients
        tags = tags_without_default(form.cleaned_data["subject"], form.cleaned_data["body"])
        empty_fields = empty_merge_fields(recipients, tags)
    context = {
        "segment": segment,
        "audience": audience,
        "form": form,
        "sample": sample,
        "sender": sender,
        "preview": _preview(form, sample) if valid else None,
        "empty_fields": empty_fields,
        "subject_readable": readable(form.cleaned_data["subject"]) if valid else "",
        "confirming": confirming,
        "merge_tags": SAMPLE_TAGS,
    }
    template_name = COMPOSE_TEMPLATE
    if request.htmx and request.htmx.target == "mail-preview":
        template_name += "#mail-preview"
    return render(request, template_name, context)


COMPOSE_TEMPLATE = "mailing/compose.html"


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
    # str(): Django's types allow lazy text and MIME objects, which these never are.
    return MailPreview(subject=str(message.subject), text=str(message.body), html=str(html))


def _send_test(
    request: AuthenticatedHtmxHttpRequest, form: ComposeForm, sender: SenderMerge
) -> None:
    """One message to the signed-in user, marked as a test and merged with their own name."""
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
        contact=sender.contact,
        to=to,
        test_note=f"Merged with {sender.merged_with}. Recipients get it without this note, "
        "and its unsubscribe link unsubscribes nobody.",
    )
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        messages.error(request, f"The test could not be sent: {exc}")
        return
    messages.success(request, f"Sent a test to {to}, merged with {sender.merged_with}.")


# -- mailings (/mailings/, /mailings/<id>/) -----------------------------------------


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
    if target == "progress":  # the poll: the counters and the buttons
        response = render(request, template_name + "#progress", _progress_context(mailing))
        # …and the recipient list below, which listens for this.
        trigger_client_event(response, "mailing-progress")
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
    progress = selectors.mailing_progress(mailing)
    return {
        "mailing": mailing,
        "progress": progress,
        # Refreshed until no worker holds a claim: only then are the counts final.
        "ended": selectors.mailing_settled(mailing, progress),
        "failure": selectors.mailing_failure(mailing),
        "can_pause": mailing.status in services.PAUSABLE,
        "can_resume": mailing.status in services.RESUMABLE,
        "can_cancel": mailing.status in services.CANCELLABLE,
        "notice": notice,
        "notice_ok": notice_ok,
    }


_CONTROLS = {
    # action: (service, done, refused)
    "pause": (services.mailing_pause, "Paused. No new message starts until you resume.",
              "Only a mailing that is sending can be paused; this one is {status}."),
    "resume": (services.mailing_resume, "Resumed. Sending picks up where it stopped.",
               "Only a paused mailing can be resumed; this one is {status}."),
    "cancel": (services.mailing_cancel, "Cancelled. No new message will start.",
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
        response = render(
            request,
            "mailing/mailing_detail.html#progress",
            _progress_context(mailing, notice=text, notice_ok=applied),
        )
        return trigger_client_event(response, "mailing-progress")
    (messages.success if applied else messages.error)(request, text)
    return redirect("mailing:detail", mailing_id=mailing.pk)
