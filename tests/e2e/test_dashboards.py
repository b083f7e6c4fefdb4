"""Each demo role's dashboard in Chromium (R-MGT-4): every count links to its list, the
list shows the filter applied and the same number of entries; the grouped menu fits on
one line at 1280 px with the language switch in view."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e

# The rows of each list a dashboard count links to, by path.
ROWS = {
    "/intake/orders/": "order-row",
    "/intake/requests/": "request-row",
    "/intake/samples/": "sample-row",
    "/intake/queues/ready/": "ready-row",
    "/intake/queues/at-risk/": "at-risk-row",
    "/tasks/": "task-row",
    "/certificates/awaiting/": "queue-row",
    "/methods/": "method-row",
    "/equipment/": "equipment-row",
    "/equipment/impact/": "impact-row",
    "/complaints/": "complaint-row",
    "/audits/findings/": "finding-row",
    "/audits/actions/": "action-row",
}
PAGE_ROWS = 25


def sign_in_in_english(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("[data-testid=language-en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    login(page, live_server, username, DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")


def entries_text(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def expect_filter_shown(page, name: str, value: str) -> None:
    """The list's filter form shows ``name`` = ``value``: selected, ticked or kept."""
    control = page.locator(f"main form [name='{name}']").first
    kind = control.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
    if kind == "input:checkbox":
        expect(control).to_be_checked()
    else:
        expect(control).to_have_value(value)


@pytest.mark.parametrize("username", ["counter", "tech1", "techlead", "qualitylead", "head"])
def test_every_dashboard_count_leads_to_its_filtered_list(page, live_server, demo_data, browser_errors, username):
    sign_in_in_english(page, live_server, username)
    screenshot(page, f"dashboard-{username}.png")
    cards = page.locator("[data-testid=dashboard-queue]")
    queues = [
        (card.get_attribute("data-key"), int(card.get_attribute("data-count")), card.get_attribute("href"))
        for card in cards.all()
    ]
    assert queues or username == "head", "every demo role but the lab head has work queues"
    for key, count, href in queues:
        page.goto(f"{live_server.url}/")
        page.locator(f"[data-testid=dashboard-queue][data-key='{key}']").click()
        expect(page).to_have_url(f"{live_server.url}{href}")
        path, query = urlsplit(href).path, urlsplit(href).query
        for name, value in parse_qsl(query):
            if name != "sort":
                expect_filter_shown(page, name, value)
        expect(page.locator(f"[data-testid={ROWS[path]}]")).to_have_count(min(count, PAGE_ROWS))
        expect(page.get_by_text(entries_text(count), exact=True)).to_be_visible()

    figures = page.locator("[data-testid=dashboard-figure]")
    page.goto(f"{live_server.url}/")
    for figure in figures.all():
        key, href = figure.get_attribute("data-key"), figure.get_attribute("href")
        value = figure.locator("[data-testid=dashboard-value]").inner_text()
        count = figure.get_attribute("data-count")
        figure.click()
        expect(page).to_have_url(f"{live_server.url}{href}")
        if key == "audits.survey":
            expect(page.locator("[data-testid=analysis-responses]")).to_have_text(count)
        else:
            measure = key.rsplit(".", 1)[1]
            row = page.locator(f"[data-testid=objective-row][data-measure='{measure}']")
            expect(row.locator("[data-testid=objective-value]")).to_have_text(value)
        page.goto(f"{live_server.url}/")
    if username == "head":
        expect(figures).not_to_have_count(0)
    assert browser_errors == []


def test_the_quality_lead_menu_fits_at_1280_px_and_opens_its_dropdowns(page, live_server, demo_data, browser_errors):
    """The regrouped menu: one line at 1280 px in English, language switch in view."""
    sign_in_in_english(page, live_server, "qualitylead")
    navbar = page.locator("nav.navbar")
    assert navbar.bounding_box()["height"] < 70
    switch = page.locator("[data-testid=language-zh-hans]")
    expect(switch).to_be_visible()
    box = switch.bounding_box()
    assert box["x"] + box["width"] <= 1280
    # Each group opens and leads to its pages.
    page.get_by_role("button", name="Quality").click()
    page.locator("nav a.dropdown-item[href='/complaints/']").click()
    expect(page).to_have_url(f"{live_server.url}/complaints/")
    page.get_by_role("button", name="Quality").click()
    expect(page.locator("nav a.dropdown-item[href='/complaints/']")).to_have_class(re.compile(r"\bactive\b"))
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Administration").click()
    page.locator("nav a.dropdown-item[href='/people/']").click()
    expect(page).to_have_url(f"{live_server.url}/people/")
    screenshot(page, "nav-qualitylead.png")
    assert browser_errors == []
