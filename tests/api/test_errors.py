"""Bad input of every kind is a 4xx with `{"errors": [{"path", "message"}]}`, never a 500."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from tests.api.conftest import errors_of, paths_of

pytestmark = pytest.mark.django_db

WRITES = [
    ("POST", "/api/segments"),
    ("POST", "/api/segments/preview"),
    ("POST", "/api/contacts"),
    ("POST", "/api/tags"),
    ("POST", "/api/groups"),
]

MALFORMED = [
    "{",
    '{"name": }',
    "{'name': 'single quotes'}",
    '{"name": NaN}',
    '{"name": Infinity}',
    "[" * 5_000 + "]" * 5_000,  # deeper than Python's recursion limit
    '{"n": ' + "9" * 5000 + "}",  # more digits than int() takes
    "\xff\xfe not utf-8",
]


@pytest.mark.parametrize(("method", "url"), WRITES)
@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_json_is_a_400(api, method, url, body):
    payload = body.encode("latin-1") if body.startswith("\xff") else body.encode()
    response = api.generic(method, url, payload, content_type="application/json")
    assert response.status_code == 400
    (error,) = errors_of(response)
    assert error["path"] == ""
    assert error["message"].startswith("JSON parse error")


@pytest.mark.parametrize(("method", "url"), WRITES)
@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "123", "null", "true", "{}"])
def test_wrong_shapes_are_a_400(api, method, url, body):
    response = api.generic(method, url, body, content_type="application/json")
    if url == "/api/contacts" and body.startswith("["):
        # A batch: each item that is not a contact is rejected on its own.
        assert response.status_code == 200
        assert all(r["status"] == "rejected" for r in response.json()["results"])
        return
    assert response.status_code == 400
    errors_of(response)


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "x\\u0000y", "rules": [{"field": "email", "op": "is_set"}]}',
        '{"name": "\\ud800", "rules": [{"field": "email", "op": "is_set"}]}',
        '{"name": "ok", "rules": [{"field": "company", "op": "equals", "value": "a\\u0000"}]}',
        '{"name": "ok", "rules": [{"field": "company\\u0000", "op": "equals", "value": "a"}]}',
        '{"name": "ok", "rules": [{"field": "company", "op": "equals", "value": "\\udc00"}]}',
        '{"name": "ok", "rules": [{"field": "leadScore", "op": "gte", "value": 1'
        + "0" * 400
        + "}]}",
        '{"name": "ok", "rules": [{"field": "leadScore", "op": "gte", "value": 1e999}]}',
        '{"name": "ok", "rules": [{"field": "customField:n", "op": "gt", "value": -1e999}]}',
        '{"name": "ok", "rules": [{"field": "segment", "op": "in_segment", "value": '
        + "9" * 30
        + "}]}",
        '{"name": "ok", "rules": [{"field": "group", "op": "in_group", "value": '
        + "9" * 30
        + "}]}",
        '{"name": "ok", "rules": [{"field": "createdAt", "op": "within_days", "value": '
        + "9" * 30
        + "}]}",
        '{"name": "ok", "rules": [{"field": "createdAt", "op": "after", '
        '"value": "9999-12-31T23:59:59-15:00"}]}',
        '{"name": "ok", "rules": [{"field": "tag", "op": "any_of", "value": [[], {}, null]}]}',
        '{"name": "ok", "rules": [{"field": {"a": 1}, "op": ["x"], "value": {"b": 2}}]}',
        '{"name": "ok", "match": 5, "rules": [{"field": "email", "op": "is_set"}]}',
    ],
    ids=range(15),
)
def test_hostile_segment_bodies_are_a_400(api, body):
    response = api.generic("POST", "/api/segments", body, content_type="application/json")
    assert response.status_code == 400
    errors_of(response)


def test_hostile_contact_values_are_rejected_per_item(api):
    body = (
        '[{"email": "a@example.com", "lead_score": ' + "9" * 300 + "},"
        ' {"email": "b@example.com", "custom_fields": {"n": ' + "9" * 300 + "}},"
        ' {"email": "c@example.com", "created_at": "99999-01-01"},'
        ' {"email": "d@example.com", "last_interacted_at": "2026-01-01T00:00:00+99:00"},'
        ' {"email": "e\\u0000@example.com"},'
        ' {"email": "ok@example.com"}]'
    )
    response = api.generic("POST", "/api/contacts", body, content_type="application/json")
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["rejected"] * 5 + ["created"]
    assert list(Contact.objects.values_list("email", flat=True)) == ["ok@example.com"]


def test_a_body_that_is_not_json_is_a_415(api):
    response = api.post("/api/tags", "name=vip", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert paths_of(response) == [""]


def test_a_client_that_does_not_take_json_is_a_406(api):
    response = api.get("/api/tags", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert b'"errors"' in response.content


def test_a_body_over_the_limit_is_a_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = api.post(
        "/api/contacts", [{"email": f"p{i}@example.com"} for i in range(100)], format="json"
    )
    assert response.status_code == 413
    assert paths_of(response) == [""]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["/api/nothing", "/api/segments/1/nothing", "/api/contacts/-1", "/api/contacts/1.5",
     "/api/contacts/%F1%A5%87%8D3%3C%2C%0A%257z", "/api/segments/%0A"],
)  # fmt: skip
def test_unknown_paths_are_a_json_404(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert paths_of(response) == [""]


@pytest.mark.parametrize("query", ["q=%00", "tag=%00", "email=%00", "q=%ED%A0%80", "q=%FF"])
def test_nul_and_broken_bytes_in_queries_match_nobody(api, query):
    response = api.get(f"/api/contacts?{query}")
    assert response.status_code == 200
    assert response.json() == []


def test_a_nul_in_an_enum_parameter_is_a_400(api):
    response = api.get("/api/contacts?status=%00")
    assert response.status_code == 400
    assert paths_of(response) == ["status"]
