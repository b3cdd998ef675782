"""GET/POST /api/segments and GET/PUT/PATCH/DELETE /api/segments/{id}."""

from __future__ import annotations

import pytest

from segments.models import ContactSegment, SegmentEvaluation
from segments.services import segment_create
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory, GroupFactory

pytestmark = pytest.mark.django_db

# Seed 002, "Create Segment", verbatim.
SEED_REQUEST = {
    "name": "Active Enterprise",
    "rules": [
        {"field": "status", "operator": "equals", "value": "active"},
        {"field": "company", "operator": "contains", "value": "Inc"},
    ],
}


@pytest.fixture
def enterprise_contacts():
    """Two active contacts at an "Inc", one unsubscribed one, one elsewhere."""
    ContactFactory(company="Acme Inc")
    ContactFactory(company="Globex Inc.")
    ContactFactory(company="Initech Inc", is_unsubscribed=True)
    ContactFactory(company="Umbrella Corp")


def test_the_seed_002_create_example_works_as_written(api, enterprise_contacts, marketer):
    response = api.post("/api/segments", SEED_REQUEST, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Active Enterprise"
    assert body["contacts_count"] == 2
    assert body["rules"] == SEED_REQUEST["rules"]  # the common response shape
    assert body["filter"] == {
        "match": "all",
        "negate": False,
        "rules": [
            {"field": "status", "op": "equals", "value": "active"},
            {"field": "company", "op": "contains", "value": "Inc"},
        ],
    }
    segment = ContactSegment.objects.get(pk=body["id"])
    assert segment.created_by == marketer
    assert response["Location"].endswith(f"/api/segments/{segment.pk}")
    # Saving records the count, as the dashboard's Save does.
    assert segment.last_count == 2
    assert SegmentEvaluation.objects.filter(segment=segment).count() == 1


def test_the_seed_002_list_example_shape(api, enterprise_contacts):
    api.post("/api/segments", SEED_REQUEST, format="json")
    api.post(
        "/api/segments",
        {
            "name": "Recent Signups",
            "rules": [{"field": "created_at", "operator": "after", "value": "2026-01-01"}],
        },
        format="json",
    )
    response = api.get("/api/segments")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [(s["name"], s["contacts_count"]) for s in body] == [
        ("Active Enterprise", 2),
        ("Recent Signups", 4),
    ]
    assert body[1]["rules"] == [{"field": "createdAt", "operator": "after", "value": "2026-01-01"}]
    assert api.get("/api/segments/").json() == body  # with a trailing slash, too
    for segment in body:
        assert set(segment) >= {
            "id", "name", "match", "rules", "filter", "contacts_count", "last_evaluated_at",
        }  # fmt: skip


def test_the_list_counts_now_without_recording(api, marketer):
    segment = segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )
    ContactFactory.create_batch(3, lead_score=90)
    (row,) = api.get("/api/segments").json()
    assert row["contacts_count"] == 3
    assert row["last_count"] is None and row["last_evaluated_at"] is None
    assert not SegmentEvaluation.objects.filter(segment=segment).exists()


