"""Customer pages, instrument categories with the authorised scope, and the public
turnaround page (issue 3 items 1, 2 and 13; R-INT-2, R-INT-5, R-INT-9)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import AuthorisedScope, Contact, Customer, InstrumentCategory, Service
from labqms.models import AuditEvent
from tests.intake.conftest import line

pytestmark = pytest.mark.django_db

NEW_CUSTOMER = {
    "name": "市第一人民医院(本部)",
    "short_name": "一院本部",
    "credit_code": "",
    "address": "人民路 1 号",
    "department": "医学工程部",
    "phone": "025-88880000",
    "email": "",
    "note": "",
}


def _events(action):
    return AuditEvent.objects.filter(action=action)


# --- customer list ------------------------------------------------------------------------


def test_list_finds_a_customer_by_a_contacts_phone(client, technician, hospital, other_hospital):
    """Search by any field, including the contacts' (issue 3 item 1)."""
    client.force_login(technician)
    response = client.get(reverse("intake:customer_list"), {"q": "13800000001"})
    assert list(response.context["page"]) == [hospital]


def test_list_finds_a_customer_by_credit_code_once_even_with_many_contacts(client, technician, hospital):
    hospital.credit_code = "12320100466000123X"
    hospital.save()
    Contact.objects.create(customer=hospital, name="第二联系人", phone="13800000009")
    client.force_login(technician)
    response = client.get(reverse("intake:customer_list"), {"q": "466000123"})
    assert list(response.context["page"]) == [hospital]
    response = client.get(reverse("intake:customer_list"), {"q": "1380000000"})  # both contacts
    assert list(response.context["page"]) == [hospital]


def test_list_hides_archived_customers_unless_asked(client, technician, hospital, other_hospital):
    other_hospital.is_active = False
    other_hospital.save()
    client.force_login(technician)
    url = reverse("intake:customer_list")
    assert list(client.get(url).context["page"]) == [hospital]
    assert list(client.get(url, {"status": "archived"}).context["page"]) == [other_hospital]
    assert len(client.get(url, {"status": "all"}).context["page"]) == 2


def test_list_sorts_newest_first(client, technician, hospital, other_hospital):
    client.force_login(technician)
    response = client.get(reverse("intake:customer_list"), {"sort": "newest"})
    assert list(response.context["page"]) == [other_hospital, hospital]


def test_new_customer_button_only_for_who_may_receive_orders(client, technician, clerk):
    client.force_login(technician)
    assert 'data-testid="customer-create"' not in client.get(reverse("intake:customer_list")).content.decode()
    client.force_login(clerk)
    assert 'data-testid="customer-create"' in client.get(reverse("intake:customer_list")).content.decode()


def _bulk_customers(n):
    customers = Customer.objects.bulk_create(
        Customer(name=f"医院{i:03d}", department="设备科", phone=f"0251000{i:04d}") for i in range(n)
    )
    Contact.objects.bulk_create(
        Contact(customer=c, name=f"联系人{k}", phone=f"139{c.pk:04d}{k:04d}") for c in customers for k in range(2)
    )


@pytest.mark.parametrize("rows", [25, 100])
def test_list_query_count_does_not_grow_with_rows(client, clerk, rows, django_assert_max_num_queries):
    """Lists: the number of queries per page is constant (issue 3 item 12): a page of
    3 rows and a full page of 25 (of 25 or 100) cost the same."""
    client.force_login(clerk)
    url = reverse("intake:customer_list")
    _bulk_customers(3)
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"q": "医院"})
    _bulk_customers(rows - 3)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url, {"q": "医院"})
    assert len(response.context["page"]) == 25
    assert response.context["page"].paginator.count == rows


# --- create / edit ------------------------------------------------------------------------


def test_near_duplicate_warns_first_and_keeps_what_was_typed(client, clerk, hospital):
    """A near-duplicate organisation name warns before a second one is created (item 1)."""
    client.force_login(clerk)
    url = reverse("intake:customer_create")
    response = client.post(url, {**NEW_CUSTOMER, "contact_name": "张三", "contact_phone": "13700000000"})
    assert response.status_code == 200
    assert Customer.objects.count() == 1
    html = response.content.decode()
    assert reverse("intake:customer_detail", args=[hospital.pk]) in html
    assert 'data-testid="allow-similar"' in html
    for typed in ("人民路 1 号", "医学工程部", "025-88880000", "张三", "13700000000"):
        assert typed in html
    assert [c.pk for c in response.context["similar"]] == [hospital.pk]

    response = client.post(
        url, {**NEW_CUSTOMER, "contact_name": "张三", "contact_phone": "13700000000", "allow_similar": "on"}
    )
    created = Customer.objects.get(name=NEW_CUSTOMER["name"])
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:customer_detail", args=[created.pk])
    assert created.created_by == clerk
    assert list(created.contacts.values_list("name", "phone")) == [("张三", "13700000000")]
    assert _events("customer.created").filter(target_id=str(created.pk)).exists()


