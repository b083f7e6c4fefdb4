"""Methods with editions (R-TST-3) and the record templates made from them.

A *method* is one edition of a verification regulation (JJG), calibration specification
(JJF) or test method: ``JJG 692-2010``.  A new edition is a new row; approving it makes
the previous current edition of the same code *superseded* (pointing at its successor).
Only approved, current editions can be chosen for new work; records keep the edition and
the template version they were made with.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from intake.models import InstrumentCategory, Service


class MethodKind(models.TextChoices):
    VERIFICATION_REGULATION = "verification", _("Verification regulation (JJG)")
    CALIBRATION_SPECIFICATION = "calibration", _("Calibration specification (JJF)")
    TEST_METHOD = "testing", _("Test method")


# The service a method kind serves (the values are the same on purpose).
KIND_SERVICE = {
    MethodKind.VERIFICATION_REGULATION: Service.VERIFICATION,
    MethodKind.CALIBRATION_SPECIFICATION: Service.CALIBRATION,
    MethodKind.TEST_METHOD: Service.TESTING,
}


class MethodStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting approval")
    CURRENT = "current", _("Current")
    SUPERSEDED = "superseded", _("Superseded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Method(models.Model):
    code = models.CharField(_("method code"), max_length=40, db_index=True, help_text=_("e.g. JJG 692"))
    edition = models.CharField(_("edition (year)"), max_length=10, help_text=_("e.g. 2010"))
    title = models.CharField(_("method title"), max_length=200)
    kind = models.CharField(_("kind of method"), max_length=20, choices=MethodKind.choices)
    effective_on = models.DateField(_("effective from"))
    status = models.CharField(
        _("edition status"), max_length=20, choices=MethodStatus.choices, default=MethodStatus.DRAFT, db_index=True
    )
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes",
        verbose_name=_("superseded by"),
    )
    status_changed_on = models.DateField(_("status changed on"), null=True, blank=True)
    withdrawal_reason = models.CharField(_("reason for withdrawal"), max_length=300, blank=True)
    categories = models.ManyToManyField(
        InstrumentCategory, related_name="methods", blank=True, verbose_name=_("applicable categories")
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("method edition")
        verbose_name_plural = _("methods")
        ordering = ["code", "-edition"]
        constraints = [models.UniqueConstraint(fields=["code", "edition"], name="method_code_edition_unique")]

    def __str__(self) -> str:
        return f"{self.full_code} {self.title}"

    @property
    def full_code(self) -> str:
        return f"{self.code}-{self.edition}"

    @property
    def service(self) -> str:
        return KIND_SERVICE[MethodKind(self.kind)]

    @property
    def is_usable(self) -> bool:
        return self.status == MethodStatus.CURRENT

    def active_template(self) -> RecordTemplate | None:
        return self.templates.filter(status=TemplateStatus.ACTIVE).order_by("-version").first()


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In use")
    RETIRED = "retired", _("Replaced by a newer version")


class ToleranceKind(models.TextChoices):
    ABSOLUTE = "absolute", _("± absolute value")
    # xgettext:no-python-format
    PERCENT_OF_READING = "reading", _("± % of reading")
    # xgettext:no-python-format
    PERCENT_OF_RANGE = "range", _("± % of range")


class RecordTemplate(models.Model):
    """What a record under one method edition asks for.  Versions are immutable once in
    use: editing makes a new draft version, approving it retires the previous one."""

    method = models.ForeignKey(Method, on_delete=models.PROTECT, related_name="templates", verbose_name=pgettext_lazy("measurement method", "method"))
    version = models.PositiveSmallIntegerField(_("version"))
    name = models.CharField(_("template name"), max_length=200)
    quantity = models.CharField(_("measured quantity"), max_length=100, help_text=_("e.g. static pressure indication"))
    unit = models.CharField(_("unit of measurement"), max_length=20)
    repeats = models.PositiveSmallIntegerField(
        _("readings per point"), default=3, validators=[MinValueValidator(1)]
    )
    resolution = models.DecimalField(
        _("resolution for rounding"), max_digits=12, decimal_places=6,
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text=_("Results are rounded half to even to this step (GB/T 8170), e.g. 0.1 or 0.5."),
    )
    range_low = models.DecimalField(_("measuring range from"), max_digits=14, decimal_places=6, null=True, blank=True)
    range_high = models.DecimalField(_("measuring range to"), max_digits=14, decimal_places=6, null=True, blank=True)
    temperature_min = models.DecimalField(_("temperature min (℃)"), max_digits=5, decimal_places=1, null=True, blank=True)
    temperature_max = models.DecimalField(_("temperature max (℃)"), max_digits=5, decimal_places=1, null=True, blank=True)
    humidity_min = models.DecimalField(_("relative humidity min (%)"), max_digits=5, decimal_places=1, null=True, blank=True)
    humidity_max = models.DecimalField(_("relative humidity max (%)"), max_digits=5, decimal_places=1, null=True, blank=True)
    # [{"name": "电源电压", "unit": "V", "min": "198", "max": "242"}]
    other_conditions = models.JSONField(_("other conditions"), default=list, blank=True)
    # ["外观", "气密性"]
    inspection_items = models.JSONField(_("inspection items"), default=list, blank=True)
    default_coverage_factor = models.DecimalField(
        _("default coverage factor k"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("template status"), max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("record template")
        verbose_name_plural = _("record templates")
        ordering = ["method", "-version"]
        constraints = [models.UniqueConstraint(fields=["method", "version"], name="template_method_version_unique")]

    def __str__(self) -> str:
        return f"{self.method.full_code} · {self.name} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == TemplateStatus.DRAFT


class TemplatePoint(models.Model):
    """One measurement point: nominal value, tolerance, default uncertainty budget."""

    template = models.ForeignKey(RecordTemplate, on_delete=models.CASCADE, related_name="points", verbose_name=_("template"))
    position = models.PositiveSmallIntegerField(_("position"))
    label = models.CharField(_("point label"), max_length=100, blank=True)
    nominal = models.DecimalField(_("nominal value"), max_digits=14, decimal_places=6)
    tolerance_kind = models.CharField(
        _("tolerance kind"), max_length=20, choices=ToleranceKind.choices, default=ToleranceKind.ABSOLUTE
    )
    tolerance = models.DecimalField(
        _("maximum permissible error"), max_digits=14, decimal_places=6, null=True, blank=True,
        help_text=_("Leave empty when the point has no limit (calibration values only)."),
    )
    default_uncertainty = models.DecimalField(
        _("default expanded uncertainty U"), max_digits=14, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("measurement point")
        verbose_name_plural = _("measurement points")
        ordering = ["template", "position"]
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="point_template_position_unique")]

    def __str__(self) -> str:
        if self.label:
            return self.label
        text = format(self.nominal.normalize(), "f") if isinstance(self.nominal, Decimal) else str(self.nominal)
        return f"{text} {self.template.unit}"
