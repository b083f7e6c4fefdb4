"""Intermediate checks (期间核查, R-EQP-7), maintenance and the incident log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from equipment.models import (
    CheckPlan,
    CriterionKind,
    Equipment,
    EquipmentStatus,
    ImpactTrigger,
    IntermediateCheck,
    LogEntry,
    LogKind,
    MaintenancePlan,
    StopReason,
)
from labqms import audit, permissions


def save_check_plan(*, actor, equipment: Equipment, interval_months: int, method: str, criterion: str,
                    tolerance=None, unit: str = "", first_due: date | None = None) -> CheckPlan:
    granted = permissions.require(actor, "equipment.manage")
    errors = {}
    if tolerance not in (None, ""):
        try:
            tolerance = Decimal(str(tolerance))
        except InvalidOperation:
            raise ValidationError({"tolerance": _("The tolerance must be a number.")}) from None
        if not tolerance.is_finite():
            raise ValidationError({"tolerance": _("The tolerance must be a number.")})
    else:
        tolerance = None
    if not interval_months or interval_months < 1:
        errors["interval_months"] = _("The interval must be at least 1 month.")
    if not method.strip():
        errors["method"] = _("Describe the check method.")
    if criterion not in CriterionKind.values:
        errors["criterion"] = _("Choose the acceptance criterion.")
    if criterion == CriterionKind.TOLERANCE and (tolerance is None or tolerance <= 0):
        errors["tolerance"] = _("A tolerance criterion needs a positive tolerance.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = CheckPlan.objects.create(
            equipment=equipment, interval_months=interval_months, method=method.strip(), criterion=criterion,
            tolerance=tolerance, unit=unit, next_due=first_due or timezone.localdate() + relativedelta(months=interval_months),
        )
        audit.record(actor=actor, action="equipment.check_planned", target=equipment,
                     changes={"check_plan": [None, str(plan)]}, as_deputy_of=granted.as_deputy_of)
    return plan


def score(plan: CheckPlan, measured: Decimal, reference: Decimal, u_measured, u_reference) -> tuple[Decimal, bool]:
    """``En = (x − X) / √(U_lab² + U_ref²)`` with |En| ≤ 1, or the deviation against the
    tolerance."""
    deviation = measured - reference
    if plan.criterion == CriterionKind.EN:
        if not u_measured or not u_reference or u_measured <= 0 or u_reference <= 0:
            raise ValidationError({"u_measured": _("The En criterion needs both expanded uncertainties.")})
        en = deviation / (u_measured**2 + u_reference**2).sqrt()
        return en.quantize(Decimal("0.0001")), abs(en) <= 1
    return deviation, abs(deviation) <= plan.tolerance


def record_check(*, actor, plan: CheckPlan, checked_on: date, measured, reference, u_measured=None,
                 u_reference=None, notes: str = "") -> IntermediateCheck:
    """Record a check.  A failed check takes the equipment out of service and opens an
    impact analysis."""
    granted = permissions.require(actor, "equipment.maintain")
    try:
        values = [None if v in (None, "") else Decimal(str(v)) for v in (measured, reference, u_measured, u_reference)]
    except InvalidOperation:
        raise ValidationError({"measured": _("Enter the values as numbers.")}) from None
    measured, reference, u_measured, u_reference = values
    if measured is None or reference is None:
        raise ValidationError({"measured": _("Enter the measured and the reference value.")})
    if checked_on is None or checked_on > timezone.localdate():
        raise ValidationError({"checked_on": _("Enter the date of the check (not in the future).")})
    value, passed = score(plan, measured, reference, u_measured, u_reference)
    if not passed and not notes.strip():
        notes = _("Failed: %(value)s") % {"value": value}
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().get(pk=plan.equipment_id)
        check = IntermediateCheck.objects.create(
            plan=plan, equipment=equipment, checked_on=checked_on, measured=measured, reference=reference,
            u_measured=u_measured, u_reference=u_reference, score=value, passed=passed, notes=notes, performed_by=actor,
        )
        plan.next_due = checked_on + relativedelta(months=plan.interval_months)
        plan.save(update_fields=["next_due"])
        audit.record(actor=actor, action="equipment.check_recorded", target=equipment,
                     changes={"check": [None, f"{checked_on} {value} {'OK' if passed else 'FAIL'}"]},
                     as_deputy_of=granted.as_deputy_of)
        if not passed:
            from equipment.services.impact import open_analysis
            from equipment.services.status import _apply

            if equipment.status == EquipmentStatus.OFF_SITE:  # the return check then stops it
                equipment.status_before_off_site = EquipmentStatus.OUT_OF_SERVICE
                equipment.save()
            elif equipment.status not in (EquipmentStatus.OUT_OF_SERVICE, EquipmentStatus.RETIRED):
                _apply(equipment, EquipmentStatus.OUT_OF_SERVICE, actor=actor, reason=StopReason.OUTSIDE_LIMITS,
                       note=_("Failed intermediate check on %(date)s") % {"date": checked_on})
            open_analysis(actor=actor, equipment=equipment, trigger=ImpactTrigger.FAILED_CHECK,
                          detail=_("Intermediate check on %(date)s: %(value)s") % {"date": checked_on, "value": value},
                          found_on=checked_on)
    return check


def save_maintenance_plan(*, actor, equipment: Equipment, task: str, interval_months: int) -> MaintenancePlan:
    """A maintenance task and how often it is due (R-EQP-2 maintenance plan)."""
    granted = permissions.require(actor, "equipment.manage")
    errors = {}
    if not task.strip():
        errors["task"] = _("Describe the maintenance task.")
    if not interval_months or interval_months < 1:
        errors["interval_months"] = _("The interval must be at least 1 month.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = MaintenancePlan.objects.create(equipment=equipment, task=task.strip(), interval_months=interval_months)
        audit.record(actor=actor, action="equipment.maintenance_planned", target=equipment,
                     changes={"maintenance_plan": [None, f"{plan.task} / {interval_months}"]},
                     as_deputy_of=granted.as_deputy_of)
    return plan


def log_event(*, actor, equipment: Equipment, kind: str, occurred_on: date, description: str,
              action_taken: str = "", plan=None) -> LogEntry:
    """Maintenance done, or damage / malfunction / modification / repair (R-EQP-2)."""
    granted = permissions.require(actor, "equipment.maintain")
    errors = {}
    if kind not in LogKind.values:
        errors["kind"] = _("Choose the kind.")
    if occurred_on is None or occurred_on > timezone.localdate():
        errors["occurred_on"] = _("Enter the date (not in the future).")
    if not description.strip():
        errors["description"] = _("Describe what happened or was done.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        entry = LogEntry.objects.create(equipment=equipment, kind=kind, occurred_on=occurred_on,
                                        description=description.strip(), action_taken=action_taken.strip(),
                                        plan=plan, recorded_by=actor)
        audit.record(actor=actor, action="equipment.logged", target=equipment,
                     changes={"log": [None, f"{entry.get_kind_display()} {occurred_on}"]},
                     as_deputy_of=granted.as_deputy_of)
    return entry
