"""Complaint handling services (R-CMP-1..7, ISO/IEC 17025 7.9): registration, the
10-working-day clock, classification by class, approval with independence, reply,
extension, compensation and closure; every step an event row."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from complaints.models import (
    Channel,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    Correspondence,
    CorrespondenceKind,
    EmailStatus,
)
from complaints.services import complaints as services
from labqms.models import CalendarYear
from tests.complaints.conftest import DEPARTMENT, received_on

S = ComplaintStatus


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _kinds(complaint) -> list[str]:
    return list(ComplaintEvent.objects.filter(complaint=complaint).values_list("kind", flat=True))


# --- registering (R-CMP-2) -------------------------------------------------------------------


@pytest.mark.django_db
def test_r_cmp_2_any_staff_member_registers_from_any_channel_and_numbers_do_not_repeat(counter, technician, complaint_data, handler):
    first = services.register(actor=counter, channel=Channel.HOTLINE, data=complaint_data)
    second = services.register(actor=technician, channel=Channel.SUGGESTION_BOX, data=complaint_data)
    third = services.register(actor=None, channel=Channel.ONLINE, data=complaint_data)
    numbers = [first.number, second.number, third.number]
    assert len(set(numbers)) == 3 and all(n.startswith("TS") for n in numbers)
    assert first.status == S.REGISTERED and third.registered_by is None
    assert _kinds(first) == ["registered"]
    # The quality lead is told of each new complaint.
    assert handler.notifications.filter(subject__contains=first.number).exists()


@pytest.mark.django_db
def test_r_cmp_3_a_complaint_without_any_contact_for_the_reply_is_refused(counter, complaint_data):
    data = {**complaint_data, "complainant_phone": "", "complainant_email": "", "complainant_address": ""}
    with pytest.raises(ValidationError) as error:
        services.register(actor=counter, channel=Channel.HOTLINE, data=data)
    assert "reply must reach the complainant" in str(error.value)
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_registering_needs_name_subject_description_and_a_known_channel(counter, complaint_data):
    with pytest.raises(ValidationError) as error:
        services.register(actor=counter, channel=Channel.HOTLINE, data={**complaint_data, "subject": " ", "description": ""})
    assert set(error.value.message_dict) == {"subject", "description"}
    with pytest.raises(ValidationError):
        services.register(actor=counter, channel="pigeon", data=complaint_data)
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_a_customer_account_is_not_staff_and_registers_only_through_the_portal_rules(customer, complaint_data):
    # A portal user without an organisation is refused (R-INT-9).
    with pytest.raises(ValidationError, match="not linked to an organisation"):
        services.register(actor=customer, channel=Channel.PORTAL, data=complaint_data)


# --- acceptance and the clock (R-CMP-3) -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accepted_on, due",
    [
        # Spring Festival 2026: holiday 15–23 Feb, make-up workdays Sat 14 Feb and Sat 28 Feb.
        (dt.date(2026, 2, 12), dt.date(2026, 3, 4)),
        # National Day 2026: holiday 1–7 Oct, make-up workdays Sun 20 Sep and Sat 10 Oct;
        # Mid-Autumn Festival on Fri 25 Sep.  From Fri 18 Sep: 20–24 Sep (5), 28–30 Sep (8),
        # 8–9 Oct (10).
        (dt.date(2026, 9, 18), dt.date(2026, 10, 9)),
        # From Wed 30 Sep: 8, 9, Sat 10 Oct (3), 12–16 (8), 19–20 Oct (10).
        (dt.date(2026, 9, 30), dt.date(2026, 10, 20)),
    ],
)
def test_r_cmp_3_reply_due_is_ten_working_days_on_the_official_calendar(
    accepted_on, due, counter, complaint_data, handler, responsible
):
    complaint = services.register(actor=counter, channel=Channel.HOTLINE, data=complaint_data, received_at=received_on(accepted_on))
    complaint = services.accept(actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=responsible, accepted_on=accepted_on)
    assert complaint.reply_due == due and complaint.original_due == due
    assert complaint.due_provisional is False


@pytest.mark.django_db
def test_r_cmp_3_accepted_on_2026_12_24_gets_a_provisional_due_date(counter, complaint_data, handler, responsible):
    accepted_on = dt.date(2026, 12, 24)
    with time_machine.travel(received_on(accepted_on), tick=False):
        complaint = services.register(actor=counter, channel=Channel.HOTLINE, data=complaint_data)
        complaint = services.accept(actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=responsible)
    assert complaint.accepted_on == accepted_on
    # 25, 28–31 Dec 2026, then 2027 on the Monday–Friday guess (1 Jan counted): 4–7 Jan.
    assert complaint.reply_due == dt.date(2027, 1, 7)
    assert complaint.due_provisional is True


@pytest.mark.django_db
def test_a_maintained_calendar_year_makes_the_due_date_final(counter, complaint_data, handler, responsible):
    CalendarYear.objects.create(year=2027, source="国务院办公厅通知 (test)", confirmed_by=handler)
    with time_machine.travel(received_on(dt.date(2026, 12, 24)), tick=False):
        complaint = services.register(actor=counter, channel=Channel.HOTLINE, data=complaint_data)
        complaint = services.accept(actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=responsible)
    assert complaint.due_provisional is False


@pytest.mark.django_db
def test_r_cmp_3_acceptance_acknowledges_to_the_complainant_and_tells_the_responsible_person(accepted, responsible):
    message = Correspondence.objects.get(complaint=accepted)
    assert message.kind == CorrespondenceKind.ACKNOWLEDGEMENT and message.recipient == "wang@example.com"
    assert accepted.reply_due.isoformat() in message.body
    # Celery runs eagerly in tests: the e-mail went out and the outcome is recorded.
    assert message.email_status in (EmailStatus.PENDING, EmailStatus.SENT)
    assert responsible.notifications.filter(subject__contains=accepted.number).exists()
    assert _kinds(accepted) == ["registered", "accepted"]


@pytest.mark.django_db
def test_accepting_twice_is_refused_and_changes_nothing(accepted, handler, make_user):
    from labqms.models import Role

    other = make_user(Role.TECHNICIAN, username="other_resp")
    with pytest.raises(ValidationError, match="already accepted"):
        services.accept(actor=handler, complaint=accepted, department="别的部门", responsible_person=other)
    accepted.refresh_from_db()
    assert accepted.department == DEPARTMENT and accepted.responsible_person.username == "resp_c"


@pytest.mark.django_db
def test_only_the_quality_lead_accepts(registered, technician, responsible):
    with pytest.raises(PermissionDenied):
        services.accept(actor=technician, complaint=registered, department=DEPARTMENT, responsible_person=responsible)


@pytest.mark.django_db
def test_acceptance_cannot_be_in_the_future_or_before_receipt(registered, handler, responsible):
    with pytest.raises(ValidationError):
        services.accept(actor=handler, complaint=registered, department=DEPARTMENT, responsible_person=responsible,
                        accepted_on=timezone.localdate() + dt.timedelta(days=3))
    with pytest.raises(ValidationError):
        services.accept(actor=handler, complaint=registered, department=DEPARTMENT, responsible_person=responsible,
                        accepted_on=dt.date(2020, 1, 1))


@pytest.mark.django_db
def test_a_spam_complaint_is_dismissed_with_a_reason(registered, handler):
    with pytest.raises(ValidationError):
        services.dismiss(actor=handler, complaint=registered, reason="")
    complaint = services.dismiss(actor=handler, complaint=registered, reason="与本中心业务无关的广告")
    assert complaint.status == S.DISMISSED
    with pytest.raises(ValidationError):
        services.dismiss(actor=handler, complaint=complaint, reason="again")


# --- classification (R-CMP-4..6) ----------------------------------------------------------------


@pytest.mark.django_db
def test_classifying_before_any_finding_is_refused(accepted, handler):
    with pytest.raises(ValidationError, match="findings"):
        services.classify(actor=handler, complaint=accepted, classification="general")
    accepted.refresh_from_db()
    assert accepted.status == S.ACCEPTED and accepted.classification == ""


@pytest.mark.django_db
def test_findings_come_from_the_responsible_department_not_from_anyone(accepted, counter):
    with pytest.raises(PermissionDenied, match="responsible department"):
        services.record_findings(actor=counter, complaint=accepted, findings="x")


@pytest.mark.django_db
def test_r_cmp_4_an_invalid_complaint_gets_the_investigation_result_as_reply(investigated, handler, colleague):
    complaint = services.classify(actor=handler, complaint=investigated, classification="invalid", substantiated=True)
    assert complaint.substantiated is False  # an invalid complaint is not substantiated
    with pytest.raises(ValidationError, match="invalid complaint"):
        services.propose_opinion(actor=colleague, complaint=complaint, opinion="x")
    complaint = services.reply(actor=handler, complaint=complaint, text="经调查，证书信息与原始记录一致，投诉不成立。")
    assert complaint.status == S.REPLIED and complaint.replied_on_time is True
    assert Correspondence.objects.filter(complaint=complaint, kind=CorrespondenceKind.REPLY).exists()


@pytest.mark.django_db
def test_r_cmp_5_a_general_complaint_is_proposed_approved_carried_out_and_the_result_published(replied):
    assert replied.status == S.REPLIED and replied.published_at is not None
    assert _kinds(replied) == [
        "registered", "accepted", "findings", "classified", "opinion_proposed", "opinion_approved", "carried_out", "replied",
    ]
    assert replied.replied_within_limit is True


@pytest.mark.django_db
def test_r_cmp_5_only_the_responsible_person_approves_a_general_opinion(proposed, handler, colleague):
    with pytest.raises(PermissionDenied, match="responsible person"):
        services.decide_opinion(actor=handler, complaint=proposed, approve=True)
    proposed.refresh_from_db()
    assert proposed.status == S.PROPOSED


@pytest.mark.django_db
def test_approving_ones_own_opinion_is_refused(general, responsible, lab_head, colleague, handler):
    # The responsible person approves a general opinion, so they do not propose it …
    with pytest.raises(PermissionDenied, match="a colleague of the department"):
        services.propose_opinion(actor=responsible, complaint=general, opinion="自己提出的意见")
    general.refresh_from_db()
    assert general.status == S.CLASSIFIED and general.opinion == ""
    # … and whoever proposed cannot approve (a responsible person changed after proposing).
    complaint = services.propose_opinion(actor=colleague, complaint=general, opinion="同事提出的意见")
    complaint = services.reassign(actor=handler, complaint=complaint, department="医学计量室", responsible_person=colleague, reason="主任出差")
    with pytest.raises(PermissionDenied, match="someone else approves"):
        services.decide_opinion(actor=colleague, complaint=complaint, approve=True)
    complaint.refresh_from_db()
    assert complaint.status == S.PROPOSED and complaint.opinion_approved_by is None


@pytest.mark.django_db
def test_the_lab_head_decides_but_does_not_propose_major_decisions_or_compensation(investigated, handler, lab_head):
    from labqms.models import Activity
    from tests.factories import AuthorisationFactory

    AuthorisationFactory(person=lab_head, activity=Activity.HANDLE_COMPLAINTS, authorised_by=lab_head)
    complaint = services.classify(actor=handler, complaint=investigated, classification="major", substantiated=True)
    with pytest.raises(PermissionDenied, match="lab head decides"):
        services.propose_opinion(actor=lab_head, complaint=complaint, opinion="x")
    with pytest.raises(PermissionDenied, match="lab head decides compensation"):
        services.propose_compensation(actor=lab_head, complaint=complaint, amount="100", agreement="x")


@pytest.mark.django_db
def test_an_opinion_sent_back_needs_a_reason_and_returns_to_classified(proposed, responsible):
    with pytest.raises(ValidationError):
        services.decide_opinion(actor=responsible, complaint=proposed, approve=False, comment="")
    complaint = services.decide_opinion(actor=responsible, complaint=proposed, approve=False, comment="请补充致歉方式")
    assert complaint.status == S.CLASSIFIED


@pytest.mark.django_db
def test_the_reply_waits_for_the_handling_to_be_carried_out(approved, handler):
    with pytest.raises(ValidationError, match="carried out"):
        services.reply(actor=handler, complaint=approved, text="答复")


@pytest.mark.django_db
def test_r_cmp_6_a_major_incident_is_reported_to_the_head_with_an_audit_request(investigated, handler, lab_head, colleague):
    complaint = services.classify(
        actor=handler, complaint=investigated, classification="major", substantiated=True, management_review=True
    )
    assert complaint.reported_to_head_at and complaint.audit_requested_at and complaint.management_review_needed
    assert lab_head.notifications.filter(subject__contains=complaint.number).exists()
    assert {"reported_to_head", "audit_requested", "management_review_item"} <= set(_kinds(complaint))
    complaint = services.propose_opinion(actor=colleague, complaint=complaint, opinion="暂停该检定项目，召回证书")
    # The responsible person does not decide a major case; the lab head does.
    with pytest.raises(PermissionDenied):
        services.decide_opinion(actor=complaint.responsible_person, complaint=complaint, approve=True)
    complaint = services.decide_opinion(actor=lab_head, complaint=complaint, approve=True)
    assert complaint.status == S.APPROVED


@pytest.mark.django_db
def test_an_unsubstantiated_major_classification_requests_no_audit(investigated, handler):
    complaint = services.classify(actor=handler, complaint=investigated, classification="major", substantiated=False)
    assert complaint.reported_to_head_at is not None and complaint.audit_requested_at is None


# --- independence (ISO/IEC 17025 7.9.6) ---------------------------------------------------------


@pytest.mark.django_db
def test_7_9_6_whoever_checked_the_work_complained_about_is_not_made_responsible(
    checked_record, handler, counter, complaint_data
):
    complaint = services.register(actor=counter, channel=Channel.HOTLINE, data={**complaint_data, "sample": checked_record.sample})
    with pytest.raises(ValidationError, match="checked record"):
        services.accept(actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=checked_record.checker)
    complaint.refresh_from_db()
    assert complaint.status == S.REGISTERED and complaint.responsible_person is None


@pytest.mark.django_db
def test_7_9_6_a_lab_head_who_approved_the_certificate_does_not_decide_the_major_case(
    checked_record, performer, handler, responsible, colleague, counter, complaint_data, make_user, head
):
    from certificates.services import certificates as certificate_services
    from labqms.models import Activity, Role
    from tests.certificates.conftest import PASSWORD
    from tests.factories import AuthorisationFactory

    # A small lab: the head is also the technical lead and signs certificates.
    signing_head = make_user(Role.LAB_HEAD, Role.TECHNICAL_LEAD, username="head_signer")
    AuthorisationFactory(person=signing_head, activity=Activity.SIGN_CERTIFICATES, authorised_by=head)
    issued = certificate_services.approve(
        actor=signing_head, certificate=certificate_services.prepare(actor=performer, record=checked_record), password=PASSWORD
    )
    complaint = services.register(actor=counter, channel=Channel.HOTLINE, data={**complaint_data, "certificate": issued})
    complaint = services.accept(actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=responsible)
    complaint = services.record_findings(actor=colleague, complaint=complaint, findings="证书数据错误")
    complaint = services.classify(actor=handler, complaint=complaint, classification="major", substantiated=True)
    complaint = services.propose_opinion(actor=colleague, complaint=complaint, opinion="召回证书")
    with pytest.raises(PermissionDenied, match="approved certificate"):
        services.decide_opinion(actor=signing_head, complaint=complaint, approve=True)
    complaint.refresh_from_db()
    assert complaint.status == S.PROPOSED
    # Another lab head, not involved, decides.
    assert services.decide_opinion(actor=head, complaint=complaint, approve=True).status == S.APPROVED


@pytest.mark.django_db
def test_responsibility_changes_hands_with_a_reason_and_the_clock_keeps_running(accepted, handler, colleague, checked_record):
    due = accepted.reply_due
    with pytest.raises(ValidationError):
        services.reassign(actor=handler, complaint=accepted, department=DEPARTMENT, responsible_person=colleague, reason="")
    complaint = services.reassign(actor=handler, complaint=accepted, department=DEPARTMENT, responsible_person=colleague, reason="室主任出差")
    assert complaint.responsible_person == colleague and complaint.reply_due == due
    assert "reassigned" in _kinds(complaint)
    assert colleague.notifications.filter(subject__contains=complaint.number).exists()


@pytest.mark.django_db
def test_involvement_names_performer_checker_and_approver_of_a_linked_certificate(checked_record, performer, counter, complaint_data, make_user, head):
    from certificates.services import certificates as certificate_services
    from labqms.models import Activity, Role
    from tests.certificates.conftest import PASSWORD
    from tests.factories import AuthorisationFactory

    lead = make_user(Role.TECHNICAL_LEAD, username="signer_c")
    AuthorisationFactory(person=lead, activity=Activity.SIGN_CERTIFICATES, authorised_by=head)
    draft = certificate_services.prepare(actor=performer, record=checked_record)
    issued = certificate_services.approve(actor=lead, certificate=draft, password=PASSWORD)
    complaint = services.register(actor=counter, channel=Channel.HOTLINE, data={**complaint_data, "certificate": issued})
    assert complaint.sample == checked_record.sample and complaint.order == checked_record.sample.order
    people = services.involvement(complaint)
    assert set(people) == {checked_record.performer_id, checked_record.checker_id, lead.pk}


@pytest.mark.django_db
def test_links_that_disagree_are_refused(checked_record, counter, complaint_data, make_order, categories):
    from tests.intake.conftest import line

    other_order = make_order([line(categories["bp"], "BP-XYZ")])
    with pytest.raises(ValidationError):
        services.register(
            actor=counter, channel=Channel.HOTLINE,
            data={**complaint_data, "sample": checked_record.sample, "order": other_order},
        )


# --- extension, compensation, closure -------------------------------------------------------------


@pytest.mark.django_db
def test_r_cmp_3_an_extension_needs_an_explanation_sent_to_the_complainant(accepted, handler):
    later = accepted.reply_due + dt.timedelta(days=7)
    while later.weekday() >= 5:
        later += dt.timedelta(days=1)
    with pytest.raises(ValidationError):
        services.extend(actor=handler, complaint=accepted, new_due=later, explanation=" ")
    with pytest.raises(ValidationError):
        services.extend(actor=handler, complaint=accepted, new_due=accepted.reply_due, explanation="需外送复检")
    accepted.refresh_from_db()
    original = accepted.reply_due
    complaint = services.extend(actor=handler, complaint=accepted, new_due=later, explanation="需外送复检，预计延后一周")
    assert complaint.reply_due == later and complaint.original_due == original
    assert complaint.extensions.get().previous_due == original
    assert Correspondence.objects.filter(complaint=complaint, kind=CorrespondenceKind.EXTENSION, body__contains="外送复检").exists()


@pytest.mark.django_db
def test_r_cmp_7_compensation_is_proposed_and_approved_by_the_lab_head_not_the_proposer(general, handler, lab_head):
    with pytest.raises(ValidationError):
        services.propose_compensation(actor=handler, complaint=general, amount="", in_kind="", agreement="x")
    with pytest.raises(ValidationError):
        services.propose_compensation(actor=handler, complaint=general, amount="-5", agreement="x")
    compensation = services.propose_compensation(actor=handler, complaint=general, amount="350.00", agreement="免收本次检定费")
    with pytest.raises(PermissionDenied):
        services.decide_compensation(actor=handler, compensation=compensation, approve=True)
    compensation = services.decide_compensation(actor=lab_head, compensation=compensation, approve=True)
    assert compensation.status == "approved" and compensation.amount == Decimal("350.00")
    assert "compensation_approved" in _kinds(general)


@pytest.mark.django_db
def test_closing_records_the_complainants_feedback(replied, handler):
    with pytest.raises(ValidationError):
        services.close(actor=handler, complaint=replied, feedback="")
    with pytest.raises(ValidationError):
        services.close(actor=handler, complaint=replied, feedback="not_satisfied", feedback_note="")
    complaint = services.close(actor=handler, complaint=replied, feedback="satisfied", feedback_note="客户表示满意")
    assert complaint.status == S.CLOSED and complaint.closed_by == handler
    with pytest.raises(ValidationError):
        services.close(actor=handler, complaint=complaint, feedback="satisfied")


@pytest.mark.django_db
def test_figures_count_classes_and_on_time_replies(replied, investigated, handler, counter, complaint_data, responsible, colleague):
    late = services.register(actor=counter, channel=Channel.HOTLINE, data=complaint_data, received_at=received_on(dt.date(2026, 2, 12)))
    late = services.accept(actor=handler, complaint=late, department=DEPARTMENT, responsible_person=responsible, accepted_on=dt.date(2026, 2, 12))
    late = services.record_findings(actor=colleague, complaint=late, findings="不成立")
    late = services.classify(actor=handler, complaint=late, classification="invalid")
    late = services.reply(actor=handler, complaint=late, text="不成立")  # replied today: long after 2026-03-04
    figures = services.figures(Complaint.objects.all())
    assert figures["by_class"] == {"invalid": 1, "general": 1, "major": 0}
    assert figures["replied"] == 2 and figures["on_time"] == 1
    assert figures["on_time_rate"] == Decimal("50.0")


@pytest.mark.django_db
def test_every_step_is_logged_and_events_do_not_change(replied):
    event = ComplaintEvent.objects.filter(complaint=replied).first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
