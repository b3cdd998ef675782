"""Reading API bodies: every malformed or oversized body is a JSON 4xx, never a 500.

The API has a size limit of its own (`API_MAX_BODY_BYTES`, 5 MB: a thousand
contacts with their custom fields), larger than Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), which stays as it is for the dashboard's
forms. So the body is read here from the request stream, never through
`HttpRequest.body` (which checks Django's limit and answers with an HTML 400),
and a body without Content-Length (`Transfer-Encoding: chunked`) is read too
instead of being taken for an empty one. A file upload (multipart/form-data, the
one body of `POST /api/imports`) has the import's limit, IMPORT_MAX_BYTES.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.core.handlers.wsgi import LimitedStream
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import parsers, renderers
from rest_framework.exceptions import ParseError
from rest_framework.request import Request

from .exceptions import ApiError, error

_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_MAX_CHUNK_LINE = 4096  # a chunk-size line with its extensions, or a trailer line
_MAX_TRAILERS = 100


def _strict_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def too_large(limit: int) -> ApiError:
    return ApiError(
        [error("", f"The request body is over {limit:,} bytes; send less at a time.")],
        status_code=413,
    )


class JSONParser(parsers.BaseParser):
    """Strict JSON (no NaN/Infinity) within the API's size limit.

    Not a subclass of DRF's JSONParser: DRF hands that one `request.body`, and so
    Django's smaller limit. Nesting deep enough to exhaust the recursion limit is a
    400 like any other malformed JSON. (Numbers such as 1e999 read as infinity; the
    validators refuse them.)
    """

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        # DRF's charset check (refuses bytes-to-bytes codecs); newer than the stubs.
        encoding = parsers.get_encoding(parser_context)  # type: ignore[attr-defined]
        limit = settings.API_MAX_BODY_BYTES
        request = parser_context.get("request")
        meta = request._request.META if request is not None else {}
        declared = None if is_chunked(meta) else _content_length(meta)
        if declared is not None and declared > limit:
            raise too_large(limit)  # said up front: not worth reading
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            if isinstance(stream, ChunkedBody):
                stream.discard_rest()
            raise too_large(limit)
        try:
            return json.loads(body.decode(encoding), parse_constant=_strict_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {_short(exc)}") from None


def _short(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "the body is nested too deeply."
    return str(exc)[:200]


def _content_length(meta: dict) -> int | None:
    try:
        return int(meta["CONTENT_LENGTH"])
    except (KeyError, ValueError, TypeError):
        return None


def is_chunked(meta: dict) -> bool:
    """Whether the body is chunked; then any Content-Length is to be ignored (RFC 9112 §6.3)."""
    return "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()


class ApiRequest(Request):
    """DRF's request, which takes a body without Content-Length for no body at all;
    this one reads a chunked body (the parser applies the size limit)."""

    def _load_stream(self) -> None:
        meta = self._request.META
        if is_chunked(meta):
            self._stream = chunked_stream(meta)
        else:
            super()._load_stream()  # type: ignore[misc]  # private DRF API, on purpose


def chunked_stream(environ: dict) -> Any:
    """The decoded bytes of a chunked body, as a stream that ends with the body.

    A server that decodes chunked bodies itself says so with `wsgi.input_terminated`
    (gunicorn, mod_wsgi); its `wsgi.input` then ends where the body does. Django's
    own server (runserver, the tests' live_server) passes the connection's bytes on
    with the chunk framing, behind a LimitedStream capped at the missing
    Content-Length, i.e. at nothing: the framing is decoded here from the stream
    under it.
    """
    wsgi_input = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):
        return wsgi_input
    if isinstance(wsgi_input, LimitedStream):
        # Its `read`/`readline` bound to the connection (Django 5.2 names them so).
        return ChunkedBody(
            getattr(wsgi_input, "_read", wsgi_input.read),
            getattr(wsgi_input, "_readline", wsgi_input.readline),
        )
    return ChunkedBody(wsgi_input.read, wsgi_input.readline)


class ChunkedBody:
    """`Transfer-Encoding: chunked` (RFC 9112 §7.1) decoded from the raw bytes,
    read no further than asked (so a body over the limit is not read whole)."""

    def __init__(self, read: Callable[[int], bytes], readline: Callable[[int], bytes]):
        self._read = read
        self._readline = readline
        self._left = 0  # bytes left in the current chunk
        self._done = False

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while not self._done and (size < 0 or len(out) < size):
            if self._left == 0:
                self._next_chunk()
                continue
            want = self._left if size < 0 else min(self._left, size - len(out))
            data = self._read(want)
            if not data:
                raise ParseError("The chunked request body ended before its last chunk.")
            out += data
            self._left -= len(data)
            if self._left == 0 and self._line() != b"":
                raise _malformed()
        return bytes(out)

    def discard_rest(self) -> None:
        """Read the rest of the body, so that the connection's next request starts
        where it should (Django's server keeps the connection open)."""
        while not self._done:
            self.read(64 * 1024)

    def _next_chunk(self) -> None:
        size_text = self._line().split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise _malformed()
        size = int(size_text, 16)
        if size == 0:
            for _ in range(_MAX_TRAILERS):  # trailer fields, up to the empty line
                if self._line() == b"":
                    self._done = True
                    return
            raise _malformed()
        self._left = size

    def _line(self) -> bytes:
        line = self._readline(_MAX_CHUNK_LINE)
        if not line.endswith(b"\n"):
            raise _malformed()
        return line.rstrip(b"\r\n")


def _malformed() -> ParseError:
    return ParseError("The chunked request body is malformed.")


# -- file uploads ----------------------------------------------------------------------

# Room for the form's other parts and their headers beside the file itself.
FORM_ROOM = 64 * 1024


def upload_too_large() -> ApiError:
    # Imported here: DRF's settings may load this module before the apps are ready, and
    # contacts.imports.run needs the models.
    from contacts.imports.run import too_large_message

    return ApiError([error("file", too_large_message())], status_code=413)


class MultiPartParser(parsers.BaseParser):
    """multipart/form-data with one file of up to IMPORT_MAX_BYTES (POST /api/imports).

    A Content-Length over the limit is refused before anything is read; a chunked body
    (no Content-Length, which Django's parser takes for no body at all) is read to its
    end, and refused once it passes the limit. The form's limits (DATA_UPLOAD_MAX_*)
    are JSON errors like any other. Files larger than FILE_UPLOAD_MAX_MEMORY_SIZE go
    to a temporary file, as Django does for the dashboard's upload.
    """

    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        limit = settings.IMPORT_MAX_BYTES + FORM_ROOM
        meta = request._request.META.copy()
        chunked = is_chunked(meta)
        declared = None if chunked else _content_length(meta)
        if declared is not None and declared > limit:
            raise upload_too_large()  # said up front: not worth reading
        meta["CONTENT_TYPE"] = media_type
        if chunked:
            meta["CONTENT_LENGTH"] = str(limit)  # at most; the stream ends with the body
        capped = io.BufferedReader(_Capped(stream, limit))  # DRF passes no stream for no body
        encoding = parsers.get_encoding(parser_context)  # type: ignore[attr-defined]
        try:
            parser = DjangoMultiPartParser(meta, capped, request.upload_handlers, encoding)
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {str(exc)[:200]}") from None
        except TooManyFieldsSent:
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            raise ApiError([error("", f"Send at most {limit:,} form fields.")]) from None
        except TooManyFilesSent:
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
            raise ApiError([error("", f"Send at most {limit:,} files.")]) from None
        return parsers.DataAndFiles(data, files)


class _Capped(io.RawIOBase):
    """A body stream that refuses to be read past `limit` bytes (413)."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.count = stream, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(max(min(len(buffer), self.limit + 1 - self.count), 0))
        self.count += len(data)
        if self.count > self.limit:
            if isinstance(self.stream, ChunkedBody):
                self.stream.discard_rest()
            raise upload_too_large()
        buffer[: len(data)] = data
        return len(data)
