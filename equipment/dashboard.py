"""The technical lead's equipment queues on the home page (R-MGT-4): calibration
overdue, calibration due soon, and impact analyses still open.

Overdue and due soon are counted in one query with the conditions the equipment list
filters by (``equipment.selectors.overdue_q`` / ``due_soon_q``); see
``labqms.dashboard``."""

from __future__ import annotations

from datetime import date

from django.db.models import Count
from django.utils.translation import gettext as _

from equipment import selectors
from equipment.models import Equipment, ImpactAnalysis, ImpactStatus
from labqms.dashboard import Queue, link

# Everyone on the staff may read the lists; deciding about equipment is the technical lead's.
ACTIONS = ("equipment.view", "equipment.manage")


def queues(user, today: date, *, allowed) -> list[Queue]:
    if not (allowed["equipment.view"] and allowed["equipment.manage"]):
        return []
    counts = Equipment.objects.aggregate(
        overdue=Count("pk", filter=selectors.overdue_q(today)),
        due_soon=Count("pk", filter=selectors.due_soon_q(today)),
    )
    open_analyses = ImpactAnalysis.objects.filter(status=ImpactStatus.OPEN).count()
    return [
        Queue(
            key="equipment.overdue",
            label=_("Equipment overdue for calibration"),
            count=counts["overdue"],
            url=link("equipment:equipment_list", overdue="on", sort="due"),
            level="danger",
            hint=_("Past its calibration due date, or never calibrated"),
        ),
        Queue(
            key="equipment.impact_open",
            label=_("Open impact analyses"),
            count=open_analyses,
            url=link("equipment:impact_list", status=ImpactStatus.OPEN),
            level="warning",
        ),
        Queue(
            key="equipment.due_soon",
            label=_("Equipment due for calibration soon"),
            count=counts["due_soon"],
            url=link("equipment:equipment_list", due_soon="on", sort="due"),
            level="info",
            hint=_("Due within %(days)d days") % {"days": selectors.due_soon_days()},
        ),
    ]
