"""The management review and quality objective pages (R-MGT-1, R-IMP-3): planning a review
(also ad hoc from a major complaint), the review pack whose inputs equal counts computed
directly from the data, refreshing the inputs, the meeting, the decisions tracked like
corrective actions, the chair's approval (and the refusal of anyone else), the minutes
PDF, and the objectives page with its live values.

Messages are asserted with the English UI (LANGUAGE_COOKIE "en").
"""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.models import (
    ActionStatus,
    Audit,
    AuditStatus,
    CorrectiveAction,
    Finding,
    FindingGrade,
    ManagementReview,
    QualityObjective,
    ReviewStatus,
    SurveyResponse,
)
from audits.services import audits as audit_services
from audits.services import review as services
from audits.services import surveys
from complaints.models import Channel, Complaint
from complaints.services import complaints as complaint_services
from equipment.models import Equipment, EquipmentStatus
from intake.models import Order
from labqms.models import Role

# Fixtures of the complaints, intake and equipment tests, requested by name.
from tests.complaints.conftest import COMPLAINANT, DEPARTMENT
from tests.complaints.conftest import accepted as accepted  # noqa: F401
from tests.complaints.conftest import approved as approved  # noqa: F401
from tests.complaints.conftest import carried_out as carried_out  # noqa: F401
from tests.complaints.conftest import colleague as colleague  # noqa: F401
from tests.complaints.conftest import complaint_data as complaint_data  # noqa: F401
from tests.complaints.conftest import general as general  # noqa: F401
from tests.complaints.conftest import handler as handler  # noqa: F401
from tests.complaints.conftest import investigated as investigated  # noqa: F401
from tests.complaints.conftest import proposed as proposed  # noqa: F401
from tests.complaints.conftest import registered as registered  # noqa: F401
from tests.complaints.conftest import replied as replied  # noqa: F401
from tests.complaints.conftest import responsible as responsible  # noqa: F401
from tests.equipment.conftest import lead as lead  # noqa: F401
from tests.equipment.conftest import make_equipment as make_equipment  # noqa: F401
from tests.equipment.conftest import operator as operator  # noqa: F401
from tests.intake.conftest import categories as categories  # noqa: F401
from tests.intake.conftest import clerk as clerk  # noqa: F401
from tests.intake.conftest import hospital as hospital  # noqa: F401
from tests.intake.conftest import line
from tests.intake.conftest import make_order as make_order  # noqa: F401
from tests.intake.conftest import other_hospital as other_hospital  # noqa: F401

TODAY = timezone.localdate
FIGURE = re.compile(r'data-key="([^"]+)" data-value="([^"]*)"')
OBJECTIVE = re.compile(r'data-measure="([^"]+)" data-value="([^"]*)" data-met="([^"]+)"')


def detail(review):
    return reverse("audits:review_detail", args=[review.pk])


def step(name, review):
    return reverse(f"audits:{name}", args=[review.pk])


def rate(part, whole):
    return str((Decimal(part) * 100 / whole).quantize(Decimal("0.1"))) if whole else ""


@pytest.fixture
def as_user(client):
    """``as_user(user)``: the test client signed in as ``user`` with the English UI."""

    def sign_in(user):
        client.logout()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def other_head(make_user):
    """A second lab head: not the chair of the review."""
    return make_user(Role.LAB_HEAD, username="head_2", full_name="副主任")


@pytest.fixture
def period():
    return TODAY() - dt.timedelta(days=30), TODAY()


@pytest.fixture
def major_complaint(counter, handler, responsible, colleague):  # noqa: F811
    """A substantiated major quality incident the lab head wants in a management review."""
    complaint = complaint_services.register(actor=counter, channel=Channel.HOTLINE,
                                            data={**COMPLAINANT, "subject": "血压计示值偏差大"})
    complaint = complaint_services.accept(actor=handler, complaint=complaint, department=DEPARTMENT,
                                          responsible_person=responsible)
    complaint = complaint_services.record_findings(actor=colleague, complaint=complaint, findings="标准器超期，示值偏差属实。")
    return complaint_services.classify(actor=handler, complaint=complaint, classification="major", substantiated=True,
                                       management_review=True)


