"""The OpenAPI schema at /api/schema/ and Swagger UI at /api/docs/, served locally."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from contacts.imports.run import import_run
from contacts.validation import READ_ONLY_FIELDS

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/segments"), ("post", "/api/segments"),
    ("get", "/api/segments/{segment_id}"), ("put", "/api/segments/{segment_id}"),
    ("patch", "/api/segments/{segment_id}"), ("delete", "/api/segments/{segment_id}"),
    ("get", "/api/segments/{segment_id}/contacts"), ("get", "/api/segments/contacts"),
    ("post", "/api/segments/preview"), ("post", "/api/segments/{segment_id}/send"),
    ("get", "/api/mailings"), ("get", "/api/mailings/{mailing_id}"),
    ("get", "/api/contacts"), ("post", "/api/contacts"), ("get", "/api/contacts/export"),
    ("get", "/api/contacts/{contact_id}"), ("patch", "/api/contacts/{contact_id}"),
    ("delete", "/api/contacts/{contact_id}"),
    ("get", "/api/tags"), ("post", "/api/tags"), ("get", "/api/groups"), ("post", "/api/groups"),
    ("get", "/api/groups/{group_id}/members"), ("post", "/api/groups/{group_id}/members"),
    ("delete", "/api/groups/{group_id}/members/{contact_id}"),
    ("get", "/api/imports"), ("post", "/api/imports"), ("get", "/api/imports/{job_id}"),
    ("get", "/api/imports/{job_id}/rejections"), ("post", "/api/imports/{job_id}/cancel"),
}  # fmt: skip


@pytest.fixture
def schema(api) -> dict:
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_the_schema_lists_every_endpoint_of_spec_4(schema):
    found = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert found == OPERATIONS


def test_every_write_has_a_request_example_and_lists_have_response_examples(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and path not in ("/api/tags", "/api/groups", "/api/groups/{group_id}/members"):
                assert body.get("examples"), (method, path)
    contacts = schema["paths"]["/api/segments/contacts"]["get"]["responses"]["200"]
    assert contacts["content"]["application/json"]["examples"]
    upload = schema["paths"]["/api/imports"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"] and upload["multipart/form-data"]["examples"]


def test_the_seed_002_create_example_is_in_the_schema(schema):
    post = schema["paths"]["/api/segments"]["post"]
    examples = post["requestBody"]["content"]["application/json"]["examples"]
    assert {"name": "Active Enterprise", "rules": [
        {"field": "status", "operator": "equals", "value": "active"},
        {"field": "company", "operator": "contains", "value": "Inc"},
    ]} in [e["value"] for e in examples.values()]  # fmt: skip


def test_every_operation_documents_its_errors_and_paging_headers(schema):
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            for code in ("401", "403", "429"):
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Errors"
            assert "Retry-After" in responses["429"]["headers"]
    listing = schema["paths"]["/api/contacts"]["get"]["responses"]["200"]
    assert {"X-Total-Count", "X-Total-Count-Exact", "Link"} <= set(listing["headers"])


def test_the_schema_generates_without_warnings(tmp_path):
    # The same check `manage.py check --deploy` runs; a warning would fail the deploy test.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_the_docs_page_uses_local_assets(marketer_client):
    response = marketer_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    # The files are in the project's static files (drf-spectacular-sidecar), not fetched.
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_the_docs_page_sends_strangers_to_log_in(stranger_client):
    response = stranger_client.get("/api/docs/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_the_schema_documents_the_other_names_for_rules_and_match(schema):
    components = schema["components"]["schemas"]
    for name in ("SegmentWriteRequest", "PatchedSegmentWriteRequest", "SegmentPreviewRequest"):
        properties = components[name]["properties"]
        assert {"rules", "conditions", "match", "logic", "filter"} <= set(properties), name
        assert "Another name" in properties["conditions"]["description"]
        assert re.fullmatch(properties["logic"]["pattern"], "And")
        assert not re.fullmatch(properties["logic"]["pattern"], "xor")
    group = components["RuleGroup"]["properties"]
    assert {"logic", "conditions"} <= set(group)
    assert "operator" in components["Condition"]["properties"]


def test_request_bodies_are_closed_to_keys_they_do_not_know(schema):
    components = schema["components"]["schemas"]
    bodies = [
        name for name in components if name.endswith("Request") and name != "ContactUpsertRequest"
    ]
    assert len(bodies) == 10
    for name in [*bodies, "Condition", "RuleGroup"]:
        assert components[name]["additionalProperties"] is False, name


def test_the_read_only_contact_keys_are_documented_as_ignored(schema):
    properties = schema["components"]["schemas"]["PatchedContactPatchRequest"]["properties"]
    ignored = {name for name, p in properties.items() if "ignored" in p.get("description", "")}
    assert ignored == READ_ONLY_FIELDS


def test_every_response_object_has_the_keys_its_schema_lists_in_that_order(api, schema):
    """The serializers write the bodies and the schema: a client generated from the
    schema sees each object's keys as they come."""
    contact = api.post("/api/contacts", {"email": "ann@example.com", "tags": ["vip"]}, "json")
    rules = [{"field": "leadScore", "op": "gte", "value": 0}]
    segment = api.post("/api/segments", {"name": "All", "rules": rules}, format="json").json()
    mailing = api.post(
        f"/api/segments/{segment['id']}/send", {"subject": "Hi", "body": "Hello"}, format="json"
    )
    group = api.post("/api/groups", {"name": "Board"}, format="json")
    members = api.post(
        f"/api/groups/{group.json()['id']}/members", {"contact_ids": [1]}, format="json"
    )
    upsert = api.post("/api/contacts", [{"email": "nope"}], format="json").json()
    upload = SimpleUploadedFile("people.csv", b"Email\nnope\n", content_type="text/csv")
    job = api.post("/api/imports", {"file": upload}, format="multipart").json()
    import_run(job_id=job["id"])
    bodies = {
        "Contact": contact.json(),
        "ContactSummary": api.get(f"/api/segments/{segment['id']}/contacts").json()[0],
        "Segment": segment,
        "Preview": api.post("/api/segments/preview", {"rules": rules}, format="json").json(),
        "Mailing": mailing.json(),
        "Tag": api.get("/api/tags").json()[0],
        "Group": group.json(),
        "MembersResult": members.json(),
        "UpsertResult": upsert,
        "UpsertItemResult": upsert["results"][0],
        "Error": upsert["results"][0]["errors"][0],
        "ImportJob": api.get(f"/api/imports/{job['id']}").json(),
        "ImportColumn": job["columns"][0],
        "ImportRejection": api.get(f"/api/imports/{job['id']}/rejections").json()[0],
    }
    for name, body in bodies.items():
        assert list(body) == list(schema["components"]["schemas"][name]["properties"]), name
