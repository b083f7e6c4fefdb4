"""The fields an instrument line shares between an order and an online request."""

import re

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from intake.models.catalogue import InstrumentCategory, Service

SERIAL_SPLIT = re.compile(r"[,，;；、\s]+")


class ItemFields(models.Model):
    instrument_name = models.CharField(_("instrument name"), max_length=200)
    category = models.ForeignKey(
        InstrumentCategory,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("instrument category"),
    )
    model = models.CharField(_("model / specification"), max_length=200, blank=True)
    serial_number = models.CharField(
        _("serial number"),
        max_length=1000,
        blank=True,
        help_text=_("出厂编号; one per unit, separated by commas when the quantity is above 1."),
    )
    no_serial = models.BooleanField(_("no serial number"), default=False)
    manufacturer = models.CharField(_("manufacturer"), max_length=200, blank=True)
    asset_number = models.CharField(_("asset number"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1)]
    )
    accessories = models.CharField(_("accessories"), max_length=300, blank=True)
    service = models.CharField(_("requested service"), max_length=20, choices=Service.choices)
    special_requirements = models.CharField(_("special requirements"), max_length=500, blank=True)

    class Meta:
        abstract = True

    def serials(self) -> list[str]:
        """The individual serial numbers typed into ``serial_number``."""
        if self.no_serial:
            return []
        return [s for s in SERIAL_SPLIT.split(self.serial_number.strip()) if s]

    ITEM_FIELDS = (
        "instrument_name",
        "category",
        "model",
        "serial_number",
        "no_serial",
        "manufacturer",
        "asset_number",
        "quantity",
        "accessories",
        "service",
        "special_requirements",
    )
