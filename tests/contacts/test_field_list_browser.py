"""The custom-field registry in a real browser (issue 16.2): registering a choice
field and seeing it listed, with every control on screen on a laptop and a phone.
Run with `-m browser`; see tests/browser.py for the fixtures."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contacts.models import CustomField
from tests.browser import off_screen, sideways_scroll

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=str)
def test_a_marketer_registers_a_choice_field_and_sees_it_listed(
    logged_in_page: Page, width, height
):
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/contacts/")
    page.click("#custom-fields")
    expect(page.locator("#fields-empty")).to_be_visible()
    page.fill("#id_name", "plan")
    page.fill("#id_label", "Plan")
    page.select_option("#id_type", "choice")
    page.fill("#id_options", "Free\nPro\nTeam")
    controls = "#register-field :is(input:not([type=hidden]), select, textarea, button)"
    assert off_screen(page.locator(controls)) == []
    page.click("#register")
    expect(page.locator(".message")).to_have_text("Registered “plan” (Choice).")
    row = page.locator("#field-table tbody tr")
    expect(row).to_contain_text("Free, Pro, Team")
    assert off_screen(page.locator("#field-table a")) == []
    assert sideways_scroll(page) == 0
    assert CustomField.objects.get().options == ["Free", "Pro", "Team"]


def test_a_refused_field_shows_the_reason_next_to_it_and_keeps_what_was_typed(
    logged_in_page: Page,
):
    page = logged_in_page
    page.goto("/contacts/fields/")
    page.fill("#id_name", "plan")
    page.select_option("#id_type", "choice")
    page.click("#register")
    expect(page.locator("#error-options")).to_have_text("A choice needs its options: one per line.")
    expect(page.locator("#id_name")).to_have_value("plan")
