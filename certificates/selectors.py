"""Read queries for the task pages (and, later, dashboards): samples waiting for a task,
the task list, and one technician's queues — work to do, records to check and on-site
work grouped by visit.

Every function here issues a constant number of queries, whatever the number of rows.
Rules about who may do what stay in ``certificates.services.tasks``; these only read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from certificates.models import (
    CheckOutcome,
    RecordCheck,
    Task,
    TaskStatus,
)
from intake.models import (
    Disposition,
    OnSiteVisit,
    OrderStatus,
    Sample,
    SampleStatus,
    VisitStatus,
    WorkLocation,
)
from intake.selectors import sample_match
from labqms.models import Role, User

# What the performer still has to do on a task (a returned record needs corrections).
TO_DO_STATUSES = (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.RETURNED)


# --- samples waiting for a task -----------------------------------------------------------


def _next_visit_date():
    """The order's first visit that is not cancelled: the one ``assign_task`` picks."""
    return Subquery(
        OnSiteVisit.objects.filter(order=OuterRef("order_id"))
        .exclude(status=VisitStatus.CANCELLED)
        .order_by("planned_date", "id")
        .values("planned_date")[:1]
    )


def unassigned_samples() -> QuerySet[Sample]:
    """Samples of accepted orders that are in the lab's hands (received or stored) — or,
    for on-site orders, registered for the visit — and have no open task.  Subcontracted
    lines are done elsewhere and never wait here.  Each row carries ``visit_date``."""
    open_task = Task.objects.filter(sample=OuterRef("pk")).exclude(status=TaskStatus.CANCELLED)
    return (
        Sample.objects.filter(order__status=OrderStatus.ACCEPTED)
        .filter(
            Q(status__in=(SampleStatus.RECEIVED, SampleStatus.STORED))
            | Q(status=SampleStatus.REGISTERED, order__work_location=WorkLocation.ON_SITE)
        )
        .exclude(item__disposition=Disposition.SUBCONTRACT)
        .exclude(Exists(open_task))
        .select_related("order__customer", "item__category")
        .annotate(visit_date=_next_visit_date())
    )


# --- tasks --------------------------------------------------------------------------------


def _latest_return_comments():
    return Subquery(
        RecordCheck.objects.filter(record__task=OuterRef("pk"), outcome=CheckOutcome.RETURNED)
        .order_by("-at", "-id")
        .values("comments")[:1]
    )


def tasks_for_list() -> QuerySet[Task]:
    """Tasks with everything a row shows (sample, instrument, order, customer, method,
    people, visit, record) in one query per page."""
    return Task.objects.select_related(
        "sample__order__customer",
        "sample__item__category",
        "method",
        "performer",
        "checker",
        "visit",
        "record",
    )


def search_tasks(tasks: QuerySet[Task], text: str) -> QuerySet[Task]:
    """Sample ID, serial number, order number or customer name contain ``text``."""
    text = (text or "").strip()
    return tasks.filter(sample_match(text, "sample__")) if text else tasks


def _is_on_site() -> Q:
    return Q(visit__isnull=False) | Q(sample__order__work_location=WorkLocation.ON_SITE)


def to_do(user) -> QuerySet[Task]:
    """Lab tasks ``user`` performs and has not finished: returned ones first (with the
    checker's latest comments as ``return_comments``), then by due date."""
    return (
        tasks_for_list()
        .filter(performer=user, status__in=TO_DO_STATUSES)
        .exclude(_is_on_site())
        .annotate(
            returned_first=Case(When(status=TaskStatus.RETURNED, then=Value(0)), default=Value(1), output_field=IntegerField()),
            return_comments=_latest_return_comments(),
        )
        .order_by("returned_first", "sample__order__due_date", "sample__sample_id")
    )


def to_check(user) -> QuerySet[Task]:
    """Records signed by their performer and waiting for ``user``'s check (R-TST-1)."""
    return (
        tasks_for_list()
        .filter(checker=user, status=TaskStatus.AWAITING_CHECK)
        .order_by("sample__order__due_date", "sample__sample_id")
    )


def on_site_to_do(user) -> QuerySet[Task]:
    """On-site tasks ``user`` performs and has not finished (R-ONS-3), returned first."""
    return (
        tasks_for_list()
        .filter(performer=user, status__in=TO_DO_STATUSES)
        .filter(_is_on_site())
        .annotate(
            returned_first=Case(When(status=TaskStatus.RETURNED, then=Value(0)), default=Value(1), output_field=IntegerField()),
            return_comments=_latest_return_comments(),
        )
        .order_by("visit__planned_date", "visit_id", "returned_first", "sample__sample_id")
    )


@dataclass
class VisitGroup:
    """One visit (or ``None``: the order has no visit planned yet) and its tasks."""

    visit: OnSiteVisit | None
    tasks: list[Task] = field(default_factory=list)


def group_by_visit(tasks: Iterable[Task]) -> list[VisitGroup]:
    """Tasks grouped by their visit in the order given; tasks without a visit last."""
    groups: dict[int | None, VisitGroup] = {}
    for task in tasks:
        group = groups.get(task.visit_id)
        if group is None:
            group = groups[task.visit_id] = VisitGroup(task.visit)
        group.tasks.append(task)
    return sorted(groups.values(), key=lambda g: g.visit is None)


def technical_staff() -> QuerySet[User]:
    """Active people who may be named performer or checker (the service checks the
    authorisation for the category on the day)."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.TECHNICIAN, Role.TECHNICAL_LEAD])
        .distinct()
        .order_by("full_name", "username")
    )
