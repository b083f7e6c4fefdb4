"""Instrument categories (器具类别) and the lab's authorised scope (授权范围), R-INT-2/5."""

from __future__ import annotations

from datetime import date

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from labqms.models.people import DatedMixin, DatedQuerySet


class Service(models.TextChoices):
    VERIFICATION = "verification", _("Verification")
    CALIBRATION = "calibration", _("Calibration")
    TESTING = "testing", _("Testing")


class InstrumentCategory(models.Model):
    """A kind of instrument as the national catalogue and the lab's price list know it."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150)
    compulsory = models.BooleanField(
        _("compulsory verification"),
        default=False,
        help_text=_("Listed in the national catalogue of instruments under compulsory verification."),
    )
    catalogue_entry = models.CharField(
        _("catalogue entry"),
        max_length=200,
        blank=True,
        help_text=_("The entry in the national catalogue, e.g. 血压计 (血压表)."),
    )
    default_service = models.CharField(
        _("default service"), max_length=20, choices=Service.choices, default=Service.CALIBRATION
    )
    method_code = models.CharField(_("default method code"), max_length=60, blank=True)
    method_title = models.CharField(_("default method title"), max_length=200, blank=True)
    verification_period_months = models.PositiveSmallIntegerField(
        _("verification period (months)"), null=True, blank=True
    )
    turnaround_days = models.PositiveSmallIntegerField(
        _("turnaround limit (working days)"), validators=[MinValueValidator(1)]
    )
    standard_fee = models.DecimalField(
        _("standard fee (CNY)"), max_digits=10, decimal_places=2, default=0
    )
    is_active = models.BooleanField(_("in use"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("instrument category")
        verbose_name_plural = _("instrument categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        lang = get_language() or "zh-hans"
        return self.name_en if lang.startswith("en") and self.name_en else self.name_zh

    def proposed_service(self) -> str:
        """What to propose for a new item: verification for compulsory instruments."""
        return Service.VERIFICATION if self.compulsory else self.default_service

    def get_permission_scope(self):
        return self


class AuthorisedScope(DatedMixin):
    """The lab may do ``service`` on ``category`` under ``certificate_no`` from–to."""

    category = models.ForeignKey(
        InstrumentCategory,
        on_delete=models.PROTECT,
        related_name="scopes",
        verbose_name=_("instrument category"),
    )
    service = models.CharField(_("service"), max_length=20, choices=Service.choices)
    certificate_no = models.CharField(_("authorisation certificate number"), max_length=100)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = DatedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("authorised scope")
        verbose_name_plural = _("authorised scope")
        ordering = ["category__code", "service", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.category} · {self.get_service_display()} ({self.certificate_no})"

    @classmethod
    def covers(cls, category: InstrumentCategory, service: str, on: date) -> bool:
        return cls.objects.valid_on(on).filter(category=category, service=service).exists()
