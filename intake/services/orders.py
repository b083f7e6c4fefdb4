"""Orders: create and edit lines while draft, contract review, customer confirmation,
acceptance with the due date, notices, payments, credit and cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import (
    Channel,
    ConfirmationMethod,
    Contact,
    ContractReview,
    Customer,
    CustomerNotice,
    Disposition,
    NoticeKind,
    NoticeStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    ReviewDecision,
    Sample,
    SampleStatus,
    WorkLocation,
)
from intake.models.orders import ORDER_TRANSITIONS
from intake.services.items import ORDER_LINE_FIELDS, LineErrors, clean_lines
from labqms import audit, numbering, permissions, workdays

ORDER_FIELDS = ("channel", "work_location", "customer", "contact", "special_requirements", "sample_disposal")


class LinesInvalid(ValidationError):
    """Some lines are bad; ``line_errors`` says which, by line number and field."""

    def __init__(self, line_errors: list[LineErrors], message: str | None = None):
        self.line_errors = line_errors
        summary = [
            _("Line %(line)s: %(errors)s") % {"line": e.line, "errors": " ".join(e.messages())}
            for e in line_errors
        ]
        super().__init__([message] + summary if message else summary)


def _set_status(order: Order, target: str) -> str:
    if target not in ORDER_TRANSITIONS[order.status]:
        raise ValidationError(
            _("An order that is “%(from)s” cannot become “%(to)s”.")
            % {"from": order.get_status_display(), "to": OrderStatus(target).label}
        )
    before = order.status
    order.status = target
    return before


def _check_header(*, customer: Customer, contact: Contact | None, channel: str, work_location: str):
    errors = {}
    if channel not in Channel.values:
        errors["channel"] = _("Choose the channel.")
    if work_location not in WorkLocation.values:
        errors["work_location"] = _("Choose where the work is done.")
    if not customer.is_active:
        errors["customer"] = _("This customer is archived.")
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = _("This contact belongs to another customer.")
    if errors:
        raise ValidationError(errors)


def _write_lines(order: Order, lines: list[dict]) -> None:
    order.items.all().delete()
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                line_no=number,
                unit_fee=line["category"].standard_fee,
                **{name: line[name] for name in ORDER_LINE_FIELDS},
                in_scope=line["in_scope"],
            )
            for number, line in enumerate(lines, start=1)
        ]
    )


def _lines_snapshot(order: Order) -> list[str]:
    return [
        f"{i.line_no}. {i.instrument_name} [{i.category.code}] {i.model} {i.serial_number or '-'} "
        f"×{i.quantity} {i.service}/{i.disposition}"
        for i in order.items.select_related("category")
    ]


def create_order(
    *,
    actor,
    customer: Customer,
    lines: list[dict],
    channel: str = Channel.COUNTER,
    work_location: str = WorkLocation.LAB,
    contact: Contact | None = None,
    special_requirements: str = "",
    sample_disposal: str = "",
) -> Order:
    """Log a new order (R-INT-1, R-INT-3) with its lines.  Nothing is saved unless every
    line is valid."""
    decision = permissions.require(actor, "intake.receive_order")
    _check_header(customer=customer, contact=contact, channel=channel, work_location=work_location)
    if not lines:
        raise ValidationError(_("Add at least one instrument."))
    cleaned, problems = clean_lines(lines, on=timezone.localdate(), check_scope=True)
    if problems:
        raise LinesInvalid(problems)
    with transaction.atomic():
        order = Order.objects.create(
            number=numbering.next_number("order"),
            channel=channel,
            work_location=work_location,
            customer=customer,
            contact=contact,
            special_requirements=special_requirements,
            sample_disposal=sample_disposal,
            created_by=actor,
        )
        _write_lines(order, cleaned)
        audit.record(
            actor=actor,
            action="order.created",
            target=order,
            changes={"customer": [None, str(customer)], "lines": [None, _lines_snapshot(order)]},
            as_deputy_of=decision.as_deputy_of,
        )
    return order


def update_order(
    *,
    actor,
    order: Order,
    lines: list[dict],
    customer: Customer,
    channel: str,
    work_location: str,
    contact: Contact | None = None,
    special_requirements: str = "",
    sample_disposal: str = "",
    reason: str = "",
) -> Order:
    """Change a draft order's header and lines; the audit event keeps the old values."""
    decision = permissions.require(actor, "intake.receive_order")
    _check_header(customer=customer, contact=contact, channel=channel, work_location=work_location)
    if not lines:
        raise ValidationError(_("Add at least one instrument."))
    cleaned, problems = clean_lines(lines, on=timezone.localdate(), check_scope=True)
    if problems:
        raise LinesInvalid(problems)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not order.is_editable:
            raise ValidationError(
                _("Only a draft order can be edited; re-open the review first.")
            )
        before = audit.snapshot(order, ORDER_FIELDS)
        before_lines = _lines_snapshot(order)
        order.customer, order.contact, order.channel = customer, contact, channel
        order.work_location = work_location
        order.special_requirements, order.sample_disposal = special_requirements, sample_disposal
        order.save()
        _write_lines(order, cleaned)
        changes = audit.diff(before, audit.snapshot(order, ORDER_FIELDS))
        after_lines = _lines_snapshot(order)
        if after_lines != before_lines:
            changes["lines"] = [before_lines, after_lines]
        if changes:
            audit.record(
                actor=actor,
                action="order.updated",
                target=order,
                changes=changes,
                reason=reason,
                as_deputy_of=decision.as_deputy_of,
            )
    return order


