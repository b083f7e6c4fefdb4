"""Check-out for on-site work or external calibration and the return check (R-ONS-2,
R-ONS-5, R-EQP-6): checked and packed before leaving, off site while away, and not used
again before a return check of count, function and calibration status."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from equipment.models import (
    CheckOut,
    CheckOutPurpose,
    CriterionKind,
    EquipmentStatus,
    ImpactAnalysis,
    StopReason,
)
from equipment.services import checkout, checks, gate, status
from labqms import audit

LIMITATION = "仅限 0–100 mmHg"


def out(equipment, actor, purpose=CheckOutPurpose.ON_SITE, condition_ok=True, packed_ok=True, destination="市一医院"):
    return checkout.check_out(actor=actor, equipment=equipment, purpose=purpose, destination=destination,
                              condition_ok=condition_ok, packed_ok=packed_ok, notes="带袖带 2 副")


def back(co, actor, count_ok=True, function_ok=True, calibration_ok=True, notes=""):
    return checkout.check_in(actor=actor, checkout=co, count_ok=count_ok, function_ok=function_ok,
                             calibration_ok=calibration_ok, notes=notes)


@pytest.mark.django_db
def test_check_out_sends_the_equipment_off_site(make_equipment, operator):
    """R-ONS-2: checked, in good condition and packed; status off site; audited."""
    equipment = make_equipment("EQ-1")
    co = out(equipment, operator)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OFF_SITE
    assert equipment.status_before_off_site == EquipmentStatus.IN_SERVICE
    assert (co.is_open, co.condition_ok, co.packed_ok, co.out_by, co.destination) == (True, True, True, operator, "市一医院")
    event = audit.events_for(equipment).filter(action="equipment.status_changed").first()
    assert event.changes["status"] == [EquipmentStatus.IN_SERVICE, EquipmentStatus.OFF_SITE]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "purpose,condition_ok,packed_ok,field",
    [
        (CheckOutPurpose.ON_SITE, False, True, "condition_ok"),
        (CheckOutPurpose.CALIBRATION, False, True, "condition_ok"),
        (CheckOutPurpose.ON_SITE, True, False, "packed_ok"),
        ("holiday", True, True, "purpose"),
    ],
)
def test_leaving_needs_the_checks_before_leaving(purpose, condition_ok, packed_ok, field, make_equipment, operator):
    """R-ONS-2: it leaves only checked (and, for on-site work, packed against shock, heat and humidity)."""
    equipment = make_equipment("EQ-1")
    with pytest.raises(ValidationError) as refused:
        out(equipment, operator, purpose=purpose, condition_ok=condition_ok, packed_ok=packed_ok)
    assert field in refused.value.message_dict
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE
    assert not CheckOut.objects.exists()


@pytest.mark.django_db
def test_external_calibration_does_not_need_the_on_site_packing(make_equipment, operator):
    equipment = make_equipment("EQ-1")
    co = out(equipment, operator, purpose=CheckOutPurpose.CALIBRATION, packed_ok=False, destination="省计量院")
    assert co.is_open and not co.packed_ok


@pytest.mark.django_db
def test_a_destination_is_required(make_equipment, operator):
    equipment = make_equipment("EQ-1")
    with pytest.raises(ValidationError) as refused:
        out(equipment, operator, destination="  ")
    assert "destination" in refused.value.message_dict


@pytest.mark.django_db
def test_checking_out_twice_is_refused(make_equipment, operator):
    equipment = make_equipment("EQ-1")
    out(equipment, operator)
    with pytest.raises(ValidationError):
        out(equipment, operator)
    with pytest.raises(ValidationError):
        out(equipment, operator, purpose=CheckOutPurpose.CALIBRATION)
    assert CheckOut.objects.count() == 1


@pytest.mark.django_db
def test_stopped_equipment_does_not_go_out_for_on_site_work(make_equipment, operator, today):
    """R-ONS-2: on-site work takes equipment in (restricted) service only; external
    calibration may take stopped equipment."""
    equipment = make_equipment("EQ-1")
    status.change_status(actor=operator, equipment=equipment, status=EquipmentStatus.OUT_OF_SERVICE,
                         reason=StopReason.DEFECTIVE)
    with pytest.raises(ValidationError):
        out(equipment, operator)
    co = out(equipment, operator, purpose=CheckOutPurpose.REPAIR, destination="厂家维修部")
    back(co, operator)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE  # back from repair: the technical lead decides


@pytest.mark.django_db
def test_only_technical_staff_check_out_and_in(make_equipment, operator, counter):
    equipment = make_equipment("EQ-1")
    with pytest.raises(PermissionDenied):
        out(equipment, counter)
    co = out(equipment, operator)
    with pytest.raises(PermissionDenied):
        back(co, counter)


@pytest.mark.django_db
def test_the_gate_refuses_while_out_and_accepts_after_the_return_check(make_equipment, operator, today):
    """R-EQP-6, R-ONS-5: not used again before the return check."""
    equipment = make_equipment("EQ-1")
    co = out(equipment, operator)
    equipment.refresh_from_db()
    with pytest.raises(ValidationError):
        gate.check_usable(equipment, today, operator)
    back(co, operator)
    equipment.refresh_from_db()
    assert gate.check_usable(equipment, today, operator).snapshot["status"] == EquipmentStatus.IN_SERVICE


@pytest.mark.django_db
def test_a_return_with_everything_ok_restores_in_service(make_equipment, operator):
    equipment = make_equipment("EQ-1")
    co = back(out(equipment, operator), operator)
    equipment.refresh_from_db()
    co.refresh_from_db()
    assert (equipment.status, equipment.stop_reason, equipment.status_note) == (EquipmentStatus.IN_SERVICE, "", "")
    assert (co.is_open, co.returned_by, co.count_ok, co.function_ok, co.calibration_ok) == (False, operator, True, True, True)
    actions = list(audit.events_for(equipment).values_list("action", flat=True)[:2])
    assert actions == ["equipment.returned", "equipment.status_changed"]


@pytest.mark.django_db
def test_restricted_equipment_comes_back_restricted_with_its_limitation(make_equipment, operator, lead, today):
    equipment = make_equipment("EQ-1")
    status.change_status(actor=lead, equipment=equipment, status=EquipmentStatus.RESTRICTED, note=LIMITATION)
    co = out(equipment, operator)
    equipment.refresh_from_db()
    assert (equipment.status, equipment.status_note) == (EquipmentStatus.OFF_SITE, LIMITATION)
    back(co, operator)
    equipment.refresh_from_db()
    assert (equipment.status, equipment.status_note) == (EquipmentStatus.RESTRICTED, LIMITATION)
    assert gate.check_usable(equipment, today, operator).snapshot["restricted"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "failed,reason",
    [("function_ok", StopReason.DEFECTIVE), ("count_ok", StopReason.OTHER), ("calibration_ok", StopReason.OTHER)],
)
def test_a_failed_return_check_takes_it_out_of_service(failed, reason, make_equipment, operator, today):
    """R-EQP-6: a failed function (or count, or calibration-status) check on return → out of service."""
    equipment = make_equipment("EQ-1")
    co = out(equipment, operator)
    with pytest.raises(ValidationError) as refused:
        back(co, operator, **{failed: False})
    assert "notes" in refused.value.message_dict  # say what failed
    back(co, operator, notes="示值漂移", **{failed: False})
    equipment.refresh_from_db()
    assert (equipment.status, equipment.stop_reason) == (EquipmentStatus.OUT_OF_SERVICE, reason)
    assert equipment.status_note == "示值漂移"
    with pytest.raises(ValidationError):
        gate.check_usable(equipment, today, operator)


@pytest.mark.django_db
def test_returning_twice_is_refused(make_equipment, operator):
    equipment = make_equipment("EQ-1")
    co = back(out(equipment, operator), operator)
    events = audit.events_for(equipment).count()
    with pytest.raises(ValidationError):
        back(co, operator, function_ok=False, notes="再次")
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE
    assert audit.events_for(equipment).count() == events


@pytest.mark.django_db
def test_a_failed_check_while_off_site_stops_it_on_return(make_equipment, operator, lead, today):
    """R-EQP-7, R-EQP-6: an intermediate check that fails while the equipment is away
    opens the impact analysis, and the return check does not put it back in use."""
    equipment = make_equipment("EQ-1")
    plan = checks.save_check_plan(actor=lead, equipment=equipment, interval_months=6, method="现场比对",
                                  criterion=CriterionKind.TOLERANCE, tolerance=Decimal("0.5"), unit="mmHg")
    co = out(equipment, operator)
    checks.record_check(actor=operator, plan=plan, checked_on=today, measured="102", reference="100")
    assert ImpactAnalysis.objects.filter(equipment=equipment).count() == 1
    back(co, operator)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE
    with pytest.raises(ValidationError):
        gate.check_usable(equipment, today + dt.timedelta(days=1), operator)
