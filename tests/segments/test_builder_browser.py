"""The segment builder in a real browser (Chromium through Playwright, htmx live).

What a marketer notices: prefabs fill the rules, the field choice redraws the
row, the preview follows the typing, errors sit next to their rule, and the list
shows what was saved. Run with `-m browser`; see tests/browser.py for the fixtures.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from segments import services
from segments.models import ContactSegment
from tests.browser import PASSWORD
from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.browser

CREATE = "/contacts/segments/create"
LIST = "/contacts/segments"


def redraw(page: Page, action: Callable[[], object]) -> None:
    """Do something that makes htmx redraw the rules card, and wait for the new card.

    Typing into a row before the new card is in would type into the old one.
    """
    page.locator("#rules-card").evaluate("card => { card.dataset.stale = 'yes' }")
    action()
    expect(page.locator("#rules-card[data-stale]")).to_have_count(0)
    expect(page.locator("#rules-card")).to_be_visible()


def redraw_row(page: Page, dom_id: str, action: Callable[[], object]) -> None:
    """Like redraw(), for a field or operator change, which redraws only its own row."""
    row = page.locator(f"#node-{dom_id}")
    row.evaluate("row => { row.dataset.stale = 'yes' }")
    action()
    expect(page.locator(f"#node-{dom_id}[data-stale]")).to_have_count(0)
    expect(page.locator(f"#node-{dom_id}")).to_be_visible()


def choose_field(page: Page, dom_id: str, label: str, field: str) -> None:
    """Pick a field; htmx redraws the row with that field's operators and input."""
    redraw_row(page, dom_id, lambda: page.select_option(f"#id_{dom_id}_field", label=label))
    expect(page.locator(f"#id_{dom_id}_field")).to_have_value(field)


def choose_operator(page: Page, dom_id: str, label: str, op: str) -> None:
    redraw_row(page, dom_id, lambda: page.select_option(f"#id_{dom_id}_op", label=label))
    expect(page.locator(f"#id_{dom_id}_op")).to_have_value(op)


def mark_stale(page: Page, selector: str) -> None:
    """Tag an element, so that a test can tell whether htmx has replaced it since."""
    page.locator(selector).evaluate("element => { element.dataset.stale = 'yes' }")


def lead_scores(*scores: int) -> None:
    for score in scores:
        ContactFactory(lead_score=score)


def test_worked_example_vip_win_back(logged_in_page: Page):
    page = logged_in_page
    vip, newsletter = TagFactory(name="vip"), TagFactory(name="newsletter")
    now = timezone.now()
    old, recent = now - dt.timedelta(days=120), now - dt.timedelta(days=10)
    ContactFactory(tags=[vip], last_interacted_at=old)  # matches
    ContactFactory(tags=[vip], last_interacted_at=now - dt.timedelta(days=400))  # matches
    ContactFactory(tags=[vip], last_interacted_at=recent)  # still active
    ContactFactory(tags=[vip], last_interacted_at=old, is_bounced=True)  # unreachable
    ContactFactory(tags=[vip], last_interacted_at=old, is_unsubscribed=True)  # unreachable
    ContactFactory(tags=[newsletter], last_interacted_at=old)  # not a VIP

    page.goto(CREATE)
    expect(page.locator("h1")).to_have_text("New segment")
    redraw(page, lambda: page.click("#prefab-win_back"))
    # The prefab's three rules, drawn in place (htmx: no page load).
    expect(page.locator("#id_r-0_field")).to_have_value("lastInteracted")
    expect(page.locator("#id_r-0_op")).to_have_value("older_than_days")
    expect(page.locator("#id_r-0_value")).to_have_value("90")
    expect(page.locator("#id_r-1_field")).to_have_value("isBounced")
    expect(page.locator("#id_r-2_field")).to_have_value("isUnsubscribed")
    expect(page).to_have_url(re.compile(r"/contacts/segments/create$"))
    # The redrawn rules ask the live preview to run: 3 reachable inactive contacts.
    expect(page.locator("#preview-count")).to_have_text("3")

    redraw(page, lambda: page.click("#add-condition-r"))
    expect(page.locator("#id_r-3_field")).to_be_visible()
    choose_field(page, "r-3", "Tag", "tag")
    expect(page.locator("#id_r-3_op")).to_have_value("is")
    expect(page.locator("#id_r-3_op option")).to_have_text(
        ["is", "is not", "any of", "all of", "none of"]
    )
    page.fill("#id_r-3_value", "vip")
    expect(page.locator("#preview-count")).to_have_text("2")
    expect(page.locator("#preview-summary")).to_contain_text("vip")
    # The rows above kept their values through the redraws.
    expect(page.locator("#id_r-0_value")).to_have_value("90")

    page.fill("#id_name", "VIP win-back")
    page.click("#save")

    expect(page).to_have_url(re.compile(r"/contacts/segments$"))
    expect(page.locator(".messages")).to_contain_text("Saved “VIP win-back”: 2 contacts match now.")
    segment = ContactSegment.objects.get(name="VIP win-back")
    row = page.locator(f"#segment-{segment.pk}")
    expect(row.locator(".segment-name")).to_have_text("VIP win-back")
    expect(row.locator(".last-count")).to_have_text("2")
    assert segment.last_count == 2