def append_lines(*, actor, order: Order, lines: list[dict], first_line_numbers: list[int] | None = None) -> int:
    """Add imported lines to a draft order: all of them or none (spreadsheet import)."""
    decision = permissions.require(actor, "intake.receive_order")
    with transaction.atomic():
        # Lock first, then read: a concurrent edit or import cannot be overwritten.
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not order.is_editable:
            raise ValidationError(_("Only a draft order can be edited; re-open the review first."))
        existing = [
            {name: getattr(i, name) for name in ORDER_LINE_FIELDS}
            for i in order.items.select_related("category")
        ]
        cleaned, problems = clean_lines(existing + lines, on=timezone.localdate(), check_scope=True)
        if problems:
            if first_line_numbers:
                # Report by spreadsheet row, not by order line.
                offset = len(existing)
                for problem in problems:
                    index = problem.line - 1 - offset
                    if 0 <= index < len(first_line_numbers):
                        problem.line = first_line_numbers[index]
            raise LinesInvalid(problems)
        before_lines = _lines_snapshot(order)
        _write_lines(order, cleaned)
        audit.record(
            actor=actor,
            action="order.lines_imported",
            target=order,
            changes={"lines": [before_lines, _lines_snapshot(order)]},
            as_deputy_of=decision.as_deputy_of,
        )
    return len(lines)


def review_order(
    *,
    actor,
    order: Order,
    decision: str,
    lawful: bool,
    requirements_clear: bool,
    competent: bool,
    terms_agreed: bool,
    notes: str = "",
    deviations: str = "",
    customer_told_how: str = "",
    customer_told_at: datetime | None = None,
    conformity_statement_requested: bool = False,
    decision_rule: str = "",
    interval_requested: bool = False,
    fees: dict[int, Decimal] | None = None,
) -> ContractReview:
    """Record the contract review (R-INT-4).  Accepting needs (a)–(d) all confirmed;
    deviations need to say how and when the customer was told; a conformity statement
    needs the decision rule."""
    granted = permissions.require(actor, "intake.review_order")
    errors: dict[str, str] = {}
    if decision not in ReviewDecision.values:
        errors["decision"] = _("Choose a decision.")
    accepting = decision in (ReviewDecision.ACCEPT, ReviewDecision.ACCEPT_WITH_DEVIATIONS)
    if accepting and not (lawful and requirements_clear and competent and terms_agreed):
        errors["__all__"] = _("All four review points (a)–(d) must be confirmed to accept the order.")
    if decision == ReviewDecision.ACCEPT_WITH_DEVIATIONS:
        if not deviations.strip():
            errors["deviations"] = _("Describe the deviations.")
        if not customer_told_how.strip() or customer_told_at is None:
            errors["customer_told_how"] = _("Record how and when the customer was told of the deviations.")
    if decision == ReviewDecision.DECLINE and not deviations.strip():
        errors["deviations"] = _("Give the reason for declining.")
    if conformity_statement_requested and not decision_rule.strip():
        errors["decision_rule"] = _("Record the decision rule agreed for the statement of conformity.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.DRAFT:
            raise ValidationError(
                _("This order was already reviewed (“%(status)s”).") % {"status": order.get_status_display()}
            )
        items = list(order.items.all())
        if accepting and not any(i.disposition != Disposition.REFUSE for i in items):
            raise ValidationError(_("Every line is refused: decline the order instead."))
        fees = fees or {}
        fee_changes = {}
        for item in items:
            if item.pk in fees:
                try:
                    fee = Decimal(fees[item.pk])
                except (InvalidOperation, TypeError):
                    raise ValidationError(_("Line %(line)s: the fee is not a number.") % {"line": item.line_no}) from None
                if not fee.is_finite() or fee < 0:
                    raise ValidationError(_("Line %(line)s: the fee cannot be negative.") % {"line": item.line_no})
                if fee != item.unit_fee:
                    fee_changes[str(item.line_no)] = [str(item.unit_fee), str(fee)]
                    item.unit_fee = fee
                    item.save(update_fields=["unit_fee"])
        review = ContractReview.objects.create(
            order=order,
            reviewer=actor,
            lawful=lawful,
            requirements_clear=requirements_clear,
            competent=competent,
            terms_agreed=terms_agreed,
            notes=notes,
            decision=decision,
            deviations=deviations,
            customer_told_how=customer_told_how,
            customer_told_at=customer_told_at,
            conformity_statement_requested=conformity_statement_requested,
            decision_rule=decision_rule,
            interval_requested=interval_requested,
            fee_total=sum((i.line_fee for i in items), Decimal("0")),
        )
        before = _set_status(order, OrderStatus.REVIEWED if accepting else OrderStatus.DECLINED)
        order.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="order.reviewed",
            target=order,
            changes={
                "status": [before, order.status],
                "decision": [None, decision],
                "fee_total": [None, str(review.fee_total)],
                **({"fees": fee_changes} if fee_changes else {}),
            },
            reason=deviations,
            as_deputy_of=granted.as_deputy_of,
        )
    return review


