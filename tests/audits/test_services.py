"""Audits and improvement services (R-MGT-1, R-IMP-1..3, R-PER-7): the programme's
coverage, auditor independence, the checklist, findings from every source, the corrective
action lifecycle with independent verification, management-review inputs computed from
live data, quality objectives, single-use survey links and the overdue-actions job."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from audits.clauses import CLAUSE_CODES
from audits.models import (
    ActionAlert,
    ActionStatus,
    AuditStatus,
    CorrectiveAction,
    Finding,
    FindingStatus,
    SurveyInvitation,
    SurveyResponse,
)
from audits.services import audits as services
from audits.services import job
from audits.services import review as review_services
from audits.services import surveys as survey_services
from labqms.models import Notification
from tests.audits.conftest import COUNTER, LAB, QUALITY

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- programme and independence -----------------------------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_an_auditor_does_not_audit_their_own_area(programme, ql, lab_auditor, counter_auditor):
    with pytest.raises(ValidationError, match="may not audit their own area"):
        services.plan_audit(
            actor=ql, kind="scheduled", title="实验室内审", clauses=["6.4"], areas=[LAB], planned_start=TODAY,
            planned_end=TODAY, lead_auditor=counter_auditor, auditors=[lab_auditor], programme=programme,
        )
    assert not programme.audits.exists()
    # The lab's auditor audits the counter instead.
    item = services.plan_audit(
        actor=ql, kind="scheduled", title="业务受理内审", clauses=["7.1"], areas=[COUNTER], planned_start=TODAY,
        planned_end=TODAY, lead_auditor=lab_auditor, programme=programme,
    )
    assert item.number.startswith("NS") and list(item.checklist.values_list("clause", flat=True)) == ["7.1"]


@pytest.mark.django_db
def test_someone_not_authorised_to_audit_is_refused(programme, ql, auditee):
    with pytest.raises(ValidationError, match="not authorised to audit"):
        services.plan_audit(
            actor=ql, kind="scheduled", title="x", clauses=["6.4"], areas=[COUNTER], planned_start=TODAY,
            planned_end=TODAY, lead_auditor=auditee, programme=programme,
        )


@pytest.mark.django_db
def test_planning_refuses_a_reversed_date_range_and_an_ad_hoc_audit_without_a_source(programme, ql, counter_auditor):
    with pytest.raises(ValidationError) as error:
        services.plan_audit(
            actor=ql, kind="scheduled", title="x", clauses=["6.4"], areas=[LAB], planned_start=TODAY,
            planned_end=TODAY - dt.timedelta(days=1), lead_auditor=counter_auditor, programme=programme,
        )
    assert "planned_end" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.plan_audit(
            actor=ql, kind="ad_hoc", title="x", clauses=["6.4"], areas=[LAB], planned_start=TODAY,
            planned_end=TODAY, lead_auditor=counter_auditor,
        )


@pytest.mark.django_db
def test_r_mgt_1_the_programme_is_approved_only_when_it_covers_every_element_and_department(
    programme, ql, head, lab_auditor, counter_auditor, planned
):
    gaps = services.coverage(programme)
    assert not gaps["complete"] and "4.1" in gaps["clauses_missing"] and COUNTER in gaps["areas_missing"]
    with pytest.raises(ValidationError, match="does not cover"):
        services.approve_programme(actor=head, programme=programme)
    services.plan_audit(
        actor=ql, kind="scheduled", title="管理体系", clauses=CLAUSE_CODES, areas=[COUNTER], planned_start=TODAY,
        planned_end=TODAY, lead_auditor=lab_auditor, programme=programme,
    )
    services.plan_audit(
        actor=ql, kind="scheduled", title="质量部", clauses=["8.8"], areas=[QUALITY], planned_start=TODAY,
        planned_end=TODAY, lead_auditor=lab_auditor, programme=programme,
    )
    assert services.coverage(programme)["complete"]
    with pytest.raises(PermissionDenied):
        services.approve_programme(actor=ql, programme=programme)
    assert services.approve_programme(actor=head, programme=programme).approved_by == head


# --- checklist, findings and the report ---------------------------------------------------------


@pytest.mark.django_db
def test_only_the_audit_team_fills_the_checklist_while_the_audit_is_in_progress(planned, in_progress, lab_auditor, counter_auditor):
    item = in_progress.checklist.first()
    with pytest.raises(PermissionDenied):
        services.record_check(actor=lab_auditor, item=item, evidence="x", result="conforms")
    with pytest.raises(ValidationError):
        services.record_check(actor=counter_auditor, item=item, evidence="", result="conforms")
    services.record_check(actor=counter_auditor, item=item, evidence="抽查 3 份记录", result="conforms")
    item.refresh_from_db()
    assert item.checked_by == counter_auditor


@pytest.mark.django_db
def test_r_mgt_1_the_report_needs_every_item_checked_and_a_finding_for_each_nonconformity(in_progress, counter_auditor, auditee):
    with pytest.raises(ValidationError, match="not checked yet"):
        services.report_audit(actor=counter_auditor, audit_item=in_progress, conclusions="基本符合")
    items = list(in_progress.checklist.all())
    services.record_check(actor=counter_auditor, item=items[0], evidence="超期设备", result="nonconformity")
    for item in items[1:]:
        services.record_check(actor=counter_auditor, item=item, evidence="抽查符合", result="conforms")
    with pytest.raises(ValidationError, match="Raise a finding"):
        services.report_audit(actor=counter_auditor, audit_item=in_progress, conclusions="基本符合")
    services.raise_finding(
        actor=counter_auditor, source="audit", origin=in_progress, grade="minor", clause=items[0].clause, area=LAB,
        description="设备超期", evidence="BZ-001", responsible=auditee, checklist_item=items[0],
    )
    reported = services.report_audit(actor=counter_auditor, audit_item=in_progress, conclusions="基本符合，1 项轻微不符合")
    assert reported.status == AuditStatus.REPORTED


@pytest.mark.django_db
def test_a_nonconformity_needs_evidence_and_a_responsible_person(in_progress, counter_auditor):
    with pytest.raises(ValidationError) as error:
        services.raise_finding(actor=counter_auditor, source="audit", origin=in_progress, grade="major", description="x")
    assert {"evidence", "responsible"} <= set(error.value.message_dict)
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_r_per_7_a_supervision_problem_becomes_a_finding(ql, auditee, lab_auditor):
    from labqms.models import SupervisionRecord

    record = SupervisionRecord.objects.create(
        supervisor=lab_auditor, supervisee=auditee, supervised_on=TODAY, subject="血压计检定",
        observations="未按规程进行示值误差重复测量", conclusion="needs_improvement",
    )
    finding = services.raise_finding(
        actor=ql, source="supervision", origin=record, grade="minor", clause="7.2", area=LAB,
        description="未按规程操作", evidence=record.observations, responsible=auditee,
    )
    assert finding.supervision == record and list(record.findings.all()) == [finding]
    with pytest.raises(PermissionDenied):
        services.raise_finding(actor=lab_auditor, source="supervision", origin=record, grade="observation", description="x")


# --- corrective actions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_the_action_lifecycle_with_a_refused_closure(proposed_action, nonconformity, ql, auditee, counter_auditor):
    action = proposed_action
    nonconformity.refresh_from_db()
    assert nonconformity.status == FindingStatus.ACTION and action.status == ActionStatus.PROPOSED
    # Nothing is verified before it is accepted and done.
    with pytest.raises(ValidationError):
        services.verify_action(actor=ql, action=action, effective=True, note="x")
    action = services.accept_action(actor=ql, action=action)
    with pytest.raises(PermissionDenied):
        services.complete_action(actor=ql, action=action, note="x")  # only the responsible person
    action = services.complete_action(actor=auditee, action=action, note="已指定保管人，附提醒记录")
    # The responsible person cannot verify (close) their own action.
    with pytest.raises(PermissionDenied):
        services.verify_action(actor=auditee, action=action, effective=True, note="我已完成")
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE and action.verified_by is None
    # An independent auditor finds it not effective: back to work.
    action = services.verify_action(actor=counter_auditor, action=action, effective=False, note="抽查仍有超期设备")
    assert action.status == ActionStatus.IN_PROGRESS
    action = services.complete_action(actor=auditee, action=action, note="补充每周核查记录")
    action = services.verify_action(actor=ql, action=action, effective=True, note="抽查两个月无超期")
    assert action.status == ActionStatus.CLOSED
    nonconformity.refresh_from_db()
    assert nonconformity.status == FindingStatus.CLOSED
    kinds = list(action.events.values_list("kind", flat=True))
    assert kinds == ["proposed", "accepted", "done", "verified_not_effective", "done", "verified_effective"]


@pytest.mark.django_db
def test_a_nonconformity_action_needs_a_root_cause_and_a_future_due_date(nonconformity, auditee):
    with pytest.raises(ValidationError) as error:
        services.propose_action(actor=auditee, finding=nonconformity, action="x", due_on=TODAY - dt.timedelta(days=1))
    assert {"root_cause", "due_on"} <= set(error.value.message_dict)


@pytest.mark.django_db
def test_someone_else_does_not_propose_the_action(nonconformity, lab_auditor):
    with pytest.raises(PermissionDenied):
        services.propose_action(actor=lab_auditor, finding=nonconformity, action="x", root_cause="y", due_on=TODAY)


@pytest.mark.django_db
def test_a_nonconformity_is_not_closed_as_an_observation(nonconformity, ql):
    with pytest.raises(ValidationError):
        services.close_observation(actor=ql, finding=nonconformity, note="不需要")


@pytest.mark.django_db
def test_the_overdue_actions_job_notifies_once_per_due_date(proposed_action, ql, auditee):
    action = services.accept_action(actor=ql, action=proposed_action)
    Notification.objects.all().delete()
    later = action.due_on + dt.timedelta(days=1)
    assert job.run(action.due_on).notifications == 0
    result = job.run(later)
    assert (result.overdue, result.notifications) == (1, 2)
    assert {n.recipient for n in Notification.objects.all()} == {ql, auditee}
    assert job.run(later + dt.timedelta(days=3)).notifications == 0
    assert ActionAlert.objects.count() == 1


# --- surveys (R-IMP-1, R-IMP-2) --------------------------------------------------------------------


@pytest.fixture
def survey_customer(db, counter):
    from intake.models import Customer

    return Customer.objects.create(name="市第一人民医院", email="sbk@example.com", created_by=counter)


SCORES = {"reception": 5, "turnaround": 4, "certificates": 5, "price": 4, "overall": 5}


@pytest.mark.django_db
def test_r_imp_1_a_survey_link_works_once(ql, survey_customer):
    survey = survey_services.create_survey(actor=ql, title="2026 年度客户满意度调查")
    [invitation] = survey_services.invite(actor=ql, survey=survey, customers=[survey_customer])
    assert survey_services.invite(actor=ql, survey=survey, customers=[survey_customer]) == []  # not invited twice
    survey_services.answer(token=invitation.token, scores=SCORES, comments="服务很好")
    with pytest.raises(ValidationError, match="already used"):
        survey_services.answer(token=invitation.token, scores=SCORES)
    with pytest.raises(ValidationError, match="not valid"):
        survey_services.answer(token="guess", scores=SCORES)
    assert SurveyResponse.objects.count() == 1
    assert survey_services.survey_analysis(survey)["averages"]["overall"] == Decimal("5.00")


@pytest.mark.django_db
def test_r_imp_2_a_low_score_becomes_a_finding(ql, survey_customer):
    survey = survey_services.create_survey(actor=ql, title="调查")
    [invitation] = survey_services.invite(actor=ql, survey=survey, customers=[survey_customer])
    response = survey_services.answer(token=invitation.token, scores={**SCORES, "turnaround": 1}, comments="太慢")
    finding = Finding.objects.get()
    assert finding.source == "survey" and finding.survey_response == response and finding.grade == "observation"
    assert "太慢" in finding.description


@pytest.mark.django_db
def test_bad_scores_are_refused_and_the_link_stays_unused(ql, survey_customer):
    survey = survey_services.create_survey(actor=ql, title="调查")
    [invitation] = survey_services.invite(actor=ql, survey=survey, customers=[survey_customer])
    with pytest.raises(ValidationError):
        survey_services.answer(token=invitation.token, scores={**SCORES, "price": 7})
    invitation.refresh_from_db()
    assert invitation.used_at is None and not SurveyResponse.objects.exists()


@pytest.mark.django_db
def test_a_reversed_survey_period_is_refused(ql):
    with pytest.raises(ValidationError):
        survey_services.create_survey(actor=ql, title="x", period_start=TODAY, period_end=TODAY - dt.timedelta(days=1))


# --- management review inputs (R-MGT-1, R-IMP-3) ----------------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_review_inputs_equal_counts_computed_directly(proposed_action, nonconformity, ql, head, survey_customer):
    from complaints.models import Complaint
    from equipment.models import Equipment
    from intake.models import Order

    survey = survey_services.create_survey(actor=ql, title="调查")
    [invitation] = survey_services.invite(actor=ql, survey=survey, customers=[survey_customer])
    survey_services.answer(token=invitation.token, scores={**SCORES, "overall": 3})
    start, end = dt.date(TODAY.year, 1, 1), dt.date(TODAY.year, 12, 31)
    review = review_services.plan_review(actor=ql, kind="annual", period_start=start, period_end=end, planned_on=TODAY, chair=head)
    review = review_services.refresh_inputs(actor=ql, review=review)
    inputs = review.inputs
    findings = Finding.objects.filter(raised_on__range=(start, end))
    assert inputs["audits"]["findings"] == {"minor": findings.filter(grade="minor").count()}
    assert inputs["audits"]["findings_open"] == findings.exclude(status="closed").count() == 1
    assert inputs["actions"]["open"] == CorrectiveAction.objects.exclude(status="closed").count() == 1
    assert inputs["satisfaction"]["responses"] == SurveyResponse.objects.count() == 1
    assert inputs["satisfaction"]["satisfied_rate"] == "0.0"  # overall 3 is not 4–5
    assert inputs["complaints"]["received"] == Complaint.objects.filter(received_at__year=TODAY.year).count()
    assert inputs["completion"]["completed"] == Order.objects.filter(completed_at__year=TODAY.year).count()
    assert inputs["equipment"]["out_of_service"] == Equipment.objects.filter(status="out_of_service").count()
    with pytest.raises(ValidationError):
        review_services.approve_minutes(actor=head, review=review)  # not held yet
    review = review_services.record_meeting(actor=ql, review=review, held_on=TODAY, attendees="主任、质量负责人", minutes="评审结论")
    decision = review_services.add_decision(actor=ql, review=review, action="增加内审员", responsible=ql, due_on=TODAY)
    assert decision.status == ActionStatus.IN_PROGRESS and decision.review == review
    with pytest.raises(ValidationError):
        review_services.approve_minutes(actor=ql, review=review)  # the chair approves
    review = review_services.approve_minutes(actor=head, review=review)
    with pytest.raises(ValidationError):
        review_services.refresh_inputs(actor=ql, review=review)  # frozen


@pytest.mark.django_db
def test_r_imp_3_objectives_are_computed_from_live_data(ql, survey_customer):
    objective = review_services.set_objective(actor=ql, year=TODAY.year, measure="satisfaction", comparison="gte", target="95")
    with pytest.raises(ValidationError):
        review_services.set_objective(actor=ql, year=TODAY.year, measure="satisfaction", comparison="gte", target="120")
    survey = survey_services.create_survey(actor=ql, title="调查")
    invitations = survey_services.invite(actor=ql, survey=survey, customers=[survey_customer])
    survey_services.answer(token=invitations[0].token, scores=SCORES)
    [row] = review_services.objectives_against_targets(TODAY.year)
    assert row["id"] == objective.pk and row["value"] == Decimal("100.0") and row["met"] is True
    assert SurveyInvitation.objects.count() == 1


@pytest.mark.django_db
def test_an_objective_target_that_is_not_a_number_is_refused(ql):
    for bad in ("NaN", "Infinity", "九十五", ""):
        with pytest.raises(ValidationError):
            review_services.set_objective(actor=ql, year=TODAY.year, measure="satisfaction", comparison="gte", target=bad)


@pytest.mark.django_db
def test_an_auditor_responsible_for_an_action_does_not_verify_it(in_progress, counter_auditor, lab_auditor, ql):
    finding = services.raise_finding(
        actor=counter_auditor, source="audit", origin=in_progress, grade="minor", clause="7.5", area=LAB,
        description="记录缺签名", evidence="JL2026-000001", responsible=lab_auditor,
    )
    action = services.propose_action(actor=lab_auditor, finding=finding, root_cause="培训不足", action="补签并培训",
                                     due_on=TODAY + dt.timedelta(days=10))
    services.accept_action(actor=ql, action=action)
    services.complete_action(actor=lab_auditor, action=action, note="已补签")
    with pytest.raises(PermissionDenied, match="someone independent"):
        services.verify_action(actor=lab_auditor, action=action, effective=True, note="已完成")
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


@pytest.mark.django_db
def test_r_mgt_1_raising_a_finding_from_an_unchecked_item_records_the_check(in_progress, counter_auditor, auditee):
    """The finding is the check's result: the item counts as checked (nonconformity / observation)."""
    first, second = list(in_progress.checklist.all())[:2]
    services.raise_finding(
        actor=counter_auditor, source="audit", origin=in_progress, grade="minor", clause=first.clause, area=LAB,
        description="设备超期", evidence="BZ-001", responsible=auditee, checklist_item=first,
    )
    services.raise_finding(
        actor=counter_auditor, source="audit", origin=in_progress, grade="observation", clause=second.clause,
        description="标识可改进", checklist_item=second,
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.result, first.evidence, first.checked_by) == ("nonconformity", "BZ-001", counter_auditor)
    assert first.checked_at is not None
    assert (second.result, second.checked_by) == ("observation", counter_auditor)


