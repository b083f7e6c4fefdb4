"""Shared records fixtures.

* ``performer`` / ``checker``: technicians authorised (general scope) to perform
  verification and calibration, check records and operate equipment, with a valid
  verifier certificate; password ``PASSWORD``.
* ``method`` (JJG 692-2010, current, for the ``bp`` category) with an approved
  ``template``: 3 points 100/150/200 mmHg, 3 readings, MPE ±3 mmHg, resolution 1,
  15–25 ℃, RH ≤ 85 %, inspection items "外观" and "气密性".
* ``cal_method`` (JJF 1259-2018 for ``pump``) with ``cal_template`` (% of reading, U).
* ``bp_equipment``: a calibrated standard ``BZ-T1``.
* ``task`` (assigned, not started) on a stored bp sample; ``record`` = started task with
  environment and equipment in place; ``fill(record)`` enters conforming readings,
  inspections and the conclusion; ``signed_record`` / ``checked_record``.
"""

from decimal import Decimal

import pytest

from certificates.services import methods as method_services
from certificates.services import records as record_services
from certificates.services import tasks as task_services
from labqms.models import Activity, Role
from tests.equipment.conftest import days, lead, make_equipment, operator, today  # noqa: F401
from tests.factories import AuthorisationFactory, QualificationFactory
from tests.intake.conftest import (  # noqa: F401
    categories,
    clerk,
    hospital,
    line,
    location,
    make_order,
    other_hospital,
    portal_user,
    received_sample,
)

PASSWORD = "pw-for-tests-1"
D = Decimal
TECH_ACTIVITIES = (
    Activity.PERFORM_VERIFICATION,
    Activity.PERFORM_CALIBRATION,
    Activity.CHECK_RECORDS,
    Activity.OPERATE_EQUIPMENT,
)


@pytest.fixture
def make_technician(make_user, head):
    def make(username, activities=TECH_ACTIVITIES, scope=None, qualified=True, **kwargs):
        user = make_user(Role.TECHNICIAN, username=username, full_name=kwargs.pop("full_name", username), **kwargs)
        for activity in activities:
            AuthorisationFactory(person=user, activity=activity, authorised_by=head, **({"scope": scope} if scope else {}))
        if qualified:
            QualificationFactory(person=user)
        return user

    return make


@pytest.fixture
def performer(make_technician):
    return make_technician("perf_t", full_name="检定员甲")


@pytest.fixture
def checker(make_technician):
    return make_technician("check_t", full_name="核验员乙")


@pytest.fixture
def method_lead(make_user):
    return make_user(Role.TECHNICAL_LEAD, username="mlead_t", full_name="技术负责人")


@pytest.fixture
def method(method_lead, categories):
    m = method_services.save_method(
        actor=method_lead, categories=[categories["bp"]],
        data={"code": "JJG 692", "edition": "2010", "title": "无创自动测量血压计", "kind": "verification", "effective_on": "2011-07-01"},
    )
    return method_services.approve_method(actor=method_lead, method=m)


BP_DATA = {
    "name": "血压计检定记录", "quantity": "静态压力示值", "unit": "mmHg", "repeats": 3, "resolution": D("1"),
    "range_low": D("0"), "range_high": D("300"), "temperature_min": D("15"), "temperature_max": D("25"),
    "humidity_min": None, "humidity_max": D("85"), "other_conditions": [], "inspection_items": ["外观", "气密性"],
    "default_coverage_factor": None, "notes": "",
}


@pytest.fixture
def template(method, method_lead):
    points = [{"label": "", "nominal": D(n), "tolerance_kind": "absolute", "tolerance": D("3"), "default_uncertainty": None} for n in (100, 150, 200)]
    t = method_services.save_template(actor=method_lead, method=method, data=dict(BP_DATA), points=points)
    return method_services.approve_template(actor=method_lead, template=t)


@pytest.fixture
def cal_method(method_lead, categories):
    m = method_services.save_method(
        actor=method_lead, categories=[categories["pump"]],
        data={"code": "JJF 1259", "edition": "2018", "title": "医用注射泵和输液泵校准规范", "kind": "calibration", "effective_on": "2019-07-01"},
    )
    return method_services.approve_method(actor=method_lead, method=m)


@pytest.fixture
def cal_template(cal_method, method_lead):
    data = {**BP_DATA, "name": "输液泵校准记录", "quantity": "流量", "unit": "mL/h", "resolution": D("0.01"),
            "range_high": D("1200"), "inspection_items": ["外观"], "default_coverage_factor": D("2")}
    points = [
        {"label": "", "nominal": D("25"), "tolerance_kind": "reading", "tolerance": D("5"), "default_uncertainty": D("0.30")},
        {"label": "", "nominal": D("100"), "tolerance_kind": "reading", "tolerance": D("5"), "default_uncertainty": None},
    ]
    t = method_services.save_template(actor=method_lead, method=cal_method, data=data, points=points)
    return method_services.approve_template(actor=method_lead, template=t)


@pytest.fixture
def bp_equipment(make_equipment):
    return make_equipment("BZ-T1")


@pytest.fixture
def assigner(method_lead):
    return method_lead


@pytest.fixture
def task(received_sample, method, template, performer, checker, assigner):
    return task_services.assign_task(actor=assigner, sample=received_sample, method=method, performer=performer, checker=checker)


@pytest.fixture
def record(task, performer, bp_equipment):
    record = task_services.start_task(actor=performer, task=task)
    record_services.save_environment(actor=performer, record=record, temperature="21.5", humidity="50")
    record_services.add_equipment(actor=performer, record=record, equipment=bp_equipment)
    record.refresh_from_db()
    return record


@pytest.fixture
def fill():
    """Enter readings (default: each nominal +1), inspections (all met) and a conclusion."""

    def do(record, actor=None, values=None, conclusion="pass"):
        actor = actor or record.performer
        entries = {}
        for point in record.template.points.all():
            for phase in record.phases:
                for repeat in range(1, record.template.repeats + 1):
                    text = (values or {}).get(int(point.nominal), str(int(point.nominal) + 1))
                    entries[record_services.slot_key(point.pk, phase, repeat)] = text
        record_services.save_readings(actor=actor, record=record, entries=entries)
        record_services.save_inspections(actor=actor, record=record, results={i.position: (True, "") for i in record.inspections.all()})
        record_services.save_conclusion(actor=actor, record=record, conclusion=conclusion, adjusted=record.adjusted, adjustment_notes=record.adjustment_notes)
        record.refresh_from_db()
        return record

    return do


@pytest.fixture
def signed_record(record, fill, performer):
    fill(record)
    record_services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    return record


@pytest.fixture
def checked_record(signed_record, checker):
    record_services.check_record(actor=checker, record=signed_record, password=PASSWORD)
    signed_record.refresh_from_db()
    return signed_record
