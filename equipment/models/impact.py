"""Usage snapshots, impact analysis (reverse traceability) and the alerts of the daily job."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from equipment.models.register import Equipment, MeasurementStandard


class EquipmentUse(models.Model):
    """The gate's snapshot stored when a record uses equipment: which record, when, and
    the equipment's status/due date/certificate at that moment.  [Records] writes these
    through :func:`equipment.services.gate.record_use`; impact analysis reads them."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="uses", verbose_name=_("equipment")
    )
    used_on = models.DateField(_("used on"), db_index=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("used by")
    )
    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    record_id = models.CharField(max_length=40)
    record = GenericForeignKey("record_type", "record_id")
    record_label = models.CharField(_("record"), max_length=200)
    certificate_label = models.CharField(_("certificate"), max_length=200, blank=True)
    snapshot = models.JSONField(_("equipment at the time"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("equipment use")
        verbose_name_plural = _("equipment uses")
        ordering = ["used_on", "id"]
        indexes = [models.Index(fields=["equipment", "used_on"])]

    def __str__(self) -> str:
        return f"{self.equipment.lab_id} · {self.record_label} · {self.used_on}"


class ImpactTrigger(models.TextChoices):
    FAILED_CALIBRATION = "failed_calibration", _("Failed calibration")
    FAILED_CHECK = "failed_check", _("Failed intermediate check")
    SUSPECT = "suspect", _("Taken out of service for suspect results")


class ImpactStatus(models.TextChoices):
    OPEN = "open", _("Being analysed")
    DECIDED = "decided", _("Decided")


class ImpactAnalysis(models.Model):
    """Which records and certificates used the equipment since its last good
    calibration/check, and what the technical lead decided for each (溯源影响分析)."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, related_name="impact_analyses", verbose_name=_("equipment")
    )
    trigger = models.CharField(_("trigger"), max_length=30, choices=ImpactTrigger.choices)
    trigger_detail = models.CharField(_("what happened"), max_length=300)
    found_on = models.DateField(_("found on"))
    since = models.DateField(_("since the last good calibration or check"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ImpactStatus.choices, default=ImpactStatus.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    # The nonconformity the quality lead receives; [Audits] links its finding to this row.
    nonconformity = models.TextField(_("nonconformity"))
    conclusion = models.TextField(_("conclusion"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("impact analysis")
        verbose_name_plural = _("impact analyses")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.equipment.lab_id} · {self.get_trigger_display()} · {self.found_on}"


class ImpactDecision(models.TextChoices):
    PENDING = "pending", _("To decide")
    NO_EFFECT = "no_effect", _("No effect")
    RETEST = "retest", _("Re-test")
    NOTIFY = "notify", _("Notify the customer")
    RECALL = "recall", _("Recall the certificate")


class ImpactItem(models.Model):
    analysis = models.ForeignKey(
        ImpactAnalysis, on_delete=models.CASCADE, related_name="items", verbose_name=_("impact analysis")
    )
    use = models.ForeignKey(EquipmentUse, on_delete=models.PROTECT, related_name="+", verbose_name=_("use"))
    decision = models.CharField(
        _("impact decision"), max_length=20, choices=ImpactDecision.choices, default=ImpactDecision.PENDING
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("affected item")
        verbose_name_plural = _("affected items")
        ordering = ["use__used_on", "id"]
        constraints = [models.UniqueConstraint(fields=["analysis", "use"], name="equipment_impact_item_once")]

    def __str__(self) -> str:
        return f"{self.analysis_id}: {self.use}"


class AlertState(models.TextChoices):
    DUE_SOON = "due_soon", _("Calibration due soon")
    OVERDUE = "overdue", _("Calibration overdue")
    STANDARD_EXPIRING = "standard_expiring", _("Standard certificate expiring")
    STANDARD_EXPIRED = "standard_expired", _("Standard certificate expired")


class Alert(models.Model):
    """One notification per item per state per due date: the daily job's memory."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts", verbose_name=_("equipment")
    )
    standard = models.ForeignKey(
        MeasurementStandard, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts",
        verbose_name=_("measurement standard"),
    )
    state = models.CharField(_("state"), max_length=30, choices=AlertState.choices)
    due = models.DateField(_("due"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(fields=["equipment", "state", "due"], name="equipment_alert_once"),
            models.UniqueConstraint(fields=["standard", "state", "due"], name="equipment_standard_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.equipment or self.standard} {self.state} {self.due}"
