"""The near-deadline job (daily, Celery beat; also ``manage.py complaints_due``): open
complaints with at most N working days left (setting) and overdue ones; the responsible
person and the quality leads are told once per complaint, state and due date (the
``ComplaintAlert`` rows are the job's memory).  A constant number of queries: the
working-day calendar of the whole span is read once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from complaints.models import OPEN_STATES, AlertState, Complaint, ComplaintAlert
from complaints.services.complaints import handlers
from labqms import notify, workdays


@dataclass
class JobResult:
    near_deadline: int
    overdue: int
    notifications: int


class WorkingDayCounter:
    """``working_days_between`` for many dates from one calendar read."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.end = start, end
        self.working = workdays.working_day_map(start, end)
        # prefix[i] = working days in [start, start + i)
        self.prefix = [0]
        for i in range((end - start).days + 1):
            self.prefix.append(self.prefix[-1] + self.working[start + dt.timedelta(days=i)])

    def _upto(self, day: dt.date) -> int:
        """Working days in [start, day]."""
        return self.prefix[(day - self.start).days + 1]

    def between(self, a: dt.date, b: dt.date) -> int:
        """Same as :func:`labqms.workdays.working_days_between` (a, b within the span)."""
        if b >= a:
            return self._upto(b) - self._upto(a)
        return -(self._upto(a - dt.timedelta(days=1)) - self._upto(b - dt.timedelta(days=1)))


def days_left(complaints, today: dt.date) -> dict[int, int]:
    """Working days from today to each complaint's reply due date (negative: overdue)."""
    dues = [c.reply_due for c in complaints if c.reply_due]
    if not dues:
        return {}
    start = min([today, *dues]) - dt.timedelta(days=1)
    counter = WorkingDayCounter(start, max([today, *dues]))
    return {c.pk: counter.between(today, c.reply_due) for c in complaints if c.reply_due}


def run(today: dt.date, threshold: int | None = None) -> JobResult:
    threshold = settings.COMPLAINTS_NEAR_DEADLINE_DAYS if threshold is None else threshold
    with transaction.atomic():
        complaints = list(
            Complaint.objects.filter(status__in=OPEN_STATES, reply_due__isnull=False).select_related("responsible_person")
        )
        left = days_left(complaints, today)
        wanted = []
        for complaint in complaints:
            n = left[complaint.pk]
            if complaint.reply_due < today:
                wanted.append((complaint, AlertState.OVERDUE, n))
            elif n <= threshold:
                wanted.append((complaint, AlertState.NEAR_DEADLINE, n))
        seen = set(
            ComplaintAlert.objects.filter(complaint__in=[c for c, _s, _n in wanted]).values_list("complaint_id", "state", "due")
        )
        new = [(c, s, n) for c, s, n in wanted if (c.pk, s, c.reply_due) not in seen]
        ComplaintAlert.objects.bulk_create(
            [ComplaintAlert(complaint=c, state=s, due=c.reply_due) for c, s, _n in new], ignore_conflicts=True
        )
        leads = handlers()
        messages = []
        for complaint, state, n in new:
            if state == AlertState.OVERDUE:
                subject = _("Complaint %(number)s: reply overdue since %(due)s") % {"number": complaint.number, "due": complaint.reply_due}
            else:
                subject = _("Complaint %(number)s: %(n)d working day(s) left, reply due %(due)s") % {
                    "number": complaint.number, "n": n, "due": complaint.reply_due,
                }
            url = reverse("complaints:complaint_detail", args=[complaint.pk])
            recipients = {*leads, complaint.responsible_person} - {None}
            messages += [notify.Message(r, subject, complaint.subject, url) for r in sorted(recipients, key=lambda u: u.pk)]
        notify.notify(messages)
    return JobResult(
        near_deadline=sum(1 for _c, s, _n in wanted if s == AlertState.NEAR_DEADLINE),
        overdue=sum(1 for _c, s, _n in wanted if s == AlertState.OVERDUE),
        notifications=len(messages),
    )


# Deadline bands of open complaints (the list's "Reply deadline" filter and the dashboard).
OVERDUE, NEAR, LATER = "overdue", "near", "later"


def deadline_conditions(today: dt.date) -> dict[str, Q]:
    """Open complaints by working days left to their reply due date, as this job sorts
    them: overdue (due before today), near (at most ``COMPLAINTS_NEAR_DEADLINE_DAYS``
    working days left) and later.  One calendar query."""
    open_ = Q(status__in=OPEN_STATES, reply_due__isnull=False)
    # n working days left <= N  <=>  due before the (N+1)-th working day after today.
    horizon = workdays.add_working_days(today, settings.COMPLAINTS_NEAR_DEADLINE_DAYS + 1)
    return {
        OVERDUE: open_ & Q(reply_due__lt=today),
        NEAR: open_ & Q(reply_due__gte=today, reply_due__lt=horizon),
        LATER: open_ & Q(reply_due__gte=horizon),
    }
