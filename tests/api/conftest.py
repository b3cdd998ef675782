"""API fixtures: a token for the marketer, clients with and without it, a throttle
state of its own for every test (no test sees another's request counts), and a
directory of its own for the files uploaded to /api/imports."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _own_throttle_counts(settings):
    """Each test counts its requests under its own cache key prefix in the real
    Redis cache, so throttle state never leaks between tests or test runs."""
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "KEY_PREFIX": f"flock-test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    """Every test keeps the files it uploads for import in a directory of its own
    (as in tests/contacts)."""
    settings.IMPORT_DIR = tmp_path / "imports"
    return settings.IMPORT_DIR


@pytest.fixture
def token(marketer) -> Token:
    return Token.objects.create(user=marketer)


@pytest.fixture
def api(token) -> APIClient:
    """The marketer's integration: every request carries `Authorization: Token …`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def errors_of(response) -> list[dict]:
    """The `errors` list of an error response, after checking its shape."""
    body = response.json()
    assert set(body) == {"errors"}, body
    assert body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"path", "message"}, item
        assert isinstance(item["path"], str) and isinstance(item["message"], str)
        assert item["message"]
    return body["errors"]


def paths_of(response) -> list[str]:
    return [e["path"] for e in errors_of(response)]
