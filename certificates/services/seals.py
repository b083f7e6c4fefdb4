"""The lab's seals (R-CRT-7): kind, name, custodian, image, in use or not.

Only the technical lead (``records.manage_methods``) registers or changes a seal.  The
image is applied to a certificate at issue only (``services.certificates.issue``, which
takes the seal in use for the certificate's kind and writes the usage log), so:

* the image must be a real PNG of at most 1 MB (checked on the bytes, not the name);
* a seal in use has an image, and at most one seal of each kind is in use — otherwise
  which image lands on a certificate would depend on the sort order;
* once applied, a seal keeps its kind and name (the usage log shows them).

A replaced image is not deleted: certificates issued with it keep it in their PDFs.
"""

from __future__ import annotations

import struct
import zlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from certificates.models import Seal, SealKind
from labqms import audit, permissions
from labqms.selectors.people import staff_users

MANAGE = "records.manage_methods"
MAX_IMAGE_BYTES = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AUDITED = ("kind", "name", "custodian", "is_active", "image")


def _is_png(data: bytes) -> bool:
    """The signature, an IHDR first, every chunk's CRC right, and IEND at the end."""
    if not data.startswith(PNG_SIGNATURE):
        return False
    position, first = len(PNG_SIGNATURE), True
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        end = position + 12 + length
        if end > len(data):
            return False
        body = data[position + 4:end - 4]
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(body) & 0xFFFFFFFF != crc or (first and (kind != b"IHDR" or length != 13)):
            return False
        if kind == b"IEND":
            return True
        position, first = end, False
    return False


def check_png(upload, field: str = "image") -> None:
    """Refuse anything but a PNG of at most 1 MB (``ValidationError`` on ``field``)."""
    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise ValidationError({field: _("The seal image is larger than 1 MB; save it smaller and upload it again.")})
    upload.seek(0)
    data = upload.read(MAX_IMAGE_BYTES + 1)
    upload.seek(0)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError({field: _("The seal image is larger than 1 MB; save it smaller and upload it again.")})
    if not _is_png(data):
        raise ValidationError({field: _("The seal image must be a PNG file (a scan saved as .png).")})


def _check(seal: Seal, custodian, has_image: bool) -> None:
    errors = {}
    if seal.kind not in SealKind.values:
        errors["kind"] = _("Choose the kind of seal.")
    if not seal.name:
        errors["name"] = _("Enter the seal's name as engraved.")
    if custodian is None or not custodian.is_active or not staff_users().filter(pk=custodian.pk).exists():
        errors["custodian"] = _("The custodian must be an active member of staff.")
    if seal.is_active and not has_image:
        errors["image"] = _("A seal in use needs its image: upload a PNG of the seal.")
    if errors:
        raise ValidationError(errors)
    if seal.is_active:
        other = Seal.objects.select_for_update().filter(kind=seal.kind, is_active=True).exclude(pk=seal.pk).first()
        if other is not None:
            raise ValidationError(
                {"is_active": _("“%(other)s” is the %(kind)s in use; take it out of use first.")
                 % {"other": other.name, "kind": seal.get_kind_display()}}
            )


def _save(actor, seal: Seal, *, kind: str, name: str, custodian, is_active: bool, image) -> Seal:
    decision = permissions.require(actor, MANAGE)
    if image is not None:
        check_png(image)
    creating = seal.pk is None
    with transaction.atomic():
        if not creating:
            seal = Seal.objects.select_for_update().get(pk=seal.pk)
        before = {} if creating else audit.snapshot(seal, AUDITED)
        name = (name or "").strip()
        if not creating and (kind, name) != (seal.kind, seal.name) and seal.uses.exists():
            # The usage log names the seal: what was applied must stay what it says.
            raise ValidationError(
                _("“%(name)s” has been applied to certificates; its kind and name stay as they were. Register a new seal instead.")
                % {"name": seal.name}
            )
        seal.kind, seal.name, seal.is_active = kind, name, bool(is_active)
        seal.custodian = custodian
        _check(seal, custodian, has_image=image is not None or bool(seal.image))
        if image is not None:
            # Stored under a plain name, whatever the uploaded file was called.
            seal.image.save(f"{seal.kind}.png", image, save=False)
        seal.save()
        changes = audit.diff(before, audit.snapshot(seal, AUDITED))
        if changes:
            audit.record(
                actor=actor, action="seal.created" if creating else "seal.updated", target=seal,
                changes=changes, as_deputy_of=decision.as_deputy_of,
            )
    return seal


def create_seal(*, actor, kind: str, name: str, custodian, is_active: bool = True, image=None) -> Seal:
    """Register a seal with its custodian; ``image`` is an uploaded PNG (required when in use)."""
    return _save(actor, Seal(), kind=kind, name=name, custodian=custodian, is_active=is_active, image=image)


def update_seal(*, actor, seal: Seal, kind: str, name: str, custodian, is_active: bool, image=None) -> Seal:
    """Change a seal; ``image=None`` keeps the current image.  Past uses stay as logged."""
    return _save(actor, seal, kind=kind, name=name, custodian=custodian, is_active=is_active, image=image)
