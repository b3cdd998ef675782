"""Web helpers every app's views share, kept below the apps so none imports another's views."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it: `request.htmx` says what htmx sent."""

    htmx: HtmxDetails
