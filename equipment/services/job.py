"""The daily recalibration job: equipment overdue or due within N days, and standard
certificates about to expire.  Notifies the technical leads and the custodian once per
item per state (the ``Alert`` rows are its memory), with a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from equipment.models import Alert, AlertState, Equipment, EquipmentStatus, MeasurementStandard
from labqms import notify
from labqms.models import Role, User

# The Alert date of equipment that needs calibration and has none on record.
NEVER = date(1900, 1, 1)


@dataclass
class JobResult:
    overdue: int
    due_soon: int
    standards_expiring: int
    notifications: int


def due_window(today: date, days: int | None = None) -> date:
    return today + timedelta(days=days if days is not None else settings.EQUIPMENT_DUE_SOON_DAYS)


def run(today: date, days: int | None = None) -> JobResult:
    horizon = due_window(today, days)
    with transaction.atomic():
        equipment = list(
            Equipment.objects.filter(needs_calibration=True)
            .filter(Q(calibration_due__lte=horizon) | Q(calibration_due__isnull=True))
            .exclude(status=EquipmentStatus.RETIRED)
            .select_related("custodian")
        )
        # Expired certificates are flagged too (once), not only those about to expire.
        standards = list(MeasurementStandard.objects.filter(valid_until__lte=horizon))
        wanted = []
        for item in equipment:
            if item.calibration_due is None:  # needs calibration, none on record: overdue
                wanted.append(Alert(equipment=item, state=AlertState.OVERDUE, due=NEVER))
                continue
            state = AlertState.OVERDUE if item.calibration_due < today else AlertState.DUE_SOON
            wanted.append(Alert(equipment=item, state=state, due=item.calibration_due))
        wanted += [
            Alert(
                standard=s,
                state=AlertState.STANDARD_EXPIRED if s.valid_until < today else AlertState.STANDARD_EXPIRING,
                due=s.valid_until,
            )
            for s in standards
        ]
        seen = set(
            Alert.objects.filter(
                Q(equipment__in=[a.equipment for a in wanted if a.equipment]) | Q(standard__in=standards)
            ).values_list("equipment_id", "standard_id", "state", "due")
        )
        new = [a for a in wanted if (a.equipment_id, a.standard_id, a.state, a.due) not in seen]
        Alert.objects.bulk_create(new)
        leads = list(User.objects.filter(is_active=True, groups__name=Role.TECHNICAL_LEAD).distinct())
        messages = []
        for alert in new:
            if alert.equipment is not None:
                target, url = alert.equipment, reverse("equipment:equipment_detail", args=[alert.equipment.pk])
                recipients = {*leads, alert.equipment.custodian} - {None}
            else:
                target, url = alert.standard, reverse("equipment:due_list")
                recipients = set(leads)
            if alert.due == NEVER:
                subject = _("%(state)s: %(item)s (no calibration on record)") % {
                    "state": AlertState(alert.state).label, "item": target,
                }
            else:
                subject = _("%(state)s: %(item)s (due %(due)s)") % {
                    "state": AlertState(alert.state).label, "item": target, "due": alert.due.isoformat(),
                }
            messages += [notify.Message(r, subject, "", url) for r in sorted(recipients, key=lambda u: u.pk)]
        notify.notify(messages)
    return JobResult(
        overdue=sum(1 for a in wanted if a.state == AlertState.OVERDUE),
        due_soon=sum(1 for a in wanted if a.state == AlertState.DUE_SOON),
        standards_expiring=sum(1 for a in wanted if a.standard is not None),
        notifications=len(messages),
    )
