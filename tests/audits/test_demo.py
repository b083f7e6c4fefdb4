"""Demo data for Audits (issue 8 "the demo holds a year's programme with findings in every
state"): after ``seed_demo`` the current year's programme covers every clause and every
department and is approved by the lab head (R-MGT-1); audits, findings and corrective
actions appear in every status, made by the real services as the demo roles; an action
is overdue; a survey link is still unused (R-IMP-1); a second seed changes no count of
any table.

Seeding issues certificates (real PDFs), so each test seeds as few times as it can."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audits.clauses import CLAUSE_CODES
from audits.models import (
    ActionStatus,
    Audit,
    AuditKind,
    AuditProgramme,
    AuditStatus,
    ChecklistResult,
    CorrectiveAction,
    EvaluationKind,
    EvaluationReport,
    Finding,
    FindingGrade,
    FindingSource,
    FindingStatus,
    ManagementReview,
    Measure,
    QualityObjective,
    ReviewStatus,
    SurveyInvitation,
)
from audits.services import audits as services
from complaints.models import Complaint, ComplaintClass
from intake.models import CustomerAccount
from labqms import permissions
from labqms.models import User

pytestmark = pytest.mark.django_db


def _seed(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())


def _counts() -> dict[str, int]:
    tables = set(connection.introspection.table_names())
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.db_table in tables}


def _users() -> dict[str, User]:
    return {u.username: u for u in User.objects.select_related("profile")}


def _assert_every_state(today: dt.date) -> None:
    """The states the demo promises, as of ``today``."""
    programme = AuditProgramme.objects.get(year=today.year)
    assert programme.approved_by.username == "head" and programme.approved_at is not None
    coverage = services.coverage(programme)
    assert coverage == {"clauses_missing": [], "areas_missing": [], "complete": True}
    covered = {c for a in programme.audits.exclude(status=AuditStatus.CANCELLED) for c in a.clauses}
    assert covered == set(CLAUSE_CODES)
    assert set(services.departments()) <= {d for a in programme.audits.exclude(status="cancelled") for d in a.areas}

    assert {a.status for a in programme.audits.all()} == set(AuditStatus.values)
    assert {f.status for f in Finding.objects.all()} == set(FindingStatus.values)
    assert {f.grade for f in Finding.objects.all()} == set(FindingGrade.values)
    assert {a.status for a in CorrectiveAction.objects.all()} == set(ActionStatus.values)

    # The audit in progress has a partly filled checklist; reported ones are fully checked.
    running = programme.audits.get(status=AuditStatus.IN_PROGRESS)
    results = list(running.checklist.values_list("result", flat=True))
    assert ChecklistResult.NOT_CHECKED in results and len(set(results)) > 1
    for reported in programme.audits.filter(status=AuditStatus.REPORTED):
        assert not reported.checklist.filter(result=ChecklistResult.NOT_CHECKED).exists() and reported.conclusions

    # An overdue action, counted as the daily job counts them.
    overdue = CorrectiveAction.objects.exclude(status=ActionStatus.CLOSED).filter(due_on__lt=today)
    assert overdue.count() == 1

    # R-IMP-1: the portal user's organisation still has its single-use link to answer.
    customer = CustomerAccount.objects.get(user__username="hospital1").customer
    open_links = SurveyInvitation.objects.filter(used_at=None)
    assert list(open_links.values_list("customer", flat=True)) == [customer.pk]
    assert SurveyInvitation.objects.exclude(used_at=None).count() == 2


def test_r_mgt_1_a_years_programme_with_every_state_and_reseeding_changes_nothing(settings):
    """R-MGT-1: every audit, finding and action status; the programme complete and
    approved; an overdue action; R-IMP-1: a survey link unused; a second seed is a no-op."""
    _seed(settings)
    _assert_every_state(timezone.localdate())

    counts = _counts()
    _seed(settings)
    assert _counts() == counts


def test_r_mgt_1_r_imp_r_per_7_the_demo_steps_were_taken_by_their_roles(settings):
    _seed(settings)
    users = _users()
    lead, head = users["qualitylead"], users["head"]
    today = timezone.localdate()

    # R-MGT-1 / 8.8: the lab head authorised a 技术部 auditor; nobody audits their own area.
    assert permissions.can(users["techdeputy"], "audits.audit")
    lab_audit = Audit.objects.get(programme__year=today.year, status=AuditStatus.IN_PROGRESS)
    assert lab_audit.areas == ["医学计量室"] and lab_audit.lead_auditor == users["techdeputy"]
    for item in Audit.objects.prefetch_related("auditors"):
        for person in [item.lead_auditor, *item.auditors.all()]:
            assert services.department_of(person) not in item.areas, (item.number, person)

    # Every closed action was verified by someone independent of it.
    for action in CorrectiveAction.objects.filter(status=ActionStatus.CLOSED):
        assert action.verified_by_id not in (action.responsible_id, action.proposed_by_id)
    # One was found not effective first, then verified effective; its finding is closed.
    retried = CorrectiveAction.objects.get(events__kind="verified_not_effective")
    kinds = list(retried.events.values_list("kind", flat=True))
    assert kinds == ["proposed", "accepted", "done", "verified_not_effective", "done", "verified_effective"]
    assert retried.status == ActionStatus.CLOSED and retried.finding.status == FindingStatus.CLOSED
    assert retried.verified_by == lead and retried.responsible == users["counter"]
    # An observation closed without any action; a proposal sent back and revised.
    closed_observation = Finding.objects.get(grade=FindingGrade.OBSERVATION, status=FindingStatus.CLOSED)
    assert not closed_observation.actions.exists()
    revised = CorrectiveAction.objects.get(events__kind="revised")
    assert revised.status == ActionStatus.PROPOSED and revised.events.filter(kind="returned").exists()
    # A nonconformity still open: no action proposed yet.
    assert Finding.objects.filter(status=FindingStatus.OPEN, grade__in=["major", "minor"], actions=None).exists()

    # R-PER-7: a supervision's problem became a finding answered by the person supervised.
    supervised = Finding.objects.get(source=FindingSource.SUPERVISION)
    assert supervised.supervision.supervisee == supervised.responsible == users["tech1"]
    assert supervised.supervision.supervisor == users["techlead"]

    # R-CMP-6: the major complaint that requested an audit has its ad-hoc audit and a finding.
    major = Complaint.objects.get(classification=ComplaintClass.MAJOR, audit_requested_at__isnull=False)
    ad_hoc = Audit.objects.get(source_complaint=major)
    assert ad_hoc.kind == AuditKind.AD_HOC and ad_hoc.programme is None and ad_hoc.status == AuditStatus.PLANNED
    from_complaint = Finding.objects.get(source=FindingSource.COMPLAINT)
    assert from_complaint.complaint == major and from_complaint.grade == FindingGrade.MAJOR

    # R-IMP-2: the low survey score became an observation; a self-evaluation is recorded.
    low = Finding.objects.get(source=FindingSource.SURVEY)
    assert low.grade == FindingGrade.OBSERVATION and low.survey_response.scores["price"] == 2
    assert EvaluationReport.objects.filter(kind=EvaluationKind.SELF).count() == 1

    # R-IMP-3: the year's objectives.
    targets = dict(QualityObjective.objects.filter(year=today.year).values_list("measure", "target"))
    assert targets == {
        Measure.ON_TIME_COMPLETION: 98, Measure.SATISFACTION: 95, Measure.COMPLAINTS_ON_TIME: 100,
        Measure.EQUIPMENT_IN_CALIBRATION: 100,
    }

    # R-MGT-1: last year's annual review, chaired and approved by the lab head, with two
    # decisions — one closed, one overdue (decided at the meeting, so never back-dated) —
    # and this year's review planned.
    held = ManagementReview.objects.get(status=ReviewStatus.CLOSED)
    assert held.kind == "annual" and held.chair == head == held.approved_by and held.inputs and held.minutes
    assert sorted(held.actions.values_list("status", flat=True)) == [ActionStatus.CLOSED, ActionStatus.IN_PROGRESS]
    overdue = CorrectiveAction.objects.exclude(status=ActionStatus.CLOSED).get(due_on__lt=today)
    assert overdue.review == held and overdue.due_on > held.held_on
    planned = ManagementReview.objects.get(status=ReviewStatus.PLANNED)
    assert planned.chair == head and planned.period_start == dt.date(today.year, 1, 1)


def test_r_mgt_1_seeded_early_in_january_the_demo_still_holds_every_state(settings):
    """Dates are placed relative to the day of seeding and kept in the programme's year:
    seeded on 3 January the programme, its states and the overdue decision are all there."""
    when = dt.datetime(timezone.localdate().year + 1, 1, 3, 10, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))
    with time_machine.travel(when, tick=False):
        _seed(settings)
        today = timezone.localdate()
        _assert_every_state(today)
        year = today.year
        assert all(a.planned_start.year == year for a in Audit.objects.exclude(programme=None))
        assert all(f.raised_on <= today for f in Finding.objects.all())
