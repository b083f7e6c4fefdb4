"""The Chinese working-day calendar (工作日, 调休).

Three layers, first match wins:

1. ``WorkdayOverride`` rows the lab maintains (years the library does not know yet,
   local closures);
2. the official calendar published by the State Council, through ``chinese_calendar``
   (make-up workdays on weekends count, public holidays do not);
3. Monday–Friday, where neither knows the date.

Nothing here raises for an unknown year: :func:`calendar_covers` tells the caller when
a result rests on the Monday–Friday fallback, so the UI can mark it provisional.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import chinese_calendar

from labqms.models import CalendarYear, WorkdayOverride

# Guards a runaway loop on absurd input (n is days, not years of work).
_MAX_STEPS = 366 * 20


@cache
def _official(day: dt.date) -> bool | None:
    """The official status of ``day``, or None where the library has no data."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    lo, hi = min(start, end), max(start, end)
    return dict(
        WorkdayOverride.objects.filter(date__range=(lo, hi)).values_list("date", "is_working_day")
    )


def _is_working(day: dt.date, overrides: dict[dt.date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
    official = _official(day)
    if official is not None:
        return official
    return day.weekday() < 5


def is_working_day(day: dt.date) -> bool:
    return _is_working(day, _overrides(day, day))


def working_day_map(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """``{day: is working day}`` for every day from ``start`` to ``end``, in one query."""
    overrides = _overrides(start, end)
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return {day: _is_working(day, overrides) for day in days}


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date of the ``n``-th working day after ``start`` (before it when n < 0).

    ``start`` itself never counts: a complaint accepted on a Friday with n=1 is due on
    the next working day.  n == 0 returns ``start``.
    """
    if n == 0:
        return start
    step = dt.timedelta(days=1 if n > 0 else -1)
    # One query for the whole span: n working days never take more than ~3n calendar days
    # (the Spring Festival week is the longest run); widen if overrides close more.
    span = dt.timedelta(days=abs(n) * 3 + 30)
    overrides = _overrides(start, start + (span if n > 0 else -span))
    day, remaining, steps = start, abs(n), 0
    while remaining:
        day += step
        steps += 1
        if abs((day - start).days) > span.days:
            span *= 2
            overrides = _overrides(start, start + (span if n > 0 else -span))
        if _is_working(day, overrides):
            remaining -= 1
        if steps > _MAX_STEPS:
            raise ValueError("Working-day count out of range.")
    return day


def working_days_between(a: dt.date, b: dt.date) -> int:
    """The inverse of :func:`add_working_days`: ``working_days_between(a, add_working_days(a, n)) == n``.

    For b > a it counts the working days in (a, b]; for b < a, minus those in [b, a).
    """
    if a == b:
        return 0
    if b > a:
        first, last, sign = a + dt.timedelta(days=1), b, 1
    else:
        first, last, sign = b, a - dt.timedelta(days=1), -1
    overrides = _overrides(first, last)
    count, day = 0, first
    while day <= last:
        count += _is_working(day, overrides)
        day += dt.timedelta(days=1)
    return sign * count


def _library_covers(day: dt.date) -> bool:
    return _official(day) is not None


def calendar_covers(day: dt.date) -> bool:
    """True when ``day``'s status comes from data, not from the Monday–Friday guess."""
    if _library_covers(day):
        return True
    if CalendarYear.objects.filter(year=day.year).exists():
        return True
    return WorkdayOverride.objects.filter(date=day).exists()


def span_covered(a: dt.date, b: dt.date) -> bool:
    """True when every date from ``a`` to ``b`` is covered (see :func:`calendar_covers`)."""
    lo, hi = min(a, b), max(a, b)
    maintained = set(
        CalendarYear.objects.filter(year__range=(lo.year, hi.year)).values_list("year", flat=True)
    )
    overrides = set(_overrides(lo, hi))
    day = lo
    while day <= hi:
        if not (_library_covers(day) or day.year in maintained or day in overrides):
            return False
        day += dt.timedelta(days=1)
    return True
