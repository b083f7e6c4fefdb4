"""Online requests that customers submit in the portal (R-INT-1, R-INT-9)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from intake.models.customers import Customer
from intake.models.items import ItemFields
from intake.models.orders import Order, WorkLocation


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    CONVERTED = "converted", _("Turned into an order")
    DECLINED = "declined", _("Declined")


class OnlineRequest(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="requests", verbose_name=_("customer")
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)
    contact_name = models.CharField(_("contact"), max_length=100)
    contact_phone = models.CharField(_("phone"), max_length=50)
    work_location = models.CharField(
        _("work location"), max_length=20, choices=WorkLocation.choices, default=WorkLocation.LAB
    )
    preferred_date = models.DateField(_("preferred date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="online_request",
        verbose_name=_("order"),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    decline_reason = models.CharField(_("reason declined"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("online request")
        verbose_name_plural = _("online requests")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer}"


class RequestItem(ItemFields):
    request = models.ForeignKey(
        OnlineRequest, on_delete=models.CASCADE, related_name="items", verbose_name=_("request")
    )
    line_no = models.PositiveSmallIntegerField(_("line"))

    class Meta:
        verbose_name = _("requested item")
        verbose_name_plural = _("requested items")
        ordering = ["request", "line_no"]
