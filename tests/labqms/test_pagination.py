"""labqms.pagination: the same pages as Django's paginator, with a capped count (an
estimate above the cap, on PostgreSQL) and deep pages read through their ids first."""

from unittest import mock

import pytest
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connection

from intake.models import Customer
from labqms import pagination

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    Customer.objects.bulk_create(Customer(name=f"医院 {n:03d}", department=str(n % 3)) for n in range(40))
    return Customer.objects.order_by("department", "-name", "pk")


def _pages(paginator, numbers):
    return [[c.pk for c in paginator.get_page(n).object_list] for n in numbers]


def test_pages_are_the_same_as_djangos(customers):
    with mock.patch.object(pagination, "DEFERRED_FROM", 6), mock.patch.object(pagination, "EXACT_UP_TO", 1000):
        ours = pagination.Paginator(customers, 7)
        assert ours.count == 40 and not ours.estimated
        assert _pages(ours, range(1, 8)) == _pages(DjangoPaginator(customers, 7), range(1, 8))


@pytest.mark.postgres
def test_a_count_over_the_cap_is_the_planners_estimate_and_says_so(customers):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE intake_customer")
    with mock.patch.object(pagination, "EXACT_UP_TO", 10):
        paginator = pagination.Paginator(customers, 7)
        assert paginator.count >= 10 and paginator.estimated
    exact = pagination.Paginator(customers.filter(department="1"), 7)
    assert exact.count == 13 and not exact.estimated


@pytest.mark.postgres
def test_deep_pages_read_through_their_ids_match_djangos(customers):
    with mock.patch.object(pagination, "DEFERRED_FROM", 6), mock.patch.object(pagination, "EXACT_UP_TO", 1000):
        ours = pagination.Paginator(customers, 7, orphans=2)
        assert _pages(ours, range(1, 7)) == _pages(DjangoPaginator(customers, 7, orphans=2), range(1, 7))
