"""The usage gate [Records] calls before equipment appears in a record (R-EQP-10,
R-EQP-11, R-EQP-6, R-ONS-5): a refusal with the reason for each cause, and the snapshot
stored with the record.

The lab's boundary rule: equipment may be used ON its calibration due date and is
overdue from the day after; a measurement-standard certificate is valid on its last day
(``valid_until`` inclusive) and expired the day after.
"""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import translation

from equipment.models import (
    CalibrationResult,
    CheckOut,
    CheckOutPurpose,
    EquipmentStatus,
    EquipmentUse,
    StopReason,
)
from equipment.services import calibration, checkout, gate, register, status
from labqms.models import Activity, Role
from tests.factories import AuthorisationFactory

DAY = dt.timedelta(days=1)


def refusal(equipment, on, user):
    """The gate's reason (in English) — and that it refused at all."""
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        gate.check_usable(equipment, on, user)
    return " ".join(refused.value.messages)


@pytest.mark.django_db
def test_usable_equipment_returns_its_snapshot(make_equipment, operator, today):
    """R-EQP-10: on success the record gets status, due date and calibration certificate."""
    equipment = make_equipment("EQ-1", months_ago=3)
    snapshot = gate.check_usable(equipment, today, operator).snapshot
    assert snapshot == {
        "lab_id": "EQ-1",
        "name": equipment.name,
        "status": EquipmentStatus.IN_SERVICE,
        "status_note": "",
        "calibration_due": equipment.calibration_due.isoformat(),
        "last_calibrated_on": equipment.last_calibrated_on.isoformat(),
        "certificate_no": "C-EQ-1",
        "standards": [],
        "restricted": False,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target,reason,actor",
    [
        (EquipmentStatus.OUT_OF_SERVICE, StopReason.DEFECTIVE, "operator"),
        (EquipmentStatus.UNDER_REPAIR, "", "operator"),
        (EquipmentStatus.RETIRED, "", "lead"),
    ],
)
def test_refused_when_stopped(target, reason, actor, make_equipment, operator, lead, today):
    """R-EQP-10: out-of-service, under-repair and retired equipment cannot be used in a record."""
    equipment = make_equipment("EQ-1")
    users = {"operator": operator, "lead": lead}
    status.change_status(actor=users[actor], equipment=equipment, status=target, reason=reason)
    equipment.refresh_from_db()
    why = refusal(equipment, today, operator)
    assert "EQ-1" in why and "cannot be used" in why
    with translation.override("en"):
        assert str(EquipmentStatus(target).label) in why


@pytest.mark.django_db
def test_refused_while_off_site(make_equipment, operator, today):
    """R-EQP-6, R-ONS-5: checked out = off site; not used again before the return check."""
    equipment = make_equipment("EQ-1")
    out = checkout.check_out(actor=operator, equipment=equipment, purpose=CheckOutPurpose.ON_SITE,
                             destination="市一医院", condition_ok=True, packed_ok=True)
    equipment.refresh_from_db()
    assert "Off site" in refusal(equipment, today, operator)
    checkout.check_in(actor=operator, checkout=out, count_ok=True, function_ok=True, calibration_ok=True)
    equipment.refresh_from_db()
    gate.check_usable(equipment, today, operator)


@pytest.mark.django_db
def test_refused_with_an_open_check_out_whatever_the_status(make_equipment, operator, today):
    """R-EQP-6: the open check-out itself blocks use, not only the "off site" status."""
    equipment = make_equipment("EQ-1")
    CheckOut.objects.create(equipment=equipment, purpose=CheckOutPurpose.OTHER, destination="借给二室",
                            condition_ok=True, packed_ok=True, out_by=operator)
    assert equipment.status == EquipmentStatus.IN_SERVICE
    assert "return check" in refusal(equipment, today, operator)


@pytest.mark.django_db
def test_refused_without_a_calibration_on_record(make_equipment, operator, today):
    """R-EQP-10: valid traceability — equipment that needs calibration and never had one."""
    equipment = make_equipment("EQ-1", months_ago=None, interval=12)
    assert "no valid calibration" in refusal(equipment, today, operator)


@pytest.mark.django_db
def test_equipment_that_needs_no_calibration_is_usable_without_one(make_equipment, operator, today):
    equipment = make_equipment("AUX-1", months_ago=None, interval=None, kind="auxiliary")
    assert gate.check_usable(equipment, today, operator).snapshot["calibration_due"] is None


@pytest.mark.django_db
def test_usable_on_the_due_date_refused_the_day_after(make_equipment, operator):
    """R-EQP-10 boundary: usable ON the due date (the last day of validity), overdue and
    refused from the next day."""
    equipment = make_equipment("EQ-1", months_ago=3)
    due = equipment.calibration_due
    assert gate.check_usable(equipment, due - DAY, operator)
    assert gate.check_usable(equipment, due, operator).snapshot["calibration_due"] == due.isoformat()
    assert not equipment.is_overdue(due)
    why = refusal(equipment, due + DAY, operator)
    assert "overdue" in why and due.isoformat() in why
    assert equipment.is_overdue(due + DAY)


@pytest.mark.django_db
def test_overdue_equipment_is_refused_today(make_equipment, operator, today):
    equipment = make_equipment("EQ-1", months_ago=13, interval=12)
    assert equipment.calibration_due < today
    assert "overdue" in refusal(equipment, today, operator)


