"""Shared equipment fixtures: a technician authorised to operate equipment, the
technical lead, and ``make_equipment`` that registers an item through the services with
a calibration ``months_ago`` (so its due date is relative to today)."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from equipment.models import CalibrationResult, EquipmentKind
from equipment.services import calibration, register
from labqms.models import Activity, Role
from tests.factories import AuthorisationFactory, QualificationFactory


@pytest.fixture
def operator(make_user, head):
    """A technician authorised to operate equipment (R-EQP-11)."""
    user = make_user(Role.TECHNICIAN, username="operator_t", full_name="检定员小赵", email="op@lab.example.cn")
    AuthorisationFactory(person=user, activity=Activity.OPERATE_EQUIPMENT, authorised_by=head)
    QualificationFactory(person=user)
    return user


@pytest.fixture
def lead(make_user):
    """The technical lead (decides status, approves confirmations and impact decisions)."""
    return make_user(Role.TECHNICAL_LEAD, username="lead_t", full_name="技术负责人老李", email="lead@lab.example.cn")


@pytest.fixture
def make_equipment(lead, operator):
    """``make_equipment(lab_id, months_ago=3, interval=12, kind=..., **fields)``; months_ago=None: never calibrated."""

    def make(lab_id="EQ-1", months_ago=3, interval=12, kind=EquipmentKind.STANDARD, calibrated_on=None, **fields):
        equipment = register.save_equipment(
            actor=lead,
            data={
                "lab_id": lab_id, "name": f"设备 {lab_id}", "kind": kind, "model": "M1", "manufacturer": "某厂",
                "measuring_range": "0–300 mmHg", "accuracy": "±0.5 mmHg", "custodian": operator,
                "needs_calibration": interval is not None, "calibration_interval_months": interval, **fields,
            },
        )
        if calibrated_on is None and months_ago is not None:
            calibrated_on = timezone.localdate() - relativedelta(months=months_ago)
        if calibrated_on is not None:
            calibration.record_calibration(
                actor=operator, equipment=equipment, provider="省计量院", certificate_no=f"C-{lab_id}",
                calibrated_on=calibrated_on, result=CalibrationResult.PASS,
            )
            equipment.refresh_from_db()
        return equipment

    return make


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def days():
    return dt.timedelta
