"""Certificates from checked records (R-CRT-1..6, approval stage of R-REC-5): types,
content read back from the issued PDF, approval with the password, idempotent issue,
amendments and public verification."""

import hashlib
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation
from pypdf import PdfReader

from certificates.models import (
    AmendmentKind,
    Certificate,
    CertificateStatus,
    CertificateType,
    Seal,
    SealUse,
)
from certificates.services import certificates as services
from certificates.services import records as record_services
from intake.services import orders as order_services
from labqms.models import Activity
from tests.certificates.conftest import PASSWORD
from tests.factories import AuthorisationFactory
from tests.intake.conftest import line

D = Decimal


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def signatory(method_lead, head):
    AuthorisationFactory(person=method_lead, activity=Activity.SIGN_CERTIFICATES, authorised_by=head)
    return method_lead


def _text(certificate) -> str:
    certificate.pdf.open("rb")
    try:
        reader = PdfReader(io.BytesIO(certificate.pdf.read()))
    finally:
        certificate.pdf.close()
    # Titles are letter-spaced and lines wrap: compare without any whitespace.
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def _issue(record, actor, signatory) -> Certificate:
    draft = services.prepare(actor=actor, record=record)
    return services.approve(actor=signatory, certificate=draft, password=PASSWORD)


@pytest.mark.django_db
def test_r_crt_1_a_passed_verification_gets_a_certificate_with_valid_until(checked_record, performer, signatory):
    certificate = _issue(checked_record, performer, signatory)
    assert certificate.type == CertificateType.VERIFICATION_CERTIFICATE
    assert certificate.status == CertificateStatus.ISSUED
    year = timezone.localdate().year
    assert certificate.number == f"JD{year}-000001"
    # valid until = date of verification + verification period (12 months for bp)
    assert certificate.valid_until == checked_record.measured_on.replace(year=checked_record.measured_on.year + 1)
    text = _text(certificate)
    assert "检定证书" in text and certificate.number in text
    assert "有效期至" in text and certificate.valid_until.isoformat() in text
    assert checked_record.number in text  # original-record number
    assert "批准" in text and "以下空白" in text
    assert "JJG692-2010" in text
    assert "扩展不确定度" not in text


@pytest.mark.django_db
def test_r_crt_1_a_failed_verification_gets_a_result_notice_naming_the_failed_items(record, fill, performer, checker, signatory):
    fill(record, values={100: "110"}, conclusion="fail")
    record_services.sign_record(actor=performer, record=record, password=PASSWORD)
    record_services.check_record(actor=checker, record=record, password=PASSWORD)
    certificate = _issue(record, performer, signatory)
    assert certificate.type == CertificateType.VERIFICATION_NOTICE
    assert certificate.number.startswith("TZ") and certificate.valid_until is None
    text = _text(certificate)
    assert "检定结果通知书" in text and "有效期至" not in text
    assert "100 mmHg" in certificate.content["failed_items"][0]


@pytest.fixture
def cal_record(make_order, categories, clerk, location, cal_method, cal_template, performer, checker, method_lead, bp_equipment, fill):
    from certificates.services import tasks as task_services
    from intake.services import samples as sample_services

    def make(interval=False, conformity=False):
        order = make_order([line(categories["pump"], "P-1")], stage="draft")
        order_services.review_order(
            actor=clerk, order=order, decision="accept", lawful=True, requirements_clear=True, competent=True, terms_agreed=True,
            interval_requested=interval, conformity_statement_requested=conformity, decision_rule="简单接受（不考虑不确定度）" if conformity else "",
        )
        order_services.record_confirmation(actor=clerk, order=order, signer_name="刘洋")
        order = order_services.accept_order(actor=clerk, order=order)
        sample = sample_services.receive_sample(actor=clerk, sample=order.samples.get(), location=location)
        task = task_services.assign_task(actor=method_lead, sample=sample, method=cal_method, performer=performer, checker=checker)
        record = task_services.start_task(actor=performer, task=task)
        record_services.save_environment(actor=performer, record=record, temperature="21", humidity="50")
        record_services.add_equipment(actor=performer, record=record, equipment=bp_equipment)
        record_services.save_uncertainties(
            actor=performer, record=record,
            entries={record_services.uncertainty_key(p.pk, "as_found"): ("0.30", "2") for p in record.template.points.all()},
        )
        fill(record, conclusion="calibrated")
        record_services.sign_record(actor=performer, record=record, password=PASSWORD)
        record_services.check_record(actor=checker, record=record, password=PASSWORD)
        return record

    return make


@pytest.mark.django_db
def test_r_crt_3_4_calibration_certificate_has_u_and_k_and_no_interval_unless_asked(cal_record, performer, signatory):
    certificate = _issue(cal_record(), performer, signatory)
    assert certificate.type == CertificateType.CALIBRATION_CERTIFICATE and certificate.valid_until is None
    text = _text(certificate)
    assert "校准证书" in text and "扩展不确定度" in text and "0.3" in text
    assert "有效期至" not in text
    assert "建议校准间隔" not in text and certificate.content["interval_months"] is None
    assert certificate.content["conformity"] is None