def reopen_order(*, actor, order: Order, reason: str) -> Order:
    """Back to draft so lines can change; the review is superseded, the confirmation
    cleared (the customer must confirm the changed order again)."""
    granted = permissions.require(actor, "intake.review_order")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is re-opened.")})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        before = _set_status(order, OrderStatus.DRAFT)
        now = timezone.now()
        order.reviews.filter(superseded_at__isnull=True).update(superseded_at=now, superseded_reason=reason[:300])
        old_confirmation = [order.confirmed_by_name, order.confirmed_at.isoformat() if order.confirmed_at else None]
        order.confirmed_by_name, order.confirmed_at, order.confirmation_method = "", None, ""
        order.confirmation_recorded_by = None
        order.save()
        audit.record(
            actor=actor,
            action="order.reopened",
            target=order,
            changes={"status": [before, order.status], "confirmation": [old_confirmation, None]},
            reason=reason,
            as_deputy_of=granted.as_deputy_of,
        )
    return order


def record_confirmation(
    *, actor, order: Order, signer_name: str, method: str = ConfirmationMethod.PAPER, confirmed_at=None
) -> Order:
    """The customer's confirmation of the order (R-INT-3): who signed, when, how."""
    if method == ConfirmationMethod.PORTAL:
        granted = permissions.require(actor, "portal.use")
        account = getattr(actor, "customer_account", None)
        if account is None or account.customer_id != order.customer_id:
            raise ValidationError(_("This order belongs to another organisation."))
    else:
        granted = permissions.require(actor, "intake.receive_order")
    if method not in ConfirmationMethod.values:
        raise ValidationError({"method": _("Choose how the customer confirmed.")})
    if not signer_name.strip():
        raise ValidationError({"signer_name": _("Enter the name of the person who signed.")})
    confirmed_at = confirmed_at or timezone.now()
    if confirmed_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"confirmed_at": _("The confirmation time is in the future.")})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.is_confirmed:
            raise ValidationError(
                _("This order was already confirmed by %(name)s at %(time)s.")
                % {
                    "name": order.confirmed_by_name,
                    "time": timezone.localtime(order.confirmed_at).strftime("%Y-%m-%d %H:%M"),
                }
            )
        if order.status != OrderStatus.REVIEWED:
            raise ValidationError(_("The customer confirms the order after the contract review."))
        order.confirmed_by_name = signer_name.strip()
        order.confirmed_at = confirmed_at
        order.confirmation_method = method
        order.confirmation_recorded_by = actor
        order.save()
        audit.record(
            actor=actor,
            action="order.confirmed",
            target=order,
            changes={"confirmed_by_name": [None, order.confirmed_by_name], "confirmation_method": [None, method]},
            as_deputy_of=granted.as_deputy_of,
        )
    return order


def due_date_for(order: Order, accepted_on) -> tuple:
    """Acceptance + the largest turnaround limit of the lines in working days; provisional
    when the working-day calendar does not cover the span."""
    limits = [
        i.category.turnaround_days
        for i in order.items.select_related("category")
        if i.disposition != Disposition.REFUSE
    ]
    days = max(limits) if limits else 0
    due = workdays.add_working_days(accepted_on, days)
    return due, not workdays.span_covered(accepted_on, due)