@pytest.fixture
def live_data(nonconformity, replied, major_complaint, ql, hospital, other_hospital, make_order, categories,  # noqa: F811
              make_equipment, period):  # noqa: F811
    """Something in every input of the pack, made through the services where they allow it."""
    start, end = period
    # Findings: the minor nonconformity of the audit (fixture), a major one from the complaint.
    audit_services.raise_finding(
        actor=ql, source="complaint", origin=major_complaint, grade=FindingGrade.MAJOR, clause="7.9",
        description="重大投诉：标准器超期使用", evidence="投诉调查记录", responsible=ql,
    )
    # Satisfaction: two answers, one with a low overall score (it raises an observation).
    survey = surveys.create_survey(actor=ql, title="2026 年度满意度调查", period_start=start, period_end=end)
    first, second = surveys.invite(actor=ql, survey=survey, customers=[hospital, other_hospital])
    surveys.answer(token=first.token, scores={"reception": 5, "turnaround": 4, "certificates": 5, "price": 3, "overall": 5})
    surveys.answer(token=second.token, scores={"reception": 4, "turnaround": 2, "certificates": 4, "price": 3, "overall": 2},
                   comments="等待时间太长")
    # Orders: completing an order through the services needs every sample tested, recorded
    # and certified; the completion figures only read due_date and completed_at, so two
    # accepted orders get those set directly — one completed on time, one late.
    on_time = make_order([line(categories["bp"])])
    late = make_order([line(categories["pump"], serials="P1")])
    completed = timezone.make_aware(dt.datetime.combine(end - dt.timedelta(days=2), dt.time(15, 0)))
    Order.objects.filter(pk=on_time.pk).update(status="completed", due_date=end, completed_at=completed)
    Order.objects.filter(pk=late.pk).update(status="completed", due_date=end - dt.timedelta(days=3), completed_at=completed)
    # Equipment: one in calibration, one overdue.
    make_equipment("EQ-OK", months_ago=3)
    make_equipment("EQ-LATE", months_ago=13)
    return {"major_complaint": major_complaint}


@pytest.fixture
def review(ql, head, period):
    start, end = period
    return services.plan_review(actor=ql, kind="annual", period_start=start, period_end=end, planned_on=TODAY(), chair=head)


@pytest.fixture
def compiled(review, live_data, ql):
    return services.refresh_inputs(actor=ql, review=review)


@pytest.fixture
def held(compiled, ql):
    return services.record_meeting(actor=ql, review=compiled, held_on=TODAY(), attendees="机构负责人、质量负责人、技术负责人",
                                   minutes="评审了内审、投诉和满意度结果。")


def page_figures(response) -> dict[str, str]:
    return dict(FIGURE.findall(response.content.decode()))


