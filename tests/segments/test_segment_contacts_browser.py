"""A segment's contacts in a real browser (issue 16.4): from the segment list to its
members, all of them tagged through the bulk bar, and back on the same list; on a
laptop and a phone, nothing off screen. Run with `-m browser`; see tests/browser.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact
from segments.services import segment_create
from tests.browser import off_screen, sideways_scroll

from ..contacts.factories import ContactFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=str)
def test_open_a_segments_contacts_and_tag_all_of_them(
    logged_in_page: Page, browser_user, width, height
):
    segment = segment_create(
        name="Engaged customers with a rather long name",
        filter_json=[{"field": "leadScore", "op": "gte", "value": 70}],
        user=browser_user,
    )
    ContactFactory.create_batch(3, lead_score=90)
    ContactFactory(lead_score=10)
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/contacts/segments")
    page.locator(f'a[href="/contacts/?segment={segment.pk}"]').click()
    expect(page.locator("#segment-filter")).to_have_text(f"in “{segment.name}”")
    expect(page.locator("#bulk-all")).to_have_text("Apply to all 3 matching")
    assert off_screen(page.locator("h1, #bulk-form :is(select, input[type=text], button)")) == []
    assert sideways_scroll(page) == 0
    page.select_option("#bulk-action", "add_tag")
    page.fill("#bulk-name", "engaged")
    page.click("#bulk-all")
    expect(page.locator("#bulk-confirm h1")).to_have_text("Add the tag “engaged” to 3 contacts?")
    page.click("#confirm-bulk")
    expect(page.locator(".message")).to_have_text(
        "Added the tag “engaged” to 3 contacts (3 changed)."
    )
    expect(page.locator("#segment-filter")).to_be_visible()  # back on the members
    assert Contact.objects.filter(tags__name="engaged").count() == 3
