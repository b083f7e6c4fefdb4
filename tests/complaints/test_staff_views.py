"""The staff complaint pages (R-CMP-1..7, R-MGT-2): the quality lead's list (clock,
traffic light, filters, figures), registering a complaint from any channel, every step
through the complaint page as the role that takes it, the refusals shown on the page with
nothing changed, the printable complaint file and the attachment download.

Messages are asserted with the English UI (LANGUAGE_COOKIE "en").
"""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.demo import ring_png
from certificates.models import Certificate, CertificateStatus, CertificateType
from complaints.models import (
    Channel,
    Compensation,
    CompensationStatus,
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintStatus,
    CorrespondenceKind,
    Extension,
)
from complaints.services import complaints as services
from labqms import workdays

# Fixtures of the records and intake tests (a checked record, a received sample), requested by name.
from tests.certificates.conftest import assigner as assigner  # noqa: F401
from tests.certificates.conftest import bp_equipment as bp_equipment  # noqa: F401
from tests.certificates.conftest import categories as categories  # noqa: F401
from tests.certificates.conftest import checked_record as checked_record  # noqa: F401
from tests.certificates.conftest import checker as checker  # noqa: F401
from tests.certificates.conftest import clerk as clerk  # noqa: F401
from tests.certificates.conftest import fill as fill  # noqa: F401
from tests.certificates.conftest import hospital as hospital  # noqa: F401
from tests.certificates.conftest import lead as lead  # noqa: F401
from tests.certificates.conftest import location as location  # noqa: F401
from tests.certificates.conftest import make_equipment as make_equipment  # noqa: F401
from tests.certificates.conftest import make_order as make_order  # noqa: F401
from tests.certificates.conftest import make_technician as make_technician  # noqa: F401
from tests.certificates.conftest import method as method  # noqa: F401
from tests.certificates.conftest import method_lead as method_lead  # noqa: F401
from tests.certificates.conftest import operator as operator  # noqa: F401
from tests.certificates.conftest import performer as performer  # noqa: F401
from tests.certificates.conftest import received_sample as received_sample  # noqa: F401
from tests.certificates.conftest import record as record  # noqa: F401
from tests.certificates.conftest import signed_record as signed_record  # noqa: F401
from tests.certificates.conftest import task as task  # noqa: F401
from tests.certificates.conftest import template as template  # noqa: F401
from tests.complaints.conftest import COMPLAINANT, DEPARTMENT, received_on

S = ComplaintStatus


def detail(c):
    return reverse("complaints:complaint_detail", args=[c.pk])


def step(name, c):
    return reverse(f"complaints:{name}", args=[c.pk])


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


def events(c) -> int:
    return ComplaintEvent.objects.filter(complaint=c).count()


# --- registering (R-CMP-2) -----------------------------------------------------------------


REGISTER = {
    "channel": Channel.HOTLINE,
    "received_at": "",
    "complainant_name": "王医生",
    "complainant_organisation": "市第一人民医院设备科",
    "complainant_phone": "0571-88888888",
    "complainant_email": "wang@example.com",
    "subject": "证书型号填写错误",
    "description": "送检的血压计证书上型号与铭牌不符。",
}


def register_data(**extra):
    received = timezone.localtime() - dt.timedelta(hours=1)
    return {**REGISTER, "received_at": received.strftime("%Y-%m-%dT%H:%M"), **extra}


@pytest.mark.django_db
def test_r_cmp_2_counter_registers_a_hotline_complaint_by_sample_id(as_user, counter, handler, received_sample):
    client = as_user(counter)
    assert client.get(reverse("complaints:complaint_register")).status_code == 200
    response = client.post(reverse("complaints:complaint_register"), register_data(sample_id=received_sample.sample_id.lower()))
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(complaint)
    assert complaint.sample == received_sample and complaint.order == received_sample.order
    assert complaint.customer == received_sample.order.customer
    assert complaint.registered_by == counter and complaint.channel == Channel.HOTLINE
    page = text(client.get(detail(complaint)))
    assert received_sample.sample_id in page and received_sample.order.number in page
    assert reverse("intake:sample_detail", args=[received_sample.pk]) in page
    assert reverse("intake:order_detail", args=[received_sample.order.pk]) in page