# --- the pack: inputs equal the data -----------------------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_the_pack_shows_inputs_equal_to_counts_computed_directly_from_the_data(as_user, compiled, period, ql):
    """R-MGT-1 / R-IMP-3: every figure of the pack equals the same count made with the ORM."""
    start, end = period
    response = as_user(ql).get(detail(compiled))
    assert response.status_code == 200
    shown = page_figures(response)

    audits = Audit.objects.filter(planned_start__range=period)
    findings = Finding.objects.filter(raised_on__range=period)
    complaints = Complaint.objects.filter(received_at__date__range=period)
    replied_ = complaints.filter(replied_on__isnull=False)
    scores = list(SurveyResponse.objects.filter(submitted_at__date__range=period).values_list("scores", flat=True))
    orders = Order.objects.filter(completed_at__date__range=period, due_date__isnull=False)
    active = Equipment.objects.exclude(status=EquipmentStatus.RETIRED).filter(needs_calibration=True)
    open_actions = CorrectiveAction.objects.exclude(status=ActionStatus.CLOSED)

    expected = {
        "audits.audits_planned": audits.exclude(status=AuditStatus.CANCELLED).count(),
        "audits.audits_reported": audits.filter(status=AuditStatus.REPORTED).count(),
        "audits.findings_major": findings.filter(grade="major").count(),
        "audits.findings_minor": findings.filter(grade="minor").count(),
        "audits.findings_observation": findings.filter(grade="observation").count(),
        "audits.findings_open": findings.exclude(status="closed").count(),
        "complaints.received": complaints.count(),
        "complaints.class_major": complaints.filter(classification="major").count(),
        "complaints.class_general": complaints.filter(classification="general").count(),
        "complaints.replied": replied_.count(),
        "complaints.on_time_rate": rate(replied_.filter(replied_on__lte=F("reply_due")).count(), replied_.count()),
        "satisfaction.responses": len(scores),
        "satisfaction.average_overall": str((Decimal(sum(s["overall"] for s in scores)) / len(scores)).quantize(Decimal("0.01"))),
        "satisfaction.average_turnaround": str((Decimal(sum(s["turnaround"] for s in scores)) / len(scores)).quantize(Decimal("0.01"))),
        "satisfaction.satisfied_rate": rate(sum(1 for s in scores if s["overall"] >= 4), len(scores)),
        "satisfaction.with_low_scores": sum(1 for s in scores if min(s.values()) <= 2),
        "equipment.in_use_needing_calibration": active.exclude(status=EquipmentStatus.OUT_OF_SERVICE).count(),
        "equipment.overdue": active.exclude(status=EquipmentStatus.OUT_OF_SERVICE)
        .filter(Q(calibration_due__lt=end) | Q(calibration_due__isnull=True)).count(),
        "equipment.out_of_service": Equipment.objects.filter(status=EquipmentStatus.OUT_OF_SERVICE).count(),
        "completion.completed": orders.count(),
        "completion.on_time": orders.filter(completed_at__date__lte=F("due_date")).count(),
        "completion.on_time_rate": rate(orders.filter(completed_at__date__lte=F("due_date")).count(), orders.count()),
        "actions.open": open_actions.count(),
        "actions.overdue": open_actions.filter(due_on__lt=end).count(),
    }
    assert {key: shown[key] for key in expected} == {key: str(value) for key, value in expected.items()}
    # The fixtures put something in each input, so the comparison above is not 0 == 0.
    assert (shown["audits.findings_major"], shown["audits.findings_minor"], shown["audits.findings_observation"]) == ("1", "1", "1")
    assert (shown["complaints.received"], shown["complaints.replied"], shown["complaints.on_time_rate"]) == ("2", "1", "100.0")
    assert (shown["satisfaction.responses"], shown["satisfaction.satisfied_rate"], shown["satisfaction.average_overall"]) == ("2", "50.0", "3.50")
    assert (shown["completion.completed"], shown["completion.on_time"], shown["completion.on_time_rate"]) == ("2", "1", "50.0")
    assert (shown["equipment.in_use_needing_calibration"], shown["equipment.overdue"]) == ("2", "1")
    # The page shows what is stored on the review: the JSON equals the page.
    stored = compiled.inputs
    assert shown["complaints.on_time_rate"] == stored["complaints"]["on_time_rate"]
    assert shown["completion.on_time_rate"] == stored["completion"]["on_time_rate"]
    assert shown["satisfaction.responses"] == str(stored["satisfaction"]["responses"])
    assert b'data-testid="inputs-compiled-at"' in response.content


@pytest.mark.django_db
def test_r_mgt_1_the_pack_lists_the_findings_with_their_state_even_once_closed(as_user, compiled, proposed_action, ql,
                                                                                 auditee, nonconformity):
    """The e2e journey's last step: the audit's nonconformity, its action verified and
    closed, still appears in the pack of the period."""
    content = as_user(ql).get(detail(compiled)).content.decode()
    assert f'data-number="{nonconformity.number}" data-status="action"' in content  # action proposed
    action = audit_services.accept_action(actor=ql, action=proposed_action)
    action = audit_services.complete_action(actor=auditee, action=action, note="已指定保管人，每周核查记录见附件")
    audit_services.verify_action(actor=ql, action=action, effective=True, note="抽查 4 周记录，有效")
    content = as_user(ql).get(detail(compiled)).content.decode()
    assert f'data-number="{nonconformity.number}" data-status="closed"' in content


@pytest.mark.django_db
def test_r_mgt_1_refreshing_compiles_the_inputs_again_from_live_data(as_user, compiled, ql, counter):
    """The pack shows the data as compiled, with the time; "refresh" compiles it again."""
    complaint_services.register(actor=counter, channel=Channel.HOTLINE, data={**COMPLAINANT, "subject": "又一投诉"})
    client = as_user(ql)
    assert page_figures(client.get(detail(compiled)))["complaints.received"] == "2"  # as compiled, not live
    response = client.post(step("review_refresh", compiled), follow=True)
    assert b"The inputs were compiled from the data as it stands now." in response.content
    assert page_figures(response)["complaints.received"] == "3"
    compiled.refresh_from_db()
    assert compiled.inputs["complaints"]["received"] == 3