def accept_order(*, actor, order: Order) -> Order:
    """Accept a reviewed, confirmed order: set the due date and register one sample per
    unit of every line that is not refused (R-INT-4, R-INT-5, R-SMP-2)."""
    granted = permissions.require(actor, "intake.receive_order")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.REVIEWED:
            raise ValidationError(_("Only a reviewed order can be accepted; no work starts before the contract review."))
        if not order.is_confirmed:
            raise ValidationError(_("Record the customer's confirmation before accepting the order."))
        today = timezone.localdate()
        before = _set_status(order, OrderStatus.ACCEPTED)
        order.accepted_on, order.accepted_by = today, actor
        order.due_date, order.due_date_provisional = due_date_for(order, today)
        order.save()
        samples = []
        unit = 0
        for item in order.items.exclude(disposition=Disposition.REFUSE).order_by("line_no"):
            serials = item.serials()
            for index in range(item.quantity):
                unit += 1
                samples.append(
                    Sample(
                        sample_id=f"{order.number}-{unit:02d}",
                        order=order,
                        item=item,
                        unit_no=index + 1,
                        serial_number=serials[index] if index < len(serials) else "",
                    )
                )
        Sample.objects.bulk_create(samples)
        from intake.services.samples import register_created

        register_created(order, actor)
        audit.record(
            actor=actor,
            action="order.accepted",
            target=order,
            changes={
                "status": [before, order.status],
                "due_date": [None, order.due_date.isoformat()],
                "samples": [None, len(samples)],
            },
            as_deputy_of=granted.as_deputy_of,
        )
    return order


def cancel_order(*, actor, order: Order, reason: str) -> Order:
    granted = permissions.require(actor, "intake.receive_order")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the order is cancelled.")})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        before = _set_status(order, OrderStatus.CANCELLED)
        order.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="order.cancelled",
            target=order,
            changes={"status": [before, order.status]},
            reason=reason,
            as_deputy_of=granted.as_deputy_of,
        )
    return order


def _queue_email(notice: CustomerNotice) -> None:
    from intake import tasks

    transaction.on_commit(lambda: tasks.send_customer_notice.delay(notice.pk))


def notice_recipient(order: Order) -> str:
    if order.contact and order.contact.email:
        return order.contact.email
    return order.customer.email


def send_notice(
    *,
    actor,
    order: Order,
    kind: str,
    body: str,
    new_due_date=None,
    by_email: bool = True,
    told_whom: str = "",
) -> CustomerNotice:
    """Tell the customer of a delay or deviation (R-INT-8), by e-mail or recorded as told
    by phone / in person.  A delay with a new due date moves the due date; the audit
    event keeps the old one."""
    granted = permissions.require(actor, "intake.receive_order")
    if kind not in (NoticeKind.DELAY, NoticeKind.DEVIATION):
        raise ValidationError({"kind": _("Choose delay or deviation.")})
    if not body.strip():
        raise ValidationError({"body": _("Write what the customer is told.")})
    recipient = notice_recipient(order) if by_email else told_whom.strip()
    if by_email and not recipient:
        raise ValidationError(_("Neither the contact nor the customer has an e-mail address; record a phone call instead."))
    if not by_email and not recipient:
        raise ValidationError({"told_whom": _("Enter whom you told.")})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (OrderStatus.REVIEWED, OrderStatus.ACCEPTED, OrderStatus.COMPLETED):
            raise ValidationError(_("Notices are for orders under way."))
        if new_due_date is not None and order.due_date and new_due_date <= order.due_date and kind == NoticeKind.DELAY:
            raise ValidationError({"new_due_date": _("A delay moves the due date later.")})
        notice = CustomerNotice.objects.create(
            order=order,
            kind=kind,
            recipient=recipient,
            subject=_("Order %(number)s: %(kind)s") % {"number": order.number, "kind": NoticeKind(kind).label},
            body=body.strip(),
            new_due_date=new_due_date,
            status=NoticeStatus.PENDING if by_email else NoticeStatus.RECORDED,
            created_by=actor,
            sent_at=None if by_email else timezone.now(),
        )
        changes = {"notice": [None, str(NoticeKind(kind).label)]}
        if new_due_date is not None:
            changes["due_date"] = [order.due_date.isoformat() if order.due_date else None, new_due_date.isoformat()]
            order.due_date = new_due_date
            start = order.accepted_on or timezone.localdate()
            order.due_date_provisional = not workdays.span_covered(start, new_due_date)
            order.save(update_fields=["due_date", "due_date_provisional"])
        audit.record(
            actor=actor,
            action="order.notice_sent",
            target=order,
            changes=changes,
            reason=body,
            as_deputy_of=granted.as_deputy_of,
        )
        if by_email:
            _queue_email(notice)
    return notice


