"""Excel export and rows per page on every intake staff list (R-MGT-4: "Excel export of
every statistic and list"; R-INT-9: customers never get staff rows).

Each list answers ``?format=xlsx`` with the rows its filters select on all pages, in its
order; the queries of the export and of a page do not grow with the rows."""

import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Customer, OnlineRequest, Order, OrderStatus, RequestStatus, SampleStatus
from tests.intake.conftest import line
from tests.labqms.test_export import (
    assert_export_is_the_list,
    assert_header_translated,
    assert_paging_and_export_queries_are_constant,
    column,
    english,
    get_xlsx,
    rows_of,
)

_serial = itertools.count(1)


@pytest.fixture
def staff(client, clerk):
    client.force_login(clerk)
    return english(client)


@pytest.fixture
def orders(make_order, categories):
    """``orders(n, stage=…)``: n one-line orders."""

    def make(n, stage="accepted", **kwargs):
        return [make_order([line(categories["bp"], f"X{next(_serial)}")], stage=stage, **kwargs) for _ in range(n)]

    return make


def _ready(orders_made):
    for order in orders_made:
        order.samples.update(status=SampleStatus.READY)


def _due_today(orders_made):
    Order.objects.filter(pk__in=[o.pk for o in orders_made]).update(due_date=timezone.localdate())


# --- the export holds the filtered list -----------------------------------------------------


@pytest.mark.django_db
def test_order_export_is_the_filtered_list_R_MGT_4(staff, orders):
    orders(2, stage="draft")
    accepted = orders(3)
    url = reverse("intake:order_list")
    shown = assert_export_is_the_list(staff, url, {"status": OrderStatus.ACCEPTED}, lambda o: o.number, "Order number")
    assert sorted(shown) == sorted(o.number for o in accepted)
    assert len(rows_of(get_xlsx(staff, url))[1]) == 5
    header, rows = rows_of(get_xlsx(staff, url, {"status": OrderStatus.ACCEPTED}))
    row = dict(zip(header, rows[0], strict=True))
    assert row["Status"] == "Accepted" and row["Lines"] == 1 and row["Customer"] == "市第一人民医院"


@pytest.mark.django_db
def test_sample_export_is_the_filtered_list_R_MGT_4(staff, make_order, categories, clerk, location):
    from intake.services import samples as sample_services

    order = make_order([line(categories["pump"], "A1, A2, A3, A4", quantity=4)])
    for sample in order.samples.order_by("unit_no")[:2]:
        sample_services.receive_sample(actor=clerk, sample=sample, location=location)
    url = reverse("intake:sample_list")
    shown = assert_export_is_the_list(staff, url, {"status": SampleStatus.STORED}, lambda s: s.sample_id, "Sample ID")
    assert len(shown) == 2
    assert_export_is_the_list(staff, url, {"sort": "-id"}, lambda s: s.sample_id, "Sample ID")


@pytest.mark.django_db
def test_ready_queue_export_is_the_queue_R_MGT_4(staff, orders):
    ready = orders(3)
    orders(2)  # accepted, nothing ready: not in the queue
    _ready(ready)
    url = reverse("intake:ready_queue")
    shown = assert_export_is_the_list(staff, url, {}, lambda o: o.number, "Order")
    assert sorted(shown) == sorted(o.number for o in ready)
    assert column(get_xlsx(staff, url), "Ready") == [1, 1, 1]


@pytest.mark.django_db
def test_at_risk_export_is_the_queue_R_MGT_4(staff, orders):
    late = orders(3)
    orders(2)  # due later
    _due_today(late)
    url = reverse("intake:at_risk_queue")
    shown = assert_export_is_the_list(staff, url, {}, lambda o: o.number, "Order")
    assert sorted(shown) == sorted(o.number for o in late)
    assert column(get_xlsx(staff, url), "Working days left") == [0, 0, 0]