def test_live_preview_follows_the_typing(logged_in_page: Page):
    page = logged_in_page
    lead_scores(10, 40, 55, 70, 95)

    page.goto(CREATE)
    expect(page.locator("#preview-empty")).to_be_visible()
    choose_field(page, "r-0", "Lead score", "leadScore")
    choose_operator(page, "r-0", "≥", "gte")
    page.fill("#id_r-0_value", "50")
    expect(page.locator("#preview-count")).to_have_text("3")

    # Only the value changes; nothing is clicked, the preview follows.
    page.fill("#id_r-0_value", "90")
    expect(page.locator("#preview-count")).to_have_text("1")
    expect(page.locator("#preview-sample tbody tr")).to_have_count(1)
    expect(page.locator("#preview-sample tbody tr")).to_contain_text("95")
    expect(page).to_have_url(re.compile(r"/contacts/segments/create$"))


def test_negated_nested_group_previews_the_complement_and_stays_negated(logged_in_page: Page):
    page = logged_in_page
    lead_scores(10, 40, 55, 70, 95)

    page.goto(CREATE)
    redraw(page, lambda: page.click("#node-r-0 [aria-label='Remove this condition']"))
    expect(page.locator("#node-r-0")).to_have_count(0)
    redraw(page, lambda: page.click("#add-group-r"))
    expect(page.locator("#id_r-0_negate")).to_be_visible()
    choose_field(page, "r-0-0", "Lead score", "leadScore")
    choose_operator(page, "r-0-0", "≥", "gte")
    page.fill("#id_r-0-0_value", "50")
    expect(page.locator("#preview-count")).to_have_text("3")

    page.check("#id_r-0_negate")
    expect(page.locator("#preview-count")).to_have_text("2")  # 10 and 40

    page.fill("#id_name", "Cold leads")
    page.click("#save")
    segment_row = page.locator("#segment-table tr", has_text="Cold leads")
    expect(segment_row.locator(".last-count")).to_have_text("2")

    segment_row.locator(".segment-name").click()
    expect(page.locator("h1")).to_have_text("Edit segment")
    expect(page.locator("#id_name")).to_have_value("Cold leads")
    expect(page.locator("#id_r-0_negate")).to_be_checked()
    expect(page.locator("#node-r-0")).to_have_class(re.compile(r"\bgroup-negated\b"))
    expect(page.locator("#id_r-0-0_field")).to_have_value("leadScore")
    expect(page.locator("#id_r-0-0_op")).to_have_value("gte")
    expect(page.locator("#id_r-0-0_value")).to_have_value("50")
    expect(page.locator("#preview-count")).to_have_text("2")


