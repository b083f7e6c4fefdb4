"""Sample services (R-SMP-1..4, R-INT-6, R-INT-7): every status change goes through the
transitions table and leaves exactly one custody event (who, from → to, where, note);
every change the table does not allow is refused with nothing written."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from intake.models import (
    CustodyEvent,
    Customer,
    CustomerNotice,
    IntegrityCheck,
    NoticeKind,
    NoticeStatus,
    OrderStatus,
    ReceiptInspection,
    Release,
    Sample,
    SampleStatus,
    StorageLocation,
    WorkLocation,
)
from intake.models.samples import SAMPLE_TRANSITIONS
from intake.services import orders as order_services
from intake.services import samples as sample_services
from labqms import audit
from tests.intake.conftest import line

ST = SampleStatus
_receipts = itertools.count(1)


@pytest.fixture(autouse=True)
def _english():
    # Assertions on messages use the source strings, whatever the translations say.
    with translation.override("en"):
        yield


class Lab:
    """Builds samples in any status through the services only."""

    def __init__(self, make_order, categories, clerk, technician, location, shelf):
        self.make_order = make_order
        self.categories = categories
        self.clerk = clerk
        self.technician = technician
        self.location = location
        self.shelf = shelf

    def order(self, count=1, on_site=False):
        kwargs = {"work_location": WorkLocation.ON_SITE, "channel": "on_site"} if on_site else {}
        serials = ", ".join(f"BP-{n:03d}" for n in range(1, count + 1))
        return self.make_order([line(self.categories["bp"], serials, quantity=count)], **kwargs)

    def settle(self, order):
        order.refresh_from_db()
        due = order.fee_total() - order.paid_total()
        if due > 0:
            order_services.record_payment(
                actor=self.clerk, order=order, amount=due, method="cash", receipt_no=f"R{next(_receipts)}"
            )

    def release(self, samples, name="张三"):
        self.settle(samples[0].order)
        return sample_services.release_samples(
            actor=self.clerk,
            order=samples[0].order,
            samples=samples,
            receiver_name=name,
            receiver_id_document="身份证 3201xxxx",
            handed_over="器具 + 证书",
        )

    def advance(self, sample, status):
        """Move a registered lab sample forward to ``status`` (not ON_HOLD/RETURNED)."""
        path = [ST.RECEIVED, ST.STORED, ST.IN_TEST, ST.TESTED, ST.READY, ST.RELEASED]
        steps = {
            ST.RECEIVED: lambda s: sample_services.receive_sample(actor=self.clerk, sample=s),
            ST.STORED: lambda s: sample_services.store_sample(actor=self.clerk, sample=s, location=self.location),
            ST.IN_TEST: lambda s: sample_services.mark_sample_in_test(actor=self.technician, sample=s),
            ST.TESTED: lambda s: sample_services.mark_sample_tested(actor=self.technician, sample=s),
            ST.READY: lambda s: sample_services.check_integrity(actor=self.clerk, sample=s, intact=True),
            ST.RELEASED: lambda s: self.release([s]),
        }
        if status == ST.REGISTERED:
            return sample
        for step in path[: path.index(status) + 1]:
            steps[step](sample)
            sample = Sample.objects.get(pk=sample.pk)
        return sample

    def reach(self, status, *, on_site=False, held_from=ST.RECEIVED, settled=False):
        sample = self.order(on_site=on_site).samples.get()
        if settled:
            self.settle(sample.order)
        if status == ST.ON_HOLD:
            sample = self.advance(sample, held_from)
            sample_services.hold_sample(actor=self.clerk, sample=sample, reason="等待客户答复")
        elif status == ST.RETURNED:
            sample_services.return_untested(actor=self.clerk, sample=sample, reason="客户撤回")
        else:
            sample = self.advance(sample, status)
        sample = Sample.objects.get(pk=sample.pk)
        assert sample.status == status
        return sample


@pytest.fixture
def lab(make_order, categories, clerk, technician, location):
    shelf = StorageLocation.objects.create(code="S2", name="待检架")
    return Lab(make_order, categories, clerk, technician, location, shelf)


def _new_events(before_ids, sample):
    return CustodyEvent.objects.exclude(pk__in=before_ids).filter(sample=sample)


# --------------------------------------------------------------------------------------
# Allowed transitions: one service path per (from, to) pair of SAMPLE_TRANSITIONS.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    act: Callable
    action: str
    actor: str = "clerk"
    note: str = ""
    at: str = ""  # "location" / "shelf": the storage location named on the event
    on_site: bool = False
    held_from: str = ST.RECEIVED

    @property
    def id(self):
        return f"{self.source}->{self.target}:{self.action}" + (":on_site" if self.on_site else "")


def _receive(lab, s):
    sample_services.receive_sample(actor=lab.clerk, sample=s)


def _store(lab, s):
    sample_services.store_sample(actor=lab.clerk, sample=s, location=lab.location, note="放入收样室")


def _in_test(lab, s):
    sample_services.mark_sample_in_test(actor=lab.technician, sample=s, note="任务开始")


def _tested(lab, s):
    sample_services.mark_sample_tested(actor=lab.technician, sample=s, note="记录已核验")


def _hold(lab, s):
    sample_services.hold_sample(actor=lab.clerk, sample=s, reason="等待客户答复")


def _resume(lab, s):
    sample_services.resume_sample(actor=lab.clerk, sample=s, note="客户已答复")


def _return(lab, s):
    sample_services.return_untested(actor=lab.clerk, sample=s, reason="客户撤回")


def _intact(lab, s):
    sample_services.check_integrity(actor=lab.clerk, sample=s, intact=True, notes="完好", location=lab.shelf)


def _damaged(lab, s):
    sample_services.check_integrity(actor=lab.clerk, sample=s, intact=False, notes="外壳破裂")


def _release(lab, s):
    lab.release([s], name="张三")


HOLD_NOTE = "等待客户答复"
RESUME_NOTE = "客户已答复"
RETURN_NOTE = "客户撤回"

ALLOWED_MOVES = [
    # registered
    Move(ST.REGISTERED, ST.RECEIVED, _receive, "received"),
    Move(ST.REGISTERED, ST.IN_TEST, _in_test, "in_test", actor="technician", note="任务开始", on_site=True),
    Move(ST.REGISTERED, ST.ON_HOLD, _hold, "held", note=HOLD_NOTE),
    Move(ST.REGISTERED, ST.RETURNED, _return, "returned", note=RETURN_NOTE),
    # received
    Move(ST.RECEIVED, ST.STORED, _store, "stored", note="放入收样室", at="location"),
    Move(ST.RECEIVED, ST.IN_TEST, _in_test, "in_test", actor="technician", note="任务开始"),
    Move(ST.RECEIVED, ST.ON_HOLD, _hold, "held", note=HOLD_NOTE),
    Move(ST.RECEIVED, ST.RETURNED, _return, "returned", note=RETURN_NOTE),
    # stored
    Move(ST.STORED, ST.IN_TEST, _in_test, "in_test", actor="technician", note="任务开始", at="location"),
    Move(ST.STORED, ST.ON_HOLD, _hold, "held", note=HOLD_NOTE, at="location"),
    Move(ST.STORED, ST.RETURNED, _return, "returned", note=RETURN_NOTE, at="location"),
    # in test
    Move(ST.IN_TEST, ST.TESTED, _tested, "tested", actor="technician", note="记录已核验", at="location"),
    Move(ST.IN_TEST, ST.ON_HOLD, _hold, "held", note=HOLD_NOTE, at="location"),
    # tested (R-SMP-4)
    Move(ST.TESTED, ST.READY, _intact, "integrity_ok", note="完好", at="shelf"),
    Move(ST.TESTED, ST.ON_HOLD, _damaged, "integrity_failed", note="外壳破裂", at="location"),
    Move(ST.TESTED, ST.ON_HOLD, _hold, "held", note=HOLD_NOTE, at="location"),
    # ready (R-INT-7)
    Move(ST.READY, ST.RELEASED, _release, "released", note="to 张三"),  # leaves the lab: no location
    Move(ST.READY, ST.ON_HOLD, _hold, "held", note=HOLD_NOTE, at="location"),
    # on hold: back to where it was, or returned
    Move(ST.ON_HOLD, ST.REGISTERED, _resume, "resumed", note=RESUME_NOTE, held_from=ST.REGISTERED),
    Move(ST.ON_HOLD, ST.RECEIVED, _resume, "resumed", note=RESUME_NOTE, held_from=ST.RECEIVED),
    Move(ST.ON_HOLD, ST.STORED, _resume, "resumed", note=RESUME_NOTE, held_from=ST.STORED, at="location"),
    Move(ST.ON_HOLD, ST.IN_TEST, _resume, "resumed", note=RESUME_NOTE, held_from=ST.IN_TEST, at="location"),
    Move(ST.ON_HOLD, ST.TESTED, _resume, "resumed", note=RESUME_NOTE, held_from=ST.TESTED, at="location"),
    Move(ST.ON_HOLD, ST.READY, _resume, "resumed", note=RESUME_NOTE, held_from=ST.READY, at="location"),
    Move(ST.ON_HOLD, ST.RETURNED, _return, "returned", note=RETURN_NOTE, held_from=ST.RECEIVED),
]


def _reach_for(lab, move: Move):
    """The sample in ``move.source`` (lab samples past "received" are stored on the way)."""
    return lab.reach(move.source, on_site=move.on_site, held_from=move.held_from)


def test_every_allowed_sample_transition_has_a_service_path():
    """R-SMP-3: every (from, to) of SAMPLE_TRANSITIONS is exercised below, so a new
    transition added to the table without a test fails here."""
    table = {(source, target) for source, targets in SAMPLE_TRANSITIONS.items() for target in targets}
    exercised = {(move.source, move.target) for move in ALLOWED_MOVES}
    assert exercised == table, {
        "not exercised": sorted(table - exercised),
        "not in table": sorted(exercised - table),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("move", ALLOWED_MOVES, ids=[m.id for m in ALLOWED_MOVES])
def test_allowed_transition_writes_one_custody_event(lab, move):
    """R-SMP-3: an allowed change moves the sample and records who, from → to, where and why."""
    sample = _reach_for(lab, move)
    assert sample.status == move.source
    before = list(CustodyEvent.objects.values_list("pk", flat=True))

    move.act(lab, sample)

    sample.refresh_from_db()
    assert sample.status == move.target
    event = _new_events(before, sample).get()
    assert event.from_status == move.source
    assert event.to_status == move.target
    assert event.action == move.action
    assert event.actor == getattr(lab, move.actor)
    assert event.note == move.note
    expected_location = str(getattr(lab, move.at)) if move.at else ""
    assert event.location == expected_location
    if move.target == ST.ON_HOLD:
        assert sample.held_from == move.source
    if move.source == ST.ON_HOLD:
        assert sample.held_from == ""


@pytest.mark.django_db
def test_receive_with_location_stores_at_once(lab):
    """R-SMP-3: received and stored straight away: two custody events, location known."""
    sample = lab.reach(ST.REGISTERED)
    sample_services.receive_sample(actor=lab.clerk, sample=sample, location=lab.location)
    sample.refresh_from_db()
    assert sample.status == ST.STORED and sample.location == lab.location
    events = list(sample.custody.values_list("from_status", "to_status", "action", "location"))
    assert events == [
        ("", ST.REGISTERED, "registered", ""),
        (ST.REGISTERED, ST.RECEIVED, "received", ""),
        (ST.RECEIVED, ST.STORED, "stored", str(lab.location)),
    ]


@pytest.mark.django_db
def test_moving_a_stored_sample_records_the_new_location(lab):
    """R-SMP-3: a move keeps the status and records where the sample went; moving it to
    where it already is is refused."""
    sample = lab.reach(ST.STORED)
    before = list(CustodyEvent.objects.values_list("pk", flat=True))
    sample_services.store_sample(actor=lab.technician, sample=sample, location=lab.shelf, note="移至待检架")
    event = _new_events(before, sample).get()
    assert (event.from_status, event.to_status, event.action) == (ST.STORED, ST.STORED, "moved")
    assert (event.actor, event.location, event.note) == (lab.technician, str(lab.shelf), "移至待检架")
    sample.refresh_from_db()
    assert sample.location == lab.shelf

    count = CustodyEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        sample_services.store_sample(actor=lab.clerk, sample=sample, location=lab.shelf)
    assert "location" in error.value.message_dict
    assert CustodyEvent.objects.count() == count


@pytest.mark.django_db
def test_store_in_a_location_out_of_use_is_refused(lab):
    """R-SMP-3: only locations in use."""
    sample = lab.reach(ST.RECEIVED)
    lab.shelf.is_active = False
    lab.shelf.save()
    with pytest.raises(ValidationError) as error:
        sample_services.store_sample(actor=lab.clerk, sample=sample, location=lab.shelf)
    assert "location" in error.value.message_dict
    sample.refresh_from_db()
    assert sample.status == ST.RECEIVED


# --------------------------------------------------------------------------------------
# Refused transitions: every service from every status it may not start from.
# --------------------------------------------------------------------------------------

SERVICES: dict[str, tuple[str | None, Callable]] = {
    "receive_sample": (ST.RECEIVED, lambda lab, s: sample_services.receive_sample(actor=lab.clerk, sample=s)),
    "store_sample": (
        ST.STORED,
        lambda lab, s: sample_services.store_sample(actor=lab.clerk, sample=s, location=lab.shelf),
    ),
    "mark_sample_in_test": (
        ST.IN_TEST,
        lambda lab, s: sample_services.mark_sample_in_test(actor=lab.technician, sample=s),
    ),
    "mark_sample_tested": (
        ST.TESTED,
        lambda lab, s: sample_services.mark_sample_tested(actor=lab.technician, sample=s),
    ),
    "check_integrity": (
        ST.READY,
        lambda lab, s: sample_services.check_integrity(actor=lab.clerk, sample=s, intact=True),
    ),
    "hold_sample": (ST.ON_HOLD, lambda lab, s: sample_services.hold_sample(actor=lab.clerk, sample=s, reason="x")),
    # resume goes back to the held-from status
    "resume_sample": (None, lambda lab, s: sample_services.resume_sample(actor=lab.clerk, sample=s, note="x")),
    "return_untested": (
        ST.RETURNED,
        lambda lab, s: sample_services.return_untested(actor=lab.clerk, sample=s, reason="x"),
    ),
    "release_samples": (ST.RELEASED, lambda lab, s: lab.release([s])),
}
# The statuses (of a LAB sample) each service may start from.  store_sample on a sample
# already put away is a "move" (same status, new location), not a transition.
MOVE_STATUSES = {ST.STORED, ST.IN_TEST, ST.TESTED, ST.READY, ST.ON_HOLD}
ALLOWED_FROM: dict[str, set[str]] = {
    "receive_sample": {ST.REGISTERED},
    "store_sample": {ST.RECEIVED} | MOVE_STATUSES,
    "mark_sample_in_test": {ST.RECEIVED, ST.STORED},  # registered only on site, see below
    "mark_sample_tested": {ST.IN_TEST},
    "check_integrity": {ST.TESTED},
    "hold_sample": {ST.REGISTERED, ST.RECEIVED, ST.STORED, ST.IN_TEST, ST.TESTED, ST.READY},
    "resume_sample": {ST.ON_HOLD},
    "return_untested": {ST.REGISTERED, ST.RECEIVED, ST.STORED, ST.ON_HOLD},
    "release_samples": {ST.READY},
}
REFUSED = [
    (service, source)
    for service in SERVICES
    for source in ST.values
    if source not in ALLOWED_FROM[service]
]


def test_allowed_starting_points_agree_with_the_table():
    """R-SMP-3: what the services allow is what SAMPLE_TRANSITIONS allows (moves aside),
    and every pair the table lacks is in the refused list below."""
    for service, (target, _act) in SERVICES.items():
        if target is None:
            continue
        for source in ALLOWED_FROM[service]:
            if service == "store_sample" and source in MOVE_STATUSES:
                continue
            assert target in SAMPLE_TRANSITIONS[source], (service, source)
        for source in ST.values:
            not_in_table = target not in SAMPLE_TRANSITIONS[source]
            is_move = service == "store_sample" and source in MOVE_STATUSES
            if not_in_table and not is_move:
                assert (service, source) in REFUSED, (service, source)


@pytest.mark.django_db
@pytest.mark.parametrize(("service", "source"), REFUSED, ids=[f"{s}-from-{f}" for s, f in REFUSED])
def test_refused_transition_writes_nothing(lab, service, source):
    """R-SMP-3: a change the table (or the service's own rule) refuses raises
    ValidationError; the status stays and no custody event is written."""
    # Release is refused for the status, not for the fees.
    sample = lab.reach(source, settled=service == "release_samples")
    count = CustodyEvent.objects.count()
    receipts = ReceiptInspection.objects.count()
    checks = IntegrityCheck.objects.count()
    with pytest.raises(ValidationError):
        SERVICES[service][1](lab, sample)
    sample.refresh_from_db()
    assert sample.status == source
    assert CustodyEvent.objects.count() == count
    assert ReceiptInspection.objects.count() == receipts
    assert IntegrityCheck.objects.count() == checks


@pytest.mark.django_db
def test_registered_lab_sample_cannot_go_in_test_but_on_site_sample_can(lab):
    """R-SMP-1/R-ONS: a lab sample is received before work starts; an on-site sample goes
    from registered straight to in test."""
    lab_sample = lab.reach(ST.REGISTERED)
    with pytest.raises(ValidationError, match="has not been received"):
        sample_services.mark_sample_in_test(actor=lab.technician, sample=lab_sample)
    lab_sample.refresh_from_db()
    assert lab_sample.status == ST.REGISTERED
    assert lab_sample.custody.count() == 1

    site_sample = lab.reach(ST.REGISTERED, on_site=True)
    sample_services.mark_sample_in_test(actor=lab.technician, sample=site_sample)
    site_sample.refresh_from_db()
    assert site_sample.status == ST.IN_TEST


@pytest.mark.django_db
def test_on_site_sample_is_not_received_at_the_counter(lab):
    """R-SMP-1: on-site instruments never pass the counter."""
    sample = lab.reach(ST.REGISTERED, on_site=True)
    with pytest.raises(ValidationError, match="On-site samples"):
        sample_services.receive_sample(actor=lab.clerk, sample=sample)
    assert sample.custody.count() == 1
    assert not ReceiptInspection.objects.filter(sample=sample).exists()


@pytest.mark.django_db
def test_receiving_twice_is_refused(lab):
    """R-SMP-1: one receipt inspection per sample."""
    sample = lab.reach(ST.REGISTERED)
    sample_services.receive_sample(actor=lab.clerk, sample=sample)
    count = CustodyEvent.objects.count()
    with pytest.raises(ValidationError, match="already received"):
        sample_services.receive_sample(actor=lab.clerk, sample=sample)
    assert CustodyEvent.objects.count() == count
    assert ReceiptInspection.objects.filter(sample=sample).count() == 1


@pytest.mark.django_db
def test_hold_twice_keeps_the_status_it_was_held_from(lab):
    """R-SMP-3: holding a sample already on hold is refused, so resuming still returns it
    to where it was (it must never get stuck on hold)."""
    sample = lab.reach(ST.ON_HOLD, held_from=ST.STORED)
    with pytest.raises(ValidationError):
        sample_services.hold_sample(actor=lab.clerk, sample=sample, reason="again")
    sample.refresh_from_db()
    assert sample.held_from == ST.STORED
    sample_services.resume_sample(actor=lab.clerk, sample=sample, note="继续")
    sample.refresh_from_db()
    assert sample.status == ST.STORED


@pytest.mark.django_db
def test_work_on_a_held_sample_needs_resume_first(lab):
    """R-SMP-3/R-SMP-4: a sample held (e.g. damaged) does not silently leave the hold when
    [Records] starts or finishes work on it; resuming needs a reason."""
    sample = lab.reach(ST.ON_HOLD, held_from=ST.RECEIVED)
    for call in (sample_services.mark_sample_in_test, sample_services.mark_sample_tested):
        with pytest.raises(ValidationError):
            call(actor=lab.technician, sample=sample)
    with pytest.raises(ValidationError) as error:
        sample_services.resume_sample(actor=lab.clerk, sample=sample, note=" ")
    assert "note" in error.value.message_dict
    sample.refresh_from_db()
    assert sample.status == ST.ON_HOLD


@pytest.mark.django_db
def test_hold_and_return_need_a_reason(lab):
    sample = lab.reach(ST.RECEIVED)
    count = CustodyEvent.objects.count()
    with pytest.raises(ValidationError):
        sample_services.hold_sample(actor=lab.clerk, sample=sample, reason="  ")
    with pytest.raises(ValidationError):
        sample_services.return_untested(actor=lab.clerk, sample=sample, reason="")
    assert CustodyEvent.objects.count() == count


# --------------------------------------------------------------------------------------
# Custody trail is append-only.
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_custody_events_cannot_be_changed_or_deleted(received_sample):
    """R-SMP-3: the custody trail is append-only."""
    event = received_sample.custody.last()
    event.note = "rewritten"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    event.refresh_from_db()
    assert event.note == ""


# --------------------------------------------------------------------------------------
# Receipt inspection (R-SMP-1) and integrity (R-SMP-4).
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anomalies_need_the_customers_confirmation_on_the_spot(lab):
    """R-SMP-1: an anomaly is confirmed by the customer on the spot: their name is required."""
    sample = lab.reach(ST.REGISTERED)
    with pytest.raises(ValidationError) as error:
        sample_services.receive_sample(actor=lab.clerk, sample=sample, anomalies="表面划痕")
    assert "customer_confirmed_by" in error.value.message_dict
    assert not ReceiptInspection.objects.filter(sample=sample).exists()
    sample.refresh_from_db()
    assert sample.status == ST.REGISTERED

    sample_services.receive_sample(
        actor=lab.clerk, sample=sample, anomalies="表面划痕", customer_confirmed_by="刘洋"
    )
    receipt = ReceiptInspection.objects.get(sample=sample)
    assert receipt.has_anomalies
    assert (receipt.anomalies, receipt.customer_confirmed_by, receipt.inspected_by) == ("表面划痕", "刘洋", lab.clerk)
    event = sample.custody.get(action="received")
    assert event.note == "表面划痕"


@pytest.mark.django_db
@pytest.mark.parametrize("box", ["packaging_ok", "appearance_ok", "markings_ok", "accessories_ok"])
def test_a_failed_check_box_needs_a_description(lab, box):
    """R-SMP-1: a box not ticked needs the anomaly described (and confirmed)."""
    sample = lab.reach(ST.REGISTERED)
    with pytest.raises(ValidationError) as error:
        sample_services.receive_sample(actor=lab.clerk, sample=sample, customer_confirmed_by="刘洋", **{box: False})
    assert "anomalies" in error.value.message_dict
    assert not ReceiptInspection.objects.filter(sample=sample).exists()

    sample_services.receive_sample(
        actor=lab.clerk, sample=sample, anomalies="缺少袖带", customer_confirmed_by="刘洋", **{box: False}
    )
    receipt = ReceiptInspection.objects.get(sample=sample)
    assert getattr(receipt, box) is False and receipt.has_anomalies


@pytest.mark.django_db
def test_clean_receipt_needs_no_confirmation(lab):
    """R-SMP-1: all boxes ticked, nothing to confirm."""
    sample = lab.reach(ST.REGISTERED)
    sample_services.receive_sample(actor=lab.clerk, sample=sample, accessories_received="袖带 ×1")
    receipt = ReceiptInspection.objects.get(sample=sample)
    assert not receipt.has_anomalies
    assert receipt.accessories_received == "袖带 ×1"


@pytest.mark.django_db
def test_integrity_not_intact_puts_the_sample_on_hold_with_notes(lab):
    """R-SMP-4: a damaged sample is held with the damage described."""
    sample = lab.reach(ST.TESTED)
    with pytest.raises(ValidationError) as error:
        sample_services.check_integrity(actor=lab.clerk, sample=sample, intact=False, notes="")
    assert "notes" in error.value.message_dict
    assert not IntegrityCheck.objects.filter(sample=sample).exists()

    sample_services.check_integrity(actor=lab.clerk, sample=sample, intact=False, notes="显示屏裂纹")
    sample.refresh_from_db()
    assert (sample.status, sample.held_from) == (ST.ON_HOLD, ST.TESTED)
    check = IntegrityCheck.objects.get(sample=sample)
    assert (check.intact, check.notes, check.checked_by) == (False, "显示屏裂纹", lab.clerk)
    assert sample.order.status == OrderStatus.ACCEPTED  # not complete while on hold


@pytest.mark.django_db
def test_integrity_intact_makes_the_sample_ready(lab):
    """R-SMP-4: checked intact → ready for release."""
    sample = lab.reach(ST.TESTED)
    sample_services.check_integrity(actor=lab.clerk, sample=sample, intact=True)
    sample.refresh_from_db()
    assert sample.status == ST.READY
    assert IntegrityCheck.objects.get(sample=sample).intact is True


# --------------------------------------------------------------------------------------
# Completion and the completion notice (R-INT-6).
# --------------------------------------------------------------------------------------


@pytest.fixture
def eager(settings):
    """Celery tasks run in-process (the notice e-mail is sent during on_commit)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.mark.django_db
def test_order_completes_when_the_last_sample_is_ready_and_notice_is_emailed(
    lab, eager, django_capture_on_commit_callbacks
):
    """R-INT-6: the last sample ready → order complete, completion notice e-mailed after commit."""
    order = lab.order(count=2)
    first, second = order.samples.order_by("sample_id")
    first = lab.advance(first, ST.TESTED)
    second = lab.advance(second, ST.TESTED)

    with django_capture_on_commit_callbacks(execute=True):
        sample_services.check_integrity(actor=lab.clerk, sample=first, intact=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert not order.notices.exists()
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sample_services.check_integrity(actor=lab.clerk, sample=second, intact=True)
    assert len(callbacks) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.completed_at is not None
    notice = order.notices.get()
    assert notice.kind == NoticeKind.COMPLETION
    assert notice.status == NoticeStatus.SENT and notice.sent_at is not None
    assert notice.recipient == "ly@h1.example.cn"  # the contact's address wins
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ly@h1.example.cn"]
    assert order.number in mail.outbox[0].subject
    assert audit.events_for(order).filter(action="order.completed").exists()


@pytest.mark.django_db
def test_completion_without_email_is_recorded_as_failed(
    make_order, categories, lab, eager, django_capture_on_commit_callbacks
):
    """R-INT-6: no e-mail address → the notice is kept as FAILED with a reason; no crash."""
    walk_in = Customer.objects.create(name="个体诊所", phone="025-1234")
    order = make_order([line(categories["bp"], "X-1")], customer=walk_in)
    sample = lab.advance(order.samples.get(), ST.TESTED)
    with django_capture_on_commit_callbacks(execute=True):
        sample_services.check_integrity(actor=lab.clerk, sample=sample, intact=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    notice = order.notices.get()
    assert notice.status == NoticeStatus.FAILED
    assert notice.error
    assert notice.recipient == ""
    assert mail.outbox == []


@pytest.mark.django_db
def test_resume_after_damage_completes_the_order(lab):
    """R-INT-6/R-SMP-4: a held sample resumed to ready completes the order."""
    sample = lab.reach(ST.TESTED)
    sample_services.check_integrity(actor=lab.clerk, sample=sample, intact=False, notes="外壳破裂")
    sample_services.resume_sample(actor=lab.clerk, sample=sample, note="客户同意按现状检定")
    sample.refresh_from_db()
    assert sample.status == ST.TESTED  # back to where it was held from
    sample_services.check_integrity(actor=lab.clerk, sample=sample, intact=True, notes="客户确认")
    sample.order.refresh_from_db()
    assert sample.order.status == OrderStatus.COMPLETED
    assert CustomerNotice.objects.filter(order=sample.order, kind=NoticeKind.COMPLETION).count() == 1


@pytest.mark.django_db
def test_all_samples_returned_untested_closes_the_order(lab):
    """R-INT-6/R-INT-7: nothing left to test or hand back → completed then released."""
    sample = lab.reach(ST.RECEIVED)
    sample_services.return_untested(actor=lab.clerk, sample=sample, reason="无法检定")
    order = sample.order
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    assert order.completed_at is not None and order.released_at is not None


# --------------------------------------------------------------------------------------
# Release (R-INT-7).
# --------------------------------------------------------------------------------------


def _release(lab, order, samples, name="张三"):
    return sample_services.release_samples(
        actor=lab.clerk, order=order, samples=samples, receiver_name=name,
        receiver_id_document="身份证 3201xxxx", handed_over="器具 + 证书",
    )


def _ready_order(lab, count=1):
    order = lab.order(count=count)
    for sample in order.samples.all():
        lab.advance(sample, ST.READY)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    return order


@pytest.mark.django_db
def test_release_refused_until_fees_are_settled(lab):
    """R-INT-7: unpaid → refused; partly paid → still refused; fully paid → released."""
    order = _ready_order(lab)
    sample = order.samples.get()
    assert order.fee_total() == Decimal("80.00")
    with pytest.raises(ValidationError, match="not settled"):
        _release(lab, order, [sample])
    order_services.record_payment(actor=lab.clerk, order=order, amount="50", method="cash", receipt_no="P-001")
    with pytest.raises(ValidationError, match="50"):
        _release(lab, order, [sample])
    assert not Release.objects.exists()
    sample.refresh_from_db()
    assert sample.status == ST.READY

    order_services.record_payment(actor=lab.clerk, order=order, amount="30", method="mobile", receipt_no="P-002")
    release = _release(lab, order, [sample])
    sample.refresh_from_db()
    assert sample.status == ST.RELEASED and sample.release == release
    assert (release.receiver_name, release.released_by) == ("张三", lab.clerk)


@pytest.mark.django_db
def test_credit_is_approved_by_the_head_only(lab, head):
    """R-INT-7: credit instead of payment needs the lab head."""
    order = _ready_order(lab)
    with pytest.raises(PermissionDenied):
        order_services.approve_credit(actor=lab.clerk, order=order, reason="月结")
    order.refresh_from_db()
    assert order.credit_approved_at is None
    with pytest.raises(ValidationError):
        order_services.approve_credit(actor=head, order=order, reason=" ")

    order_services.approve_credit(actor=head, order=order, reason="医院月结客户")
    order.refresh_from_db()
    assert order.credit_approved_by == head and order.is_settled
    _release(lab, order, list(order.samples.all()))
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED


@pytest.mark.django_db
def test_releasing_a_sample_twice_names_when_and_to_whom(lab):
    """R-INT-7: a sample is released once; the refusal says when and to whom."""
    order = _ready_order(lab, count=2)
    lab.settle(order)
    first, second = order.samples.order_by("sample_id")
    release = _release(lab, order, [first], name="张三")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED  # one sample still in the lab

    count = CustodyEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        _release(lab, order, [first, second], name="李四")
    message = " ".join(error.value.messages)
    assert "张三" in message
    assert timezone.localtime(release.released_at).strftime("%Y-%m-%d %H:%M") in message
    assert CustodyEvent.objects.count() == count
    second.refresh_from_db()
    assert second.status == ST.READY  # all or nothing

    _release(lab, order, [second], name="李四")
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED and order.released_at is not None
    assert Release.objects.filter(order=order).count() == 2


@pytest.mark.django_db
def test_release_refuses_a_sample_of_another_order(lab):
    """R-INT-7: only the order's own samples."""
    order = _ready_order(lab)
    other = _ready_order(lab)
    lab.settle(order)
    with pytest.raises(ValidationError, match="another order"):
        _release(lab, order, list(other.samples.all()))


@pytest.mark.django_db
def test_release_needs_receiver_document_and_what_was_handed_over(lab):
    """R-INT-7: the hand-over is recorded."""
    order = _ready_order(lab)
    lab.settle(order)
    with pytest.raises(ValidationError) as error:
        sample_services.release_samples(
            actor=lab.clerk, order=order, samples=[], receiver_name="", receiver_id_document="", handed_over=""
        )
    assert set(error.value.message_dict) == {"receiver_name", "receiver_id_document", "handed_over", "samples"}


# --------------------------------------------------------------------------------------
# Permissions.
# --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_technician_marks_in_test_and_tested_but_does_not_receive(lab):
    """R-INT-9 (role-based staff access): technicians move samples through testing, the
    counter receives, returns and releases."""
    sample = lab.reach(ST.REGISTERED)
    with pytest.raises(PermissionDenied):
        sample_services.receive_sample(actor=lab.technician, sample=sample)
    sample_services.receive_sample(actor=lab.clerk, sample=sample)
    sample_services.mark_sample_in_test(actor=lab.technician, sample=sample)
    sample_services.mark_sample_tested(actor=lab.technician, sample=sample)
    sample.refresh_from_db()
    assert sample.status == ST.TESTED
    with pytest.raises(PermissionDenied):
        sample_services.return_untested(actor=lab.technician, sample=sample, reason="x")
    sample_services.check_integrity(actor=lab.technician, sample=sample, intact=True)
    lab.settle(sample.order)
    with pytest.raises(PermissionDenied):
        sample_services.release_samples(
            actor=lab.technician, order=sample.order, samples=[sample], receiver_name="张三",
            receiver_id_document="x", handed_over="x",
        )


@pytest.mark.django_db
def test_customer_and_unauthorised_counter_cannot_move_samples(lab, customer, counter, portal_user):
    """R-INT-9: customers never call staff services; counter staff need the authorisation."""
    sample = lab.reach(ST.RECEIVED)
    calls = [
        lambda actor: sample_services.receive_sample(actor=actor, sample=sample),
        lambda actor: sample_services.store_sample(actor=actor, sample=sample, location=lab.location),
        lambda actor: sample_services.mark_sample_in_test(actor=actor, sample=sample),
        lambda actor: sample_services.hold_sample(actor=actor, sample=sample, reason="x"),
        lambda actor: sample_services.return_untested(actor=actor, sample=sample, reason="x"),
    ]
    count = CustodyEvent.objects.count()
    for actor in (customer, portal_user, counter):
        for call in calls:
            with pytest.raises(PermissionDenied):
                call(actor)
    assert CustodyEvent.objects.count() == count


@pytest.mark.postgres
def test_database_refuses_update_and_delete_of_custody_events(received_sample):
    """R-SMP-3: even raw SQL cannot rewrite a sample's custody trail on PostgreSQL."""
    from django.db import DatabaseError, connection, transaction

    event = received_sample.custody.last()
    for sql in (
        "UPDATE intake_custodyevent SET note = 'forged' WHERE id = %s",
        "DELETE FROM intake_custodyevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.note != "forged"
