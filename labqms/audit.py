"""Writing the audit trail.

Services call :func:`record` after each change.  The *source* (web request, Celery task,
management command) comes from a context variable that the middleware, the Celery task
hooks and :func:`source` set, so a change made outside a request is attributed too —
unlike a signal-based log that only sees requests.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import decimal
from collections.abc import Iterable, Iterator

from celery.signals import task_postrun, task_prerun
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from labqms.models import AuditEvent

# Words for the action codes services write; later apps add theirs here.
ACTION_LABELS = {
    "person.created": _("Person created"),
    "person.roles_changed": _("Roles changed"),
    "authorisation.granted": _("Authorisation granted"),
    "authorisation.revoked": _("Authorisation revoked"),
    "qualification.recorded": _("Qualification certificate recorded"),
    "training.recorded": _("Training recorded"),
    "supervision.recorded": _("Supervision recorded"),
    "delegation.started": _("Deputy named"),
    "delegation.ended": _("Delegation ended early"),
    "calendar.override_set": _("Working-day override set"),
    "calendar.override_removed": _("Working-day override removed"),
    "calendar.year_confirmed": _("Calendar year confirmed"),
    # intake
    "customer.created": _("Customer created"),
    "customer.updated": _("Customer changed"),
    "customer.contact_added": _("Contact added"),
    "category.created": _("Instrument category created"),
    "category.updated": _("Instrument category changed"),
    "scope.granted": _("Authorised scope added"),
    "scope.ended": _("Authorised scope ended"),
    "order.created": _("Order logged"),
    "order.updated": _("Order changed"),
    "order.lines_imported": _("Lines imported from a spreadsheet"),
    "order.reviewed": _("Contract review recorded"),
    "order.reopened": _("Order re-opened"),
    "order.confirmed": _("Customer confirmation recorded"),
    "order.accepted": _("Order accepted"),
    "order.cancelled": _("Order cancelled"),
    "order.notice_sent": _("Customer notified"),
    "order.completed": _("Work complete"),
    "order.payment_recorded": _("Payment recorded"),
    "order.credit_approved": _("Credit approved"),
    "order.released": _("Samples released"),
    "order.status_released": _("Order released (every sample handed back)"),
    "sample.received": _("Sample received"),
    "sample.integrity_checked": _("Integrity checked after testing"),
    "sample.returned": _("Sample returned untested"),
    "visit.planned": _("On-site visit planned"),
    "visit.site_confirmed": _("Site conditions confirmed"),
    "visit.handed_over": _("On-site hand-over recorded"),
    "request.submitted": _("Online request submitted"),
    "request.converted": _("Online request turned into an order"),
    "request.declined": _("Online request declined"),
    # equipment
    "equipment.registered": _("Equipment registered"),
    "equipment.updated": _("Equipment data changed"),
    "equipment.attachment_added": _("Attachment added"),
    "equipment.status_changed": _("Equipment status changed"),
    "equipment.calibration_recorded": _("Calibration recorded"),
    "equipment.calibration_confirmed": _("Metrological confirmation recorded"),
    "equipment.confirmation_approved": _("Metrological confirmation approved"),
    "equipment.corrections_set": _("Correction factors set"),
    "equipment.check_planned": _("Intermediate check planned"),
    "equipment.check_recorded": _("Intermediate check recorded"),
    "equipment.logged": _("Maintenance or incident logged"),
    "equipment.maintenance_planned": _("Maintenance planned"),
    "equipment.returned": _("Return check recorded"),
    "equipment.impact_opened": _("Impact analysis opened"),
    "equipment.impact_decided": _("Impact decision recorded"),
    "equipment.impact_concluded": _("Impact analysis concluded"),
    "standard.created": _("Measurement standard registered"),
    "standard.updated": _("Measurement standard changed"),
    # records
    "method.created": _("Method edition registered"),
    "method.updated": _("Method edition changed"),
    "method.approved": _("Method edition approved as current"),
    "method.superseded": _("Method edition superseded"),
    "method.withdrawn": _("Method edition withdrawn"),
    "template.created": _("Record template version created"),
    "template.updated": _("Record template draft changed"),
    "template.approved": _("Record template version approved"),
    "task.assigned": _("Task assigned"),
    "task.reassigned": _("Task reassigned"),
    "task.cancelled": _("Task cancelled"),
    "record.started": _("Record started"),
    "record.environment_recorded": _("Environmental conditions recorded"),
    "record.environment_out_of_limits": _("Conditions out of limits — work stopped"),
    "record.equipment_added": _("Equipment added to the record"),
    "record.equipment_removed": _("Equipment removed from the record"),
    "record.readings_saved": _("Readings saved"),
    "record.uncertainty_saved": _("Uncertainties saved"),
    "record.inspections_saved": _("Inspection results saved"),
    "record.conclusion_saved": _("Conclusion saved"),
    "record.signed": _("Record signed by the performer"),
    "record.checked": _("Record checked and signed"),
    "record.returned": _("Record returned with comments"),
    "record.corrected": _("Value corrected"),
    "record.disposed": _("Record disposed of after its retention period"),
    # certificates
    "certificate.prepared": _("Certificate prepared"),
    "certificate.supplement_prepared": _("Supplement prepared"),
    "certificate.replacement_prepared": _("Replacement prepared"),
    "complaint.registered": _("Complaint registered"),
    "complaint.accepted": _("Complaint accepted; the reply clock starts"),
    "complaint.dismissed": _("Complaint not accepted"),
    "complaint.reassigned": _("Responsibility for the complaint changed"),
    "complaint.findings": _("Findings recorded"),
    "complaint.classified": _("Complaint classified"),
    "complaint.reported_to_head": _("Reported to the lab head"),
    "complaint.audit_requested": _("Ad-hoc internal audit requested"),
    "complaint.management_review_item": _("Management-review item raised"),
    "complaint.opinion_proposed": _("Handling opinion proposed"),
    "complaint.opinion_approved": _("Handling opinion approved"),
    "complaint.opinion_returned": _("Handling opinion sent back"),
    "complaint.carried_out": _("Handling carried out"),
    "complaint.replied": _("Reply sent"),
    "complaint.extended": _("Reply due date extended"),
    "complaint.compensation_proposed": _("Compensation proposed"),
    "complaint.compensation_approved": _("Compensation approved"),
    "complaint.compensation_refused": _("Compensation refused"),
    "complaint.closed": _("Complaint closed"),
    "audit_programme.created": _("Audit programme prepared"),
    "audit_programme.approved": _("Audit programme approved"),
    "audit.planned": _("Audit planned"),
    "audit.started": _("Audit started"),
    "audit.checked": _("Checklist item checked"),
    "audit.reported": _("Audit reported"),
    "audit.cancelled": _("Audit cancelled"),
    "finding.raised": _("Finding raised"),
    "finding.closed": _("Finding closed"),
    "action.proposed": _("Corrective action proposed"),
    "action.accepted": _("Corrective action accepted"),
    "action.returned": _("Corrective action sent back"),
    "action.revised": _("Corrective action revised"),
    "action.done": _("Corrective action reported done"),
    "action.verified_effective": _("Verified effective; action closed"),
    "action.verified_not_effective": _("Verified not effective; action reopened"),
    "action.decided": _("Management-review decision recorded"),
    "review.planned": _("Management review planned"),
    "review.inputs_compiled": _("Management-review inputs compiled"),
    "review.held": _("Management review held"),
    "review.approved": _("Management-review minutes approved"),
    "objective.set": _("Quality objective set"),
    "survey.created": _("Satisfaction survey created"),
    "survey.invited": _("Survey invitations sent"),
    "evaluation.recorded": _("Evaluation report recorded"),
    "certificate.amendment_checked": _("Amendment checked (核验)"),
    "certificate.approved": _("Certificate approved (批准)"),
    "certificate.issued": _("Certificate issued"),
    "certificate.voided": _("Certificate void"),
    "seal.created": _("Seal registered"),
    "seal.updated": _("Seal changed"),
}

_source: contextvars.ContextVar[str] = contextvars.ContextVar("audit_source", default="system")


def current_source() -> str:
    return _source.get()


@contextlib.contextmanager
def source(label: str) -> Iterator[None]:
    """Attribute audit events written inside the block to ``label`` (e.g. 'command:seed_demo')."""
    token = _source.set(label)
    try:
        yield
    finally:
        _source.reset(token)


class AuditSourceMiddleware:
    """Marks every event written while handling a request as coming from the web."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _source.set(f"web:{request.method} {request.path}"[:100])
        try:
            return self.get_response(request)
        finally:
            _source.reset(token)


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs):
    _task_tokens[task_id] = _source.set(f"task:{task.name}"[:100])


@task_postrun.connect
def _task_finished(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _source.reset(token)


def _plain(value):
    """A JSON-safe, human-readable form of a field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict:
    """The current values of ``fields`` (FKs as their text), for a later :func:`diff`."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before: dict, after: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {
        name: [before.get(name), after.get(name)]
        for name in after
        if before.get(name) != after.get(name)
    }


def record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    changes: dict | None = None,
    reason: str = "",
    as_deputy_of=None,
) -> AuditEvent:
    """Append one audit event.  Call inside the service's transaction."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        as_deputy_of=as_deputy_of,
        source=current_source(),
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:300] if target is not None else "",
        changes=changes or {},
        reason=reason,
    )


def events_for(target: models.Model):
    """The audit trail of one object, newest first."""
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).select_related("actor", "as_deputy_of")
