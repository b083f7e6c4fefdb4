"""Equipment status through the services and the transitions table (R-EQP-4, R-EQP-6,
R-ONS-2, R-ONS-5, R-EQP-9).

Every allowed pair of ``STATUS_TRANSITIONS`` is reached through a service (change_status,
check_out, check_in, a failed calibration or intermediate check) and leaves an audit event
old → new; every other pair is refused and leaves the status as it was.  The allowed pairs
are listed by hand below, so a pair added to the table without a test fails
``test_every_pair_of_the_table_is_exercised``.
"""

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from equipment.models import (
    CalibrationResult,
    CheckOutPurpose,
    CriterionKind,
    EquipmentStatus,
    ImpactAnalysis,
    ImpactTrigger,
    StopReason,
)
from equipment.models.register import STATUS_TRANSITIONS
from equipment.services import calibration, checkout, checks, status
from labqms import audit

S = EquipmentStatus
LIMITATION = "仅限 0–100 mmHg 使用"


def status_events(equipment):
    return audit.events_for(equipment).filter(action="equipment.status_changed")


def reach(equipment, target, *, lead, operator, before_off_site=S.IN_SERVICE):
    """Bring freshly registered (in service) ``equipment`` to ``target`` through services."""
    if target == S.OFF_SITE:
        reach(equipment, before_off_site, lead=lead, operator=operator)
        purpose = CheckOutPurpose.ON_SITE if before_off_site in (S.IN_SERVICE, S.RESTRICTED) else CheckOutPurpose.CALIBRATION
        checkout.check_out(actor=operator, equipment=equipment, purpose=purpose, destination="市一医院",
                           condition_ok=True, packed_ok=True)
    elif target == S.RESTRICTED:
        status.change_status(actor=lead, equipment=equipment, status=S.RESTRICTED, note=LIMITATION)
    elif target == S.OUT_OF_SERVICE:
        status.change_status(actor=operator, equipment=equipment, status=S.OUT_OF_SERVICE,
                             reason=StopReason.DEFECTIVE, note="显示屏损坏")
    elif target in (S.UNDER_REPAIR,):
        status.change_status(actor=operator, equipment=equipment, status=S.UNDER_REPAIR)
    elif target == S.RETIRED:
        status.change_status(actor=lead, equipment=equipment, status=S.RETIRED, note="报废")
    equipment.refresh_from_db()
    assert equipment.status == target
    return equipment


def _plan(equipment, lead):
    return checks.save_check_plan(actor=lead, equipment=equipment, interval_months=6, method="与参考压力计比对",
                                  criterion=CriterionKind.TOLERANCE, tolerance=Decimal("0.5"), unit="mmHg")


# How each allowed pair is reached.  (from, to) -> the services that make that move.
def via_change_status(equipment, target, *, lead, operator, today):
    actor = lead if target in (S.IN_SERVICE, S.RESTRICTED, S.RETIRED) else operator
    status.change_status(actor=actor, equipment=equipment, status=target,
                         reason=StopReason.OVERLOADED if target == S.OUT_OF_SERVICE else "",
                         note=LIMITATION if target == S.RESTRICTED else "决定")


def via_check_out(equipment, target, *, lead, operator, today):
    purpose = CheckOutPurpose.ON_SITE if equipment.status in (S.IN_SERVICE, S.RESTRICTED) else CheckOutPurpose.CALIBRATION
    checkout.check_out(actor=operator, equipment=equipment, purpose=purpose, destination="省计量院",
                       condition_ok=True, packed_ok=True)


def via_check_in(equipment, target, *, lead, operator, today):
    ok = target != S.OUT_OF_SERVICE
    checkout.check_in(actor=operator, checkout=equipment.checkouts.get(returned_at__isnull=True),
                      count_ok=True, function_ok=ok, calibration_ok=True, notes="" if ok else "开机自检失败")


def via_failed_calibration(equipment, target, *, lead, operator, today):
    calibration.record_calibration(actor=operator, equipment=equipment, provider="省计量院", certificate_no="F-1",
                                   calibrated_on=today, result=CalibrationResult.FAIL)


def via_failed_check(equipment, target, *, lead, operator, today):
    checks.record_check(actor=operator, plan=_plan(equipment, lead), checked_on=today, measured="101.2",
                        reference="100.0")


