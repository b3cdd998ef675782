"""Registered custom fields in the builder, in a real browser (issue 16.2): each field
picked by its label is drawn with its type's operators and value input, on a laptop
and on a phone, and the saved segment opens again with the same rows.
Run with `-m browser`; see tests/browser.py for the fixtures."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from contacts.models import CustomField
from segments.models import ContactSegment
from tests.browser import off_screen, sideways_scroll
from tests.contacts.factories import ContactFactory

from .test_builder_browser import choose_field, choose_operator, redraw

pytestmark = pytest.mark.browser

CREATE = "/contacts/segments/create"
# Every control of the rules, but the no-JavaScript "Update the rows" (never shown here).
CONTROLS = "#rules-card :is(input:not([type=hidden]), select, button):not(noscript *)"


def all_on_screen(page: Page) -> None:
    assert off_screen(page.locator(CONTROLS)) == []
    assert sideways_scroll(page) == 0


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=str)
def test_a_marketer_builds_a_segment_from_typed_custom_fields(logged_in_page: Page, width, height):
    CustomField.objects.create(name="plan", label="Plan", type="choice", options=["basic", "pro"])
    CustomField.objects.create(name="seats", label="Seats", type="number")
    CustomField.objects.create(name="renewal", label="Renewal date", type="date")
    ContactFactory(custom_fields={"plan": "pro", "seats": 40, "renewal": "2026-02-01"})  # matches
    ContactFactory(custom_fields={"plan": "pro", "seats": 40, "renewal": "2026-06-01"})
    ContactFactory(custom_fields={"plan": "pro", "seats": 3, "renewal": "2026-02-01"})
    ContactFactory(custom_fields={"plan": "basic", "seats": 90, "renewal": "2026-02-01"})
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(CREATE)

    # The picker: the registered fields by label, with "Other custom field…" after them.
    options = page.locator("#id_r-0_field optgroup[label='Custom fields'] option")
    expect(options).to_have_text(["Plan", "Renewal date", "Seats", "Other custom field…"])

    # A choice: "is" with a select of its options.
    choose_field(page, "r-0", "Plan", "customField:plan")
    expect(page.locator("#id_r-0_op option")).to_have_text(["is", "is not", "is set", "is not set"])
    expect(page.locator("#id_r-0_value option")).to_have_text(["Choose…", "basic", "pro"])
    expect(page.locator("#id_r-0_custom")).to_have_count(0)
    page.select_option("#id_r-0_value", "pro")
    expect(page.locator("#preview-count")).to_have_text("3")
    all_on_screen(page)

    # A number: its comparisons, a numeric box; letters are explained next to the row.
    redraw(page, lambda: page.click("#add-condition-r"))
    choose_field(page, "r-1", "Seats", "customField:seats")
    expect(page.locator("#id_r-1_op option")).to_have_text(
        ["=", "≠", ">", "≥", "<", "≤", "is set", "is not set"]
    )
    choose_operator(page, "r-1", "≥", "gte")
    expect(page.locator("#id_r-1_value")).to_have_attribute("inputmode", "decimal")
    page.locator("#id_r-1_value").press_sequentially("ten")
    expect(page.locator("#err-r-1")).to_have_text(
        "Seats needs a number, e.g. 12 or 4.5; 'ten' is not a number."
    )
    expect(page.locator("#id_r-1_value")).to_have_value("ten")
    all_on_screen(page)
    page.fill("#id_r-1_value", "10")
    expect(page.locator("#preview-count")).to_have_text("2")
    expect(page.locator("#err-r-1")).to_have_text("")

    # A date: before/after, and a date input.
    redraw(page, lambda: page.click("#add-condition-r"))
    choose_field(page, "r-2", "Renewal date", "customField:renewal")
    expect(page.locator("#id_r-2_op")).to_have_value("before")
    expect(page.locator("#id_r-2_value")).to_have_attribute("type", "date")
    page.fill("#id_r-2_value", "2026-03-01")
    expect(page.locator("#preview-count")).to_have_text("1")
    expect(page.locator("#preview-summary")).to_have_text(
        "Plan equals pro, Seats ≥ 10 and Renewal date before 2026-03-01"
    )
    all_on_screen(page)

    page.fill("#id_name", "Pro renewals")
    page.click("#save")
    expect(page).to_have_url(re.compile(r"/contacts/segments$"))
    segment = ContactSegment.objects.get(name="Pro renewals")
    assert segment.filter_json["rules"] == [
        {"field": "customField:plan", "op": "equals", "value": "pro"},
        {"field": "customField:seats", "op": "gte", "value": 10},
        {"field": "customField:renewal", "op": "before", "value": "2026-03-01"},
    ]

    # Opened again: the same typed rows.
    page.goto(f"/contacts/segments/{segment.pk}/")
    expect(page.locator("#id_r-0_field")).to_have_value("customField:plan")
    expect(page.locator("#id_r-0_value")).to_have_value("pro")
    expect(page.locator("#id_r-1_op")).to_have_value("gte")
    expect(page.locator("#id_r-1_value")).to_have_value("10")
    expect(page.locator("#id_r-2_value")).to_have_attribute("type", "date")
    expect(page.locator("#id_r-2_value")).to_have_value("2026-03-01")
    expect(page.locator("#preview-count")).to_have_text("1")
    all_on_screen(page)
