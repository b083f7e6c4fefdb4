"""The working-day calendar page: a year at a glance, overrides, and a calculator."""

import calendar as pycalendar
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from labqms import forms, permissions, workdays
from labqms.models import CalendarYear, WorkdayOverride
from labqms.services import calendar as services
from labqms.views.helpers import run_with_reason, year_param


def _year_grid(year: int, overrides: dict) -> list[dict]:
    working = workdays.working_day_map(dt.date(year, 1, 1), dt.date(year, 12, 31))
    months = []
    for month in range(1, 13):
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                cells.append(
                    {
                        "day": day,
                        "working": working[day],
                        "override": overrides.get(day),
                        "weekend": day.weekday() >= 5,
                    }
                )
            weeks.append(cells)
        months.append({"month": month, "weeks": weeks})
    return months


@login_required
def calendar_year(request):
    permissions.require_or_404(request.user, "calendar.view")
    year = year_param(request)
    overrides = {
        o.date: o
        for o in WorkdayOverride.objects.filter(date__year=year).select_related("updated_by")
    }
    confirmed = CalendarYear.objects.filter(year=year).select_related("confirmed_by").first()
    covered = workdays.calendar_covers(dt.date(year, 6, 30)) or confirmed is not None
    calc = forms.WorkdayCalculatorForm(request.GET if "start" in request.GET else None)
    result = None
    if calc.is_bound and calc.is_valid():
        start, days = calc.cleaned_data["start"], calc.cleaned_data["days"]
        due = workdays.add_working_days(start, days)
        result = {"due": due, "provisional": not workdays.span_covered(start, due)}
    return render(
        request,
        "labqms/calendar_year.html",
        {
            "year": year,
            "months": _year_grid(year, overrides),
            "overrides": overrides.values(),
            "confirmed": confirmed,
            "covered": covered,
            "can_manage": permissions.can(request.user, "calendar.manage"),
            "override_form": forms.WorkdayOverrideForm(initial={"day": dt.date(year, 1, 1)}),
            "confirm_form": forms.ConfirmYearForm(initial={"year": year}),
            "calc": calc,
            "result": result,
        },
    )


def _back(year):
    return redirect(f"{reverse('calendar:calendar_year')}?year={year}")


@login_required
@require_POST
def override_set(request):
    permissions.require_or_404(request.user, "calendar.manage")
    form = forms.WorkdayOverrideForm(request.POST)
    year = timezone.localdate().year
    if form.is_valid():
        year = form.cleaned_data["day"].year
        try:
            services.set_workday_override(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Check the date, status and note."))
    return _back(year)


@login_required
@require_POST
def override_remove(request, pk):
    permissions.require_or_404(request.user, "calendar.manage")
    override = get_object_or_404(WorkdayOverride, pk=pk)
    year = override.date.year
    run_with_reason(
        request,
        lambda reason: services.remove_workday_override(
            actor=request.user, override=override, reason=reason
        ),
        missing=_("Give the reason for removing this override."),
        done=_("Override removed."),
    )
    return _back(year)


@login_required
@require_POST
def year_confirm(request):
    permissions.require_or_404(request.user, "calendar.manage")
    form = forms.ConfirmYearForm(request.POST)
    year = timezone.localdate().year
    if form.is_valid():
        year = form.cleaned_data["year"]
        try:
            services.confirm_calendar_year(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Year confirmed."))
    else:
        messages.error(request, _("Give the year and the source of the arrangement."))
    return _back(year)


urlpatterns = [
    path("", calendar_year, name="calendar_year"),
    path("overrides/", override_set, name="override_set"),
    path("overrides/<int:pk>/remove/", override_remove, name="override_remove"),
    path("years/confirm/", year_confirm, name="year_confirm"),
]
