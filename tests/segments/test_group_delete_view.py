"""/contacts/groups/<id>/delete (segments' page): refused while a segment uses the
group, naming it; otherwise the group goes and its contacts stay (issue 16.3)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import Contact, Group
from tests.contacts.factories import ContactFactory, GroupFactory

from .factories import SegmentFactory

pytestmark = pytest.mark.django_db


def test_a_group_no_segment_uses_is_deleted_after_asking(marketer_client):
    group = GroupFactory(name="Board")
    ContactFactory(groups=[group])
    url = reverse("segments:group-delete", args=[group.pk])
    assert "Delete the group “Board”?" in marketer_client.get(url).content.decode()
    response = marketer_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:groups")
    assert not Group.objects.exists()
    assert Contact.objects.count() == 1


def test_a_group_a_segment_uses_is_kept_and_the_segments_are_named(marketer_client):
    group = GroupFactory(name="Board")
    nested = {"match": "all", "rules": [
        {"field": "leadScore", "op": "gte", "value": 1},
        {"match": "any", "rules": [{"field": "group", "op": "not_in_group", "value": "Board"}]},
    ]}  # fmt: skip
    SegmentFactory(name="Nested user", filter_json=nested)
    SegmentFactory(
        name="Direct user", filter_json=[{"field": "group", "op": "in_group", "value": "Board"}]
    )
    SegmentFactory(name="Bystander")
    url = reverse("segments:group-delete", args=[group.pk])
    response = marketer_client.post(url)
    assert response.status_code == 409
    body = response.content.decode()
    assert "Segments use this group, so it cannot be deleted yet" in body
    assert body.index("Direct user") < body.index("Nested user")
    assert "Bystander" not in body
    assert Group.objects.exists()


def test_an_unknown_group_is_404(marketer_client):
    assert marketer_client.post(reverse("segments:group-delete", args=[999])).status_code == 404


def test_it_requires_login(stranger_client):
    group = GroupFactory()
    assert stranger_client.get(reverse("segments:group-delete", args=[group.pk])).status_code == 302