@pytest.mark.django_db
def test_a_new_calibration_makes_overdue_equipment_usable_again(make_equipment, operator, today):
    equipment = make_equipment("EQ-1", months_ago=13, interval=12)
    calibration.record_calibration(actor=operator, equipment=equipment, provider="省计量院", certificate_no="N-1",
                                   calibrated_on=today, result=CalibrationResult.PASS)
    equipment.refresh_from_db()
    assert gate.check_usable(equipment, today, operator).snapshot["certificate_no"] == "N-1"


@pytest.mark.django_db
def test_standard_certificate_valid_on_its_last_day_refused_the_day_after(make_equipment, operator, lead, today):
    """R-EQP-10: equipment registered on a measurement-standard certificate (计量标准考核证书)
    is usable while the certificate is valid — including its last day — and refused after."""
    equipment = make_equipment("EQ-1", months_ago=1)
    other = make_equipment("EQ-2", months_ago=1)
    last_day = today + dt.timedelta(days=5)
    register.save_standard(
        actor=lead,
        data={"name": "血压计检定装置", "certificate_no": "[2022]量标证字第0101号", "measurand": "0–40 kPa",
              "valid_from": dt.date(2022, 6, 1), "valid_until": last_day},
        members=[equipment],
    )
    snapshot = gate.check_usable(equipment, last_day, operator).snapshot
    assert snapshot["standards"] == ["血压计检定装置 [2022]量标证字第0101号"]
    why = refusal(equipment, last_day + DAY, operator)
    assert "[2022]量标证字第0101号" in why and "not valid" in why
    gate.check_usable(other, last_day + DAY, operator)  # not on that certificate: unaffected


@pytest.mark.django_db
def test_refused_before_the_standard_certificate_starts(make_equipment, operator, lead, today):
    equipment = make_equipment("EQ-1", months_ago=1)
    register.save_standard(
        actor=lead,
        data={"name": "新装置", "certificate_no": "S-NEW", "valid_from": today + DAY, "valid_until": today + 400 * DAY},
        members=[equipment],
    )
    assert "S-NEW" in refusal(equipment, today, operator)


@pytest.mark.django_db
def test_refused_for_a_user_without_an_operate_authorisation(make_equipment, operator, technician, lead, counter, today):
    """R-EQP-11: only authorised people operate it — a technician with no Authorisation, a
    technician whose authorisation has ended, staff outside the technical roles."""
    equipment = make_equipment("EQ-1")
    gate.check_usable(equipment, today, operator)
    assert "may not operate" in refusal(equipment, today, technician)
    assert "may not operate" in refusal(equipment, today, lead)  # the role alone is not enough
    assert "may not operate" in refusal(equipment, today, counter)
    AuthorisationFactory(person=technician, activity=Activity.OPERATE_EQUIPMENT,
                         valid_from=today - 400 * DAY, valid_until=today - DAY)
    assert "may not operate" in refusal(equipment, today, technician)
    AuthorisationFactory(person=technician, activity=Activity.PERFORM_VERIFICATION)  # another activity
    assert "may not operate" in refusal(equipment, today, technician)


@pytest.mark.django_db
def test_an_operate_authorisation_that_ends_is_checked_on_the_day_asked(make_equipment, make_user, head, today):
    """R-EQP-11: the authorisation is looked at on the record's date, not today's."""
    user = make_user(Role.TECHNICIAN, username="t2")
    AuthorisationFactory(person=user, activity=Activity.OPERATE_EQUIPMENT, authorised_by=head,
                         valid_from=today - 400 * DAY, valid_until=today + 3 * DAY)
    equipment = make_equipment("EQ-1")
    gate.check_usable(equipment, today + 3 * DAY, user)
    assert "may not operate" in refusal(equipment, today + 4 * DAY, user)


@pytest.mark.django_db
def test_restricted_equipment_is_usable_and_the_snapshot_says_so(make_equipment, operator, lead, today):
    """R-EQP-4/R-EQP-10: restricted use (准用) is use — with its limitation on the record."""
    equipment = make_equipment("EQ-1")
    status.change_status(actor=lead, equipment=equipment, status=EquipmentStatus.RESTRICTED, note="仅限 0–100 mmHg")
    equipment.refresh_from_db()
    snapshot = gate.check_usable(equipment, today, operator).snapshot
    assert snapshot["restricted"] is True
    assert (snapshot["status"], snapshot["status_note"]) == (EquipmentStatus.RESTRICTED, "仅限 0–100 mmHg")


@pytest.mark.django_db
def test_record_use_stores_the_snapshot_and_the_record_link(make_equipment, operator, today):
    """R-EQP-10: the record keeps what the equipment was when it was used; impact analysis reads it."""
    equipment = make_equipment("EQ-1")
    record = equipment.calibrations.get()  # any model instance can be "the record"
    use = gate.record_use(equipment=equipment, on=today, user=operator, record=record,
                          record_label="原始记录 R-2026-0001", certificate_label="证书 JD-2026-0001")
    use.refresh_from_db()
    assert use.record == record
    assert (use.record_type, use.record_id) == (ContentType.objects.get_for_model(record), str(record.pk))
    assert (use.used_on, use.used_by, use.equipment) == (today, operator, equipment)
    assert (use.record_label, use.certificate_label) == ("原始记录 R-2026-0001", "证书 JD-2026-0001")
    assert use.snapshot == gate.check_usable(equipment, today, operator).snapshot
    assert use.snapshot["certificate_no"] == "C-EQ-1"


@pytest.mark.django_db
def test_record_use_stores_nothing_when_the_gate_refuses(make_equipment, operator, today):
    equipment = make_equipment("EQ-1", months_ago=13, interval=12)
    with pytest.raises(ValidationError):
        gate.record_use(equipment=equipment, on=today, user=operator, record=equipment, record_label="R-1")
    assert not EquipmentUse.objects.exists()
