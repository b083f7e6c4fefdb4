"""Business statistics for the leads (R-MGT-4): pure read queries, no HTTP.

For a date range (the lab's local days, Asia/Shanghai) grouped by month, quarter or
year, and optionally broken down by instrument category, department or customer, each
statistic is computed by the database (``Trunc*`` in the lab's time zone, ``Count``,
``Sum``, filtered aggregates): one grouped query per statistic, plus one for the
per-group rows when a breakdown is chosen — a constant number of queries whatever the
table sizes.  Python only reshapes the aggregated rows.  The page and its export share a
computation for a few minutes (:func:`cached_statistics`).

What each figure counts (shown on the page as the statistic's note):

* **Orders received** — every order created in the period (``Order.created_at``),
  whatever became of it; the ones that ended *declined* (contract review) or
  *cancelled* are shown in their own columns, status as of today.
* **Samples received** — samples whose receipt inspection at the counter (R-SMP-1) took
  place in the period.  On-site samples are never received at the counter and are not
  counted here.
* **Certificates issued** — documents issued in the period (``Certificate.issued_at``),
  status issued or void (a void one was issued; it is counted in the period of its
  issue), counted by type.  A replacement or a supplement is a new issued document with
  its own number and counts as issued too.
* **Pass rate** — checked verification records with the conclusion pass or fail, by
  the date the checker signed the record off (``Record.checked_at``): the result is
  final only then.  Rate = pass / (pass + fail); no records → no rate ("—").
* **On-time completion** — orders whose work was completed in the period with a due
  date; on time when the completion's local date is on or before the due date in force
  (set at acceptance in working days, R-INT-5; moved only by a delay notice).
* **Payments received** — ``Payment.amount`` recorded in the period.  A payment settles a
  whole order, so payments are not broken down or filtered by category or department.
* **Fees of accepted orders** — the line fees (``OrderItem.line_fee``: unit fee ×
  quantity, nothing for a refused line) of orders accepted in the period.  By
  department, each sample carries its line's unit fee to the department of the performer
  of its record.
* **Complaints received** — complaints received in the period (``received_at``), how
  many were accepted and how many found substantiated.  By category through the sample
  or certificate complained about; by the complaint's responsible department.

Departments are the ``department`` of the staff profile of the performer of a sample's
record; an order counts under each department that worked on it (so department rows
may add up to more than the total), as an order with lines of several categories counts
under each category.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth, TruncQuarter, TruncYear
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from certificates.models import (
    Certificate,
    CertificateStatus,
    CertificateType,
    Conclusion,
    Record,
    RecordStatus,
)
from complaints.models import Complaint
from intake.models import Customer, Disposition, Order, OrderItem, Payment, Sample

MONTH, QUARTER, YEAR = "month", "quarter", "year"
GROUPINGS = (MONTH, QUARTER, YEAR)
CATEGORY, DEPARTMENT, CUSTOMER = "category", "department", "customer"
BREAKDOWNS = (CATEGORY, DEPARTMENT, CUSTOMER)
MAX_YEARS = 10  # the widest range a page (and its charts) is asked for
CACHE_SECONDS = 10 * 60

COUNT, MONEY, RATE = "count", "money", "rate"
HUNDRED = Decimal(100)
ZERO_MONEY = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
TRUNC = {MONTH: TruncMonth, QUARTER: TruncQuarter, YEAR: TruncYear}


# --- criteria and periods ----------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    """What the page asks for: local dates ``start``–``end`` (both included)."""

    start: dt.date
    end: dt.date
    grouping: str = MONTH
    breakdown: str = ""
    category: object | None = None  # an InstrumentCategory
    customer: str = ""  # part of a customer's name or short name


def default_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """This year so far."""
    today = today or timezone.localdate()
    return dt.date(today.year, 1, 1), today


def bucket_of(day: dt.date, grouping: str) -> dt.date:
    if grouping == YEAR:
        return dt.date(day.year, 1, 1)
    if grouping == QUARTER:
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year, day.month, 1)


def buckets(start: dt.date, end: dt.date, grouping: str) -> list[dt.date]:
    """Every period from the one holding ``start`` to the one holding ``end``."""
    step = {MONTH: 1, QUARTER: 3, YEAR: 12}[grouping]
    day, last, result = bucket_of(start, grouping), bucket_of(end, grouping), []
    while day <= last:
        result.append(day)
        months = day.month - 1 + step
        day = dt.date(day.year + months // 12, months % 12 + 1, 1)
    return result


def bucket_label(bucket: dt.date, grouping: str) -> str:
    if grouping == YEAR:
        return str(bucket.year)
    if grouping == QUARTER:
        return _("%(year)s Q%(quarter)s") % {"year": bucket.year, "quarter": (bucket.month - 1) // 3 + 1}
    return f"{bucket.year}-{bucket.month:02d}"


def _tz():
    return timezone.get_default_timezone()


def _moments(criteria: Criteria) -> tuple[dt.datetime, dt.datetime]:
    """The range as [first instant, instant after the last day) in the lab's time zone,
    so the database can use an index on the timestamp."""
    lo = dt.datetime.combine(criteria.start, dt.time.min, tzinfo=_tz())
    hi = dt.datetime.combine(criteria.end + dt.timedelta(days=1), dt.time.min, tzinfo=_tz())
    return lo, hi


def _within(field_name: str, criteria: Criteria) -> Q:
    lo, hi = _moments(criteria)
    return Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi})


def _trunc(field_name: str, grouping: str, *, timestamp: bool = True):
    """The period a row falls in, as a date; timestamps are read in the lab's time zone."""
    extra = {"tzinfo": _tz()} if timestamp else {}
    return TRUNC[grouping](field_name, output_field=DateField(), **extra)