ALLOWED_PATHS = [
    (S.IN_SERVICE, S.RESTRICTED, via_change_status),
    (S.IN_SERVICE, S.OUT_OF_SERVICE, via_change_status),
    (S.IN_SERVICE, S.OUT_OF_SERVICE, via_failed_calibration),
    (S.IN_SERVICE, S.OUT_OF_SERVICE, via_failed_check),
    (S.IN_SERVICE, S.OFF_SITE, via_check_out),
    (S.IN_SERVICE, S.UNDER_REPAIR, via_change_status),
    (S.IN_SERVICE, S.RETIRED, via_change_status),
    (S.RESTRICTED, S.IN_SERVICE, via_change_status),
    (S.RESTRICTED, S.OUT_OF_SERVICE, via_change_status),
    (S.RESTRICTED, S.OUT_OF_SERVICE, via_failed_calibration),
    (S.RESTRICTED, S.OUT_OF_SERVICE, via_failed_check),
    (S.RESTRICTED, S.OFF_SITE, via_check_out),
    (S.RESTRICTED, S.UNDER_REPAIR, via_change_status),
    (S.RESTRICTED, S.RETIRED, via_change_status),
    (S.OUT_OF_SERVICE, S.IN_SERVICE, via_change_status),
    (S.OUT_OF_SERVICE, S.RESTRICTED, via_change_status),
    (S.OUT_OF_SERVICE, S.OFF_SITE, via_check_out),
    (S.OUT_OF_SERVICE, S.UNDER_REPAIR, via_change_status),
    (S.OUT_OF_SERVICE, S.RETIRED, via_change_status),
    (S.OFF_SITE, S.IN_SERVICE, via_check_in),
    (S.OFF_SITE, S.RESTRICTED, via_check_in),
    (S.OFF_SITE, S.OUT_OF_SERVICE, via_check_in),
    (S.UNDER_REPAIR, S.IN_SERVICE, via_change_status),
    (S.UNDER_REPAIR, S.RESTRICTED, via_change_status),
    (S.UNDER_REPAIR, S.OUT_OF_SERVICE, via_change_status),
    (S.UNDER_REPAIR, S.OUT_OF_SERVICE, via_failed_calibration),
    (S.UNDER_REPAIR, S.OUT_OF_SERVICE, via_failed_check),
    (S.UNDER_REPAIR, S.RETIRED, via_change_status),
]
ALLOWED = {(a, b) for a, targets in STATUS_TRANSITIONS.items() for b in targets}
REFUSED = sorted(set(itertools.product(S.values, S.values)) - {(str(a), str(b)) for a, b in ALLOWED})


def test_every_pair_of_the_table_is_exercised():
    """R-EQP-4: each allowed pair has a service path above; each other pair is tested as refused."""
    covered = {(a, b) for a, b, _via in ALLOWED_PATHS}
    assert covered == ALLOWED, {"untested": ALLOWED - covered, "not in the table": covered - ALLOWED}
    assert len(REFUSED) + len(ALLOWED) == len(S.values) ** 2
    assert all(b not in STATUS_TRANSITIONS[a] for a, b in REFUSED)
    assert set(STATUS_TRANSITIONS) == set(S.values)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "old,new,via", ALLOWED_PATHS, ids=[f"{a.value}->{b.value}-{v.__name__}" for a, b, v in ALLOWED_PATHS]
)
def test_allowed_transition_through_a_service_is_audited(old, new, via, make_equipment, lead, operator, today):
    """R-EQP-4, R-EQP-9: the move happens and the audit trail keeps old → new."""
    before_off_site = S.RESTRICTED if (old, new) == (S.OFF_SITE, S.RESTRICTED) else S.IN_SERVICE
    equipment = reach(make_equipment("EQ-T"), old, lead=lead, operator=operator, before_off_site=before_off_site)
    events_before = status_events(equipment).count()

    via(equipment, new, lead=lead, operator=operator, today=today)

    equipment.refresh_from_db()
    assert equipment.status == new
    assert status_events(equipment).count() == events_before + 1
    event = status_events(equipment).first()
    assert event.changes["status"] == [old, new]
    assert event.actor in (lead, operator)
    if new == S.OUT_OF_SERVICE:
        assert equipment.stop_reason
    if new == S.RESTRICTED:
        assert equipment.status_note == LIMITATION


