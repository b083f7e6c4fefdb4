"""Certificates from checked records: prepare, approve with the password, issue (number,
PDF once, SHA-256), batch issue in Celery, amendments by supplement or replacement, and
public verification (R-CRT-1..7, the approval stage of R-REC-5).

Issuing is idempotent and all-or-nothing per certificate: :func:`issue` locks the row,
returns at once if it is already issued, and takes the number, stores the PDF, its hash
and the status in one transaction.  A worker killed mid-batch therefore leaves each
certificate issued once or still "being issued" (retried by :func:`issue_pending`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from certificates.evaluation import decimal_text, evaluate
from certificates.models import (
    NUMBER_KEYS,
    AmendmentKind,
    Certificate,
    CertificateStatus,
    CertificateType,
    Conclusion,
    Phase,
    Record,
    RecordStatus,
    Seal,
    SealKind,
    SealUse,
)
from intake.models import Service
from intake.qr import qr_svg
from intake.services import samples as sample_services
from labqms import audit, numbering, permissions
from labqms.pdf import lab_name, render_pdf
from labqms.signing import confirm_password

logger = logging.getLogger(__name__)

# Letters and digits that cannot be mistaken for each other when typed from paper.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TEMPLATE = "pdf/certificates/certificate.html"
SEAL_FOR_TYPE = {
    CertificateType.VERIFICATION_CERTIFICATE: SealKind.VERIFICATION,
    CertificateType.VERIFICATION_NOTICE: SealKind.VERIFICATION,
    CertificateType.CALIBRATION_CERTIFICATE: SealKind.CALIBRATION,
    CertificateType.TEST_REPORT: SealKind.TESTING,
}


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def type_for(record: Record) -> str:
    """R-CRT-1: a passed verification gets a certificate, a failed one a result notice."""
    service = record.task.service
    if service == Service.VERIFICATION:
        conclusion = evaluate(record).conclusion.current
        return CertificateType.VERIFICATION_CERTIFICATE if conclusion == Conclusion.PASS else CertificateType.VERIFICATION_NOTICE
    if service == Service.CALIBRATION:
        return CertificateType.CALIBRATION_CERTIFICATE
    return CertificateType.TEST_REPORT


def _original_of(record: Record) -> Certificate | None:
    return record.certificates.filter(amends__isnull=True).first()


def prepare(*, actor, record: Record, remarks: str = "") -> Certificate:
    """A draft certificate for a checked record (one original per record)."""
    permissions.require(actor, "certificates.prepare", record)
    with transaction.atomic():
        record = Record.objects.select_for_update(of=("self",)).select_related("task").get(pk=record.pk)
        if record.status != RecordStatus.CHECKED:
            raise ValidationError(_("Record %(number)s is not checked; no certificate is made from it yet.") % {"number": record.number})
        if _original_of(record) is not None:
            raise ValidationError(_("Record %(number)s already has a certificate.") % {"number": record.number})
        certificate = Certificate.objects.create(
            record=record, type=type_for(record), verification_code=new_verification_code(), remarks=remarks.strip(), created_by=actor
        )
        audit.record(actor=actor, action="certificate.prepared", target=certificate, changes={"type": [None, certificate.type]})
    return certificate


def prepare_amendment(*, actor, original: Certificate, kind: str, text: str) -> Certificate:
    """R-CRT-6: a supplement carries a change; a replacement re-issues with a new number
    and voids the original at its issue.  Both are approved again like any certificate."""
    permissions.require(actor, "certificates.prepare", original)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Say what the amendment changes and why.")})
    with transaction.atomic():
        original = Certificate.objects.select_for_update(of=("self",)).select_related("record__task").get(pk=original.pk)
        if original.status != CertificateStatus.ISSUED:
            raise ValidationError(
                _("Only an issued, valid certificate is amended; %(number)s is “%(status)s”.")
                % {"number": original.number or "—", "status": original.get_status_display()}
            )
        if kind == AmendmentKind.REPLACEMENT and original.amendments.filter(amendment_kind=AmendmentKind.REPLACEMENT).exists():
            raise ValidationError(_("%(number)s is already being replaced.") % {"number": original.number})
        if original.amendments.filter(status__in=[CertificateStatus.DRAFT, CertificateStatus.ISSUING]).exists():
            raise ValidationError(_("An amendment of %(number)s is already waiting for approval.") % {"number": original.number})
        record = original.record
        if kind == AmendmentKind.REPLACEMENT and record.status != RecordStatus.CHECKED:
            raise ValidationError(_("Record %(number)s is not checked; check the corrected record first.") % {"number": record.number})
        certificate = Certificate.objects.create(
            record=record,
            type=type_for(record) if kind == AmendmentKind.REPLACEMENT else original.type,
            verification_code=new_verification_code(),
            amends=original,
            amendment_kind=kind,
            amendment_text=text,
            created_by=actor,
        )
        audit.record(
            actor=actor, action=f"certificate.{kind}_prepared", target=certificate,
            changes={"amends": [None, original.number]}, reason=text,
        )
    return certificate


def check_amendment(*, actor, certificate: Certificate, password: str) -> Certificate:
    """R-CRT-6: an amendment passes check again before approval.  The checker is a second
    person (not who prepared it) authorised to check records of the category, and
    confirms with the password; the meaning of this signature is "checked" (核验)."""
    decision = permissions.require(actor, "records.check", certificate)
    confirm_password(actor, password)
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update(of=("self",)).get(pk=certificate.pk)
        if certificate.amends_id is None:
            raise ValidationError(_("%(c)s is not an amendment; its record was checked already.") % {"c": certificate})
        if certificate.status != CertificateStatus.DRAFT:
            raise ValidationError(_("%(c)s is not waiting for a check.") % {"c": certificate})
        if certificate.checked_by_id is not None:
            raise ValidationError(
                _("%(c)s was already checked by %(name)s.") % {"c": certificate, "name": _person(certificate.checked_by)}
            )
        if certificate.created_by_id == actor.pk:
            raise ValidationError(_("You prepared this amendment; a second person checks it."))
        certificate.checked_by = actor
        certificate.checked_at = timezone.now()
        certificate.save(update_fields=["checked_by", "checked_at"])
        audit.record(
            actor=actor, action="certificate.amendment_checked", target=certificate, as_deputy_of=decision.as_deputy_of,
            changes={"checked_by": [None, _person(actor)]},
        )
    return certificate


def _approve_one(actor, certificate: Certificate, decision) -> Certificate:
    certificate = Certificate.objects.select_for_update(of=("self",)).select_related("record", "amends").get(pk=certificate.pk)
    if certificate.status != CertificateStatus.DRAFT:
        raise ValidationError(_("%(c)s is not waiting for approval.") % {"c": certificate})
    if certificate.record.status != RecordStatus.CHECKED:
        raise ValidationError(
            _("Record %(number)s is not checked (it was corrected since); it must be checked again first.")
            % {"number": certificate.record.number}
        )
    if certificate.amends is not None and certificate.amends.status != CertificateStatus.ISSUED:
        raise ValidationError(_("%(number)s is no longer valid and cannot be amended.") % {"number": certificate.amends.number})
    if certificate.awaits_check:
        raise ValidationError(
            _("%(c)s is an amendment not yet checked; a second person checks it before approval (R-CRT-6).") % {"c": certificate}
        )
    certificate.status = CertificateStatus.ISSUING
    certificate.approved_by = actor
    certificate.approved_as_deputy_of = decision.as_deputy_of
    certificate.approved_at = timezone.now()
    certificate.save(update_fields=["status", "approved_by", "approved_as_deputy_of", "approved_at"])
    audit.record(
        actor=actor, action="certificate.approved", target=certificate, as_deputy_of=decision.as_deputy_of,
        changes={"status": [CertificateStatus.DRAFT, CertificateStatus.ISSUING]},
    )
    return certificate


def approve(*, actor, certificate: Certificate, password: str) -> Certificate:
    """The signatory approves (批准) with the password; the certificate is issued at once."""
    decision = permissions.require(actor, "certificates.sign", certificate)
    confirm_password(actor, password)
    with transaction.atomic():
        certificate = _approve_one(actor, certificate, decision)
    try:
        return issue(certificate.pk)
    except Exception:
        # The approval stands (committed above); rendering failed.  The certificate stays
        # "being issued" and issue_pending (beat, every 10 minutes) retries it — the page
        # says so.  Nothing half-issued exists: issue() is one transaction.
        logger.exception("Issuing certificate %s failed; left for issue_pending", certificate.pk)
        certificate.refresh_from_db()
        return certificate


def approve_batch(*, actor, certificates, password: str) -> list[int]:
    """One password for a selected set; each certificate is still approved and logged on
    its own, and issued by the Celery worker after commit (see :func:`issue`)."""
    confirm_password(actor, password)
    ids = []
    with transaction.atomic():
        for certificate in certificates:
            decision = permissions.require(actor, "certificates.sign", certificate)
            ids.append(_approve_one(actor, certificate, decision).pk)
        from certificates.tasks import issue_certificates

        transaction.on_commit(lambda: issue_certificates.delay(ids))
    return ids


def valid_until_for(record: Record, issued_on: date) -> date | None:
    """Verification certificates only: date of verification + the verification period."""
    months = record.sample.item.category.verification_period_months
    if not months:
        return None
    return record.measured_on + relativedelta(months=months)


def issue(certificate_id: int) -> Certificate:
    """Number, content, PDF and hash in one transaction; a second call changes nothing."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.status in (CertificateStatus.ISSUED, CertificateStatus.VOID):
            return certificate
        if certificate.status != CertificateStatus.ISSUING:
            raise ValidationError(_("%(c)s has not been approved.") % {"c": certificate})
        now = timezone.now()
        certificate.number = numbering.next_number(NUMBER_KEYS[CertificateType(certificate.type)], year=timezone.localdate(now).year)
        certificate.issued_at = now
        if certificate.type == CertificateType.VERIFICATION_CERTIFICATE:
            certificate.valid_until = valid_until_for(certificate.record, timezone.localdate(now))
        seal = Seal.objects.filter(kind=SEAL_FOR_TYPE[CertificateType(certificate.type)], is_active=True).first()
        # A certificate is written in the lab's language, whoever's browser approved it.
        with translation.override(settings.LANGUAGE_CODE):
            certificate.content = build_content(certificate, seal=seal)
            verify_url = settings.LABQMS_PUBLIC_URL + certificate.content["verify_path"]
            pdf = render_pdf(
                TEMPLATE,
                {"c": certificate.content, "seal_image": _seal_image(seal), "verify_url": verify_url, "qr": mark_safe(qr_svg(verify_url))},  # segno output: markup we generated
            )
        certificate.sha256 = hashlib.sha256(pdf).hexdigest()
        certificate.pdf.save(f"{certificate.number}.pdf", ContentFile(pdf), save=False)
        certificate.status = CertificateStatus.ISSUED
        certificate.save()
        if seal is not None:
            SealUse.objects.create(seal=seal, certificate=certificate, used_by=certificate.approved_by)
        audit.record(
            actor=certificate.approved_by, action="certificate.issued", target=certificate,
            as_deputy_of=certificate.approved_as_deputy_of,
            changes={"number": [None, certificate.number], "sha256": [None, certificate.sha256]},
        )
        if certificate.amendment_kind == AmendmentKind.REPLACEMENT:
            original = Certificate.objects.select_for_update().get(pk=certificate.amends_id)
            original.status = CertificateStatus.VOID
            original.voided_at = now
            original.void_reason = _("Replaced by %(number)s: %(why)s") % {"number": certificate.number, "why": certificate.amendment_text}
            original.save(update_fields=["status", "voided_at", "void_reason"])
            audit.record(
                actor=certificate.approved_by, action="certificate.voided", target=original,
                changes={"status": [CertificateStatus.ISSUED, CertificateStatus.VOID]}, reason=original.void_reason,
            )
        # Intake learns the sample's certificate (the order completes when all are in).
        sample_services.record_certificate_issued(
            actor=certificate.approved_by,
            sample=certificate.record.sample,
            number=certificate.number,
            replaces=certificate.amends.number if certificate.amendment_kind == AmendmentKind.REPLACEMENT else "",
        )
    return certificate