@pytest.mark.django_db
def test_r_mgt_1_a_review_not_compiled_yet_says_so_and_offers_to_compile(as_user, review, ql, technician):
    content = as_user(ql).get(detail(review)).content.decode()
    assert 'data-testid="inputs-missing"' in content and "Compile the inputs" in content
    assert 'data-testid="meeting-form"' not in content
    # Staff who do not manage reviews read the pack but get no buttons.
    content = as_user(technician).get(detail(review)).content.decode()
    assert 'data-testid="refresh-form"' not in content


@pytest.mark.django_db
def test_r_mgt_1_the_meeting_cannot_be_recorded_before_the_inputs_are_compiled(as_user, review, ql):
    response = as_user(ql).post(step("review_meeting", review), {
        "meeting-held_on": TODAY().isoformat(), "meeting-attendees": "全体", "meeting-minutes": "纪要",
    }, follow=True)
    assert b"Compile the inputs before recording the meeting." in response.content
    review.refresh_from_db()
    assert review.status == ReviewStatus.PLANNED


# --- the meeting, the decisions and the approval ---------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_recording_the_meeting_refuses_missing_attendees_and_keeps_the_minutes(as_user, compiled, ql):
    client = as_user(ql)
    response = client.post(step("review_meeting", compiled), {
        "meeting-held_on": TODAY().isoformat(), "meeting-attendees": "", "meeting-minutes": "评审了全部输入。",
    })
    assert response.status_code == 200
    assert b"List who attended." in response.content
    assert "评审了全部输入。" in response.content.decode()  # nothing typed is lost
    future = (TODAY() + dt.timedelta(days=3)).isoformat()
    response = client.post(step("review_meeting", compiled), {
        "meeting-held_on": future, "meeting-attendees": "全体", "meeting-minutes": "纪要",
    })
    assert b"Enter the date the review was held (not in the future)." in response.content
    compiled.refresh_from_db()
    assert compiled.status == ReviewStatus.PLANNED

    response = client.post(step("review_meeting", compiled), {
        "meeting-held_on": TODAY().isoformat(), "meeting-attendees": "机构负责人、质量负责人", "meeting-minutes": "评审了全部输入。",
    }, follow=True)
    assert b"The meeting was recorded" in response.content
    compiled.refresh_from_db()
    assert (compiled.status, compiled.attendees, compiled.held_on) == (ReviewStatus.HELD, "机构负责人、质量负责人", TODAY())
    assert 'data-testid="attendees">机构负责人、质量负责人' in response.content.decode()


@pytest.mark.django_db
def test_r_mgt_1_decisions_are_tracked_like_corrective_actions(as_user, held, ql, auditee):
    client = as_user(ql)
    due = TODAY() + dt.timedelta(days=60)
    response = client.post(step("review_decide", held), {"decide-action": "增加一名检定员", "decide-due_on": due.isoformat()})
    assert response.status_code == 200 and b"Name who carries it out." in response.content
    assert "增加一名检定员" in response.content.decode()
    assert not CorrectiveAction.objects.filter(review=held).exists()

    response = client.post(step("review_decide", held), {
        "decide-action": "增加一名检定员", "decide-responsible": auditee.pk, "decide-due_on": due.isoformat(),
    }, follow=True)
    assert b"Decision recorded" in response.content
    decision = CorrectiveAction.objects.get(review=held)
    assert (decision.responsible, decision.due_on, decision.status, decision.finding) == (auditee, due, ActionStatus.IN_PROGRESS, None)
    content = response.content.decode()
    assert 'data-testid="decision" data-status="in_progress"' in content
    assert "增加一名检定员" in content and due.isoformat() in content and str(auditee) in content


