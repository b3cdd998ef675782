"""POST /api/segments/preview: count and 10 newest matches, nothing saved."""

from __future__ import annotations

import pytest

from segments.models import ContactSegment
from tests.api.conftest import errors_of, paths_of
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_it_counts_and_samples_the_newest_ten(api):
    high = ContactFactory.create_batch(12, lead_score=90)
    ContactFactory.create_batch(3, lead_score=10)
    response = api.post(
        "/api/segments/preview",
        {"match": "all", "rules": [{"field": "leadScore", "op": "gte", "value": 70}]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 12
    assert [c["id"] for c in body["sample"]] == [c.pk for c in reversed(high)][:10]
    assert {"id", "email", "name", "company", "status"} <= set(body["sample"][0])
    assert body["evaluated_at"]
    assert not ContactSegment.objects.exists()


def test_it_takes_a_bare_list_and_a_filter(api):
    ContactFactory(company="Acme Inc")
    ContactFactory(company="Umbrella")
    bare = api.post(
        "/api/segments/preview",
        {"rules": [{"field": "company", "operator": "contains", "value": "inc"}]},
        format="json",
    )
    assert bare.json()["count"] == 1
    tree = api.post(
        "/api/segments/preview",
        {"filter": {"match": "any", "negate": True,
                    "rules": [{"field": "company", "op": "contains", "value": "inc"}]}},
        format="json",
    )  # fmt: skip
    assert tree.json()["count"] == 1
    assert tree.json()["sample"][0]["company"] == "Umbrella"


def test_no_conditions_matches_everybody(api):
    ContactFactory.create_batch(2)
    response = api.post("/api/segments/preview", {"rules": []}, format="json")
    assert response.json()["count"] == 2


def test_rule_errors_come_with_their_paths(api):
    response = api.post(
        "/api/segments/preview",
        {"rules": [{"field": "lastInteracted", "op": "before", "value": "last tuesday"}]},
        format="json",
    )
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "rules[0].value",
            "message": "Enter a date as YYYY-MM-DD "
            "(or a date and time, e.g. 2026-01-31T09:00:00Z).",
        }
    ]


def test_nesting_deeper_than_the_limit_is_an_error(api):
    tree = {"field": "email", "op": "is_set"}
    for _ in range(6):
        tree = {"match": "all", "rules": [tree]}
    response = api.post("/api/segments/preview", {"filter": tree}, format="json")
    assert response.status_code == 400
    assert errors_of(response)[0]["message"] == "Segments can be nested at most 5 levels deep."
    assert errors_of(response)[0]["path"].startswith("filter.rules[0]")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "rules"),
        ({"rules": 5}, "rules"),
        ({"filter": "x"}, "filter"),
        ({"match": "x"}, "match"),
    ],
)
def test_it_needs_rules(api, body, path):
    response = api.post("/api/segments/preview", body, format="json")
    assert response.status_code == 400
    assert path in paths_of(response)


def test_get_is_not_allowed(api):
    assert api.get("/api/segments/preview").status_code == 405


def test_the_sample_costs_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    ContactFactory.create_batch(15, lead_score=90)
    with django_assert_max_num_queries(6):  # token, count, sample, sample's columns, …
        response = api.post(
            "/api/segments/preview",
            {"rules": [{"field": "leadScore", "op": "gte", "value": 70}]},
            format="json",
        )
    assert len(response.json()["sample"]) == 10
    assert all(c["lifecycle_stage"] == "lead" for c in response.json()["sample"])