@pytest.mark.django_db
def test_r_cmp_2_unknown_numbers_are_named_and_the_input_is_kept(as_user, counter):
    client = as_user(counter)
    response = client.post(
        reverse("complaints:complaint_register"),
        register_data(order_number="WT2099-9999", sample_id="NOPE-1", certificate_number="JD2099-000009"),
    )
    page = text(response)
    assert response.status_code == 200
    assert "No order has the number WT2099-9999." in page
    assert "No sample has the ID NOPE-1." in page
    assert "No certificate has the number JD2099-000009." in page
    assert "证书型号填写错误" in page and "送检的血压计证书上型号与铭牌不符。" in page
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_r_cmp_3_a_complaint_without_any_contact_is_refused(as_user, counter):
    client = as_user(counter)
    data = register_data(complainant_phone="", complainant_email="", complainant_address="")
    response = client.post(reverse("complaints:complaint_register"), data)
    assert response.status_code == 200
    assert "the reply must reach the complainant" in text(response)
    assert "王医生" in text(response)
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_r_cmp_2_order_of_another_customer_is_refused(as_user, counter, received_sample, hospital):
    from intake.models import Customer

    other = Customer.objects.create(name="市第二人民医院")
    client = as_user(counter)
    response = client.post(
        reverse("complaints:complaint_register"),
        register_data(customer=other.pk, order_number=received_sample.order.number),
    )
    assert response.status_code == 200 and "That order belongs to another customer." in text(response)
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_r_cmp_2_attachments_are_stored_and_downloaded_by_staff_only(as_user, client, counter, technician, customer):
    staff = as_user(counter)
    files = [
        SimpleUploadedFile("photo.png", ring_png(), content_type="image/png"),
        SimpleUploadedFile("letter.pdf", b"%PDF-1.4 letter", content_type="application/pdf"),
    ]
    response = staff.post(reverse("complaints:complaint_register"), {**register_data(), "attachments": files})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    attachments = list(complaint.attachments.order_by("name"))
    assert [a.name for a in attachments] == ["letter.pdf", "photo.png"]
    page = text(staff.get(detail(complaint)))
    url = reverse("complaints:complaint_attachment", args=[attachments[1].pk])
    assert url in page and "/media/" not in page
    download = as_user(technician).get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == ring_png()
    assert 'attachment; filename="photo.png"' in download["Content-Disposition"]
    assert as_user(customer).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_r_cmp_2_a_file_of_the_wrong_type_registers_nothing(as_user, counter):
    client = as_user(counter)
    bad = SimpleUploadedFile("virus.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client.post(reverse("complaints:complaint_register"), {**register_data(), "attachments": [bad]})
    assert response.status_code == 200
    assert "The file&#x27;s content is not a PDF." in text(response) or "content is not a PDF" in text(response)
    assert "Choose the attachments again" in text(response)
    assert not Complaint.objects.exists() and not ComplaintAttachment.objects.exists()


@pytest.mark.django_db
def test_customers_and_strangers_do_not_reach_staff_pages(as_user, client, customer, registered):
    client.logout()
    assert client.get(reverse("complaints:complaint_list")).status_code == 302
    portal = as_user(customer)
    for url in (reverse("complaints:complaint_list"), reverse("complaints:complaint_register"), detail(registered),
                reverse("complaints:complaint_pdf", args=[registered.pk])):
        assert portal.get(url).status_code == 404, url


@pytest.mark.django_db
def test_the_menu_offers_complaints_to_staff_only(as_user, counter, customer):
    url = reverse("complaints:complaint_list")
    assert f'href="{url}"' in text(as_user(counter).get(reverse("home")))
    assert f'href="{url}"' not in text(as_user(customer).get(reverse("home")))


# --- acceptance (R-CMP-1, R-CMP-3) -------------------------------------------------------------


@pytest.mark.django_db
def test_r_cmp_1_only_the_quality_lead_is_offered_acceptance(as_user, registered, handler, responsible, counter, head):
    page = text(as_user(handler).get(detail(registered)))
    assert 'data-testid="accept-form"' in page and 'data-testid="dismiss-form"' in page
    assert f'<option value="{DEPARTMENT}">' in page  # departments from the staff profiles
    assert str(responsible) in page
    for user in (counter, head):  # the lab head holds no authorisation to handle complaints here
        assert 'data-testid="accept-form"' not in text(as_user(user).get(detail(registered)))


@pytest.mark.django_db
def test_r_cmp_3_accepting_starts_the_clock_and_tells_the_complainant(as_user, registered, handler, responsible):
    client = as_user(handler)
    response = client.post(step("complaint_accept", registered), {
        "accept-department": DEPARTMENT, "accept-responsible_person": responsible.pk,
    })
    assert response.status_code == 302
    registered.refresh_from_db()
    assert registered.status == S.ACCEPTED and registered.responsible_person == responsible
    assert registered.reply_due == workdays.add_working_days(timezone.localdate(), 10)
    page = text(client.get(detail(registered)))
    assert "accepted; the complainant is told" in page
    assert registered.reply_due.isoformat() in page and "working days left" in page
    assert 'data-kind="acknowledgement"' in page and "E-mail" in page


@pytest.mark.django_db
def test_r_cmp_3_accepting_without_a_department_keeps_the_input(as_user, registered, handler, responsible):
    client = as_user(handler)
    response = client.post(step("complaint_accept", registered), {
        "accept-department": " ", "accept-responsible_person": responsible.pk, "accept-accepted_on": "",
    })
    page = text(response)
    assert response.status_code == 200 and "Name the responsible department." in page
    assert f'<option value="{responsible.pk}" selected>' in page
    registered.refresh_from_db()
    assert registered.status == S.REGISTERED


@pytest.mark.django_db
def test_r_cmp_3_accepting_twice_is_refused_with_nothing_changed(as_user, accepted, handler, colleague):
    before = (events(accepted), accepted.reply_due, accepted.responsible_person_id)
    response = as_user(handler).post(step("complaint_accept", accepted), {
        "accept-department": "质量管理部", "accept-responsible_person": colleague.pk,
    }, follow=True)
    assert response.status_code == 200
    assert f"Complaint {accepted.number} was already accepted on {accepted.accepted_on}." in text(response)
    accepted.refresh_from_db()
    assert (events(accepted), accepted.reply_due, accepted.responsible_person_id) == before


@pytest.mark.django_db
def test_r_cmp_3_dismissing_needs_a_reason(as_user, registered, handler):
    client = as_user(handler)
    response = client.post(step("complaint_dismiss", registered), {"dismiss-reason": ""})
    assert response.status_code == 200 and "Say why the complaint is not accepted." in text(response)
    response = client.post(step("complaint_dismiss", registered), {"dismiss-reason": "广告，与本所业务无关。"})
    registered.refresh_from_db()
    assert response.status_code == 302 and registered.status == S.DISMISSED
    assert "广告，与本所业务无关。" in text(client.get(detail(registered)))


# --- investigation and classification (R-CMP-4..6) ----------------------------------------------


@pytest.mark.django_db
def test_r_cmp_4_classifying_before_any_finding_is_refused_and_the_choice_kept(as_user, accepted, handler):
    response = as_user(handler).post(step("complaint_classify", accepted), {
        "classify-classification": "general", "classify-substantiated": "on", "classify-note": "待查",
    })
    page = text(response)
    assert response.status_code == 200
    assert "Record the findings of the investigation before classifying." in page
    assert '<option value="general" selected>' in page and "待查" in page
    accepted.refresh_from_db()
    assert accepted.status == S.ACCEPTED and accepted.classification == ""


@pytest.mark.django_db
def test_r_cmp_4_the_department_records_findings_and_the_quality_lead_classifies(as_user, accepted, colleague, handler, counter):
    assert 'data-testid="findings-form"' not in text(as_user(counter).get(detail(accepted)))
    response = as_user(colleague).post(step("complaint_findings", accepted), {"findings-findings": "型号抄写错误属实。"})
    assert response.status_code == 302
    client = as_user(handler)
    response = client.post(step("complaint_classify", accepted), {
        "classify-classification": "general", "classify-substantiated": "on",
    })
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == S.CLASSIFIED and accepted.substantiated and accepted.findings == "型号抄写错误属实。"
    page = text(client.get(detail(accepted)))
    assert "Findings recorded" in page and "Complaint classified" in page  # the event log in words


@pytest.mark.django_db
def test_a_stranger_to_the_department_is_refused_findings(as_user, accepted, counter):
    response = as_user(counter).post(step("complaint_findings", accepted), {"findings-findings": "x"}, follow=True)
    assert "Only the responsible department" in text(response)
    accepted.refresh_from_db()
    assert accepted.findings == ""


@pytest.mark.django_db
def test_r_cmp_6_a_major_incident_shows_its_flags_and_goes_to_the_lab_head(as_user, investigated, handler, responsible, head, colleague):
    as_user(handler).post(step("complaint_classify", investigated), {
        "classify-classification": "major", "classify-substantiated": "on", "classify-management_review": "on",
    })
    investigated.refresh_from_db()
    assert investigated.reported_to_head_at and investigated.audit_requested_at and investigated.management_review_needed
    page = text(as_user(colleague).get(detail(investigated)))
    assert 'data-testid="major-flags"' in page and "Ad-hoc internal audit requested" in page
    assert "Management-review item raised" in page
    services.propose_opinion(actor=colleague, complaint=investigated, opinion="停用相关标准器，追溯复检。")
    assert 'data-testid="decide-form"' not in text(as_user(responsible).get(detail(investigated)))
    client = as_user(head)
    assert 'data-testid="decide-form"' in text(client.get(detail(investigated)))
    response = client.post(step("complaint_decide_opinion", investigated), {"decide-decision": "approve", "decide-comment": ""})
    assert response.status_code == 302
    investigated.refresh_from_db()
    assert investigated.status == S.APPROVED and investigated.opinion_approved_by == head


# --- handling opinion (R-CMP-5) and independence (7.9.6) ---------------------------------------


@pytest.mark.django_db
def test_r_cmp_5_general_complaint_from_opinion_to_closure_through_the_page(as_user, general, colleague, responsible, handler):
    client = as_user(colleague)
    assert client.post(step("complaint_propose_opinion", general), {"propose-opinion": "出具替代证书，向客户致歉。"}).status_code == 302
    client = as_user(responsible)
    assert 'data-testid="decide-form"' in text(client.get(detail(general)))
    assert client.post(step("complaint_decide_opinion", general), {"decide-decision": "approve"}).status_code == 302
    client = as_user(colleague)
    assert client.post(step("complaint_carry_out", general), {"carry_out-note": "已出具替代证书。"}).status_code == 302
    client = as_user(handler)
    assert client.post(step("complaint_reply", general), {"reply-text": "经核查属实，特此致歉。"}).status_code == 302
    general.refresh_from_db()
    assert general.status == S.REPLIED and general.published_at is not None  # general: always published
    page = text(client.get(detail(general)))
    assert "Reply sent to the complainant." in page and 'data-testid="close-form"' in page
    assert client.post(step("complaint_close", general), {"close-feedback": "satisfied"}).status_code == 302
    general.refresh_from_db()
    assert general.status == S.CLOSED and general.feedback == "satisfied"
    kinds = list(general.events.values_list("kind", flat=True))
    assert kinds[-5:] == ["opinion_proposed", "opinion_approved", "carried_out", "replied", "closed"]


@pytest.mark.django_db
def test_r_cmp_5_approving_ones_own_opinion_is_refused(as_user, general, responsible, colleague, handler):
    # The responsible person is not offered the proposal (they approve it) …
    client = as_user(responsible)
    page = text(client.get(detail(general)))
    assert 'data-testid="propose-form"' not in page
    response = client.post(step("complaint_propose_opinion", general), {"propose-opinion": "由我室出具替代证书。"}, follow=True)
    assert "a colleague of the department or the quality lead proposes it" in text(response)
    # … and a proposer made responsible later does not approve their own opinion.
    services.propose_opinion(actor=colleague, complaint=general, opinion="由我室出具替代证书。")
    services.reassign(actor=handler, complaint=general, department=DEPARTMENT, responsible_person=colleague, reason="主任出差")
    responsible = colleague
    client = as_user(responsible)
    page = text(client.get(detail(general)))
    assert 'data-testid="decide-blocked"' in page and 'data-testid="decide-form"' not in page
    before = events(general)
    response = client.post(step("complaint_decide_opinion", general), {"decide-decision": "approve"}, follow=True)
    assert "You proposed this opinion; someone else approves it." in text(response)
    general.refresh_from_db()
    assert general.status == S.PROPOSED and general.opinion_approved_by is None and events(general) == before


@pytest.mark.django_db
def test_r_cmp_5_sending_back_needs_a_comment_and_keeps_the_form(as_user, proposed, responsible):
    client = as_user(responsible)
    response = client.post(step("complaint_decide_opinion", proposed), {"decide-decision": "return", "decide-comment": " "})
    assert response.status_code == 200 and "Say why the opinion is sent back." in text(response)
    proposed.refresh_from_db()
    assert proposed.status == S.PROPOSED
    response = client.post(step("complaint_decide_opinion", proposed), {"decide-decision": "return", "decide-comment": "请补充纠正措施。"})
    proposed.refresh_from_db()
    assert response.status_code == 302 and proposed.status == S.CLASSIFIED


@pytest.fixture
def checked_work(checked_record, performer, method_lead):
    """A record checked by ``checker`` and an issued certificate for it (the certificate's
    own issue and PDF are tested in certificates; here only its number and people)."""
    certificate = Certificate.objects.create(
        record=checked_record, type=CertificateType.VERIFICATION_CERTIFICATE, status=CertificateStatus.ISSUED,
        number="JD2026-000042", verification_code="ABCD1234", created_by=performer, approved_by=method_lead,
        issued_at=timezone.now(),
    )
    return checked_record, certificate


@pytest.mark.django_db
def test_independence_the_checker_of_the_work_is_not_made_responsible(
    as_user, checked_work, counter, handler, checker
):
    """ISO/IEC 17025 7.9.6 (R-CMP-5): the complaint names the certificate by number; its
    record's checker would approve a general complaint's outcome as the responsible
    person, so acceptance with them is refused on the page and nothing changes."""
    work, certificate = checked_work
    response = as_user(counter).post(reverse("complaints:complaint_register"), register_data(certificate_number="jd2026-000042"))
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and complaint.certificate == certificate and complaint.sample == work.sample
    assert reverse("certificates:certificate_detail", args=[certificate.pk]) in text(as_user(counter).get(detail(complaint)))
    before = events(complaint)
    response = as_user(handler).post(step("complaint_accept", complaint), {
        "accept-department": DEPARTMENT, "accept-responsible_person": checker.pk,
    })
    page = text(response)
    assert f"checked record {work.number}" in page and "ISO/IEC 17025 7.9.6" in page
    complaint.refresh_from_db()
    assert complaint.status == S.REGISTERED and complaint.responsible_person is None and events(complaint) == before


@pytest.mark.django_db
def test_r_cmp_4_an_invalid_complaint_is_replied_with_the_result(as_user, investigated, handler):
    client = as_user(handler)
    client.post(step("complaint_classify", investigated), {"classify-classification": "invalid"})
    page = text(client.get(detail(investigated)))
    assert 'data-testid="reply-form"' in page and 'data-testid="propose-form"' not in page
    response = client.post(step("complaint_reply", investigated), {"reply-text": "经核查，证书型号与铭牌一致。", "reply-publish": ""})
    investigated.refresh_from_db()
    assert response.status_code == 302 and investigated.status == S.REPLIED and investigated.published_at is None
    assert investigated.correspondence.filter(kind=CorrespondenceKind.REPLY).exists()


@pytest.mark.django_db
def test_r_cmp_3_a_reply_without_text_is_refused(as_user, carried_out, handler):
    response = as_user(handler).post(step("complaint_reply", carried_out), {"reply-text": "", "reply-publish": "on"})
    assert response.status_code == 200 and "Write the reply." in text(response)
    carried_out.refresh_from_db()
    assert carried_out.status == S.CARRIED_OUT


# --- extension, compensation, closure (R-CMP-3, R-CMP-7) ----------------------------------------


@pytest.mark.django_db
def test_r_cmp_3_an_extension_without_explanation_is_refused_and_the_date_kept(as_user, accepted, handler):
    new_due = workdays.add_working_days(accepted.reply_due, 5)
    client = as_user(handler)
    response = client.post(step("complaint_extend", accepted), {"extend-new_due": new_due.isoformat(), "extend-explanation": ""})
    page = text(response)
    assert response.status_code == 200
    assert "Explain to the complainant why the reply needs longer." in page
    assert f'value="{new_due.isoformat()}"' in page
    accepted.refresh_from_db()
    assert accepted.reply_due == accepted.original_due and not Extension.objects.exists()
    response = client.post(step("complaint_extend", accepted), {
        "extend-new_due": new_due.isoformat(), "extend-explanation": "需送外部机构复检，预计延后一周。",
    })
    accepted.refresh_from_db()
    assert response.status_code == 302 and accepted.reply_due == new_due
    page = text(client.get(detail(accepted)))
    assert 'data-testid="extension"' in page and "需送外部机构复检" in page and 'data-kind="extension"' in page


@pytest.mark.django_db
def test_r_cmp_7_compensation_proposed_by_the_quality_lead_and_decided_by_the_lab_head(as_user, general, handler, head):
    client = as_user(handler)
    response = client.post(step("complaint_propose_compensation", general), {
        "compensate-amount": "35.5.0", "compensate-in_kind": "", "compensate-agreement": "免收复检费",
    })
    assert response.status_code == 200 and "Enter an amount in yuan" in text(response) and "免收复检费" in text(response)
    assert not Compensation.objects.exists()
    client.post(step("complaint_propose_compensation", general), {
        "compensate-amount": "350.00", "compensate-agreement": "免收复检费并补偿运费。",
    })
    compensation = Compensation.objects.get()
    assert 'data-testid="decide_compensation-form"' not in text(client.get(detail(general)))  # not the proposer's call
    url = reverse("complaints:compensation_decide", args=[compensation.pk])
    head_client = as_user(head)
    assert 'data-testid="decide_compensation-form"' in text(head_client.get(detail(general)))
    response = head_client.post(url, {"decide_compensation-decision": "return", "decide_compensation-note": ""})
    assert response.status_code == 200 and "Say why the compensation is refused." in text(response)
    response = head_client.post(url, {"decide_compensation-decision": "approve"})
    compensation.refresh_from_db()
    assert response.status_code == 302 and compensation.status == CompensationStatus.APPROVED and compensation.decided_by == head


@pytest.mark.django_db
def test_r_cmp_3_closing_needs_the_feedback(as_user, replied, handler):
    client = as_user(handler)
    response = client.post(step("complaint_close", replied), {"close-feedback": "not_satisfied", "close-feedback_note": ""})
    assert response.status_code == 200 and "Record what the complainant is not satisfied with." in text(response)
    replied.refresh_from_db()
    assert replied.status == S.REPLIED


@pytest.mark.django_db
def test_actions_are_post_only(as_user, accepted, handler):
    client = as_user(handler)
    for name in ("complaint_accept", "complaint_classify", "complaint_extend", "complaint_close"):
        assert client.get(step(name, accepted)).status_code == 405


# --- the complaint file (PDF) ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_complaint_file_prints_as_a_pdf_with_every_step(as_user, replied, handler, counter):
    """ISO/IEC 17025 7.9 / R-CMP-3..5: the whole file for an assessor, page-numbered."""
    services.close(actor=handler, complaint=replied, feedback="satisfied")
    from pypdf import PdfReader

    response = as_user(counter).get(reverse("complaints:complaint_pdf", args=[replied.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.content))
    content = "".join(page.extract_text() for page in reader.pages)
    squashed = "".join(content.split())  # table cells wrap lines anywhere
    assert replied.number in content
    for expected in ("王医生", "证书型号填写错误", "核查原始记录", "出具替代证书", "已出具替代证书并寄送", "经核查属实",
                     "Reply sent", "Handling opinion approved", "Complaint closed", "Acknowledgement of acceptance", "Satisfied"):
        assert "".join(expected.split()) in squashed, expected
    assert f"Page 1 of {len(reader.pages)}" in content


# --- the quality lead's list -----------------------------------------------------------------


def bulk_complaints(n, **fields):
    """``n`` complaints straight into the table (the list is under test, not the services)."""
    now = timezone.now()
    start = Complaint.objects.count()
    base = {**COMPLAINANT, "channel": Channel.HOTLINE, "received_at": now, "description": "…"}
    Complaint.objects.bulk_create([
        Complaint(number=f"TS2026-9{start + i:03d}", **{**base, "subject": f"批量投诉 {i}", **fields}) for i in range(n)
    ])


@pytest.mark.django_db
def test_r_cmp_3_traffic_light_and_working_days_left(as_user, handler, accepted, settings):
    settings.COMPLAINTS_NEAR_DEADLINE_DAYS = 2
    today = timezone.localdate()
    open_fields = {"status": S.ACCEPTED, "accepted_on": today - dt.timedelta(days=30)}
    bulk_complaints(1, reply_due=today - dt.timedelta(days=7), subject="已超期", **open_fields)
    bulk_complaints(1, reply_due=workdays.add_working_days(today, 2), subject="将到期", **open_fields)
    bulk_complaints(1, reply_due=workdays.add_working_days(today, 8), due_provisional=True, subject="正常", **open_fields)
    page = text(as_user(handler).get(reverse("complaints:complaint_list")))
    rows = page.split('data-testid="complaint-row"')[1:]
    assert "已超期" in rows[0] and 'data-level="overdue"' in rows[0] and "Overdue" in rows[0] and "overdue" in rows[0]
    assert "将到期" in rows[1] and 'data-level="near"' in rows[1] and "Due soon" in rows[1] and "2 working days left" in rows[1]
    assert 'data-level="ok"' in rows[2] and "On track" in rows[2] and "8 working days left" in rows[2]
    assert 'data-testid="due-provisional"' in rows[2] and "provisional" in rows[2]
    # the fixture's complaint accepted today has 10 working days left: last of the open ones
    assert accepted.number in rows[3] and "10 working days left" in rows[3]


@pytest.mark.django_db
def test_r_mgt_2_list_filters_search_and_figures(as_user, handler, replied, registered, received_sample):
    Complaint.objects.filter(pk=registered.pk).update(
        channel=Channel.LETTER, complainant_name="李主任", complainant_organisation="县医院", subject="收费疑问",
        order=received_sample.order, sample=received_sample, received_at=received_on(dt.date(2026, 1, 5)),
    )
    client = as_user(handler)
    url = reverse("complaints:complaint_list")

    def numbers(query):
        return {row.split('data-number="')[1].split('"')[0] for row in text(client.get(url, query)).split('data-testid="complaint-row"')[1:]}

    assert numbers({}) == {replied.number, registered.number}
    assert numbers({"classification": "general"}) == {replied.number}
    assert numbers({"channel": Channel.LETTER}) == {registered.number}
    assert numbers({"status": S.REPLIED}) == {replied.number}
    assert numbers({"state": "open"}) == {replied.number, registered.number}
    assert numbers({"state": "closed"}) == set()
    for q in (registered.number, "李主任", "县医院", "收费", received_sample.order.number, received_sample.sample_id):
        assert numbers({"q": q}) == {registered.number}, q
    assert numbers({"received_from": "2026-01-01", "received_to": "2026-01-31"}) == {registered.number}
    response = client.get(url, {"received_from": "2026-02-01", "received_to": "2026-01-01"})
    assert "The end date 2026-01-01 is before the start date 2026-02-01." in text(response)
    assert 'data-testid="complaint-search-errors"' in text(response)
    figures = text(client.get(url, {"classification": "general"})).split('data-testid="complaint-figures"')[1].split("</section>")[0]
    assert 'data-testid="figure-replied">1<' in figures and "100.0 %" in figures


@pytest.mark.django_db
def test_list_search_by_certificate_number(as_user, handler, checked_work, counter):
    _work, certificate = checked_work
    services.register(actor=counter, channel=Channel.RECEPTION, data={**COMPLAINANT, "certificate": certificate})
    bulk_complaints(2)
    page = text(as_user(handler).get(reverse("complaints:complaint_list"), {"q": "000042"}))
    assert page.count('data-testid="complaint-row"') == 1


@pytest.mark.django_db
def test_the_list_pages_by_25(as_user, handler):
    bulk_complaints(30)
    client = as_user(handler)
    assert text(client.get(reverse("complaints:complaint_list"))).count('data-testid="complaint-row"') == 25
    page2 = text(client.get(reverse("complaints:complaint_list"), {"page": 2}))
    assert page2.count('data-testid="complaint-row"') == 5 and "30 entries" in page2


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_3_and_120_complaints(as_user, handler, responsible):
    """R-MGT-2: the quality lead's list (rows, clock, figures) in a fixed number of queries."""
    client = as_user(handler)
    today = timezone.localdate()
    fields = {"status": S.ACCEPTED, "accepted_on": today, "reply_due": workdays.add_working_days(today, 5),
              "responsible_person": responsible, "department": DEPARTMENT}
    bulk_complaints(3, **fields)
    client.get(reverse("complaints:complaint_list"))  # warm caches (content types, calendar)
    with CaptureQueriesContext(connection) as few:
        assert text(client.get(reverse("complaints:complaint_list"))).count('data-testid="complaint-row"') == 3
    bulk_complaints(117, **fields)
    with CaptureQueriesContext(connection) as many:
        assert text(client.get(reverse("complaints:complaint_list"))).count('data-testid="complaint-row"') == 25
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.django_db
def test_the_complaint_page_costs_the_same_queries_however_long_its_file(as_user, handler, accepted, colleague):
    client = as_user(handler)
    client.get(detail(accepted))
    with CaptureQueriesContext(connection) as short:
        client.get(detail(accepted))
    for i in range(6):
        services.record_findings(actor=colleague, complaint=accepted, findings=f"第{i}次补充调查。")
        services.extend(actor=handler, complaint=accepted, new_due=workdays.add_working_days(accepted.reply_due, 1),
                        explanation=f"延期说明 {i}")
        accepted.refresh_from_db()
    with CaptureQueriesContext(connection) as long:
        client.get(detail(accepted))
    assert len(long) == len(short), [q["sql"] for q in long.captured_queries]
