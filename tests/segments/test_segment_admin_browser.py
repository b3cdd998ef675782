"""The admin's JSON fields (segment rules, custom fields) in a real browser (issue 14, 16 and 20).

What an admin notices: the rules and custom fields are indented JSON in a monospace box
that fits the screen, and text nested 5,000 levels deep comes back as a message next
to the field, with the text kept, not as a server error. Run with `-m browser`.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from segments.models import ContactSegment
from segments.services import segment_create
from tests.browser import PASSWORD
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.browser
SCREENS = [(1280, 800), (390, 844)]


@pytest.fixture
def admin_page(page: Page, browser_user) -> Page:
    browser_user.is_staff = browser_user.is_superuser = True
    browser_user.save()
    page.goto("/admin/login/")
    page.fill("#id_username", browser_user.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(browser_user.get_username())
    return page


def assert_monospace_and_on_screen(page: Page, selector: str) -> None:
    box = page.locator(selector)
    family = box.evaluate("el => getComputedStyle(el).fontFamily")
    assert "monospace" in family
    bounds = box.bounding_box()
    assert bounds is not None and bounds["x"] >= 0
    assert bounds["x"] + bounds["width"] <= page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_rules_are_indented_json_that_fits_the_screen(
    admin_page: Page, browser_user, width, height
):
    segment = segment_create(
        name="High value",
        filter_json=[{"field": "leadScore", "op": "gte", "value": 70}],
        user=browser_user,
    )
    admin_page.set_viewport_size({"width": width, "height": height})
    admin_page.goto(f"/admin/segments/contactsegment/{segment.pk}/change/")

    text = admin_page.locator("#id_filter_json").input_value()
    assert text.startswith('{\n  "match": "all",\n  "negate": false,\n  "rules": [\n    {\n')
    assert '"field": "leadScore",\n      "op": "gte",' in text
    assert_monospace_and_on_screen(admin_page, "#id_filter_json")
    expect(admin_page.locator(".help").filter(has_text="Example:")).to_be_visible()


def test_rules_nested_5000_deep_come_back_as_a_message_with_the_text_kept(admin_page: Page):
    admin_page.goto("/admin/segments/contactsegment/add/")
    admin_page.fill("#id_name", "Deep")
    admin_page.fill("#id_filter_json", "[" * 5000)
    admin_page.click("input[name=_save]")

    expect(admin_page.locator(".errorlist")).to_contain_text("nested too deeply")
    assert admin_page.locator("#id_filter_json").input_value() == "[" * 5000
    assert not ContactSegment.objects.exists()


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_custom_fields_are_indented_json_that_fits_the_screen(admin_page: Page, width, height):
    contact = ContactFactory(custom_fields={"plan": "pro", "seats": 5})
    admin_page.set_viewport_size({"width": width, "height": height})
    admin_page.goto(f"/admin/contacts/contact/{contact.pk}/change/")

    assert admin_page.locator("#id_custom_fields").input_value() == (
        '{\n  "plan": "pro",\n  "seats": 5\n}'
    )
    assert_monospace_and_on_screen(admin_page, "#id_custom_fields")
