"""Tasks and original records (R-TST-1/2/4, R-REC-1..5, R-ONS-3).

A *task* is one sample × one service, assigned to a performer and a checker.  Starting
it opens the *record*: instrument identification, method edition and template version,
equipment used (each through the equipment gate), environment, readings, uncertainty,
inspection items and the conclusion.  The performer signs → the data locks; from then on
a value changes only by a :class:`Correction` (old value, new value, reason, who, when),
which is append-only here and, on PostgreSQL, by trigger.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certificates.models.methods import Method, RecordTemplate, TemplatePoint
from intake.models import OnSiteVisit, Sample, Service
from labqms.models.append_only import AppendOnly


class TaskStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_CHECK = "awaiting_check", _("Awaiting check")
    RETURNED = "returned", _("Returned for correction")
    CHECKED = "checked", _("Checked")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TASK_STATUSES = frozenset(
    {TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.AWAITING_CHECK, TaskStatus.RETURNED}
)


class Task(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("sample"))
    service = models.CharField(_("service"), max_length=20, choices=Service.choices)
    method = models.ForeignKey(Method, on_delete=models.PROTECT, related_name="tasks", verbose_name=pgettext_lazy("measurement method", "method"))
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="performed_tasks", verbose_name=_("performer")
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checked_tasks", verbose_name=_("checker")
    )
    visit = models.ForeignKey(
        OnSiteVisit, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks", verbose_name=_("on-site visit")
    )
    status = models.CharField(
        _("task status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.ASSIGNED, db_index=True
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned by")
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    note = models.CharField(_("note for the performer"), max_length=300, blank=True)
    cancelled_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("testing task", "task")
        verbose_name_plural = _("tasks")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            # One open task per sample; a cancelled task keeps its row.
            models.UniqueConstraint(
                fields=["sample"],
                condition=~models.Q(status="cancelled"),
                name="task_one_open_per_sample",
            ),
            models.CheckConstraint(condition=~models.Q(performer=models.F("checker")), name="task_checker_not_performer"),
        ]
        indexes = [
            models.Index(fields=["performer", "status"]),
            models.Index(fields=["checker", "status"]),
            # The task list's default order (latest assigned first) over millions of rows.
            models.Index(fields=["-assigned_at", "-id"], name="task_assigned_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sample.sample_id} · {self.get_service_display()}"

    def get_permission_scope(self):
        return self.sample.item.category

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TASK_STATUSES


class RecordStatus(models.TextChoices):
    DRAFT = "draft", _("Being recorded")
    SIGNED = "signed", _("Signed, awaiting check")
    RETURNED = "returned", _("Returned for correction")
    CHECKED = "checked", _("Checked")


class Conclusion(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    CALIBRATED = "calibrated", _("Calibrated (values reported)")
    TESTED = "tested", _("Tested (results reported)")


class Phase(models.TextChoices):
    """Readings before and after adjustment or repair (R-CRT-2)."""

    AS_FOUND = "as_found", _("Before adjustment")
    AS_LEFT = "as_left", _("After adjustment")


class Record(models.Model):
    number = models.CharField(_("record number"), max_length=30, unique=True)
    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="record", verbose_name=pgettext_lazy("testing task", "task"))
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="records", verbose_name=_("sample"))
    method = models.ForeignKey(Method, on_delete=models.PROTECT, related_name="records", verbose_name=pgettext_lazy("measurement method", "method"))
    template = models.ForeignKey(
        RecordTemplate, on_delete=models.PROTECT, related_name="records", verbose_name=_("record template")
    )
    # Instrument identification as it stood when work started (R-REC-1).
    instrument = models.JSONField(_("instrument"), default=dict)
    measured_on = models.DateField(_("measurement date"))
    place = models.CharField(_("place of measurement"), max_length=300)
    on_site = models.BooleanField(_("on site"), default=False)
    temperature = models.DecimalField(_("temperature (℃)"), max_digits=5, decimal_places=1, null=True, blank=True)
    humidity = models.DecimalField(_("relative humidity (%)"), max_digits=5, decimal_places=1, null=True, blank=True)
    other_conditions = models.JSONField(_("other conditions"), default=dict, blank=True)
    environment_ok = models.BooleanField(_("environment within limits"), default=False)
    environment_at = models.DateTimeField(_("environment recorded at"), null=True, blank=True)
    adjusted = models.BooleanField(_("adjusted or repaired"), default=False)
    adjustment_notes = models.TextField(_("adjustment or repair"), blank=True)
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=Conclusion.choices, blank=True)
    conclusion_note = models.TextField(_("conclusion remarks"), blank=True)
    status = models.CharField(
        _("record status"), max_length=20, choices=RecordStatus.choices, default=RecordStatus.DRAFT, db_index=True
    )
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("performer")
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    first_signed_at = models.DateTimeField(_("first signed by the performer at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed by the performer at"), null=True, blank=True)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=pgettext_lazy("record check", "checked by"),
    )
    checked_at = models.DateTimeField(pgettext_lazy("record check", "checked at"), null=True, blank=True)
    keep_until = models.DateField(_("keep until"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("original record")
        verbose_name_plural = _("original records")
        ordering = ["-created_at", "-id"]
        # The record list's default order (latest measurement first) over millions of rows.
        indexes = [
            models.Index(fields=["-measured_on", "-number"], name="record_measured_idx"),
            # Statistics (R-MGT-4): pass rate by the date the record was checked.
            models.Index(
                fields=["checked_at"], include=["status", "conclusion", "sample", "performer"], name="record_checked_stats_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(checker__isnull=True) | ~models.Q(checker=models.F("performer")),
                name="record_checker_not_performer",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def get_permission_scope(self):
        return self.sample.item.category

    @property
    def is_locked(self) -> bool:
        """After the performer's first signature values change only by correction."""
        return self.first_signed_at is not None

    def delete(self, *args, **kwargs):
        """Records are kept until ``keep_until`` (R-REC-4); disposal goes through
        ``certificates.services.records.dispose_record``."""
        from django.utils import timezone

        if self.keep_until is None or self.keep_until >= timezone.localdate():
            raise RuntimeError(f"Record {self.number} must be kept until {self.keep_until or 'two periods after signing'}.")
        return super().delete(*args, **kwargs)

    @property
    def phases(self) -> list[str]:
        return [Phase.AS_FOUND, Phase.AS_LEFT] if self.adjusted else [Phase.AS_FOUND]


