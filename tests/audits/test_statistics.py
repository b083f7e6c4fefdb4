"""Business statistics (R-MGT-4) on a small known dataset: every figure below is worked
out by hand from the fixture (see ``stats_world``'s table) and written literally.

The rows are inserted directly (dates fixed in the lab's time zone, Asia/Shanghai):
statistics read history, so the workflow services, which stamp "now", cannot build it.
Several timestamps sit just after local midnight, where the UTC date is the day before,
so a figure computed in UTC would come out different.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from audits.services import statistics as stats
from audits.templatetags import statistics_charts as charts
from certificates.models import (
    Certificate,
    CertificateStatus,
    CertificateType,
    Conclusion,
    Method,
    Record,
    RecordStatus,
    RecordTemplate,
    Task,
    TaskStatus,
)
from complaints.models import Complaint, ComplaintStatus
from intake.models import (
    Customer,
    Disposition,
    InstrumentCategory,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    ReceiptInspection,
    Sample,
    SampleStatus,
    Service,
)
from labqms import workdays
from labqms.models import Role
from tests.factories import StaffProfileFactory, UserFactory

D = Decimal
LAB, ELEC = "医学计量室", "电学室"
SVG = "{http://www.w3.org/2000/svg}"


def local(y, m, d, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=timezone.get_default_timezone())


class Builder:
    """Inserts the rows of the dataset with the dates given."""

    def __init__(self):
        self.clerk = UserFactory(username="st_clerk", roles=[Role.COUNTER_STAFF])
        self.lead = UserFactory(username="st_lead", roles=[Role.TECHNICAL_LEAD])
        self.perf_a = UserFactory(username="st_perf_a", roles=[Role.TECHNICIAN])
        self.perf_b = UserFactory(username="st_perf_b", roles=[Role.TECHNICIAN])
        self.checker = UserFactory(username="st_checker", roles=[Role.TECHNICIAN])
        StaffProfileFactory(user=self.perf_a, department=LAB)
        StaffProfileFactory(user=self.perf_b, department=ELEC)
        StaffProfileFactory(user=self.checker, department=LAB)
        self.bp = InstrumentCategory.objects.create(
            code="BP", name_zh="血压计", name_en="Sphygmomanometer", compulsory=True,
            default_service=Service.VERIFICATION, turnaround_days=5, standard_fee=D("80"),
        )
        self.pump = InstrumentCategory.objects.create(
            code="PUMP", name_zh="输液泵", name_en="Infusion pump", default_service=Service.CALIBRATION,
            turnaround_days=7, standard_fee=D("150"),
        )
        self.h1 = Customer.objects.create(name="市第一人民医院", short_name="一院", department="设备科")
        self.h2 = Customer.objects.create(name="市第二人民医院", short_name="二院")
        self.method = Method.objects.create(
            code="JJG 692", edition="2010", title="血压计", kind="verification", effective_on=dt.date(2011, 7, 1),
            status="current", created_by=self.lead,
        )
        self.template = RecordTemplate.objects.create(
            method=self.method, version=1, name="记录", quantity="压力", unit="mmHg", resolution=D("1"),
            status="active", created_by=self.lead,
        )
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def order(self, customer, created, lines, *, status=OrderStatus.ACCEPTED, accepted_on=None, due=None, completed=None):
        """``lines``: (category, quantity, unit fee, refused?)."""
        order = Order.objects.create(
            number=f"WT-{self._next():05d}", channel="counter", customer=customer, created_by=self.clerk, status=status,
            accepted_on=accepted_on, due_date=due, completed_at=completed,
        )
        Order.objects.filter(pk=order.pk).update(created_at=created)
        order.lines = []
        for line_no, (category, quantity, fee, refused) in enumerate(lines, start=1):
            order.lines.append(OrderItem.objects.create(
                order=order, line_no=line_no, instrument_name=category.name_zh, category=category, quantity=quantity,
                service=category.default_service, unit_fee=D(fee),
                disposition=Disposition.REFUSE if refused else Disposition.ACCEPT,
            ))
        return order

    def sample(self, item, *, received=None):
        n = self._next()
        sample = Sample.objects.create(
            sample_id=f"S-{n:05d}", order=item.order, item=item, unit_no=n,
            status=SampleStatus.RECEIVED if received else SampleStatus.REGISTERED,
        )
        if received:
            inspection = ReceiptInspection.objects.create(sample=sample, inspected_by=self.clerk)
            ReceiptInspection.objects.filter(pk=inspection.pk).update(inspected_at=received)
        return sample

    def record(self, sample, performer, conclusion, *, checked=None):
        task = Task.objects.create(
            sample=sample, service=sample.item.service, method=self.method, performer=performer, checker=self.checker,
            assigned_by=self.lead, status=TaskStatus.CHECKED if checked else TaskStatus.AWAITING_CHECK,
        )
        return Record.objects.create(
            number=f"JL-{self._next():05d}", task=task, sample=sample, method=self.method, template=self.template,
            measured_on=(checked or local(2026, 1, 1)).date(), place="实验室", conclusion=conclusion,
            status=RecordStatus.CHECKED if checked else RecordStatus.SIGNED, performer=performer,
            checker=self.checker if checked else None, checked_at=checked,
        )

    def certificate(self, record, type_, issued, *, status=CertificateStatus.ISSUED, amends=None):
        n = self._next()
        return Certificate.objects.create(
            record=record, type=type_, status=status, number=f"ZS-{n:05d}" if issued else None,
            verification_code=f"V{n:05d}", created_by=self.lead, issued_at=issued, amends=amends,
            amendment_kind="replacement" if amends else "",
        )

    def payment(self, order, amount, paid):
        payment = Payment.objects.create(
            order=order, amount=D(amount), method="cash", receipt_no=f"R{self._next()}", recorded_by=self.clerk
        )
        Payment.objects.filter(pk=payment.pk).update(paid_at=paid)
        return payment

    def complaint(self, received, *, customer=None, sample=None, certificate=None, department="", accepted=True,
                  substantiated=False):
        return Complaint.objects.create(
            number=f"TS-{self._next():05d}", channel="hotline", received_at=received, complainant_name="张三",
            subject="投诉", description="说明", customer=customer, sample=sample, certificate=certificate,
            status=ComplaintStatus.ACCEPTED if accepted else ComplaintStatus.DISMISSED,
            accepted_on=received.date() if accepted else None, department=department, substantiated=substantiated,
        )


@pytest.fixture
def stats_world(db):
    return build_world()


def build_world() -> SimpleNamespace:
    """The dataset (2026, local dates; A = performer in 医学计量室, B = in 电学室).

    ====  ========  ==================  ==========  ==============================  =========  ==========  ===================
    ord   customer  created             status      lines (category × qty @ fee)    accepted   due         completed
    ====  ========  ==================  ==========  ==============================  =========  ==========  ===================
    O1    H1        01-05               released    BP×2 @80                        01-05      01-12       01-09 14:00 on time
    O2    H1        01-20               completed   BP×1 @80, PUMP×1 @150           01-20      01-29       02-03 10:00 late
    O3    H2        01-31 23:30         declined    PUMP×1 @150
    O4    H2        02-01 00:30         cancelled   BP×1 @80                        (UTC: 01-31)
    O5    H2        03-10               accepted    PUMP×2 @150, BP×1 @80 refused   03-10
    O6    H2        09-30               completed   BP×1 @80                        09-30      10-13 (5 working days over National Day)  10-13 16:00 on time
    O7    H1        09-30               completed   BP×1 @80                        09-30      10-13       10-14 00:30 late (UTC: 10-13)
    ====  ========  ==================  ==========  ==============================  =========  ==========  ===================

    Samples (received): S1a, S1b (O1, 01-05), S2a (O2, 01-20), S2b (O2 PUMP, 01-21), S5a (O5, 03-10),
    S5b (O5, not received), S6 (O6, 09-30), S7 (O7, 10-08).
    Records: S1a A pass, S1b B fail (checked 01-08); S2a A pass, S2b B calibrated (checked 02-02);
    S6 A pass (checked 10-12); S7 B pass but only signed (not checked).  S5a, S5b: no record.
    Certificates: C1 S1a verification certificate 01-09; C2 S1b notice 01-09; C3 S2a verification
    certificate 02-03, void, replaced by C4 02-10; C5 S2b calibration certificate 02-03;
    C6 S6 verification certificate 10-13 00:10 (UTC: 10-12); C7 S7 draft.
    Payments: O1 160.00 01-09; O2 100.00 01-20 and 130.00 02-03; O6 80.00 10-13;
    O7 80.00 2027-01-01 00:10 (UTC: 2026-12-31) — outside 2026.
    Complaints: K1 H1 02-14 about S1b, 电学室, substantiated; K2 no customer 02-20 about C5, 医学计量室;
    K3 H2 11-02, no department, not accepted.
    """
    b = Builder()
    due6 = workdays.add_working_days(dt.date(2026, 9, 30), 5)
    o1 = b.order(b.h1, local(2026, 1, 5), [(b.bp, 2, "80", False)], status=OrderStatus.RELEASED,
                 accepted_on=dt.date(2026, 1, 5), due=dt.date(2026, 1, 12), completed=local(2026, 1, 9, 14))
    o2 = b.order(b.h1, local(2026, 1, 20), [(b.bp, 1, "80", False), (b.pump, 1, "150", False)],
                 status=OrderStatus.COMPLETED, accepted_on=dt.date(2026, 1, 20), due=dt.date(2026, 1, 29),
                 completed=local(2026, 2, 3, 10))
    o3 = b.order(b.h2, local(2026, 1, 31, 23, 30), [(b.pump, 1, "150", False)], status=OrderStatus.DECLINED)
    o4 = b.order(b.h2, local(2026, 2, 1, 0, 30), [(b.bp, 1, "80", False)], status=OrderStatus.CANCELLED)
    o5 = b.order(b.h2, local(2026, 3, 10), [(b.pump, 2, "150", False), (b.bp, 1, "80", True)],
                 accepted_on=dt.date(2026, 3, 10))
    o6 = b.order(b.h2, local(2026, 9, 30), [(b.bp, 1, "80", False)], status=OrderStatus.COMPLETED,
                 accepted_on=dt.date(2026, 9, 30), due=due6, completed=local(2026, 10, 13, 16))
    o7 = b.order(b.h1, local(2026, 9, 30, 11), [(b.bp, 1, "80", False)], status=OrderStatus.COMPLETED,
                 accepted_on=dt.date(2026, 9, 30), due=due6, completed=local(2026, 10, 14, 0, 30))
    s1a = b.sample(o1.lines[0], received=local(2026, 1, 5))
    s1b = b.sample(o1.lines[0], received=local(2026, 1, 5))
    s2a = b.sample(o2.lines[0], received=local(2026, 1, 20))
    s2b = b.sample(o2.lines[1], received=local(2026, 1, 21))
    b.sample(o5.lines[0], received=local(2026, 3, 10))
    b.sample(o5.lines[0])
    s6 = b.sample(o6.lines[0], received=local(2026, 9, 30))
    s7 = b.sample(o7.lines[0], received=local(2026, 10, 8))
    r1a = b.record(s1a, b.perf_a, Conclusion.PASS, checked=local(2026, 1, 8))
    r1b = b.record(s1b, b.perf_b, Conclusion.FAIL, checked=local(2026, 1, 8))
    r2a = b.record(s2a, b.perf_a, Conclusion.PASS, checked=local(2026, 2, 2))
    r2b = b.record(s2b, b.perf_b, Conclusion.CALIBRATED, checked=local(2026, 2, 2))
    r6 = b.record(s6, b.perf_a, Conclusion.PASS, checked=local(2026, 10, 12))
    r7 = b.record(s7, b.perf_b, Conclusion.PASS)
    T = CertificateType
    b.certificate(r1a, T.VERIFICATION_CERTIFICATE, local(2026, 1, 9))
    b.certificate(r1b, T.VERIFICATION_NOTICE, local(2026, 1, 9))
    c3 = b.certificate(r2a, T.VERIFICATION_CERTIFICATE, local(2026, 2, 3), status=CertificateStatus.VOID)
    b.certificate(r2a, T.VERIFICATION_CERTIFICATE, local(2026, 2, 10), amends=c3)
    c5 = b.certificate(r2b, T.CALIBRATION_CERTIFICATE, local(2026, 2, 3))
    b.certificate(r6, T.VERIFICATION_CERTIFICATE, local(2026, 10, 13, 0, 10))
    b.certificate(r7, T.VERIFICATION_CERTIFICATE, None, status=CertificateStatus.DRAFT)
    b.payment(o1, "160.00", local(2026, 1, 9))
    b.payment(o2, "100.00", local(2026, 1, 20))
    b.payment(o2, "130.00", local(2026, 2, 3))
    b.payment(o6, "80.00", local(2026, 10, 13))
    b.payment(o7, "80.00", local(2027, 1, 1, 0, 10))
    b.complaint(local(2026, 2, 14), customer=b.h1, sample=s1b, department=ELEC, substantiated=True)
    b.complaint(local(2026, 2, 20), certificate=c5, department=LAB)
    b.complaint(local(2026, 11, 2), customer=b.h2, accepted=False)
    return SimpleNamespace(builder=b, bp=b.bp, pump=b.pump, h1=b.h1, h2=b.h2, orders=[o1, o2, o3, o4, o5, o6, o7])


YEAR_2026 = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 12, 31)}


def compute(statistic, **criteria) -> stats.Statistic:
    with translation.override("en"):
        return statistic(stats.Criteria(**{**YEAR_2026, **criteria}))


def by_period(statistic: stats.Statistic, key: str) -> dict:
    """``{period label: value}`` for the periods with something in them."""
    return {row.label: row.values[key] for row in statistic.periods if row.values[key] not in (0, None, D("0.00"))}


def by_group(statistic: stats.Statistic, key: str) -> dict:
    return {row.label: row.values[key] for row in statistic.groups}


# --- each statistic by month ---------------------------------------------------------------------


def test_orders_received_by_month_count_every_order_in_the_labs_time_zone_R_MGT_4(stats_world):
    """3 orders in 2026-01 (one declined), 1 in 2026-02 (cancelled; created 00:30 local,
    still January in UTC), 1 in 2026-03, 2 in 2026-09."""
    result = compute(stats.orders_received)
    assert by_period(result, "received") == {"2026-01": 3, "2026-02": 1, "2026-03": 1, "2026-09": 2}
    assert by_period(result, "declined") == {"2026-01": 1}
    assert by_period(result, "cancelled") == {"2026-02": 1}
    assert result.total.values == {"received": 7, "declined": 1, "cancelled": 1}
    assert [row.label for row in result.periods] == [f"2026-{m:02d}" for m in range(1, 13)]


def test_samples_received_by_receipt_inspection_R_MGT_4(stats_world):
    """S1a, S1b, S2a, S2b in January, S5a in March, S6 in September, S7 in October; S5b
    was never received."""
    result = compute(stats.samples_received)
    assert by_period(result, "received") == {"2026-01": 4, "2026-03": 1, "2026-09": 1, "2026-10": 1}
    assert result.total.values == {"received": 7}


def test_certificates_issued_by_type_count_void_and_replacement_R_MGT_4(stats_world):
    """January: C1 certificate + C2 notice; February: C3 (void since) and its replacement
    C4, C5 calibration; October: C6 (00:10 local, 12 October in UTC).  The draft C7 is not
    issued."""
    result = compute(stats.certificates_issued)
    assert by_period(result, "verification_certificate") == {"2026-01": 1, "2026-02": 2, "2026-10": 1}
    assert by_period(result, "verification_notice") == {"2026-01": 1}
    assert by_period(result, "calibration_certificate") == {"2026-02": 1}
    assert by_period(result, "test_report") == {}
    assert by_period(result, "total") == {"2026-01": 2, "2026-02": 3, "2026-10": 1}
    assert result.total.values == {
        "verification_certificate": 4, "verification_notice": 1, "calibration_certificate": 1, "test_report": 0, "total": 6,
    }


def test_pass_rate_counts_checked_pass_and_fail_records_R_MGT_4(stats_world):
    """January 1 pass + 1 fail = 50.0 %; February 1 pass (the calibration does not count)
    = 100.0 %; October 1 pass = 100.0 %; S7's record is not checked yet.  Total 3 / 4."""
    result = compute(stats.pass_rate)
    assert by_period(result, "verified") == {"2026-01": 2, "2026-02": 1, "2026-10": 1}
    assert by_period(result, "rate") == {"2026-01": D("50.0"), "2026-02": D("100.0"), "2026-10": D("100.0")}
    assert result.total.values == {"verified": 4, "passed": 3, "failed": 1, "rate": D("75.0")}
    march = result.periods[2]
    assert march.label == "2026-03" and march.values["rate"] is None


