"""Counters behind the gap-free yearly numbers (orders, samples, certificates)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NumberSequence(models.Model):
    """The last number handed out for one sequence in one year.

    ``labqms.numbering`` locks this row for the length of the caller's transaction, so a
    number is used only if that transaction commits: no duplicates and no gaps.
    """

    key = models.CharField(_("sequence"), max_length=40)
    year = models.PositiveSmallIntegerField(_("year"))
    last_value = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [models.UniqueConstraint(fields=["key", "year"], name="sequence_per_year")]

    def __str__(self) -> str:
        return f"{self.key} {self.year}: {self.last_value}"
