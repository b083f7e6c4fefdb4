"""The findings and corrective-action pages (R-MGT-1, R-IMP-2, R-PER-7): the findings
register (search, filters, figures, paging, constant queries), a finding's page with the
whole action lifecycle taken by the role that takes each step, the refused closures
(the responsible person verifying their own action; verifying before it is done), not
effective reopening, send back and revise, an observation closed without action, raising
findings from a complaint and a supervision record, "my actions" with overdue ones first
(management-review decisions included), and the person page listing the findings raised
from their supervision.

Messages are asserted with the English UI (LANGUAGE_COOKIE "en").
"""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.models import ActionEvent, ActionStatus, CorrectiveAction, Finding, FindingStatus
from audits.services import audits as services
from audits.services import review as review_services
from complaints.models import Channel
from complaints.services import complaints as complaint_services
from labqms.models import SupervisionRecord
from tests.audits.conftest import COUNTER, LAB, QUALITY

TODAY = timezone.localdate()
LATER = TODAY + dt.timedelta(days=30)


@pytest.fixture
def as_user(client):
    """``as_user(user)``: the test client signed in as ``user`` with the English UI."""

    def sign_in(user):
        client.logout()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


def text(response) -> str:
    return response.content.decode()


def page(finding) -> str:
    return reverse("audits:finding_detail", args=[finding.pk])


def step(name, obj) -> str:
    return reverse(f"audits:{name}", args=[obj.pk])


def kinds(action) -> list[str]:
    return list(ActionEvent.objects.filter(action=action).order_by("at", "id").values_list("kind", flat=True))


def propose_data(**extra):
    return {
        "propose-correction": "停用 BZ-001",
        "propose-root_cause": "到期提醒未指定接收人",
        "propose-action": "设备到期提醒指定保管人并每周核查",
        "propose-due_on": LATER.isoformat(),
        "propose-responsible": "",
        **extra,
    }


@pytest.fixture
def accepted_action(proposed_action, ql):
    return services.accept_action(actor=ql, action=proposed_action, accept=True)


@pytest.fixture
def done_action(accepted_action, auditee):
    return services.complete_action(actor=auditee, action=accepted_action, note="已指定保管人，附核查记录三周")


@pytest.fixture
def complaint(counter):
    return complaint_services.register(actor=counter, channel=Channel.HOTLINE, data={
        "complainant_name": "王医生", "complainant_organisation": "市第一人民医院设备科", "complainant_phone": "0571-88888888",
        "complainant_email": "wang@example.com", "subject": "证书型号填写错误", "description": "送检的血压计证书上型号与铭牌不符。",
    })


@pytest.fixture
def supervision(head, auditee):
    return SupervisionRecord.objects.create(
        supervisor=head, supervisee=auditee, supervised_on=TODAY, subject="血压计检定",
        observations="未按规程做示值重复性", conclusion=SupervisionRecord.Conclusion.UNSATISFACTORY,
    )


