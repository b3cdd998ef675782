"""Playwright fixtures for browser tests (Debian's Chromium, never a downloaded one).

tests/conftest.py imports the fixtures, so every test module has them (each is
registered under its `name=`: `chromium`, `page`, `browser_user`, `logged_in_page`).
A module imports only the helpers it uses (`off_screen`, `sideways_scroll`, …).

`page` opens a fresh browser context against pytest-django's `live_server`
(which brings `transactional_db`: the server thread sees what the test creates).
When the test fails, its teardown saves `test-artifacts/<test name>.png`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "browser-test-password-1"

expect.set_options(timeout=5_000)


@pytest.fixture(scope="module", name="chromium")
def chromium_fixture(django_db_setup) -> Iterator[Browser]:
    """One headless Chromium per test module.

    While Playwright's sync API runs, its event loop is registered as running in
    this thread, and Django refuses ORM calls there (SynchronousOnlyOperation):
    the factories and database assertions of the tests are plain synchronous
    code, so allow them, for this module only. Depending on django_db_setup
    makes the test database outlive the browser, so its teardown is unaffected.
    """
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as playwright:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(name="page")
def page_fixture(request, chromium: Browser, live_server, transactional_db) -> Iterator[Page]:
    """A new page on the live server; screenshots itself when the test fails."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(5_000)
    page = context.new_page()
    # The builder warns before leaving with unsaved changes (beforeunload): leave anyway.
    page.on("dialog", lambda dialog: dialog.accept())
    failed_before = request.session.testsfailed
    try:
        yield page
    finally:
        # Session.testsfailed counts failed setup/call reports, which pytest logs
        # before this teardown runs: a rise means this test just failed.
        if request.session.testsfailed > failed_before:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except Exception as exc:  # a screenshot must not hide the failure
                print(f"could not save a screenshot: {exc}")
        context.close()


@pytest.fixture(name="browser_user")
def browser_user_fixture(django_user_model, settings):
    # A fast hasher: the real one costs a second per test between sign-up and login.
    # (`settings` changes are global, so the live server's thread sees it too.)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_user("marketer", "marketer@example.com", PASSWORD)


@pytest.fixture(name="logged_in_page")
def logged_in_page_fixture(page: Page, browser_user) -> Page:
    """`page`, signed in through the real login form."""
    page.goto("/login/")
    page.fill("#id_username", browser_user.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login/"))
    expect(page.locator(".userbox")).to_contain_text(browser_user.get_username())
    return page


# An element's box must lie within the viewport's width and within every ancestor that
# clips it (a box that scrolls sideways hides what is past its edge).
OFF_SCREEN_JS = """elements => elements.map(el => {
  const box = el.getBoundingClientRect();
  let left = 0, right = document.documentElement.clientWidth;
  for (let a = el.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX === 'visible') continue;
    const edge = a.getBoundingClientRect().left + a.clientLeft;
    left = Math.max(left, edge);
    right = Math.min(right, edge + a.clientWidth);
  }
  const fits = box.width > 0 && box.left >= left - 0.5 && box.right <= right + 0.5;
  const text = el.textContent.trim().slice(0, 40);
  return fits ? '' : `${text}: ${box.left}..${box.right} not in ${left}..${right}`;
}).filter(Boolean)"""


def off_screen(locator: Locator) -> list[str]:
    """What of `locator`'s elements is cut off or off screen (sideways)."""
    return locator.evaluate_all(OFF_SCREEN_JS)


def sideways_scroll(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - innerWidth")