@pytest.mark.django_db
def test_r_mgt_1_only_the_chair_approves_the_minutes(as_user, held, ql, head, other_head):
    # Another lab head: refused, nothing changes.
    response = as_user(other_head).post(step("review_approve", held), follow=True)
    assert b"The chair of the review approves its minutes." in response.content
    held.refresh_from_db()
    assert held.status == ReviewStatus.HELD and held.approved_by is None
    # The quality lead: refused too.
    response = as_user(ql).post(step("review_approve", held), follow=True)
    assert b"The chair of the review approves its minutes." in response.content
    assert 'data-testid="awaiting-approval"' in response.content.decode()
    held.refresh_from_db()
    assert held.status == ReviewStatus.HELD
    # The chair sees the button and approves.
    client = as_user(head)
    assert b'data-testid="approve-form"' in client.get(detail(held)).content
    response = client.post(step("review_approve", held), follow=True)
    assert b"Minutes approved." in response.content
    held.refresh_from_db()
    assert (held.status, held.approved_by) == (ReviewStatus.CLOSED, head)
    content = response.content.decode()
    assert 'data-testid="approved"' in content and 'data-testid="refresh-form"' not in content


@pytest.mark.django_db
def test_r_mgt_1_approved_inputs_are_frozen_and_a_refresh_is_refused(as_user, held, ql, head, counter):
    services.approve_minutes(actor=head, review=held)
    before = ManagementReview.objects.get(pk=held.pk).inputs
    complaint_services.register(actor=counter, channel=Channel.HOTLINE, data={**COMPLAINANT, "subject": "之后的投诉"})
    response = as_user(ql).post(step("review_refresh", held), follow=True)
    assert b"The minutes are approved; the inputs stay as the meeting saw them." in response.content
    assert ManagementReview.objects.get(pk=held.pk).inputs == before


@pytest.mark.django_db
def test_r_mgt_1_the_minutes_pdf_has_the_number_the_inputs_and_the_decisions(as_user, held, ql, head, auditee, technician):
    from pypdf import PdfReader

    due = TODAY() + dt.timedelta(days=45)
    services.add_decision(actor=ql, review=held, action="修订设备到期提醒程序", responsible=auditee, due_on=due)
    services.approve_minutes(actor=head, review=held)
    response = as_user(technician).get(step("review_minutes_pdf", held))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    content = "".join(page.extract_text() for page in reader.pages)
    squashed = "".join(content.split())  # table cells wrap lines anywhere
    assert held.number in content
    for expected in ("修订设备到期提醒程序", due.isoformat(), "机构负责人、质量负责人、技术负责人", "评审了内审、投诉和满意度结果。",
                     "Minutes of the management review", "On-time completion rate", "Approved by"):
        assert "".join(expected.split()) in squashed, expected
    assert "Draft" not in content


# --- planning --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_r_mgt_1_the_quality_lead_plans_a_yearly_review_chaired_by_the_lab_head(as_user, ql, head):
    client = as_user(ql)
    assert client.get(reverse("audits:review_plan")).status_code == 200
    response = client.post(reverse("audits:review_plan"), {
        "kind": "annual", "period_start": "2025-01-01", "period_end": "2025-12-31", "planned_on": TODAY().isoformat(),
        "chair": head.pk,
    })
    review = ManagementReview.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(review)
    assert (review.kind, review.chair, review.period_end) == ("annual", head, dt.date(2025, 12, 31))


@pytest.mark.django_db
def test_r_mgt_1_planning_refuses_a_reversed_period_and_a_missing_chair_keeping_the_input(as_user, ql, head):
    client = as_user(ql)
    response = client.post(reverse("audits:review_plan"), {
        "kind": "annual", "period_start": "2025-12-31", "period_end": "2025-01-01", "planned_on": TODAY().isoformat(),
    })
    assert response.status_code == 200
    content = response.content.decode()
    assert "The end is before the start." in content and "The lab head chairs the management review." in content
    assert 'value="2025-12-31"' in content
    assert not ManagementReview.objects.exists()


@pytest.mark.django_db
def test_r_mgt_1_an_ad_hoc_review_is_planned_from_a_major_complaint(as_user, ql, head, live_data):
    complaint = live_data["major_complaint"]
    client = as_user(ql)
    response = client.get(reverse("audits:review_plan") + f"?complaint={complaint.pk}")
    content = response.content.decode()
    assert 'data-testid="source-complaint"' in content and complaint.number in content
    assert re.search(r'<option value="ad_hoc" selected>', content)
    response = client.post(reverse("audits:review_plan"), {
        "kind": "ad_hoc", "period_start": "2026-01-01", "period_end": TODAY().isoformat(), "planned_on": TODAY().isoformat(),
        "chair": head.pk, "complaint": complaint.pk,
    }, follow=True)
    review = ManagementReview.objects.get()
    assert (review.kind, review.source_complaint) == ("ad_hoc", complaint)
    assert 'data-testid="review-complaint"' in response.content.decode()


