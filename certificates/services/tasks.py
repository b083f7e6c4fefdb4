"""Tasks: one sample × one service, a performer and a different checker, each authorised
for that category and activity on the day (R-TST-1, R-TST-4).  Starting a task opens the
original record and marks the sample in test through the intake service."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.models import (
    OPEN_TASK_STATUSES,
    InspectionResult,
    Method,
    MethodStatus,
    PointUncertainty,
    Record,
    Task,
    TaskStatus,
)
from intake.models import Disposition, OrderStatus, Sample, SampleStatus, Service, WorkLocation
from intake.services import samples as sample_services
from labqms import audit, numbering, permissions
from labqms.models import Role, User
from labqms.notify import Message, notify

PERFORM_ACTION = {
    Service.VERIFICATION: "records.perform_verification",
    Service.CALIBRATION: "records.perform_calibration",
    Service.TESTING: "records.perform_testing",
}
# A sample can get a task once its order is accepted and it is in the lab's hands (or,
# on site, registered for the visit).
ASSIGNABLE_SAMPLE_STATUSES = frozenset({SampleStatus.REGISTERED, SampleStatus.RECEIVED, SampleStatus.STORED})


def perform_action(service: str) -> str:
    return PERFORM_ACTION[Service(service)]


def eligible_people(category, service: str, *, on=None):
    """``(performers, checkers)``: active staff allowed on ``on`` to perform ``service``
    on ``category`` and to check it.  For the assignment form; the service re-checks."""
    on = on or timezone.localdate()
    staff = list(User.objects.filter(is_active=True, groups__name__in=[Role.TECHNICIAN, Role.TECHNICAL_LEAD]).distinct().order_by("full_name", "username"))
    action = perform_action(service)
    performers = [u for u in staff if permissions.can(u, action, scope=category, on=on)]
    checkers = [u for u in staff if permissions.can(u, "records.check", scope=category, on=on)]
    return performers, checkers


def _check_people(sample: Sample, service: str, performer, checker, on) -> None:
    category = sample.item.category
    errors = {}
    decision = permissions.check(performer, perform_action(service), scope=category, on=on)
    if not decision:
        errors["performer"] = _("%(person)s may not perform this work: %(why)s") % {"person": performer, "why": decision.reason}
    if checker == performer:
        errors["checker"] = _("The checker must be a different person from the performer (R-TST-1).")
    else:
        decision = permissions.check(checker, "records.check", scope=category, on=on)
        if not decision:
            errors["checker"] = _("%(person)s may not check this work: %(why)s") % {"person": checker, "why": decision.reason}
    if errors:
        raise ValidationError(errors)


def _check_method(method: Method, sample: Sample, service: str) -> None:
    if method.status != MethodStatus.CURRENT:
        raise ValidationError(
            {"method": _("%(code)s is %(status)s; only the current edition can be used for new work (R-TST-3).")
             % {"code": method.full_code, "status": method.get_status_display()}}
        )
    if method.kind != service:
        raise ValidationError({"method": _("%(code)s is not a method for %(service)s.") % {"code": method.full_code, "service": Service(service).label}})
    if not method.categories.filter(pk=sample.item.category_id).exists():
        raise ValidationError({"method": _("%(code)s does not apply to %(category)s.") % {"code": method.full_code, "category": sample.item.category}})


def assign_task(*, actor, sample: Sample, method: Method, performer, checker, visit=None, note: str = "") -> Task:
    permissions.require(actor, "records.assign")
    today = timezone.localdate()
    with transaction.atomic():
        sample = Sample.objects.select_for_update(of=("self",)).select_related("order", "item__category").get(pk=sample.pk)
        service = sample.item.service
        if sample.order.status != OrderStatus.ACCEPTED:
            raise ValidationError(_("Order %(number)s is not accepted; no work is assigned before the contract review.") % {"number": sample.order.number})
        if sample.status not in ASSIGNABLE_SAMPLE_STATUSES:
            raise ValidationError(_("Sample %(id)s is “%(status)s” and gets no new task.") % {"id": sample.sample_id, "status": sample.get_status_display()})
        if sample.status == SampleStatus.REGISTERED and sample.order.work_location != WorkLocation.ON_SITE:
            raise ValidationError(_("Sample %(id)s has not been received yet.") % {"id": sample.sample_id})
        if Task.objects.filter(sample=sample, status__in=OPEN_TASK_STATUSES).exists():
            raise ValidationError(_("Sample %(id)s already has a task.") % {"id": sample.sample_id})
        # The edition as it stands now (locked against a concurrent approval of its
        # successor), not as the caller loaded it (R-TST-3).
        method = Method.objects.select_for_update().get(pk=method.pk)
        if sample.item.disposition != Disposition.ACCEPT:
            raise ValidationError(
                _("Sample %(id)s is “%(disposition)s” in the contract review; the lab does no work on it.")
                % {"id": sample.sample_id, "disposition": sample.item.get_disposition_display()}
            )
        _check_method(method, sample, service)
        _check_people(sample, service, performer, checker, today)
        if visit is not None and visit.order_id != sample.order_id:
            raise ValidationError({"visit": _("The visit belongs to another order.")})
        if visit is None and sample.order.work_location == WorkLocation.ON_SITE:
            visit = sample.order.visits.exclude(status="cancelled").order_by("planned_date").first()
        try:
            with transaction.atomic():
                task = Task.objects.create(
                    sample=sample, service=service, method=method, performer=performer, checker=checker,
                    visit=visit, assigned_by=actor, note=note,
                )
        except IntegrityError:
            raise ValidationError(_("Sample %(id)s already has a task.") % {"id": sample.sample_id}) from None
        audit.record(
            actor=actor, action="task.assigned", target=task,
            changes={"performer": [None, str(performer)], "checker": [None, str(checker)], "method": [None, method.full_code]},
        )
        url = reverse("certificates:my_tasks")
        notify([Message(performer, _("New task: %(id)s") % {"id": sample.sample_id}, str(task), url)])
    return task


def reassign_task(*, actor, task: Task, performer, checker, reason: str) -> Task:
    """Change the people of a task whose record is not yet signed."""
    permissions.require(actor, "records.assign")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the task is reassigned.")})
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related("sample__item__category", "sample__order").get(pk=task.pk)
        if task.status not in (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.AWAITING_CHECK):
            raise ValidationError(_("This task can no longer be reassigned."))
        record = Record.objects.select_for_update().filter(task=task).first()
        if actor == task.performer and checker != task.checker:
            raise ValidationError({"checker": _("The performer does not choose who checks their own work.")})
        has_data = record is not None and (record.environment_at is not None or record.readings.exists() or record.is_locked)
        if has_data and performer != task.performer:
            raise ValidationError(
                {"performer": _("The performer has started recording; the performer no longer changes, only the checker.")}
            )
        if record is not None and record.is_locked and checker == record.performer:
            raise ValidationError({"checker": _("The checker must be a different person from the performer (R-TST-1).")})
        _check_people(task.sample, task.service, performer, checker, timezone.localdate())
        changes = {}
        if performer != task.performer:
            changes["performer"] = [str(task.performer), str(performer)]
        if checker != task.checker:
            changes["checker"] = [str(task.checker), str(checker)]
        if not changes:
            return task
        task.performer, task.checker = performer, checker
        task.save(update_fields=["performer", "checker"])
        if record is not None and not record.is_locked and record.performer_id != performer.pk:
            record.performer = performer
            record.save(update_fields=["performer"])
        audit.record(actor=actor, action="task.reassigned", target=task, changes=changes, reason=reason)
    return task


def cancel_task(*, actor, task: Task, reason: str) -> Task:
    """Only a task not yet started is cancelled (a started one has a record to keep)."""
    permissions.require(actor, "records.assign")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the task is cancelled.")})
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status != TaskStatus.ASSIGNED:
            raise ValidationError(_("Work on this task has started; its record is kept and the task cannot be cancelled."))
        task.status = TaskStatus.CANCELLED
        task.cancelled_reason = reason
        task.save(update_fields=["status", "cancelled_reason"])
        audit.record(actor=actor, action="task.cancelled", target=task, changes={"status": [TaskStatus.ASSIGNED, TaskStatus.CANCELLED]}, reason=reason)
    return task


def _instrument(sample: Sample) -> dict:
    item, order = sample.item, sample.order
    return {
        "name": item.instrument_name,
        "model": item.model,
        "serial_number": sample.serial_number,
        "manufacturer": item.manufacturer,
        "asset_number": item.asset_number,
        "accessories": item.accessories,
        "category": item.category.code,
        "category_name": item.category.name_zh,
        "customer": order.customer.name,
        "order": order.number,
        "sample_id": sample.sample_id,
    }


def start_task(*, actor, task: Task) -> Record:
    """The performer starts: the record opens from the method's approved template and the
    sample is marked in test (intake).  Refused for a superseded method (R-TST-3)."""
    today = timezone.localdate()
    with transaction.atomic():
        task = Task.objects.select_for_update(of=("self",)).select_related(
            "method", "sample__item__category", "sample__order__customer", "visit"
        ).get(pk=task.pk)
        if actor != task.performer:
            raise ValidationError(_("Only the performer named on the task starts it."))
        permissions.require(actor, perform_action(task.service), task, on=today)
        if task.status != TaskStatus.ASSIGNED:
            raise ValidationError(_("This task has already been started."))
        method = Method.objects.select_for_update().get(pk=task.method_id)
        if method.status != MethodStatus.CURRENT:
            raise ValidationError(
                _("%(code)s is %(status)s; the task must be cancelled and assigned again with the current edition (R-TST-3).")
                % {"code": method.full_code, "status": method.get_status_display()}
            )
        template = method.active_template()
        if template is None:
            raise ValidationError(_("%(code)s has no approved record template yet.") % {"code": method.full_code})
        sample_services.mark_sample_in_test(
            actor=actor, sample=task.sample, note=_("Task started"), expects_certificate=True
        )
        on_site = task.visit is not None or task.sample.order.work_location == WorkLocation.ON_SITE
        record = Record.objects.create(
            number=numbering.next_number("record"),
            task=task,
            sample=task.sample,
            method=method,
            template=template,
            instrument=_instrument(task.sample),
            measured_on=today,
            place=(task.visit.site_address if task.visit else task.sample.order.customer.address) if on_site else settings.LABQMS_LAB_ADDRESS,
            on_site=on_site,
            performer=actor,
        )
        InspectionResult.objects.bulk_create(
            [InspectionResult(record=record, position=i, item=text) for i, text in enumerate(template.inspection_items, start=1)]
        )
        if task.service == Service.CALIBRATION:
            k = template.default_coverage_factor or 2
            PointUncertainty.objects.bulk_create(
                [
                    PointUncertainty(record=record, point=p, expanded_uncertainty=p.default_uncertainty, coverage_factor=k, from_template=True)
                    for p in template.points.all()
                    if p.default_uncertainty is not None
                ]
            )
        task.status = TaskStatus.IN_PROGRESS
        task.save(update_fields=["status"])
        audit.record(
            actor=actor, action="record.started", target=record,
            changes={"method": [None, method.full_code], "template": [None, f"v{template.version}"]},
        )
    return record
