"""Tasks: the queue of samples waiting for a task, assignment, "my tasks" (performer and
checker queues, on-site tasks grouped by visit), the task list, and start / reassign /
cancel (R-TST-1, R-TST-4, R-ONS-3).

Views parse with a form and call ``certificates.services.tasks``; the service decides
who may perform or check what.  A service's ``ValidationError`` becomes form errors and
the page is shown again with everything that was typed.  Lists read through
``certificates.selectors`` in a constant number of queries.  Counter staff and customers
get 404 everywhere (``records.view``); assignment answers 404 to anyone without
``records.assign``."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from certificates import selectors
from certificates.forms import tasks as forms
from certificates.models import Record, Task, TaskStatus
from certificates.services import methods as method_services
from certificates.services import tasks as services
from intake.models import Sample, WorkLocation
from intake.selectors import search_samples
from labqms import export, permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page, sort_links


def _refused(request, error: PermissionDenied) -> None:
    messages.error(request, str(error) or _("You may not do this."))


def _require_assign(request) -> None:
    permissions.require_or_404(request.user, "records.view")
    permissions.require_or_404(request.user, "records.assign")


# --- what a task row offers -----------------------------------------------------------


@dataclass(frozen=True)
class RowAction:
    """The one button a task row shows: ``kind`` is start / entry / check / open."""

    kind: str
    url: str


def row_action(task: Task, user) -> RowAction | None:
    """Start (the performer, not started), continue the record (the performer, in progress
    or returned), check (the checker, awaiting check), else read the record."""
    record = getattr(task, "record", None)
    if task.status == TaskStatus.ASSIGNED:
        if task.performer_id == user.pk:
            return RowAction("start", reverse("certificates:task_start", args=[task.pk]))
        return None
    if record is None:
        return None
    if task.status in (TaskStatus.IN_PROGRESS, TaskStatus.RETURNED) and task.performer_id == user.pk:
        return RowAction("entry", reverse("certificates:record_entry", args=[record.pk]))
    if task.status == TaskStatus.AWAITING_CHECK and task.checker_id == user.pk:
        return RowAction("check", reverse("certificates:record_detail", args=[record.pk]))
    return RowAction("open", reverse("certificates:record_detail", args=[record.pk]))


def _with_actions(tasks, user):
    tasks = list(tasks)
    for task in tasks:
        task.action = row_action(task, user)
    return tasks


# --- samples waiting for a task ---------------------------------------------------------


@login_required
def unassigned(request):
    permissions.require_or_404(request.user, "records.view")
    form = forms.UnassignedFilterForm(request.GET or None)
    samples = selectors.unassigned_samples()
    sort = forms.DEFAULT_SAMPLE_SORT
    if form.is_valid():
        data = form.cleaned_data
        samples = search_samples(samples, data["q"] or "")
        if data["category"]:
            samples = samples.filter(item__category=data["category"])
        if data["service"]:
            samples = samples.filter(item__service=data["service"])
        sort = data["sort"] or sort
    samples = samples.order_by(*forms.SAMPLE_SORTS[sort])
    if export.requested(request):
        return export.response(
            request, samples, _unassigned_columns(), name="samples-waiting-for-a-task",
            title=_("Samples waiting for a task"),
        )
    page = Paginator(samples, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/unassigned.html",
        {
            "form": form,
            "page": page,
            "today": timezone.localdate(),
            "sort": sort,
            "sort_links": sort_links(request, ("id", "due"), sort),
            "querystring": querystring_without_page(request),
            "can_assign": permissions.can(request.user, "records.assign"),
        },
    )


def _unassigned_columns() -> list[export.Column]:
    return [
        export.Column(_("Sample ID"), lambda s: s.sample_id, 18),
        export.Column(_("Status"), lambda s: s.get_status_display(), 10),
        export.Column(_("Instrument"), lambda s: s.item.instrument_name, 20),
        export.field(Sample, "item__model", width=12),
        export.Column(_("Serial number"), lambda s: s.serial_number, 14),
        export.Column(_("Instrument category"), lambda s: s.item.category.name, 16),
        export.Column(_("Service"), lambda s: s.item.get_service_display(), 10),
        export.Column(_("Customer"), lambda s: s.order.customer.name, 28),
        export.Column(_("Order"), lambda s: s.order.number, 18),
        export.Column(_("Due date"), lambda s: s.order.due_date, 12),
        export.Column(pgettext("on-site job", "On-site visit"), lambda s: s.visit_date, 12),
    ]


def _task_columns(queue: bool = False) -> list[export.Column]:
    """A task row's columns; ``queue`` adds which of "my tasks" queues it is in."""
    columns = [
        export.Column(_("Sample ID"), lambda t: t.sample.sample_id, 18),
        export.Column(_("Instrument"), lambda t: t.sample.item.instrument_name, 20),
        export.field(Task, "sample__item__model", width=12),
        export.Column(_("Instrument category"), lambda t: t.sample.item.category.name, 16),
        export.Column(_("Serial number"), lambda t: t.sample.serial_number, 14),
        export.Column(_("Customer"), lambda t: t.sample.order.customer.name, 28),
        export.Column(_("Order"), lambda t: t.sample.order.number, 18),
        export.Column(
            pgettext("on-site job", "On-site visit"), lambda t: t.visit.planned_date if t.visit else None, 12
        ),
        export.Column(pgettext("measurement method", "Method"), lambda t: t.method.full_code, 16),
        export.Column(_("Performer"), lambda t: t.performer, 12),
        export.Column(_("Checker"), lambda t: t.checker, 12),
        export.Column(_("Due date"), lambda t: t.sample.order.due_date, 12),
        export.Column(_("Task status"), lambda t: t.get_status_display(), 12),
        export.Column(_("Record"), lambda t: getattr(getattr(t, "record", None), "number", ""), 18),
        export.Column(_("Assigned"), lambda t: t.assigned_at, 17),
    ]
    if queue:
        columns.insert(0, export.Column(_("Queue"), lambda t: t.queue, 12))
    return columns