@pytest.mark.django_db
@pytest.mark.parametrize("old,new", REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_refused_transition_leaves_status_unchanged(old, new, make_equipment, lead, operator):
    """R-EQP-4: a pair outside the table is refused (ValidationError) and nothing changes,
    even for the technical lead with every reason and note supplied."""
    equipment = reach(make_equipment("EQ-R"), old, lead=lead, operator=operator)
    events_before = status_events(equipment).count()

    with pytest.raises(ValidationError):
        status.change_status(actor=lead, equipment=equipment, status=new, reason=StopReason.DEFECTIVE, note=LIMITATION)
    if new == S.OFF_SITE:
        with pytest.raises(ValidationError):
            checkout.check_out(actor=lead, equipment=equipment, purpose=CheckOutPurpose.CALIBRATION,
                               destination="省计量院", condition_ok=True, packed_ok=True)

    equipment.refresh_from_db()
    assert equipment.status == old
    assert status_events(equipment).count() == events_before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "old,new",
    [(S.OUT_OF_SERVICE, S.IN_SERVICE), (S.OUT_OF_SERVICE, S.RESTRICTED), (S.UNDER_REPAIR, S.IN_SERVICE),
     (S.IN_SERVICE, S.RESTRICTED), (S.RESTRICTED, S.IN_SERVICE), (S.IN_SERVICE, S.RETIRED),
     (S.OUT_OF_SERVICE, S.RETIRED)],
)
def test_only_the_technical_lead_returns_to_use_or_retires(old, new, make_equipment, lead, operator):
    """R-EQP-4: a technician may stop equipment but not put it back into (restricted) use
    or retire it: PermissionDenied, status unchanged."""
    equipment = reach(make_equipment("EQ-P"), old, lead=lead, operator=operator)
    with pytest.raises(PermissionDenied):
        status.change_status(actor=operator, equipment=equipment, status=new, note=LIMITATION)
    equipment.refresh_from_db()
    assert equipment.status == old
    status.change_status(actor=lead, equipment=equipment, status=new, note=LIMITATION)
    equipment.refresh_from_db()
    assert equipment.status == new


@pytest.mark.django_db
def test_people_outside_the_technical_staff_cannot_stop_equipment(make_equipment, counter, qualitylead):
    """R-EQP-4: stopping equipment needs "equipment.maintain" (technicians, technical lead)."""
    equipment = make_equipment("EQ-C")
    for user in (counter, qualitylead):
        with pytest.raises(PermissionDenied):
            status.change_status(actor=user, equipment=equipment, status=S.OUT_OF_SERVICE, reason=StopReason.MISHANDLED)
    equipment.refresh_from_db()
    assert equipment.status == S.IN_SERVICE


@pytest.mark.django_db
@pytest.mark.parametrize("start", [S.IN_SERVICE, S.RESTRICTED, S.OUT_OF_SERVICE])
def test_off_site_only_through_a_check_out(start, make_equipment, lead, operator):
    """R-EQP-6, R-ONS-2: change_status never sends equipment off site; check_out does."""
    equipment = reach(make_equipment("EQ-O"), start, lead=lead, operator=operator)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        status.change_status(actor=lead, equipment=equipment, status=S.OFF_SITE, note="市一医院")
    assert "check-out" in " ".join(refused.value.messages)
    equipment.refresh_from_db()
    assert equipment.status == start
    assert not equipment.checkouts.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("target", [S.IN_SERVICE, S.RESTRICTED, S.OUT_OF_SERVICE, S.UNDER_REPAIR, S.RETIRED])
def test_leaving_off_site_only_through_the_return_check(target, make_equipment, lead, operator):
    """R-EQP-6, R-ONS-5: equipment that left the lab's control leaves "off site" only
    through the return check, whoever asks and whatever the target."""
    equipment = reach(make_equipment("EQ-B"), S.OFF_SITE, lead=lead, operator=operator)
    with pytest.raises(ValidationError):
        status.change_status(actor=lead, equipment=equipment, status=target,
                             reason=StopReason.DEFECTIVE, note=LIMITATION)
    equipment.refresh_from_db()
    assert equipment.status == S.OFF_SITE
    assert equipment.checkouts.get().is_open


