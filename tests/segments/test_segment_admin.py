from __future__ import annotations

import json

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from segments.models import ContactSegment, SegmentEvaluation

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:segments_contactsegment_add")


def post_segment(client, filter_json, name="High value"):
    return client.post(
        ADD,
        {
            "name": name,
            "description": "",
            "filter_json": json.dumps(filter_json),
            "evaluations-TOTAL_FORMS": "0",
            "evaluations-INITIAL_FORMS": "0",
        },
    )


def test_saving_stores_the_canonical_tree_and_the_author(admin_client_, admin):
    response = post_segment(admin_client_, [{"field": "lead_score", "op": ">=", "value": 70}])
    assert response.status_code == 302
    segment = ContactSegment.objects.get()
    assert segment.filter_json == {
        "match": "all",
        "negate": False,
        "rules": [{"field": "leadScore", "op": "gte", "value": 70}],
    }
    assert segment.created_by == admin


def test_invalid_rules_are_shown_with_their_path_and_nothing_is_saved(admin_client_):
    response = post_segment(admin_client_, [{"field": "leadScore", "op": "contains", "value": 1}])
    assert response.status_code == 200
    assert "rules[0].op: &#x27;contains&#x27; cannot be used with Lead score" in (
        response.content.decode()
    )
    assert not ContactSegment.objects.exists()


def test_a_segment_needs_a_condition(admin_client_):
    response = post_segment(admin_client_, {"match": "all", "rules": []})
    assert response.status_code == 200
    assert b"Add at least one condition to save." in response.content


def test_reevaluate_action_records_count_and_history(admin_client_):
    ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=10)
    post_segment(admin_client_, [{"field": "leadScore", "op": "gte", "value": 70}])
    segment = ContactSegment.objects.get()
    response = admin_client_.post(
        reverse("admin:segments_contactsegment_changelist"),
        {"action": "evaluate_now", ACTION_CHECKBOX_NAME: [segment.pk]},
        follow=True,
    )
    assert b"3 contacts match now" in response.content
    segment.refresh_from_db()
    assert segment.last_count == 3
    assert list(SegmentEvaluation.objects.values_list("count", flat=True)) == [3]
    change = admin_client_.get(reverse("admin:segments_contactsegment_change", args=[segment.pk]))
    assert b"Lead score \xe2\x89\xa5 70" in change.content  # the plain-language summary
    assert b"size history" in change.content.lower()


def test_a_segment_that_another_uses_cannot_be_deleted_alone(admin_client_):
    post_segment(admin_client_, [{"field": "leadScore", "op": "gte", "value": 70}], name="Base")
    base = ContactSegment.objects.get(name="Base")
    post_segment(
        admin_client_, [{"field": "segment", "op": "in_segment", "value": base.pk}], "Uses"
    )
    user = ContactSegment.objects.get(name="Uses")
    delete_url = reverse("admin:segments_contactsegment_delete", args=[base.pk])

    page = admin_client_.get(delete_url).content.decode()
    assert "Segment “Uses”, whose rules use “Base”" in page
    admin_client_.post(delete_url, {"post": "yes"})
    changelist = reverse("admin:segments_contactsegment_changelist")
    admin_client_.post(
        changelist, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [base.pk], "post": "yes"}
    )
    assert ContactSegment.objects.filter(pk=base.pk).exists()

    # Together with the segment that uses it, it goes.
    admin_client_.post(
        changelist,
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [base.pk, user.pk], "post": "yes"},
    )
    assert not ContactSegment.objects.exists()
