from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from contacts.models import CustomField
from segments.models import ContactSegment, SegmentEvaluation
from segments.selectors import segment_rows
from segments.services import segment_create, segment_evaluate

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
LIST = reverse("segments:list")
HIGH = [{"field": "leadScore", "op": "gte", "value": 70}]


@pytest.fixture
def segment(marketer):
    return segment_create(name="High value", filter_json=HIGH, user=marketer)


def test_it_requires_login(stranger_client):
    assert stranger_client.get(LIST).status_code == 302


def test_empty_state_invites_the_first_segment(marketer_client):
    response = marketer_client.get(LIST)
    assert b'id="segments-empty"' in response.content
    assert b"Create your first segment" in response.content


def test_it_lists_summary_last_count_and_history(marketer_client, segment):
    ContactFactory.create_batch(2, lead_score=90)
    segment_evaluate(segment=segment, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    ContactFactory(lead_score=95)
    segment_evaluate(segment=segment, now=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    body = marketer_client.get(LIST).content.decode()
    assert "High value" in body and "Lead score ≥ 70" in body
    assert '<td class="num last-count" data-label="Last count">3</td>' in body
    assert 'aria-label="Size history: 2, 3"' in body
    assert reverse("mailing:compose", args=[segment.pk]) in body


def test_a_summary_names_registered_custom_fields_by_their_label(marketer, db):
    CustomField.objects.create(name="seats", label="Seats", type="number")
    rules = [
        {"field": "customField:seats", "op": "gte", "value": "10"},
        {"field": "customField:region", "op": "equals", "value": "emea"},
    ]
    (row,) = segment_rows([segment_create(name="Big", filter_json=rules, user=marketer)])
    assert row.summary == "Seats ≥ 10 and region equals emea"


def test_a_long_summary_keeps_its_whole_text_for_hover(marketer_client, marketer):
    rules = [
        {"field": "company", "op": "not_contains", "value": f"internal testing account {n}"}
        for n in range(12)
    ]
    (row,) = segment_rows([segment_create(name="Long", filter_json=rules, user=marketer)])
    assert "internal testing account 11" in row.summary
    body = marketer_client.get(LIST).content.decode()
    # The list shows two lines of it; the title has all of it.
    assert f'class="muted small clamp-2 segment-summary" title="{escape(row.summary)}"' in body


def test_run_now_reevaluates_in_place_with_htmx(marketer_client, segment):
    ContactFactory.create_batch(4, lead_score=80)
    response = marketer_client.post(
        reverse("segments:run", args=[segment.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith(f'<tr id="segment-{segment.pk}">')
    assert '<td class="num last-count" data-label="Last count">4</td>' in body
    assert SegmentEvaluation.objects.filter(segment=segment, count=4).exists()


def test_run_now_without_javascript_redirects_with_a_message(marketer_client, segment):
    ContactFactory(lead_score=80)
    response = marketer_client.post(reverse("segments:run", args=[segment.pk]), follow=True)
    assert b"matches 1 contacts now" in response.content


def test_run_now_rejects_get(marketer_client, segment):
    assert marketer_client.get(reverse("segments:run", args=[segment.pk])).status_code == 405


def test_duplicate_opens_the_copy(marketer_client, segment):
    response = marketer_client.post(reverse("segments:duplicate", args=[segment.pk]))
    copy = ContactSegment.objects.get(name="High value (copy)")
    assert response.url == reverse("segments:edit", args=[copy.pk])
    assert copy.filter_json == segment.filter_json


def test_delete_asks_first_then_deletes(marketer_client, segment):
    confirm = marketer_client.get(reverse("segments:delete", args=[segment.pk]))
    assert b'id="confirm-delete"' in confirm.content
    assert ContactSegment.objects.filter(pk=segment.pk).exists()
    response = marketer_client.post(reverse("segments:delete", args=[segment.pk]), follow=True)
    assert b"Deleted" in response.content
    assert not ContactSegment.objects.filter(pk=segment.pk).exists()


def test_a_segment_used_by_another_cannot_be_deleted(marketer_client, marketer, segment):
    user = segment_create(
        name="Uses it",
        filter_json=[{"field": "segment", "op": "in_segment", "value": segment.pk}],
        user=marketer,
    )
    response = marketer_client.post(reverse("segments:delete", args=[segment.pk]))
    assert response.status_code == 409
    assert user.name.encode() in response.content
    assert ContactSegment.objects.filter(pk=segment.pk).exists()


def test_send_page_shows_who_will_receive(marketer_client, segment):
    ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=90, is_unsubscribed=True)
    ContactFactory(lead_score=90, is_bounced=True)
    body = marketer_client.get(reverse("mailing:compose", args=[segment.pk])).content.decode()
    assert "3 will receive it" in body
    assert "5 match now · 1 unsubscribed and 1 bounced left out" in body


def test_unknown_segment_is_404(marketer_client):
    assert marketer_client.get(reverse("segments:edit", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("segments:edit", "get"),
        ("segments:run", "post"),
        ("segments:duplicate", "post"),
        ("segments:delete", "get"),
        ("segments:delete", "post"),
        ("mailing:compose", "get"),
    ],
)
def test_every_segment_page_requires_login(stranger_client, segment, name, method):
    response = getattr(stranger_client, method)(reverse(name, args=[segment.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert ContactSegment.objects.filter(pk=segment.pk).exists()