@pytest.mark.django_db
def test_stop_while_off_site_cannot_be_undone_by_the_return_check(make_equipment, lead, operator):
    """R-EQP-4, R-EQP-6: whatever is reported while the equipment is away, the return
    check does not put it into use without the technical lead: it is refused while off
    site, and a failed return check stops it."""
    equipment = reach(make_equipment("EQ-X"), S.OFF_SITE, lead=lead, operator=operator)
    with pytest.raises(ValidationError):
        status.change_status(actor=operator, equipment=equipment, status=S.OUT_OF_SERVICE,
                             reason=StopReason.MISHANDLED, note="运输中跌落")
    checkout.check_in(actor=operator, checkout=equipment.checkouts.get(), count_ok=True, function_ok=False,
                      calibration_ok=True, notes="运输中跌落")
    equipment.refresh_from_db()
    assert equipment.status == S.OUT_OF_SERVICE


@pytest.mark.django_db
def test_out_of_service_needs_a_reason(make_equipment, operator):
    """R-EQP-4: taken out of service *because* overloaded, mishandled, suspect, defective or outside limits."""
    equipment = make_equipment("EQ-N")
    with pytest.raises(ValidationError) as refused:
        status.change_status(actor=operator, equipment=equipment, status=S.OUT_OF_SERVICE, note="坏了")
    assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError):
        status.change_status(actor=operator, equipment=equipment, status=S.OUT_OF_SERVICE, reason="bored")
    equipment.refresh_from_db()
    assert equipment.status == S.IN_SERVICE
    assert not status_events(equipment).exists()


@pytest.mark.django_db
def test_restricted_needs_the_limitation(make_equipment, lead):
    """R-EQP-4: restricted use (准用) states its limitation."""
    equipment = make_equipment("EQ-L")
    with pytest.raises(ValidationError) as refused:
        status.change_status(actor=lead, equipment=equipment, status=S.RESTRICTED, note="   ")
    assert "note" in refused.value.message_dict
    equipment.refresh_from_db()
    assert equipment.status == S.IN_SERVICE
    status.change_status(actor=lead, equipment=equipment, status=S.RESTRICTED, note=LIMITATION)
    equipment.refresh_from_db()
    assert (equipment.status, equipment.status_note, equipment.label_colour) == (S.RESTRICTED, LIMITATION, "yellow")


@pytest.mark.django_db
def test_unknown_status_is_refused(make_equipment, lead):
    equipment = make_equipment("EQ-U")
    with pytest.raises(ValidationError):
        status.change_status(actor=lead, equipment=equipment, status="lost")


@pytest.mark.django_db
def test_out_of_service_for_suspect_results_opens_an_impact_analysis(make_equipment, operator, today):
    """R-EQP-4: suspect results → out of service, and reverse traceability starts."""
    equipment = make_equipment("EQ-S")
    status.change_status(actor=operator, equipment=equipment, status=S.OUT_OF_SERVICE,
                         reason=StopReason.SUSPECT, note="比对结果偏大")
    equipment.refresh_from_db()
    assert (equipment.status, equipment.stop_reason, equipment.label_colour) == (S.OUT_OF_SERVICE, StopReason.SUSPECT, "red")
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert analysis.trigger == ImpactTrigger.SUSPECT
    assert analysis.found_on == today
    assert "比对结果偏大" in analysis.trigger_detail


@pytest.mark.django_db
@pytest.mark.parametrize("reason", [r for r in StopReason.values if r != StopReason.SUSPECT])
def test_other_stop_reasons_open_no_impact_analysis(reason, make_equipment, operator):
    equipment = make_equipment("EQ-O2")
    status.change_status(actor=operator, equipment=equipment, status=S.OUT_OF_SERVICE, reason=reason)
    assert not ImpactAnalysis.objects.filter(equipment=equipment).exists()


@pytest.mark.django_db
def test_returning_to_service_clears_the_stop_reason(make_equipment, lead, operator):
    """R-EQP-4: the reason belongs to "out of service"; back in service it is gone."""
    equipment = reach(make_equipment("EQ-Z"), S.OUT_OF_SERVICE, lead=lead, operator=operator)
    status.change_status(actor=lead, equipment=equipment, status=S.IN_SERVICE, note="维修后校准合格")
    equipment.refresh_from_db()
    assert (equipment.status, equipment.stop_reason, equipment.label_colour) == (S.IN_SERVICE, "", "green")
    assert status_events(equipment).first().changes["stop_reason"] == [StopReason.DEFECTIVE, ""]
