"""Order services (R-INT-1..8, R-SMP-2, R-ONS-1, R-ONS-4): numbering, line checks with
nothing saved on error, contract review, confirmation, acceptance with the due date,
notices, payments, cancellation, on-site visits and who may do what."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from intake.models import (
    Channel,
    ContractReview,
    CustodyEvent,
    Customer,
    CustomerNotice,
    Disposition,
    NoticeKind,
    NoticeStatus,
    OnSiteVisit,
    Order,
    OrderStatus,
    Payment,
    ReviewDecision,
    Sample,
    SampleStatus,
    VisitStatus,
    WorkLocation,
)
from intake.models.orders import ORDER_TRANSITIONS
from intake.services import orders as order_services
from intake.services import samples as sample_services
from intake.services import visits as visit_services
from labqms import audit, workdays
from labqms.models import AuditEvent, CalendarYear, NumberSequence, WorkdayOverride
from tests.intake.conftest import line

OS = OrderStatus
_receipts = itertools.count(1)


@pytest.fixture(autouse=True)
def _english():
    # Assertions on messages use the source strings, whatever the translations say.
    with translation.override("en"):
        yield


@pytest.fixture
def eager(settings):
    """Celery tasks run in-process (the notice e-mail is sent during on_commit)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def _number(seq: int) -> str:
    return f"WT{timezone.localdate().year}-{seq:06d}"


def _review(actor, order, decision=ReviewDecision.ACCEPT, **kwargs):
    points = {"lawful": True, "requirements_clear": True, "competent": True, "terms_agreed": True}
    points.update(kwargs)
    return order_services.review_order(actor=actor, order=order, decision=decision, **points)


def _ready(clerk, order):
    """Take every sample of an accepted lab order through to ready (order → completed);
    a technician does the work in between."""
    from tests.factories import UserFactory

    tech = UserFactory(roles=["technician"])
    for sample in order.samples.all():
        sample_services.receive_sample(actor=clerk, sample=sample)
        sample_services.mark_sample_in_test(actor=tech, sample=sample)
        sample_services.mark_sample_tested(actor=tech, sample=sample)
        sample_services.check_integrity(actor=clerk, sample=sample, intact=True)
    order.refresh_from_db()
    return order


def _pay(clerk, order):
    order.refresh_from_db()
    due = order.fee_total() - order.paid_total()
    if due > 0:
        order_services.record_payment(
            actor=clerk, order=order, amount=due, method="cash", receipt_no=f"RC{next(_receipts)}"
        )


def _release_all(clerk, order):
    _pay(clerk, order)
    sample_services.release_samples(
        actor=clerk, order=order, samples=list(order.samples.all()), receiver_name="张三",
        receiver_id_document="身份证", handed_over="器具与证书",
    )
    order.refresh_from_db()
    return order


# --------------------------------------------------------------------------------------
# Creating orders: numbering, channel, line checks (R-INT-1..3).
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_order_numbers_are_sequential_per_year(clerk, hospital, categories):
    """R-INT-3: every order has a number, WT{year}-000001, -000002, …"""
    first = order_services.create_order(actor=clerk, customer=hospital, lines=[line(categories["bp"], "A1")])
    second = order_services.create_order(
        actor=clerk, customer=hospital, lines=[line(categories["bp"], "A2")], channel=Channel.PHONE
    )
    assert (first.number, second.number) == (_number(1), _number(2))
    assert (first.channel, second.channel) == (Channel.COUNTER, Channel.PHONE)  # R-INT-1
    assert first.status == OS.DRAFT and first.created_by == clerk
    assert audit.events_for(first).filter(action="order.created").count() == 1


@pytest.mark.django_db
def test_order_keeps_the_fields_of_the_entrustment_form(clerk, hospital, categories):
    """R-INT-3: instrument name, model, serial, quantity, accessories, special requirements."""
    order = order_services.create_order(
        actor=clerk,
        customer=hospital,
        contact=hospital.contacts.first(),
        lines=[line(categories["pump"], " P-1，P-2 ", quantity=2, accessories="电源线", special_requirements="出具校准曲线")],
        special_requirements="加急",
        sample_disposal="客户自取",
    )
    item = order.items.get()
    assert (item.line_no, item.instrument_name, item.model) == (1, "输液泵", "M-1")
    assert item.serial_number == "P-1, P-2" and item.serials() == ["P-1", "P-2"]
    assert (item.quantity, item.accessories, item.special_requirements) == (2, "电源线", "出具校准曲线")
    assert (order.special_requirements, order.sample_disposal) == ("加急", "客户自取")
    assert item.unit_fee == Decimal("150.00") and item.in_scope


def _bad_lines(categories):
    bp, pump, ct = categories["bp"], categories["pump"], categories["ct"]
    return {
        "missing serial": ([line(bp, "")], {1: "serial_number"}),
        "quantity below one": ([line(bp, "S1", quantity=0)], {1: "quantity"}),
        "quantity not a number": ([line(bp, "S1", quantity="两")], {1: "quantity"}),
        "serial count differs from quantity": ([line(pump, "P1, P2", quantity=3)], {1: "serial_number"}),
        "same serial twice in a line": ([line(pump, "P1, p1", quantity=2)], {1: "serial_number"}),
        "same serial across lines, other case": (
            [line(bp, "ab-1"), line(pump, "AB-1")],
            {2: "serial_number"},
        ),
        "out of scope accepted silently": ([line(bp, "B1"), line(ct, "CT-1")], {2: "disposition"}),
        "refused without reason": ([line(ct, "CT-1", disposition=Disposition.REFUSE)], {1: "disposition_reason"}),
        "subcontracted without subcontractor": (
            [line(ct, "CT-1", disposition=Disposition.SUBCONTRACT, disposition_reason="无资质")],
            {1: "subcontractor"},
        ),
        "no instrument name": ([line(bp, "S1", name=" ")], {1: "instrument_name"}),
        "no category": ([{**line(bp, "S1"), "category": None}], {1: "category"}),
    }


