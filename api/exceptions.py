"""Every API error as `{"errors": [{"path": ..., "message": ...}]}`.

See docs/design.md#validation-errors.

`path` names the place in the request (`rules[2].rules[0].value`, `[3].email`,
`per_page`); it is "" for errors about the request as a whole (authentication,
method, malformed JSON).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from segments.rules import RuleError, RuleErrors

from .serializers.errors import encodable


def error(path: str, message: str) -> dict[str, str]:
    return {"path": encodable(path), "message": encodable(message)}


class ApiError(exceptions.APIException):
    """An error with a status and a list of path + message pairs."""

    def __init__(self, errors: list[dict[str, str]], *, status_code: int = 400):
        self.errors = errors
        self.status_code = status_code
        super().__init__(detail=errors[0]["message"] if errors else "")


def invalid(path: str, message: str) -> ApiError:
    return ApiError([error(path, message)])


def conflict(path: str, message: str) -> ApiError:
    return ApiError([error(path, message)], status_code=status.HTTP_409_CONFLICT)


def rule_errors(errors: list[RuleError], *, prefix: str = "", status_code: int = 400) -> ApiError:
    return ApiError(
        [error(prefixed(prefix, e.path), e.message) for e in errors], status_code=status_code
    )


def unknown_keys(data: Any, known: Iterable[str]) -> list[dict[str, str]]:
    """An error for each key of a body object that nothing reads: a typo
    (`conditons`) must not be dropped silently. Names the closest known key."""
    if not isinstance(data, dict):
        return []
    known = list(known)
    found = []
    for key in data:
        if key in known:
            continue
        shown = "".join(ch if ch.isprintable() else "?" for ch in str(key)[:50])
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else "."
        found.append(error(shown, f"Unknown field '{shown}'{hint}"))
    return found


def prefixed(prefix: str, path: str) -> str:
    """`rules[0].value` under `filter` is `filter.rules[0].value`."""
    if not prefix:
        return path
    if not path or path == "filter":
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def flatten(detail: Any, path: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail ({"field": ["msg"]}, [{...}, {...}]) as path + message."""
    if isinstance(detail, dict):
        found = []
        for key, value in detail.items():
            if key in ("non_field_errors", "detail"):
                found += flatten(value, path)
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                found += flatten(value, f"{path}[{key}]")
            else:
                found += flatten(value, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [error(path, str(item)) for item in detail]
        found = []
        for index, item in enumerate(detail):
            if item:  # DRF puts {} for the list items that were fine
                found += flatten(item, f"{path}[{index}]")
        return found
    return [error(path, str(detail))]


def _django_validation_errors(exc: DjangoValidationError) -> list[dict[str, str]]:
    if not hasattr(exc, "error_dict"):
        return [error("", message) for message in exc.messages]
    found = []
    for field, messages in exc.message_dict.items():
        for message in messages:
            # Rule errors from ContactSegment.clean() read "rules[0].value: message".
            head, sep, tail = message.partition(": ")
            if field == "filter_json" and sep and " " not in head:
                found.append(error(head, tail))
            else:
                found.append(error("" if field == "__all__" else field, message))
    return found


def exception_handler(exc: Exception, context: dict) -> Response | None:
    # Imported here: rest_framework.views reads the parser setting, which imports
    # api.parsers, which imports this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RuleErrors):
        exc = rule_errors(exc.errors)
    elif isinstance(exc, DjangoValidationError):
        exc = ApiError(_django_validation_errors(exc))
    elif isinstance(exc, RequestDataTooBig):
        # Django's form-body limit, should anything read `request.body` (the API's
        # parser does not; see api/parsers.py).
        exc = ApiError(
            [error("", "The request body is too large; send less at a time.")], status_code=413
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling, logging and admin mail take over
    # DRF answers APIExceptions only (Http404 and PermissionDenied were converted above).
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, ApiError):
        errors = [error(e["path"], e["message"]) for e in exc.errors]
    elif isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
    else:
        errors = [error("", str(exc.detail))]
    response.data = {"errors": errors or [error("", "The request is not valid.")]}
    if isinstance(exc, exceptions.Throttled):
        # Whole seconds, at least one (DRF would say "0" for a wait under a second).
        wait = exc.wait  # type: ignore[attr-defined]  # Throttled sets it; stubs omit it
        response["Retry-After"] = str(max(1, math.ceil(wait or 1)))
    return response
