"""Signing in through the real login form in Chromium, with the seed_demo users."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import translation
from playwright.sync_api import expect

from labqms.models import Role, User
from tests.e2e.conftest import DEMO_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e

# username, full name, own roles (in badge order), lead's name when acting as a deputy
DEMO_USERS = [
    ("counter", "陈静", [Role.COUNTER_STAFF], None),
    ("tech1", "赵磊", [Role.TECHNICIAN], None),
    ("tech2", "孙丽", [Role.TECHNICIAN], None),
    ("techlead", "李明", [Role.TECHNICAL_LEAD], None),
    ("qualitylead", "张华", [Role.QUALITY_LEAD], None),
    ("head", "王建国", [Role.LAB_HEAD], None),
    ("techdeputy", "周强", [Role.TECHNICIAN], "李明"),
    ("hospital1", "市第一人民医院设备科", [Role.CUSTOMER], None),
]
PEOPLE_LINK = "nav a[href='/people/']"


def open_menu_holding(page, href: str) -> None:
    """Open the navbar dropdown holding the link to ``href`` (People is under Administration)."""
    menu = page.locator("nav li.dropdown", has=page.locator(f"a[href='{href}']"))
    menu.locator("[data-bs-toggle=dropdown]").click()


def zh(text) -> str:
    """``text`` (a lazy translation) as the default UI language renders it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def deputy_badge(role, lead: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return f"{role.label} · " + translation.gettext("as deputy of %(lead)s") % {"lead": lead}


def invalid_login_message() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return AuthenticationForm.error_messages["invalid_login"] % {
            "username": User._meta.get_field("username").verbose_name
        }


@pytest.mark.parametrize(
    ("username", "full_name", "roles", "deputy_of"),
    DEMO_USERS,
    ids=[row[0] for row in DEMO_USERS],
)
def test_demo_user_signs_in_and_sees_roles(
    page, live_server, demo_data, browser_errors, username, full_name, roles, deputy_of
):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

    login(page, live_server, username, DEMO_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("[data-testid=home-heading]")).to_be_visible()
    expect(page.locator("[data-testid=home-heading]")).to_contain_text(full_name)
    expect(page.locator("[data-testid=current-user]")).to_have_text(full_name)

    expected_badges = [zh(role.label) for role in roles]
    if deputy_of:
        expected_badges.append(deputy_badge(Role.TECHNICAL_LEAD, deputy_of))
    badges = page.locator("[data-testid=home-roles] [data-testid=role-badge]")
    expect(badges).to_have_text(expected_badges)

    assert browser_errors == []

    if Role.CUSTOMER in roles:
        expect(page.locator(PEOPLE_LINK)).to_have_count(0)
        # Not hidden only from the menu: the page itself answers 404 to a customer.
        response = page.goto(f"{live_server.url}/people/")
        assert response.status == 404
    else:
        expect(page.locator(PEOPLE_LINK)).to_have_count(1)
        open_menu_holding(page, "/people/")
        expect(page.locator(PEOPLE_LINK)).to_be_visible()


def test_deputy_badge_names_the_lead(page, live_server, demo_data):
    """The deputy's extra badge is the technical lead role, held as 李明's deputy."""
    login(page, live_server, "techdeputy", DEMO_PASSWORD)
    badge = page.locator("[data-testid=home-roles] [data-testid=role-badge]").nth(1)
    expect(badge).to_contain_text(zh(Role.TECHNICAL_LEAD.label))
    expect(badge).to_contain_text("李明")
    # English is the source text: check the exact wording once, in English.
    page.click("[data-testid=language-en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(badge).to_have_text("Technical lead · as deputy of 李明")


def test_wrong_password_shows_form_error(page, live_server, demo_data):
    login(page, live_server, "tech1", "not-the-password")

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    error = page.locator("form .alert-danger")
    expect(error).to_be_visible()
    expect(error).to_contain_text(invalid_login_message())
    expect(page.locator("input[name=username]")).to_have_value("tech1")
    expect(page.locator("[data-testid=current-user]")).to_have_count(0)
    expect(page.locator("[data-testid=locked-out]")).to_have_count(0)


def test_lockout_after_five_failures(page, live_server, demo_data):
    assert settings.AXES_FAILURE_LIMIT == 5
    for attempt in range(1, 5):
        login(page, live_server, "tech2", f"wrong-{attempt}")
        expect(page.locator("form .alert-danger")).to_contain_text(invalid_login_message())
        expect(page.locator("[data-testid=locked-out]")).to_have_count(0)

    # The fifth failure reaches AXES_FAILURE_LIMIT: django-axes answers it with the lockout.
    login(page, live_server, "tech2", "wrong-5")
    expect(page.locator("[data-testid=locked-out]")).to_be_visible()

    # Locked: even the right password is refused, and nobody is signed in.
    with page.expect_response(
        lambda r: r.url.endswith("/accounts/login/") and r.request.method == "POST"
    ) as answer:
        login(page, live_server, "tech2", DEMO_PASSWORD)
    assert answer.value.status == 429  # django-axes' lockout status
    expect(page.locator("[data-testid=locked-out]")).to_be_visible()
    expect(page.locator("[data-testid=current-user]")).to_have_count(0)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))

    # The lock is for that user name only: another person signs in from the same computer.
    login(page, live_server, "tech1", DEMO_PASSWORD)
    expect(page.locator("[data-testid=current-user]")).to_have_text("赵磊")


