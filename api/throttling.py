"""Per-token rate limit (DRF throttling, counted in the shared Redis cache)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """`settings.API_RATE` requests per token or signed-in user.

    A DRF token belongs to one user, so the bucket is the user's: a token and a
    session of the same user share it. The rate is read on every request (not
    frozen at import as DRF's THROTTLE_RATES is), so tests and deploys can change it.
    """

    scope = "api"

    def get_rate(self) -> str:
        return settings.API_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None  # nothing to count: the request is refused with a 401 anyway
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