BAD_LINE_CASES = [
    "missing serial",
    "quantity below one",
    "quantity not a number",
    "serial count differs from quantity",
    "same serial twice in a line",
    "same serial across lines, other case",
    "out of scope accepted silently",
    "refused without reason",
    "subcontracted without subcontractor",
    "no instrument name",
    "no category",
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_LINE_CASES)
def test_bad_lines_are_refused_and_nothing_is_saved(clerk, hospital, categories, case):
    """R-INT-2/R-INT-3: bad lines raise LinesInvalid naming line and field; no order is
    saved and no number is used up (the next good order gets the next number)."""
    lines, expected = _bad_lines(categories)[case]
    orders, sequences = Order.objects.count(), list(NumberSequence.objects.values_list("last_value", flat=True))
    with pytest.raises(order_services.LinesInvalid) as error:
        order_services.create_order(actor=clerk, customer=hospital, lines=lines)
    found = {e.line: set(e.errors) for e in error.value.line_errors}
    for number, field in expected.items():
        assert field in found.get(number, set()), found
    assert set(found) == set(expected)
    assert Order.objects.count() == orders
    assert list(NumberSequence.objects.values_list("last_value", flat=True)) == sequences
    good = order_services.create_order(actor=clerk, customer=hospital, lines=[line(categories["bp"], "OK-1")])
    assert good.number == _number(1)


@pytest.mark.django_db
def test_bad_line_after_a_good_order_leaves_no_gap(clerk, hospital, categories):
    """R-INT-3: a refused order between two good ones does not consume a number."""
    first = order_services.create_order(actor=clerk, customer=hospital, lines=[line(categories["bp"], "A1")])
    with pytest.raises(order_services.LinesInvalid):
        order_services.create_order(actor=clerk, customer=hospital, lines=[line(categories["ct"], "C1")])
    second = order_services.create_order(actor=clerk, customer=hospital, lines=[line(categories["bp"], "A2")])
    assert (first.number, second.number) == (_number(1), _number(2))


@pytest.mark.django_db
def test_no_lines_and_bad_header_are_refused(clerk, hospital, other_hospital, categories):
    with pytest.raises(ValidationError):
        order_services.create_order(actor=clerk, customer=hospital, lines=[])
    with pytest.raises(ValidationError) as error:
        order_services.create_order(
            actor=clerk, customer=hospital, contact=other_hospital.contacts.first(),
            lines=[line(categories["bp"])], channel="fax",
        )
    assert {"contact", "channel"} <= set(error.value.message_dict)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_no_serial_lines_need_no_serial(clerk, hospital, categories):
    """R-INT-3: an instrument without a serial number is ticked as such."""
    order = order_services.create_order(
        actor=clerk, customer=hospital, lines=[line(categories["pump"], "", quantity=2, no_serial=True)]
    )
    item = order.items.get()
    assert item.no_serial and item.serial_number == "" and item.quantity == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("disposition", "extra"),
    [
        (Disposition.REFUSE, {"disposition_reason": "超出授权范围"}),
        (Disposition.SUBCONTRACT, {"disposition_reason": "超出授权范围", "subcontractor": "省计量院"}),
    ],
)
def test_out_of_scope_refused_or_subcontracted_is_stored_out_of_scope(
    clerk, hospital, categories, disposition, extra
):
    """R-INT-2: out-of-scope work is never accepted silently: refused or subcontracted, with
    the reason, and marked out of scope."""
    order = order_services.create_order(
        actor=clerk,
        customer=hospital,
        lines=[line(categories["bp"], "B1"), line(categories["ct"], "CT-1", disposition=disposition, **extra)],
    )
    bp_item, ct_item = order.items.order_by("line_no")
    assert bp_item.in_scope and bp_item.disposition == Disposition.ACCEPT
    assert not ct_item.in_scope
    assert ct_item.disposition == disposition
    assert ct_item.disposition_reason == "超出授权范围"
    assert ct_item.subcontractor == extra.get("subcontractor", "")


@pytest.mark.django_db
def test_service_is_proposed_from_the_catalogue(clerk, hospital, categories):
    """R-INT-2: a compulsory instrument is proposed for verification; others get the
    category's default service; an explicit choice is kept and checked against scope."""
    order = order_services.create_order(
        actor=clerk, customer=hospital, lines=[line(categories["bp"], "B1"), line(categories["pump"], "P1")]
    )
    services = list(order.items.order_by("line_no").values_list("service", flat=True))
    assert services == ["verification", "calibration"]
    # BP calibration is not in the scope (only verification is): must be refused/subcontracted.
    with pytest.raises(order_services.LinesInvalid):
        order_services.create_order(
            actor=clerk, customer=hospital, lines=[line(categories["bp"], "B2", service="calibration")]
        )


# --------------------------------------------------------------------------------------
# Order status: every allowed and every refused transition.
# --------------------------------------------------------------------------------------