# --- assignment ----------------------------------------------------------------------------


def _sample_ids(values) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))


def _preferred_method(methods, category):
    """The current edition the category names as its default method, if it is offered."""
    wanted = (category.method_code or "").strip()
    if not wanted:
        return None
    methods = list(methods)
    for candidate in (
        lambda m: m.full_code == wanted,
        lambda m: m.code == wanted,
        lambda m: m.code == wanted.rsplit("-", 1)[0],
    ):
        for method in methods:
            if candidate(method):
                return method
    return None


def _assign_form(samples: list[Sample], data=None) -> forms.AssignForm:
    item = samples[0].item
    category, service = item.category, item.service
    methods = method_services.current_methods(category, service)
    performers, checkers = services.eligible_people(category, service)
    orders = {s.order_id: s.order for s in samples}
    visits = None
    if len(orders) == 1:
        order = next(iter(orders.values()))
        if order.work_location == WorkLocation.ON_SITE:
            visits = forms.visits_of(order)
    return forms.AssignForm(
        data,
        methods=methods,
        performers=performers,
        checkers=checkers,
        visits=visits,
        preferred_method=_preferred_method(methods, category),
    )


def _back_to_queue(request, message: str):
    messages.error(request, message)
    return redirect("certificates:unassigned")


@login_required
def task_assign(request):
    """``?sample=<id>&sample=<id>…``: samples of one category × service get one method,
    performer and checker; all are assigned or none (R-TST-1, R-TST-4)."""
    _require_assign(request)
    source = request.POST if request.method == "POST" else request.GET
    ids = _sample_ids(source.getlist("sample"))
    if not ids:
        return _back_to_queue(request, _("Select the samples to assign first."))
    base = Sample.objects.select_related("order__customer", "item__category")
    if request.method == "POST":
        # The service says why a sample can no longer be assigned (taken meanwhile …).
        samples = list(base.filter(pk__in=ids).order_by("sample_id"))
    else:
        samples = list(
            selectors.unassigned_samples().filter(pk__in=ids).order_by("sample_id")
        )
    if len(samples) != len(ids):
        return _back_to_queue(request, _("Some of the selected samples no longer wait for a task; select again."))
    if len({(s.item.category_id, s.item.service) for s in samples}) > 1:
        return _back_to_queue(
            request, _("Select samples of one instrument category and one service: they get the same method and people.")
        )

    form = _assign_form(samples, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                for sample in samples:
                    services.assign_task(
                        actor=request.user,
                        sample=sample,
                        method=data["method"],
                        performer=data["performer"],
                        checker=data["checker"],
                        visit=data.get("visit"),
                        note=data["note"],
                    )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d task assigned to %(performer)s (checker: %(checker)s).",
                    "%(count)d tasks assigned to %(performer)s (checker: %(checker)s).",
                    len(samples),
                )
                % {"count": len(samples), "performer": data["performer"], "checker": data["checker"]},
            )
            return redirect(
                f"{reverse('certificates:task_list')}?{urlencode({'performer': data['performer'].pk, 'status': TaskStatus.ASSIGNED})}"
            )
    first = samples[0].item
    return render(
        request,
        "certificates/task_assign.html",
        {
            "form": form,
            "samples": samples,
            "category": first.category,
            "service": first.get_service_display(),
            "today": timezone.localdate(),
        },
    )