def test_people_search_and_person_page(page, live_server, demo_data, browser_errors):
    login(page, live_server, "techlead", DEMO_PASSWORD)
    screenshot(page, "home-techlead.png")

    open_menu_holding(page, "/people/")
    page.click(PEOPLE_LINK)
    expect(page).to_have_url(f"{live_server.url}/people/")
    # Every demo staff member is listed; the customer is not.
    expect(page.locator("[data-testid=person-row]")).to_have_count(7)
    screenshot(page, "people-techlead.png")

    page.fill("[data-testid=person-search] input[name=q]", "赵磊")
    page.click("[data-testid=person-search] button.btn-primary")
    expect(page).to_have_url(re.compile(r"/people/\?.*q=%E8%B5%B5%E7%A3%8A"))
    rows = page.locator("[data-testid=person-row]")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("赵磊")
    expect(rows).to_contain_text("tech1")

    rows.get_by_role("link", name="赵磊").click()
    tech1 = User.objects.get(username="tech1")
    expect(page).to_have_url(f"{live_server.url}/people/{tech1.pk}/")
    expect(page.locator("[data-testid=person-name]")).to_have_text("赵磊")
    # seed_demo: four authorisations and one verifier certificate for tech1.
    expect(page.locator("[data-testid=authorisation-row]")).to_have_count(4)
    expect(page.locator("[data-testid=qualification-row]")).to_have_count(1)
    expect(page.locator("[data-testid=qualification-row]")).to_contain_text("YJJ-2024-")
    screenshot(page, "person-tech1.png")
    assert browser_errors == []


def test_bootstrap_css_is_served_and_applied(page, live_server, demo_data, browser_errors):
    css_status = {}
    page.on("response", lambda r: css_status.__setitem__(r.url.rsplit("/", 1)[-1], r.status))
    login(page, live_server, "techlead", DEMO_PASSWORD)
    assert css_status.get("bootstrap.min.css") == 200
    assert css_status.get("bootstrap-icons.min.css") == 200
    assert css_status.get("app.css") == 200

    navbar = page.locator("nav.navbar")
    background = navbar.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert background == "rgb(13, 110, 253)"  # Bootstrap 5's --bs-primary
    # The grid and badges are styled: a badge is an inline-block with padding.
    badge = page.locator("[data-testid=role-badge]").first
    assert badge.evaluate("el => getComputedStyle(el).display") == "inline-block"
    # Bootstrap Icons' web font is loaded for the navbar icons.
    icon_fonts = page.evaluate(
        """document.fonts.ready.then(fonts => [...fonts]
             .filter(f => f.family.replaceAll('"', '') === 'bootstrap-icons')
             .map(f => f.status))"""
    )
    assert "loaded" in icon_fonts
    assert browser_errors == []
