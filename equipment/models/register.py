"""The equipment register (R-EQP-1..3), measurement standards (R-EQP-10), attachments
and the status table (R-EQP-4).  "Overdue" is never stored: it is ``calibration_due``
compared with the day asked."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from labqms.models.people import DatedMixin, DatedQuerySet


class EquipmentKind(models.TextChoices):
    STANDARD = "standard", _("Measurement standard")
    TEST = "test", _("Test equipment")
    AUXILIARY = "auxiliary", _("Auxiliary equipment")
    ENVIRONMENT = "environment", _("Environmental monitor")
    SOFTWARE = "software", _("Software")


class EquipmentStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    RESTRICTED = "restricted", _("Restricted use")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")
    OFF_SITE = "off_site", _("Off site")
    UNDER_REPAIR = "under_repair", _("Under repair")
    RETIRED = "retired", _("Retired")


# from -> allowed targets.  Leaving OFF_SITE happens only through the return check;
# reaching IN_SERVICE / RESTRICTED from a stopped state is the technical lead's decision.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    EquipmentStatus.IN_SERVICE: frozenset(
        {EquipmentStatus.RESTRICTED, EquipmentStatus.OUT_OF_SERVICE, EquipmentStatus.OFF_SITE,
         EquipmentStatus.UNDER_REPAIR, EquipmentStatus.RETIRED}
    ),
    EquipmentStatus.RESTRICTED: frozenset(
        {EquipmentStatus.IN_SERVICE, EquipmentStatus.OUT_OF_SERVICE, EquipmentStatus.OFF_SITE,
         EquipmentStatus.UNDER_REPAIR, EquipmentStatus.RETIRED}
    ),
    EquipmentStatus.OUT_OF_SERVICE: frozenset(
        {EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED, EquipmentStatus.OFF_SITE,
         EquipmentStatus.UNDER_REPAIR, EquipmentStatus.RETIRED}
    ),
    EquipmentStatus.OFF_SITE: frozenset(
        {EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED, EquipmentStatus.OUT_OF_SERVICE}
    ),
    EquipmentStatus.UNDER_REPAIR: frozenset(
        {EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED, EquipmentStatus.OUT_OF_SERVICE,
         EquipmentStatus.RETIRED}
    ),
    EquipmentStatus.RETIRED: frozenset(),
}
# Statuses in which the gate lets nobody use the equipment.
UNUSABLE = frozenset(
    {EquipmentStatus.OUT_OF_SERVICE, EquipmentStatus.OFF_SITE, EquipmentStatus.UNDER_REPAIR,
     EquipmentStatus.RETIRED}
)
# Label colours (R-EQP-5): green 合格, yellow 准用, red 停用.
STATUS_COLOURS = {
    EquipmentStatus.IN_SERVICE: "green",
    EquipmentStatus.RESTRICTED: "yellow",
}


class StopReason(models.TextChoices):
    """Why equipment was taken out of service (R-EQP-4)."""

    OVERLOADED = "overloaded", _("Overloaded")
    MISHANDLED = "mishandled", _("Mishandled")
    SUSPECT = "suspect", _("Suspect results")
    DEFECTIVE = "defective", _("Defective")
    OUTSIDE_LIMITS = "outside_limits", _("Outside specified limits")
    OVERDUE = "overdue", _("Calibration overdue")
    OTHER = "other", _("Other")


class Equipment(models.Model):
    lab_id = models.CharField(_("lab ID"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    model = models.CharField(_("model / type"), max_length=200, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=200, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    software_version = models.CharField(_("software / firmware version"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=EquipmentKind.choices)
    location = models.CharField(_("location"), max_length=200, blank=True)
    manual_location = models.CharField(_("where the manual is"), max_length=200, blank=True)
    measuring_range = models.CharField(_("measuring range"), max_length=300, blank=True)
    accuracy = models.CharField(
        _("uncertainty / accuracy class / MPE"), max_length=300, blank=True
    )
    calibrating_body = models.CharField(_("calibrated by (traceability)"), max_length=200, blank=True)
    acceptance_criteria = models.TextField(_("acceptance criteria"), blank=True)
    custodian = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custody_equipment",
        verbose_name=_("custodian"),
    )
    purchased_on = models.DateField(_("purchased on"), null=True, blank=True)
    commissioned_on = models.DateField(_("commissioned on"), null=True, blank=True)
    needs_calibration = models.BooleanField(_("needs calibration"), default=True)
    calibration_interval_months = models.PositiveSmallIntegerField(
        _("calibration interval (months)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    # Kept by the calibration services from the newest calibration record.
    last_calibrated_on = models.DateField(_("last calibrated on"), null=True, blank=True)
    calibration_due = models.DateField(_("calibration due"), null=True, blank=True, db_index=True)
    last_certificate_no = models.CharField(_("last calibration certificate"), max_length=100, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=EquipmentStatus.choices,
        default=EquipmentStatus.IN_SERVICE,
        db_index=True,
    )
    stop_reason = models.CharField(_("reason"), max_length=20, choices=StopReason.choices, blank=True)
    status_note = models.CharField(_("limitation / status note"), max_length=300, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_before_off_site = models.CharField(
        _("status before leaving"), max_length=20, choices=EquipmentStatus.choices, blank=True
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["lab_id"]

    def __str__(self) -> str:
        return f"{self.lab_id} {self.name}"

    def get_permission_scope(self):
        return self

    def is_overdue(self, on: date) -> bool:
        return self.needs_calibration and (self.calibration_due is None or self.calibration_due < on)

    @property
    def label_colour(self) -> str:
        return STATUS_COLOURS.get(self.status, "red")


class MeasurementStandard(DatedMixin):
    """A registered measurement standard (计量标准) and its certificate (R-EQP-10)."""

    name = models.CharField(_("name"), max_length=200)
    certificate_no = models.CharField(_("standard certificate number"), max_length=100)
    measurand = models.CharField(_("measurand and range"), max_length=300, blank=True)
    members = models.ManyToManyField(
        Equipment, related_name="standards", blank=True, verbose_name=_("equipment")
    )

    objects = DatedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("measurement standard")
        verbose_name_plural = _("measurement standards")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.certificate_no})"


ATTACHMENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class Attachment(models.Model):
    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("equipment")
    )
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="equipment/%Y/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.title
