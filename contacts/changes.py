"""Who is writing contacts: the cause that the change journal (migration 0014) puts
on each write, and from there on each segment entry and exit it causes.

The cause is a setting of the database session, read by the journal's triggers;
`change_cause` sets it around a block and puts back what was there, so a
persistent connection never carries it into the next request or task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection
from django.http import HttpRequest, HttpResponse

SETTING = "flock.change_cause"
# What writes contacts. Without a cause set, the triggers say "dashboard".
CAUSES = ("api", "import", "dashboard", "admin", "unsubscribe", "bounce")

# The first path segment of a request → the cause of what it writes.
_PATH_CAUSES = {"api": "api", "admin": "admin", "u": "unsubscribe", "webhooks": "bounce"}


@contextmanager
def change_cause(cause: str) -> Iterator[None]:
    assert cause in CAUSES, cause
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true), set_config(%s, %s, false)",
                       [SETTING, SETTING, cause])  # fmt: skip
        ((before, _),) = cursor.fetchall()
    try:
        yield
    finally:
        if connection.connection is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, before or ""])


class ChangeCauseMiddleware:
    """Requests to the API, the admin, unsubscribe links and the ESP webhooks write
    with that cause; the dashboard's own pages need no setting (the default)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cause = _PATH_CAUSES.get(request.path_info.strip("/").split("/", 1)[0])
        if cause is None:
            return self.get_response(request)
        with change_cause(cause):
            return self.get_response(request)
