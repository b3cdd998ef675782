"""Web helpers every app's views share, kept below the apps so none imports another's views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the user model: settings set no AUTH_USER_MODEL


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it: `request.htmx` says what htmx sent."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    """A request to a view LoginRequiredMiddleware guards (any view not marked
    `login_not_required`): `request.user` is the signed-in User, never AnonymousUser."""

    user: User


class AuthenticatedHtmxHttpRequest(AuthenticatedHttpRequest, HtmxHttpRequest):
    """Both: a signed-in user's request, as django-htmx's middleware leaves it."""
