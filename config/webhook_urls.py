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
anymail checks that basic auth and answers 400 to a request without it or with
other credentials. Where anymail would only warn when no secret is configured,
these routes refuse (403): an open webhook would let anyone mark contacts
bounced. The views need no login (``login_not_required``) and no CSRF token;
the events go to ``mailing.bounces.on_tracking_event`` through anymail's
``tracking`` signal.

Inbound-mail webhooks are routed the same way at ``/webhooks/<esp>/inbound/``
(``webhooks:<esp>_inbound_webhook``): point the ESP's inbound route for the
``FLOCK_UNSUBSCRIBE_MAILTO`` address there, and mail sent to the
``List-Unsubscribe`` mailto unsubscribes its sender's contact
(``mailing.unsubscribe.on_inbound_mail``; the signed token is in the subject).
"""

from __future__ import annotations

from functools import wraps

from anymail import urls as anymail_urls
from anymail.utils import get_anymail_setting
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseForbidden
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

app_name = "webhooks"


def _require_webhook_secret(view):
    """Refuse every request while no WEBHOOK_SECRET is configured."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not get_anymail_setting("webhook_secret", default=None):
            return HttpResponseForbidden("Webhooks are disabled: set ANYMAIL_WEBHOOK_SECRET.")
        return view(request, *args, **kwargs)

    return wrapped


def _routes(kind: str) -> list[URLPattern]:
    """anymail's `<esp>_<kind>_webhook` views at `<esp>/<kind>/`, secret required."""
    routes = []
    for pattern in anymail_urls.urlpatterns:
        name = pattern.name or ""
        if not name.endswith(f"_{kind}_webhook"):
            continue
        esp = name.removesuffix(f"_{kind}_webhook")
        view = login_not_required(csrf_exempt(_require_webhook_secret(pattern.callback)))
        routes.append(path(f"{esp}/{kind}/", view, name=name))
    return routes


urlpatterns = _routes("tracking") + _routes("inbound")
