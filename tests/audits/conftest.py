"""Fixtures for audits: the quality lead, the lab head, auditors from two departments,
an auditee, and a programme with an audit in progress."""

import datetime as dt

import pytest
from django.utils import timezone

from audits.services import audits as services
from labqms.models import Activity, Role
from tests.factories import AuthorisationFactory, StaffProfileFactory

LAB = "医学计量室"
COUNTER = "业务受理室"
QUALITY = "质量管理部"


def _staff(make_user, head, role, username, department, *, auditor=False, full_name=None):
    user = make_user(role, username=username, full_name=full_name or username)
    StaffProfileFactory(user=user, department=department)
    if auditor:
        AuthorisationFactory(person=user, activity=Activity.AUDIT, authorised_by=head)
    return user


@pytest.fixture
def ql(make_user, head):
    """The quality lead (owner of audits), also an authorised auditor."""
    return _staff(make_user, head, Role.QUALITY_LEAD, "ql_a", QUALITY, auditor=True, full_name="质量负责人")


@pytest.fixture
def lab_auditor(make_user, head):
    """An auditor who works in the lab (may not audit the lab)."""
    return _staff(make_user, head, Role.TECHNICIAN, "aud_lab", LAB, auditor=True, full_name="内审员甲")


@pytest.fixture
def counter_auditor(make_user, head):
    """An auditor from the counter (may audit the lab)."""
    return _staff(make_user, head, Role.COUNTER_STAFF, "aud_cnt", COUNTER, auditor=True, full_name="内审员乙")


@pytest.fixture
def auditee(make_user, head):
    return _staff(make_user, head, Role.TECHNICIAN, "auditee_a", LAB, full_name="室主任")


@pytest.fixture
def programme(ql):
    return services.create_programme(actor=ql, year=timezone.localdate().year, objectives="覆盖全部要素和部门")


@pytest.fixture
def planned(programme, ql, counter_auditor):
    today = timezone.localdate()
    return services.plan_audit(
        actor=ql, kind="scheduled", title="医学计量室内审", clauses=["6.4", "7.5", "7.8"], areas=[LAB],
        planned_start=today, planned_end=today, lead_auditor=counter_auditor, programme=programme,
    )


@pytest.fixture
def in_progress(planned, counter_auditor):
    return services.start_audit(actor=counter_auditor, audit_item=planned)


@pytest.fixture
def nonconformity(in_progress, counter_auditor, auditee):
    item = in_progress.checklist.get(clause="6.4")
    services.record_check(actor=counter_auditor, item=item, evidence="BZ-001 校准证书已过期仍在使用", result="nonconformity")
    return services.raise_finding(
        actor=counter_auditor, source="audit", origin=in_progress, grade="minor", clause="6.4", area=LAB,
        description="设备超期未校准仍在使用", evidence="BZ-001 校准有效期至上月", responsible=auditee, checklist_item=item,
    )


@pytest.fixture
def proposed_action(nonconformity, auditee):
    return services.propose_action(
        actor=auditee, finding=nonconformity, correction="停用 BZ-001", root_cause="到期提醒未指定接收人",
        action="设备到期提醒指定保管人并每周核查", due_on=timezone.localdate() + dt.timedelta(days=30),
    )
