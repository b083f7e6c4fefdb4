"""Certificates and notices (R-CRT-1..7): one issued document per checked record, or a
supplement / replacement of an issued one.

A certificate is prepared from a checked record (type from the service and the result),
approved by an authorised signatory with the password, and *issued*: the number is
taken (per type and year, gap-free), the PDF rendered once and stored with its SHA-256.
After issue nothing of it changes except becoming void (replaced); on PostgreSQL a
trigger enforces that.  Amendments are new certificates pointing at the one they amend.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certificates.models.records import Record
from labqms.models.append_only import AppendOnly


class CertificateType(models.TextChoices):
    VERIFICATION_CERTIFICATE = "verification_certificate", _("Verification certificate")
    VERIFICATION_NOTICE = "verification_notice", _("Verification result notice")
    CALIBRATION_CERTIFICATE = "calibration_certificate", _("Calibration certificate")
    TEST_REPORT = "test_report", _("Test report")


# numbering key per type (labqms.numbering formats: JD2026-000001 …)
NUMBER_KEYS = {
    CertificateType.VERIFICATION_CERTIFICATE: "cert_verification",
    CertificateType.VERIFICATION_NOTICE: "cert_notice",
    CertificateType.CALIBRATION_CERTIFICATE: "cert_calibration",
    CertificateType.TEST_REPORT: "cert_test",
}


class CertificateStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting approval")
    ISSUING = "issuing", _("Approved, being issued")
    ISSUED = "issued", _("Issued")
    VOID = "void", pgettext_lazy("certificate", "Void")


class AmendmentKind(models.TextChoices):
    SUPPLEMENT = "supplement", _("Supplement")
    REPLACEMENT = "replacement", _("Replacement")


class Certificate(models.Model):
    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("original record"))
    type = models.CharField(_("certificate type"), max_length=30, choices=CertificateType.choices)
    status = models.CharField(
        _("certificate status"), max_length=20, choices=CertificateStatus.choices, default=CertificateStatus.DRAFT, db_index=True
    )
    # Taken at issue, inside the issuing transaction: numbers never skip or repeat.
    number = models.CharField(_("certificate number"), max_length=30, unique=True, null=True, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=12)
    amends = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="amendments", verbose_name=_("amends")
    )
    amendment_kind = models.CharField(_("amendment"), max_length=20, choices=AmendmentKind.choices, blank=True)
    amendment_text = models.TextField(_("what the amendment changes"), blank=True)
    remarks = models.TextField(_("remarks on the certificate"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("prepared by"))
    created_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    # An amendment is checked by a second person before approval (R-CRT-6: "pass check
    # and approval again"); an original was checked with its record.
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("amendment checked by"),
    )
    checked_at = models.DateTimeField(_("amendment checked at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approved by")
    )
    approved_as_deputy_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved as deputy of"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # What was printed, as data, and the PDF with its fingerprint.
    content = models.JSONField(_("content as issued"), default=dict, blank=True)
    pdf = models.FileField(_("issued PDF"), upload_to="certificates/%Y/", blank=True)
    sha256 = models.CharField(_("SHA-256 of the issued PDF"), max_length=64, blank=True)
    void_reason = models.CharField(_("why void"), max_length=300, blank=True)
    voided_at = models.DateTimeField(_("void since"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-created_at", "-id"]
        # The lists' orders (newest prepared / issued first) over millions of rows.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="certificate_prepared_idx"),
            models.Index(fields=["-issued_at", "-id"], name="certificate_issued_idx"),
            # Statistics (R-MGT-4): certificates issued per period and type, from the index alone.
            models.Index(fields=["issued_at"], include=["status", "type", "record"], name="certificate_stats_idx"),
        ]
        constraints = [
            # A certificate is replaced at most once.
            models.UniqueConstraint(fields=["amends"], condition=models.Q(amendment_kind="replacement"), name="certificate_replaced_once"),
            models.CheckConstraint(
                condition=models.Q(amends__isnull=True, amendment_kind="") | models.Q(amends__isnull=False) & ~models.Q(amendment_kind=""),
                name="certificate_amendment_complete",
            ),
        ]

    def __str__(self) -> str:
        if self.number:
            return self.number
        return f"{self.get_type_display()} · {self.record.number} ({self.get_status_display()})"

    def get_permission_scope(self):
        return self.record.sample.item.category

    def delete(self, *args, **kwargs):
        if self.status in (CertificateStatus.ISSUED, CertificateStatus.VOID, CertificateStatus.ISSUING):
            raise RuntimeError("An issued certificate is kept forever (R-CRT-6).")
        return super().delete(*args, **kwargs)

    @property
    def awaits_check(self) -> bool:
        """An amendment not yet checked by a second person (approval waits for it)."""
        return self.status == CertificateStatus.DRAFT and self.amends_id is not None and self.checked_by_id is None

    @property
    def is_issued(self) -> bool:
        return self.status in (CertificateStatus.ISSUED, CertificateStatus.VOID)


class SealKind(models.TextChoices):
    VERIFICATION = "verification", _("Verification seal")
    CALIBRATION = "calibration", _("Calibration seal")
    TESTING = "testing", _("Testing seal")


class Seal(models.Model):
    """A seal of the lab (R-CRT-7): its image is applied only at issue."""

    kind = models.CharField(_("kind of seal"), max_length=20, choices=SealKind.choices)
    name = models.CharField(_("seal name"), max_length=100)
    image = models.FileField(_("seal image (PNG)"), upload_to="seals/", blank=True)
    custodian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("custodian"))
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("seal")
        verbose_name_plural = _("seals")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class SealUse(AppendOnly):
    """The seal usage log: who, which seal, which certificate, when (append-only)."""

    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="uses", verbose_name=_("seal"))
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="seal_uses", verbose_name=_("certificate"))
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("applied by"))
    used_at = models.DateTimeField(_("applied at"), auto_now_add=True)

    class Meta:
        verbose_name = _("seal use")
        verbose_name_plural = _("seal uses")
        ordering = ["-used_at", "-id"]
        indexes = [
            models.Index(fields=["-used_at", "-id"], name="sealuse_used_idx"),
            models.Index(fields=["seal", "-used_at"], name="sealuse_seal_used_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.seal} · {self.certificate}"

