"""The daily job for corrective actions (also ``manage.py actions_due``): overdue actions
(findings' and management-review decisions') are notified to their responsible person
and the quality leads once per due date, with a constant number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from audits.models import ActionAlert, ActionStatus, CorrectiveAction
from audits.services.audits import quality_leads
from labqms import notify


@dataclass
class JobResult:
    overdue: int
    notifications: int


def run(today: dt.date) -> JobResult:
    with transaction.atomic():
        overdue = list(
            CorrectiveAction.objects.exclude(status=ActionStatus.CLOSED).filter(due_on__lt=today)
            .select_related("responsible", "finding", "review")
        )
        seen = set(ActionAlert.objects.filter(action__in=overdue).values_list("action_id", "due"))
        new = [a for a in overdue if (a.pk, a.due_on) not in seen]
        ActionAlert.objects.bulk_create([ActionAlert(action=a, due=a.due_on) for a in new], ignore_conflicts=True)
        leads = quality_leads()
        messages = []
        for action in new:
            source = action.finding.number if action.finding_id else action.review.number
            url = (reverse("audits:finding_detail", args=[action.finding_id]) if action.finding_id
                   else reverse("audits:review_detail", args=[action.review_id]))
            subject = _("Corrective action overdue since %(due)s (%(source)s)") % {"due": action.due_on, "source": source}
            recipients = {*leads, action.responsible}
            messages += [notify.Message(r, subject, action.action, url) for r in sorted(recipients, key=lambda u: u.pk)]
        notify.notify(messages)
    return JobResult(overdue=len(overdue), notifications=len(messages))
