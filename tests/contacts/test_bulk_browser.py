"""Bulk actions in a real browser (issue 16.4): filter the contacts list, apply a tag
to all matching, confirm the count, and see the list again with the message; and
tick two rows to unsubscribe them. On a laptop and a phone, no control off screen.
Run with `-m browser`; see tests/browser.py for the fixtures."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact
from tests.browser import off_screen, sideways_scroll

from .factories import ContactFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=str)
def test_select_all_matching_contacts_and_tag_them(logged_in_page: Page, width, height):
    ContactFactory.create_batch(3, company="Acme Inc")
    ContactFactory(company="Globex")
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/contacts/")
    page.fill("#id_q", "acme")
    expect(page.locator("#contact-total")).to_have_text("3 matching contacts")
    assert off_screen(page.locator("#bulk-form :is(select, input[type=text], button)")) == []
    page.select_option("#bulk-action", "add_tag")
    page.fill("#bulk-name", "customer")
    page.click("#bulk-all")
    expect(page.locator("#bulk-confirm h1")).to_have_text("Add the tag “customer” to 3 contacts?")
    assert Contact.objects.filter(tags__name="customer").count() == 0
    page.click("#confirm-bulk")
    expect(page.locator(".message")).to_have_text(
        "Added the tag “customer” to 3 contacts (3 changed)."
    )
    expect(page.locator("#id_q")).to_have_value("acme")  # back on the same list
    assert Contact.objects.filter(tags__name="customer").count() == 3
    assert sideways_scroll(page) == 0


def test_tick_two_rows_and_unsubscribe_them(logged_in_page: Page):
    first, second, _ = ContactFactory.create_batch(3)
    page = logged_in_page
    page.goto("/contacts/")
    page.check(f"input[name=ids][value='{first.pk}']")
    page.check(f"input[name=ids][value='{second.pk}']")
    page.select_option("#bulk-action", "unsubscribe")
    page.click("#bulk-selected")
    expect(page.locator("#bulk-confirm h1")).to_have_text("Unsubscribe 2 contacts?")
    page.click("#confirm-bulk")
    expect(page.locator(".message")).to_have_text("Unsubscribed 2 contacts (2 changed).")
    assert set(Contact.objects.filter(is_unsubscribed=True)) == {first, second}
