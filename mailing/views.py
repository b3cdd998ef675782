from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from contacts.models import Contact

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