# --- the action lifecycle through the pages (R-MGT-1) -----------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_whole_action_lifecycle_through_the_pages_closes_the_finding(as_user, nonconformity, auditee, ql):
    """propose (responsible) → accept (quality lead) → done (responsible) → verified
    effective (quality lead, independent) → action and finding closed."""
    client = as_user(auditee)
    response = client.get(page(nonconformity))
    assert response.status_code == 200
    assert 'data-testid="propose-form"' in text(response) and 'data-testid="verify-form"' not in text(response)
    response = client.post(step("finding_propose", nonconformity), propose_data())
    assert response.status_code == 302
    action = CorrectiveAction.objects.get(finding=nonconformity)
    assert action.status == ActionStatus.PROPOSED and action.responsible == auditee and action.proposed_by == auditee
    nonconformity.refresh_from_db()
    assert nonconformity.status == FindingStatus.ACTION
    # The responsible person may not accept their own proposal: the page does not offer it.
    assert 'data-testid="accept-form"' not in text(client.get(page(nonconformity)))

    client = as_user(ql)
    assert 'data-testid="accept-form"' in text(client.get(page(nonconformity)))
    response = client.post(step("action_accept", action), {f"accept-{action.pk}-decision": "accept", f"accept-{action.pk}-note": ""})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.IN_PROGRESS and action.accepted_by == ql

    client = as_user(auditee)
    assert 'data-testid="complete-form"' in text(client.get(page(nonconformity)))
    response = client.post(step("action_complete", action), {f"complete-{action.pk}-note": "已指定保管人，附核查记录三周"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE and action.done_note == "已指定保管人，附核查记录三周"

    client = as_user(ql)
    assert 'data-testid="verify-form"' in text(client.get(page(nonconformity)))
    response = client.post(step("action_verify", action), {
        f"verify-{action.pk}-decision": "effective", f"verify-{action.pk}-note": "抽查三台设备提醒均已送达保管人",
    }, follow=True)
    assert "Verified effective; the action is closed." in text(response)
    action.refresh_from_db()
    nonconformity.refresh_from_db()
    assert action.status == ActionStatus.CLOSED and action.verified_by == ql
    assert nonconformity.status == FindingStatus.CLOSED and nonconformity.closed_at is not None
    assert kinds(action) == ["proposed", "accepted", "done", "verified_effective"]
    body = text(response)
    # Every step is on the page, in words, with who took it.
    for label in ("Corrective action proposed", "Corrective action accepted", "Corrective action reported done",
                  "Verified effective; action closed"):
        assert label in body
    assert 'data-testid="propose-form"' not in body  # a closed finding takes no new action


@pytest.mark.django_db
def test_r_mgt_1_refused_closure_responsible_person_cannot_verify_their_own_action(
    as_user, in_progress, counter_auditor, lab_auditor, ql
):
    """The responsible person — here an authorised auditor — may not verify the
    effectiveness of their own action: the service refuses and the page says why;
    nothing changes; an independent auditor then verifies it."""
    finding = services.raise_finding(
        actor=counter_auditor, source="audit", origin=in_progress, grade="minor", clause="7.5", area=LAB,
        description="原始记录更正未签名", evidence="JL2026-000012 第 3 页", responsible=lab_auditor,
    )
    action = services.propose_action(actor=lab_auditor, finding=finding, root_cause="培训不足", action="更正规范培训", due_on=LATER)
    services.accept_action(actor=ql, action=action, accept=True)
    services.complete_action(actor=lab_auditor, action=action, note="已培训全员")

    client = as_user(lab_auditor)
    body = text(client.get(page(finding)))
    assert 'data-testid="verify-form"' not in body
    assert "You are part of this action; someone independent verifies its effectiveness." in body
    response = client.post(step("action_verify", action), {
        f"verify-{action.pk}-decision": "effective", f"verify-{action.pk}-note": "我已完成，有效",
    }, follow=True)
    assert "You are part of this action; someone independent verifies its effectiveness." in text(response)
    action.refresh_from_db()
    finding.refresh_from_db()
    assert action.status == ActionStatus.DONE and action.verified_by is None
    assert finding.status == FindingStatus.ACTION
    assert "verified_effective" not in kinds(action)

    client = as_user(counter_auditor)
    response = client.post(step("action_verify", action), {
        f"verify-{action.pk}-decision": "effective", f"verify-{action.pk}-note": "抽查 5 份记录更正均签名",
    })
    assert response.status_code == 302
    action.refresh_from_db()
    finding.refresh_from_db()
    assert action.status == ActionStatus.CLOSED and action.verified_by == counter_auditor
    assert finding.status == FindingStatus.CLOSED


@pytest.mark.django_db
def test_r_mgt_1_refused_closure_quality_lead_who_proposed_the_action_is_not_independent(as_user, nonconformity, ql, auditee):
    action = services.propose_action(actor=ql, finding=nonconformity, root_cause="提醒缺失", action="增设提醒", due_on=LATER)
    services.accept_action(actor=ql, action=action, accept=True)
    services.complete_action(actor=auditee, action=action, note="已增设")
    client = as_user(ql)
    assert 'data-testid="verify-blocked"' in text(client.get(page(nonconformity)))
    response = client.post(step("action_verify", action), {f"verify-{action.pk}-decision": "effective", f"verify-{action.pk}-note": "有效"},
                           follow=True)
    assert "You are part of this action; someone independent verifies its effectiveness." in text(response)
    action.refresh_from_db()
    assert action.status == ActionStatus.DONE


@pytest.mark.django_db
def test_r_mgt_1_refused_closure_verifying_before_the_action_is_done(as_user, accepted_action, ql):
    response = as_user(ql).post(step("action_verify", accepted_action), {
        f"verify-{accepted_action.pk}-decision": "effective", f"verify-{accepted_action.pk}-note": "看起来可以",
    }, follow=True)
    assert "The action is verified once it is reported done; it is “In progress”." in text(response)
    accepted_action.refresh_from_db()
    assert accepted_action.status == ActionStatus.IN_PROGRESS and accepted_action.verified_by is None
    assert accepted_action.finding.status == FindingStatus.ACTION


@pytest.mark.django_db
def test_r_mgt_1_verification_without_a_note_re_renders_the_form_with_the_decision_kept(as_user, done_action, ql):
    response = as_user(ql).post(step("action_verify", done_action), {
        f"verify-{done_action.pk}-decision": "effective", f"verify-{done_action.pk}-note": "  ",
    })
    assert response.status_code == 200
    body = text(response)
    assert "Record how effectiveness was verified." in body and "Nothing was changed; see the form below." in body
    done_action.refresh_from_db()
    assert done_action.status == ActionStatus.DONE


@pytest.mark.django_db
def test_r_mgt_1_not_effective_reopens_the_action_for_the_responsible_person(as_user, done_action, ql, auditee):
    response = as_user(ql).post(step("action_verify", done_action), {
        f"verify-{done_action.pk}-decision": "not_effective", f"verify-{done_action.pk}-note": "本周仍发现超期设备",
    }, follow=True)
    assert "Verified not effective" in text(response)
    done_action.refresh_from_db()
    assert done_action.status == ActionStatus.IN_PROGRESS
    finding = Finding.objects.get(pk=done_action.finding_id)
    assert finding.status == FindingStatus.ACTION
    assert kinds(done_action)[-1] == "verified_not_effective"
    client = as_user(auditee)
    body = text(client.get(page(finding)))
    assert 'data-testid="complete-form"' in body and "本周仍发现超期设备" in body
    client.post(step("action_complete", done_action), {f"complete-{done_action.pk}-note": "增加每日核查"})
    done_action.refresh_from_db()
    assert done_action.status == ActionStatus.DONE


@pytest.mark.django_db
def test_r_mgt_1_send_back_and_revise(as_user, proposed_action, ql, auditee):
    action = proposed_action
    client = as_user(ql)
    # Sending back needs a note: refused, the page again with the form.
    response = client.post(step("action_accept", action), {f"accept-{action.pk}-decision": "return", f"accept-{action.pk}-note": ""})
    assert response.status_code == 200 and "Say what the proposal lacks." in text(response)
    assert kinds(action) == ["proposed"]
    response = client.post(step("action_accept", action), {
        f"accept-{action.pk}-decision": "return", f"accept-{action.pk}-note": "根本原因分析不充分",
    }, follow=True)
    assert "Corrective action sent back" in text(response)
    action.refresh_from_db()
    assert action.status == ActionStatus.PROPOSED and kinds(action) == ["proposed", "returned"]

    client = as_user(auditee)
    body = text(client.get(page(action.finding)))
    assert 'data-testid="revise-form"' in body and "根本原因分析不充分" in body
    # A nonconformity's revised action still needs its root cause: refused, typed text kept.
    response = client.post(step("action_revise", action), {
        f"revise-{action.pk}-correction": "停用", f"revise-{action.pk}-root_cause": "",
        f"revise-{action.pk}-action": "新的措施文字", f"revise-{action.pk}-due_on": LATER.isoformat(),
    })
    assert response.status_code == 200
    assert "A nonconformity&#x27;s action starts from its root cause." in text(response) and "新的措施文字" in text(response)
    response = client.post(step("action_revise", action), {
        f"revise-{action.pk}-correction": "停用", f"revise-{action.pk}-root_cause": "提醒规则只发给科室邮箱，无人负责",
        f"revise-{action.pk}-action": "提醒发给保管人并由质量负责人每月抽查", f"revise-{action.pk}-due_on": LATER.isoformat(),
    })
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.action == "提醒发给保管人并由质量负责人每月抽查" and kinds(action)[-1] == "revised"

    client = as_user(ql)
    client.post(step("action_accept", action), {f"accept-{action.pk}-decision": "accept", f"accept-{action.pk}-note": ""})
    action.refresh_from_db()
    assert action.status == ActionStatus.IN_PROGRESS


@pytest.mark.django_db
def test_r_mgt_1_propose_refused_keeps_what_was_typed(as_user, nonconformity, auditee):
    response = as_user(auditee).post(step("finding_propose", nonconformity), propose_data(**{"propose-root_cause": ""}))
    assert response.status_code == 200
    body = text(response)
    assert "A nonconformity&#x27;s action starts from its root cause." in body
    assert "设备到期提醒指定保管人并每周核查" in body and "停用 BZ-001" in body
    assert not CorrectiveAction.objects.exists()


@pytest.mark.django_db
def test_r_mgt_1_someone_else_may_not_propose_the_action(as_user, nonconformity, lab_auditor):
    client = as_user(lab_auditor)
    assert 'data-testid="propose-form"' not in text(client.get(page(nonconformity)))
    response = client.post(step("finding_propose", nonconformity), propose_data(), follow=True)
    assert "answers for this finding and proposes its action" in text(response)
    assert not CorrectiveAction.objects.exists()


@pytest.mark.django_db
def test_r_mgt_1_observation_closed_without_action_nonconformity_refused(as_user, ql, complaint, nonconformity):
    observation = services.raise_finding(actor=ql, source="complaint", origin=complaint, grade="observation",
                                         description="证书复核可再加强")
    client = as_user(ql)
    assert 'data-testid="close-form"' in text(client.get(page(observation)))
    response = client.post(step("finding_close", observation), {"close-note": ""})
    assert response.status_code == 200 and "Say why no action is needed." in text(response)
    response = client.post(step("finding_close", observation), {"close-note": "已在复核培训中覆盖"}, follow=True)
    observation.refresh_from_db()
    assert observation.status == FindingStatus.CLOSED
    body = text(response)
    assert f"Finding {observation.number} closed without action." in body and "已在复核培训中覆盖" in body
    # A nonconformity is never closed this way.
    assert 'data-testid="close-form"' not in text(client.get(page(nonconformity)))
    response = client.post(step("finding_close", nonconformity), {"close-note": "不需要"}, follow=True)
    assert "A nonconformity closes only when its corrective actions are verified effective." in text(response)
    nonconformity.refresh_from_db()
    assert nonconformity.status == FindingStatus.OPEN


@pytest.mark.django_db
def test_r_mgt_1_finding_page_links_to_its_audit_and_queries_do_not_grow_with_actions(as_user, nonconformity, auditee, ql):
    client = as_user(ql)
    services.propose_action(actor=auditee, finding=nonconformity, root_cause="a", action="one", due_on=LATER)
    with CaptureQueriesContext(connection) as one:
        response = client.get(page(nonconformity))
    assert reverse("audits:audit_detail", args=[nonconformity.audit_id]) in text(response)
    for n in range(4):
        action = services.propose_action(actor=auditee, finding=nonconformity, root_cause="a", action=f"more {n}", due_on=LATER)
        services.accept_action(actor=ql, action=action, accept=True)
    with CaptureQueriesContext(connection) as five:
        client.get(page(nonconformity))
    assert len(five) == len(one)


# --- raising findings (R-MGT-1, R-PER-7) --------------------------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_quality_lead_raises_a_finding_from_a_complaint(as_user, ql, counter, complaint, auditee):
    client = as_user(ql)
    complaint_page = text(client.get(reverse("complaints:complaint_detail", args=[complaint.pk])))
    raise_url = reverse("audits:finding_raise") + f"?complaint={complaint.pk}"
    assert raise_url in complaint_page
    assert raise_url not in text(as_user(counter).get(reverse("complaints:complaint_detail", args=[complaint.pk])))

    client = as_user(ql)
    response = client.get(raise_url)
    assert response.status_code == 200 and "证书型号填写错误" in text(response)
    # A nonconformity without evidence is refused; what was typed stays.
    response = client.post(raise_url, {"grade": "minor", "clause": "7.8", "area": LAB, "description": "证书型号抄写错误",
                                       "evidence": "", "responsible": auditee.pk})
    assert response.status_code == 200
    assert "A nonconformity states its objective evidence." in text(response) and "证书型号抄写错误" in text(response)
    assert not Finding.objects.exists()
    response = client.post(raise_url, {"grade": "minor", "clause": "7.8", "area": LAB, "description": "证书型号抄写错误",
                                       "evidence": "证书与铭牌型号不符", "responsible": auditee.pk})
    finding = Finding.objects.get()
    assert response.status_code == 302 and response["Location"] == page(finding)
    assert finding.source == "complaint" and finding.complaint == complaint and finding.raised_by == ql
    body = text(client.get(page(finding)))
    assert reverse("complaints:complaint_detail", args=[complaint.pk]) in body and complaint.number in body


@pytest.mark.django_db
def test_r_per_7_quality_lead_raises_a_finding_from_a_supervision_record_person_page_shows_it(
    as_user, ql, auditee, supervision, head
):
    person_url = reverse("people:person_detail", args=[auditee.pk])
    client = as_user(ql)
    raise_url = reverse("audits:finding_raise") + f"?supervision={supervision.pk}"
    body = text(client.get(person_url))
    assert raise_url in body and "No finding raised from this person" in body
    response = client.get(raise_url)
    assert response.status_code == 200 and "未按规程做示值重复性" in text(response)
    response = client.post(raise_url, {"grade": "minor", "clause": "6.2", "area": LAB, "description": "未按规程做示值重复性",
                                       "evidence": "监督记录", "responsible": auditee.pk})
    finding = Finding.objects.get()
    assert response.status_code == 302
    assert finding.source == "supervision" and finding.supervision == supervision
    assert reverse("people:person_detail", args=[auditee.pk]) + "#supervisions" in text(client.get(page(finding)))
    body = text(as_user(head).get(person_url))
    assert 'data-testid="supervision-finding"' in body and finding.number in body
    assert raise_url not in body  # the lab head does not raise findings; it is raised already anyway


@pytest.mark.django_db
def test_r_per_7_person_page_query_count_does_not_grow_with_supervision_findings(as_user, ql, auditee, head):
    def supervise(n):
        for i in range(n):
            record = SupervisionRecord.objects.create(
                supervisor=head, supervisee=auditee, supervised_on=TODAY - dt.timedelta(days=i), subject=f"监督 {i}",
                observations="问题", conclusion=SupervisionRecord.Conclusion.NEEDS_IMPROVEMENT,
            )
            services.raise_finding(actor=ql, source="supervision", origin=record, grade="observation", description=f"问题 {i}")

    client = as_user(ql)
    url = reverse("people:person_detail", args=[auditee.pk])
    supervise(1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    supervise(5)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert text(response).count('data-testid="supervision-finding"') == 6
    assert len(many) == len(few)


@pytest.mark.django_db
def test_r_imp_2_findings_from_evaluation_review_and_survey_link_to_their_origin(as_user, ql, review_decision, auditee):
    """R-IMP-2: a finding raised from an evaluation report or a management review, and
    the observation a low survey score raises, each link back to where they came from."""
    from audits.services import surveys
    from intake.models import Customer

    client = as_user(ql)
    report = surveys.record_evaluation(actor=ql, kind="self", title="2026 年度自评", evaluator="质量组",
                                       period_start=TODAY.replace(month=1, day=1), period_end=TODAY, analysis="报告时限偶有超期")
    response = client.get(reverse("audits:finding_raise") + f"?evaluation={report.pk}")
    assert "报告时限偶有超期" in text(response)
    client.post(reverse("audits:finding_raise") + f"?evaluation={report.pk}",
                {"grade": "observation", "clause": "8.6", "description": "报告时限需关注", "evidence": "", "responsible": ""})
    from_report = Finding.objects.get(evaluation=report)
    assert reverse("audits:evaluation_detail", args=[report.pk]) in text(client.get(page(from_report)))

    review = review_decision.review
    client.post(reverse("audits:finding_raise") + f"?review={review.pk}",
                {"grade": "minor", "clause": "8.9", "description": "质量目标未达成", "evidence": "准时率 95%", "responsible": auditee.pk})
    from_review = Finding.objects.get(review=review)
    assert reverse("audits:review_detail", args=[review.pk]) in text(client.get(page(from_review)))

    customer = Customer.objects.create(name="市第一人民医院", department="设备科", email="sbk@h1.example.cn")
    survey = surveys.create_survey(actor=ql, title="2026 年满意度调查")
    (invitation,) = surveys.invite(actor=ql, survey=survey, customers=[customer])
    surveys.answer(token=invitation.token, scores={"reception": 5, "turnaround": 1, "certificates": 4, "price": 4, "overall": 3})
    from_survey = Finding.objects.get(source="survey")
    body = text(client.get(page(from_survey)))
    assert reverse("audits:survey_detail", args=[survey.pk]) in body and "市第一人民医院" in body


@pytest.mark.django_db
def test_r_mgt_1_raise_is_for_the_quality_lead_and_needs_a_known_origin(as_user, ql, auditee, complaint):
    assert as_user(auditee).get(reverse("audits:finding_raise") + f"?complaint={complaint.pk}").status_code == 404
    client = as_user(ql)
    assert client.get(reverse("audits:finding_raise") + "?complaint=999999").status_code == 404
    assert client.get(reverse("audits:finding_raise") + "?complaint=abc").status_code == 404
    response = client.get(reverse("audits:finding_raise"))
    assert response.status_code == 200 and 'data-testid="raise-no-origin"' in text(response)


# --- the register (R-MGT-1) ----------------------------------------------------------------------------


def make_findings(ql, complaint, n, *, responsible=None, grade="observation", area=LAB, clause="7.8", raised_on=None, text_="记录"):
    return [
        services.raise_finding(actor=ql, source="complaint", origin=complaint, grade=grade, description=f"{text_} {i}",
                               evidence="证据", area=area, clause=clause, responsible=responsible, raised_on=raised_on)
        for i in range(n)
    ]


def rows(response) -> int:
    return text(response).count('data-testid="finding-row"')


@pytest.mark.django_db
def test_r_mgt_1_register_filters_and_figures(as_user, ql, complaint, auditee, nonconformity):
    make_findings(ql, complaint, 2, grade="major", area=COUNTER, clause="7.9", responsible=auditee, text_="受理超时")
    make_findings(ql, complaint, 3, raised_on=TODAY - dt.timedelta(days=40), area=QUALITY, clause="8.4")
    client = as_user(ql)
    url = reverse("audits:finding_list")
    response = client.get(url)
    assert rows(response) == 6
    body = text(response)
    assert 'data-testid="figure-total">6<' in body
    assert 'data-testid="figure-grade-major">2<' in body and 'data-testid="figure-grade-observation">3<' in body
    assert 'data-testid="figure-status-open">6<' in body
    assert rows(client.get(url, {"grade": "major"})) == 2
    assert rows(client.get(url, {"source": "audit"})) == 1
    assert rows(client.get(url, {"clause": "8.4"})) == 3
    assert rows(client.get(url, {"area": COUNTER})) == 2
    assert rows(client.get(url, {"responsible": auditee.pk})) == 3
    assert rows(client.get(url, {"q": "受理超时"})) == 2
    assert rows(client.get(url, {"q": nonconformity.number})) == 1
    assert rows(client.get(url, {"raised_to": (TODAY - dt.timedelta(days=30)).isoformat()})) == 3
    assert rows(client.get(url, {"raised_from": (TODAY - dt.timedelta(days=30)).isoformat(), "raised_to": TODAY.isoformat()})) == 3
    response = client.get(url, {"grade": "major", "status": "open"})
    assert 'data-testid="figure-total">2<' in text(response)
    # A reversed range is reported and not applied.
    response = client.get(url, {"raised_from": TODAY.isoformat(), "raised_to": (TODAY - dt.timedelta(days=5)).isoformat()})
    assert 'data-testid="finding-search-errors"' in text(response) and "is before the start date" in text(response)
    assert rows(response) == 6


@pytest.mark.django_db
def test_r_mgt_1_register_overdue_actions_filter(as_user, ql, proposed_action, complaint):
    make_findings(ql, complaint, 2)
    client = as_user(ql)
    url = reverse("audits:finding_list")
    assert rows(client.get(url, {"overdue": "on"})) == 0
    CorrectiveAction.objects.filter(pk=proposed_action.pk).update(due_on=TODAY - dt.timedelta(days=3))
    response = client.get(url, {"overdue": "on"})
    assert rows(response) == 1 and proposed_action.finding.number in text(response)
    assert 'data-testid="finding-overdue"' in text(response)


@pytest.mark.django_db
def test_r_mgt_1_register_pages_by_25_with_constant_queries(as_user, ql, complaint, auditee):
    client = as_user(ql)
    url = reverse("audits:finding_list")
    make_findings(ql, complaint, 3, responsible=auditee)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert rows(client.get(url)) == 3
    make_findings(ql, complaint, 27, responsible=auditee)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert rows(response) == 25 and "Page 1 of 2" in text(response)
    assert len(many) == len(few)
    assert rows(client.get(url, {"page": 2})) == 5
    response = client.get(url, {"sort": "number"})
    assert text(response).index(Finding.objects.order_by("number").first().number) < text(response).index(
        Finding.objects.order_by("number")[10].number
    )


# --- my actions, and all open ones for the quality lead ------------------------------------------------


@pytest.fixture
def review_decision(ql, head, auditee):
    review = review_services.plan_review(actor=ql, kind="annual", period_start=TODAY.replace(month=1, day=1), period_end=TODAY,
                                         planned_on=TODAY, chair=head)
    review_services.refresh_inputs(actor=ql, review=review)
    review_services.record_meeting(actor=ql, review=review, held_on=TODAY, attendees="实验室主任、质量负责人", minutes="评审了输入")
    return review_services.add_decision(actor=ql, review=review, action="增加一名内审员", responsible=auditee, due_on=LATER)


@pytest.mark.django_db
def test_r_mgt_1_my_actions_and_all_open_actions_overdue_first(as_user, ql, auditee, lab_auditor, proposed_action, review_decision,
                                                               in_progress, counter_auditor):
    other = services.raise_finding(actor=counter_auditor, source="audit", origin=in_progress, grade="minor", description="另一项",
                                   evidence="证据", responsible=lab_auditor)
    late = services.propose_action(actor=lab_auditor, finding=other, root_cause="因", action="逾期的措施", due_on=LATER)
    CorrectiveAction.objects.filter(pk=late.pk).update(due_on=TODAY - dt.timedelta(days=2))

    body = text(as_user(auditee).get(reverse("audits:action_list")))
    assert "设备到期提醒指定保管人并每周核查" in body and "增加一名内审员" in body and "逾期的措施" not in body
    assert review_decision.review.number in body
    assert reverse("audits:review_detail", args=[review_decision.review_id]) in body

    response = as_user(ql).get(reverse("audits:action_list"))
    body = text(response)
    assert body.count('data-testid="action-row"') == 3
    assert body.index("逾期的措施") < body.index("设备到期提醒指定保管人并每周核查")
    assert "Overdue by 2 days" in body and 'data-overdue="1"' in body
    mine = text(as_user(ql).get(reverse("audits:action_list"), {"scope": "mine"}))
    assert mine.count('data-testid="action-row"') == 0
    # Anyone else asking for "all" gets their own.
    assert text(as_user(auditee).get(reverse("audits:action_list"), {"scope": "all"})).count('data-testid="action-row"') == 2


@pytest.mark.django_db
def test_r_mgt_1_review_decision_done_and_verified_from_the_action_list(as_user, review_decision, auditee, ql, counter_auditor):
    client = as_user(auditee)
    assert 'data-testid="complete-form"' in text(client.get(reverse("audits:action_list")))
    client.post(step("action_complete", review_decision), {f"complete-{review_decision.pk}-note": "已授权一名内审员"})
    review_decision.refresh_from_db()
    assert review_decision.status == ActionStatus.DONE
    # The review (its chair) decided it; the quality lead who recorded it verifies it.
    assert review_decision.proposed_by == review_decision.review.chair
    assert 'data-testid="verify-blocked"' not in text(as_user(ql).get(reverse("audits:action_list")))
    client = as_user(ql)
    response = client.post(step("action_verify", review_decision), {
        f"verify-{review_decision.pk}-decision": "effective", f"verify-{review_decision.pk}-note": "授权记录已核",
    })
    assert response.status_code == 302 and response["Location"].startswith(reverse("audits:action_list"))
    review_decision.refresh_from_db()
    assert review_decision.status == ActionStatus.CLOSED


@pytest.mark.django_db
def test_r_mgt_1_action_list_constant_queries(as_user, ql, nonconformity, auditee):
    client = as_user(ql)
    url = reverse("audits:action_list")

    def propose(n):
        for i in range(n):
            services.propose_action(actor=auditee, finding=nonconformity, root_cause="因", action=f"措施 {i}", due_on=LATER)

    propose(3)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    propose(25)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert text(response).count('data-testid="action-row"') == 25
    assert len(many) == len(few)


# --- who may see the pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_customers_and_strangers_learn_nothing(client, customer, proposed_action):
    urls = [
        reverse("audits:finding_list"), reverse("audits:action_list"), page(proposed_action.finding),
        reverse("audits:finding_raise"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(customer)
    for url in urls:
        assert client.get(url).status_code == 404
    for name in ("action_accept", "action_revise", "action_complete", "action_verify"):
        assert client.post(step(name, proposed_action), {}).status_code == 404
    assert client.post(step("finding_propose", proposed_action.finding), {}).status_code == 404
    assert client.post(step("finding_close", proposed_action.finding), {}).status_code == 404
    proposed_action.refresh_from_db()
    assert proposed_action.status == ActionStatus.PROPOSED