def test_pass_rate_with_no_records_is_no_rate_not_an_error_R_MGT_4(stats_world):
    """Nothing to divide: the rate is None (shown "—"), never a division error."""
    result = compute(stats.pass_rate, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    assert all(row.values["rate"] is None for row in result.periods)
    assert result.total.values == {"verified": 0, "passed": 0, "failed": 0, "rate": None}
    assert charts.fmt(result.total.values["rate"], "rate") == "—"


def test_on_time_completion_counts_working_days_over_a_holiday_R_MGT_4(stats_world):
    """O6 and O7 were accepted on 2026-09-30 with 5 working days: National Day (1–7
    October) does not count and Saturday 10 October is a make-up workday, so both are due
    2026-10-13.  O6, completed 10-13 16:00, is on time (13 calendar days later); O7,
    completed 10-14 00:30 local (still 10-13 in UTC), is late.  O1 on time in January,
    O2 late in February."""
    assert workdays.add_working_days(dt.date(2026, 9, 30), 5) == dt.date(2026, 10, 13)
    result = compute(stats.on_time_completion)
    assert by_period(result, "completed") == {"2026-02": 1, "2026-01": 1, "2026-10": 2}
    assert by_period(result, "on_time") == {"2026-01": 1, "2026-10": 1}
    assert result.periods[1].values["rate"] == D("0.0")
    assert result.periods[9].values["rate"] == D("50.0")
    assert result.total.values == {"completed": 4, "on_time": 2, "rate": D("50.0")}


def test_payments_received_sum_amounts_in_the_period_R_MGT_4(stats_world):
    """January 160 + 100, February 130, October 80; O7's payment at 00:10 on 2027-01-01
    (still 2026 in UTC) is not in 2026."""
    result = compute(stats.payments_received)
    assert by_period(result, "amount") == {"2026-01": D("260.00"), "2026-02": D("130.00"), "2026-10": D("80.00")}
    assert result.total.values == {"amount": D("470.00"), "payments": 4}


def test_fees_of_accepted_orders_sum_line_fees_R_MGT_4(stats_world):
    """January: O1 2×80 + O2 80+150 = 390; March: O5 2×150, the refused BP line nothing =
    300; September: O6 80 + O7 80 = 160.  O3 and O4 were never accepted."""
    result = compute(stats.fees_of_accepted_orders)
    assert by_period(result, "fees") == {"2026-01": D("390.00"), "2026-03": D("300.00"), "2026-09": D("160.00")}
    assert by_period(result, "orders") == {"2026-01": 2, "2026-03": 1, "2026-09": 2}
    assert result.total.values == {"fees": D("850.00"), "orders": 5}


def test_line_fee_expression_agrees_with_the_property_R_MGT_4(stats_world):
    """The SQL line fee is ``OrderItem.line_fee`` for every line, refused ones included."""
    items = OrderItem.objects.annotate(sql_fee=stats.line_fee_expression()).order_by("pk")
    assert len(items) == 9
    assert [item.sql_fee for item in items] == [item.line_fee for item in items]
    assert sorted({item.line_fee for item in items}) == [D("0"), D("80.00"), D("150.00"), D("160.00"), D("300.00")]


def test_complaints_received_accepted_and_substantiated_R_MGT_4(stats_world):
    result = compute(stats.complaints_received)
    assert by_period(result, "received") == {"2026-02": 2, "2026-11": 1}
    assert by_period(result, "accepted") == {"2026-02": 2}
    assert by_period(result, "substantiated") == {"2026-02": 1}
    assert result.total.values == {"received": 3, "accepted": 2, "substantiated": 1}


# --- quarters and years ------------------------------------------------------------------------


def test_quarter_grouping_R_MGT_4(stats_world):
    """Q1: O1–O5 (5 orders); Q3: O6, O7.  On time: Q1 1 of 2, Q4 1 of 2."""
    orders = compute(stats.orders_received, grouping=stats.QUARTER)
    assert [(row.label, row.values["received"]) for row in orders.periods] == [
        ("2026 Q1", 5), ("2026 Q2", 0), ("2026 Q3", 2), ("2026 Q4", 0)
    ]
    on_time = compute(stats.on_time_completion, grouping=stats.QUARTER)
    assert [row.values["rate"] for row in on_time.periods] == [D("50.0"), None, None, D("50.0")]
    fees = compute(stats.fees_of_accepted_orders, grouping=stats.QUARTER)
    assert [row.values["fees"] for row in fees.periods] == [D("690.00"), D("0.00"), D("160.00"), D("0.00")]


def test_year_grouping_and_a_range_across_years_R_MGT_4(stats_world):
    """2025-12-01 – 2027-01-31 by year: every figure falls in 2026 except O7's payment,
    which is in 2027 (local time)."""
    payments = compute(stats.payments_received, grouping=stats.YEAR, start=dt.date(2025, 12, 1), end=dt.date(2027, 1, 31))
    assert [(row.label, row.values["amount"]) for row in payments.periods] == [
        ("2025", D("0.00")), ("2026", D("470.00")), ("2027", D("80.00"))
    ]
    certificates = compute(stats.certificates_issued, grouping=stats.YEAR)
    assert [(row.label, row.values["total"]) for row in certificates.periods] == [("2026", 6)]


def test_a_range_cuts_at_local_midnight_R_MGT_4(stats_world):
    """1 February only: O4 (00:30 local) is in; O3 (31 January 23:30 local) is out."""
    result = compute(stats.orders_received, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 1))
    assert result.total.values["received"] == 1 and result.total.values["cancelled"] == 1