def line_fee_expression(prefix: str = ""):
    """``OrderItem.line_fee`` in SQL: unit fee × quantity, nothing for a refused line."""
    return Case(
        When(**{f"{prefix}disposition": Disposition.REFUSE}, then=Value(ZERO_MONEY)),
        default=F(f"{prefix}unit_fee") * F(f"{prefix}quantity"),
        output_field=MONEY_FIELD,
    )


def _customers(criteria: Criteria):
    """Customers whose name or short name contains the search text (a subquery)."""
    q = criteria.customer
    return Customer.objects.filter(Q(name__icontains=q) | Q(short_name__icontains=q)).values("pk")


# --- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    kind: str = COUNT
    # A rate is part / whole × 100 of two other measures.
    part: str = ""
    whole: str = ""


@dataclass
class Row:
    label: str
    values: dict
    group: str = ""  # the group's label in the period × group detail


@dataclass
class Statistic:
    key: str
    title: str
    note: str
    measures: list[Measure]
    chart_measures: list[str]
    chart_kind: str = "column"  # or "line" (rates)
    periods: list[Row] = field(default_factory=list)
    total: Row | None = None
    breakdown: str = ""
    groups: list[Row] = field(default_factory=list)
    detail: list[Row] = field(default_factory=list)
    breakdown_note: str = ""
    # Set when the statistic has no meaning for the filters asked (e.g. payments by category).
    not_applicable: str = ""
    breakdown_not_applicable: str = ""
    group_measure: str = ""  # what the group chart shows; the first chart measure by default

    def __post_init__(self):
        self.group_measure = self.group_measure or self.chart_measures[0]

    def measure(self, key: str) -> Measure:
        return next(m for m in self.measures if m.key == key)

    @property
    def unit(self) -> str:
        kinds = {self.measure(key).kind for key in self.chart_measures}
        return {MONEY: _("CNY"), RATE: "%"}.get(kinds.pop(), "") if len(kinds) == 1 else ""


def _zero(measure: Measure):
    return ZERO_MONEY if measure.kind == MONEY else (None if measure.kind == RATE else 0)


def _rate(part, whole) -> Decimal | None:
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1")) if whole else None


def _finish(values: dict, measures: list[Measure]) -> dict:
    for m in measures:
        if m.kind == RATE:
            values[m.key] = _rate(values[m.part], values[m.whole])
    return values


def _add(into: dict, row: dict, measures: list[Measure]) -> None:
    for m in measures:
        if m.kind != RATE:
            into[m.key] = into[m.key] + (row.get(m.key) or _zero(m))


def _fresh(measures: list[Measure]) -> dict:
    return {m.key: _zero(m) for m in measures}