@pytest.fixture
def reach(make_order, categories, clerk):
    """``reach(status)``: a one-line bp order in that status, built through the services."""

    def build(status):
        if status == OS.DECLINED:
            order = make_order([line(categories["bp"], "B1")], stage="draft")
            _review(clerk, order, ReviewDecision.DECLINE, deviations="客户要求不合法规")
        elif status == OS.CANCELLED:
            order = make_order([line(categories["bp"], "B1")], stage="draft")
            order_services.cancel_order(actor=clerk, order=order, reason="客户取消")
        else:
            stage = {OS.DRAFT: "draft", OS.REVIEWED: "confirmed"}.get(status, "accepted")
            order = make_order([line(categories["bp"], "B1")], stage=stage)
            if status in (OS.COMPLETED, OS.RELEASED):
                _ready(clerk, order)
            if status == OS.RELEASED:
                _release_all(clerk, order)
        order.refresh_from_db()
        assert order.status == status
        return order

    return build


def _do_review_accept(clerk, order):
    _review(clerk, order)


def _do_review_decline(clerk, order):
    _review(clerk, order, ReviewDecision.DECLINE, deviations="无法满足客户要求")


def _do_cancel(clerk, order):
    order_services.cancel_order(actor=clerk, order=order, reason="客户取消")


def _do_accept(clerk, order):
    order_services.accept_order(actor=clerk, order=order)


def _do_reopen(clerk, order):
    order_services.reopen_order(actor=clerk, order=order, reason="客户增加器具")


def _do_complete(clerk, order):
    _ready(clerk, order)


def _do_release(clerk, order):
    _release_all(clerk, order)


ORDER_MOVES = [
    (OS.DRAFT, OS.REVIEWED, _do_review_accept),
    (OS.DRAFT, OS.DECLINED, _do_review_decline),
    (OS.DRAFT, OS.CANCELLED, _do_cancel),
    (OS.REVIEWED, OS.ACCEPTED, _do_accept),
    (OS.REVIEWED, OS.DRAFT, _do_reopen),
    (OS.REVIEWED, OS.CANCELLED, _do_cancel),
    (OS.ACCEPTED, OS.COMPLETED, _do_complete),
    (OS.COMPLETED, OS.RELEASED, _do_release),
]


def test_every_order_transition_has_a_service_path():
    """R-INT-4: each (from, to) of ORDER_TRANSITIONS is exercised below; a transition added
    to the table without a test fails here."""
    table = {(source, target) for source, targets in ORDER_TRANSITIONS.items() for target in targets}
    assert {(s, t) for s, t, _f in ORDER_MOVES} == table


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target", "act"), ORDER_MOVES, ids=[f"{s}->{t}" for s, t, _f in ORDER_MOVES])
def test_allowed_order_transition(reach, clerk, source, target, act):
    """R-INT-4..7: each allowed order change through its service, with an audit event."""
    order = reach(source)
    events = AuditEvent.objects.count()
    act(clerk, order)
    order.refresh_from_db()
    assert order.status == target
    assert AuditEvent.objects.count() > events


ORDER_SERVICES = {
    "review": lambda clerk, order: _review(clerk, order),
    "decline": lambda clerk, order: _review(clerk, order, ReviewDecision.DECLINE, deviations="x"),
    "reopen": lambda clerk, order: order_services.reopen_order(actor=clerk, order=order, reason="x"),
    "confirm": lambda clerk, order: order_services.record_confirmation(actor=clerk, order=order, signer_name="刘洋"),
    "accept": lambda clerk, order: order_services.accept_order(actor=clerk, order=order),
    "cancel": lambda clerk, order: order_services.cancel_order(actor=clerk, order=order, reason="x"),
}
# From which statuses each service may act (reviewed means reviewed AND confirmed here,
# so "confirm" from reviewed is refused as "already confirmed").
ORDER_ALLOWED_FROM = {
    "review": {OS.DRAFT},
    "decline": {OS.DRAFT},
    "reopen": {OS.REVIEWED},
    "confirm": set(),
    "accept": {OS.REVIEWED},
    "cancel": {OS.DRAFT, OS.REVIEWED},
}
ORDER_REFUSED = [
    (service, source)
    for service in ORDER_SERVICES
    for source in OS.values
    if source not in ORDER_ALLOWED_FROM[service]
]


@pytest.mark.django_db
@pytest.mark.parametrize(("service", "source"), ORDER_REFUSED, ids=[f"{s}-from-{f}" for s, f in ORDER_REFUSED])
def test_refused_order_transition_changes_nothing(reach, clerk, service, source):
    """R-INT-4: a service called on an order in the wrong status is refused; the status
    stays and no audit event, review or sample is written."""
    order = reach(source)
    events, reviews, samples = AuditEvent.objects.count(), ContractReview.objects.count(), Sample.objects.count()
    with pytest.raises(ValidationError):
        ORDER_SERVICES[service](clerk, order)
    order.refresh_from_db()
    assert order.status == source
    assert (AuditEvent.objects.count(), ContractReview.objects.count(), Sample.objects.count()) == (
        events,
        reviews,
        samples,
    )


# --------------------------------------------------------------------------------------
# Contract review (R-INT-4).
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_review_accept_records_points_and_fee(make_order, categories, clerk):
    """R-INT-4: the review keeps (a)–(d), the decision, and the fee total."""
    order = make_order([line(categories["pump"], "P1, P2", quantity=2)], stage="draft")
    item = order.items.get()
    review = _review(clerk, order, fees={item.pk: "120"}, notes="常规")
    order.refresh_from_db()
    assert order.status == OS.REVIEWED
    assert (review.lawful, review.requirements_clear, review.competent, review.terms_agreed) == (True,) * 4
    assert review.fee_total == Decimal("240") and order.fee_total() == Decimal("240")
    assert order.current_review() == review
    assert review.reviewer == clerk