def test_buckets_and_labels():
    assert stats.buckets(dt.date(2025, 11, 15), dt.date(2026, 2, 1), stats.MONTH) == [
        dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    ]
    assert stats.buckets(dt.date(2025, 11, 15), dt.date(2026, 4, 1), stats.QUARTER) == [
        dt.date(2025, 10, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1)
    ]
    with translation.override("en"):
        assert stats.bucket_label(dt.date(2026, 4, 1), stats.QUARTER) == "2026 Q2"


# --- breakdowns --------------------------------------------------------------------------------


def test_breakdown_by_category_R_MGT_4(stats_world):
    """Orders: BP in O1, O2, O4, O5 (its refused line), O6, O7; PUMP in O2, O3, O5 — an
    order with both counts in both (noted).  Fees: BP 160+80+0+80+80, PUMP 150+300."""
    orders = compute(stats.orders_received, breakdown=stats.CATEGORY)
    assert by_group(orders, "received") == {"Sphygmomanometer": 6, "Infusion pump": 3}
    assert orders.breakdown_note
    assert {(row.label, row.group, row.values["received"]) for row in orders.detail} == {
        ("2026-01", "Sphygmomanometer", 2), ("2026-01", "Infusion pump", 2), ("2026-02", "Sphygmomanometer", 1),
        ("2026-03", "Sphygmomanometer", 1), ("2026-03", "Infusion pump", 1), ("2026-09", "Sphygmomanometer", 2),
    }
    assert orders.total.values["received"] == 7  # the total is not the sum of the rows
    fees = compute(stats.fees_of_accepted_orders, breakdown=stats.CATEGORY)
    assert by_group(fees, "fees") == {"Infusion pump": D("450.00"), "Sphygmomanometer": D("400.00")}
    assert by_group(fees, "orders") == {"Infusion pump": 2, "Sphygmomanometer": 5}
    assert by_group(compute(stats.samples_received, breakdown=stats.CATEGORY), "received") == {
        "Sphygmomanometer": 5, "Infusion pump": 2
    }
    assert by_group(compute(stats.certificates_issued, breakdown=stats.CATEGORY), "total") == {
        "Sphygmomanometer": 5, "Infusion pump": 1
    }
    assert by_group(compute(stats.complaints_received, breakdown=stats.CATEGORY), "received") == {
        "Sphygmomanometer": 1, "Infusion pump": 1, "No instrument category": 1
    }