# --- breakdown groups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimensions:
    """Where a statistic's rows find their category, department and customer: ORM paths
    (several paths are coalesced, the first that is set wins); a dimension left out is
    not applicable to the statistic."""

    category: tuple[str, ...] = ()
    department: tuple[str, ...] = ()
    customer: tuple[str, ...] = ()
    overlapping: frozenset[str] = frozenset()  # a row may fall in several groups
    # The join to the group may repeat a row (a reverse relation): count distinct rows.
    repeated: frozenset[str] = frozenset()

    def distinct(self, dimension: str) -> bool:
        return dimension in self.overlapping or dimension in self.repeated

    def paths(self, dimension: str) -> tuple[str, ...]:
        return getattr(self, dimension)


def _pick(paths: tuple[str, ...], suffix: str):
    refs = [F(f"{path}__{suffix}" if suffix else path) for path in paths]
    return refs[0] if len(refs) == 1 else Coalesce(*refs)


def _group_fields(dimension: str, paths: tuple[str, ...]) -> dict:
    if dimension == CATEGORY:
        return {"g": _pick(paths, "id"), "g_code": _pick(paths, "code"), "g_zh": _pick(paths, "name_zh"),
                "g_en": _pick(paths, "name_en")}
    if dimension == CUSTOMER:
        return {"g": _pick(paths, "id"), "g_name": _pick(paths, "name"), "g_dept": _pick(paths, "department")}
    return {"g": _pick(paths, "")}


def _group_label(dimension: str, row: dict) -> str:
    if row["g"] in (None, ""):
        return {
            CATEGORY: _("No instrument category"),
            DEPARTMENT: _("Department not known"),
            CUSTOMER: _("No customer on file"),
        }[dimension]
    if dimension == CATEGORY:
        english = (get_language() or "").startswith("en") and row["g_en"]
        return row["g_en"] if english else row["g_zh"]
    if dimension == CUSTOMER:
        return f"{row['g_name']} · {row['g_dept']}" if row["g_dept"] else row["g_name"]
    return row["g"]


def _group_key(row: dict):
    return None if row["g"] in (None, "") else row["g"]


# --- the engine ----------------------------------------------------------------------------------


@dataclass
class Query:
    """One statistic's rows: ``base`` (already filtered), the period of each row, and the
    aggregates (``aggregates(distinct)`` — distinct counts where a breakdown's join may
    repeat a row).  ``grouped`` replaces all three for a breakdown whose groups live on
    other rows (fees by department: samples instead of lines)."""

    base: object
    period: object
    aggregates: Callable[[bool], dict]
    dimensions: Dimensions
    grouped: dict = field(default_factory=dict)


def _tabulate(statistic: Statistic, query: Query, criteria: Criteria) -> Statistic:
    measures, grouping = statistic.measures, criteria.grouping
    periods = {
        bucket: Row(bucket_label(bucket, grouping), _fresh(measures))
        for bucket in buckets(criteria.start, criteria.end, grouping)
    }
    totals = (
        query.base.annotate(stat_period=query.period)
        .values("stat_period")
        .annotate(**query.aggregates(False))
        .order_by()
    )
    for row in totals:
        if row["stat_period"] in periods:
            _add(periods[row["stat_period"]].values, row, measures)
    statistic.periods = list(periods.values())
    total = _fresh(measures)
    for period in statistic.periods:
        _add(total, period.values, measures)
        _finish(period.values, measures)
    statistic.total = Row(_("Total"), _finish(total, measures))

    dimension = criteria.breakdown
    if not dimension:
        return statistic
    statistic.breakdown = dimension
    paths = query.dimensions.paths(dimension)
    if not paths:
        statistic.breakdown_not_applicable = _("Not broken down by this: see the note.")
        return statistic
    base, period, aggregates = query.grouped.get(dimension, (query.base, query.period, query.aggregates))
    fields = _group_fields(dimension, paths)
    distinct = query.dimensions.distinct(dimension)
    rows = (
        base.annotate(stat_period=period, **fields)
        .values("stat_period", *fields)
        .annotate(**aggregates(distinct))
        .order_by()
    )
    groups: dict = {}
    detail = []
    for row in rows:
        if row["stat_period"] not in periods:
            continue
        key, label = _group_key(row), _group_label(dimension, row)
        group = groups.setdefault(key, Row(label, _fresh(measures)))
        _add(group.values, row, measures)
        values = _fresh(measures)
        _add(values, row, measures)
        period_label = periods[row["stat_period"]].label
        detail.append((row["stat_period"], label, Row(period_label, _finish(values, measures), group=label)))
    main = statistic.measure(statistic.group_measure)
    sort_key = main.whole if main.kind == RATE else main.key

    def order(item):
        key, group = item
        return (key is None, -group.values[sort_key], group.label)

    statistic.groups = [group for _key, group in sorted(groups.items(), key=order)]
    for group in statistic.groups:
        _finish(group.values, measures)
    statistic.detail = [row for _bucket, _label, row in sorted(detail, key=lambda d: (d[0], d[1]))]
    if dimension in query.dimensions.overlapping:
        statistic.breakdown_note = {
            CATEGORY: _(
                "An order with lines of several categories counts under each of them: "
                "the rows may add up to more than the total."
            ),
            DEPARTMENT: _(
                "An order counts under the department of each performer who worked on it: "
                "the rows may add up to more than the total."
            ),
        }.get(dimension, "")
    return statistic