@pytest.mark.django_db
def test_r_mgt_1_a_checked_item_keeps_its_result_when_a_finding_is_raised(in_progress, counter_auditor, auditee):
    item = in_progress.checklist.first()
    services.record_check(actor=counter_auditor, item=item, evidence="部分记录缺签名", result="observation")
    services.raise_finding(
        actor=counter_auditor, source="audit", origin=in_progress, grade="minor", clause=item.clause, area=LAB,
        description="记录缺签名", evidence="记录 R-1", responsible=auditee, checklist_item=item,
    )
    item.refresh_from_db()
    assert (item.result, item.evidence) == ("observation", "部分记录缺签名")


@pytest.mark.django_db
def test_r_mgt_1_an_annual_review_is_not_planned_twice_for_the_same_period(ql, head):
    start, end = TODAY.replace(month=1, day=1), TODAY.replace(month=12, day=31)
    first = review_services.plan_review(actor=ql, kind="annual", period_start=start, period_end=end, planned_on=TODAY, chair=head)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        review_services.plan_review(actor=ql, kind="annual", period_start=start.replace(month=6), period_end=end,
                                    planned_on=TODAY, chair=head)
    assert first.number in error.value.message_dict["period_start"][0]
    adhoc = review_services.plan_review(actor=ql, kind="ad_hoc", period_start=start, period_end=end, planned_on=TODAY, chair=head)
    nxt = review_services.plan_review(actor=ql, kind="annual", period_start=start.replace(year=start.year + 1),
                                      period_end=end.replace(year=end.year + 1), planned_on=TODAY, chair=head)
    assert adhoc.pk and nxt.pk
