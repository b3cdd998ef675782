"""Nothing a body says is dropped silently (issue 14, point 17): other tools' names
for `rules` and `match` are understood, and any other key is a 400 that names it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contacts.models import Contact, Group, GroupMembership, Tag
from mailing.models import Mailing
from segments.models import ContactSegment
from segments.services import segment_create
from tests.api.conftest import errors_of
from tests.contacts.factories import ContactFactory, GroupFactory

pytestmark = pytest.mark.django_db

# The body, verbatim: the other common segment format.
OTHER_FORMAT = {
    "name": "Warm leads",
    "conditions": [
        {"field": "lead_score", "operator": "greater_than", "value": 50},
        {"field": "last_interacted", "operator": "within_days", "value": 30},
    ],
    "logic": "AND",
}
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


@pytest.fixture
def warm_world():
    """Warm (score 60, 10 days ago), cold (score 60, 40 days ago), low (score 40, recent)."""
    now = timezone.now()
    ContactFactory(
        email="warm@example.com", lead_score=60, last_interacted_at=now - dt.timedelta(days=10)
    )
    ContactFactory(
        email="cold@example.com", lead_score=60, last_interacted_at=now - dt.timedelta(days=40)
    )
    ContactFactory(
        email="low@example.com", lead_score=40, last_interacted_at=now - dt.timedelta(days=1)
    )


@pytest.fixture
def segment(marketer):
    return segment_create(name="High", filter_json=HIGH, user=marketer)


# -- conditions and logic ------------------------------------------------------------


def test_the_other_common_segment_format_is_saved_with_its_conditions(api, warm_world):
    response = api.post("/api/segments", OTHER_FORMAT, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["contacts_count"] == 1  # only the warm lead: both conditions apply
    assert body["filter"] == {
        "match": "all",
        "negate": False,
        "rules": [
            {"field": "leadScore", "op": "gt", "value": 50},
            {"field": "lastInteracted", "op": "within_days", "value": 30},
        ],
    }


@pytest.mark.parametrize(
    ("logic", "count"), [("AND", 1), ("and", 1), ("Or", 3), ("OR", 3), ("any", 3)]
)
def test_logic_is_read_in_any_case(api, warm_world, logic, count):
    response = api.post("/api/segments", {**OTHER_FORMAT, "logic": logic}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["contacts_count"] == count


def test_the_preview_takes_conditions_and_logic_too(api, warm_world):
    response = api.post(
        "/api/segments/preview",
        {"conditions": OTHER_FORMAT["conditions"], "logic": "or"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_patching_logic_alone_changes_how_the_saved_rules_combine(api, warm_world, marketer):
    saved = api.post("/api/segments", OTHER_FORMAT, format="json").json()
    response = api.patch(f"/api/segments/{saved['id']}", {"logic": "OR"}, format="json")
    assert response.status_code == 200
    assert response.json()["match"] == "any"
    assert response.json()["contacts_count"] == 3


def test_put_takes_conditions(api, segment, warm_world):
    response = api.put(f"/api/segments/{segment.pk}", OTHER_FORMAT, format="json")
    assert response.status_code == 200
    segment.refresh_from_db()
    assert segment.name == "Warm leads"
    assert len(segment.filter_json["rules"]) == 2


def test_an_error_in_a_condition_points_into_conditions(api):
    body = {"name": "x", "conditions": [{"field": "lead_score", "operator": "gt", "value": 500}]}
    response = api.post("/api/segments", body, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "conditions[0].value",
            "message": "Lead score needs a whole number between 0 and 100.",
        }
    ]


def test_empty_conditions_say_where_a_condition_is_missing(api):
    response = api.post("/api/segments", {"name": "x", "conditions": []}, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [
        {"path": "conditions", "message": "Add at least one condition to save."}
    ]


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ({"rules": HIGH}, "conditions", "Send either 'rules' or 'conditions', not both."),
        ({"match": "any"}, "logic", "Send either 'match' or 'logic', not both."),
        ({"filter": {"match": "all", "rules": HIGH}}, "conditions",
         "Send either 'conditions' or 'filter', not both."),
    ],
)  # fmt: skip
def test_a_name_and_its_alias_together_are_a_400(api, extra, path, message):
    response = api.post("/api/segments", {**OTHER_FORMAT, **extra}, format="json")
    assert response.status_code == 400
    assert {"path": path, "message": message} in errors_of(response)
    assert not ContactSegment.objects.exists()


def test_logic_other_than_and_or_is_a_400(api):
    response = api.post("/api/segments", {**OTHER_FORMAT, "logic": "XOR"}, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "logic", "message": "Logic must be AND or OR."}]


# -- unknown keys of every body ------------------------------------------------------


def test_a_misspelt_key_is_a_400_that_suggests_the_right_one(api, warm_world):
    body = {**OTHER_FORMAT, "conditons": OTHER_FORMAT["conditions"]}
    del body["conditions"]
    response = api.post("/api/segments", body, format="json")
    assert response.status_code == 400
    assert {
        "path": "conditons",
        "message": "Unknown field 'conditons'; did you mean 'conditions'?",
    } in errors_of(response)
    assert not ContactSegment.objects.exists()


def test_a_key_like_no_other_gets_no_suggestion(api):
    response = api.post("/api/segments", {"name": "x", "rules": HIGH, "zzz": 1}, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [{"path": "zzz", "message": "Unknown field 'zzz'."}]


def test_unknown_keys_are_listed_with_the_other_problems(api):
    response = api.post("/api/tags", {"name": 5, "colour": "red"}, format="json")
    assert response.status_code == 400
    assert {e["path"] for e in errors_of(response)} == {"name", "colour"}


@pytest.fixture
def world(marketer, segment):
    contact = ContactFactory(email="ada@example.com", first_name="Ada", lead_score=90)
    group = GroupFactory(name="Board")
    return {"segment": segment, "contact": contact, "group": group}


def _everything(world) -> tuple:
    segment = ContactSegment.objects.get(pk=world["segment"].pk)
    contact = Contact.objects.get(pk=world["contact"].pk)
    return (
        segment.name, segment.description, segment.filter_json,
        contact.first_name, contact.lead_score, Contact.objects.count(),
        Mailing.objects.count(), Tag.objects.count(), Group.objects.count(),
        GroupMembership.objects.count(),
    )  # fmt: skip


BODIES = [
    ("post", "/api/segments", {"name": "x", "rules": HIGH, "descripton": "d"},
     "descripton", "did you mean 'description'?"),
    ("put", "/api/segments/{segment}", {"name": "x", "rules": HIGH, "mach": "any"},
     "mach", "did you mean 'match'?"),
    ("patch", "/api/segments/{segment}", {"nmae": "Renamed"}, "nmae", "did you mean 'name'?"),
    ("post", "/api/segments/preview", {"rules": HIGH, "filtre": {}}, "filtre",
     "did you mean 'filter'?"),
    ("post", "/api/segments/{segment}/send",
     {"subject": "Hi", "body": "Hello", "form_email": "a@b.example"},
     "form_email", "did you mean 'from_email'?"),
    ("post", "/api/contacts", {"email": "new@example.com", "frist_name": "Bo"}, "frist_name",
     "did you mean 'first_name'?"),
    ("patch", "/api/contacts/{contact}", {"lead_scroe": 5}, "lead_scroe",
     "did you mean 'lead_score'?"),
    ("post", "/api/tags", {"name": "vip", "nmae": "vip"}, "nmae", "did you mean 'name'?"),
    ("post", "/api/groups", {"name": "VIPs", "descriptoin": "d"}, "descriptoin",
     "did you mean 'description'?"),
    ("post", "/api/groups/{group}/members", {"contact_ids": [1], "contact_id": 1}, "contact_id",
     "did you mean 'contact_ids'?"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "url", "body", "path", "hint"), BODIES, ids=[f"{m} {u}" for m, u, *_ in BODIES]
)
def test_every_body_refuses_a_key_it_does_not_know_and_writes_nothing(
    api, world, method, url, body, path, hint
):
    url = url.format(
        segment=world["segment"].pk, contact=world["contact"].pk, group=world["group"].pk
    )
    if "contact_ids" in body:
        body = {**body, "contact_ids": [world["contact"].pk]}
    before = _everything(world)
    response = getattr(api, method)(url, body, format="json")
    assert response.status_code == 400
    assert {"path": path, "message": f"Unknown field '{path}'; {hint}"} in errors_of(response)
    assert _everything(world) == before


def test_each_object_of_a_batch_names_its_unknown_keys_by_index(api):
    batch = [{"email": f"p{i}@example.com"} for i in range(3)] + [{"emial": "p3@example.com"}]
    response = api.post("/api/contacts", batch, format="json")
    assert response.status_code == 200
    result = response.json()["results"][3]
    assert result["status"] == "rejected"
    assert {
        "path": "[3].emial",
        "message": "Unknown field 'emial'; did you mean 'email'?",
    } in result["errors"]
    assert Contact.objects.count() == 3  # the good ones are still written


def test_a_contact_read_from_the_api_can_still_be_sent_back(api, world):
    contact = api.get(f"/api/contacts/{world['contact'].pk}").json()
    response = api.patch(
        f"/api/contacts/{contact['id']}", {**contact, "first_name": "Augusta"}, format="json"
    )
    assert response.status_code == 200  # id, name, status, updated_at: read-only, ignored
    assert response.json()["first_name"] == "Augusta"


# -- unknown keys inside rule trees ------------------------------------------------------


def test_an_unknown_key_in_a_condition_is_a_400_not_dropped(api):
    ContactFactory(email="a@example.com")
    body = {"rules": [{"field": "email", "op": "is_set", "valeu": 3}]}
    response = api.post("/api/segments/preview", body, format="json")
    assert response.status_code == 400  # it used to count everyone, ignoring `valeu`
    assert errors_of(response) == [
        {
            "path": "rules[0].valeu",
            "message": "Unknown key 'valeu' in a condition; did you mean 'value'?",
        }
    ]


def test_a_negate_on_a_condition_is_refused_rather_than_ignored(api):
    rules = [{"field": "leadScore", "op": "gte", "value": 70, "negate": True}]
    response = api.post("/api/segments", {"name": "Not high", "rules": rules}, format="json")
    assert response.status_code == 400
    assert [e["path"] for e in errors_of(response)] == ["rules[0].negate"]
    assert not ContactSegment.objects.exists()


def test_op_and_operator_together_are_a_400(api):
    rules = [{"field": "leadScore", "op": "gte", "operator": "lt", "value": 70}]
    response = api.post("/api/segments/preview", {"rules": rules}, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [
        {"path": "rules[0].operator", "message": "Send either 'op' or 'operator', not both."}
    ]


def test_an_unknown_key_in_a_nested_group_points_at_it(api):
    tree = {"match": "all", "rules": [{"match": "any", "negat": True, "rules": HIGH}]}
    response = api.post("/api/segments/preview", {"filter": tree}, format="json")
    assert response.status_code == 400
    assert errors_of(response) == [
        {
            "path": "filter.rules[0].negat",
            "message": "Unknown key 'negat' in a group; did you mean 'negate'?",
        }
    ]


def test_nested_groups_take_logic_and_conditions(api, warm_world):
    tree = {
        "logic": "AND",
        "conditions": [{"logic": "OR", "conditions": OTHER_FORMAT["conditions"]}],
    }
    response = api.post("/api/segments/preview", {"filter": tree}, format="json")
    assert response.status_code == 200
    assert response.json()["count"] == 3
