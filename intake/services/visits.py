"""On-site visits, the order side (R-ONS-1 before, R-ONS-4 after)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import OnSiteVisit, Order, OrderStatus, VisitStatus, WorkLocation
from labqms import audit, permissions


def plan_visit(*, actor, order: Order, planned_date, site_address: str, site_contact: str, site_phone: str = "") -> OnSiteVisit:
    granted = permissions.require(actor, "intake.receive_order")
    errors = {}
    if order.work_location != WorkLocation.ON_SITE:
        errors["__all__"] = _("This order is for work in the lab.")
    if order.status in (OrderStatus.RELEASED, OrderStatus.CANCELLED, OrderStatus.DECLINED):
        errors["__all__"] = _("This order is closed.")
    if planned_date is None:
        errors["planned_date"] = _("Enter the planned date.")
    elif planned_date < timezone.localdate():
        errors["planned_date"] = _("The planned date is in the past.")
    if not site_address.strip():
        errors["site_address"] = _("Enter the site address.")
    if not site_contact.strip():
        errors["site_contact"] = _("Enter the site contact.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = OnSiteVisit.objects.create(
            order=order,
            planned_date=planned_date,
            site_address=site_address.strip(),
            site_contact=site_contact.strip(),
            site_phone=site_phone.strip(),
            created_by=actor,
        )
        audit.record(
            actor=actor, action="visit.planned", target=order,
            changes={"visit": [None, f"{planned_date} {visit.site_address}"]}, as_deputy_of=granted.as_deputy_of,
        )
    return visit


def confirm_site(*, actor, visit: OnSiteVisit, confirmed_with: str, conditions: str) -> OnSiteVisit:
    """R-ONS-1: the customer confirmed the site meets the method's environmental needs."""
    granted = permissions.require(actor, "intake.receive_order")
    errors = {}
    if not confirmed_with.strip():
        errors["confirmed_with"] = _("Enter whom you confirmed with.")
    if not conditions.strip():
        errors["conditions"] = _("Record the site conditions confirmed (temperature, humidity, power, space…).")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = OnSiteVisit.objects.select_for_update().get(pk=visit.pk)
        if visit.status != VisitStatus.PLANNED:
            raise ValidationError(_("The site was already confirmed for this visit."))
        visit.environment_confirmed_with = confirmed_with.strip()
        visit.environment_notes = conditions.strip()
        visit.environment_confirmed_at = timezone.now()
        visit.status = VisitStatus.SITE_CONFIRMED
        visit.save()
        audit.record(
            actor=actor, action="visit.site_confirmed", target=visit.order,
            changes={"site": [None, visit.environment_notes]}, as_deputy_of=granted.as_deputy_of,
        )
    return visit


def record_handover(
    *, actor, visit: OnSiteVisit, state_changed: bool, restoration_notes: str, handed_over_to: str
) -> OnSiteVisit:
    """R-ONS-4: after the visit, the instruments restored (if changed) and handed over."""
    permissions.require(actor, "intake.handle_samples")
    errors = {}
    if state_changed and not restoration_notes.strip():
        errors["restoration_notes"] = _("Describe how the instrument's initial state was restored.")
    if not handed_over_to.strip():
        errors["handed_over_to"] = _("Enter to whom the instruments were handed over.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = OnSiteVisit.objects.select_for_update().get(pk=visit.pk)
        if visit.status != VisitStatus.SITE_CONFIRMED:
            raise ValidationError(_("Confirm the site conditions before the visit is closed."))
        visit.state_changed = state_changed
        visit.restoration_notes = restoration_notes.strip()
        visit.handed_over_to = handed_over_to.strip()
        visit.handed_over_at = timezone.now()
        visit.status = VisitStatus.DONE
        visit.save()
        audit.record(
            actor=actor, action="visit.handed_over", target=visit.order,
            changes={"handed_over_to": [None, visit.handed_over_to]},
        )
    return visit
