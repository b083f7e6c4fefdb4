"""Fixtures for the end-to-end tests: Debian's Chromium driven by Playwright (sync API).

Playwright's sync API runs an asyncio event loop in the test thread from the moment the
browser starts, so Django would refuse ORM calls made by the test itself
(SynchronousOnlyOperation).  The calls are in fact synchronous and single-threaded, so
the ``browser`` fixture switches that check off; tests/conftest.py runs the e2e tests
last, so no other test runs with the check off.
"""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium phones home at start-up, and this
# machine's closed network refuses those connections.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = "labqms-demo"
SCREENSHOT_DIR = Path("/tmp/labqms-e2e")
# How long a locator assertion waits; the live server answers locally.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_errors():
    """Console errors (CSP violations …), HTTP errors and uncaught page errors.

    Tests that expect an error status (a 404, a lockout) do not assert on this list."""
    return []


@pytest.fixture
def page(browser, browser_errors):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(msg):
        # A failed load is reported (with its URL) by on_response below.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            browser_errors.append(f"console: {msg.text}")

    def on_response(response):
        # Chromium asks for /favicon.ico by itself; the app does not declare one.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            request = response.request
            browser_errors.append(f"HTTP {response.status}: {request.method} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: browser_errors.append(f"pageerror: {exc}"))
    yield page
    context.close()


@pytest.fixture
def demo_data(transactional_db, settings):
    """The demo users of ``seed_demo`` (it refuses to run unless DEBUG is on)."""
    settings.DEBUG = True
    try:
        call_command("seed_demo", stdout=io.StringIO())
    finally:
        # The live server must answer like production (DEBUG off), as tests normally do.
        settings.DEBUG = False


def login(page: Page, live_server, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form; the caller asserts where that lands."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    # The POST always answers with a page (home, the form again, or the lockout page).
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")


def screenshot(page: Page, name: str) -> None:
    """A full-page picture in /tmp/labqms-e2e/ for people to look at (not an assertion)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=True)
