"""The quality lead's complaint queues on the home page (R-MGT-4, R-CMP-3): open
complaints by working days left to the reply (overdue / near / later) and complaints
waiting for acceptance.

One query over complaints (plus one calendar query), counted with the conditions the
complaint list filters by (``complaints.services.job.deadline_conditions``); see
``labqms.dashboard``."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from complaints.forms import ComplaintFilterForm as Filters
from complaints.models import Complaint, ComplaintStatus
from complaints.services.job import deadline_conditions
from labqms.dashboard import Queue, link

# Everyone on the staff reads complaints; handling them is the quality lead's (and the
# lab head's, who decides major cases).
ACTIONS = ("complaints.view", "complaints.handle")


def queues(user, today: date, *, allowed) -> list[Queue]:
    if not (allowed["complaints.view"] and allowed["complaints.handle"]):
        return []
    bands = deadline_conditions(today)
    counts = Complaint.objects.aggregate(
        **{band: Count("pk", filter=condition) for band, condition in bands.items()},
        registered=Count("pk", filter=Q(status=ComplaintStatus.REGISTERED)),
    )
    near = settings.COMPLAINTS_NEAR_DEADLINE_DAYS
    return [
        Queue(
            key="complaints.overdue",
            label=_("Complaints: reply overdue"),
            count=counts[Filters.OVERDUE],
            url=link("complaints:complaint_list", deadline=Filters.OVERDUE),
            level="danger",
        ),
        Queue(
            key="complaints.near",
            label=_("Complaints: reply due soon"),
            count=counts[Filters.NEAR],
            url=link("complaints:complaint_list", deadline=Filters.NEAR),
            level="warning",
            hint=ngettext(
                "At most %(n)d working day left", "At most %(n)d working days left", near
            ) % {"n": near},
        ),
        Queue(
            key="complaints.to_accept",
            label=_("Complaints to accept"),
            count=counts["registered"],
            url=link("complaints:complaint_list", status=ComplaintStatus.REGISTERED),
            level="warning",
            hint=_("Registered, not accepted or dismissed yet"),
        ),
        Queue(
            key="complaints.later",
            label=_("Complaints in hand"),
            count=counts[Filters.LATER],
            url=link("complaints:complaint_list", deadline=Filters.LATER),
            level="info",
            hint=ngettext(
                "More than %(n)d working day left", "More than %(n)d working days left", near
            ) % {"n": near},
        ),
    ]
