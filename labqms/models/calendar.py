"""Staff-maintained additions to the official Chinese working-day calendar."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkdayOverride(models.Model):
    """One date whose working-day status the lab sets by hand.

    Used for years the chinese-calendar library does not know yet (the State Council
    publishes each year's arrangement in the November before) and for local closures.
    An override wins over the library.
    """

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.note}"


class CalendarYear(models.Model):
    """The lab has entered a whole year's official arrangement as overrides.

    From then on every date of that year counts as covered, so deadlines in it are no
    longer shown as provisional.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=200)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("maintained calendar year")
        verbose_name_plural = _("maintained calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
