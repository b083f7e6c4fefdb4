"""Instrument categories and the authorised scope: kept by the technical lead."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import AuthorisedScope, InstrumentCategory, Service
from labqms import audit, permissions

CATEGORY_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "compulsory",
    "catalogue_entry",
    "default_service",
    "method_code",
    "method_title",
    "verification_period_months",
    "turnaround_days",
    "standard_fee",
    "is_active",
)


def save_category(*, actor, data: dict, category: InstrumentCategory | None = None) -> InstrumentCategory:
    """Create or change a category; the audit event keeps the old values."""
    granted = permissions.require(actor, "intake.manage_catalogue")
    creating = category is None
    category = category or InstrumentCategory()
    before = {} if creating else audit.snapshot(category, CATEGORY_FIELDS)
    for name in CATEGORY_FIELDS:
        if name in data:
            setattr(category, name, data[name])
    if category.standard_fee is not None:
        # "120" and "120.00" are the same fee; compare them as stored.
        category.standard_fee = Decimal(str(category.standard_fee)).quantize(Decimal("0.01"))
    if category.compulsory and category.default_service != Service.VERIFICATION:
        raise ValidationError(
            {"default_service": _("An instrument under compulsory verification is verified by default.")}
        )
    category.full_clean()
    with transaction.atomic():
        category.save()
        changes = audit.diff(before, audit.snapshot(category, CATEGORY_FIELDS))
        if changes:
            audit.record(
                actor=actor,
                action="category.created" if creating else "category.updated",
                target=category,
                changes=changes,
                as_deputy_of=granted.as_deputy_of,
            )
    return category


def grant_scope(
    *, actor, category: InstrumentCategory, service: str, certificate_no: str, valid_from, valid_until=None, note: str = ""
) -> AuthorisedScope:
    granted = permissions.require(actor, "intake.manage_catalogue")
    scope = AuthorisedScope(
        category=category,
        service=service,
        certificate_no=certificate_no.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        note=note,
    )
    if valid_until and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end date is before the start date.")})
    scope.full_clean()
    with transaction.atomic():
        scope.save()
        audit.record(
            actor=actor,
            action="scope.granted",
            target=scope,
            changes=audit.diff({}, audit.snapshot(scope, ["category", "service", "certificate_no", "valid_from", "valid_until"])),
            as_deputy_of=granted.as_deputy_of,
        )
    return scope


def end_scope(*, actor, scope: AuthorisedScope, last_day, reason: str) -> AuthorisedScope:
    """The authorisation ends (withdrawn or expired early); the row stays for history."""
    granted = permissions.require(actor, "intake.manage_catalogue")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the scope ends.")})
    last_day = last_day or timezone.localdate()
    with transaction.atomic():
        scope = AuthorisedScope.objects.select_for_update().get(pk=scope.pk)
        if last_day < scope.valid_from:
            raise ValidationError({"last_day": _("The end date is before the start date.")})
        if scope.valid_until is not None and last_day > scope.valid_until:
            # Ending a scope never lengthens it; a longer authorisation is a new scope row.
            raise ValidationError({"last_day": _("The scope already ends on %(date)s; ending it cannot extend it.")
                                   % {"date": scope.valid_until.isoformat()}})
        before = scope.valid_until
        scope.valid_until = last_day
        scope.save(update_fields=["valid_until"])
        audit.record(
            actor=actor,
            action="scope.ended",
            target=scope,
            changes={"valid_until": [before.isoformat() if before else None, last_day.isoformat()]},
            reason=reason,
            as_deputy_of=granted.as_deputy_of,
        )
    return scope