def test_invalid_value_is_flagged_next_to_its_rule_and_kept(logged_in_page: Page):
    page = logged_in_page
    lead_scores(10, 60, 80)
    message = "Lead score needs a whole number between 0 and 100"

    page.goto(CREATE)
    page.fill("#id_name", "Scores")
    choose_field(page, "r-0", "Lead score", "leadScore")
    page.fill("#id_r-0_value", "500")
    expect(page.locator("#err-r-0")).to_contain_text(message)
    expect(page.locator("#id_r-0_value")).to_have_value("500")
    expect(page.locator("#preview-invalid")).to_contain_text("Fix the rules")
    expect(page.locator("#preview-count")).to_have_count(0)

    # Saving refuses, and the page it draws still holds what was typed.
    page.click("#save")
    expect(page.locator("#err-r-0")).to_contain_text(message)
    expect(page).to_have_url(re.compile(r"/contacts/segments/create$"))
    expect(page.locator("#id_r-0_value")).to_have_value("500")
    expect(page.locator("#id_name")).to_have_value("Scores")
    expect(page.locator("#preview-invalid")).to_contain_text("Fix the rules")
    assert not ContactSegment.objects.exists()

    # Fixing the value clears the message and brings the count back.
    choose_operator(page, "r-0", "≥", "gte")
    page.fill("#id_r-0_value", "50")
    expect(page.locator("#preview-count")).to_have_text("2")
    expect(page.locator("#err-r-0")).to_have_text("")


def test_duplicate_then_delete_from_the_list(logged_in_page: Page, browser_user):
    page = logged_in_page
    lead_scores(20, 60, 90)
    original = services.segment_create(
        name="Hot leads",
        filter_json={"match": "all", "rules": [{"field": "leadScore", "op": "gte", "value": 50}]},
        user=browser_user,
    )

    page.goto(LIST)
    page.locator(f"#segment-{original.pk}").get_by_role("button", name="Duplicate").click()
    expect(page.locator("h1")).to_have_text("Edit segment")
    expect(page.locator("#id_name")).to_have_value("Hot leads (copy)")
    expect(page.locator(".messages")).to_contain_text("Duplicated “Hot leads”")
    copy = ContactSegment.objects.get(name="Hot leads (copy)")
    expect(page).to_have_url(re.compile(rf"/contacts/segments/{copy.pk}/$"))
    expect(page.locator("#id_r-0_field")).to_have_value("leadScore")
    expect(page.locator("#id_r-0_op")).to_have_value("gte")
    expect(page.locator("#id_r-0_value")).to_have_value("50")
    expect(page.locator("#preview-count")).to_have_text("2")

    page.goto(LIST)
    expect(page.locator(f"#segment-{original.pk}")).to_be_visible()
    copy_row = page.locator(f"#segment-{copy.pk}")
    expect(copy_row.locator(".segment-name")).to_have_text("Hot leads (copy)")

    # Delete asks first; Cancel keeps the segment.
    copy_row.get_by_role("link", name="Delete").click()
    expect(page.locator("h1")).to_have_text("Delete “Hot leads (copy)”?")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(f"#segment-{copy.pk}")).to_be_visible()

    copy_row.get_by_role("link", name="Delete").click()
    page.click("#confirm-delete")
    expect(page).to_have_url(re.compile(r"/contacts/segments$"))
    expect(page.locator(".messages")).to_contain_text("Deleted “Hot leads (copy)”.")
    expect(page.locator(f"#segment-{copy.pk}")).to_have_count(0)
    expect(page.locator(f"#segment-{original.pk}")).to_be_visible()
    assert list(ContactSegment.objects.values_list("name", flat=True)) == ["Hot leads"]


WARM = [
    {"field": "leadScore", "op": "gte", "value": 50},
    {"field": "isBounced", "op": "equals", "value": False},
]


def edit_warm_leads(page: Page, user) -> ContactSegment:
    """Five contacts, three of them warm, and the builder open on the 'Warm' segment."""
    lead_scores(10, 40, 55, 70, 95)
    segment = services.segment_create(name="Warm", filter_json=WARM, user=user)
    page.goto(f"/contacts/segments/{segment.pk}/")
    expect(page.locator("#preview-count")).to_have_text("3")
    return segment


def expect_warm_rules(page: Page) -> None:
    expect(page.locator("#id_r-0_field")).to_have_value("leadScore")
    expect(page.locator("#id_r-0_value")).to_have_value("50")
    expect(page.locator("#id_r-1_field")).to_have_value("isBounced")
    expect(page.locator("#node-r-2")).to_have_count(0)
    expect(page.locator("#prefab-confirm")).to_have_count(0)


