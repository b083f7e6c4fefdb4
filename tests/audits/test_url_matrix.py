"""Every audits URL × every role (R-MGT-1..3, R-IMP-1..3, R-PER-7; issue 8's permission matrix):

* anonymous visitors are sent to the sign-in page from every staff and portal page; the
  survey answer page (single-use link) and its thank-you page answer everyone;
* customers get 404 on every staff page (outsiders learn nothing); a customer account
  sees its organisation's survey invitations in the portal, where staff get 404;
* every staff role reads the programmes, audits and their report PDFs, findings and
  actions, reviews and their minutes, objectives, surveys and evaluation reports;
* the planning pages (audit, finding, review, survey, evaluation report) are the quality
  lead's: everyone else on the staff gets 404;
* a step (POST-only) is offered to its insiders only: posted empty by an insider, the
  page comes back (200) with the refusal on the form; anyone else on the staff is sent
  back with a message (302); either way nothing is written.

Insiders in the world below: the quality lead (plans, cancels, accepts actions, closes
observations, records the review meeting and decisions, sets objectives, invites); the
counter auditor — lead auditor of both audits — (reports, checks, raises findings from
the checklist; as an auditor independent of the action, verifies it too); the
technician — responsible for the finding and its actions — (proposes, revises, reports
done); the lab head (approves the programme).  Steps that take no input are posted where
the service refuses them, so that nothing is written: starting an audit already in
progress, refreshing the inputs of an approved review, approving the minutes of a review
chaired by another lab head (only the chair is offered that form; the service refuses
everyone else).

The URL list comes from the resolver, so a new audits URL without a row in ``GATES``
fails ``test_every_audits_url_has_a_gate``.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import get_resolver, reverse
from django.utils import timezone

from audits.models import (
    ActionEvent,
    Audit,
    AuditProgramme,
    ChecklistItem,
    CorrectiveAction,
    EvaluationReport,
    Finding,
    ManagementReview,
    QualityObjective,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)
from audits.services import audits as services
from audits.services import review as review_services
from audits.services import surveys as survey_services
from labqms import permissions
from labqms.models import AuditEvent, Notification, Role
from tests.audits.conftest import LAB
from tests.intake.conftest import hospital as hospital  # noqa: F401
from tests.intake.conftest import portal_user as portal_user  # noqa: F401

NAMESPACE = "audits"
STAFF = ("counter", "technician", "techlead", "qualitylead", "head")

# URL name -> (kind, insiders, which object of the world it names).
# Kinds: "read" — GET, every staff role 200; "manage" — the quality lead's form page: GET
# and an empty POST 200 for the quality lead, 404 for the rest of the staff; "post" — a
# POST-only step, 200 for its insiders (the refusal on the form), 302 for the rest of the
# staff; "public" — everyone, signed in or not, 200; "portal" — customer accounts only;
# "lead" — GET, the three leads 200, the rest of the staff 404 (business statistics).
GATES = {
    # the programme and the audits (this page set)
    "audits:programme_list": ("read", None, None),
    "audits:programme_create": ("post", {"qualitylead"}, None),
    "audits:programme_detail": ("read", None, "year"),
    "audits:programme_approve": ("post", {"head"}, "year"),
    "audits:audit_plan": ("manage", None, None),
    "audits:audit_detail": ("read", None, "running"),
    "audits:audit_start": ("post", set(), "running"),
    "audits:audit_report": ("post", {"counter"}, "running"),
    "audits:audit_cancel": ("post", {"qualitylead"}, "planned"),
    "audits:audit_report_pdf": ("read", None, "running"),
    "audits:checklist_check": ("post", {"counter"}, "item"),
    "audits:checklist_finding": ("post", {"counter"}, "item"),
    # findings and corrective actions
    "audits:finding_list": ("read", None, None),
    "audits:finding_raise": ("manage", None, None),
    "audits:finding_detail": ("read", None, "finding"),
    "audits:finding_propose": ("post", {"qualitylead", "technician"}, "finding"),
    "audits:finding_close": ("post", {"qualitylead"}, "observation"),
    "audits:action_list": ("read", None, None),
    "audits:action_accept": ("post", {"qualitylead"}, "sent_back"),
    "audits:action_revise": ("post", {"technician"}, "sent_back"),
    "audits:action_complete": ("post", {"technician"}, "working"),
    "audits:action_verify": ("post", {"qualitylead", "counter"}, "done"),
    # management review and quality objectives
    "audits:review_list": ("read", None, None),
    "audits:review_plan": ("manage", None, None),
    "audits:review_detail": ("read", None, "held"),
    "audits:review_refresh": ("post", set(), "closed"),
    "audits:review_meeting": ("post", {"qualitylead"}, "held"),
    "audits:review_decide": ("post", {"qualitylead"}, "held"),
    "audits:review_approve": ("post", set(), "held"),
    "audits:review_minutes_pdf": ("read", None, "held"),
    "audits:objective_list": ("read", None, None),
    "audits:objective_set": ("post", {"qualitylead"}, None),
    # satisfaction surveys and evaluation reports
    "audits:survey_list": ("read", None, None),
    "audits:survey_create": ("manage", None, None),
    "audits:survey_detail": ("read", None, "survey"),
    "audits:survey_invite_customers": ("post", {"qualitylead"}, "survey"),
    "audits:survey_invite_orders": ("post", {"qualitylead"}, "survey"),
    "audits:survey_thanks": ("public", None, None),
    "audits:survey_answer": ("public", None, "token"),
    "audits:portal_surveys": ("portal", None, None),
    "audits:evaluation_list": ("read", None, None),
    "audits:evaluation_create": ("manage", None, None),
    "audits:evaluation_detail": ("read", None, "evaluation"),
    "audits:evaluation_file": ("read", None, "evaluation"),
    # business statistics (issue 9, R-MGT-4)
    "audits:statistics": ("lead", None, None),
    "audits:statistics_export": ("lead", None, None),
}
POST_ONLY = sorted(name for name, (kind, _insiders, _obj) in GATES.items() if kind == "post")
ROLES = ["anonymous", "customer", *STAFF]


def _url_names(namespace):
    resolver = get_resolver().namespace_dict[namespace][1]
    return sorted(f"{namespace}:{p.name}" for p in resolver.url_patterns if p.name)


def test_every_audits_url_has_a_gate():
    names = set(_url_names(NAMESPACE))
    assert names == set(GATES), {"missing": names - set(GATES), "stale": set(GATES) - names}


@pytest.fixture
def world(ql, head, techlead, counter_auditor, auditee, portal_user, hospital, make_user):  # noqa: F811
    """Audits, findings, actions, reviews, a survey and an evaluation report, each at the
    step its URLs act on."""
    cache.clear()  # the survey page's per-address limit
    today = timezone.localdate()
    due = today + dt.timedelta(days=30)
    programme = services.create_programme(actor=ql, year=today.year)

    def plan(clauses):
        return services.plan_audit(
            actor=ql, kind="scheduled", title="医学计量室内审", clauses=clauses, areas=[LAB], planned_start=today,
            planned_end=today, lead_auditor=counter_auditor, programme=programme,
        )

    planned = plan(["6.4", "7.5"])
    running = services.start_audit(actor=counter_auditor, audit_item=plan(["6.4", "7.5", "7.8"]))
    item = running.checklist.get(clause="6.4")
    services.record_check(actor=counter_auditor, item=item, evidence="校准证书过期", result="nonconformity")
    finding = services.raise_finding(
        actor=counter_auditor, source="audit", origin=running, grade="minor", clause="6.4", area=LAB,
        description="设备超期未校准", evidence="BZ-001", responsible=auditee, checklist_item=item,
    )
    observation = services.raise_finding(
        actor=counter_auditor, source="audit", origin=running, grade="observation", clause="7.8",
        description="报告格式可改进", checklist_item=running.checklist.get(clause="7.8"),
    )

    def propose(text):
        return services.propose_action(actor=auditee, finding=finding, action=text, root_cause="提醒无人接收", due_on=due)

    sent_back = services.accept_action(actor=ql, action=propose("每周核查"), accept=False, note="根因再查")
    working = services.accept_action(actor=ql, action=propose("指定保管人"))
    done = services.complete_action(actor=auditee, action=services.accept_action(actor=ql, action=propose("停用")), note="已停用")

    other_head = make_user(Role.LAB_HEAD, username="head_other")

    def review(chair, year):
        # Annual reviews of different years: one year has one annual review.
        planned_review = review_services.plan_review(
            actor=ql, kind="annual", period_start=dt.date(year, 1, 1), period_end=dt.date(year, 12, 31), planned_on=today,
            chair=chair,
        )
        compiled = review_services.refresh_inputs(actor=ql, review=planned_review)
        return review_services.record_meeting(actor=ql, review=compiled, held_on=today, attendees="全体", minutes="评审。")

    held = review(other_head, today.year)
    closed = review_services.approve_minutes(actor=head, review=review(head, today.year - 1))
    survey = survey_services.create_survey(actor=ql, title="年度满意度调查")
    invitation = survey_services.invite(actor=ql, survey=survey, customers=[hospital])[0]
    evaluation = survey_services.record_evaluation(
        actor=ql, kind="third_party", title="第三方评价", evaluator="某评价机构", period_start=dt.date(today.year, 1, 1),
        period_end=today, analysis="总体满意。",
        upload=SimpleUploadedFile("report.pdf", b"%PDF-1.4 report\n", content_type="application/pdf"),
    )
    ids = {
        "year": programme.year, "planned": planned.pk, "running": running.pk, "item": item.pk, "finding": finding.pk,
        "observation": observation.pk, "sent_back": sent_back.pk, "working": working.pk, "done": done.pk,
        "held": held.pk, "closed": closed.pk, "survey": survey.pk, "token": invitation.token, "evaluation": evaluation.pk,
    }
    users = {
        "anonymous": None, "customer": portal_user, "counter": counter_auditor, "technician": auditee,
        "techlead": techlead, "qualitylead": ql, "head": head,
    }
    return ids, users


def _url(name, ids):
    _kind, _insiders, obj = GATES[name]
    return reverse(name, args=[ids[obj]] if obj else [])


def _state():
    """Everything a request could write."""
    return (
        AuditEvent.objects.count(), ActionEvent.objects.count(), Notification.objects.count(),
        sorted(AuditProgramme.objects.values_list("pk", "approved_at")),
        sorted(Audit.objects.values_list("pk", "status", "conclusions", "cancelled_reason")),
        sorted(ChecklistItem.objects.values_list("pk", "result", "evidence")),
        sorted(Finding.objects.values_list("pk", "status")),
        sorted(CorrectiveAction.objects.values_list("pk", "status", "action", "done_note", "verification_note")),
        sorted(ManagementReview.objects.values_list("pk", "status", "inputs_compiled_at", "minutes")),
        QualityObjective.objects.count(), Survey.objects.count(), SurveyInvitation.objects.count(),
        SurveyResponse.objects.count(), EvaluationReport.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(GATES))
def test_url_matrix(name, world, client):
    """Who reaches each audits URL, who gets 404, who is refused without a trace."""
    ids, users = world
    kind, insiders, _obj = GATES[name]
    url = _url(name, ids)
    for role in ROLES:
        user = users[role]
        client.logout()
        if user is not None:
            client.force_login(user)
        requests = [("get", client.get)] if kind != "post" else [("post", lambda u: client.post(u, {}))]
        if kind == "manage":
            requests.append(("post", lambda u: client.post(u, {})))
        for method, send in requests:
            with transaction.atomic():
                before = _state()
                response = send(url)
                after = _state()
                transaction.set_rollback(True)
            status = response.status_code
            where = f"{name} {method.upper()} as {role}: {status}"
            assert status < 500, where
            assert after == before, f"{where} wrote something"
            if kind == "public":
                assert status == 200, where
            elif user is None:
                assert status == 302 and "/accounts/login/" in response["Location"], where
            elif kind == "portal":
                assert status == (200 if role == "customer" else 404), where  # staff are not customers
            elif role == "customer":
                assert status == 404, where  # outsiders learn nothing
            elif kind == "lead":
                assert status == (200 if role in {"techlead", "qualitylead", "head"} else 404), where
            elif kind == "read":
                assert status == 200, where
            elif kind == "manage":
                assert status == (200 if role == "qualitylead" else 404), where
            elif role in insiders:
                assert status == 200, where  # the step's form, with the refusal of the empty input
            else:
                assert status == 302, where  # not offered: a message on the page


@pytest.mark.django_db
@pytest.mark.parametrize("name", POST_ONLY)
def test_post_only_urls_refuse_get(name, world, client):
    """Steps change something: POST only (no change by following a link)."""
    ids, users = world
    for role in ("qualitylead", "counter", "head"):
        client.force_login(users[role])
        before = _state()
        assert client.get(_url(name, ids)).status_code == 405, f"{name} as {role}"
        assert _state() == before


@pytest.mark.django_db
def test_the_roles_are_what_the_matrix_assumes(world):
    """Guards the matrix: every staff role sees audits; only the quality lead manages,
    only the lab head approves; the counter auditor and the quality lead may audit, the
    technician (the auditee) may not; customers do none of it."""
    _, users = world
    staff = [users[r] for r in STAFF]
    assert all(permissions.can(u, "audits.view") for u in staff)
    assert not permissions.can(users["customer"], "audits.view") and permissions.can(users["customer"], "portal.use")
    assert [r for r in STAFF if permissions.can(users[r], "audits.manage")] == ["qualitylead"]
    assert [r for r in STAFF if permissions.can(users[r], "audits.approve")] == ["head"]
    assert [r for r in STAFF if permissions.can(users[r], "audits.audit")] == ["counter", "qualitylead"]
    assert [r for r in STAFF if permissions.can(users[r], "statistics.view")] == ["techlead", "qualitylead", "head"]
