"""Management review (R-MGT-1, R-IMP-3) and quality objectives computed from live data.

:func:`compile_inputs` gathers, for the review's period, everything ISO/IEC 17025 8.9.2
asks for that the system holds: audit results and findings, complaint figures, the
satisfaction results, equipment overdue or out of service, on-time completion, the
quality objectives against their targets and the open corrective actions.  The result is
stored on the review (and frozen when the minutes are approved) so the minutes show what
the meeting saw.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import (
    QUESTIONS,
    ActionStatus,
    Audit,
    AuditStatus,
    Comparison,
    CorrectiveAction,
    Finding,
    ManagementReview,
    Measure,
    QualityObjective,
    ReviewKind,
    ReviewStatus,
    SurveyResponse,
)
from labqms import audit, numbering, permissions

HUNDRED = Decimal(100)


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * HUNDRED / whole).quantize(Decimal("0.1")) if whole else None


def _dates(start: dt.date, end: dt.date) -> dict:
    return {"start": start, "end": end}


# --- the figures ---------------------------------------------------------------------------------


def completion_figures(start: dt.date, end: dt.date) -> dict:
    """Orders completed in the period, and how many by their due date."""
    from intake.models import Order

    orders = Order.objects.filter(completed_at__date__range=(start, end), due_date__isnull=False)
    counts = orders.aggregate(n=Count("id"), on_time=Count("id", filter=Q(completed_at__date__lte=F("due_date"))))
    return {"completed": counts["n"], "on_time": counts["on_time"], "on_time_rate": _rate(counts["on_time"], counts["n"])}


def complaint_figures(start: dt.date, end: dt.date) -> dict:
    from complaints.models import Complaint
    from complaints.services.complaints import figures

    received = Complaint.objects.filter(received_at__date__range=(start, end))
    result = figures(received)
    result["received"] = received.count()
    return result


def satisfaction_figures(start: dt.date, end: dt.date) -> dict:
    """Responses in the period: count, average per question, share of 4–5 overall."""
    responses = list(SurveyResponse.objects.filter(submitted_at__date__range=(start, end)).values_list("scores", flat=True))
    averages = {}
    for key, _label in QUESTIONS:
        values = [int(r[key]) for r in responses if r.get(key) is not None]
        averages[key] = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01")) if values else None
    overall = [int(r["overall"]) for r in responses if r.get("overall") is not None]
    low = sum(1 for r in responses if any(int(v) <= 2 for v in r.values()))
    return {
        "responses": len(responses),
        "averages": averages,
        "satisfied_rate": _rate(sum(1 for v in overall if v >= 4), len(overall)),
        "with_low_scores": low,
    }


def equipment_figures(on: dt.date) -> dict:
    from equipment.models import Equipment, EquipmentStatus

    active = Equipment.objects.exclude(status=EquipmentStatus.RETIRED)
    needing = active.filter(needs_calibration=True).exclude(status=EquipmentStatus.OUT_OF_SERVICE)
    counts = needing.aggregate(
        n=Count("id"),
        overdue=Count("id", filter=Q(calibration_due__lt=on) | Q(calibration_due__isnull=True)),
    )
    return {
        "in_use_needing_calibration": counts["n"],
        "overdue": counts["overdue"],
        "out_of_service": active.filter(status=EquipmentStatus.OUT_OF_SERVICE).count(),
        "in_calibration_rate": _rate(counts["n"] - counts["overdue"], counts["n"]),
    }


def audit_figures(start: dt.date, end: dt.date) -> dict:
    audits = Audit.objects.filter(planned_start__range=(start, end))
    findings = Finding.objects.filter(raised_on__range=(start, end))
    return {
        "audits_planned": audits.exclude(status=AuditStatus.CANCELLED).count(),
        "audits_reported": audits.filter(status=AuditStatus.REPORTED).count(),
        "findings": dict(findings.values_list("grade").annotate(n=Count("id")).values_list("grade", "n")),
        "findings_open": findings.exclude(status="closed").count(),
    }


def action_figures(on: dt.date) -> dict:
    open_actions = CorrectiveAction.objects.exclude(status=ActionStatus.CLOSED)
    return {"open": open_actions.count(), "overdue": open_actions.filter(due_on__lt=on).count()}


def measure_value(measure: str, year: int, on: dt.date | None = None) -> Decimal | None:
    """The live value of an objective's measure for ``year``."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    on = on or timezone.localdate()
    if measure == Measure.ON_TIME_COMPLETION:
        return completion_figures(start, end)["on_time_rate"]
    if measure == Measure.SATISFACTION:
        return satisfaction_figures(start, end)["satisfied_rate"]
    if measure == Measure.COMPLAINTS_ON_TIME:
        return complaint_figures(start, end)["within_limit_rate"]
    if measure == Measure.COMPLAINT_RATE:
        from certificates.models import Certificate
        from complaints.models import Complaint

        certificates = Certificate.objects.filter(issued_at__date__range=(start, end)).count()
        complaints = Complaint.objects.filter(accepted_on__range=(start, end)).count()
        return (Decimal(complaints) * 1000 / certificates).quantize(Decimal("0.01")) if certificates else None
    if measure == Measure.ACTIONS_ON_TIME:
        closed = CorrectiveAction.objects.filter(status=ActionStatus.CLOSED, verified_at__date__range=(start, end))
        counts = closed.aggregate(n=Count("id"), on_time=Count("id", filter=Q(verified_at__date__lte=F("due_on"))))
        return _rate(counts["on_time"], counts["n"])
    if measure == Measure.EQUIPMENT_IN_CALIBRATION:
        return equipment_figures(on)["in_calibration_rate"]
    raise ValueError(measure)


