"""The contact list in a real browser (issue 14, points 10 and 12).

What a marketer notices: every column is on screen at desktop widths even with long
emails and company names (cut with an ellipsis, the whole value on hover); on a phone
each contact is a card with labelled values; and the Clear link follows the live filter.
Run with `-m browser`; see tests/browser.py for the fixtures.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Contact
from tests.browser import off_screen, sideways_scroll

from .factories import ContactFactory, TagFactory

pytestmark = pytest.mark.browser

LIST = "/contacts/"
DESKTOPS = [(1280, 800), (1366, 768), (1920, 1080)]
PHONE = (390, 844)
HEADERS = ["Email", "Name", "Company", "Stage", "Lead score", "Status", "Last interacted"]
LONG_EMAIL = "alexandra.konstantinopoulou-vanderbilt@procurement.very-long-company-domain.example"
LONG_COMPANY = "International Business Machines Consulting Services GmbH & Co. KG"


@pytest.fixture
def contacts() -> list[Contact]:
    now = timezone.now()
    vip = TagFactory(name="vip")
    return [
        ContactFactory(
            email=LONG_EMAIL,
            first_name="Alexandra",
            last_name="Konstantinopoulou-Vanderbilt",
            company=LONG_COMPANY,
            lifecycle_stage=Contact.LifecycleStage.SUBSCRIBER,
            last_interacted_at=now - dt.timedelta(days=330),
            tags=[vip],
        ),
        ContactFactory(
            email="unsubscribed.person@example.com",
            company="Webb, Fernandez and Sons Logistics Partners",
            is_unsubscribed=True,
            lifecycle_stage=Contact.LifecycleStage.CUSTOMER,
        ),
        ContactFactory(email="bounced@example.com", is_bounced=True, last_interacted_at=None),
        *ContactFactory.create_batch(4),
    ]


@pytest.mark.parametrize(("width", "height"), DESKTOPS, ids=lambda n: str(n))
def test_every_column_and_cell_is_on_screen(logged_in_page: Page, contacts, width, height):
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(LIST)
    headers = page.locator("#contact-table th:not(.select-cell)")
    expect(headers).to_have_text(HEADERS)
    assert off_screen(headers) == []
    cells = page.locator("#contact-table td:not(.select-cell)")
    expect(cells).to_have_count(len(HEADERS) * len(contacts))
    assert off_screen(cells) == []
    assert off_screen(page.locator("#contact-table .select-cell input")) == []
    expect(page.locator("#contact-table")).to_contain_text("Unsubscribed")
    assert sideways_scroll(page) == 0


def test_long_values_are_cut_with_the_whole_text_on_hover(logged_in_page: Page, contacts):
    page = logged_in_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(LIST)
    email = page.get_by_role("link", name=LONG_EMAIL)
    company = page.get_by_title(LONG_COMPANY)
    for value in (email, company):
        expect(value).to_be_visible()
        assert value.evaluate("el => el.scrollWidth > el.clientWidth")  # cut, with an ellipsis
    expect(email).to_have_attribute("title", LONG_EMAIL)
    expect(company).to_have_text(LONG_COMPANY)  # all of it is there for screen readers


def test_on_a_phone_each_contact_is_a_card_with_every_value_labelled(
    logged_in_page: Page, contacts
):
    page = logged_in_page
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.goto(LIST)
    cells = page.locator("#contact-table td:not(.select-cell)")
    expect(cells).to_have_count(len(HEADERS) * len(contacts))
    assert off_screen(cells) == []
    assert sideways_scroll(page) == 0
    first_card = page.locator("#contact-table tbody tr").last  # the oldest: the long one
    labels = first_card.locator("td:not(.select-cell)").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert labels == [f'"{header}"' for header in HEADERS]
    # No hover on a phone: long values wrap, whole, instead of being cut.
    email = first_card.get_by_role("link", name=LONG_EMAIL)
    assert email.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert off_screen(email) == []


def test_the_clear_link_follows_the_live_search(logged_in_page: Page, contacts):
    page = logged_in_page
    page.goto(LIST)
    page.evaluate("window.notReloaded = true")
    clear = page.get_by_role("link", name="Clear", exact=True)
    expect(clear).to_have_count(0)

    page.locator("#id_q").press_sequentially("konstantin")
    expect(page.locator("#contact-total")).to_have_text("1 matching contact")
    expect(clear).to_be_visible()

    clear.click()
    expect(page).to_have_url(re.compile(r"/contacts/$"))
    expect(page.locator("#contact-table tbody tr")).to_have_count(len(contacts))
    expect(clear).to_have_count(0)
    expect(page.locator("#id_q")).to_have_value("")
    assert page.evaluate("window.notReloaded") is True

    # The new form is live as well.
    page.locator("#id_q").press_sequentially("bounced")
    expect(page.locator("#contact-total")).to_have_text("1 matching contact")
    expect(clear).to_be_visible()


def test_the_clear_link_follows_a_filter_change(logged_in_page: Page, contacts):
    page = logged_in_page
    page.goto(LIST)
    page.evaluate("window.notReloaded = true")
    clear = page.get_by_role("link", name="Clear", exact=True)

    page.select_option("#id_status", "unsubscribed")
    expect(page.locator("#contact-table tbody tr")).to_have_count(1)
    expect(clear).to_be_visible()

    page.select_option("#id_status", "")  # back to "Any status": nothing filters any more
    expect(page.locator("#contact-table tbody tr")).to_have_count(len(contacts))
    expect(clear).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
