"""The compose page's empty-tag warning and test-send note fit a laptop and a phone.

What a marketer notices: typing a subject with a tag that is empty for some
recipients shows the warning in the live preview, and nothing makes the page
wider than the screen. Run with `-m browser`; see tests/browser.py.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from segments import services
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=lambda n: str(n))
def test_the_empty_tag_warning_shows_live_and_fits_the_screen(
    logged_in_page: Page, browser_user, width, height
):
    ContactFactory(lead_score=90, company="")
    ContactFactory(lead_score=90, company="Acme", custom_fields={"a-rather-long-field-name": "x"})
    segment = services.segment_create(
        name="High value",
        filter_json=[{"field": "leadScore", "op": "gte", "value": 70}],
        user=browser_user,
    )
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/contacts/segments/{segment.pk}/send")
    expect(page.locator("#test-send-note")).to_contain_text("marked [Test]")
    page.fill("#id_subject", "Big news for {{ company }}")
    page.fill("#id_body", "Hello {{ custom.a-rather-long-field-name }}")
    warning = page.locator("#empty-company")
    expect(warning).to_contain_text("company is empty for 1 of 2 recipients — add a default?")
    expect(page.locator("#empty-custom\\.a-rather-long-field-name")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
