"""Read queries about equipment: the equipment list (设备一览表, R-EQP-1) with its filters,
shared by the list page, its Excel and PDF exports and the dashboards.

"Overdue" and "due soon" are worked out here from ``calibration_due`` and the day asked,
never read from a stored flag.  Equipment is usable ON its due date, so it is overdue
from the day after (the same rule as ``Equipment.is_overdue`` and the usage gate).
Retired equipment is never flagged: nobody will use or recalibrate it (the daily job
skips it too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, F, Prefetch, Q, QuerySet

from equipment.models import Equipment, EquipmentStatus, MeasurementStandard

SORTS = {
    "lab_id": (F("lab_id").asc(),),
    "-lab_id": (F("lab_id").desc(),),
    # Never calibrated (no due date) first: they are the most urgent.
    "due": (F("calibration_due").asc(nulls_first=True), F("lab_id").asc()),
    "-due": (F("calibration_due").desc(nulls_last=True), F("lab_id").asc()),
    "name": (F("name").asc(), F("lab_id").asc()),
}
DEFAULT_SORT = "lab_id"


def due_soon_days() -> int:
    return settings.EQUIPMENT_DUE_SOON_DAYS


def overdue_q(today: date) -> Q:
    """Needs calibration and the due date is past (or it was never calibrated)."""
    return (
        Q(needs_calibration=True)
        & (Q(calibration_due__isnull=True) | Q(calibration_due__lt=today))
        & ~Q(status=EquipmentStatus.RETIRED)
    )


def due_soon_q(today: date, days: int | None = None) -> Q:
    """Due today or within ``days`` (default ``settings.EQUIPMENT_DUE_SOON_DAYS``)."""
    horizon = today + timedelta(days=due_soon_days() if days is None else days)
    return (
        Q(needs_calibration=True)
        & Q(calibration_due__gte=today, calibration_due__lte=horizon)
        & ~Q(status=EquipmentStatus.RETIRED)
    )


@dataclass(frozen=True)
class EquipmentFilters:
    """What the list, its exports and the dashboards filter by (all optional)."""

    q: str = ""
    kind: str = ""
    status: str = ""
    overdue: bool = False
    due_soon: bool = False
    custodian: object | None = None  # a User
    standard: MeasurementStandard | None = None
    sort: str = DEFAULT_SORT


def _search(equipment: QuerySet, q: str) -> QuerySet:
    return equipment.filter(
        Q(lab_id__icontains=q)
        | Q(name__icontains=q)
        | Q(model__icontains=q)
        | Q(serial_number__icontains=q)
        | Q(manufacturer__icontains=q)
    )


def equipment_list(filters: EquipmentFilters, *, today: date) -> QuerySet:
    """The filtered, sorted equipment with ``is_overdue_now`` / ``is_due_soon`` annotated,
    the custodian joined and the standards prefetched: two queries however many rows.
    With both "overdue" and "due soon" asked for, either one matches (the "needs
    attention" view)."""
    equipment = Equipment.objects.all()
    if q := filters.q.strip():
        equipment = _search(equipment, q)
    if filters.kind:
        equipment = equipment.filter(kind=filters.kind)
    if filters.status:
        equipment = equipment.filter(status=filters.status)
    due = Q()
    if filters.overdue:
        due |= overdue_q(today)
    if filters.due_soon:
        due |= due_soon_q(today)
    if due:
        equipment = equipment.filter(due)
    if filters.custodian is not None:
        equipment = equipment.filter(custodian=filters.custodian)
    if filters.standard is not None:
        equipment = equipment.filter(standards=filters.standard)
    return (
        equipment.annotate(
            is_overdue_now=ExpressionWrapper(overdue_q(today), output_field=BooleanField()),
            is_due_soon=ExpressionWrapper(due_soon_q(today), output_field=BooleanField()),
        )
        .select_related("custodian")
        .prefetch_related(
            Prefetch("standards", queryset=MeasurementStandard.objects.order_by("name", "pk"))
        )
        .order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))
    )


def standard_state(standard: MeasurementStandard, today: date, days: int | None = None) -> str:
    """The certificate's state on ``today``: "expired", "expiring" (within ``days``),
    "not_yet" (starts later) or "valid"."""
    days = due_soon_days() if days is None else days
    if standard.valid_until is not None and standard.valid_until < today:
        return "expired"
    if standard.valid_from > today:
        return "not_yet"
    if standard.expires_within(today, days + 1):  # inclusive: the last day counts
        return "expiring"
    return "valid"


STANDARD_SORTS = {
    "name": (F("name").asc(), F("pk").asc()),
    "valid_until": (F("valid_until").asc(nulls_last=True), F("name").asc()),
}


def standard_list(*, q: str = "", state: str = "", sort: str = "name", today: date) -> QuerySet:
    """Measurement standards with their member equipment prefetched (two queries).
    ``state``: "expired", "expiring" (within the due-soon window) or "valid"."""
    standards = MeasurementStandard.objects.all()
    if q := q.strip():
        standards = standards.filter(
            Q(name__icontains=q)
            | Q(certificate_no__icontains=q)
            | Q(measurand__icontains=q)
            | Q(members__lab_id__icontains=q)
        ).distinct()
    horizon = today + timedelta(days=due_soon_days())
    if state == "expired":
        standards = standards.filter(valid_until__lt=today)
    elif state == "expiring":
        standards = standards.filter(
            valid_from__lte=today, valid_until__gte=today, valid_until__lte=horizon
        )
    elif state == "valid":
        standards = standards.valid_on(today)
    return standards.prefetch_related(
        Prefetch("members", queryset=Equipment.objects.order_by("lab_id"))
    ).order_by(*STANDARD_SORTS.get(sort, STANDARD_SORTS["name"]))
