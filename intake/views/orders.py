"""Order list, fast order entry (header + rows of lines), the .xlsx import with its
template, and the counter's queue of online requests (R-INT-1, R-INT-2, R-INT-9).

Views parse with forms and call ``intake.services``; every error comes back onto the form
it belongs to (a line's error under its field in its row) and nothing typed is lost."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    BooleanField,
    Case,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake import selectors
from intake.forms.items import line_initial
from intake.forms.orders import (
    ImportForm,
    OrderEditForm,
    OrderFilterForm,
    OrderForm,
    OrderLineFormSet,
    RequestContactForm,
    RequestFilterForm,
)
from intake.models import (
    Customer,
    OnlineRequest,
    Order,
    OrderItem,
    OrderStatus,
    RequestItem,
    RequestStatus,
    Sample,
)
from intake.services import orders as order_services
from intake.services import portal as portal_services
from intake.services import spreadsheets
from intake.services.items import clean_lines
from intake.services.orders import LinesInvalid
from labqms import export, permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page, run_with_reason

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def waiting_requests() -> int:
    return OnlineRequest.objects.filter(status=RequestStatus.SUBMITTED).count()


@login_required
def order_list(request):
    permissions.require_or_404(request.user, "intake.view")
    today = timezone.localdate()
    form = OrderFilterForm(request.GET or None)
    orders = Order.objects.select_related("customer").annotate(
        item_count=selectors.count_of(OrderItem, order=OuterRef("pk")),
        sample_count=selectors.count_of(Sample, order=OuterRef("pk")),
        overdue=Case(
            When(Q(status=OrderStatus.ACCEPTED, due_date__lt=today), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
    ordering = OrderFilterForm.SORTS["newest"]
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            # One indexed search per column, united (see intake.selectors.sample_match).
            ids = Order.objects.order_by().values_list("pk", flat=True)
            customers = Customer.objects.filter(Q(name__icontains=q) | Q(short_name__icontains=q)).values("pk")
            orders = orders.filter(pk__in=selectors.few_or_subquery(ids.filter(number__icontains=q).union(
                ids.filter(customer__in=customers),
                OrderItem.objects.order_by().filter(serial_number__icontains=q).values_list("order_id", flat=True),
                Sample.objects.order_by().filter(sample_id__icontains=q).values_list("order_id", flat=True),
            )))
        for name in ("status", "channel", "work_location"):
            if data[name]:
                orders = orders.filter(**{name: data[name]})
        if data["due_from"]:
            orders = orders.filter(due_date__gte=data["due_from"])
        if data["due_to"]:
            orders = orders.filter(due_date__lte=data["due_to"])
        if data["overdue"]:
            orders = orders.filter(status=OrderStatus.ACCEPTED, due_date__lt=today)
        ordering = OrderFilterForm.SORTS.get(data["sort"] or "newest", ordering)
    if ordering[0] == "due_date":
        orders = orders.order_by(F("due_date").asc(nulls_last=True), *ordering[1:])
    else:
        orders = orders.order_by(*ordering)
    if export.requested(request):
        return export.response(request, orders, _order_columns(), name="orders", title=_("Entrustment orders"))
    page = Paginator(orders, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/order_list.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "waiting": waiting_requests(),
            "querystring": querystring_without_page(request),
        },
    )


def _order_columns() -> list[export.Column]:
    return [
        export.Column(_("Order number"), lambda o: o.number, 18),
        export.Column(_("Customer"), lambda o: o.customer.name, 28),
        export.Column(_("Channel"), lambda o: o.get_channel_display(), 12),
        export.field(Order, "work_location", width=12),
        export.Column(_("Status"), lambda o: o.get_status_display(), 12),
        export.Column(_("Lines"), lambda o: o.item_count, 8),
        export.Column(_("Samples"), lambda o: o.sample_count, 8),
        export.Column(_("Due date"), lambda o: o.due_date, 12),
        export.field(Order, "due_date_provisional", width=10),
        export.Column(_("Overdue"), lambda o: o.overdue, 10),
        export.Column(_("Created"), lambda o: o.created_at, 17),
    ]


def _render_order_form(request, context):
    context.setdefault("order", None)
    return render(request, "intake/order_form.html", context)


def _lines_failed(header_form, formset, error, indexes) -> None:
    """Put a service error where it belongs: line errors in their rows, the rest on top."""
    if isinstance(error, LinesInvalid) and formset.add_line_errors(error, indexes):
        header_form.add_error(None, _("Some lines need attention: see the rows marked below."))
    else:
        add_service_errors(header_form, error)


@login_required
def order_create(request):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    form = OrderForm(request.POST or None)
    formset = OrderLineFormSet(request.POST or None)
    if request.method == "POST":
        forms_ok = form.is_valid()
        if formset.is_valid() and forms_ok:
            indexes, lines = formset.lines()
            data = form.cleaned_data
            try:
                order = order_services.create_order(
                    actor=request.user,
                    customer=data["customer"],
                    contact=data["contact"],
                    lines=lines,
                    channel=data["channel"],
                    work_location=data["work_location"],
                    special_requirements=data["special_requirements"],
                    sample_disposal=data["sample_disposal"],
                )
            except ValidationError as error:
                _lines_failed(form, formset, error, indexes)
            except PermissionDenied as error:
                messages.error(request, str(error) or _("You may not do this."))
                return redirect("intake:order_list")
            else:
                messages.success(
                    request, _("Order %(number)s saved as a draft.") % {"number": order.number}
                )
                return redirect("intake:order_detail", pk=order.pk)
    return _render_order_form(
        request, {"form": form, "formset": formset, "title": _("New order")}
    )


@login_required
def order_edit(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    order = get_object_or_404(Order.objects.select_related("customer", "contact"), pk=pk)
    if not order.is_editable:
        messages.error(request, _("Only a draft order can be edited; re-open the review first."))
        return redirect("intake:order_detail", pk=order.pk)
    if request.method == "POST":
        form = OrderEditForm(request.POST, order=order)
        formset = OrderLineFormSet(request.POST)
    else:
        form = OrderEditForm(
            order=order,
            initial={
                "customer": order.customer,
                "contact": order.contact,
                "channel": order.channel,
                "work_location": order.work_location,
                "special_requirements": order.special_requirements,
                "sample_disposal": order.sample_disposal,
            },
        )
        items = order.items.select_related("category").order_by("line_no")
        formset = OrderLineFormSet(initial=[line_initial(item) for item in items])
    if request.method == "POST":
        forms_ok = form.is_valid()
        if formset.is_valid() and forms_ok:
            indexes, lines = formset.lines()
            data = form.cleaned_data
            try:
                order_services.update_order(
                    actor=request.user,
                    order=order,
                    lines=lines,
                    customer=data["customer"],
                    contact=data["contact"],
                    channel=data["channel"],
                    work_location=data["work_location"],
                    special_requirements=data["special_requirements"],
                    sample_disposal=data["sample_disposal"],
                    reason=data["reason"],
                )
            except ValidationError as error:
                _lines_failed(form, formset, error, indexes)
            except PermissionDenied as error:
                messages.error(request, str(error) or _("You may not do this."))
                return redirect("intake:order_detail", pk=order.pk)
            else:
                messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
                return redirect("intake:order_detail", pk=order.pk)
    return _render_order_form(
        request,
        {
            "form": form,
            "formset": formset,
            "order": order,
            "title": _("Edit order %(number)s") % {"number": order.number},
        },
    )


def sheet_line_problems(result, *, check_scope: bool) -> list[str]:
    """Line rules (serials, quantity, scope…) of a sheet's readable rows, by sheet row.

    The lines are laid out at their sheet rows (blank fillers between them, whose own
    errors are dropped) so that "serial already on row N" names a sheet row too."""
    if not result.lines:
        return []
    first = result.row_numbers[0]
    laid_out: list[dict] = [{} for _row in range(result.row_numbers[-1] - first + 1)]
    for row, line in zip(result.row_numbers, result.lines, strict=True):
        laid_out[row - first] = line
    _cleaned, line_problems = clean_lines(
        laid_out, on=timezone.localdate(), check_scope=check_scope, first_line=first
    )
    rows = set(result.row_numbers)
    return [
        _("Row %(row)s: %(errors)s") % {"row": problem.line, "errors": " ".join(problem.messages())}
        for problem in line_problems
        if problem.line in rows
    ]


@login_required
def order_import(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    order = get_object_or_404(Order.objects.select_related("customer"), pk=pk)
    if not order.is_editable:
        messages.error(request, _("Lines can only be imported into a draft order."))
        return redirect("intake:order_detail", pk=order.pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        result = spreadsheets.read_items(form.cleaned_data["file"])
        if result.errors:
            # Report the line rules of the readable rows too, so that one round of
            # corrections fixes the whole sheet.
            problems = result.errors + sheet_line_problems(result, check_scope=True)
        else:
            try:
                count = order_services.append_lines(
                    actor=request.user,
                    order=order,
                    lines=result.lines,
                    first_line_numbers=result.row_numbers,
                )
            except LinesInvalid as error:
                problems = [
                    _("Row %(row)s: %(errors)s")
                    % {"row": problem.line, "errors": " ".join(problem.messages())}
                    for problem in error.line_errors
                ]
            except ValidationError as error:
                problems = list(error.messages)
            except PermissionDenied as error:
                messages.error(request, str(error) or _("You may not do this."))
                return redirect("intake:order_detail", pk=order.pk)
            else:
                messages.success(request, _("%(count)s lines imported.") % {"count": count})
                return redirect("intake:order_edit", pk=order.pk)
    return render(
        request, "intake/order_import.html", {"order": order, "form": form, "problems": problems}
    )


@login_required
def import_template(request):
    """The blank device list: staff and portal customers alike download it."""
    response = HttpResponse(spreadsheets.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="labqms-items-template.xlsx"'
    return response


@login_required
def request_list(request):
    permissions.require_or_404(request.user, "intake.view")
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = RequestStatus.SUBMITTED
    form = RequestFilterForm(params)
    requests = OnlineRequest.objects.select_related("customer", "order").annotate(
        item_count=selectors.count_of(RequestItem, request=OuterRef("pk"))
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            requests = requests.filter(status=data["status"])
        if data["q"]:
            q = data["q"].strip()
            requests = requests.filter(
                Q(customer__name__icontains=q)
                | Q(customer__short_name__icontains=q)
                | Q(contact_name__icontains=q)
                | Q(contact_phone__icontains=q)
            )
    requests = requests.order_by("-submitted_at", "-id")
    if export.requested(request):
        return export.response(
            request, requests, _request_columns(), name="online-requests", title=_("Online requests")
        )
    page = Paginator(requests, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/request_list.html",
        {
            "form": form,
            "page": page,
            "waiting": waiting_requests(),
            "querystring": querystring_without_page(request),
        },
    )


def _request_columns() -> list[export.Column]:
    return [
        export.Column("#", lambda r: r.pk, 8),
        export.Column(_("Customer"), lambda r: r.customer.name, 28),
        export.Column(_("Submitted at"), lambda r: r.submitted_at, 17),
        export.Column(_("Contact"), lambda r: r.contact_name, 12),
        export.field(OnlineRequest, "contact_phone", width=14),
        export.Column(_("Lines"), lambda r: r.item_count, 8),
        export.Column(_("Preferred date"), lambda r: r.preferred_date, 12),
        export.field(OnlineRequest, "work_location", width=12),
        export.Column(_("Status"), lambda r: r.get_status_display(), 12),
        export.field(OnlineRequest, "decline_reason", width=24),
        export.Column(_("Order number"), lambda r: r.order.number if r.order_id else "", 18),
    ]


def _guess_contact(online_request: OnlineRequest):
    """The customer's contact with the name the requester gave, if there is one."""
    return (
        online_request.customer.contacts.filter(
            is_active=True, name=online_request.contact_name.strip()
        ).first()
    )