def _seal_image(seal) -> str:
    """The seal as a data: URL (the PDF renderer reads no media files), applied only here."""
    if seal is None or not seal.image:
        return ""
    with seal.image.open("rb") as file:
        return "data:image/png;base64," + base64.b64encode(file.read()).decode("ascii")


def issue_pending() -> int:
    """Issue every approved certificate a stopped worker left behind; returns how many."""
    done = 0
    for pk in Certificate.objects.filter(status=CertificateStatus.ISSUING).values_list("pk", flat=True):
        issue(pk)
        done += 1
    return done


# --- content (R-CRT-2..5) -------------------------------------------------------------


def _person(user) -> str:
    return user.get_full_name() if user else ""


def build_content(certificate: Certificate, *, seal=None) -> dict:
    """Everything the certificate prints, as plain data (stored with the issue)."""
    record = certificate.record
    evaluation = evaluate(record)
    order = record.sample.order
    review = order.current_review()
    service = record.task.service
    is_calibration = certificate.type == CertificateType.CALIBRATION_CERTIFICATE
    phases = []
    for phase, rows in evaluation.rows.items():
        phases.append({
            "phase": phase,
            "label": str(Phase(phase).label) if record.adjusted else "",
            "rows": [
                {
                    "point": str(row.point),
                    "nominal": decimal_text(row.point.nominal),
                    "mean": decimal_text(row.result.mean),
                    "error": decimal_text(row.result.error),
                    "mpe": decimal_text(row.result.mpe),
                    "conforms": row.result.conforms,
                    "U": row.U.current if row.U else "",
                    "k": row.k.current if row.k else "",
                }
                for row in rows
            ],
        })
    failed = [
        f"{row['point']}" for phase in phases for row in phase["rows"]
        if phase["phase"] == evaluation.judged_phase and row["conforms"] is False
    ] + [inspection.item for inspection, ok, _note in evaluation.inspections if ok.current == "no"]
    conformity = None
    if is_calibration and review is not None and review.conformity_statement_requested:
        conformity = {"decision_rule": review.decision_rule, "conforms": evaluation.conforms}
    interval = None
    if is_calibration and review is not None and review.interval_requested:
        interval = record.sample.item.category.verification_period_months or settings.RECORDS_DEFAULT_INTERVAL_MONTHS
    amends = certificate.amends
    return {
        "type": certificate.type,
        "number": certificate.number,
        "verification_code": certificate.verification_code,
        "verify_path": reverse("certificates:verify") + f"?number={certificate.number}&code={certificate.verification_code}",
        "lab": {
            "name": lab_name(),
            "address": settings.LABQMS_LAB_ADDRESS,
            "phone": getattr(settings, "LABQMS_LAB_PHONE", ""),
            "authorisation": getattr(settings, "LABQMS_LAB_AUTHORISATION", ""),
        },
        "customer": order.customer.name,
        "customer_address": order.customer.address,
        "instrument": record.instrument,
        "method": {"code": record.method.full_code, "title": record.method.title, "edition": record.method.edition},
        "standards": [
            {
                "lab_id": e.snapshot.get("lab_id", ""),
                "name": e.snapshot.get("name", ""),
                "certificate_no": e.snapshot.get("certificate_no", ""),
                "valid_until": e.snapshot.get("calibration_due", ""),
                "standards": e.snapshot.get("standards", []),
            }
            for e in record.equipment_used.all()
        ],
        "environment": {key: value.current for key, value in evaluation.environment.items()},
        "place": record.place,
        "measured_on": record.measured_on.isoformat(),
        "unit": record.template.unit,
        "quantity": record.template.quantity,
        "phases": phases,
        "adjusted": record.adjusted,
        "adjustment_notes": record.adjustment_notes,
        "inspections": [{"item": i.item, "ok": ok.current, "note": note.current} for i, ok, note in evaluation.inspections],
        "conclusion": evaluation.conclusion.current,
        "failed_items": failed if certificate.type == CertificateType.VERIFICATION_NOTICE else [],
        "valid_until": certificate.valid_until.isoformat() if certificate.valid_until else "",
        "conformity": conformity,
        "interval_months": interval,
        "service": service,
        "record_number": record.number,
        "performer": _person(record.performer),
        "checker": _person(record.checker),
        "amendment_checker": _person(certificate.checked_by),
        "approver": _person(certificate.approved_by),
        "approver_deputy_of": _person(certificate.approved_as_deputy_of),
        "approved_at": timezone.localtime(certificate.approved_at).strftime("%Y-%m-%d %H:%M") if certificate.approved_at else "",
        "issued_on": timezone.localdate(certificate.issued_at).isoformat() if certificate.issued_at else "",
        "amendment": {
            "kind": certificate.amendment_kind,
            "text": certificate.amendment_text,
            "original_number": amends.number if amends else "",
            "original_type": amends.type if amends else "",
            "original_type_label": str(CertificateType(amends.type).label) if amends else "",
        } if amends else None,
        "remarks": certificate.remarks,
        "seal": seal.name if seal else "",
    }


# --- public verification (R-CRT-6 chain) -------------------------------------------------


def verify(number: str, code: str) -> Certificate | None:
    """The certificate whose number AND code match, issued or void; else None (a wrong
    code answers exactly like a wrong number)."""
    number, code = (number or "").strip().upper(), (code or "").strip().upper()
    if not number or not code:
        return None
    certificate = (
        Certificate.objects.filter(number=number, status__in=[CertificateStatus.ISSUED, CertificateStatus.VOID])
        .select_related("record__sample__order__customer")
        .first()
    )
    if certificate is None or not secrets.compare_digest(certificate.verification_code, code):
        return None
    return certificate
