"""JSON parsing that turns every malformed or oversized body into a 4xx, never a 500."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from .exceptions import ApiError, error


def _strict_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    """Strict JSON (no NaN/Infinity) with a size limit.

    DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check, so the limit is applied here; and nesting deep enough to exhaust the
    recursion limit is a 400 like any other malformed JSON. (Numbers such as
    1e999 read as infinity; the validators refuse them.)
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parsers.get_encoding(parser_context)
        limit = settings.API_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise ApiError(
                [error("", f"The request body is over {limit:,} bytes; send less at a time.")],
                status_code=413,
            )
        try:
            return json.loads(body.decode(encoding), parse_constant=_strict_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {_short(exc)}") from None


def _short(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "the body is nested too deeply."
    return str(exc)[:200]
