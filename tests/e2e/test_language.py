"""Switching the UI language with the navbar buttons (Django's set_language view)."""

import os

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, login

pytestmark = pytest.mark.e2e

# The Chinese catalog is written separately; English is the source text and always works.
ZH_CATALOG = os.path.join(settings.BASE_DIR, "locale", "zh_Hans", "LC_MESSAGES", "django.mo")
SIGN_OUT = "form[action='/accounts/logout/'] button[type=submit]"


def test_default_language_is_simplified_chinese(page, live_server, demo_data, browser_errors):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # Only the other language is offered.  (Its label is not asserted: Django's
    # {% get_available_languages %} translates the names, so it reads 英语 here.)
    expect(page.locator("[data-testid=language-en]")).to_have_attribute("value", "en")
    expect(page.locator("[data-testid=language-zh-hans]")).to_have_count(0)

    login(page, live_server, "counter", DEMO_PASSWORD)
    expect(page.locator("[data-testid=home-heading]")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    if os.path.exists(ZH_CATALOG):
        expect(page.locator(SIGN_OUT)).not_to_have_text("Sign out")
        expect(page.get_by_text("Sign out")).to_have_count(0)
    assert browser_errors == []


def test_switch_to_english_and_back(page, live_server, demo_data, browser_errors):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # On the login page, before signing in.
    page.click("[data-testid=language-en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator("h1")).to_have_text("Sign in to labqms")
    expect(page.locator("form[action='/accounts/login/'] button[type=submit]")).to_have_text(
        "Sign in"
    )
    expect(page.locator("[data-testid=language-zh-hans]")).to_have_text("简体中文")
    expect(page.locator("[data-testid=language-en]")).to_have_count(0)

    # The choice is remembered (cookie) through signing in.
    login(page, live_server, "counter", DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("[data-testid=home-heading]")).to_have_text("Welcome, 陈静")
    expect(page.locator(SIGN_OUT)).to_have_text("Sign out")
    expect(page.locator("[data-testid=role-badge]")).to_have_text(["Counter staff"])
    # People is an entry of the Administration dropdown (closed: its text is still there).
    expect(page.locator("nav a[href='/people/']")).to_have_text("People")

    # Back to Chinese from the home page: same page, Chinese again.
    page.click("[data-testid=language-zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("[data-testid=home-heading]")).to_contain_text("陈静")
    expect(page.locator("[data-testid=language-en]")).to_be_visible()
    expect(page.locator("[data-testid=language-zh-hans]")).to_have_count(0)
    if os.path.exists(ZH_CATALOG):
        expect(page.locator(SIGN_OUT)).not_to_have_text("Sign out")
        expect(page.get_by_text("Sign out")).to_have_count(0)

    # Signing out keeps the language, too.
    page.click(SIGN_OUT)
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-testid=current-user]")).to_have_count(0)
    assert browser_errors == []


def test_browser_language_without_a_catalog_falls_back_to_chinese(browser, live_server):
    """A browser asking for a language the site lacks gets LANGUAGE_CODE (zh-hans).

    (Accept-Language does count: an en-US browser gets English on its first visit.)
    """
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("[data-testid=language-en]")).to_be_visible()
    finally:
        context.close()