@pytest.mark.django_db
@pytest.mark.parametrize("point", ["lawful", "requirements_clear", "competent", "terms_agreed"])
@pytest.mark.parametrize("decision", [ReviewDecision.ACCEPT, ReviewDecision.ACCEPT_WITH_DEVIATIONS])
def test_accepting_needs_all_four_review_points(make_order, categories, clerk, point, decision):
    """R-INT-4: (a)–(d) must all be confirmed to accept."""
    order = make_order([line(categories["bp"])], stage="draft")
    with pytest.raises(ValidationError):
        _review(
            clerk, order, decision, deviations="周期延长", customer_told_how="电话",
            customer_told_at=timezone.now(), **{point: False},
        )
    order.refresh_from_db()
    assert order.status == OS.DRAFT and not order.reviews.exists()


@pytest.mark.django_db
def test_accept_with_deviations_needs_deviations_and_how_when_told(make_order, categories, clerk):
    """R-INT-4: deviations are described and communicated to the customer (how, when)."""
    order = make_order([line(categories["bp"])], stage="draft")
    with pytest.raises(ValidationError) as error:
        _review(clerk, order, ReviewDecision.ACCEPT_WITH_DEVIATIONS)
    assert {"deviations", "customer_told_how"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        _review(clerk, order, ReviewDecision.ACCEPT_WITH_DEVIATIONS, deviations="周期延长至8个工作日",
                customer_told_how="电话")
    assert set(error.value.message_dict) == {"customer_told_how"}
    assert not order.reviews.exists()

    told = timezone.now()
    review = _review(
        clerk, order, ReviewDecision.ACCEPT_WITH_DEVIATIONS, deviations="周期延长至8个工作日",
        customer_told_how="电话告知刘洋", customer_told_at=told,
    )
    order.refresh_from_db()
    assert order.status == OS.REVIEWED
    assert (review.deviations, review.customer_told_how, review.customer_told_at) == (
        "周期延长至8个工作日", "电话告知刘洋", told,
    )


@pytest.mark.django_db
def test_decline_needs_a_reason(make_order, categories, clerk):
    """R-INT-4: declining says why."""
    order = make_order([line(categories["bp"])], stage="draft")
    with pytest.raises(ValidationError) as error:
        _review(clerk, order, ReviewDecision.DECLINE, lawful=False)
    assert "deviations" in error.value.message_dict
    _review(clerk, order, ReviewDecision.DECLINE, lawful=False, deviations="非法定计量器具")
    order.refresh_from_db()
    assert order.status == OS.DECLINED
    assert audit.events_for(order).get(action="order.reviewed").reason == "非法定计量器具"


@pytest.mark.django_db
def test_conformity_statement_needs_the_decision_rule(make_order, categories, clerk):
    """R-INT-4: a statement of conformity needs the decision rule agreed."""
    order = make_order([line(categories["bp"])], stage="draft")
    with pytest.raises(ValidationError) as error:
        _review(clerk, order, conformity_statement_requested=True)
    assert "decision_rule" in error.value.message_dict
    review = _review(clerk, order, conformity_statement_requested=True, decision_rule="简单接受")
    assert review.decision_rule == "简单接受"


@pytest.mark.django_db
def test_every_line_refused_cannot_be_accepted(make_order, categories, clerk):
    """R-INT-2/R-INT-4: nothing left to do → decline instead."""
    order = make_order(
        [line(categories["ct"], "CT-1", disposition=Disposition.REFUSE, disposition_reason="无授权")], stage="draft"
    )
    with pytest.raises(ValidationError, match="decline"):
        _review(clerk, order)


@pytest.mark.django_db
def test_reviewing_twice_is_refused(make_order, categories, clerk):
    """R-INT-4: a review is never redone in place; re-open the order instead."""
    order = make_order([line(categories["bp"])], stage="reviewed")
    with pytest.raises(ValidationError, match="already reviewed"):
        _review(clerk, order)
    assert order.reviews.count() == 1


@pytest.mark.django_db
def test_technical_lead_may_review(make_order, categories, techlead):
    """R-INT-4: the technical lead reviews any order."""
    order = make_order([line(categories["bp"])], stage="draft")
    review = _review(techlead, order)
    assert review.reviewer == techlead


@pytest.mark.django_db
def test_reopen_supersedes_the_review_and_clears_the_confirmation(make_order, categories, clerk):
    """R-INT-3/R-INT-4: re-opening keeps the old review (superseded) and the customer must
    confirm the changed order again."""
    order = make_order([line(categories["bp"])], stage="confirmed")
    old_review = order.current_review()
    with pytest.raises(ValidationError) as error:
        order_services.reopen_order(actor=clerk, order=order, reason=" ")
    assert "reason" in error.value.message_dict

    order_services.reopen_order(actor=clerk, order=order, reason="客户增加一台")
    order.refresh_from_db()
    old_review.refresh_from_db()
    assert order.status == OS.DRAFT
    assert old_review.superseded_at is not None and old_review.superseded_reason == "客户增加一台"
    assert order.current_review() is None
    assert not order.is_confirmed
    assert (order.confirmed_by_name, order.confirmation_method, order.confirmation_recorded_by) == ("", "", None)
    event = audit.events_for(order).get(action="order.reopened")
    assert event.changes["confirmation"][0][0] == "刘洋"

    _review(clerk, order)
    assert order.reviews.count() == 2
    order.refresh_from_db()
    with pytest.raises(ValidationError, match="confirmation"):
        order_services.accept_order(actor=clerk, order=order)


# --------------------------------------------------------------------------------------
# Confirmation (R-INT-3) and acceptance (R-INT-4, R-SMP-2).
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_confirmation_before_review_is_refused(make_order, categories, clerk):
    """R-INT-3/R-INT-4: the customer confirms the reviewed order."""
    order = make_order([line(categories["bp"])], stage="draft")
    with pytest.raises(ValidationError, match="after the contract review"):
        order_services.record_confirmation(actor=clerk, order=order, signer_name="刘洋")
    order.refresh_from_db()
    assert not order.is_confirmed


@pytest.mark.django_db
def test_confirmation_records_who_when_how_and_twice_names_them(make_order, categories, clerk):
    """R-INT-3: name and time of the signature are kept; a second confirmation is refused
    with a message naming who confirmed and when."""
    order = make_order([line(categories["bp"])], stage="reviewed")
    with pytest.raises(ValidationError) as error:
        order_services.record_confirmation(actor=clerk, order=order, signer_name=" ")
    assert "signer_name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        order_services.record_confirmation(
            actor=clerk, order=order, signer_name="刘洋", confirmed_at=timezone.now() + dt.timedelta(hours=1)
        )
    assert "confirmed_at" in error.value.message_dict

    signed = timezone.now() - dt.timedelta(minutes=30)
    order_services.record_confirmation(actor=clerk, order=order, signer_name=" 刘洋 ", confirmed_at=signed)
    order.refresh_from_db()
    assert (order.confirmed_by_name, order.confirmed_at) == ("刘洋", signed)
    assert (order.confirmation_method, order.confirmation_recorded_by) == ("paper", clerk)

    with pytest.raises(ValidationError) as error:
        order_services.record_confirmation(actor=clerk, order=order, signer_name="王五")
    message = " ".join(error.value.messages)
    assert "刘洋" in message
    assert timezone.localtime(signed).strftime("%Y-%m-%d %H:%M") in message
    order.refresh_from_db()
    assert order.confirmed_by_name == "刘洋"


