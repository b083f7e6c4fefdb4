"""The Chinese working-day calendar (R-CMP-3 counts in these working days)."""

import datetime as dt

import pytest

from labqms import workdays
from labqms.models import CalendarYear, WorkdayOverride
from tests.factories import UserFactory

D = dt.date


@pytest.fixture
def staff(db):
    return UserFactory()


def test_ten_working_days_after_national_day_eve_counts_make_up_saturday(db):
    """R-CMP-3: 2026-09-28 + 10 → 2026-10-16; Saturday 10-10 is a make-up workday."""
    assert workdays.is_working_day(D(2026, 10, 10))
    assert not workdays.is_working_day(D(2026, 10, 5))
    assert workdays.add_working_days(D(2026, 9, 28), 10) == D(2026, 10, 16)


def test_ten_working_days_across_spring_festival(db):
    """R-CMP-3: 2026-02-13 + 10 → 2026-03-05 (Spring Festival holidays skipped)."""
    assert workdays.add_working_days(D(2026, 2, 13), 10) == D(2026, 3, 5)


def test_start_day_does_not_count_and_zero_is_start(db):
    # Friday 2026-11-20: the first working day after it is Monday 11-23.
    assert workdays.add_working_days(D(2026, 11, 20), 1) == D(2026, 11, 23)
    assert workdays.add_working_days(D(2026, 11, 20), 0) == D(2026, 11, 20)


def test_unknown_year_falls_back_to_weekdays_and_says_so(db):
    """2026-12-24 + 10 runs into 2027, which the library does not know: a date comes back
    and calendar_covers is False for the 2027 part."""
    due = workdays.add_working_days(D(2026, 12, 24), 10)
    # 12-25 (Fri) … 12-31 (Thu): 5 days; then 2027-01-01 (Fri, Mon–Fri fallback) onwards.
    assert due == D(2027, 1, 7)
    assert workdays.calendar_covers(D(2026, 12, 31))
    assert not workdays.calendar_covers(D(2027, 1, 4))
    assert not workdays.span_covered(D(2026, 12, 24), due)


def test_override_for_a_2027_date_changes_the_result(staff):
    """An override row (New Year's Day 2027 off) moves the deadline by one working day."""
    before = workdays.add_working_days(D(2026, 12, 24), 10)
    WorkdayOverride.objects.create(
        date=D(2027, 1, 1), is_working_day=False, note="元旦", updated_by=staff
    )
    after = workdays.add_working_days(D(2026, 12, 24), 10)
    # Fri 01-01 no longer counts, so the tenth working day moves from Thu 01-07 to Fri 01-08.
    assert (before, after) == (D(2027, 1, 7), D(2027, 1, 8))
    assert workdays.calendar_covers(D(2027, 1, 1))
    assert not workdays.calendar_covers(D(2027, 1, 4))


def test_override_beats_the_official_calendar(staff):
    """A local closure on an official working day makes it a day off."""
    assert workdays.is_working_day(D(2026, 11, 23))
    WorkdayOverride.objects.create(
        date=D(2026, 11, 23), is_working_day=False, note="停电", updated_by=staff
    )
    assert not workdays.is_working_day(D(2026, 11, 23))
    assert workdays.add_working_days(D(2026, 11, 20), 1) == D(2026, 11, 24)


def test_make_up_workday_override_in_unknown_year(staff):
    """A Saturday declared a make-up workday in 2027 counts."""
    saturday = D(2027, 2, 20)
    assert not workdays.is_working_day(saturday)
    WorkdayOverride.objects.create(
        date=saturday, is_working_day=True, note="调休", updated_by=staff
    )
    assert workdays.is_working_day(saturday)


def test_confirmed_year_counts_as_covered(staff):
    assert not workdays.calendar_covers(D(2027, 6, 1))
    CalendarYear.objects.create(year=2027, source="国务院办公厅通知", confirmed_by=staff)
    assert workdays.calendar_covers(D(2027, 6, 1))
    assert workdays.span_covered(D(2026, 12, 24), D(2027, 1, 7))


@pytest.mark.parametrize(
    ("start", "n"),
    [
        (D(2026, 9, 28), 10),
        (D(2026, 2, 13), 10),
        (D(2026, 12, 24), 10),
        (D(2026, 5, 6), -7),
        (D(2026, 1, 1), 250),
    ],
)
def test_working_days_between_is_the_inverse_of_add(db, start, n):
    assert workdays.working_days_between(start, workdays.add_working_days(start, n)) == n


def test_counting_backwards(db):
    # The working day before Monday 2026-11-23 is Friday 11-20.
    assert workdays.add_working_days(D(2026, 11, 23), -1) == D(2026, 11, 20)


def test_long_closure_widens_the_override_window(staff):
    """Overrides beyond the first query window are still seen."""
    for i in range(60):
        day = D(2027, 3, 1) + dt.timedelta(days=i)
        WorkdayOverride.objects.create(
            date=day, is_working_day=False, note="闭馆", updated_by=staff
        )
    due = workdays.add_working_days(D(2027, 2, 26), 5)
    assert due > D(2027, 4, 29)
    assert workdays.working_days_between(D(2027, 2, 26), due) == 5


def test_working_day_map_agrees_with_is_working_day(staff):
    WorkdayOverride.objects.create(
        date=D(2026, 11, 23), is_working_day=False, note="停电", updated_by=staff
    )
    span = workdays.working_day_map(D(2026, 9, 25), D(2026, 12, 5))
    assert len(span) == 72
    assert all(span[day] == workdays.is_working_day(day) for day in span)
