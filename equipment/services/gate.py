"""The usage gate [Records] calls before equipment appears in a record (R-EQP-10,
R-EQP-11), and the usage snapshot it stores.

The lab's rule on the boundary: equipment may be used ON its due date and is overdue
from the day after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from equipment.models import Equipment, EquipmentStatus, EquipmentUse, MeasurementStandard
from equipment.models.register import UNUSABLE
from labqms import permissions


@dataclass(frozen=True)
class Usable:
    """What a record stores about the equipment it used."""

    snapshot: dict


def check_usable(equipment, on: date, user) -> Usable:
    """Refuses (``ValidationError`` with the reason) when on ``on`` the equipment is
    overdue, out of service / off site / under repair / retired, an open check-out has
    not passed its return check, its measurement-standard certificate has expired, or
    ``user`` holds no valid authorisation to operate it.  Otherwise returns the snapshot."""
    label = str(equipment)
    if equipment.status in UNUSABLE:
        raise ValidationError(
            _("%(eq)s is “%(status)s” and cannot be used.") % {"eq": label, "status": equipment.get_status_display()}
        )
    if equipment.checkouts.filter(returned_at__isnull=True).exists():
        raise ValidationError(_("%(eq)s is checked out and has not passed its return check.") % {"eq": label})
    if equipment.needs_calibration:
        if equipment.calibration_due is None:
            raise ValidationError(_("%(eq)s has no valid calibration on record.") % {"eq": label})
        if equipment.calibration_due < on:
            raise ValidationError(
                _("%(eq)s was due for calibration on %(due)s: overdue on %(day)s.")
                % {"eq": label, "due": equipment.calibration_due.isoformat(), "day": on.isoformat()}
            )
    expired = [
        s for s in equipment.standards.all() if not s.is_valid_on(on)
    ]
    if expired:
        raise ValidationError(
            _("The measurement-standard certificate %(cert)s is not valid on %(day)s.")
            % {"cert": expired[0].certificate_no, "day": on.isoformat()}
        )
    decision = permissions.check(user, "equipment.operate", equipment, on=on)
    if not decision:
        raise ValidationError(_("%(user)s may not operate %(eq)s: %(why)s") % {"user": user, "eq": label, "why": decision.reason})
    return Usable(
        snapshot={
            "lab_id": equipment.lab_id,
            "name": equipment.name,
            "status": equipment.status,
            "status_note": equipment.status_note,
            "calibration_due": equipment.calibration_due.isoformat() if equipment.calibration_due else None,
            "last_calibrated_on": equipment.last_calibrated_on.isoformat() if equipment.last_calibrated_on else None,
            "certificate_no": equipment.last_certificate_no,
            "standards": [f"{s.name} {s.certificate_no}" for s in equipment.standards.all()],
            "restricted": equipment.status == EquipmentStatus.RESTRICTED,
        }
    )


def record_use(*, equipment, on: date, user, record, record_label: str, certificate_label: str = "") -> EquipmentUse:
    """Check the gate and store the snapshot linked to ``record`` (any model).  The
    equipment row is locked, so a stop recorded at the same moment either comes first
    (and the use is refused) or after (and its impact analysis lists this use)."""
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
        usable = check_usable(equipment, on, user)
        return _store_use(equipment, on, user, record, record_label, certificate_label, usable)


def _store_use(equipment, on, user, record, record_label, certificate_label, usable) -> EquipmentUse:
    return EquipmentUse.objects.create(
        equipment=equipment,
        used_on=on,
        used_by=user,
        record_type=ContentType.objects.get_for_model(record),
        record_id=str(record.pk),
        record_label=record_label,
        certificate_label=certificate_label,
        snapshot=usable.snapshot,
    )


__all__ = ["MeasurementStandard", "Usable", "check_usable", "record_use"]
