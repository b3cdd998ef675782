"""`?page=&per_page=`, `Link`, `X-Total-Count` and keyset cursors on the lists."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api import pagination
from contacts.models import Contact
from tests.api.conftest import paths_of
from tests.contacts.factories import ContactFactory
from tests.segments.factories import HIGH_SCORE, SegmentFactory

pytestmark = pytest.mark.django_db


def links(response) -> dict[str, dict[str, list[str]]]:
    found = {}
    for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response["Link"]):
        assert url.startswith("http://testserver/api/")
        found[rel] = parse_qs(urlsplit(url).query)
    return found


def test_a_short_list_is_one_page_with_an_exact_total(api):
    ContactFactory.create_batch(3)
    response = api.get("/api/contacts")
    assert len(response.json()) == 3
    assert response["X-Total-Count"] == "3"
    assert response["X-Total-Count-Exact"] == "true"
    assert set(links(response)) == {"first", "last"}
    assert links(response)["last"]["page"] == ["1"]


def test_pages_split_the_list_and_link_to_each_other(api):
    contacts = ContactFactory.create_batch(5)
    newest_first = [c.pk for c in reversed(contacts)]
    first = api.get("/api/contacts?per_page=2&q=example")
    assert [c["id"] for c in first.json()] == newest_first[:2]
    assert first["X-Total-Count"] == "5" and first["X-Total-Count-Exact"] == "true"
    rels = links(first)
    assert set(rels) == {"first", "next", "last"}
    assert rels["next"]["page"] == ["2"] and rels["next"]["per_page"] == ["2"]
    assert rels["next"]["q"] == ["example"]  # filters are kept
    assert rels["next"]["after_id"] == [str(newest_first[1])]  # a keyset cursor
    assert rels["last"]["page"] == ["3"]

    second = api.get("/api/contacts", {k: v[0] for k, v in rels["next"].items()})
    assert [c["id"] for c in second.json()] == newest_first[2:4]
    assert set(links(second)) >= {"first", "prev", "next"}
    assert links(second)["prev"]["before_id"] == [str(newest_first[2])]

    back = api.get("/api/contacts", {k: v[0] for k, v in links(second)["prev"].items()})
    assert [c["id"] for c in back.json()] == newest_first[:2]

    by_number = api.get("/api/contacts?per_page=2&page=3")
    assert [c["id"] for c in by_number.json()] == newest_first[4:]
    assert by_number["X-Total-Count"] == "5"
    assert set(links(by_number)) == {"first", "prev", "last"}
    assert links(by_number)["prev"]["page"] == ["2"]


def test_walking_the_next_links_visits_every_contact_once(api):
    ContactFactory.create_batch(7)
    url, seen = "/api/contacts?per_page=3", []
    while url:
        response = api.get(url)
        seen += [c["id"] for c in response.json()]
        match = re.search(r'<([^>]+)>; rel="next"', response["Link"])
        url = match.group(1) if match else None
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 7


def test_a_page_past_the_end_is_empty(api):
    ContactFactory.create_batch(2)
    # The unfiltered total is the planner's estimate of the table: make it this
    # test's rows, not what autovacuum last saw of other tests' (committed) rows.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Contact._meta.db_table}")
    response = api.get("/api/contacts?page=5")
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "2"


def test_per_page_defaults_to_100_and_goes_up_to_1000(api):
    ContactFactory.create_batch(101)
    assert len(api.get("/api/contacts").json()) == 100
    assert len(api.get("/api/contacts?per_page=1000").json()) == 101


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("per_page=1001", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=" + "9" * 30, "page"),
        ("per_page=%00", "per_page"),
        ("page=１", "page"),
        ("after_id=0", "after_id"),
        ("after_id=99999999999999999999", "after_id"),
        ("count=maybe", "count"),
        ("page=", "page"),
        ("count=", "count"),
    ],
)
def test_bad_paging_parameters_are_a_400(api, query, path):
    response = api.get(f"/api/contacts?{query}")
    assert response.status_code == 400
    assert paths_of(response) == [path]


def test_above_the_cap_a_filtered_total_is_an_estimate_unless_asked(api, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 3)
    ContactFactory.create_batch(6, company="Acme")
    response = api.get("/api/contacts?q=acme&per_page=2")
    assert response["X-Total-Count-Exact"] == "false"
    assert int(response["X-Total-Count"]) >= 4  # at least CAP + 1
    assert "last" not in links(response)
    exact = api.get("/api/contacts?q=acme&per_page=2&count=exact")
    assert (exact["X-Total-Count"], exact["X-Total-Count-Exact"]) == ("6", "true")
    assert links(exact)["last"]["page"] == ["3"]


def test_an_unfiltered_total_is_the_table_estimate(api):
    ContactFactory.create_batch(3)
    response = api.get("/api/contacts?per_page=1")
    assert response["X-Total-Count-Exact"] == "false"  # pg_class.reltuples, no COUNT(*)
    assert int(response["X-Total-Count"]) >= 2


def test_a_large_segment_reports_its_last_count_without_counting(api, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 2)
    ContactFactory.create_batch(4, lead_score=90)
    segment = SegmentFactory(filter_json=HIGH_SCORE, last_count=1234)  # at its last evaluation
    response = api.get(f"/api/segments/{segment.pk}/contacts?per_page=2")
    assert len(response.json()) == 2
    assert (response["X-Total-Count"], response["X-Total-Count-Exact"]) == ("1234", "false")


def test_deep_pages_read_only_their_own_rows(api, monkeypatch):
    monkeypatch.setattr(pagination, "DEFERRED_JOIN_OFFSET", 2)
    contacts = ContactFactory.create_batch(7)
    newest_first = [c.pk for c in reversed(contacts)]
    response = api.get("/api/contacts?per_page=2&page=3&q=example")
    assert [c["id"] for c in response.json()] == newest_first[4:6]
    assert links(response)["next"]["page"] == ["4"]


def test_a_list_found_long_is_not_counted_again_for_a_minute(api, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 3)
    ContactFactory.create_batch(6, company="Acme")

    def counts(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response["X-Total-Count-Exact"] == "false"
        return sum("COUNT(" in q["sql"] for q in queries)

    assert counts("/api/contacts?q=acme&per_page=2") == 1
    assert counts("/api/contacts?q=acme&per_page=2&page=2") == 0
    ContactFactory.create_batch(4, company="Globex")
    assert counts("/api/contacts?q=globex&per_page=2") == 1  # another list is counted