def test_breakdown_by_department_of_the_performer_R_MGT_4(stats_world):
    """A did S1a, S2a, S6; B did S1b, S2b, S7; S5a/S5b have no record.  Orders O1 and O2
    count under both departments."""
    assert by_group(compute(stats.pass_rate, breakdown=stats.DEPARTMENT), "rate") == {LAB: D("100.0"), ELEC: D("0.0")}
    assert by_group(compute(stats.certificates_issued, breakdown=stats.DEPARTMENT), "total") == {LAB: 4, ELEC: 2}
    assert by_group(compute(stats.samples_received, breakdown=stats.DEPARTMENT), "received") == {
        LAB: 3, ELEC: 3, "Department not known": 1
    }
    on_time = compute(stats.on_time_completion, breakdown=stats.DEPARTMENT)
    assert by_group(on_time, "completed") == {LAB: 3, ELEC: 3}
    assert by_group(on_time, "rate") == {LAB: D("66.7"), ELEC: D("33.3")}
    assert on_time.breakdown_note
    fees = compute(stats.fees_of_accepted_orders, breakdown=stats.DEPARTMENT)
    assert by_group(fees, "fees") == {ELEC: D("310.00"), LAB: D("240.00"), "Department not known": D("300.00")}
    assert sum(by_group(fees, "fees").values()) == fees.total.values["fees"]
    complaints = compute(stats.complaints_received, breakdown=stats.DEPARTMENT)
    assert by_group(complaints, "substantiated") == {ELEC: 1, LAB: 0, "Department not known": 0}