@login_required
def request_convert(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    online_request = get_object_or_404(
        OnlineRequest.objects.select_related("customer", "submitted_by", "order"), pk=pk
    )
    if online_request.status != RequestStatus.SUBMITTED:
        messages.info(request, _("This request was already handled."))
        if online_request.order_id:
            return redirect("intake:order_detail", pk=online_request.order_id)
        return redirect("intake:request_list")
    customer = online_request.customer
    if request.method == "POST":
        form = RequestContactForm(request.POST, customer=customer)
        formset = OrderLineFormSet(request.POST)
    else:
        form = RequestContactForm(customer=customer, initial={"contact": _guess_contact(online_request)})
        items = online_request.items.select_related("category").order_by("line_no")
        formset = OrderLineFormSet(initial=[line_initial(item) for item in items])
    if request.method == "POST":
        forms_ok = form.is_valid()
        if formset.is_valid() and forms_ok:
            indexes, lines = formset.lines()
            try:
                order = portal_services.convert_request(
                    actor=request.user,
                    request=online_request,
                    lines=lines,
                    contact=form.cleaned_data["contact"],
                )
            except ValidationError as error:
                _lines_failed(form, formset, error, indexes)
            except PermissionDenied as error:
                messages.error(request, str(error) or _("You may not do this."))
                return redirect("intake:request_list")
            else:
                messages.success(
                    request,
                    _("Request turned into order %(number)s.") % {"number": order.number},
                )
                return redirect("intake:order_detail", pk=order.pk)
    return render(
        request,
        "intake/request_convert.html",
        {
            "online_request": online_request,
            "form": form,
            "formset": formset,
            "title": _("Turn request #%(pk)s into an order") % {"pk": online_request.pk},
        },
    )


@login_required
@require_POST
def request_decline(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    online_request = get_object_or_404(OnlineRequest, pk=pk)
    declined = run_with_reason(
        request,
        lambda reason: portal_services.decline_request(
            actor=request.user, request=online_request, reason=reason
        ),
        missing=_("Give the reason for declining the request."),
        done=_("Request declined."),
    )
    if declined:
        return redirect("intake:request_list")
    return redirect("intake:request_convert", pk=online_request.pk)


urlpatterns = [
    path("orders/", order_list, name="order_list"),
    path("orders/new/", order_create, name="order_create"),
    path("orders/<int:pk>/edit/", order_edit, name="order_edit"),
    path("orders/<int:pk>/import/", order_import, name="order_import"),
    path("orders/import-template.xlsx", import_template, name="import_template"),
    path("requests/", request_list, name="request_list"),
    path("requests/<int:pk>/convert/", request_convert, name="request_convert"),
    path("requests/<int:pk>/decline/", request_decline, name="request_decline"),
]
