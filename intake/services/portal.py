"""The customer portal: online requests, and turning them into orders at the counter."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import (
    Channel,
    Customer,
    OnlineRequest,
    Order,
    RequestItem,
    RequestStatus,
    WorkLocation,
)
from intake.models.items import ItemFields
from intake.services.items import LINE_FIELDS, clean_lines
from intake.services.orders import LinesInvalid, create_order
from labqms import audit, permissions


def customer_of(user) -> Customer:
    """The organisation a portal user belongs to; refused when none."""
    account = getattr(user, "customer_account", None) if user.is_authenticated else None
    if account is None:
        raise ValidationError(_("Your account is not linked to an organisation; call the lab."))
    return account.customer


def submit_request(
    *,
    actor,
    lines: list[dict],
    contact_name: str,
    contact_phone: str,
    work_location: str = WorkLocation.LAB,
    preferred_date=None,
    notes: str = "",
) -> OnlineRequest:
    """A customer books work online (R-INT-1).  The scope is checked at the counter."""
    permissions.require(actor, "portal.use")
    customer = customer_of(actor)
    errors = {}
    if not contact_name.strip():
        errors["contact_name"] = _("Enter the contact's name.")
    if not contact_phone.strip():
        errors["contact_phone"] = _("Enter a phone number.")
    if preferred_date is not None and preferred_date < timezone.localdate():
        errors["preferred_date"] = _("The preferred date is in the past.")
    if work_location not in WorkLocation.values:
        errors["work_location"] = _("Choose where the work is done.")
    if errors:
        raise ValidationError(errors)
    if not lines:
        raise ValidationError(_("Add at least one instrument."))
    cleaned, problems = clean_lines(lines, on=timezone.localdate(), check_scope=False)
    if problems:
        raise LinesInvalid(problems)
    with transaction.atomic():
        request = OnlineRequest.objects.create(
            customer=customer,
            submitted_by=actor,
            contact_name=contact_name.strip(),
            contact_phone=contact_phone.strip(),
            work_location=work_location,
            preferred_date=preferred_date,
            notes=notes,
        )
        RequestItem.objects.bulk_create(
            [
                RequestItem(request=request, line_no=n, **{k: line[k] for k in LINE_FIELDS})
                for n, line in enumerate(cleaned, start=1)
            ]
        )
        audit.record(
            actor=actor,
            action="request.submitted",
            target=request,
            changes={"items": [None, len(cleaned)]},
        )
    return request


def convert_request(*, actor, request: OnlineRequest, lines: list[dict] | None = None, contact=None) -> Order:
    """Counter staff turn a request into an order (channel online).  ``lines`` may carry
    the clerk's corrections (e.g. refusing an out-of-scope line); default: as requested."""
    permissions.require(actor, "intake.receive_order")
    with transaction.atomic():
        request = OnlineRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != RequestStatus.SUBMITTED:
            raise ValidationError(_("This request was already handled."))
        if lines is None:
            lines = [{k: getattr(item, k) for k in ItemFields.ITEM_FIELDS} for item in request.items.all()]
        order = create_order(
            actor=actor,
            customer=request.customer,
            contact=contact,
            lines=lines,
            channel=Channel.ONLINE,
            work_location=request.work_location,
            special_requirements=request.notes,
        )
        request.status, request.order, request.handled_by = RequestStatus.CONVERTED, order, actor
        request.save()
        audit.record(actor=actor, action="request.converted", target=request, changes={"order": [None, order.number]})
    return order


def decline_request(*, actor, request: OnlineRequest, reason: str) -> OnlineRequest:
    permissions.require(actor, "intake.receive_order")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the request is declined.")})
    with transaction.atomic():
        request = OnlineRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != RequestStatus.SUBMITTED:
            raise ValidationError(_("This request was already handled."))
        request.status, request.handled_by, request.decline_reason = RequestStatus.DECLINED, actor, reason.strip()[:300]
        request.save()
        audit.record(actor=actor, action="request.declined", target=request, reason=reason)
    return request