def test_breakdown_by_customer_R_MGT_4(stats_world):
    h1, h2 = "市第一人民医院 · 设备科", "市第二人民医院"
    assert by_group(compute(stats.orders_received, breakdown=stats.CUSTOMER), "received") == {h2: 4, h1: 3}
    assert by_group(compute(stats.certificates_issued, breakdown=stats.CUSTOMER), "total") == {h1: 5, h2: 1}
    assert by_group(compute(stats.on_time_completion, breakdown=stats.CUSTOMER), "rate") == {h1: D("33.3"), h2: D("100.0")}
    assert by_group(compute(stats.payments_received, breakdown=stats.CUSTOMER), "amount") == {
        h1: D("390.00"), h2: D("80.00")
    }
    assert by_group(compute(stats.fees_of_accepted_orders, breakdown=stats.CUSTOMER), "fees") == {
        h1: D("470.00"), h2: D("380.00")
    }
    assert by_group(compute(stats.complaints_received, breakdown=stats.CUSTOMER), "received") == {
        h1: 1, h2: 1, "No customer on file": 1
    }


def test_payments_are_not_split_by_category_or_department_R_MGT_4(stats_world):
    """A payment settles a whole order: by category the page says so instead of guessing."""
    result = compute(stats.payments_received, breakdown=stats.DEPARTMENT)
    assert result.breakdown_not_applicable and result.groups == []
    assert result.total.values["amount"] == D("470.00")
    filtered = compute(stats.payments_received, category=stats_world.pump)
    assert filtered.not_applicable and filtered.periods == []


