"""Read queries intake pages share (and later dashboards can reuse): the sample list,
the counter's queues — orders ready for release and orders at risk of missing their
due date — and the working days left on a page of orders.

Every function here issues a constant number of queries, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from intake.models import (
    Customer,
    CustomerNotice,
    Disposition,
    NoticeKind,
    Order,
    OrderItem,
    OrderStatus,
    Sample,
    SampleStatus,
)
from intake.models.samples import DONE_STATUSES
from labqms import workdays

# The counter sees orders at risk when they are due within this many working days.
AT_RISK_WORKING_DAYS = 2


def samples_for_list() -> QuerySet[Sample]:
    """Samples with what a list row shows, in one query per page."""
    return Sample.objects.select_related("order__customer", "item__category", "location")


def search_samples(samples: QuerySet[Sample], text: str) -> QuerySet[Sample]:
    """Sample ID, order number, serial number or customer name contain ``text``."""
    text = (text or "").strip()
    return samples.filter(sample_match(text)) if text else samples


def sample_match(text: str, via: str = "") -> Q:
    """The sample search as a condition, for any model that reaches a sample through
    ``via`` (e.g. ``"sample__"`` from a task or record): sample ID, serial number, order
    number, customer name or short name contain ``text``.

    Written as "the sample is one of (a union of one search per column)": each part can
    use its own index (trigram indexes on PostgreSQL, intake migration 0004), where one
    OR across joined tables makes the database read every sample of millions."""
    return Q(**{f"{via}pk__in": few_or_subquery(matching_samples(text))})


def matching_samples(text: str) -> QuerySet:
    """The ids of the samples :func:`sample_match` finds, as a subquery."""
    customers = Customer.objects.filter(Q(name__icontains=text) | Q(short_name__icontains=text)).values("pk")
    ids = Sample.objects.order_by().values_list("pk", flat=True)
    return ids.filter(sample_id__icontains=text).union(
        ids.filter(serial_number__icontains=text),
        ids.filter(order__number__icontains=text),
        ids.filter(order__customer__in=customers),
    )


# A search that finds at most this many rows hands their ids over as a list.
FEW_IDS = 5000


def few_or_subquery(ids: QuerySet):
    """``ids`` (a ``values_list("pk", flat=True)`` query) as a list when it finds few rows,
    else unchanged.  One query more, but the database then knows how few rows match: with
    only the subquery it guesses hundreds and reads the list's index from the top for a
    number that is in one row of millions."""
    found = list(ids[: FEW_IDS + 1])
    return found if len(found) <= FEW_IDS else ids


def overdue_samples(samples: QuerySet[Sample], today: dt.date) -> QuerySet[Sample]:
    """Samples of orders past their due date that still need the lab."""
    return samples.filter(order__due_date__lt=today).exclude(status__in=DONE_STATUSES)


def _settlement_prefetches() -> list:
    return [
        Prefetch(
            "items",
            queryset=OrderItem.objects.only("id", "order_id", "unit_fee", "quantity", "disposition"),
        ),
        "payments",
    ]


def attach_settlement(orders: Iterable[Order]) -> None:
    """Set ``fee``, ``paid`` and ``settled`` on orders fetched with their items and payments
    prefetched (see :func:`ready_for_release`); no query per order."""
    for order in orders:
        fee = sum(
            (i.unit_fee * i.quantity for i in order.items.all() if i.disposition != Disposition.REFUSE),
            Decimal("0"),
        )
        paid = sum((p.amount for p in order.payments.all()), Decimal("0"))
        order.fee, order.paid = fee, paid
        order.settled = order.credit_approved_at is not None or paid >= fee


def ready_for_release() -> QuerySet[Order]:
    """Orders with at least one sample ready for release (R-INT-6, R-INT-7), with
    ``n_ready`` / ``n_total`` counts, the customer, contact, items, payments and
    completion notices loaded.  Call :func:`attach_settlement` on the page shown."""
    # The orders are found through the (indexed) ready samples first: counting the samples
    # of every order and keeping those with one ready would read millions of rows.  Only
    # accepted or completed orders have ready samples; saying so lets the database use
    # the (status, due date) index instead of walking every order by due date.
    ready = Sample.objects.filter(status=SampleStatus.READY).order_by().values_list("order_id", flat=True).distinct()
    return (
        Order.objects.filter(status__in=(OrderStatus.ACCEPTED, OrderStatus.COMPLETED), pk__in=few_or_subquery(ready))
        .annotate(
            n_ready=count_of(Sample, order=OuterRef("pk"), status=SampleStatus.READY),
            n_total=count_of(Sample, order=OuterRef("pk")),
        )
        .select_related("customer", "contact")
        .prefetch_related(
            *_settlement_prefetches(),
            Prefetch(
                "notices",
                queryset=CustomerNotice.objects.filter(kind=NoticeKind.COMPLETION).order_by("-created_at"),
                to_attr="completion_notices",
            ),
        )
        .order_by("due_date", "number")
    )


def at_risk(today: dt.date) -> QuerySet[Order]:
    """Accepted orders due within two working days of ``today`` (or already overdue)
    with some sample not yet ready, released or returned; soonest due first.
    ``n_done`` / ``n_total`` count the samples."""
    horizon = workdays.add_working_days(today, AT_RISK_WORKING_DAYS)
    unfinished = Sample.objects.filter(order=OuterRef("pk")).exclude(status__in=DONE_STATUSES)
    return (
        Order.objects.filter(status=OrderStatus.ACCEPTED, due_date__isnull=False, due_date__lte=horizon)
        .filter(Exists(unfinished))
        .annotate(
            n_done=Count("samples", filter=Q(samples__status__in=DONE_STATUSES)),
            n_total=Count("samples"),
        )
        .select_related("customer", "contact")
        .order_by("due_date", "number")
    )


def attach_working_days_left(orders: Iterable[Order], today: dt.date) -> None:
    """Set ``working_days_left`` (``workdays.working_days_between(today, due_date)``:
    negative when overdue), ``overdue`` and ``overdue_by`` (working days, ≥ 0) on each
    order, with one calendar query."""
    orders = [o for o in orders if o.due_date is not None]
    if not orders:
        return
    dates = [o.due_date for o in orders] + [today]
    is_working = workdays.working_day_map(min(dates), max(dates))
    for order in orders:
        order.working_days_left = _working_days_between(today, order.due_date, is_working)
        order.overdue = order.due_date < today
        order.overdue_by = max(-order.working_days_left, 0)


def _working_days_between(a: dt.date, b: dt.date, is_working: dict[dt.date, bool]) -> int:
    """Same count as ``workdays.working_days_between`` from a precomputed day map."""
    one = dt.timedelta(days=1)
    if b > a:
        first, last, sign = a + one, b, 1
    elif b < a:
        first, last, sign = b, a - one, -1
    else:
        return 0
    count, day = 0, first
    while day <= last:
        count += is_working[day]
        day += one
    return sign * count


def count_of(model, **filters):
    """A correlated ``COUNT(*)`` per row of the outer query (the first filter is the
    grouping column): no join, so no duplicated rows."""
    return Coalesce(
        Subquery(
            model.objects.filter(**filters)
            .order_by()
            .values(next(iter(filters)))
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )
