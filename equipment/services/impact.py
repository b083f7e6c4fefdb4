"""Impact analysis: every use of the equipment since its last good calibration or
check, a decision per item by the technical lead, and the nonconformity for the
quality lead (R-EQP-4, ISO/IEC 17025 7.7/7.10)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from equipment.models import (
    CalibrationResult,
    Equipment,
    EquipmentUse,
    ImpactAnalysis,
    ImpactDecision,
    ImpactItem,
    ImpactStatus,
)
from labqms import audit, notify, permissions
from labqms.models import Role, User


def last_good_date(equipment: Equipment, before: date) -> date | None:
    """The latest passed calibration or intermediate check strictly before ``before``."""
    calibration = (
        equipment.calibrations.filter(calibrated_on__lt=before)
        .exclude(result=CalibrationResult.FAIL)
        .order_by("-calibrated_on")
        .values_list("calibrated_on", flat=True)
        .first()
    )
    check = (
        equipment.intermediate_checks.filter(checked_on__lt=before, passed=True)
        .order_by("-checked_on")
        .values_list("checked_on", flat=True)
        .first()
    )
    dates = [d for d in (calibration, check) if d]
    return max(dates) if dates else None


def affected_uses(equipment: Equipment, since: date | None, until: date):
    """Uses on or after the last good date up to the day the problem was found."""
    uses = EquipmentUse.objects.filter(equipment=equipment, used_on__lte=until)
    if since is not None:
        uses = uses.filter(used_on__gte=since)
    return uses.order_by("used_on", "id")


def open_analysis(*, actor, equipment: Equipment, trigger: str, detail: str, found_on: date) -> ImpactAnalysis:
    """Called by the services that find the problem (inside their transaction)."""
    since = last_good_date(equipment, found_on)
    analysis = ImpactAnalysis.objects.create(
        equipment=equipment,
        trigger=trigger,
        trigger_detail=detail[:300],
        found_on=found_on,
        since=since,
        opened_by=actor,
        nonconformity=_("%(eq)s: %(detail)s. Records and certificates made with it since %(since)s are under review.")
        % {"eq": equipment, "detail": detail, "since": since.isoformat() if since else _("its first use")},
    )
    ImpactItem.objects.bulk_create(
        [ImpactItem(analysis=analysis, use=use) for use in affected_uses(equipment, since, found_on)]
    )
    audit.record(actor=actor, action="equipment.impact_opened", target=equipment,
                 changes={"impact_analysis": [None, str(analysis)]})
    url = reverse("equipment:impact_detail", args=[analysis.pk])
    leads = User.objects.filter(is_active=True, groups__name__in=[Role.TECHNICAL_LEAD, Role.QUALITY_LEAD]).distinct()
    notify.notify([notify.Message(lead, _("Impact analysis opened: %(eq)s") % {"eq": equipment}, analysis.nonconformity, url)
                   for lead in leads])
    return analysis


def decide_item(*, actor, item: ImpactItem, decision: str, note: str = "") -> ImpactItem:
    granted = permissions.require(actor, "equipment.manage")
    if decision not in ImpactDecision.values or decision == ImpactDecision.PENDING:
        raise ValidationError({"decision": _("Choose a decision.")})
    if decision != ImpactDecision.NO_EFFECT and not note.strip():
        raise ValidationError({"note": _("Say what is to be done.")})
    with transaction.atomic():
        item = ImpactItem.objects.select_for_update().select_related("analysis", "use").get(pk=item.pk)
        if item.analysis.status != ImpactStatus.OPEN:
            raise ValidationError(_("This impact analysis is closed."))
        before = item.decision
        item.decision, item.note = decision, note.strip()
        item.decided_by, item.decided_at = actor, timezone.now()
        item.save()
        audit.record(actor=actor, action="equipment.impact_decided", target=item.analysis.equipment,
                     changes={item.use.record_label: [before, decision]}, reason=note,
                     as_deputy_of=granted.as_deputy_of)
    return item


def conclude(*, actor, analysis: ImpactAnalysis, conclusion: str) -> ImpactAnalysis:
    granted = permissions.require(actor, "equipment.manage")
    if not conclusion.strip():
        raise ValidationError({"conclusion": _("Write the conclusion.")})
    with transaction.atomic():
        analysis = ImpactAnalysis.objects.select_for_update().get(pk=analysis.pk)
        if analysis.status != ImpactStatus.OPEN:
            raise ValidationError(_("This impact analysis is already decided."))
        if analysis.items.filter(decision=ImpactDecision.PENDING).exists():
            raise ValidationError(_("Decide every affected record first."))
        analysis.status, analysis.conclusion = ImpactStatus.DECIDED, conclusion.strip()
        analysis.decided_by, analysis.decided_at = actor, timezone.now()
        analysis.save()
        audit.record(actor=actor, action="equipment.impact_concluded", target=analysis.equipment,
                     changes={"impact_analysis": [ImpactStatus.OPEN, ImpactStatus.DECIDED]}, reason=conclusion,
                     as_deputy_of=granted.as_deputy_of)
    return analysis