@pytest.mark.parametrize("box", ["#id_r-0_value", "#id_name"])
def test_enter_in_a_text_box_runs_the_preview_and_keeps_the_rules(
    logged_in_page: Page, browser_user, box
):
    page = logged_in_page
    segment = edit_warm_leads(page, browser_user)
    mark_stale(page, "#preview")
    mark_stale(page, "#rules-card")
    page.press(box, "Enter")
    expect(page.locator("#preview[data-stale]")).to_have_count(0)  # the preview ran again
    expect(page.locator("#preview-count")).to_have_text("3")
    expect(page.locator("#rules-card[data-stale]")).to_have_count(1)  # the rules were left be
    expect_warm_rules(page)
    expect(page).to_have_url(re.compile(rf"/contacts/segments/{segment.pk}/$"))
    segment.refresh_from_db()
    assert segment.filter_json["rules"] == WARM


def test_enter_without_javascript_runs_the_preview_and_keeps_the_rules(
    chromium: Browser, live_server, transactional_db, browser_user
):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(5_000)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", browser_user.get_username())
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".userbox")).to_contain_text(browser_user.get_username())
        segment = edit_warm_leads(page, browser_user)

        page.fill("#id_r-0_value", "90")
        with page.expect_navigation():
            page.press("#id_r-0_value", "Enter")
        expect(page.locator("#preview-count")).to_have_text("1")
        expect(page.locator("#id_r-0_value")).to_have_value("90")
        expect(page.locator("#id_r-1_field")).to_have_value("isBounced")
        expect(page.locator("#node-r-2")).to_have_count(0)
        segment.refresh_from_db()
        assert segment.filter_json["rules"] == WARM
    finally:
        context.close()


def test_a_prefab_asks_before_replacing_the_rules(logged_in_page: Page, browser_user):
    page = logged_in_page
    segment = edit_warm_leads(page, browser_user)

    redraw(page, lambda: page.click("#prefab-win_back"))
    expect(page.locator("#prefab-confirm")).to_contain_text(
        "Replace the 2 rules with “Win-back: inactive 90 days”?"
    )
    expect(page.locator("#prefab-replace")).to_be_focused()
    expect(page.locator("#id_r-0_field")).to_have_value("leadScore")
    expect(page.locator("#preview-count")).to_have_text("3")

    redraw(page, lambda: page.click("#prefab-keep"))
    expect_warm_rules(page)

    redraw(page, lambda: page.click("#prefab-win_back"))
    redraw(page, lambda: page.click("#prefab-replace"))
    expect(page.locator("#prefab-confirm")).to_have_count(0)
    expect(page.locator("#id_r-0_field")).to_have_value("lastInteracted")
    expect(page.locator("#id_r-2_field")).to_have_value("isUnsubscribed")
    segment.refresh_from_db()
    assert segment.filter_json["rules"] == WARM  # replaced on screen, not saved


def test_a_new_row_waits_for_its_value_without_blanking_the_preview(logged_in_page: Page):
    page = logged_in_page
    lead_scores(10, 40, 55, 70, 95)

    page.goto(CREATE)
    choose_field(page, "r-0", "Lead score", "leadScore")
    choose_operator(page, "r-0", "≥", "gte")
    page.fill("#id_r-0_value", "50")
    expect(page.locator("#preview-count")).to_have_text("3")

    mark_stale(page, "#preview")
    redraw(page, lambda: page.click("#add-condition-r"))
    expect(page.locator("#preview[data-stale]")).to_have_count(0)
    expect(page.locator("#preview-count")).to_have_text("3")
    expect(page.locator("#preview-left-out")).to_be_visible()
    expect(page.locator("#hint-r-1")).to_contain_text("Incomplete")
    expect(page.locator("#err-r-1")).to_be_hidden()

    # A custom field starts at "equals", whatever the row said before.
    choose_field(page, "r-1", "Custom field…", "customField")
    expect(page.locator("#id_r-1_op")).to_have_value("equals")
    page.fill("#id_r-1_custom", "plan")
    page.fill("#id_r-1_value", "pro")
    expect(page.locator("#preview-count")).to_have_text("0")
    expect(page.locator("#hint-r-1")).to_be_hidden()
    expect(page.locator("#preview-left-out")).to_have_count(0)