# --- my tasks ------------------------------------------------------------------------------


@login_required
def my_tasks(request):
    """The signed-in technician's queues: to do (returned first), to check, on site by visit."""
    permissions.require_or_404(request.user, "records.view")
    user = request.user
    to_do = _with_actions(selectors.to_do(user), user)
    to_check = _with_actions(selectors.to_check(user), user)
    on_site = _with_actions(selectors.on_site_to_do(user), user)
    if export.requested(request):
        for label, queue in ((_("To do"), to_do), (_("To check"), to_check), (_("On site"), on_site)):
            for task in queue:
                task.queue = label
        return export.response(
            request, to_do + to_check + on_site, _task_columns(queue=True), name="my-tasks", title=_("My tasks")
        )
    can_assign = permissions.can(user, "records.assign")
    return render(
        request,
        "certificates/my_tasks.html",
        {
            "to_do": to_do,
            "to_check": to_check,
            "visit_groups": selectors.group_by_visit(on_site),
            "on_site_count": len(on_site),
            "returned_count": sum(1 for t in to_do + on_site if t.status == TaskStatus.RETURNED),
            "can_assign": can_assign,
            "unassigned_count": selectors.unassigned_samples().count() if can_assign else None,
            "today": timezone.localdate(),
        },
    )


# --- all tasks -----------------------------------------------------------------------------


@login_required
def task_list(request):
    permissions.require_or_404(request.user, "records.view")
    form = forms.TaskFilterForm(request.GET or None)
    tasks = selectors.tasks_for_list()
    sort = forms.DEFAULT_TASK_SORT
    if form.is_valid():
        data = form.cleaned_data
        tasks = selectors.search_tasks(tasks, data["q"])
        if data["status"] == forms.TO_DO:
            tasks = tasks.filter(status__in=selectors.TO_DO_STATUSES)
        elif data["status"]:
            tasks = tasks.filter(status=data["status"])
        for name, lookup in (
            ("performer", "performer"),
            ("checker", "checker"),
            ("category", "sample__item__category"),
            ("method", "method"),
        ):
            if data[name]:
                tasks = tasks.filter(**{lookup: data[name]})
        sort = data["sort"] or sort
    tasks = tasks.order_by(*forms.TASK_SORTS[sort])
    if export.requested(request):
        return export.response(request, tasks, _task_columns(), name="tasks", title=_("Tasks"))
    page = Paginator(tasks, page_size(request)).get_page(request.GET.get("page"))
    page.object_list = _with_actions(page.object_list, request.user)
    return render(
        request,
        "certificates/task_list.html",
        {
            "form": form,
            "page": page,
            "today": timezone.localdate(),
            "sort": sort,
            "sort_links": sort_links(request, ("id", "due", "assigned"), sort),
            "querystring": querystring_without_page(request),
            "can_assign": permissions.can(request.user, "records.assign"),
        },
    )


