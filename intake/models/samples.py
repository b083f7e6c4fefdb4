"""Samples (送检器具): one physical unit with its ID, label, status and custody trail
(R-SMP-1..4), and the release that hands it back (R-INT-7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from intake.models.orders import Order, OrderItem
from labqms.models.append_only import AppendOnly


class SampleStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    RECEIVED = "received", _("Received")
    STORED = "stored", _("Stored")
    IN_TEST = "in_test", _("In test")
    TESTED = "tested", _("Tested")
    READY = "ready", _("Ready for release")
    RELEASED = "released", _("Released")
    ON_HOLD = "on_hold", _("On hold")
    RETURNED = "returned", _("Returned untested")


# from -> allowed targets.  ON_HOLD returns to the status it was put on hold from.
SAMPLE_TRANSITIONS: dict[str, frozenset[str]] = {
    SampleStatus.REGISTERED: frozenset(
        {SampleStatus.RECEIVED, SampleStatus.IN_TEST, SampleStatus.ON_HOLD, SampleStatus.RETURNED}
    ),
    SampleStatus.RECEIVED: frozenset(
        {SampleStatus.STORED, SampleStatus.IN_TEST, SampleStatus.ON_HOLD, SampleStatus.RETURNED}
    ),
    SampleStatus.STORED: frozenset(
        {SampleStatus.IN_TEST, SampleStatus.ON_HOLD, SampleStatus.RETURNED}
    ),
    SampleStatus.IN_TEST: frozenset({SampleStatus.TESTED, SampleStatus.ON_HOLD}),
    SampleStatus.TESTED: frozenset({SampleStatus.READY, SampleStatus.ON_HOLD}),
    SampleStatus.READY: frozenset({SampleStatus.RELEASED, SampleStatus.ON_HOLD}),
    SampleStatus.ON_HOLD: frozenset(
        {
            SampleStatus.REGISTERED,
            SampleStatus.RECEIVED,
            SampleStatus.STORED,
            SampleStatus.IN_TEST,
            SampleStatus.TESTED,
            SampleStatus.READY,
            SampleStatus.RETURNED,
        }
    ),
    SampleStatus.RELEASED: frozenset(),
    SampleStatus.RETURNED: frozenset(),
}
# A sample in one of these needs nothing more from the lab before release.
DONE_STATUSES = frozenset({SampleStatus.READY, SampleStatus.RELEASED, SampleStatus.RETURNED})


class StorageLocation(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("storage location")
        verbose_name_plural = _("storage locations")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Release(models.Model):
    """Hand-over of samples (with their certificates) to the customer, R-INT-7."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="releases", verbose_name=_("order")
    )
    receiver_name = models.CharField(_("received by"), max_length=100)
    receiver_id_document = models.CharField(_("ID document"), max_length=100)
    handed_over = models.TextField(_("what was handed over"))
    # The certificate numbers valid for the released samples at the hand-over (R-INT-7).
    certificate_numbers = models.JSONField(_("certificates handed over"), default=list, blank=True)
    released_at = models.DateTimeField(_("released at"), auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("released by")
    )

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-released_at"]

    def __str__(self) -> str:
        return f"{self.order.number} → {self.receiver_name}"


class Sample(models.Model):
    sample_id = models.CharField(_("sample ID"), max_length=40, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="samples", verbose_name=_("order")
    )
    item = models.ForeignKey(
        OrderItem, on_delete=models.PROTECT, related_name="samples", verbose_name=_("order item")
    )
    unit_no = models.PositiveSmallIntegerField(_("unit"))
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True, db_index=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SampleStatus.choices,
        default=SampleStatus.REGISTERED,
        db_index=True,
    )
    held_from = models.CharField(
        _("status before hold"), max_length=20, choices=SampleStatus.choices, blank=True
    )
    location = models.ForeignKey(
        StorageLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="samples",
        verbose_name=_("storage location"),
    )
    release = models.ForeignKey(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="samples",
        verbose_name=_("release"),
    )
    # Set when [Certificates] work starts on the sample; the order is complete only once
    # every such sample has a valid certificate (R-INT-6).  Numbers as told by
    # [Certificates] (intake never reads its tables): replaced numbers drop out.
    expects_certificate = models.BooleanField(_("a certificate is due"), default=False)
    certificate_numbers = models.JSONField(_("certificates"), default=list, blank=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        ordering = ["sample_id"]
        # The sample list's default order (last change first) over millions of rows.
        indexes = [models.Index(fields=["-updated_at", "sample_id"], name="sample_changed_idx")]

    def __str__(self) -> str:
        return self.sample_id

    def get_permission_scope(self):
        return self.item.category

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def awaits_certificate(self) -> bool:
        return self.expects_certificate and not self.certificate_numbers and self.status != SampleStatus.RETURNED


class CustodyEvent(AppendOnly):
    """Append-only: who moved the sample from which status to which, where, when (R-SMP-3)."""

    sample = models.ForeignKey(
        Sample, on_delete=models.PROTECT, related_name="custody", verbose_name=_("sample")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, choices=SampleStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=SampleStatus.choices)
    location = models.CharField(_("location"), max_length=150, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.sample} {self.from_status}→{self.to_status}"


class ReceiptInspection(models.Model):
    """What the counter saw when the sample arrived (R-SMP-1)."""

    sample = models.OneToOneField(
        Sample, on_delete=models.PROTECT, related_name="receipt", verbose_name=_("sample")
    )
    packaging_ok = models.BooleanField(_("packaging intact"), default=True)
    appearance_ok = models.BooleanField(_("appearance normal"), default=True)
    markings_ok = models.BooleanField(_("markings legible"), default=True)
    accessories_ok = models.BooleanField(_("accessories complete"), default=True)
    accessories_received = models.CharField(_("accessories received"), max_length=300, blank=True)
    anomalies = models.TextField(_("anomalies"), blank=True)
    customer_confirmed_by = models.CharField(
        _("anomalies confirmed on the spot by"), max_length=100, blank=True
    )
    inspected_at = models.DateTimeField(_("inspected at"), auto_now_add=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("inspected by")
    )

    class Meta:
        verbose_name = _("receipt inspection")
        verbose_name_plural = _("receipt inspections")
        # Statistics: samples received per period (R-MGT-4).
        indexes = [models.Index(fields=["inspected_at"], include=["sample"], name="inspection_stats_idx")]

    def __str__(self) -> str:
        return f"{self.sample} · {self.inspected_at:%Y-%m-%d}"

    @property
    def has_anomalies(self) -> bool:
        return bool(self.anomalies.strip()) or not (
            self.packaging_ok and self.appearance_ok and self.markings_ok and self.accessories_ok
        )


class IntegrityCheck(models.Model):
    """The check after testing, before storage and release (R-SMP-4)."""

    sample = models.ForeignKey(
        Sample, on_delete=models.PROTECT, related_name="integrity_checks", verbose_name=_("sample")
    )
    intact = models.BooleanField(_("intact as received"))
    notes = models.TextField(_("notes"), blank=True)
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checked by")
    )

    class Meta:
        verbose_name = _("integrity check")
        verbose_name_plural = _("integrity checks")
        ordering = ["checked_at", "id"]

    def __str__(self) -> str:
        return f"{self.sample} · {'OK' if self.intact else 'damaged'}"