@pytest.mark.django_db
def test_accept_before_confirmation_is_refused(make_order, categories, clerk):
    """R-INT-3/R-INT-4: no work before the customer confirmed."""
    order = make_order([line(categories["bp"])], stage="reviewed")
    with pytest.raises(ValidationError, match="confirmation"):
        order_services.accept_order(actor=clerk, order=order)
    order.refresh_from_db()
    assert order.status == OS.REVIEWED and not order.samples.exists()


@pytest.mark.django_db
def test_accept_registers_one_sample_per_unit(make_order, categories, clerk):
    """R-SMP-2: one unique ID per unit of each line not refused (<order>-01, -02, …), the
    unit's serial number, and a "registered" custody event for each."""
    order = make_order(
        [
            line(categories["bp"], "BP-1"),
            line(categories["pump"], "P-1, P-2", quantity=2),
            line(categories["ct"], "CT-9", disposition=Disposition.REFUSE, disposition_reason="无授权"),
            line(categories["pump"], "", quantity=1, no_serial=True, name="注射泵"),
        ]
    )
    order.refresh_from_db()
    assert order.status == OS.ACCEPTED
    assert (order.accepted_by, order.accepted_on) == (clerk, timezone.localdate())
    samples = list(order.samples.order_by("sample_id").select_related("item"))
    assert [s.sample_id for s in samples] == [f"{order.number}-{n:02d}" for n in range(1, 5)]
    assert [(s.item.line_no, s.unit_no, s.serial_number) for s in samples] == [
        (1, 1, "BP-1"),
        (2, 1, "P-1"),
        (2, 2, "P-2"),
        (4, 1, ""),
    ]
    assert all(s.status == SampleStatus.REGISTERED for s in samples)
    events = CustodyEvent.objects.filter(sample__order=order)
    assert events.count() == 4
    assert set(events.values_list("action", "from_status", "to_status", "actor")) == {
        ("registered", "", SampleStatus.REGISTERED, clerk.pk)
    }
    assert audit.events_for(order).get(action="order.accepted").changes["samples"] == [None, 4]


# --------------------------------------------------------------------------------------
# Due date (R-INT-5).
# --------------------------------------------------------------------------------------


@pytest.fixture
def make_up_weekend(clerk):
    """Saturday 2026-09-05 is a working day (调休); Thursday 2026-09-10 is a holiday."""
    WorkdayOverride.objects.create(date=dt.date(2026, 9, 5), is_working_day=True, note="调休上班", updated_by=clerk)
    WorkdayOverride.objects.create(date=dt.date(2026, 9, 10), is_working_day=False, note="本地休假", updated_by=clerk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("codes", "accepted", "due"),
    [
        # bp 5 working days from Mon 31 Aug: Tue–Fri + the make-up Saturday.
        (["bp"], dt.date(2026, 8, 31), dt.date(2026, 9, 5)),
        # bp from Mon 7 Sep: Tue, Wed, (Thu off), Fri, Mon, Tue.
        (["bp"], dt.date(2026, 9, 7), dt.date(2026, 9, 15)),
        # bp + pump: the largest limit (7) wins: Tue–Fri, Sat, Mon, Tue.
        (["bp", "pump"], dt.date(2026, 8, 31), dt.date(2026, 9, 8)),
    ],
)
def test_due_date_counts_working_days_with_overrides(make_order, categories, make_up_weekend, codes, accepted, due):
    """R-INT-5: acceptance + the largest turnaround limit in working days, with the lab's
    make-up working Saturday counted and its holiday skipped."""
    order = make_order([line(categories[c], f"{c}-1") for c in codes], stage="draft")
    assert order_services.due_date_for(order, accepted) == (due, False)


