"""Equipment status changes through the transitions table (R-EQP-4)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from equipment.models import Equipment, EquipmentStatus, StopReason
from equipment.models.register import STATUS_TRANSITIONS
from labqms import audit, permissions

USABLE = (EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED)


def _apply(equipment: Equipment, target: str, *, actor, reason: str = "", note: str = "", via_return: bool = False, decision=None) -> None:
    """Move ``equipment`` (locked by the caller) to ``target`` and audit it."""
    current = equipment.status
    if target not in STATUS_TRANSITIONS[current]:
        raise ValidationError(
            _("Equipment that is “%(from)s” cannot become “%(to)s”.")
            % {"from": equipment.get_status_display(), "to": EquipmentStatus(target).label}
        )
    # Any way out of OFF_SITE but the return check would let the return check later
    # restore the status before leaving over a stop decided meanwhile.
    if current == EquipmentStatus.OFF_SITE and not via_return:
        raise ValidationError(_("Equipment that was off site comes back through the return check (function and calibration status)."))
    if target == EquipmentStatus.OUT_OF_SERVICE and not reason:
        raise ValidationError({"reason": _("Give the reason for taking it out of service.")})
    if target == EquipmentStatus.RESTRICTED and not note.strip():
        raise ValidationError({"note": _("State the limitation of restricted use.")})
    before = {"status": current, "stop_reason": equipment.stop_reason, "status_note": equipment.status_note}
    if target == EquipmentStatus.OFF_SITE:
        equipment.status_before_off_site = current
    equipment.status = target
    equipment.stop_reason = reason if target == EquipmentStatus.OUT_OF_SERVICE else ""
    if target != EquipmentStatus.OFF_SITE:  # the destination is on the check-out; keep the limitation
        equipment.status_note = note.strip()
    equipment.status_changed_at = timezone.now()
    equipment.save()
    audit.record(
        actor=actor,
        action="equipment.status_changed",
        target=equipment,
        changes=audit.diff(before, {"status": target, "stop_reason": equipment.stop_reason, "status_note": equipment.status_note}),
        reason=note,
        as_deputy_of=getattr(decision, "as_deputy_of", None),
    )


def change_status(*, actor, equipment: Equipment, status: str, reason: str = "", note: str = "") -> Equipment:
    """Anyone who maintains equipment may stop it; only the technical lead decides that
    it may be used again (in service / restricted) or retires it."""
    if status not in EquipmentStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if reason and reason not in StopReason.values:
        raise ValidationError({"reason": _("Unknown reason.")})
    lead_only = status in USABLE or status == EquipmentStatus.RETIRED
    decision = permissions.require(actor, "equipment.manage" if lead_only else "equipment.maintain")
    if status == EquipmentStatus.OFF_SITE:
        raise ValidationError(_("Equipment leaves the lab through a check-out."))
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
        if status in USABLE and equipment.status not in USABLE and equipment.is_overdue(timezone.localdate()):
            # A green label on overdue equipment would contradict the gate (R-EQP-5, R-EQP-10).
            raise ValidationError(
                _("%(eq)s has no valid calibration: record the calibration before returning it to use.")
                % {"eq": equipment}
            )
        _apply(equipment, status, actor=actor, reason=reason, note=note, decision=decision)
        if status == EquipmentStatus.OUT_OF_SERVICE and reason == StopReason.SUSPECT:
            from equipment.models import ImpactTrigger
            from equipment.services.impact import open_analysis

            open_analysis(actor=actor, equipment=equipment, trigger=ImpactTrigger.SUSPECT,
                          detail=note.strip() or str(StopReason.SUSPECT.label), found_on=timezone.localdate())
    return equipment
