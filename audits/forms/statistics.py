"""The filters of the statistics page (R-MGT-4).

An empty form means this year so far, by month, no breakdown.  A bad value (a reversed
or too long range, a date the calendar cannot mean, a customer name nothing matches) is
reported on the field and the page keeps what was typed.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audits.services import statistics as services
from intake.models import Customer, InstrumentCategory
from labqms.forms import DATE, BootstrapMixin
from labqms.views.helpers import YEAR_RANGE

GROUPING_CHOICES = [
    (services.MONTH, _("by month")),
    (services.QUARTER, _("by quarter")),
    (services.YEAR, _("by year")),
]
BREAKDOWN_CHOICES = [
    ("", _("no breakdown")),
    (services.CATEGORY, _("by instrument category")),
    (services.DEPARTMENT, _("by department")),
    (services.CUSTOMER, _("by customer")),
]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class StatisticsForm(BootstrapMixin, forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("To"), required=False, widget=DATE)
    grouping = forms.ChoiceField(label=_("Periods"), required=False, choices=GROUPING_CHOICES)
    breakdown = forms.ChoiceField(label=_("Breakdown"), required=False, choices=BREAKDOWN_CHOICES)
    category = CategoryChoiceField(
        label=_("Instrument category"), required=False, empty_label=_("any category"),
        queryset=InstrumentCategory.objects.order_by("code"),
    )
    customer = forms.CharField(
        label=_("Customer"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("part of the name")}),
    )

    def __init__(self, data=None, *, today: dt.date | None = None, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today
        start, end = services.default_range(today)
        self.fields["start"].initial, self.fields["end"].initial = start, end
        self.fields["grouping"].initial = services.MONTH

    def _check_year(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not YEAR_RANGE[0] <= day.year <= YEAR_RANGE[1]:
            raise forms.ValidationError(
                _("Choose a date between %(first)s and %(last)s.") % {"first": YEAR_RANGE[0], "last": YEAR_RANGE[1]}
            )
        return day

    def clean_start(self):
        return self._check_year("start")

    def clean_end(self):
        return self._check_year("end")

    def clean_customer(self):
        text = (self.cleaned_data.get("customer") or "").strip()
        if text and not Customer.objects.filter(Q(name__icontains=text) | Q(short_name__icontains=text)).exists():
            raise forms.ValidationError(_("No customer's name contains “%(text)s”.") % {"text": text})
        return text

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        default_start, default_end = services.default_range(self.today)
        start = data.get("start") or (dt.date(data["end"].year, 1, 1) if data.get("end") else default_start)
        end = data.get("end") or (default_end if start <= default_end else dt.date(start.year, 12, 31))
        if end < start:
            self.add_error("end", _("The end of the range is before its start."))
        elif end >= _add_years(start, services.MAX_YEARS):
            self.add_error("end", _("Choose a range of at most %(years)s years.") % {"years": services.MAX_YEARS})
        data["start"], data["end"] = start, end
        return data

    def criteria(self) -> services.Criteria | None:
        """The criteria asked for; the defaults for an empty form; None when invalid."""
        if not self.is_bound:
            start, end = services.default_range(self.today)
            return services.Criteria(start=start, end=end)
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return services.Criteria(
            start=data["start"], end=data["end"], grouping=data.get("grouping") or services.MONTH,
            breakdown=data.get("breakdown") or "", category=data.get("category"), customer=data.get("customer") or "",
        )


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