# --- filters -----------------------------------------------------------------------------------


def test_category_filter_R_MGT_4(stats_world):
    """PUMP: orders O2, O3 (January) and O5 (March); samples S2b, S5a; fees 150 + 300."""
    pump = stats_world.pump
    assert by_period(compute(stats.orders_received, category=pump), "received") == {"2026-01": 2, "2026-03": 1}
    assert compute(stats.samples_received, category=pump).total.values == {"received": 2}
    assert compute(stats.fees_of_accepted_orders, category=pump).total.values == {"fees": D("450.00"), "orders": 2}
    assert compute(stats.complaints_received, category=pump).total.values["received"] == 1
    assert compute(stats.pass_rate, category=pump).total.values["rate"] is None


def test_customer_filter_by_part_of_the_name_R_MGT_4(stats_world):
    """"一院" is H1's short name: O1, O2, O7; its payments 390."""
    assert compute(stats.orders_received, customer="一院").total.values["received"] == 3
    assert compute(stats.payments_received, customer="一院").total.values["amount"] == D("390.00")
    assert compute(stats.certificates_issued, customer="第二").total.values["total"] == 1
    assert compute(stats.complaints_received, customer="第二").total.values["received"] == 1


# --- query count -------------------------------------------------------------------------------


def add_volume(world, n: int) -> None:
    """``n`` more completed orders, each with a received sample, a checked record, an
    issued certificate, a payment and a complaint, spread over the year."""
    b = world.builder
    for i in range(n):
        month = i % 12 + 1
        category, customer = (b.bp, b.h1) if i % 2 else (b.pump, b.h2)
        order = b.order(customer, local(2026, month, 3), [(category, 1, "90", False)], status=OrderStatus.COMPLETED,
                        accepted_on=dt.date(2026, month, 3), due=dt.date(2026, month, 20), completed=local(2026, month, 10))
        sample = b.sample(order.lines[0], received=local(2026, month, 3))
        record = b.record(sample, b.perf_a if i % 3 else b.perf_b, Conclusion.PASS, checked=local(2026, month, 9))
        b.certificate(record, CertificateType.VERIFICATION_CERTIFICATE, local(2026, month, 10))
        b.payment(order, "90.00", local(2026, month, 10))
        b.complaint(local(2026, month, 15), customer=customer, sample=sample, department=LAB)


