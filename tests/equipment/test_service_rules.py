"""Rules added after the browser pass: no green label on overdue equipment, no
calibration recorded twice."""

import pytest
from django.core.exceptions import ValidationError

from equipment.models import CalibrationResult, EquipmentStatus, StopReason
from equipment.services import calibration, status


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
