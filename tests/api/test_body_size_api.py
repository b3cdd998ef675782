"""The API's own body limit answers, as JSON, with or without Content-Length
(issue 14, point 22); Django's smaller limit stays for the dashboard's forms."""

from __future__ import annotations

import http.client
import io
import json
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings

from contacts.models import Tag
from tests.api.conftest import errors_of, paths_of

MB = 1024 * 1024


def padded(size: int, body: dict | None = None) -> bytes:
    """Valid JSON of exactly `size` bytes: the object, then whitespace."""
    text = json.dumps(body or {"name": "vip"}).encode()
    return text + b" " * (size - len(text))


def chunked(body: bytes, size: int = 64 * 1024) -> bytes:
    """`body` in Transfer-Encoding: chunked framing."""
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


# -- with Content-Length (Django's test client) -------------------------------------------


@pytest.mark.django_db
def test_a_body_over_djangos_limit_but_within_the_apis_is_read(api):
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE < 3 * MB < django_settings.API_MAX_BODY_BYTES
    response = api.generic("POST", "/api/tags", padded(3 * MB), content_type="application/json")
    assert response.status_code == 201  # was Django's HTML 400 (RequestDataTooBig)
    assert Tag.objects.filter(name="vip").exists()


@pytest.mark.django_db
def test_a_body_over_the_apis_limit_is_a_json_413(api):
    size = django_settings.API_MAX_BODY_BYTES + 1
    response = api.generic("POST", "/api/tags", padded(size), content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert errors_of(response) == [
        {
            "path": "",
            "message": f"The request body is over {django_settings.API_MAX_BODY_BYTES:,} "
            "bytes; send less at a time.",
        }
    ]
    assert not Tag.objects.exists()


@pytest.mark.django_db
def test_the_dashboards_forms_keep_djangos_limit(client):
    response = client.post(
        "/login/",
        b"username=a&password=" + b"x" * (3 * MB),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


# -- chunked, decoded by the server (gunicorn, mod_wsgi: `wsgi.input_terminated`) ----------


def decoded_by_the_server(body: bytes) -> dict:
    """The environ of such a server: no Content-Length, and an input that ends with
    the body (the test client's own input refuses to be read past its length)."""
    return {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input_terminated": True,
        "wsgi.input": io.BytesIO(body),
    }


@pytest.mark.django_db
def test_a_chunked_body_decoded_by_the_server_is_read(api):
    body = json.dumps({"name": "vip"}).encode()
    response = api.generic(
        "POST", "/api/tags", body, content_type="application/json", **decoded_by_the_server(body)
    )
    assert response.status_code == 201  # was a 400: the body was taken for an empty one
    assert response.json()["name"] == "vip"


@pytest.mark.django_db
def test_a_chunked_body_over_the_limit_is_a_413_without_content_length(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = padded(1001)
    response = api.generic(
        "POST", "/api/tags", body, content_type="application/json", **decoded_by_the_server(body)
    )
    assert response.status_code == 413
    assert paths_of(response) == [""]


# -- chunked over a real connection (Django's own server decodes nothing) -----------------


@pytest.fixture
def connection(live_server):
    url = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    yield conn
    conn.close()


def post_chunked(conn, token, path: str, framed: bytes) -> tuple[int, dict]:
    conn.putrequest("POST", path)
    conn.putheader("Authorization", f"Token {token.key}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(framed)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_a_chunked_request_over_http_is_read(connection, token):
    body = json.dumps({"name": "Newsletter", "description": "Monthly"}).encode()
    status, data = post_chunked(connection, token, "/api/groups", chunked(body, size=7))
    assert status == 201, data  # was a 400 "This field is required": the body read as empty
    assert data["name"] == "Newsletter" and data["description"] == "Monthly"


@pytest.mark.django_db(transaction=True)
def test_a_chunked_request_over_the_limit_is_a_413_and_the_connection_goes_on(
    connection, token, settings
):
    settings.API_MAX_BODY_BYTES = 1000
    status, data = post_chunked(connection, token, "/api/tags", chunked(padded(5000), size=300))
    assert status == 413
    assert [e["path"] for e in data["errors"]] == [""]
    assert not Tag.objects.exists()
    # The rest of the body was read, so the next request on the connection is understood.
    status, data = post_chunked(connection, token, "/api/tags", chunked(b'{"name": "vip"}'))
    assert status == 201, data


@pytest.mark.django_db(transaction=True)
def test_a_malformed_chunked_request_is_a_json_400(connection, token):
    status, data = post_chunked(connection, token, "/api/tags", b"zz\r\n{}\r\n0\r\n\r\n")
    assert status == 400
    assert data == {"errors": [{"path": "", "message": "The chunked request body is malformed."}]}