@pytest.mark.parametrize("breakdown", ["", stats.CATEGORY, stats.DEPARTMENT, stats.CUSTOMER])
def test_query_count_does_not_grow_with_the_rows_R_MGT_4(stats_world, breakdown):
    """A constant number of queries (one grouped query per statistic, one more for the
    groups) whether there are 7 orders or 37."""
    criteria = stats.Criteria(**YEAR_2026, breakdown=breakdown, customer="医院")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            stats.compile_statistics(criteria)
        return len(captured)

    small = queries()
    add_volume(stats_world, 30)
    assert queries() == small
    assert small <= 2 * len(stats.STATISTICS)


def test_cached_statistics_are_reused_per_criteria_and_language(stats_world):
    """The page and its export share one computation for a few minutes; another filter
    or another language is another computation, ``fresh`` computes anew."""
    cache.clear()
    criteria = stats.Criteria(**YEAR_2026)
    with translation.override("en"):
        first, at = stats.cached_statistics(criteria)
        with CaptureQueriesContext(connection) as captured:
            again, again_at = stats.cached_statistics(criteria)
        assert len(captured) == 0 and again_at == at
        assert [s.total.values for s in again] == [s.total.values for s in first]
        add_volume(stats_world, 1)
        assert stats.cached_statistics(criteria)[0][0].total.values["received"] == 7
        assert stats.cached_statistics(criteria, fresh=True)[0][0].total.values["received"] == 8
        with CaptureQueriesContext(connection) as captured:
            stats.cached_statistics(stats.Criteria(**YEAR_2026, grouping=stats.QUARTER))
        assert len(captured) > 0
    with translation.override("zh-hans"), CaptureQueriesContext(connection) as captured:
        stats.cached_statistics(criteria)
    assert len(captured) > 0  # labels are in the language: not the English figures
    cache.clear()


