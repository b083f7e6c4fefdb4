"""External calibrations, metrological confirmation and correction factors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from equipment.models import (
    Calibration,
    CalibrationResult,
    ConfirmationConclusion,
    CorrectionTable,
    Equipment,
    EquipmentStatus,
    ImpactTrigger,
    StopReason,
)
from equipment.services.register import check_upload
from labqms import audit, permissions


def due_after(equipment: Equipment, calibrated_on: date) -> date:
    return calibrated_on + relativedelta(months=equipment.calibration_interval_months or 12)


def record_calibration(
    *,
    actor,
    equipment: Equipment,
    provider: str,
    certificate_no: str,
    calibrated_on: date,
    result: str,
    next_due: date | None = None,
    certificate_file=None,
    adjusted: bool = False,
    adjustment_notes: str = "",
) -> Calibration:
    """Record an external verification/calibration.  The next due date is the date the
    provider states, else calibration date + the equipment's interval.  A failed
    calibration takes the equipment out of service and opens an impact analysis."""
    granted = permissions.require(actor, "equipment.maintain")
    errors = {}
    if not provider.strip():
        errors["provider"] = _("Enter who calibrated it.")
    if not certificate_no.strip():
        errors["certificate_no"] = _("Enter the certificate number.")
    if calibrated_on is None:
        errors["calibrated_on"] = _("Enter the calibration date.")
    elif calibrated_on > timezone.localdate():
        errors["calibrated_on"] = _("The calibration date is in the future.")
    if result not in CalibrationResult.values:
        errors["result"] = _("Choose the result.")
    if next_due is not None and calibrated_on is not None and next_due <= calibrated_on:
        errors["next_due"] = _("The due date must be after the calibration date.")
    if adjusted and not adjustment_notes.strip():
        errors["adjustment_notes"] = _("Describe the adjustment (before and after).")
    if errors:
        raise ValidationError(errors)
    if certificate_file is not None:
        check_upload(certificate_file, "certificate_file")
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
        if equipment.calibrations.filter(certificate_no=certificate_no.strip(), calibrated_on=calibrated_on).exists():
            raise ValidationError({"certificate_no": _("This certificate is already recorded for this equipment.")})
        calibration = Calibration.objects.create(
            equipment=equipment,
            provider=provider.strip(),
            certificate_no=certificate_no.strip(),
            calibrated_on=calibrated_on,
            result=result,
            next_due=next_due or due_after(equipment, calibrated_on),
            due_stated_by_provider=next_due is not None,
            certificate_file=certificate_file or "",
            adjusted=adjusted,
            adjustment_notes=adjustment_notes,
            recorded_by=actor,
        )
        before = audit.snapshot(equipment, ["last_calibrated_on", "calibration_due", "last_certificate_no"])
        newest = equipment.calibrations.order_by("-calibrated_on", "-id").first()
        if newest == calibration:
            equipment.last_calibrated_on = calibration.calibrated_on
            equipment.calibration_due = calibration.next_due
            equipment.last_certificate_no = calibration.certificate_no
            equipment.calibrating_body = calibration.provider
            equipment.save()
        audit.record(
            actor=actor,
            action="equipment.calibration_recorded",
            target=equipment,
            changes={
                **audit.diff(before, audit.snapshot(equipment, ["last_calibrated_on", "calibration_due", "last_certificate_no"])),
                "result": [None, result],
            },
            as_deputy_of=granted.as_deputy_of,
        )
        if result == CalibrationResult.FAIL:
            from equipment.services.impact import open_analysis
            from equipment.services.status import _apply

            if equipment.status not in (EquipmentStatus.OUT_OF_SERVICE, EquipmentStatus.RETIRED):
                if equipment.status == EquipmentStatus.OFF_SITE:
                    equipment.status_before_off_site = EquipmentStatus.OUT_OF_SERVICE
                    equipment.save()
                else:
                    _apply(equipment, EquipmentStatus.OUT_OF_SERVICE, actor=actor, reason=StopReason.OUTSIDE_LIMITS,
                           note=_("Failed calibration %(no)s") % {"no": calibration.certificate_no})
            open_analysis(
                actor=actor, equipment=equipment, trigger=ImpactTrigger.FAILED_CALIBRATION,
                detail=_("Calibration %(no)s on %(date)s failed") % {"no": calibration.certificate_no, "date": calibrated_on},
                found_on=calibrated_on,
            )
    return calibration


def confirm_calibration(*, actor, calibration: Calibration, conclusion: str, notes: str = "") -> Calibration:
    """Metrological confirmation (计量确认) by a technician: is the result fit for the use?"""
    granted = permissions.require(actor, "equipment.maintain")
    if conclusion not in ConfirmationConclusion.values:
        raise ValidationError({"conclusion": _("Choose the conclusion.")})
    if conclusion != ConfirmationConclusion.FIT and not notes.strip():
        raise ValidationError({"notes": _("Explain the limitation or why it is not fit.")})
    with transaction.atomic():
        calibration = Calibration.objects.select_for_update().get(pk=calibration.pk)
        if calibration.confirmed_at:
            raise ValidationError(_("This calibration was already confirmed."))
        calibration.confirmation, calibration.confirmation_notes = conclusion, notes.strip()
        calibration.confirmed_by, calibration.confirmed_at = actor, timezone.now()
        calibration.save()
        audit.record(
            actor=actor, action="equipment.calibration_confirmed", target=calibration.equipment,
            changes={"confirmation": [None, conclusion], "certificate": [None, calibration.certificate_no]},
            reason=notes, as_deputy_of=granted.as_deputy_of,
        )
    return calibration


def approve_confirmation(*, actor, calibration: Calibration) -> Calibration:
    """The technical lead approves the confirmation; not the person who confirmed it."""
    granted = permissions.require(actor, "equipment.manage")
    with transaction.atomic():
        calibration = Calibration.objects.select_for_update().get(pk=calibration.pk)
        if not calibration.confirmed_at:
            raise ValidationError(_("The calibration must be confirmed before it is approved."))
        if calibration.approved_at:
            raise ValidationError(_("This confirmation was already approved."))
        if calibration.confirmed_by_id == actor.pk:
            raise ValidationError(_("The confirmation is approved by someone other than the person who made it."))
        calibration.approved_by, calibration.approved_at = actor, timezone.now()
        calibration.save()
        audit.record(
            actor=actor, action="equipment.confirmation_approved", target=calibration.equipment,
            changes={"certificate": [None, calibration.certificate_no]}, as_deputy_of=granted.as_deputy_of,
        )
    return calibration


def set_corrections(*, actor, calibration: Calibration, unit: str, points: list[dict]) -> CorrectionTable:
    """A new version of the correction factors; the previous one stops being in force
    (R-EQP-8).  Every point needs a nominal value and a correction."""
    granted = permissions.require(actor, "equipment.maintain")
    if not unit.strip():
        raise ValidationError({"unit": _("Enter the unit.")})
    if not points:
        raise ValidationError({"points": _("Enter at least one point.")})
    cleaned = []
    for index, point in enumerate(points, start=1):
        try:
            nominal = Decimal(str(point.get("nominal", "")).strip())
            correction = Decimal(str(point.get("correction", "")).strip())
        except InvalidOperation:
            raise ValidationError(
                {"points": _("Point %(n)s: enter both the nominal value and the correction as numbers.") % {"n": index}}
            ) from None
        if not (nominal.is_finite() and correction.is_finite()):
            raise ValidationError({"points": _("Point %(n)s is not a finite number.") % {"n": index}})
        cleaned.append({"nominal": str(nominal), "correction": str(correction)})
    nominals = [Decimal(p["nominal"]) for p in cleaned]  # by value: 100 and 100.0 are one point
    if len(set(nominals)) != len(nominals):
        raise ValidationError({"points": _("A nominal value appears twice.")})
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().get(pk=calibration.equipment_id)
        version = (equipment.corrections.aggregate(v=Max("version"))["v"] or 0) + 1
        equipment.corrections.filter(in_force=True).update(in_force=False, superseded_at=timezone.now())
        table = CorrectionTable.objects.create(
            equipment=equipment, calibration=calibration, version=version, unit=unit.strip(),
            points=cleaned, created_by=actor,
        )
        audit.record(
            actor=actor, action="equipment.corrections_set", target=equipment,
            changes={"corrections": [version - 1 or None, version]}, as_deputy_of=granted.as_deputy_of,
        )
    return table
