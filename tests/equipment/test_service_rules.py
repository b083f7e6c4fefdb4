"""Rules added after the browser pass: no green label on overdue equipment, no
calibration recorded twice."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from equipment.models import (
    CalibrationResult,
    CheckOutPurpose,
    Equipment,
    EquipmentStatus,
    StopReason,
)
from equipment.services import calibration, checkout, status


@pytest.mark.django_db
def test_overdue_equipment_cannot_return_to_use_before_a_calibration(make_equipment, operator, lead, today):
    """R-EQP-5/R-EQP-10: the lead may not put overdue equipment back in service (its label
    would be green while the gate refuses it); after a calibration they may."""
    equipment = make_equipment("EQ-O", months_ago=13)
    status.change_status(actor=operator, equipment=equipment, status=EquipmentStatus.OUT_OF_SERVICE,
                         reason=StopReason.OVERDUE)
    with pytest.raises(ValidationError):
        status.change_status(actor=lead, equipment=equipment, status=EquipmentStatus.IN_SERVICE)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE
    calibration.record_calibration(actor=operator, equipment=equipment, provider="省计量院", certificate_no="NEW-1",
                                   calibrated_on=today, result=CalibrationResult.PASS)
    status.change_status(actor=lead, equipment=equipment, status=EquipmentStatus.IN_SERVICE)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE


@pytest.mark.django_db
def test_the_same_certificate_is_not_recorded_twice(make_equipment, operator, today):
    equipment = make_equipment("EQ-D", months_ago=None)
    kwargs = dict(actor=operator, equipment=equipment, provider="省计量院", certificate_no="DUP-1",
                  calibrated_on=today, result=CalibrationResult.PASS)
    calibration.record_calibration(**kwargs)
    with pytest.raises(ValidationError):
        calibration.record_calibration(**kwargs)
    assert equipment.calibrations.count() == 1


@pytest.mark.django_db
def test_return_check_on_overdue_equipment_keeps_it_out_of_use(make_equipment, operator, today):
    """R-EQP-6: back from site with the calibration run out while away → out of service
    (overdue), not a green label."""
    equipment = make_equipment("EQ-R", months_ago=3)
    out = checkout.check_out(actor=operator, equipment=equipment, purpose=CheckOutPurpose.ON_SITE, destination="市一医院",
                             condition_ok=True, packed_ok=True)
    # While it was away, its due date passed.
    Equipment.objects.filter(pk=equipment.pk).update(calibration_due=today - dt.timedelta(days=1))
    checkout.check_in(actor=operator, checkout=out, count_ok=True, function_ok=True, calibration_ok=True)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE
    assert equipment.stop_reason == StopReason.OVERDUE