@pytest.mark.django_db
def test_customer_export_is_the_filtered_list_R_MGT_4(staff, hospital, other_hospital):
    Customer.objects.create(name="县医院", is_active=False)
    url = reverse("intake:customer_list")
    assert assert_export_is_the_list(staff, url, {"q": "人民"}, lambda c: c.name, "Organisation") == [
        "市第一人民医院", "市第二人民医院",
    ]
    assert assert_export_is_the_list(staff, url, {"status": "archived"}, lambda c: c.name, "Organisation") == ["县医院"]
    assert column(get_xlsx(staff, url, {"q": "第一"}), "Contacts") == ["刘洋 13800000001"]


@pytest.mark.django_db
def test_online_request_export_is_the_filtered_list_R_MGT_4(staff, hospital, portal_user):
    for status in (RequestStatus.SUBMITTED, RequestStatus.SUBMITTED, RequestStatus.DECLINED):
        OnlineRequest.objects.create(
            customer=hospital, submitted_by=portal_user, contact_name="刘洋", contact_phone="138", status=status
        )
    url = reverse("intake:request_list")
    assert len(assert_export_is_the_list(staff, url, {}, lambda r: r.pk, "#")) == 2  # submitted by default
    assert len(assert_export_is_the_list(staff, url, {"status": RequestStatus.DECLINED}, lambda r: r.pk, "#")) == 1


# --- language, permissions ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_header_is_in_the_active_language(client, clerk, orders):
    orders(1)
    client.force_login(clerk)
    url = reverse("intake:order_list")
    assert_header_translated(client, url, 0, "Order number")


LISTS = [
    "intake:order_list", "intake:sample_list", "intake:ready_queue", "intake:at_risk_queue",
    "intake:customer_list", "intake:request_list",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", LISTS)
def test_outsiders_get_the_same_answer_for_the_export_as_for_the_list(client, name, portal_user, orders):
    """R-INT-9: a customer gets 404 on the list and on its export; anonymous visitors
    are sent to sign in."""
    orders(1)
    url = reverse(name)
    assert get_xlsx(client, url).status_code == 302
    client.force_login(portal_user)
    assert client.get(url).status_code == 404
    assert get_xlsx(client, url).status_code == 404


# --- constant queries, rows per page -------------------------------------------------------


@pytest.mark.django_db
def test_order_list_queries_R_MGT_4(staff, orders):
    url = reverse("intake:order_list")
    assert_paging_and_export_queries_are_constant(staff, url, lambda n: orders(n))


@pytest.mark.django_db
def test_sample_list_queries_R_MGT_4(staff, make_order, categories):
    url = reverse("intake:sample_list")

    def add(n):
        serials = ", ".join(f"Q{next(_serial)}" for _ in range(n))
        make_order([line(categories["pump"], serials, quantity=n)])

    assert_paging_and_export_queries_are_constant(staff, url, add)


@pytest.mark.django_db
def test_ready_queue_queries_R_MGT_4(staff, orders, clerk):
    from intake.services import orders as order_services

    def add(n):
        made = orders(n)
        _ready(made)
        for order in made[::2]:
            order_services.record_payment(actor=clerk, order=order, amount="10", method="cash", receipt_no=f"R-{order.pk}")

    assert_paging_and_export_queries_are_constant(staff, reverse("intake:ready_queue"), add)


@pytest.mark.django_db
def test_at_risk_queue_queries_R_MGT_4(staff, orders):
    assert_paging_and_export_queries_are_constant(
        staff, reverse("intake:at_risk_queue"), lambda n: _due_today(orders(n))
    )


@pytest.mark.django_db
def test_customer_list_queries_R_MGT_4(staff):
    def add(n):
        for _ in range(n):
            customer = Customer.objects.create(name=f"客户{next(_serial)}")
            customer.contacts.create(name="联系人", phone="1")

    assert_paging_and_export_queries_are_constant(staff, reverse("intake:customer_list"), add)


@pytest.mark.django_db
def test_online_request_list_queries_R_MGT_4(staff, hospital, portal_user):
    def add(n):
        OnlineRequest.objects.bulk_create(
            OnlineRequest(customer=hospital, submitted_by=portal_user, contact_name=f"甲{i}", contact_phone="1")
            for i in range(n)
        )

    assert_paging_and_export_queries_are_constant(staff, reverse("intake:request_list"), add)
