"""Check-out for on-site work or external calibration, and the return check
(R-ONS-2, R-ONS-5, R-EQP-6)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from equipment.models import CheckOut, CheckOutPurpose, Equipment, EquipmentStatus, StopReason
from equipment.services.status import _apply
from labqms import audit, permissions


def check_out(*, actor, equipment: Equipment, purpose: str, destination: str, condition_ok: bool,
              packed_ok: bool, notes: str = "", visit=None) -> CheckOut:
    """Before leaving: checked, in good condition and packed (R-ONS-2).  Status: off site."""
    granted = permissions.require(actor, "equipment.maintain")
    errors = {}
    if purpose not in CheckOutPurpose.values:
        errors["purpose"] = _("Choose the purpose.")
    if not destination.strip():
        errors["destination"] = _("Enter where it goes.")
    if not condition_ok:
        errors["condition_ok"] = _("Equipment leaves only after the check before leaving passed.")
    if not packed_ok and purpose == CheckOutPurpose.ON_SITE:
        errors["packed_ok"] = _("Pack it against shock, heat and humidity before it leaves.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
        if equipment.checkouts.filter(returned_at__isnull=True).exists():
            raise ValidationError(_("This equipment is already checked out."))
        if purpose == CheckOutPurpose.ON_SITE and equipment.status not in (EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED):
            raise ValidationError(_("Only equipment in service goes out for on-site work."))
        _apply(equipment, EquipmentStatus.OFF_SITE, actor=actor, note=destination, decision=granted)
        checkout = CheckOut.objects.create(
            equipment=equipment, purpose=purpose, destination=destination.strip(), visit=visit,
            condition_ok=condition_ok, packed_ok=packed_ok, out_notes=notes, out_by=actor,
        )
    return checkout


def check_in(*, actor, checkout: CheckOut, count_ok: bool, function_ok: bool, calibration_ok: bool,
             notes: str = "") -> CheckOut:
    """The return check (R-EQP-6, R-ONS-5): counted, function and calibration status.
    All good → back to its status before leaving; otherwise out of service."""
    granted = permissions.require(actor, "equipment.maintain")
    if not (count_ok and function_ok and calibration_ok) and not notes.strip():
        raise ValidationError({"notes": _("Describe what failed in the return check.")})
    with transaction.atomic():
        checkout = CheckOut.objects.select_for_update().get(pk=checkout.pk)
        if checkout.returned_at:
            raise ValidationError(_("This check-out was already returned."))
        equipment = Equipment.objects.select_for_update().get(pk=checkout.equipment_id)
        checkout.returned_at, checkout.returned_by = timezone.now(), actor
        checkout.count_ok, checkout.function_ok, checkout.calibration_ok = count_ok, function_ok, calibration_ok
        checkout.return_notes = notes.strip()
        checkout.save()
        overdue = equipment.is_overdue(timezone.localdate())
        if overdue and count_ok and function_ok:
            # Back, but its calibration has run out while away: no green label (R-EQP-5).
            _apply(equipment, EquipmentStatus.OUT_OF_SERVICE, actor=actor, reason=StopReason.OVERDUE,
                   note=notes.strip() or _("Returned with its calibration overdue"), via_return=True, decision=granted)
        elif count_ok and function_ok and calibration_ok and equipment.status_before_off_site in (
            EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED
        ):
            target = equipment.status_before_off_site
            _apply(equipment, target, actor=actor, note=equipment.status_note if target == EquipmentStatus.RESTRICTED else "",
                   via_return=True, decision=granted)
        else:
            _apply(equipment, EquipmentStatus.OUT_OF_SERVICE, actor=actor,
                   reason=StopReason.DEFECTIVE if not function_ok else StopReason.OTHER,
                   note=notes.strip() or _("Returned; waiting for the technical lead's decision"), via_return=True,
                   decision=granted)
        audit.record(actor=actor, action="equipment.returned", target=equipment,
                     changes={"return_check": [None, f"count={count_ok} function={function_ok} calibration={calibration_ok}"]},
                     reason=notes, as_deputy_of=granted.as_deputy_of)
    return checkout