def test_a_refused_first_contact_creates_nothing(client, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("intake:customer_create"), {**NEW_CUSTOMER, "name": "省肿瘤医院", "contact_name": "李四"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contact_phone"]
    assert not Customer.objects.exists()
    assert not _events("customer.created").exists()


def test_bad_credit_code_is_a_field_error(client, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("intake:customer_create"), {**NEW_CUSTOMER, "name": "省肿瘤医院", "credit_code": "12345"}
    )
    assert response.context["form"].errors["credit_code"]
    assert not Customer.objects.exists()


def test_edit_records_old_and_new_values(client, clerk, hospital):
    client.force_login(clerk)
    data = {**NEW_CUSTOMER, "name": hospital.name, "department": "设备处"}
    response = client.post(reverse("intake:customer_edit", args=[hospital.pk]), data)
    assert response.status_code == 302
    hospital.refresh_from_db()
    assert hospital.department == "设备处"
    event = _events("customer.updated").get()
    assert event.changes["department"] == ["设备科", "设备处"]


def test_technician_may_look_but_not_create(client, technician, hospital):
    client.force_login(technician)
    assert client.get(reverse("intake:customer_list")).status_code == 200
    assert client.get(reverse("intake:customer_detail", args=[hospital.pk])).status_code == 200
    assert client.get(reverse("intake:customer_create")).status_code == 404
    assert client.post(reverse("intake:customer_create"), NEW_CUSTOMER).status_code == 404
    assert client.get(reverse("intake:customer_edit", args=[hospital.pk])).status_code == 404
    assert Customer.objects.count() == 1


def test_contact_add_refused_for_technician_with_a_message(client, technician, hospital):
    client.force_login(technician)
    response = client.post(
        reverse("intake:contact_add", args=[hospital.pk]), {"name": "王五", "phone": "1"}, follow=True
    )
    assert hospital.contacts.count() == 1
    assert list(response.context["messages"])


def test_contact_add(client, clerk, hospital):
    client.force_login(clerk)
    url = reverse("intake:contact_add", args=[hospital.pk])
    response = client.post(url, {"name": "王五", "phone": "", "email": ""})
    assert response.status_code == 200 and response.context["contact_form"].errors["phone"]
    assert "王五" in response.content.decode()
    response = client.post(url, {"name": "王五", "phone": "13600000000"})
    assert response.status_code == 302
    assert hospital.contacts.filter(name="王五").exists()
    assert _events("customer.contact_added").exists()


def test_detail_shows_contacts_orders_accounts_and_audit_trail(
    client, technician, clerk, hospital, portal_user, categories, make_order
):
    order = make_order([line(categories["bp"], "BP-9")], stage="draft")
    client.force_login(clerk)
    client.post(reverse("intake:contact_add", args=[hospital.pk]), {"name": "王五", "phone": "13600000000"})
    client.force_login(technician)
    response = client.get(reverse("intake:customer_detail", args=[hospital.pk]))
    html = response.content.decode()
    assert "刘洋" in html and "王五" in html
    assert reverse("intake:order_detail", args=[order.pk]) in html and order.number in html
    assert portal_user.username in html
    assert 'data-testid="audit-row"' in html
    assert 'data-testid="contact-add"' not in html  # technician has no add-contact form


# --- outsiders ----------------------------------------------------------------------------


@pytest.fixture
def staff_urls(hospital, categories):
    scope = categories["bp"].scopes.get()
    return [
        ("get", reverse("intake:customer_list")),
        ("get", reverse("intake:customer_create")),
        ("get", reverse("intake:customer_detail", args=[hospital.pk])),
        ("get", reverse("intake:customer_edit", args=[hospital.pk])),
        ("post", reverse("intake:contact_add", args=[hospital.pk])),
        ("get", reverse("intake:category_list")),
        ("get", reverse("intake:category_create")),
        ("get", reverse("intake:category_edit", args=[categories["bp"].pk])),
        ("get", reverse("intake:scope_add", args=[categories["bp"].pk])),
        ("post", reverse("intake:scope_end", args=[scope.pk])),
    ]


def test_customer_role_gets_404_on_every_staff_page(client, portal_user, staff_urls):
    """R-INT-9: customers learn nothing about other customers, not even that pages exist."""
    client.force_login(portal_user)
    for method, url in staff_urls:
        assert getattr(client, method)(url).status_code == 404, url


def test_anonymous_is_sent_to_sign_in(client, staff_urls):
    for method, url in staff_urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and reverse("login") in response["Location"], url


# --- categories and the authorised scope ---------------------------------------------------


CATEGORY = {
    "code": "ECG",
    "name_zh": "心电图机",
    "name_en": "Electrocardiograph",
    "compulsory": "on",
    "catalogue_entry": "心、脑电图仪",
    "default_service": Service.VERIFICATION,
    "method_code": "JJG 543-2008",
    "method_title": "心电图机",
    "verification_period_months": "12",
    "turnaround_days": "5",
    "standard_fee": "120",
    "is_active": "on",
}


def test_category_list_for_all_staff_buttons_for_catalogue_keepers(client, technician, techlead, categories):
    client.force_login(technician)
    response = client.get(reverse("intake:category_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="category-row"') == 3
    assert "(苏)法计(2024)1号" in html
    assert 'data-testid="category-create"' not in html and 'data-testid="scope-end"' not in html
    client.force_login(techlead)
    html = client.get(reverse("intake:category_list")).content.decode()
    assert 'data-testid="category-create"' in html and 'data-testid="scope-end"' in html


def test_techlead_creates_and_edits_a_category_with_audit(client, techlead):
    client.force_login(techlead)
    response = client.post(reverse("intake:category_create"), CATEGORY)
    assert response.status_code == 302, response.context["form"].errors
    category = InstrumentCategory.objects.get(code="ECG")
    assert category.standard_fee == Decimal("120.00") and category.compulsory
    assert _events("category.created").filter(target_id=str(category.pk)).exists()

    response = client.post(reverse("intake:category_edit", args=[category.pk]), {**CATEGORY, "turnaround_days": "7"})
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.turnaround_days == 7
    # Only what changed is recorded: the fee typed as "120" is the stored 120.00.
    assert _events("category.updated").get().changes == {"turnaround_days": [5, 7]}


def test_compulsory_category_must_default_to_verification(client, techlead):
    """R-INT-2: instruments under compulsory verification are verified."""
    client.force_login(techlead)
    response = client.post(
        reverse("intake:category_create"), {**CATEGORY, "default_service": Service.CALIBRATION}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["default_service"]
    assert "JJG 543-2008" in response.content.decode()
    assert not InstrumentCategory.objects.exists()


def test_counter_gets_404_on_category_pages(client, counter, categories):
    client.force_login(counter)
    assert client.get(reverse("intake:category_list")).status_code == 200
    assert client.get(reverse("intake:category_create")).status_code == 404
    assert client.post(reverse("intake:category_create"), CATEGORY).status_code == 404
    assert client.get(reverse("intake:scope_add", args=[categories["ct"].pk])).status_code == 404
    assert not InstrumentCategory.objects.filter(code="ECG").exists()


def test_scope_add_and_end(client, techlead, categories):
    """R-INT-2: the authorised scope is granted and ended with the certificate and reason."""
    ct = categories["ct"]
    client.force_login(techlead)
    response = client.post(
        reverse("intake:scope_add", args=[ct.pk]),
        {"service": Service.VERIFICATION, "certificate_no": "(苏)法计(2026)9号", "valid_from": "2026-01-01", "valid_until": ""},
    )
    assert response.status_code == 302
    scope = ct.scopes.get()
    assert scope.certificate_no == "(苏)法计(2026)9号" and scope.valid_until is None
    assert _events("scope.granted").filter(target_id=str(scope.pk)).exists()

    url = reverse("intake:scope_end", args=[scope.pk])
    response = client.post(url, {"last_day": "2026-06-30", "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    scope.refresh_from_db()
    assert scope.valid_until is None

    response = client.post(url, {"last_day": "2026-06-30", "reason": "授权证书被撤销"})
    assert response.status_code == 302
    scope.refresh_from_db()
    assert scope.valid_until == dt.date(2026, 6, 30)
    assert _events("scope.ended").get().reason == "授权证书被撤销"


def test_scope_end_before_start_is_refused(client, techlead, categories):
    scope = categories["bp"].scopes.get()
    client.force_login(techlead)
    response = client.post(reverse("intake:scope_end", args=[scope.pk]), {"last_day": "2020-01-01", "reason": "x"})
    assert response.status_code == 200 and response.context["form"].errors["last_day"]
    scope.refresh_from_db()
    assert scope.valid_until == dt.date(2030, 12, 31)


def test_scope_add_refuses_end_before_start(client, techlead, categories):
    client.force_login(techlead)
    response = client.post(
        reverse("intake:scope_add", args=[categories["ct"].pk]),
        {"service": Service.VERIFICATION, "certificate_no": "X", "valid_from": "2026-01-01", "valid_until": "2025-01-01"},
    )
    assert response.status_code == 200 and response.context["form"].errors["valid_until"]
    assert not categories["ct"].scopes.exists()


# --- public turnaround page ------------------------------------------------------------------


def test_turnaround_is_public_and_lists_only_what_is_in_scope_today(client, categories, django_assert_max_num_queries):
    """R-INT-5: turnaround limits are published; only authorised services are offered."""
    pump = categories["pump"]
    AuthorisedScope.objects.create(
        category=pump, service=Service.TESTING, certificate_no="old", valid_from=dt.date(2020, 1, 1),
        valid_until=timezone.localdate() - dt.timedelta(days=1),
    )
    with django_assert_max_num_queries(2):
        response = client.get(reverse("intake:turnaround"))
    assert response.status_code == 200
    rows = {row["category"].code: [code for code, _ in row["services"]] for row in response.context["rows"]}
    assert rows == {"BP": [Service.VERIFICATION], "PUMP": [Service.CALIBRATION]}
    html = response.content.decode()
    assert "CT机" not in html and "血压计" in html


def test_turnaround_page_explains_working_days(client, categories, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("intake:turnaround")).content.decode()
    assert "weekends and public holidays" in html and "accepted" in html


def test_turnaround_hides_categories_not_in_use(client, categories):
    InstrumentCategory.objects.filter(code="BP").update(is_active=False)
    response = client.get(reverse("intake:turnaround"))
    assert [row["category"].code for row in response.context["rows"]] == ["PUMP"]


# --- admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client_for_head(client, make_user):
    from labqms.models import Role

    client.force_login(make_user(Role.LAB_HEAD, username="head_admin", is_staff=True, is_superuser=True))
    return client


def test_admin_lists_every_intake_model_and_keeps_workflow_rows_read_only(
    admin_client_for_head, hospital, categories, make_order, location
):
    from django.contrib import admin

    from intake.models import Order

    make_order([line(categories["bp"], "BP-77")])
    client = admin_client_for_head
    registered = [m for m in admin.site._registry if m._meta.app_label == "intake"]
    assert len(registered) >= 17
    for model in registered:
        url = reverse(f"admin:intake_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
    order = Order.objects.get()
    assert client.get(reverse("admin:intake_order_add")).status_code == 403
    assert client.get(reverse("admin:intake_order_change", args=[order.pk])).status_code == 200  # view only
    assert client.post(reverse("admin:intake_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:intake_customer_change", args=[hospital.pk])).status_code == 200
    assert client.get(reverse("admin:intake_customeraccount_add")).status_code == 200


def test_admin_creates_portal_accounts_only_for_customer_users(admin_client_for_head, make_user, hospital, other_hospital):
    """R-INT-9: the lab head links a customer user to its organisation."""
    from intake.models import CustomerAccount
    from labqms.models import Role

    url = reverse("admin:intake_customeraccount_add")
    staff = make_user(Role.TECHNICIAN, username="not_a_customer")
    response = admin_client_for_head.post(url, {"user": staff.pk, "customer": hospital.pk})
    assert response.status_code == 200 and not CustomerAccount.objects.exists()
    portal = make_user(Role.CUSTOMER, username="h2_portal")
    wrong_contact = hospital.contacts.first()
    response = admin_client_for_head.post(
        url, {"user": portal.pk, "customer": other_hospital.pk, "contact": wrong_contact.pk}
    )
    assert response.status_code == 200 and not CustomerAccount.objects.exists()
    response = admin_client_for_head.post(url, {"user": portal.pk, "customer": hospital.pk, "contact": wrong_contact.pk})
    assert response.status_code == 302
    assert CustomerAccount.objects.get().customer == hospital