def objectives_against_targets(year: int) -> list[dict]:
    rows = []
    for objective in QualityObjective.objects.filter(year=year).order_by("measure"):
        value = measure_value(objective.measure, year)
        met = None
        if value is not None:
            met = value >= objective.target if objective.comparison == Comparison.AT_LEAST else value <= objective.target
        rows.append({
            "id": objective.pk, "measure": objective.measure, "label": str(Measure(objective.measure).label),
            "comparison": objective.get_comparison_display(), "target": objective.target, "value": value, "met": met,
        })
    return rows


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def compile_inputs(start: dt.date, end: dt.date, on: dt.date | None = None) -> dict:
    on = on or timezone.localdate()
    return _json({
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "audits": audit_figures(start, end),
        "complaints": complaint_figures(start, end),
        "satisfaction": satisfaction_figures(start, end),
        "equipment": equipment_figures(on),
        "completion": completion_figures(start, end),
        "objectives": objectives_against_targets(end.year),
        "actions": action_figures(on),
    })


# --- the review ------------------------------------------------------------------------------------


def plan_review(*, actor, kind: str, period_start: dt.date, period_end: dt.date, planned_on: dt.date, chair,
                source_complaint=None) -> ManagementReview:
    permissions.require(actor, "audits.manage")
    errors = {}
    if kind not in ReviewKind.values:
        errors["kind"] = _("Choose annual or ad hoc.")
    if period_start and period_end and period_end < period_start:
        errors["period_end"] = _("The end is before the start.")
    if chair is None or not permissions.can(chair, "audits.approve"):
        errors["chair"] = _("The lab head chairs the management review.")
    if kind == ReviewKind.ANNUAL and period_start and period_end and not errors:
        overlapping = ManagementReview.objects.filter(
            kind=ReviewKind.ANNUAL, period_start__lte=period_end, period_end__gte=period_start
        ).first()
        if overlapping is not None:
            errors["period_start"] = _(
                "Annual review %(number)s already covers part of this period; plan an ad hoc review instead."
            ) % {"number": overlapping.number}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        review = ManagementReview.objects.create(
            number=numbering.next_number("review", year=planned_on.year), kind=kind, period_start=period_start,
            period_end=period_end, planned_on=planned_on, chair=chair, source_complaint=source_complaint, created_by=actor,
        )
        audit.record(actor=actor, action="review.planned", target=review)
    return review


def refresh_inputs(*, actor, review: ManagementReview) -> ManagementReview:
    permissions.require(actor, "audits.manage")
    with transaction.atomic():
        review = ManagementReview.objects.select_for_update().get(pk=review.pk)
        if review.status == ReviewStatus.CLOSED:
            raise ValidationError(_("The minutes are approved; the inputs stay as the meeting saw them."))
        review.inputs = compile_inputs(review.period_start, review.period_end)
        review.inputs_compiled_at = timezone.now()
        review.save(update_fields=["inputs", "inputs_compiled_at"])
        audit.record(actor=actor, action="review.inputs_compiled", target=review)
    return review