def test_create_takes_a_whole_filter_tree(api):
    ContactFactory(lead_score=90, custom_fields={"plan": "pro"})
    ContactFactory(lead_score=10, custom_fields={"plan": "free"})
    response = api.post(
        "/api/segments",
        {
            "name": "Valuable",
            "filter": {
                "match": "any",
                "rules": [
                    {"field": "leadScore", "op": "gte", "value": 70},
                    {"field": "customField:plan", "op": "equals", "value": "pro"},
                ],
            },
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["match"] == "any"
    assert response.json()["contacts_count"] == 1


def test_create_combines_match_and_a_rules_list(api):
    ContactFactory(lead_score=90)
    ContactFactory(lead_score=10, company="Acme Inc")
    response = api.post(
        "/api/segments",
        {
            "name": "Either",
            "match": "any",
            "rules": [
                {"field": "leadScore", "op": "gte", "value": 70},
                {"field": "company", "op": "contains", "value": "inc"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["contacts_count"] == 2


def test_create_reports_rule_errors_with_their_paths(api):
    response = api.post(
        "/api/segments",
        {
            "name": "Broken",
            "rules": [
                {"field": "leadScore", "op": "gte", "value": 700},
                {"field": "lead_scor", "op": "gte", "value": 70},
                {"match": "any", "rules": [{"field": "leadScore", "op": "contains", "value": 1}]},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert errors_of(response) == [
        {"path": "rules[0].value", "message": "Lead score needs a whole number between 0 and 100."},
        {"path": "rules[1].field",
         "message": "Unknown field 'lead_scor'; did you mean 'leadScore'?"},
        {"path": "rules[2].rules[0].op", "message": "'contains' cannot be used with Lead score; "
                                                   "use one of: =, ≠, >, ≥, <, ≤, between."},
    ]  # fmt: skip
    assert not ContactSegment.objects.exists()


def test_errors_in_a_filter_point_into_it(api):
    response = api.post(
        "/api/segments",
        {"name": "Broken", "filter": {"match": "most", "rules": [{"field": "tag", "op": "is"}]}},
        format="json",
    )
    assert response.status_code == 400
    assert paths_of(response) == ["filter.match", "filter.rules[0].value"]


def test_an_unknown_group_is_a_validation_error(api):
    response = api.post(
        "/api/segments",
        {"name": "G", "rules": [{"field": "group", "op": "in_group", "value": "Nope"}]},
        format="json",
    )
    assert response.status_code == 400
    assert errors_of(response) == [
        {"path": "rules[0].value", "message": "There is no group 'Nope'."}
    ]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"rules": [{"field": "email", "op": "is_set"}]}, "name"),
        ({"name": "", "rules": [{"field": "email", "op": "is_set"}]}, "name"),
        ({"name": "x" * 201, "rules": [{"field": "email", "op": "is_set"}]}, "name"),
        ({"name": "a\x00b", "rules": [{"field": "email", "op": "is_set"}]}, "name"),
        ({"name": 5, "rules": [{"field": "email", "op": "is_set"}]}, "name"),
        ({"name": "No rules"}, "rules"),
        ({"name": "Empty", "rules": []}, "rules"),
        ({"name": "Text rules", "rules": "leadScore >= 70"}, "rules"),
        ({"name": "Both", "rules": [], "filter": {"rules": []}}, "rules"),
        ({"name": "Bad match", "match": "some", "rules": []}, "match"),
        ({"name": "List filter", "filter": [{"field": "email", "op": "is_set"}]}, "filter"),
        ({"name": "Empty filter", "filter": {"match": "all", "rules": []}}, "filter.rules"),
    ],
)
def test_create_rejects_bad_bodies(api, body, path):
    response = api.post("/api/segments", body, format="json")
    assert response.status_code == 400
    assert path in paths_of(response)


@pytest.mark.parametrize("body", ["[]", '"segment"', "5", "null", "true", "[{}]"])
def test_create_needs_an_object(api, body):
    response = api.generic("POST", "/api/segments", body, content_type="application/json")
    assert response.status_code == 400
    assert paths_of(response) == [""]


def test_get_one(api, marketer):
    segment = segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )
    ContactFactory(lead_score=80)
    response = api.get(f"/api/segments/{segment.pk}")
    assert response.status_code == 200
    assert response.json()["contacts_count"] == 1
    assert response.json()["rules"] == [{"field": "leadScore", "operator": "gte", "value": 70}]
    assert api.get(f"/api/segments/{segment.pk}/").status_code == 200  # with a slash, too


def test_a_segment_whose_rules_broke_says_why(api, marketer):
    group = GroupFactory(name="Webinar")
    group_id = group.pk
    segment = segment_create(
        name="Webinar", filter_json=[{"field": "group", "op": "in_group", "value": "Webinar"}],
        user=marketer,
    )  # fmt: skip
    group.delete()
    body = api.get(f"/api/segments/{segment.pk}").json()
    assert body["contacts_count"] is None
    assert body["rule_errors"] == [
        {"path": "rules[0].value", "message": f"There is no group '{group_id}'."}
    ]
    assert api.get("/api/segments").status_code == 200


def test_put_replaces_name_and_rules(api, marketer):
    segment = segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )
    ContactFactory(lead_score=5)
    response = api.put(
        f"/api/segments/{segment.pk}",
        {"name": "Low", "rules": [{"field": "leadScore", "operator": "<", "value": 10}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["contacts_count"] == 1
    segment.refresh_from_db()
    assert segment.name == "Low"
    assert segment.filter_json["rules"] == [{"field": "leadScore", "op": "lt", "value": 10}]
    assert segment.last_count == 1


def test_put_needs_the_rules(api, marketer):
    segment = segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )
    response = api.put(f"/api/segments/{segment.pk}", {"name": "Renamed"}, format="json")
    assert response.status_code == 400
    assert paths_of(response) == ["rules"]


def test_patch_changes_only_what_it_is_given(api, marketer):
    segment = segment_create(
        name="Two", user=marketer, filter_json=[
            {"field": "leadScore", "op": "gte", "value": 70},
            {"field": "company", "op": "contains", "value": "inc"},
        ],
    )  # fmt: skip
    ContactFactory(lead_score=90, company="Umbrella")
    ContactFactory(lead_score=10, company="Acme Inc")
    response = api.patch(f"/api/segments/{segment.pk}", {"match": "any"}, format="json")
    assert response.status_code == 200
    assert response.json()["contacts_count"] == 2
    assert response.json()["name"] == "Two"
    response = api.patch(f"/api/segments/{segment.pk}", {"name": "Renamed"}, format="json")
    assert response.json()["match"] == "any"
    assert response.json()["name"] == "Renamed"


def test_patch_refuses_a_cycle(api, marketer):
    a = segment_create(name="A", filter_json=[{"field": "email", "op": "is_set"}], user=marketer)
    b = segment_create(
        name="B", filter_json=[{"field": "segment", "op": "in_segment", "value": a.pk}],
        user=marketer,
    )  # fmt: skip
    response = api.patch(
        f"/api/segments/{a.pk}",
        {"rules": [{"field": "segment", "op": "in_segment", "value": b.pk}]},
        format="json",
    )
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "rules[0].value",
            "message": "Segment 'B' already uses this segment, so it cannot be used here (cycle).",
        }
    ]


def test_delete(api, marketer):
    segment = segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}], user=marketer
    )
    response = api.delete(f"/api/segments/{segment.pk}")
    assert response.status_code == 204
    assert not ContactSegment.objects.exists()
    assert api.delete(f"/api/segments/{segment.pk}").status_code == 404


