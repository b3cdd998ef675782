"""/contacts/groups/: the static lists in the dashboard, with their sizes; create and
rename (issue 16.3). Deleting is segments' page: tests/segments/test_group_delete_view.py."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Group

from .factories import ContactFactory, GroupFactory

pytestmark = pytest.mark.django_db

GROUPS = reverse("contacts:groups")


def test_it_requires_login(stranger_client):
    assert stranger_client.get(GROUPS).status_code == 302


def test_it_lists_groups_by_name_with_their_sizes_in_a_fixed_number_of_queries(marketer_client):
    board, leads = GroupFactory(name="board"), GroupFactory(name="Leads")
    GroupFactory(name="Empty")
    ContactFactory.create_batch(3, groups=[leads])
    ContactFactory(groups=[board, leads])
    with CaptureQueriesContext(connection) as queries:
        body = marketer_client.get(GROUPS).content.decode()
    assert body.index(">board<") < body.index(">Empty<") < body.index(">Leads<")
    sizes = [cell.split("</td>")[0] for cell in body.split('class="num group-size">')[1:]]
    assert sizes == ["1", "0", "4"]
    assert len(queries) <= 6  # session, user, groups, sizes: not one count per group


def test_a_group_links_to_its_members_in_the_contacts_list(marketer_client):
    GroupFactory(name="Beta testers")
    body = marketer_client.get(GROUPS).content.decode()
    assert f'href="{reverse("contacts:list")}?group=Beta%20testers"' in body


def test_creating_a_group(marketer_client):
    response = marketer_client.post(GROUPS, {"name": "Board", "description": "The board"})
    assert response.status_code == 302
    assert Group.objects.get().description == "The board"


def test_a_name_taken_in_another_case_is_refused_and_what_was_typed_is_kept(marketer_client):
    GroupFactory(name="Board")
    response = marketer_client.post(GROUPS, {"name": "BOARD", "description": "typed"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a group with this name already (names are the same in any case)." in body
    assert "typed" in body
    assert Group.objects.count() == 1


def test_renaming_keeps_the_members(marketer_client):
    group = GroupFactory(name="Old")
    contact = ContactFactory(groups=[group])
    url = reverse("contacts:group-edit", args=[group.pk])
    response = marketer_client.post(url, {"name": "New", "description": ""})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "New"
    assert list(contact.groups.all()) == [group]


def test_an_unknown_group_is_404(marketer_client):
    assert marketer_client.get(reverse("contacts:group-edit", args=[999])).status_code == 404