@pytest.mark.django_db
def test_accept_order_sets_the_due_date_on_the_acceptance_day(make_order, categories, clerk, make_up_weekend, monkeypatch):
    """R-INT-5: accepting on Mon 31 Aug 2026 with a 7-day line is due Tue 8 Sep (the
    Saturday 5 Sep make-up day counts)."""
    order = make_order([line(categories["bp"], "B1"), line(categories["pump"], "P1")], stage="confirmed")
    monkeypatch.setattr(order_services.timezone, "localdate", lambda *a, **k: dt.date(2026, 8, 31))
    order_services.accept_order(actor=clerk, order=order)
    order.refresh_from_db()
    assert order.accepted_on == dt.date(2026, 8, 31)
    assert order.due_date == dt.date(2026, 9, 8)
    assert order.due_date_provisional is False


@pytest.mark.django_db
def test_due_date_is_provisional_where_the_calendar_is_unknown(make_order, categories, head):
    """R-INT-5: beyond the official calendar the Monday–Friday guess is marked provisional,
    until the lab confirms that year's calendar."""
    order = make_order([line(categories["bp"], "B1")], stage="draft")
    due, provisional = order_services.due_date_for(order, dt.date(2099, 3, 2))  # a Monday
    assert (due, provisional) == (dt.date(2099, 3, 9), True)
    CalendarYear.objects.create(year=2099, source="国务院办公厅通知", confirmed_by=head)
    assert order_services.due_date_for(order, dt.date(2099, 3, 2)) == (dt.date(2099, 3, 9), False)


@pytest.mark.django_db
def test_due_date_running_into_an_unpublished_year_is_provisional(make_order, categories):
    """R-INT-5: accepted late in the last year the official calendar knows, due in the
    next (not yet published) year → provisional; within the known year → not."""
    unknown = next(y for y in range(2026, 2100) if workdays._official(dt.date(y, 6, 1)) is None)
    order = make_order([line(categories["pump"], "P1")], stage="draft")
    due, provisional = order_services.due_date_for(order, dt.date(unknown - 1, 12, 28))
    assert due.year == unknown and provisional is True
    due, provisional = order_services.due_date_for(order, dt.date(unknown - 1, 11, 2))
    assert due.year == unknown - 1 and provisional is False


# --------------------------------------------------------------------------------------
# Notices (R-INT-8) and payments.
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delay_notice_moves_the_due_date_and_is_emailed(
    make_order, categories, clerk, eager, django_capture_on_commit_callbacks
):
    """R-INT-8: a delay is told to the customer; the new due date replaces the old one and
    the audit event keeps the old one."""
    order = make_order([line(categories["bp"], "B1")])
    old_due = order.due_date
    new_due = old_due + dt.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        notice = order_services.send_notice(
            actor=clerk, order=order, kind=NoticeKind.DELAY, body="标准器送检，延期一周", new_due_date=new_due
        )
    order.refresh_from_db()
    notice.refresh_from_db()
    assert order.due_date == new_due
    assert (notice.kind, notice.new_due_date, notice.recipient) == (NoticeKind.DELAY, new_due, "ly@h1.example.cn")
    assert notice.status == NoticeStatus.SENT and notice.sent_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].body == "标准器送检，延期一周"
    event = audit.events_for(order).get(action="order.notice_sent")
    assert event.changes["due_date"] == [old_due.isoformat(), new_due.isoformat()]


@pytest.mark.django_db
@pytest.mark.parametrize("shift", [0, -1])
def test_delay_must_move_the_due_date_later(make_order, categories, clerk, shift):
    """R-INT-8: a "delay" to the same or an earlier date is refused; nothing recorded."""
    order = make_order([line(categories["bp"], "B1")])
    old_due = order.due_date
    with pytest.raises(ValidationError) as error:
        order_services.send_notice(
            actor=clerk, order=order, kind=NoticeKind.DELAY, body="延期",
            new_due_date=old_due + dt.timedelta(days=shift),
        )
    assert "new_due_date" in error.value.message_dict
    order.refresh_from_db()
    assert order.due_date == old_due
    assert not CustomerNotice.objects.exists()


@pytest.mark.django_db
def test_notice_told_by_phone_is_recorded(make_order, categories, clerk, django_capture_on_commit_callbacks):
    """R-INT-8: told by phone or in person → recorded, no e-mail."""
    order = make_order([line(categories["bp"], "B1")])
    with pytest.raises(ValidationError) as error:
        order_services.send_notice(
            actor=clerk, order=order, kind=NoticeKind.DEVIATION, body="改用比较法", by_email=False
        )
    assert "told_whom" in error.value.message_dict
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notice = order_services.send_notice(
            actor=clerk, order=order, kind=NoticeKind.DEVIATION, body="改用比较法", by_email=False, told_whom="刘洋"
        )
    assert callbacks == []
    assert (notice.status, notice.recipient) == (NoticeStatus.RECORDED, "刘洋")
    assert notice.sent_at is not None and notice.created_by == clerk
    assert mail.outbox == []


@pytest.mark.django_db
def test_email_notice_without_an_address_is_refused(make_order, categories, clerk):
    """R-INT-8: with no address anywhere the clerk records a phone call instead."""
    walk_in = Customer.objects.create(name="个体诊所")
    order = make_order([line(categories["bp"], "B1")], customer=walk_in)
    with pytest.raises(ValidationError, match="phone call"):
        order_services.send_notice(actor=clerk, order=order, kind=NoticeKind.DELAY, body="延期")
    assert not CustomerNotice.objects.exists()