def test_delete_refuses_a_segment_others_use(api, marketer):
    a = segment_create(name="A", filter_json=[{"field": "email", "op": "is_set"}], user=marketer)
    segment_create(
        name="B", filter_json=[{"field": "segment", "op": "in_segment", "value": a.pk}],
        user=marketer,
    )  # fmt: skip
    response = api.delete(f"/api/segments/{a.pk}")
    assert response.status_code == 409
    assert "'B'" in errors_of(response)[0]["message"]
    assert ContactSegment.objects.filter(pk=a.pk).exists()


@pytest.mark.parametrize("url", ["/api/segments/999999", "/api/segments/0", "/api/segments/abc",
                                 "/api/segments/99999999999999999999999"])  # fmt: skip
def test_an_unknown_segment_is_a_json_404(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert paths_of(response) == [""]


@pytest.mark.parametrize(
    ("method", "url"),
    [("delete", "/api/segments"), ("put", "/api/segments"), ("post", "/api/segments/1")],
)
def test_other_methods_are_a_json_405(api, marketer, method, url):
    segment_create(name="A", filter_json=[{"field": "email", "op": "is_set"}], user=marketer)
    response = getattr(api, method)(url.replace("/1", f"/{ContactSegment.objects.get().pk}"))
    assert response.status_code == 405
    assert errors_of(response)[0]["message"] == f'Method "{method.upper()}" not allowed.'
    assert "GET" in response["Allow"]