def record_meeting(*, actor, review: ManagementReview, held_on: dt.date, attendees: str, minutes: str) -> ManagementReview:
    permissions.require(actor, "audits.manage")
    errors = {}
    if held_on is None or held_on > timezone.localdate():
        errors["held_on"] = _("Enter the date the review was held (not in the future).")
    if not (attendees or "").strip():
        errors["attendees"] = _("List who attended.")
    if not (minutes or "").strip():
        errors["minutes"] = _("Write the minutes.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        review = ManagementReview.objects.select_for_update().get(pk=review.pk)
        if review.status == ReviewStatus.CLOSED:
            raise ValidationError(_("The minutes are approved and do not change."))
        if not review.inputs:
            raise ValidationError(_("Compile the inputs before recording the meeting."))
        review.held_on, review.attendees, review.minutes = held_on, attendees.strip(), minutes.strip()
        review.status = ReviewStatus.HELD
        review.save(update_fields=["held_on", "attendees", "minutes", "status"])
        audit.record(actor=actor, action="review.held", target=review)
    return review


def add_decision(*, actor, review: ManagementReview, action: str, responsible, due_on: dt.date) -> CorrectiveAction:
    """A decision of the review, tracked like a corrective action (accepted at once)."""
    permissions.require(actor, "audits.manage")
    errors = {}
    if not (action or "").strip():
        errors["action"] = _("Describe the decision and what is to be done.")
    if responsible is None:
        errors["responsible"] = _("Name who carries it out.")
    if due_on is None:
        errors["due_on"] = _("Enter the due date.")
    if errors:
        raise ValidationError(errors)
    from audits.services.audits import _action_event

    with transaction.atomic():
        review = ManagementReview.objects.select_for_update().get(pk=review.pk)
        if review.status != ReviewStatus.HELD:
            raise ValidationError(_("Decisions are recorded for a review that was held, before its minutes are approved."))
        item = CorrectiveAction.objects.create(
            # The review decided it (its chair answers for the decision); the quality lead
            # who records it stays free to verify its effectiveness later.
            review=review, action=action.strip(), responsible=responsible, due_on=due_on, proposed_by=review.chair,
            status=ActionStatus.IN_PROGRESS, accepted_by=actor, accepted_at=timezone.now(),
        )
        _action_event(item, actor, "decided", action.strip())
    return item


def approve_minutes(*, actor, review: ManagementReview) -> ManagementReview:
    with transaction.atomic():
        review = ManagementReview.objects.select_for_update().get(pk=review.pk)
        if actor.pk != review.chair_id:
            raise ValidationError(_("The chair of the review approves its minutes."))
        permissions.require(actor, "audits.approve")
        if review.status != ReviewStatus.HELD:
            raise ValidationError(_("Only the minutes of a review that was held are approved."))
        review.status, review.approved_by, review.approved_at = ReviewStatus.CLOSED, actor, timezone.now()
        review.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(actor=actor, action="review.approved", target=review)
    return review


def set_objective(*, actor, year: int, measure: str, comparison: str, target, statement: str = "") -> QualityObjective:
    permissions.require(actor, "audits.manage")
    errors = {}
    if measure not in Measure.values:
        errors["measure"] = _("Choose what the objective measures.")
    if comparison not in Comparison.values:
        errors["comparison"] = _("Choose ≥ or ≤.")
    try:
        target = Decimal(str(target).strip())
    except Exception:  # noqa: BLE001 — any unparsable input is the same refusal
        target = None
    if target is None or not target.is_finite():
        errors["target"] = _("Enter the target as a number.")
    else:
        if target < 0 or (measure != Measure.COMPLAINT_RATE and target > 100):
            errors["target"] = _("A percentage target lies between 0 and 100.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        before = QualityObjective.objects.select_for_update().filter(year=year, measure=measure).first()
        old_target = f"{before.get_comparison_display()} {before.target}" if before else None
        objective, created = QualityObjective.objects.update_or_create(
            year=year, measure=measure,
            defaults={"comparison": comparison, "target": target, "statement": (statement or "").strip(), "set_by": actor},
        )
        audit.record(actor=actor, action="objective.set", target=objective,
                     changes={"target": [old_target, f"{objective.get_comparison_display()} {target}"]})
    return objective
