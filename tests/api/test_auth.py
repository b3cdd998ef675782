"""Authentication: a token or a session for every endpoint, 401 JSON otherwise."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.conftest import errors_of

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/segments"),
    ("post", "/api/segments"),
    ("get", "/api/segments/1"),
    ("put", "/api/segments/1"),
    ("patch", "/api/segments/1"),
    ("delete", "/api/segments/1"),
    ("get", "/api/segments/1/contacts"),
    ("get", "/api/segments/contacts?segment_id=1"),
    ("post", "/api/segments/preview"),
    ("post", "/api/segments/1/send"),
    ("get", "/api/mailings"),
    ("get", "/api/mailings/1"),
    ("get", "/api/contacts"),
    ("post", "/api/contacts"),
    ("get", "/api/contacts/1"),
    ("patch", "/api/contacts/1"),
    ("delete", "/api/contacts/1"),
    ("get", "/api/tags"),
    ("post", "/api/tags"),
    ("get", "/api/groups"),
    ("post", "/api/groups"),
    ("get", "/api/groups/1/members"),
    ("post", "/api/groups/1/members"),
    ("delete", "/api/groups/1/members/1"),
    ("get", "/api/schema/"),
    ("get", "/api/no-such-thing"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_requires_a_token_or_session(anonymous, method, url):
    response = getattr(anonymous, method)(url, {}, format="json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == "Token"
    assert errors_of(response) == [
        {"path": "", "message": "Authentication credentials were not provided."}
    ]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS[:4])
def test_it_rejects_a_bad_token(method, url, token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == 401
    assert errors_of(response) == [{"path": "", "message": "Invalid token."}]


def test_it_rejects_a_malformed_authorization_header(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two words")
    response = client.get("/api/segments")
    assert response.status_code == 401
    assert errors_of(response)[0]["path"] == ""


def test_it_accepts_a_token(api):
    response = api.get("/api/segments")
    assert response.status_code == 200
    assert response.json() == []


def test_a_revoked_token_stops_working(api, token):
    token.delete()
    assert api.get("/api/segments").status_code == 401


def test_it_accepts_a_dashboard_session(marketer_client):
    response = marketer_client.get("/api/segments")
    assert response.status_code == 200
    assert response.json() == []


def test_a_session_write_needs_the_csrf_token(marketer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(marketer)
    response = client.post("/api/tags", {"name": "vip"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in errors_of(response)[0]["message"]


def test_drf_create_token_prints_a_working_token(marketer):
    out = io.StringIO()
    call_command("drf_create_token", "alice", stdout=out)
    key = Token.objects.get(user=marketer).key
    assert key in out.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/contacts").status_code == 200


def test_tokens_are_managed_in_the_admin(admin_client_, token):
    response = admin_client_.get("/admin/authtoken/tokenproxy/")
    assert response.status_code == 200
    assert b"alice" in response.content
    response = admin_client_.get("/admin/authtoken/tokenproxy/add/")
    assert response.status_code == 200