@pytest.mark.django_db
def test_r_mgt_1_a_complaint_that_is_not_a_review_item_is_not_taken(as_user, ql, head, replied):  # noqa: F811
    client = as_user(ql)
    response = client.get(reverse("audits:review_plan") + f"?complaint={replied.pk}")
    assert b"That complaint is not a management-review item" in response.content
    response = client.post(reverse("audits:review_plan"), {
        "kind": "ad_hoc", "period_start": "2026-01-01", "period_end": "2026-02-01", "planned_on": TODAY().isoformat(),
        "chair": head.pk, "complaint": replied.pk,
    })
    assert response.status_code == 200 and b"That complaint is not a management-review item." in response.content
    assert not ManagementReview.objects.exists()


@pytest.mark.django_db
def test_r_mgt_1_who_sees_what(as_user, review, technician, customer, head):
    """All staff read the reviews and objectives; only the quality lead plans; customers get 404."""
    urls = [reverse("audits:review_list"), detail(review), step("review_minutes_pdf", review), reverse("audits:objective_list")]
    for url in urls:
        assert as_user(technician).get(url).status_code == 200, url
        assert as_user(customer).get(url).status_code == 404, url
    assert as_user(technician).get(reverse("audits:review_plan")).status_code == 404
    assert as_user(head).get(reverse("audits:review_plan")).status_code == 404
    response = as_user(customer).post(step("review_refresh", review))
    assert response.status_code == 404
    response = as_user(technician).post(step("review_refresh", review), follow=True)
    review.refresh_from_db()
    assert review.inputs == {} and response.status_code == 200
    content = as_user(technician).get(reverse("audits:review_list")).content.decode()
    assert 'data-testid="plan-link"' not in content and review.number in content


# --- the list --------------------------------------------------------------------------------


def bulk_reviews(n, chair, creator, start=0):
    """``n`` reviews straight into the table (the list is under test, not the services)."""
    ManagementReview.objects.bulk_create([
        ManagementReview(number=f"PS2026-{start + i:03d}", kind="annual", period_start=dt.date(2025, 1, 1),
                         period_end=dt.date(2025, 12, 31), planned_on=dt.date(2026, 1, 10) + dt.timedelta(days=i),
                         chair=chair, created_by=creator, status="planned" if (start + i) % 2 else "held")
        for i in range(n)
    ])
    for review in ManagementReview.objects.filter(number__startswith="PS2026-")[:n]:
        CorrectiveAction.objects.create(review=review, action="决定", responsible=creator, due_on=dt.date(2026, 6, 1),
                                        proposed_by=creator, status="in_progress")


@pytest.mark.django_db
def test_r_mgt_1_the_review_list_filters_and_takes_the_same_queries_for_3_or_25_rows(as_user, ql, head):
    client = as_user(ql)
    client.get(reverse("audits:review_list"))  # warm up (session, language)
    bulk_reviews(3, head, ql)
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("audits:review_list"))
    assert response.content.decode().count('data-testid="review-row"') == 3
    bulk_reviews(22, head, ql, start=3)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("audits:review_list"))
    assert response.content.decode().count('data-testid="review-row"') == 25
    assert len(many) == len(few)
    response = client.get(reverse("audits:review_list"), {"status": "held", "q": "PS2026-00"})
    assert response.content.decode().count('data-testid="review-row"') == 5  # 000, 002, 004, 006, 008
    response = client.get(reverse("audits:review_list"), {"year": "abc"})
    assert b'data-testid="review-search-errors"' in response.content