# --- the SVG chart -----------------------------------------------------------------------------


def render_chart(geometry) -> ET.Element:
    return ET.fromstring(render_to_string("audits/includes/chart_svg.html", {"chart": geometry}))


def test_column_chart_is_valid_svg_with_a_bar_per_value():
    geometry = charts.svg_chart(
        chart_id="c1", title="Orders <received> & more", labels=["2026-01", "2026-02", "2026-03"],
        series=[("Orders", [3, 0, 1])],
    )
    svg = render_chart(geometry)
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Orders <received> & more"
    assert svg.find(f"{SVG}desc").text
    bars = svg.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 3
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[1] == 0 and heights[0] == pytest.approx(3 * heights[2], rel=0.01)
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["2026-01: 3", "2026-02: 0", "2026-03: 1"]


def test_stacked_column_chart_has_a_bar_per_value_and_a_legend():
    geometry = charts.svg_chart(
        chart_id="c2", title="Certificates", labels=["Q1", "Q2"], series=[("A", [1, 2]), ("B", [3, 0]), ("C", [0, 0])],
    )
    svg = render_chart(geometry)
    assert len(svg.findall(f"{SVG}rect[@class='bar']")) == 6
    assert len(svg.findall(f"{SVG}rect[@class='legend']")) == 3


def test_line_chart_skips_missing_values():
    """A rate with nothing to divide leaves a gap: two runs, a point per value."""
    geometry = charts.svg_chart(
        chart_id="c3", title="Pass rate", labels=["1", "2", "3", "4"], series=[("Rate", [D("50.0"), None, D("100.0"), D("75.0")])],
        kind="line", measure_kind="rate", unit="%",
    )
    svg = render_chart(geometry)
    assert len(svg.findall(f"{SVG}circle[@class='point']")) == 3
    assert len(svg.findall(f"{SVG}polyline")) == 2


def test_bar_chart_of_groups_shortens_long_names_but_keeps_them_in_the_tooltip():
    name = "某某省某某市第一人民医院医学工程处设备科"
    geometry = charts.svg_chart(chart_id="c4", title="By customer", labels=[name, "二院"], series=[("Orders", [4, 3])], kind="bar")
    svg = render_chart(geometry)
    bars = svg.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 2 and float(bars[0].get("width")) > float(bars[1].get("width"))
    assert bars[0].find(f"{SVG}title").text == f"{name}: 4"
    assert any(text.text.endswith("…") for text in svg.findall(f"{SVG}text"))


def test_empty_chart_still_renders():
    svg = render_chart(charts.svg_chart(chart_id="c5", title="Nothing", labels=[], series=[("x", [])]))
    assert svg.findall(f"{SVG}rect[@class='bar']") == []


def test_nice_axis_maximum():
    assert [charts.nice_max(v) for v in (0, 3, 7, 12, 180, 2600)] == [1, 5, 10, 20, 200, 5000]


def test_ten_years_by_month_keep_a_bar_per_month_but_label_at_most_24_of_them():
    labels = [f"{2017 + i // 12}-{i % 12 + 1:02d}" for i in range(120)]
    svg = render_chart(charts.svg_chart(chart_id="c6", title="Orders", labels=labels, series=[("Orders", list(range(120)))]))
    assert len(svg.findall(f"{SVG}rect[@class='bar']")) == 120
    axis_labels = [text for text in svg.findall(f"{SVG}text") if text.text in labels]
    assert 0 < len(axis_labels) <= 24 and all(text.get("transform", "").startswith("rotate") for text in axis_labels)
