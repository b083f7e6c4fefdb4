"""The register: equipment data, attachments and measurement standards."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from equipment.models import Attachment, Equipment, MeasurementStandard
from equipment.models.register import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES
from labqms import audit, permissions

EQUIPMENT_FIELDS = (
    "lab_id", "name", "model", "manufacturer", "serial_number", "software_version", "kind",
    "location", "manual_location", "measuring_range", "accuracy", "calibrating_body",
    "acceptance_criteria", "custodian", "purchased_on", "commissioned_on", "needs_calibration",
    "calibration_interval_months",
)


def save_equipment(*, actor, data: dict, equipment: Equipment | None = None, reason: str = "") -> Equipment:
    """Register or change equipment; the audit event keeps old → new (R-EQP-2, R-EQP-9)."""
    granted = permissions.require(actor, "equipment.manage")
    creating = equipment is None
    with transaction.atomic():
        # Work on the row as it is now (locked), not on the copy the caller loaded earlier:
        # a status change or calibration committed meanwhile is neither lost nor misreported.
        equipment = Equipment() if creating else Equipment.objects.select_for_update().get(pk=equipment.pk)
        before = {} if creating else audit.snapshot(equipment, EQUIPMENT_FIELDS)
        for name in EQUIPMENT_FIELDS:
            if name in data:
                setattr(equipment, name, data[name])
        if equipment.needs_calibration and not equipment.calibration_interval_months:
            raise ValidationError({"calibration_interval_months": _("Equipment that needs calibration needs an interval of at least 1 month.")})
        if equipment.purchased_on and equipment.commissioned_on and equipment.commissioned_on < equipment.purchased_on:
            raise ValidationError({"commissioned_on": _("Commissioned before it was purchased.")})
        equipment.full_clean()
        if creating:
            equipment.save()
        else:
            equipment.save(update_fields=[name for name in EQUIPMENT_FIELDS if name in data])
        changes = audit.diff(before, audit.snapshot(equipment, EQUIPMENT_FIELDS))
        if changes:
            audit.record(
                actor=actor,
                action="equipment.registered" if creating else "equipment.updated",
                target=equipment,
                changes=changes,
                reason=reason,
                as_deputy_of=granted.as_deputy_of,
            )
    return equipment


def check_upload(upload, field: str = "file") -> str:
    """PDF or image, at most 10 MB, and the content must match the extension.
    Returns the SHA-256 of the content."""
    if upload is None:
        raise ValidationError({field: _("Choose a file.")})
    suffix = Path(upload.name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError({field: _("Only PDF, PNG or JPEG files are accepted.")})
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({field: _("The file is larger than 10 MB.")})
    head = upload.read(8)
    upload.seek(0)
    magic_ok = {
        ".pdf": head.startswith(b"%PDF"),
        ".png": head.startswith(b"\x89PNG"),
        ".jpg": head.startswith(b"\xff\xd8"),
        ".jpeg": head.startswith(b"\xff\xd8"),
    }[suffix]
    if not magic_ok:
        raise ValidationError({field: _("The file's content is not a %(kind)s.") % {"kind": suffix[1:].upper()}})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def add_attachment(*, actor, equipment: Equipment, title: str, upload) -> Attachment:
    granted = permissions.require(actor, "equipment.maintain")
    if not title.strip():
        raise ValidationError({"title": _("Give the attachment a title.")})
    sha = check_upload(upload)
    with transaction.atomic():
        attachment = Attachment.objects.create(
            equipment=equipment, title=title.strip(), file=upload, sha256=sha, uploaded_by=actor
        )
        audit.record(
            actor=actor, action="equipment.attachment_added", target=equipment,
            changes={"attachment": [None, f"{attachment.title} ({sha[:12]})"]}, as_deputy_of=granted.as_deputy_of,
        )
    return attachment


def save_standard(*, actor, data: dict, members: list[Equipment], standard: MeasurementStandard | None = None) -> MeasurementStandard:
    granted = permissions.require(actor, "equipment.manage")
    creating = standard is None
    standard = standard or MeasurementStandard()
    fields = ("name", "certificate_no", "measurand", "valid_from", "valid_until")
    before = {} if creating else {**audit.snapshot(standard, fields), "members": sorted(str(e) for e in standard.members.all())}
    for name in fields:
        if name in data:
            setattr(standard, name, data[name])
    if standard.valid_until and standard.valid_from and standard.valid_until < standard.valid_from:
        raise ValidationError({"valid_until": _("The end date is before the start date.")})
    standard.full_clean()
    with transaction.atomic():
        standard.save()
        standard.members.set(members)
        after = {**audit.snapshot(standard, fields), "members": sorted(str(e) for e in members)}
        changes = audit.diff(before, after)
        if changes:
            audit.record(
                actor=actor, action="standard.created" if creating else "standard.updated", target=standard,
                changes=changes, as_deputy_of=granted.as_deputy_of,
            )
    return standard