# --- the statistics ----------------------------------------------------------------------------

ORDER_DIMENSIONS = Dimensions(
    category=("items__category",),
    department=("samples__records__performer__profile__department",),
    customer=("customer",),
    overlapping=frozenset({CATEGORY, DEPARTMENT}),
)


def _orders(criteria: Criteria, moment: str):
    orders = Order.objects.filter(_within(moment, criteria))
    if criteria.customer:
        orders = orders.filter(customer__in=_customers(criteria))
    if criteria.category is not None:
        orders = orders.filter(Exists(OrderItem.objects.filter(order=OuterRef("pk"), category=criteria.category)))
    return orders


def _count(distinct: bool, **filter_) -> Count:
    return Count("id", distinct=distinct, filter=Q(**filter_) if filter_ else None)


def orders_received(criteria: Criteria) -> Statistic:
    statistic = Statistic(
        "orders", _("Orders received"),
        _("Every order created in the period, whatever became of it; declined (contract review) and cancelled orders, "
          "as they stand today, are also shown on their own."),
        [Measure("received", _("Orders received")), Measure("declined", _("of which declined")),
         Measure("cancelled", _("of which cancelled"))],
        ["received"],
    )
    query = Query(
        _orders(criteria, "created_at"), _trunc("created_at", criteria.grouping),
        lambda distinct: {"received": _count(distinct), "declined": _count(distinct, status="declined"),
                          "cancelled": _count(distinct, status="cancelled")},
        ORDER_DIMENSIONS,
    )
    return _tabulate(statistic, query, criteria)


def samples_received(criteria: Criteria) -> Statistic:
    statistic = Statistic(
        "samples", _("Samples received"),
        _("Samples whose receipt inspection at the counter took place in the period. On-site samples are not received "
          "at the counter and are not counted."),
        [Measure("received", _("Samples received"))],
        ["received"],
    )
    samples = Sample.objects.filter(_within("receipt__inspected_at", criteria))
    if criteria.customer:
        samples = samples.filter(order__customer__in=_customers(criteria))
    if criteria.category is not None:
        samples = samples.filter(item__category=criteria.category)
    query = Query(
        samples, _trunc("receipt__inspected_at", criteria.grouping),
        lambda distinct: {"received": _count(distinct)},
        Dimensions(("item__category",), ("records__performer__profile__department",), ("order__customer",),
                   repeated=frozenset({DEPARTMENT})),
    )
    return _tabulate(statistic, query, criteria)


