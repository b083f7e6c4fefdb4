"""What happens to equipment over time: external calibrations with metrological
confirmation and correction factors (R-EQP-2, R-EQP-8), intermediate checks (R-EQP-7),
maintenance and incidents, check-out and return (R-EQP-6, R-ONS-2, R-ONS-5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from equipment.models.register import Equipment


class CalibrationResult(models.TextChoices):
    PASS = "pass", _("Pass")
    LIMITED = "limited", _("Pass with limitation")
    FAIL = "fail", _("Fail")


class ConfirmationConclusion(models.TextChoices):
    FIT = "fit", _("Fit for use")
    RESTRICTED = "restricted", _("Fit for restricted use")
    UNFIT = "unfit", _("Not fit for use")


class Calibration(models.Model):
    """One external verification or calibration, and its metrological confirmation."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="calibrations", verbose_name=_("equipment")
    )
    provider = models.CharField(_("calibration provider"), max_length=200)
    certificate_no = models.CharField(_("certificate number"), max_length=100)
    calibrated_on = models.DateField(_("calibration date"))
    result = models.CharField(_("result"), max_length=20, choices=CalibrationResult.choices)
    next_due = models.DateField(_("next due"))
    due_stated_by_provider = models.BooleanField(_("due date stated by the provider"), default=False)
    certificate_file = models.FileField(_("certificate (PDF or image)"), upload_to="calibrations/%Y/", blank=True)
    adjusted = models.BooleanField(_("adjusted"), default=False)
    adjustment_notes = models.TextField(_("adjustments"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # Metrological confirmation (计量确认): a technician reviews, the technical lead approves.
    confirmation = models.CharField(
        _("confirmation"), max_length=20, choices=ConfirmationConclusion.choices, blank=True
    )
    confirmation_notes = models.TextField(_("confirmation notes"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calibration")
        verbose_name_plural = _("calibrations")
        ordering = ["-calibrated_on", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment.lab_id} {self.calibrated_on} {self.certificate_no}"


class CorrectionTable(models.Model):
    """Correction factors from a calibration, versioned: only the newest is in force (R-EQP-8)."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("equipment")
    )
    calibration = models.ForeignKey(
        Calibration, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("calibration")
    )
    version = models.PositiveSmallIntegerField(_("version"))
    in_force = models.BooleanField(_("in force"), default=True)
    unit = models.CharField(_("unit of measurement"), max_length=30)
    points = models.JSONField(_("points"), help_text=_("[{nominal, correction}]"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("correction table")
        verbose_name_plural = _("correction tables")
        ordering = ["equipment", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["equipment", "version"], name="equipment_correction_version"),
            models.UniqueConstraint(
                fields=["equipment"], condition=models.Q(in_force=True), name="equipment_one_correction_in_force"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.equipment.lab_id} v{self.version}"


class CriterionKind(models.TextChoices):
    EN = "en", _("|En| ≤ 1")
    TOLERANCE = "tolerance", _("|measured − reference| ≤ tolerance")


class CheckPlan(models.Model):
    """Intermediate check plan (期间核查计划, R-EQP-7)."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="check_plans", verbose_name=_("equipment")
    )
    interval_months = models.PositiveSmallIntegerField(_("every (months)"))
    method = models.TextField(_("check method"))
    criterion = models.CharField(_("acceptance criterion"), max_length=20, choices=CriterionKind.choices)
    tolerance = models.DecimalField(_("tolerance"), max_digits=14, decimal_places=6, null=True, blank=True)
    unit = models.CharField(_("unit of measurement"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    next_due = models.DateField(_("next check due"), null=True, blank=True)

    class Meta:
        verbose_name = _("intermediate check plan")
        verbose_name_plural = _("intermediate check plans")

    def __str__(self) -> str:
        return f"{self.equipment.lab_id}: {self.get_criterion_display()}"


class IntermediateCheck(models.Model):
    plan = models.ForeignKey(
        CheckPlan, on_delete=models.PROTECT, related_name="checks", verbose_name=_("plan")
    )
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="intermediate_checks", verbose_name=_("equipment")
    )
    checked_on = models.DateField(_("checked on"))
    measured = models.DecimalField(_("measured value"), max_digits=18, decimal_places=8)
    reference = models.DecimalField(_("reference value"), max_digits=18, decimal_places=8)
    u_measured = models.DecimalField(
        _("expanded uncertainty of the lab (U)"), max_digits=18, decimal_places=8, null=True, blank=True
    )
    u_reference = models.DecimalField(
        _("expanded uncertainty of the reference (U)"), max_digits=18, decimal_places=8, null=True, blank=True
    )
    score = models.DecimalField(_("En / deviation"), max_digits=18, decimal_places=8)
    passed = models.BooleanField(_("passed"))
    notes = models.TextField(_("notes"), blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("performed by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("intermediate check")
        verbose_name_plural = _("intermediate checks")
        ordering = ["-checked_on", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment.lab_id} {self.checked_on} {'OK' if self.passed else 'FAIL'}"


class MaintenancePlan(models.Model):
    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="maintenance_plans", verbose_name=_("equipment")
    )
    task = models.CharField(_("task"), max_length=300)
    interval_months = models.PositiveSmallIntegerField(_("every (months)"))

    class Meta:
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")

    def __str__(self) -> str:
        return self.task


class LogKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    DAMAGE = "damage", _("Damage")
    MALFUNCTION = "malfunction", _("Malfunction")
    MODIFICATION = "modification", _("Modification")
    REPAIR = "repair", _("Repair")


class LogEntry(models.Model):
    """Maintenance done, and damage, malfunction, modification, repair (R-EQP-2)."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="log", verbose_name=_("equipment")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=LogKind.choices)
    plan = models.ForeignKey(
        MaintenancePlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries",
        verbose_name=_("maintenance plan"),
    )
    occurred_on = models.DateField(_("date"))
    description = models.TextField(_("description"))
    action_taken = models.TextField(_("action taken"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment.lab_id} {self.get_kind_display()} {self.occurred_on}"


class CheckOutPurpose(models.TextChoices):
    ON_SITE = "on_site", _("On-site work")
    CALIBRATION = "calibration", _("External calibration")
    REPAIR = "repair", _("External repair")
    OTHER = "other", _("Other")


class CheckOut(models.Model):
    """Equipment leaving the lab's control and coming back (R-ONS-2, R-ONS-5, R-EQP-6)."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="checkouts", verbose_name=_("equipment")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=CheckOutPurpose.choices)
    destination = models.CharField(_("destination"), max_length=300)
    visit = models.ForeignKey(
        "intake.OnSiteVisit", on_delete=models.PROTECT, null=True, blank=True, related_name="equipment_checkouts",
        verbose_name=_("on-site visit"),
    )
    condition_ok = models.BooleanField(_("checked and in good condition before leaving"))
    packed_ok = models.BooleanField(_("packed against shock, heat and humidity"))
    out_notes = models.TextField(_("notes on leaving"), blank=True)
    out_at = models.DateTimeField(_("left at"), auto_now_add=True)
    out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checked out by")
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("return checked by"),
    )
    count_ok = models.BooleanField(_("complete (counted)"), null=True)
    function_ok = models.BooleanField(_("function check passed"), null=True)
    calibration_ok = models.BooleanField(_("calibration status checked and valid"), null=True)
    return_notes = models.TextField(_("return check notes"), blank=True)

    class Meta:
        verbose_name = _("check-out")
        verbose_name_plural = _("check-outs")
        ordering = ["-out_at"]

    def __str__(self) -> str:
        return f"{self.equipment.lab_id} → {self.destination}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None