@pytest.mark.django_db
def test_notices_only_for_orders_under_way(make_order, categories, clerk):
    """R-INT-8: a draft order has nothing to be late with; only delay/deviation kinds."""
    order = make_order([line(categories["bp"], "B1")], stage="draft")
    with pytest.raises(ValidationError):
        order_services.send_notice(actor=clerk, order=order, kind=NoticeKind.DELAY, body="x", by_email=False, told_whom="刘")
    accepted = make_order([line(categories["bp"], "B2")])
    with pytest.raises(ValidationError) as error:
        order_services.send_notice(actor=clerk, order=accepted, kind=NoticeKind.COMPLETION, body="x")
    assert "kind" in error.value.message_dict
    assert not CustomerNotice.objects.exists()


@pytest.mark.django_db
def test_receipt_number_is_used_once(make_order, categories, clerk):
    """R-INT-7: a receipt number is recorded once, across orders."""
    first = make_order([line(categories["bp"], "B1")])
    second = make_order([line(categories["bp"], "B2")])
    order_services.record_payment(actor=clerk, order=first, amount="80", method="cash", receipt_no="NO.0001")
    with pytest.raises(ValidationError) as error:
        order_services.record_payment(actor=clerk, order=second, amount="80", method="cash", receipt_no=" NO.0001 ")
    assert "receipt_no" in error.value.message_dict
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_payment_amount_and_method_are_checked(make_order, categories, clerk):
    order = make_order([line(categories["bp"], "B1")])
    with pytest.raises(ValidationError) as error:
        order_services.record_payment(actor=clerk, order=order, amount="-5", method="cheque", receipt_no="")
    assert set(error.value.message_dict) == {"amount", "method", "receipt_no"}


# --------------------------------------------------------------------------------------
# Cancel and edit.
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_needs_a_reason_and_is_audited(make_order, categories, clerk):
    order = make_order([line(categories["bp"])], stage="reviewed")
    with pytest.raises(ValidationError):
        order_services.cancel_order(actor=clerk, order=order, reason="")
    order_services.cancel_order(actor=clerk, order=order, reason="客户取消")
    order.refresh_from_db()
    assert order.status == OS.CANCELLED
    event = audit.events_for(order).get(action="order.cancelled")
    assert event.changes["status"] == [OS.REVIEWED, OS.CANCELLED] and event.reason == "客户取消"


@pytest.mark.django_db
def test_update_order_in_draft_keeps_old_values_in_the_audit_event(make_order, categories, clerk, hospital):
    """R-INT-3: a draft can change; the audit event keeps old → new."""
    order = make_order([line(categories["bp"], "B1")], stage="draft")
    order_services.update_order(
        actor=clerk, order=order, customer=hospital, channel=Channel.PHONE, work_location=WorkLocation.LAB,
        lines=[line(categories["bp"], "B1"), line(categories["pump"], "P1")],
        special_requirements="加急", reason="客户电话补充",
    )
    order.refresh_from_db()
    assert order.items.count() == 2 and order.channel == Channel.PHONE
    event = audit.events_for(order).get(action="order.updated")
    assert event.changes["channel"] == [Channel.COUNTER, Channel.PHONE]
    assert event.changes["special_requirements"] == ["", "加急"]
    old_lines, new_lines = event.changes["lines"]
    assert len(old_lines) == 1 and len(new_lines) == 2
    assert event.reason == "客户电话补充"


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["reviewed", "accepted"])
def test_update_order_after_review_is_refused(make_order, categories, clerk, hospital, stage):
    """R-INT-4: a reviewed order changes only after re-opening (new review)."""
    order = make_order([line(categories["bp"], "B1")], stage=stage)
    with pytest.raises(ValidationError, match="draft"):
        order_services.update_order(
            actor=clerk, order=order, customer=hospital, channel=Channel.COUNTER, work_location=WorkLocation.LAB,
            lines=[line(categories["bp"], "B9")], special_requirements="改",
        )
    order.refresh_from_db()
    assert order.items.get().serial_number == "B1" and order.special_requirements == ""
    assert not audit.events_for(order).filter(action="order.updated").exists()


@pytest.mark.django_db
def test_update_order_with_bad_lines_keeps_the_old_lines(make_order, categories, clerk, hospital):
    """R-INT-2: a bad edit saves nothing."""
    order = make_order([line(categories["bp"], "B1")], stage="draft")
    with pytest.raises(order_services.LinesInvalid):
        order_services.update_order(
            actor=clerk, order=order, customer=hospital, channel=Channel.COUNTER, work_location=WorkLocation.LAB,
            lines=[line(categories["ct"], "C1")],
        )
    assert list(order.items.values_list("serial_number", flat=True)) == ["B1"]


# --------------------------------------------------------------------------------------
# On-site visits (R-ONS-1, R-ONS-4).
# --------------------------------------------------------------------------------------


@pytest.fixture
def site_order(make_order, categories):
    return make_order(
        [line(categories["pump"], "P1")], work_location=WorkLocation.ON_SITE, channel=Channel.ON_SITE
    )


def _plan(clerk, order, **kwargs):
    values = {
        "planned_date": timezone.localdate() + dt.timedelta(days=3),
        "site_address": "市第一人民医院ICU",
        "site_contact": "刘洋",
    }
    values.update(kwargs)
    return visit_services.plan_visit(actor=clerk, order=order, **values)


