"""The segment list fits the screen (issue 14, point 10), in a real browser.

What a marketer notices: with a long rules summary, every row action (Send, Run now,
Edit, Duplicate, Delete) is still on screen, nothing scrolls sideways, and the summary
is cut to two lines with the whole text on hover. On a phone each segment is a card.
Run with `-m browser`; see tests/browser.py for the fixtures.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from segments import services
from segments.models import ContactSegment
from segments.selectors import segment_rows
from tests.browser import off_screen, sideways_scroll
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.browser

LIST = "/contacts/segments"
DESKTOPS = [(1280, 800), (1366, 768), (1920, 1080)]
PHONE = (390, 844)
ACTIONS = ["Send", "Run now", "Edit", "Export", "Duplicate", "Delete"]
LONG_RULES = {
    "match": "all",
    "rules": [
        {"field": "lastInteracted", "op": "older_than_days", "value": 90},
        {"field": "tag", "op": "any_of", "value": ["vip", "newsletter", "webinar-2025-attendees"]},
        {"field": "company", "op": "not_contains", "value": "internal testing account"},
        {
            "match": "any",
            "rules": [
                {"field": "leadScore", "op": "between", "value": [60, 100]},
                {"field": "customField:plan", "op": "equals", "value": "enterprise"},
                {"field": "country", "op": "in", "value": ["Germany", "France", "Netherlands"]},
                {
                    "field": "email",
                    "op": "ends_with",
                    "value": "@a-very-long-customer-domain.example",
                },
            ],
        },
    ],
}


@pytest.fixture
def segments(browser_user) -> list[ContactSegment]:
    """A segment with a long name and summary and a size history, and a short one."""
    ContactFactory.create_batch(3, lead_score=80)
    long = services.segment_create(
        name="Win-back: our most valuable European enterprise customers",
        filter_json=LONG_RULES,
        user=browser_user,
    )
    short = services.segment_create(
        name="High value",
        filter_json=[{"field": "leadScore", "op": "gte", "value": 70}],
        user=browser_user,
    )
    now = timezone.now()
    for days_ago in (2, 1, 0):
        services.segment_evaluate(segment=short, now=now - dt.timedelta(days=days_ago))
        services.segment_evaluate(segment=long, now=now - dt.timedelta(days=days_ago))
    return [long, short]


def assert_every_action_on_screen(page: Page, segments: list[ContactSegment]) -> None:
    for segment in segments:
        row = page.locator(f"#segment-{segment.pk}")
        for action in ACTIONS:
            control = row.get_by_role("link", name=action, exact=True).or_(
                row.get_by_role("button", name=action, exact=True)
            )
            expect(control).to_be_visible()
            assert off_screen(control) == [], f"{segment.name}: {action}"


@pytest.mark.parametrize(("width", "height"), [*DESKTOPS, PHONE], ids=lambda n: str(n))
def test_every_row_action_is_on_screen_without_sideways_scrolling(
    logged_in_page: Page, segments, width, height
):
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(LIST)
    assert_every_action_on_screen(page, segments)
    assert sideways_scroll(page) == 0


@pytest.mark.parametrize(("width", "height"), DESKTOPS, ids=lambda n: str(n))
def test_the_table_shows_every_column_without_a_scrollbar(
    logged_in_page: Page, segments, width, height
):
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(LIST)
    wrap = page.locator(".table-wrap:has(#segment-table)")
    assert wrap.evaluate("box => box.scrollWidth - box.clientWidth") == 0
    assert off_screen(page.locator("#segment-table th, #segment-table td")) == []


def test_a_long_summary_takes_two_lines_with_the_whole_text_on_hover(
    logged_in_page: Page, segments
):
    page = logged_in_page
    page.goto(LIST)
    long = segments[0]
    summary = page.locator(f"#segment-{long.pk} .segment-summary")
    (row,) = segment_rows([long])
    whole = row.summary
    expect(summary).to_have_attribute("title", whole)
    assert summary.evaluate("el => el.scrollHeight > el.clientHeight")  # cut, not all shown
    line = summary.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert summary.bounding_box()["height"] <= 2 * line + 1


def test_on_a_phone_each_segment_is_a_labelled_card(logged_in_page: Page, segments):
    page = logged_in_page
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.goto(LIST)
    row = page.locator(f"#segment-{segments[1].pk}")
    labels = row.locator("td[data-label]").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert labels == ['"Last count"', '"Last evaluated"', '"Size history"']
    assert off_screen(page.locator("#segment-table td")) == []


def test_run_now_on_a_phone_keeps_the_row_on_screen(logged_in_page: Page, segments):
    page = logged_in_page
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.goto(LIST)
    short = segments[1]
    ContactFactory(lead_score=99)
    row = page.locator(f"#segment-{short.pk}")
    row.get_by_role("button", name="Run now").click()
    expect(row.locator(".last-count")).to_have_text("4")
    assert_every_action_on_screen(page, segments)
    assert sideways_scroll(page) == 0


def test_exporting_a_segment_downloads_its_members_as_csv(logged_in_page: Page):
    """Issue 16.6: the Export action of a segment's row gives its members now."""
    segment = services.segment_create(
        name="High scorers",
        filter_json=[{"field": "leadScore", "op": "gte", "value": 70}],
        user=None,
    )
    ContactFactory(email="high@example.com", lead_score=90)
    ContactFactory(email="low@example.com", lead_score=10)
    page = logged_in_page
    page.goto(LIST)
    with page.expect_download() as download_info:
        page.locator(f"#segment-{segment.pk}").get_by_role("link", name="Export").click()
    download = download_info.value
    assert download.suggested_filename.startswith("high-scorers-")
    lines = download.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("email,first_name,")
    assert [line.split(",")[0] for line in lines[1:]] == ["high@example.com"]