@pytest.mark.django_db
def test_r_mgt_1_the_review_page_takes_the_same_queries_for_few_or_many_decisions_and_findings(as_user, held, ql, auditee):
    client = as_user(ql)
    client.get(detail(held))
    with CaptureQueriesContext(connection) as few:
        client.get(detail(held))
    for i in range(10):
        services.add_decision(actor=ql, review=held, action=f"决定 {i}", responsible=auditee, due_on=TODAY() + dt.timedelta(days=i))
        audit_services.raise_finding(actor=ql, source="review", origin=held, grade=FindingGrade.OBSERVATION, description=f"观察 {i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(detail(held))
    content = response.content.decode()
    assert content.count('data-testid="decision"') == 10 and content.count('data-testid="finding-row"') >= 10
    assert len(many) == len(few)


# --- quality objectives (R-IMP-3) ------------------------------------------------------------


@pytest.mark.django_db
def test_r_imp_3_objectives_show_their_live_value_and_whether_they_are_met(as_user, live_data, ql, technician):
    client = as_user(ql)
    year = TODAY().year
    for measure, comparison, target in (("on_time_completion", "gte", "98"), ("satisfaction", "gte", "40"),
                                        ("complaints_on_time", "gte", "100")):
        response = client.post(reverse("audits:objective_set"), {
            "year": year, "measure": measure, "comparison": comparison, "target": target, "statement": f"{measure} 目标",
        })
        assert response.status_code == 302 and response["Location"].endswith(f"?year={year}")
    response = as_user(technician).get(reverse("audits:objective_list"), {"year": year})
    rows = {measure: (value, met) for measure, value, met in OBJECTIVE.findall(response.content.decode())}
    for measure in ("on_time_completion", "satisfaction", "complaints_on_time"):
        assert rows[measure][0] == str(services.measure_value(measure, year)), measure
    # Computed from the fixtures, independently of the service.
    orders = Order.objects.filter(completed_at__year=year, due_date__isnull=False)
    assert rows["on_time_completion"] == (rate(orders.filter(completed_at__date__lte=F("due_date")).count(), orders.count()), "not_met")
    assert rows["satisfaction"] == ("50.0", "met")
    assert rows["complaints_on_time"][1] == "met"
    content = response.content.decode()
    assert "not met" in content and "text-bg-danger" in content and "text-bg-success" in content
    assert "on_time_completion 目标" in content
    assert 'data-testid="objective-form"' not in content  # only the quality lead sets objectives


@pytest.mark.django_db
def test_r_imp_3_changing_an_objective_and_bad_input(as_user, ql):
    client = as_user(ql)
    year = TODAY().year
    data = {"year": year, "measure": "satisfaction", "comparison": "gte", "target": "95", "statement": ""}
    client.post(reverse("audits:objective_set"), data)
    response = client.get(reverse("audits:objective_list"), {"year": year, "measure": "satisfaction"})
    assert 'value="95.00"' in response.content.decode()  # the change form is filled in
    client.post(reverse("audits:objective_set"), {**data, "comparison": "gte", "target": "90"})
    assert QualityObjective.objects.get(year=year, measure="satisfaction").target == Decimal("90")

    response = client.post(reverse("audits:objective_set"), {**data, "target": "150"})
    assert response.status_code == 200
    assert b"A percentage target lies between 0 and 100." in response.content
    assert 'value="150"' in response.content.decode()
    response = client.post(reverse("audits:objective_set"), {**data, "target": "NaN"})
    assert response.status_code == 200 and b'data-field="target"' in response.content
    response = client.post(reverse("audits:objective_set"), {**data, "measure": ""})
    assert b"Choose what the objective measures." in response.content
    assert QualityObjective.objects.get(year=year, measure="satisfaction").target == Decimal("90")


@pytest.mark.django_db
def test_r_imp_3_objectives_are_per_year_and_only_the_quality_lead_sets_them(as_user, ql, technician):
    services.set_objective(actor=ql, year=2025, measure="on_time_completion", comparison="gte", target=98)
    client = as_user(technician)
    content = client.get(reverse("audits:objective_list"), {"year": 2025}).content.decode()
    assert 'data-measure="on_time_completion"' in content and 'data-met="none"' in content and "no data" in content
    content = client.get(reverse("audits:objective_list"), {"year": 2024}).content.decode()
    assert 'data-testid="objective-row"' not in content
    response = client.post(reverse("audits:objective_set"), {
        "year": 2024, "measure": "satisfaction", "comparison": "gte", "target": "95",
    }, follow=True)
    assert b"Your role does not allow this." in response.content
    assert not QualityObjective.objects.filter(year=2024).exists()
