"""scripts/locustfile.py, the load run of ``make bench`` (issue 9, 4d): every page its
journeys visit is the Django URL it names, the links it follows are the ones the pages
render, the demo accounts it signs in with exist, and the forms it fills in are accepted
by the real views (R-INT-1: a draft order with one line; an online request)."""

import importlib.util
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import resolve, reverse

from intake.models import OnlineRequest, Order, OrderStatus
from labqms.management.commands.seed_demo import USERS
from tests.intake.conftest import categories, clerk, hospital, portal_user  # noqa: F401

LOCUSTFILE = Path(settings.BASE_DIR) / "scripts" / "locustfile.py"


@pytest.fixture(scope="module")
def locustfile():
    # Locust patches the standard library for gevent on import; the test process must not.
    os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")
    spec = importlib.util.spec_from_file_location("labqms_locustfile", LOCUSTFILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_route_is_the_django_url_of_its_name(locustfile):
    for name, route in locustfile.ROUTES.items():
        kwargs = {"pk": 7} if "{pk}" in route else {}
        assert locustfile.path(name, 7) == reverse(name, kwargs=kwargs), name
        assert resolve(locustfile.path(name, 7)).view_name == name


def test_journeys_only_visit_named_routes_and_every_route_is_visited(locustfile):
    source = LOCUSTFILE.read_text(encoding="utf-8")
    used = set(re.findall(r'self\.(?:get|post)\(\s*"([^"]+)"', source))
    used |= set(re.findall(r'(?:pk_in|ids_in)\([^)]*?"([a-z_]+:[a-z_]+)"', source))
    assert used, "no journey found"
    assert used <= set(locustfile.ROUTES), used - set(locustfile.ROUTES)
    assert set(locustfile.ROUTES) <= used, set(locustfile.ROUTES) - used


@pytest.mark.parametrize(
    "name", ["intake:order_detail", "certificates:record_detail", "certificates:certificate_detail",
             "certificates:certificate_download", "complaints:complaint_detail", "portal:order_detail"],
)
def test_it_finds_ids_in_the_links_the_pages_render(locustfile, name):
    html = f'<a href="{reverse(name, args=[12])}">x</a> <a href="{reverse(name, args=[5])}" class="y">'
    assert locustfile.ids_in(html, name) == [5, 12]
    assert locustfile.pk_in(name, reverse(name, args=[31])) == 31
    assert locustfile.pk_in(name, reverse("home")) is None


def test_it_signs_in_as_the_demo_accounts_of_each_role(locustfile):
    demo = {username for username, *_rest in USERS}
    users = [cls for cls in vars(locustfile).values() if isinstance(cls, type) and issubclass(cls, locustfile.LabUser) and not cls.__dict__.get("abstract")]
    assert {cls.__name__ for cls in users} == {"CounterStaff", "Technician", "TechnicalLead", "QualityLead", "Customer", "Public"}
    for cls in users:
        assert set(cls.usernames) <= demo, cls
        assert cls.weight > 0 and cls.tasks
    assert locustfile.Public.usernames == ()


def test_it_reads_the_verification_link_of_a_certificate_page(locustfile):
    link = reverse("certificates:verify") + "?number=JD2026-000001&amp;code=AB23CD45"
    assert locustfile.VERIFY_LINK.findall(f'<a href="{link}">') == [("JD2026-000001", "AB23CD45")]


@pytest.mark.django_db
def test_r_int_1_its_draft_order_is_accepted_by_the_order_form(locustfile, clerk, hospital, categories):  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    page = client.get(locustfile.path("intake:order_create"))
    form = locustfile.parse_form(page.content.decode())
    category = locustfile._category_in_scope(form.categories)
    assert category in {categories["bp"].code, categories["pump"].code}  # ct is out of scope
    assert str(hospital.pk) in form.customers
    data = locustfile.one_line(form.form_with("customer"), category)
    data.update({"customer": str(hospital.pk), "contact": ""})
    assert "csrfmiddlewaretoken" in data and "items-1-instrument_name" not in data

    response = client.post(locustfile.path("intake:order_create"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get(pk=locustfile.pk_in("intake:order_detail", response["Location"]))
    assert order.status == OrderStatus.DRAFT and order.customer == hospital
    assert [item.instrument_name for item in order.items.all()] == [locustfile.MARK]


@pytest.mark.django_db
def test_r_int_1_its_online_request_is_accepted_by_the_portal(locustfile, portal_user, categories):  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    client.force_login(portal_user)
    page = client.get(locustfile.path("portal:request_create"))
    form = locustfile.parse_form(page.content.decode())
    data = locustfile.one_line(form.form_with("contact_name"), locustfile._category_in_scope(form.categories))
    assert data["contact_name"]  # prefilled from the account's contact

    response = client.post(locustfile.path("portal:request_create"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    online_request = OnlineRequest.objects.get(pk=locustfile.pk_in("portal:request_detail", response["Location"]))
    assert online_request.submitted_by == portal_user


@pytest.mark.django_db
def test_its_sign_in_and_mark_all_read_pass_the_csrf_check(locustfile, clerk):  # noqa: F811
    clerk.set_password("pw-load-1")
    clerk.save()
    client = Client(enforce_csrf_checks=True)
    form = locustfile.parse_form(client.get(locustfile.path("login")).content.decode())
    data = {**form.form_with("username"), "username": clerk.username, "password": "pw-load-1"}
    response = client.post(locustfile.path("login"), data)
    assert response.status_code == 302 and response["Location"] == reverse("home")

    token = client.cookies["csrftoken"].value
    response = client.post(locustfile.path("notifications:notification_read_all"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