class LockedWithRecord(models.Model):
    """Rows of a record: they change only while the record is a draft (R-REC-3); after
    the performer's first signature a correction entry takes the new value.  On
    PostgreSQL a trigger enforces the same (migration 0002)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._record_locked():
            raise RuntimeError("The record is signed: rows are neither added nor changed, only corrected.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._record_locked():
            raise RuntimeError("The record is signed: this row is never deleted.")
        return super().delete(*args, **kwargs)

    def _record_locked(self) -> bool:
        return Record.objects.filter(pk=self.record_id, first_signed_at__isnull=False).exists()


class RecordEquipment(LockedWithRecord):
    """Equipment used, with the gate's snapshot (R-EQP-10) for the measurement date."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="equipment_used", verbose_name=_("record"))
    equipment = models.ForeignKey(
        "equipment.Equipment", on_delete=models.PROTECT, related_name="record_uses", verbose_name=_("equipment")
    )
    use = models.OneToOneField(
        "equipment.EquipmentUse", on_delete=models.PROTECT, related_name="record_entry", verbose_name=_("usage snapshot")
    )
    snapshot = models.JSONField(_("equipment at the time"), default=dict)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by"))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("equipment used")
        verbose_name_plural = _("equipment used")
        ordering = ["record", "id"]
        constraints = [models.UniqueConstraint(fields=["record", "equipment"], name="record_equipment_once")]

    def __str__(self) -> str:
        return f"{self.record} · {self.snapshot.get('lab_id', '')}"


