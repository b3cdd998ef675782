"""Adding and editing a contact in a real browser (issue 16.1): every control on
screen on a laptop and a phone, tags suggested as they are typed, a registered
custom field with its own widget, and unsubscribing confirmed before it is saved.
Run with `-m browser`; see tests/browser.py for the fixtures."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contacts.models import Contact, CustomField
from tests.browser import off_screen, sideways_scroll

from .factories import GroupFactory, TagFactory

pytestmark = pytest.mark.browser

CONTROLS = "#contact-form :is(input:not([type=hidden]), select, textarea, button)"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=str)
def test_a_marketer_adds_a_contact_then_unsubscribes_it(logged_in_page: Page, width, height):
    TagFactory(name="vip")
    TagFactory(name="newsletter")
    GroupFactory(name="Board")
    CustomField.objects.create(name="seats", label="Seats", type="number")
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/contacts/")
    page.click("#add-contact")
    assert off_screen(page.locator(CONTROLS)) == []
    assert sideways_scroll(page) == 0

    page.fill("#id_email", "ann@example.com")
    page.fill("#id_first_name", "Ann")
    page.fill("#id_company", "Acme")
    page.locator("#id_tags").press_sequentially("newsletter, v")
    expect(page.locator("#tag-names option")).to_have_count(1)
    assert page.locator("#tag-names option").get_attribute("value") == "newsletter, vip"
    page.fill("#id_tags", "newsletter, vip")
    page.check("text=Board")
    expect(page.locator("input[name='custom:seats']")).to_have_attribute("type", "number")
    page.fill("input[name='custom:seats']", "12")
    page.click("#save-contact")

    expect(page.locator(".message")).to_have_text("Added ann@example.com.")
    expect(page.locator("#contact-tags")).to_contain_text("newsletter")
    expect(page.locator("#contact-groups")).to_contain_text("Board")
    expect(page.locator("#contact-custom-fields")).to_contain_text("12")
    expect(page.locator("#contact-deliveries-empty")).to_be_visible()

    page.click("#edit-contact")
    page.fill("#id_company", "Globex")
    page.check("#id_is_unsubscribed")
    page.click("#save-contact")
    expect(page.locator("#confirm-status h2")).to_have_text("Saving will mark it unsubscribed.")
    assert off_screen(page.locator("#confirm-status button")) == []
    assert Contact.objects.get().company == "Acme"  # nothing saved before the answer
    page.click("#confirm-save")
    expect(page.locator(".badge-unsubscribed")).to_be_visible()
    contact = Contact.objects.get()
    assert (contact.company, contact.is_unsubscribed) == ("Globex", True)
    assert contact.custom_fields == {"seats": 12}
    assert sideways_scroll(page) == 0


def test_a_wrong_value_is_shown_at_its_field_with_what_was_typed(logged_in_page: Page):
    CustomField.objects.create(name="seats", type="number")
    page = logged_in_page
    page.goto("/contacts/new")
    page.fill("#id_email", "not an email")
    page.fill("#id_company", "Acme")
    page.click("#save-contact")
    expect(page.locator("#error-email")).to_contain_text("is not a valid email address")
    expect(page.locator("#id_company")).to_have_value("Acme")
    assert not Contact.objects.exists()