@pytest.mark.django_db
def test_r_crt_4_interval_and_conformity_only_when_the_customer_asked(cal_record, performer, signatory):
    certificate = _issue(cal_record(interval=True, conformity=True), performer, signatory)
    text = _text(certificate)
    assert "建议校准间隔" in text
    assert "".join(certificate.content["conformity"]["decision_rule"].split()) in text


@pytest.mark.django_db
def test_approval_needs_an_authorised_signatory_and_the_password(checked_record, performer, method_lead, signatory):
    draft = services.prepare(actor=performer, record=checked_record)
    with pytest.raises(PermissionDenied):
        services.approve(actor=performer, certificate=draft, password=PASSWORD)
    with pytest.raises(ValidationError):
        services.approve(actor=signatory, certificate=draft, password="wrong")
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.DRAFT and draft.number is None


@pytest.mark.django_db
def test_issue_is_idempotent_and_the_hash_is_the_files(checked_record, performer, signatory):
    certificate = _issue(checked_record, performer, signatory)
    again = services.issue(certificate.pk)
    assert (again.number, again.sha256) == (certificate.number, certificate.sha256)
    certificate.pdf.open("rb")
    assert hashlib.sha256(certificate.pdf.read()).hexdigest() == certificate.sha256
    certificate.pdf.close()
    with pytest.raises(RuntimeError):
        certificate.delete()


@pytest.mark.django_db
def test_only_checked_records_get_one_original_certificate(signed_record, checker, performer, signatory):
    with pytest.raises(ValidationError, match="not checked"):
        services.prepare(actor=performer, record=signed_record)
    record_services.check_record(actor=checker, record=signed_record, password=PASSWORD)
    services.prepare(actor=performer, record=signed_record)
    with pytest.raises(ValidationError, match="already has a certificate"):
        services.prepare(actor=performer, record=signed_record)


@pytest.mark.django_db
def test_r_crt_6_supplement_states_what_it_supplements(checked_record, performer, checker, signatory):
    original = _issue(checked_record, performer, signatory)
    supplement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.SUPPLEMENT, text="补充送检单位地址")
    supplement = services.check_amendment(actor=checker, certificate=supplement, password=PASSWORD)
    supplement = services.approve(actor=signatory, certificate=supplement, password=PASSWORD)
    assert supplement.number != original.number
    text = _text(supplement)
    assert f"对序号为{original.number}的检定证书的补充文件" in text
    original.refresh_from_db()
    assert original.status == CertificateStatus.ISSUED


@pytest.mark.django_db
def test_r_crt_6_replacement_voids_the_original_once(checked_record, performer, checker, signatory):
    original = _issue(checked_record, performer, signatory)
    replacement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.REPLACEMENT, text="型号填写错误")
    with pytest.raises(ValidationError):
        services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.REPLACEMENT, text="再次替代")
    replacement = services.check_amendment(actor=checker, certificate=replacement, password=PASSWORD)
    replacement = services.approve(actor=signatory, certificate=replacement, password=PASSWORD)
    original.refresh_from_db()
    assert original.status == CertificateStatus.VOID and replacement.number in original.void_reason
    text = _text(replacement)
    assert f"本证书替代检定证书{original.number}号，原编号为{original.number}号的证书作废" in text
    with pytest.raises(ValidationError, match="Only an issued, valid certificate"):
        services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.SUPPLEMENT, text="x")


@pytest.mark.django_db
def test_public_verification_needs_number_and_code(checked_record, performer, signatory):
    certificate = _issue(checked_record, performer, signatory)
    assert services.verify(certificate.number, certificate.verification_code) == certificate
    assert services.verify(certificate.number, certificate.verification_code.lower()) == certificate
    assert services.verify(certificate.number, "AAAAAAAA") is None
    assert services.verify("JD2000-000001", certificate.verification_code) is None


@pytest.mark.django_db
def test_batch_approval_issues_each_certificate_and_logs_the_seal(checked_record, performer, signatory, django_capture_on_commit_callbacks):
    seal = Seal.objects.create(kind="verification", name="检定专用章", custodian=signatory)
    draft = services.prepare(actor=performer, record=checked_record)
    with django_capture_on_commit_callbacks(execute=True):
        ids = services.approve_batch(actor=signatory, certificates=[draft], password=PASSWORD)
    assert Certificate.objects.get(pk=ids[0]).approved_by == signatory
    certificate = Certificate.objects.get(pk=ids[0])
    assert certificate.status == CertificateStatus.ISSUED and certificate.number
    assert SealUse.objects.filter(seal=seal, certificate=certificate, used_by=signatory).count() == 1
    assert services.issue_pending() == 0


# --- R-CRT-6: an amendment passes check (a second person) and approval again --------------


