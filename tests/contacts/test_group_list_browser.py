"""The groups page in a real browser (issue 16.3): create a group, see it with its
size, rename it, and be told which segment keeps it from being deleted; every
control on screen on a laptop and a phone. Run with `-m browser`."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Group
from tests.browser import off_screen, sideways_scroll
from tests.segments.factories import SegmentFactory

from .factories import ContactFactory, GroupFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=str)
def test_a_marketer_creates_renames_and_cannot_delete_a_used_group(
    logged_in_page: Page, width, height
):
    leads = GroupFactory(name="Leads")
    ContactFactory.create_batch(2, groups=[leads])
    SegmentFactory(
        name="Lead nurture", filter_json=[{"field": "group", "op": "in_group", "value": "Leads"}]
    )
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/contacts/")
    page.click("#groups")
    expect(page.locator(f"#group-{leads.pk} .group-size")).to_have_text("2")
    page.fill("#id_name", "Board")
    page.click("#create-group")
    expect(page.locator(".message")).to_have_text("Created the group “Board”.")
    assert (
        off_screen(
            page.locator(
                "#group-table a, #new-group :is(input:not([type=hidden]), textarea, button)"
            )
        )
        == []
    )
    assert sideways_scroll(page) == 0

    page.locator(f"#group-{leads.pk}").get_by_role("link", name="Rename").click()
    page.fill("#id_name", "Warm leads")
    page.click("#save")
    expect(page.locator(f"#group-{leads.pk}")).to_contain_text("Warm leads")

    page.locator(f"#group-{leads.pk}").get_by_role("link", name="Delete").click()
    expect(page.locator("#group-in-use")).to_contain_text("Lead nurture")
    assert Group.objects.filter(pk=leads.pk).exists()

    page.goto("/contacts/groups/")
    page.locator(f"#group-{leads.pk}").get_by_role("link", name="Warm leads").click()
    expect(page.locator("#contact-total")).to_have_text("2 matching contacts")
