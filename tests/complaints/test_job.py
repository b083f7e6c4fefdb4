"""The near-deadline job (R-CMP-3, product card): flags open complaints with at most N
working days left and overdue ones, notifies the responsible person and the quality lead
once per state, is idempotent and runs a constant number of queries."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from complaints.models import AlertState, Channel, ComplaintAlert
from complaints.services import complaints as services
from complaints.services import job
from labqms import workdays
from labqms.models import Notification
from tests.complaints.conftest import DEPARTMENT, received_on


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


ACCEPTED = dt.date(2026, 11, 2)  # Monday → due Monday 16 November (10 working days)
DUE = dt.date(2026, 11, 16)


def _accepted(counter, handler, responsible, data, on=ACCEPTED):
    complaint = services.register(actor=counter, channel=Channel.HOTLINE, data=data, received_at=received_on(on))
    return services.accept(actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=responsible, accepted_on=on)


@pytest.fixture
def open_complaint(counter, handler, responsible, complaint_data):
    complaint = _accepted(counter, handler, responsible, complaint_data)
    assert complaint.reply_due == DUE
    Notification.objects.all().delete()  # only the job's notifications from here on
    return complaint


@pytest.mark.django_db
def test_nothing_is_flagged_with_three_working_days_left(open_complaint):
    result = job.run(dt.date(2026, 11, 11), threshold=2)  # 12, 13, 16 left
    assert (result.near_deadline, result.overdue, result.notifications) == (0, 0, 0)
    assert not ComplaintAlert.objects.exists()


@pytest.mark.django_db
def test_flagged_at_exactly_two_working_days_left_and_only_once(open_complaint, handler, responsible):
    today = dt.date(2026, 11, 12)  # Thursday: 13 and 16 left
    assert workdays.working_days_between(today, DUE) == 2
    result = job.run(today, threshold=2)
    assert (result.near_deadline, result.overdue) == (1, 0)
    assert result.notifications == 2  # the responsible person and the quality lead
    assert {n.recipient for n in Notification.objects.all()} == {handler, responsible}
    assert "2 working day(s) left, reply due 2026-11-16" in Notification.objects.first().subject
    # The next run (same day, or the day after) tells nobody again.
    assert job.run(today, threshold=2).notifications == 0
    assert job.run(dt.date(2026, 11, 13), threshold=2).notifications == 0
    assert Notification.objects.count() == 2
    assert ComplaintAlert.objects.get().state == AlertState.NEAR_DEADLINE


@pytest.mark.django_db
def test_an_overdue_complaint_is_flagged_once_more_as_overdue(open_complaint):
    job.run(dt.date(2026, 11, 12), threshold=2)
    result = job.run(dt.date(2026, 11, 17), threshold=2)
    assert (result.near_deadline, result.overdue, result.notifications) == (0, 1, 2)
    assert job.run(dt.date(2026, 11, 18), threshold=2).notifications == 0
    assert set(ComplaintAlert.objects.values_list("state", flat=True)) == {AlertState.NEAR_DEADLINE, AlertState.OVERDUE}


@pytest.mark.django_db
def test_an_extension_gives_a_new_due_date_and_a_new_warning(open_complaint, handler):
    job.run(dt.date(2026, 11, 12), threshold=2)
    services.extend(actor=handler, complaint=open_complaint, new_due=dt.date(2026, 11, 27), explanation="需外送复检")
    assert job.run(dt.date(2026, 11, 13), threshold=2).notifications == 0  # 7 working days left now
    assert job.run(dt.date(2026, 11, 25), threshold=2).near_deadline == 1


@pytest.mark.django_db
def test_replied_complaints_are_not_flagged(replied):
    assert job.run(replied.reply_due + dt.timedelta(days=30)).overdue == 0


@pytest.mark.django_db
def test_the_job_runs_a_constant_number_of_queries(counter, handler, responsible, complaint_data):
    today = dt.date(2026, 11, 17)

    def queries() -> int:
        ComplaintAlert.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            job.run(today, threshold=2)
        return len(captured)

    for _ in range(3):
        _accepted(counter, handler, responsible, complaint_data)
    few = queries()
    for _ in range(20):
        _accepted(counter, handler, responsible, complaint_data, on=dt.date(2026, 11, 4))
    assert queries() == few


@pytest.mark.django_db
def test_days_left_matches_the_calendar_function(counter, handler, responsible, complaint_data):
    complaints = [
        _accepted(counter, handler, responsible, complaint_data, on=day)
        for day in (dt.date(2026, 2, 12), dt.date(2026, 9, 18), dt.date(2026, 11, 2))
    ]
    for today in (dt.date(2026, 2, 1), dt.date(2026, 2, 20), dt.date(2026, 10, 5), dt.date(2026, 12, 1)):
        left = job.days_left(complaints, today)
        assert left == {c.pk: workdays.working_days_between(today, c.reply_due) for c in complaints}


@pytest.mark.django_db
def test_the_management_command_runs_the_job(open_complaint, capsys):
    call_command("complaints_due", "--date", "2026-11-12", "--days", "2")
    assert "near_deadline=1 overdue=0 notifications=2" in capsys.readouterr().out