def complete_if_done(order: Order, actor) -> bool:
    """Called after a sample changes: when every sample is done, the order is complete
    and the completion notice is queued for e-mail after commit (R-INT-6)."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.ACCEPTED:
        return False
    samples = list(order.samples.values_list("status", "expects_certificate", "certificate_numbers"))
    from intake.models.samples import DONE_STATUSES

    if not samples or any(status not in DONE_STATUSES for status, _due, _numbers in samples):
        return False
    if any(due and not numbers and status != SampleStatus.RETURNED for status, due, numbers in samples):
        return False  # a certificate is still to be issued (R-INT-6: complete = certificates ready)
    before = _set_status(order, OrderStatus.COMPLETED)
    order.completed_at = timezone.now()
    order.save(update_fields=["status", "completed_at"])
    recipient = notice_recipient(order)
    notice = CustomerNotice.objects.create(
        order=order,
        kind=NoticeKind.COMPLETION,
        recipient=recipient,
        subject=_("Order %(number)s is ready for collection") % {"number": order.number},
        body=_(
            "The work on order %(number)s is complete. Please collect the instruments and "
            "certificates at the counter; bring this order number and an ID document."
        )
        % {"number": order.number},
        status=NoticeStatus.PENDING if recipient else NoticeStatus.FAILED,
        error="" if recipient else _("No e-mail address on file; call the customer."),
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="order.completed",
        target=order,
        changes={"status": [before, order.status]},
    )
    if recipient:
        _queue_email(notice)
    if not order.samples.exclude(status__in=[SampleStatus.RELEASED, SampleStatus.RETURNED]).exists():
        # Everything already went back (released early or returned untested).
        mark_released(order, actor)
    return True


def mark_released(order: Order, actor) -> None:
    """Completed → released once every sample has gone back (through the table, audited)."""
    before = _set_status(order, OrderStatus.RELEASED)
    order.released_at = timezone.now()
    order.save(update_fields=["status", "released_at"])
    audit.record(actor=actor, action="order.status_released", target=order, changes={"status": [before, order.status]})


def record_payment(*, actor, order: Order, amount, method: str, receipt_no: str) -> Payment:
    granted = permissions.require(actor, "intake.receive_order")
    errors = {}
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError):
        errors["amount"] = _("Enter the amount.")
    else:
        if amount <= 0:
            errors["amount"] = _("The amount must be positive.")
    if method not in PaymentMethod.values:
        errors["method"] = _("Choose the payment method.")
    if not receipt_no.strip():
        errors["receipt_no"] = _("Enter the receipt number.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in (OrderStatus.REVIEWED, OrderStatus.ACCEPTED, OrderStatus.COMPLETED):
            raise ValidationError(_("Payments are recorded for reviewed orders that are not yet released."))
        if Payment.objects.filter(receipt_no=receipt_no.strip()).exists():
            raise ValidationError({"receipt_no": _("This receipt number is already recorded.")})
        payment = Payment.objects.create(
            order=order, amount=amount, method=method, receipt_no=receipt_no.strip(), recorded_by=actor
        )
        audit.record(
            actor=actor,
            action="order.payment_recorded",
            target=order,
            changes={"payment": [None, f"{amount} {method} {payment.receipt_no}"]},
            as_deputy_of=granted.as_deputy_of,
        )
    return payment


def approve_credit(*, actor, order: Order, reason: str) -> Order:
    """The lab head lets an unpaid order be released on credit (R-INT-7)."""
    granted = permissions.require(actor, "intake.approve_credit")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why credit is given.")})
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.credit_approved_at:
            raise ValidationError(_("Credit was already approved for this order."))
        if order.status in (OrderStatus.RELEASED, OrderStatus.CANCELLED, OrderStatus.DECLINED):
            raise ValidationError(_("This order is closed."))
        order.credit_approved_by, order.credit_approved_at = actor, timezone.now()
        order.credit_reason = reason.strip()[:300]
        order.save()
        audit.record(
            actor=actor,
            action="order.credit_approved",
            target=order,
            changes={"credit": [None, str(order.fee_total())]},
            reason=reason,
            as_deputy_of=granted.as_deputy_of,
        )
    return order