@pytest.mark.django_db
def test_r_crt_6_an_amendment_is_not_approved_before_a_second_person_checks_it(checked_record, performer, checker, signatory):
    original = _issue(checked_record, performer, signatory)
    supplement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.SUPPLEMENT, text="补充地址")
    assert supplement.awaits_check
    with pytest.raises(ValidationError, match="not yet checked"):
        services.approve(actor=signatory, certificate=supplement, password=PASSWORD)
    supplement.refresh_from_db()
    assert supplement.status == CertificateStatus.DRAFT and supplement.approved_by is None
    # Whoever prepared it does not check it, even when authorised to check records.
    with pytest.raises(ValidationError, match="second person"):
        services.check_amendment(actor=performer, certificate=supplement, password=PASSWORD)
    with pytest.raises(ValidationError):
        services.check_amendment(actor=checker, certificate=supplement, password="wrong")
    supplement.refresh_from_db()
    assert supplement.checked_by is None
    services.check_amendment(actor=checker, certificate=supplement, password=PASSWORD)
    with pytest.raises(ValidationError, match="already checked"):
        services.check_amendment(actor=checker, certificate=supplement, password=PASSWORD)
    issued = services.approve(actor=signatory, certificate=supplement, password=PASSWORD)
    assert issued.status == CertificateStatus.ISSUED and issued.checked_by == checker
    # Printed in the lab's language: "amendment checked by 核验员乙".
    with translation.override("zh-hans"):
        line = translation.gettext("amendment checked by %(name)s") % {"name": checker.full_name}
    assert "".join(line.split()) in _text(issued) and line != "amendment checked by 核验员乙"


@pytest.mark.django_db
def test_an_original_needs_no_second_check_and_cannot_be_checked_as_an_amendment(checked_record, performer, checker):
    draft = services.prepare(actor=performer, record=checked_record)
    assert not draft.awaits_check
    with pytest.raises(ValidationError, match="not an amendment"):
        services.check_amendment(actor=checker, certificate=draft, password=PASSWORD)


@pytest.mark.django_db
def test_checking_an_amendment_needs_authorisation_to_check_the_category(checked_record, performer, signatory, make_user):
    from labqms.models import Role

    original = _issue(checked_record, performer, signatory)
    supplement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.SUPPLEMENT, text="补充地址")
    clerk = make_user(Role.COUNTER_STAFF, username="clerk_chk")
    with pytest.raises(PermissionDenied):
        services.check_amendment(actor=clerk, certificate=supplement, password=PASSWORD)


# --- Delivery (R-INT-6, R-INT-7): the order is complete when every certificate is issued -----


@pytest.mark.django_db
def test_r_int_6_the_order_completes_when_the_last_certificate_is_issued(checked_record, performer, signatory, clerk):
    from intake.models import CustomerNotice, OrderStatus, SampleStatus
    from intake.services import samples as sample_services

    sample = checked_record.sample
    sample.refresh_from_db()
    assert sample.expects_certificate and sample.status == SampleStatus.TESTED
    sample_services.check_integrity(actor=clerk, sample=sample, intact=True)
    order = sample.order
    order.refresh_from_db()
    # The instrument is ready but its certificate is not: the customer is not told yet.
    assert order.status == OrderStatus.ACCEPTED
    assert not CustomerNotice.objects.filter(order=order, kind="completion").exists()
    certificate = _issue(checked_record, performer, signatory)
    order.refresh_from_db()
    sample.refresh_from_db()
    assert sample.certificate_numbers == [certificate.number]
    assert order.status == OrderStatus.COMPLETED
    assert CustomerNotice.objects.filter(order=order, kind="completion").count() == 1


@pytest.mark.django_db
def test_r_int_6_a_certificate_issued_before_the_integrity_check_completes_the_order_at_the_check(
    checked_record, performer, signatory, clerk
):
    from intake.models import OrderStatus
    from intake.services import samples as sample_services

    _issue(checked_record, performer, signatory)
    order = checked_record.sample.order
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED  # the sample is still "tested"
    sample_services.check_integrity(actor=clerk, sample=checked_record.sample, intact=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.django_db
def test_r_int_7_release_records_the_valid_certificates_handed_over(checked_record, performer, checker, signatory, clerk, head):
    from intake.services import orders as intake_orders
    from intake.services import samples as sample_services

    original = _issue(checked_record, performer, signatory)
    supplement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.SUPPLEMENT, text="补充地址")
    services.check_amendment(actor=checker, certificate=supplement, password=PASSWORD)
    supplement = services.approve(actor=signatory, certificate=supplement, password=PASSWORD)
    replacement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.REPLACEMENT, text="型号错误")
    services.check_amendment(actor=checker, certificate=replacement, password=PASSWORD)
    replacement = services.approve(actor=signatory, certificate=replacement, password=PASSWORD)
    sample = checked_record.sample
    sample.refresh_from_db()
    # The void original drops out; the supplement and the replacement are handed over.
    assert sample.certificate_numbers == [supplement.number, replacement.number]
    sample_services.check_integrity(actor=clerk, sample=sample, intact=True)
    order = sample.order
    order.refresh_from_db()
    if not order.is_settled:
        intake_orders.approve_credit(actor=head, order=order, reason="月结客户")
    release = sample_services.release_samples(
        actor=clerk, order=order, samples=[sample], receiver_name="张三", receiver_id_document="身份证 1234", handed_over="血压计一台及证书"
    )
    assert release.certificate_numbers == [supplement.number, replacement.number]