def test_adding_a_row_puts_the_focus_on_its_field(logged_in_page: Page):
    page = logged_in_page
    page.goto(CREATE)
    redraw(page, lambda: page.click("#add-condition-r"))
    expect(page.locator("#id_r-1_field")).to_be_focused()
    page.keyboard.press("Tab")  # the keyboard goes on from the new row
    expect(page.locator("#id_r-1_op")).to_be_focused()

    redraw(page, lambda: page.click("#add-group-r"))
    expect(page.locator("#id_r-2-0_field")).to_be_focused()


def test_letters_typed_into_a_number_box_stay_and_are_explained(logged_in_page: Page):
    page = logged_in_page
    lead_scores(10, 60)

    page.goto(CREATE)
    choose_field(page, "r-0", "Lead score", "leadScore")
    page.locator("#id_r-0_value").press_sequentially("abc")
    expect(page.locator("#id_r-0_value")).to_have_value("abc")
    expect(page.locator("#err-r-0")).to_have_text(
        "Lead score needs a whole number between 0 and 100; 'abc' is not a number."
    )

    page.fill("#id_r-0_value", "")
    page.locator("#id_r-0_value").press_sequentially("7e")
    expect(page.locator("#id_r-0_value")).to_have_value("7e")
    expect(page.locator("#err-r-0")).to_contain_text("'7e' is not a number")

    page.fill("#id_r-0_value", "60")
    expect(page.locator("#preview-count")).to_have_text("1")
    expect(page.locator("#err-r-0")).to_have_text("")


def test_a_form_too_large_to_read_says_so_in_the_preview(logged_in_page: Page, settings):
    # At most 16 rule fields (16 per condition allowed): the third row takes the form past it.
    settings.SEGMENT_MAX_CONDITIONS = 1
    page = logged_in_page
    page.goto(CREATE)
    redraw(page, lambda: page.click("#add-condition-r"))
    redraw(page, lambda: page.click("#add-condition-r"))
    page.fill("#id_r-2_value", "acme")
    expect(page.locator("#preview-refused")).to_contain_text(
        "This form has 17 rule fields; the builder reads at most 16"
    )
    expect(page.locator("#node-r-2")).to_be_visible()  # what is on screen stays
    expect(page.locator("#id_r-2_value")).to_have_value("acme")


FITS = """() => {
  const table = document.querySelector("#preview-sample");
  const card = document.querySelector("#preview").getBoundingClientRect();
  const inside = (el) => {
    const box = el.getBoundingClientRect();
    return box.left >= card.left - 0.5 && box.right <= card.right + 0.5;
  };
  return {
    table: table.scrollWidth,
    room: table.parentElement.clientWidth,
    cells: [...table.querySelectorAll("th, td")].every(inside),
    page: document.documentElement.scrollWidth,
    screen: window.innerWidth,
  };
}"""


@pytest.mark.parametrize("viewport", [(1366, 800), (390, 844)], ids=["1366", "390"])
def test_the_preview_sample_fits_and_flags_unsubscribed_contacts(
    logged_in_page: Page, browser_user, viewport
):
    page = logged_in_page
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    long_ago = timezone.now() - dt.timedelta(days=400)
    for n in range(8):
        ContactFactory(
            email=f"maximilian.oberhausen-lindqvist.{n}@subsidiary.example-holdings.com",
            first_name="Maximilian",
            last_name="Oberhausen-Lindqvist",
            company="International Widgets and Holdings Incorporated",
            lead_score=90,
            last_interacted_at=long_ago,
        )
    ContactFactory(email="gone@example.com", is_unsubscribed=True, lead_score=95)  # the newest
    segment = services.segment_create(
        name="High", filter_json=[{"field": "leadScore", "op": "gte", "value": 70}],
        user=browser_user,
    )  # fmt: skip

    page.goto(f"/contacts/segments/{segment.pk}/")
    rows = page.locator("#preview-sample tbody tr")
    expect(rows).to_have_count(9)
    expect(rows.first).to_contain_text("gone@example.com")
    expect(rows.first.locator(".badge")).to_have_text("Unsubscribed")
    expect(rows.nth(1).locator(".badge")).to_have_text("Active")
    fits = page.evaluate(FITS)
    assert fits["table"] <= fits["room"], fits
    assert fits["cells"], fits
    assert fits["page"] <= fits["screen"], fits