# --- start, reassign, cancel ---------------------------------------------------------------


@login_required
@require_POST
def task_start(request, pk):
    """The performer starts: the record opens and the sample is marked in test."""
    permissions.require_or_404(request.user, "records.view")
    task = get_object_or_404(Task, pk=pk)
    existing = Record.objects.filter(task=task, performer=request.user).first()
    if existing is not None:
        # A second click on "start" (or a stale page): the record is already open.
        return redirect("certificates:record_entry", pk=existing.pk)
    try:
        record = services.start_task(actor=request.user, task=task)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        _refused(request, error)
    else:
        messages.success(request, _("Record %(number)s opened; the sample is in test.") % {"number": record.number})
        return redirect("certificates:record_entry", pk=record.pk)
    return redirect("certificates:my_tasks")


def _task_or_404(request, pk) -> Task:
    _require_assign(request)
    return get_object_or_404(selectors.tasks_for_list(), pk=pk)


def _reassign_form(task: Task, data=None) -> forms.ReassignForm:
    record = getattr(task, "record", None)
    performers, checkers = services.eligible_people(task.sample.item.category, task.service)
    return forms.ReassignForm(
        data,
        initial={"performer": task.performer_id, "checker": task.checker_id},
        performers=performers,
        checkers=checkers,
        performer_locked=record is not None and record.is_locked,
        current_performer=task.performer,
    )


REASSIGNABLE = (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.AWAITING_CHECK)


def _render_reassign(request, task, form, cancel_form):
    return render(
        request,
        "certificates/task_reassign.html",
        {
            "task": task,
            "record": getattr(task, "record", None),
            "form": form if task.status in REASSIGNABLE else None,
            "cancel_form": cancel_form if task.status == TaskStatus.ASSIGNED or cancel_form.is_bound else None,
            "today": timezone.localdate(),
        },
    )


@login_required
def task_reassign(request, pk):
    """Change the performer and/or checker, with a reason (audited by the service)."""
    task = _task_or_404(request, pk)
    form = _reassign_form(task, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.reassign_task(
                actor=request.user, task=task, performer=data["performer"], checker=data["checker"], reason=data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(request, _("Task %(sample)s reassigned.") % {"sample": task.sample.sample_id})
            return redirect("certificates:task_list")
    return _render_reassign(request, task, form, forms.CancelForm())


@login_required
@require_POST
def task_cancel(request, pk):
    """Cancel a task not yet started; the sample goes back to the queue."""
    task = _task_or_404(request, pk)
    cancel_form = forms.CancelForm(request.POST)
    if cancel_form.is_valid():
        try:
            services.cancel_task(actor=request.user, task=task, reason=cancel_form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(cancel_form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(
                request, _("Task %(sample)s cancelled; the sample waits for a new task.") % {"sample": task.sample.sample_id}
            )
            return redirect("certificates:unassigned")
    return _render_reassign(request, task, _reassign_form(task), cancel_form)


urlpatterns = [
    path("tasks/", task_list, name="task_list"),
    path("tasks/mine/", my_tasks, name="my_tasks"),
    path("tasks/unassigned/", unassigned, name="unassigned"),
    path("tasks/assign/", task_assign, name="task_assign"),
    path("tasks/<int:pk>/start/", task_start, name="task_start"),
    path("tasks/<int:pk>/reassign/", task_reassign, name="task_reassign"),
    path("tasks/<int:pk>/cancel/", task_cancel, name="task_cancel"),
]
