"""The compose page's Text/Markdown choice is a normal radio group (issue 14, point 11).

What a marketer notices: each radio sits on the line of its label, left of the text,
and clicking the text picks it. Run with `-m browser`; see tests/browser.py.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from segments import services

pytestmark = pytest.mark.browser

# The radio's box and the box of its label's own text (the text node after the input).
BOXES_JS = """radio => {
  const nodes = [...radio.parentElement.childNodes];
  const text = nodes.find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const range = document.createRange();
  range.selectNodeContents(text);
  const r = radio.getBoundingClientRect(), t = range.getBoundingClientRect();
  return {radio: [r.left, r.right, r.top, r.bottom], text: [t.left, t.right, t.top, t.bottom]};
}"""


@pytest.fixture
def send_url(browser_user) -> str:
    segment = services.segment_create(
        name="High value",
        filter_json=[{"field": "leadScore", "op": "gte", "value": 70}],
        user=browser_user,
    )
    return f"/contacts/segments/{segment.pk}/send"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=lambda n: str(n))
def test_each_format_radio_sits_on_its_labels_line_left_of_the_text(
    logged_in_page: Page, send_url, width, height
):
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(send_url)
    for label in ("Plain text", "Markdown"):
        radio = page.get_by_role("radio", name=label)
        expect(radio).to_be_visible()
        boxes = radio.evaluate(BOXES_JS)
        r_left, r_right, r_top, r_bottom = boxes["radio"]
        t_left, _t_right, t_top, t_bottom = boxes["text"]
        assert r_right <= t_left, f"{label}: the radio is not left of its text"
        assert t_left - r_right < 16, f"{label}: the radio is far from its text"
        assert r_top < t_bottom and r_bottom > t_top, f"{label}: not on the same line"


def test_clicking_a_format_label_picks_it(logged_in_page: Page, send_url):
    page = logged_in_page
    page.goto(send_url)
    expect(page.get_by_role("radio", name="Plain text")).to_be_checked()
    page.get_by_text("Markdown", exact=True).click()
    expect(page.get_by_role("radio", name="Markdown")).to_be_checked()
    expect(page.get_by_role("radio", name="Plain text")).not_to_be_checked()