@pytest.mark.django_db
def test_plan_visit_refused_for_a_lab_order(make_order, categories, clerk):
    """R-ONS-1: visits are for on-site orders only."""
    order = make_order([line(categories["bp"], "B1")])
    with pytest.raises(ValidationError, match="in the lab"):
        _plan(clerk, order)
    assert not OnSiteVisit.objects.exists()


@pytest.mark.django_db
def test_plan_visit_checks_date_and_site(site_order, clerk):
    """R-ONS-1: a visit has a date (not past), address and contact."""
    with pytest.raises(ValidationError) as error:
        _plan(clerk, site_order, planned_date=timezone.localdate() - dt.timedelta(days=1), site_address="", site_contact="")
    assert {"planned_date", "site_address", "site_contact"} <= set(error.value.message_dict)
    assert not OnSiteVisit.objects.exists()


@pytest.mark.django_db
def test_handover_before_site_confirmation_is_refused(site_order, clerk):
    """R-ONS-1: the site is confirmed with the customer before the work (and the hand-over)."""
    visit = _plan(clerk, site_order)
    assert visit.status == VisitStatus.PLANNED
    with pytest.raises(ValidationError, match="Confirm the site"):
        visit_services.record_handover(
            actor=clerk, visit=visit, state_changed=False, restoration_notes="", handed_over_to="刘洋"
        )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.handed_over_at is None


@pytest.mark.django_db
def test_site_confirmation_needs_whom_and_conditions(site_order, clerk):
    """R-ONS-1: recorded with whom and which conditions (temperature, humidity, power…)."""
    visit = _plan(clerk, site_order)
    with pytest.raises(ValidationError) as error:
        visit_services.confirm_site(actor=clerk, visit=visit, confirmed_with="", conditions="")
    assert set(error.value.message_dict) == {"confirmed_with", "conditions"}
    visit_services.confirm_site(actor=clerk, visit=visit, confirmed_with="刘洋", conditions="温度20±5℃，湿度≤80%")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SITE_CONFIRMED
    assert (visit.environment_confirmed_with, visit.environment_notes) == ("刘洋", "温度20±5℃，湿度≤80%")
    assert visit.environment_confirmed_at is not None
    with pytest.raises(ValidationError, match="already confirmed"):
        visit_services.confirm_site(actor=clerk, visit=visit, confirmed_with="刘洋", conditions="x")


@pytest.mark.django_db
def test_changed_state_needs_restoration_notes(site_order, clerk, technician):
    """R-ONS-4: if the instrument's state was changed, the restoration is recorded before
    the hand-over."""
    visit = _plan(clerk, site_order)
    visit_services.confirm_site(actor=clerk, visit=visit, confirmed_with="刘洋", conditions="温湿度符合")
    with pytest.raises(ValidationError) as error:
        visit_services.record_handover(
            actor=technician, visit=visit, state_changed=True, restoration_notes=" ", handed_over_to="刘洋"
        )
    assert "restoration_notes" in error.value.message_dict
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SITE_CONFIRMED

    visit_services.record_handover(
        actor=technician, visit=visit, state_changed=True, restoration_notes="报警阈值已恢复为出厂设置",
        handed_over_to="刘洋",
    )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE and visit.state_changed
    assert (visit.restoration_notes, visit.handed_over_to) == ("报警阈值已恢复为出厂设置", "刘洋")
    assert visit.handed_over_at is not None


# --------------------------------------------------------------------------------------
# Permissions (R-INT-9: staff access is role-based).
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_counter_without_authorisation_cannot_log_orders(counter, technician, hospital, categories):
    """R-INT-9: logging an order needs the receive-orders authorisation, not just the role."""
    for actor in (counter, technician):
        with pytest.raises(PermissionDenied):
            order_services.create_order(actor=actor, customer=hospital, lines=[line(categories["bp"])])
    assert not Order.objects.exists()
    assert not NumberSequence.objects.exists()


@pytest.mark.django_db
def test_customer_cannot_call_staff_order_services(make_order, categories, customer, portal_user, head):
    """R-INT-9: portal users never act as staff (even on their own organisation's order)."""
    draft = make_order([line(categories["bp"], "B1")], stage="draft")
    accepted = make_order([line(categories["bp"], "B2")])
    calls = [
        lambda a: order_services.create_order(actor=a, customer=draft.customer, lines=[line(categories["bp"])]),
        lambda a: _review(a, draft),
        lambda a: order_services.cancel_order(actor=a, order=draft, reason="x"),
        lambda a: order_services.record_confirmation(actor=a, order=draft, signer_name="x"),
        lambda a: order_services.record_payment(actor=a, order=accepted, amount="1", method="cash", receipt_no="x"),
        lambda a: order_services.approve_credit(actor=a, order=accepted, reason="x"),
        lambda a: order_services.send_notice(actor=a, order=accepted, kind=NoticeKind.DELAY, body="x"),
    ]
    for actor in (customer, portal_user):
        for call in calls:
            with pytest.raises(PermissionDenied):
                call(actor)
    draft.refresh_from_db()
    assert draft.status == OS.DRAFT
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_head_without_counter_authorisation_cannot_accept(make_order, categories, head):
    """R-INT-9: approving credit is the head's; accepting orders is the counter's."""
    order = make_order([line(categories["bp"], "B1")], stage="confirmed")
    with pytest.raises(PermissionDenied):
        order_services.accept_order(actor=head, order=order)
    order.refresh_from_db()
    assert order.status == OS.REVIEWED