def certificates_issued(criteria: Criteria) -> Statistic:
    types = list(CertificateType.choices)
    statistic = Statistic(
        "certificates", _("Certificates issued"),
        _("Documents issued in the period, counted by type; a certificate since made void was issued and counts in the "
          "period of its issue. A replacement or a supplement is a new document with its own number and counts too."),
        [*[Measure(value, str(label)) for value, label in types], Measure("total", _("All types"))],
        [value for value, _label in types], group_measure="total",
    )
    certificates = Certificate.objects.filter(
        _within("issued_at", criteria), status__in=(CertificateStatus.ISSUED, CertificateStatus.VOID)
    )
    if criteria.customer:
        certificates = certificates.filter(record__sample__order__customer__in=_customers(criteria))
    if criteria.category is not None:
        certificates = certificates.filter(record__sample__item__category=criteria.category)
    query = Query(
        certificates, _trunc("issued_at", criteria.grouping),
        lambda distinct: {
            "total": _count(distinct), **{value: _count(distinct, type=value) for value, _label in types}
        },
        Dimensions(("record__sample__item__category",), ("record__performer__profile__department",),
                   ("record__sample__order__customer",)),
    )
    return _tabulate(statistic, query, criteria)


def pass_rate(criteria: Criteria) -> Statistic:
    statistic = Statistic(
        "pass_rate", _("Pass rate"),
        _("Checked verification records with the conclusion pass or fail, by the date the checker signed them off. "
          "Pass rate = pass / (pass + fail)."),
        [Measure("verified", _("Verified")), Measure("passed", _("Pass")), Measure("failed", _("Fail")),
         Measure("rate", _("Pass rate (%)"), RATE, part="passed", whole="verified")],
        ["rate"], chart_kind="line",
    )
    records = Record.objects.filter(
        _within("checked_at", criteria), status=RecordStatus.CHECKED, conclusion__in=(Conclusion.PASS, Conclusion.FAIL)
    )
    if criteria.customer:
        records = records.filter(sample__order__customer__in=_customers(criteria))
    if criteria.category is not None:
        records = records.filter(sample__item__category=criteria.category)
    query = Query(
        records, _trunc("checked_at", criteria.grouping),
        lambda distinct: {"verified": _count(distinct), "passed": _count(distinct, conclusion=Conclusion.PASS),
                          "failed": _count(distinct, conclusion=Conclusion.FAIL)},
        Dimensions(("sample__item__category",), ("performer__profile__department",), ("sample__order__customer",)),
    )
    return _tabulate(statistic, query, criteria)


def on_time_completion(criteria: Criteria) -> Statistic:
    statistic = Statistic(
        "on_time", _("On-time completion"),
        _("Orders whose work was completed in the period; on time when completed (local date) on or before the due "
          "date, which acceptance set in working days (holidays do not count, make-up workdays do) and only a delay "
          "notice moves."),
        [Measure("completed", _("Orders completed")), Measure("on_time", _("Completed on time")),
         Measure("rate", _("On-time rate (%)"), RATE, part="on_time", whole="completed")],
        ["rate"], chart_kind="line",
    )
    on_time = Q(due_date__gte=TruncDate("completed_at", tzinfo=_tz()))
    query = Query(
        _orders(criteria, "completed_at").filter(due_date__isnull=False), _trunc("completed_at", criteria.grouping),
        lambda distinct: {
            "completed": Count("id", distinct=distinct), "on_time": Count("id", distinct=distinct, filter=on_time)
        },
        ORDER_DIMENSIONS,
    )
    return _tabulate(statistic, query, criteria)


def payments_received(criteria: Criteria) -> Statistic:
    statistic = Statistic(
        "payments", _("Payments received"),
        _("Payments recorded in the period. A payment settles a whole order, so payments are neither broken down nor "
          "filtered by category or department."),
        [Measure("amount", _("Amount received (CNY)"), MONEY), Measure("payments", _("Payments"))],
        ["amount"],
    )
    if criteria.category is not None:
        statistic.not_applicable = _(
            "Payments are not filtered by instrument category: a payment settles a whole order."
        )
        return statistic
    payments = Payment.objects.filter(_within("paid_at", criteria))
    if criteria.customer:
        payments = payments.filter(order__customer__in=_customers(criteria))
    query = Query(
        payments, _trunc("paid_at", criteria.grouping),
        lambda distinct: {"amount": Sum("amount"), "payments": _count(distinct)},
        Dimensions(customer=("order__customer",)),
    )
    return _tabulate(statistic, query, criteria)


