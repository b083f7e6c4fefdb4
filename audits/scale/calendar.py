"""The lab's working days and local time for generated timelines."""

from __future__ import annotations

import bisect
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings

from labqms import workdays

# --- the lab's calendar ---------------------------------------------------------------------


class Calendar:
    """Working days of the whole span from one read of the calendar, and the lab's local
    time of day on them."""

    def __init__(self, start: dt.date, end: dt.date):
        self.tz = ZoneInfo(settings.TIME_ZONE)
        days = workdays.working_day_map(start, end)
        self.days = [d for d, working in sorted(days.items()) if working]
        self.index = {d: i for i, d in enumerate(self.days)}
        self.covered_until = max((d for d in days if workdays._library_covers(d)), default=start)
        self._opening = {}

    def at_or_before(self, day: dt.date) -> int:
        return bisect.bisect_right(self.days, day) - 1

    def add(self, day: dt.date, n: int) -> dt.date:
        """``labqms.workdays.add_working_days`` within the span."""
        if n == 0:
            return day
        return self.days[self.at_or_before(day) + n]

    def moment(self, index: int, minutes: int) -> dt.datetime:
        """``minutes`` after 08:30 local time on working day ``index``."""
        opening = self._opening.get(index)
        if opening is None:
            d = self.days[min(index, len(self.days) - 1)]
            opening = self._opening[index] = dt.datetime(d.year, d.month, d.day, 8, 30, tzinfo=self.tz)
        return opening + dt.timedelta(minutes=minutes)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months``, clamped to the month's end (as ``relativedelta`` does)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(d, day.day))
        except ValueError:
            continue
    raise ValueError(day)