class Reading(LockedWithRecord):
    """One observation, time-stamped by the server when entered (R-REC-2)."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="readings", verbose_name=_("record"))
    point = models.ForeignKey(TemplatePoint, on_delete=models.PROTECT, related_name="+", verbose_name=_("measurement point"))
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default=Phase.AS_FOUND)
    repeat = models.PositiveSmallIntegerField(_("reading no."))
    value = models.DecimalField(_("reading"), max_digits=14, decimal_places=6)
    entered_text = models.CharField(_("as typed"), max_length=30)
    entered_at = models.DateTimeField(_("entered at"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by"))

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["record", "phase", "point__position", "repeat"]
        constraints = [
            models.UniqueConstraint(fields=["record", "point", "phase", "repeat"], name="reading_unique_slot")
        ]

    def __str__(self) -> str:
        return f"{self.record} · {self.point} #{self.repeat}: {self.entered_text}"


class PointUncertainty(LockedWithRecord):
    """Expanded uncertainty U and coverage factor k of one point (calibration, R-CRT-3)."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="uncertainties", verbose_name=_("record"))
    point = models.ForeignKey(TemplatePoint, on_delete=models.PROTECT, related_name="+", verbose_name=_("measurement point"))
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default=Phase.AS_FOUND)
    expanded_uncertainty = models.DecimalField(_("expanded uncertainty U"), max_digits=14, decimal_places=6)
    coverage_factor = models.DecimalField(_("coverage factor k"), max_digits=4, decimal_places=2)
    from_template = models.BooleanField(_("from the template's budget"), default=False)

    class Meta:
        verbose_name = _("uncertainty of a point")
        verbose_name_plural = _("uncertainties")
        constraints = [models.UniqueConstraint(fields=["record", "point", "phase"], name="uncertainty_unique_slot")]

    def __str__(self) -> str:
        return f"{self.record} · {self.point}: U={self.expanded_uncertainty} (k={self.coverage_factor})"


class InspectionResult(LockedWithRecord):
    """A visual or functional inspection item and what was found."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("record"))
    position = models.PositiveSmallIntegerField(_("position"))
    item = models.CharField(_("inspection item"), max_length=200)
    ok = models.BooleanField(_("meets requirements"), null=True)
    note = models.CharField(_("finding"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        ordering = ["record", "position"]
        constraints = [models.UniqueConstraint(fields=["record", "position"], name="inspection_unique_position")]

    def __str__(self) -> str:
        return f"{self.record} · {self.item}"


class Correction(AppendOnly):
    """Append-only (R-REC-3): the value ``field`` had, the value it has now, why, who, when.
    ``field`` names what was corrected: ``reading:<id>``, ``uncertainty:<id>:U`` …"""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("record"))
    field = models.CharField(_("corrected value"), max_length=60)
    label = models.CharField(_("what"), max_length=200)
    old_value = models.CharField(_("old value"), max_length=300)
    new_value = models.CharField(_("new value"), max_length=300)
    reason = models.CharField(_("reason for the correction"), max_length=300)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("corrected by")
    )
    corrected_at = models.DateTimeField(_("corrected at"), auto_now_add=True)

    class Meta:
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        ordering = ["record", "corrected_at", "id"]
        indexes = [models.Index(fields=["record", "field"])]

    def __str__(self) -> str:
        return f"{self.record} · {self.label}: {self.old_value} → {self.new_value}"


class CheckOutcome(models.TextChoices):
    CHECKED = "checked", _("Checked and signed")
    RETURNED = "returned", _("Returned with comments")


class RecordCheck(AppendOnly):
    """Each round of the second person's check (R-TST-1): signed or returned."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="checks", verbose_name=_("record"))
    checker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checker"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=CheckOutcome.choices)
    comments = models.TextField(_("check comments"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("record check")
        verbose_name_plural = _("record checks")
        ordering = ["record", "at", "id"]

    def __str__(self) -> str:
        return f"{self.record} · {self.get_outcome_display()}"