def fees_of_accepted_orders(criteria: Criteria) -> Statistic:
    statistic = Statistic(
        "fees", _("Fees of accepted orders"),
        _("Line fees (unit fee × quantity; nothing for a refused line) of the orders accepted in the period. By "
          "department, each sample carries its line's unit fee to the department of the performer of its record."),
        [Measure("fees", _("Fees (CNY)"), MONEY), Measure("orders", _("Orders accepted"))],
        ["fees"],
    )
    lo, hi = criteria.start, criteria.end
    items = OrderItem.objects.filter(order__accepted_on__range=(lo, hi))
    samples = Sample.objects.filter(order__accepted_on__range=(lo, hi))
    if criteria.customer:
        items = items.filter(order__customer__in=_customers(criteria))
        samples = samples.filter(order__customer__in=_customers(criteria))
    if criteria.category is not None:
        items = items.filter(category=criteria.category)
        samples = samples.filter(item__category=criteria.category)

    def line_aggregates(distinct: bool) -> dict:
        # A line is in one category and one customer's order: its fee is never repeated.
        return {"fees": Sum(line_fee_expression()), "orders": Count("order", distinct=True)}

    def sample_aggregates(distinct: bool) -> dict:
        # A sample has at most one record (one task per sample), so one performer.
        return {"fees": Sum("item__unit_fee"), "orders": Count("order", distinct=True)}

    period = _trunc("order__accepted_on", criteria.grouping, timestamp=False)
    query = Query(
        items, period, line_aggregates,
        Dimensions(("category",), ("records__performer__profile__department",), ("order__customer",),
                   overlapping=frozenset({CATEGORY, DEPARTMENT})),
        grouped={DEPARTMENT: (samples, period, sample_aggregates)},
    )
    return _tabulate(statistic, query, criteria)


def complaints_received(criteria: Criteria) -> Statistic:
    statistic = Statistic(
        "complaints", _("Complaints received"),
        _("Complaints received in the period, how many were accepted and how many were found substantiated. "
          "By category through the sample or certificate complained about; by the complaint's responsible department."),
        [Measure("received", _("Complaints received")), Measure("accepted", _("Accepted")),
         Measure("substantiated", _("Substantiated"))],
        ["received"],
    )
    complaints = Complaint.objects.filter(_within("received_at", criteria))
    if criteria.customer:
        complaints = complaints.filter(customer__in=_customers(criteria))
    if criteria.category is not None:
        complaints = complaints.filter(
            Q(sample__item__category=criteria.category)
            | Q(sample__isnull=True, certificate__record__sample__item__category=criteria.category)
        )
    query = Query(
        complaints, _trunc("received_at", criteria.grouping),
        lambda distinct: {"received": _count(distinct), "accepted": _count(distinct, accepted_on__isnull=False),
                          "substantiated": _count(distinct, substantiated=True)},
        Dimensions(("sample__item__category", "certificate__record__sample__item__category"), ("department",),
                   ("customer",)),
    )
    return _tabulate(statistic, query, criteria)


STATISTICS = (
    orders_received,
    samples_received,
    certificates_issued,
    pass_rate,
    on_time_completion,
    payments_received,
    fees_of_accepted_orders,
    complaints_received,
)


def compile_statistics(criteria: Criteria) -> list[Statistic]:
    """Every statistic for ``criteria``, in the order the page shows them."""
    return [compute(criteria) for compute in STATISTICS]


def _cache_key(criteria: Criteria) -> str:
    category = getattr(criteria.category, "pk", None)
    parts = (criteria.start, criteria.end, criteria.grouping, criteria.breakdown, category, criteria.customer,
             get_language())
    return "audits:statistics:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached_statistics(criteria: Criteria, *, fresh: bool = False) -> tuple[list[Statistic], dt.datetime]:
    """:func:`compile_statistics` kept for :data:`CACHE_SECONDS`, with when it was computed.

    With a breakdown over years of data the queries join the big tables (certificates,
    records, samples) and take seconds; the figures are history, so the page, the export
    clicked from it and the next look share one computation (the same numbers in both).
    ``fresh`` computes anew.  Labels are in the active language, which is in the key."""
    key = _cache_key(criteria)
    found = None if fresh else cache.get(key)
    if found is None:
        found = (compile_statistics(criteria), timezone.now())
        cache.set(key, found, CACHE_SECONDS)
    return found
