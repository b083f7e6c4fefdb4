"""Fixtures for complaints: the quality lead who handles them, the responsible person and
a colleague of the responsible department, the lab head, and complaints at each step."""

import datetime as dt

import pytest
from django.utils import timezone

from complaints.models import Channel
from complaints.services import complaints as services
from labqms.models import Activity, Role
from tests.certificates.conftest import (  # noqa: F401 — records to complain about
    assigner,
    bp_equipment,
    categories,
    checked_record,
    checker,
    clerk,
    days,
    fill,
    hospital,
    lead,
    location,
    make_equipment,
    make_order,
    make_technician,
    method,
    method_lead,
    operator,
    other_hospital,
    performer,
    portal_user,
    received_sample,
    record,
    signed_record,
    task,
    template,
    today,
)
from tests.factories import AuthorisationFactory, StaffProfileFactory

DEPARTMENT = "医学计量室"


@pytest.fixture
def handler(make_user, head):
    """The quality lead, authorised to handle complaints."""
    user = make_user(Role.QUALITY_LEAD, username="ql_c", full_name="质量负责人")
    StaffProfileFactory(user=user, department="质量管理部", job_title="质量负责人")
    AuthorisationFactory(person=user, activity=Activity.HANDLE_COMPLAINTS, authorised_by=head)
    return user


@pytest.fixture
def responsible(make_user):
    user = make_user(Role.TECHNICIAN, username="resp_c", full_name="室主任")
    StaffProfileFactory(user=user, department=DEPARTMENT, job_title="室主任")
    return user


@pytest.fixture
def colleague(make_user):
    """A member of the responsible department (proposes the handling opinion)."""
    user = make_user(Role.TECHNICIAN, username="coll_c", full_name="检定员丙")
    StaffProfileFactory(user=user, department=DEPARTMENT)
    return user


@pytest.fixture
def lab_head(head):
    return head


COMPLAINANT = {
    "complainant_name": "王医生",
    "complainant_organisation": "市第一人民医院设备科",
    "complainant_phone": "0571-88888888",
    "complainant_email": "wang@example.com",
    "subject": "证书型号填写错误",
    "description": "送检的血压计证书上型号与铭牌不符。",
}


@pytest.fixture
def complaint_data():
    return dict(COMPLAINANT)


@pytest.fixture
def registered(counter, complaint_data):
    return services.register(actor=counter, channel=Channel.HOTLINE, data=complaint_data)


@pytest.fixture
def accepted(registered, handler, responsible):
    return services.accept(actor=handler, complaint=registered, department=DEPARTMENT, responsible_person=responsible)


@pytest.fixture
def investigated(accepted, colleague):
    return services.record_findings(actor=colleague, complaint=accepted, findings="核查原始记录，型号抄写错误属实。")


@pytest.fixture
def general(investigated, handler):
    return services.classify(actor=handler, complaint=investigated, classification="general", substantiated=True)


@pytest.fixture
def proposed(general, colleague):
    return services.propose_opinion(actor=colleague, complaint=general, opinion="出具替代证书，向客户致歉。")


@pytest.fixture
def approved(proposed, responsible):
    return services.decide_opinion(actor=responsible, complaint=proposed, approve=True)


@pytest.fixture
def carried_out(approved, colleague):
    return services.carry_out(actor=colleague, complaint=approved, note="已出具替代证书并寄送。")


@pytest.fixture
def replied(carried_out, handler):
    return services.reply(actor=handler, complaint=carried_out, text="经核查属实，已出具替代证书，特此致歉。")


def received_on(day: dt.date):
    """An aware datetime at 10:00 local time on ``day`` (received_at for back-dated complaints)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
