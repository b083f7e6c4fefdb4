"""The customer portal (R-INT-9, R-INT-1, R-INT-3): customer users see their own
organisation's orders and online requests only, follow status and due dates, confirm a
reviewed order, and book work online — lines typed as at the counter or read from the
.xlsx device list.

Every query below is filtered by the organisation of the signed-in account; another
organisation's order or request is a 404, exactly like one that does not exist.  Staff
users (no "portal.use") get 404 too.  Customers see status and dates, never internal
notes, storage locations or who moved their instruments.
"""

from __future__ import annotations

from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake import selectors
from intake.forms.items import ItemLineFormSet
from intake.forms.portal import PortalImportForm, PortalOrderFilterForm, PortalRequestForm
from intake.models import (
    ConfirmationMethod,
    ContractReview,
    CustomerNotice,
    NoticeStatus,
    OnlineRequest,
    Order,
    OrderItem,
    OrderStatus,
    RequestItem,
    RequestStatus,
    Sample,
)
from intake.models.samples import DONE_STATUSES
from intake.services import orders as order_services
from intake.services import portal as portal_services
from intake.services import spreadsheets
from intake.services.orders import LinesInvalid
from intake.views.orders import sheet_line_problems
from labqms import permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import querystring_without_page

PAGE_SIZE = 25
# Notices the customer was actually given (by e-mail or in person).
TOLD = (NoticeStatus.SENT, NoticeStatus.RECORDED)


def portal_view(view):
    """Portal users only (others: 404), with ``customer`` = the account's organisation.
    An account not linked to an organisation gets a page that says so (404)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        permissions.require_or_404(request.user, "portal.use")
        try:
            customer = portal_services.customer_of(request.user)
        except ValidationError as error:
            return render(
                request, "intake/portal_unlinked.html", {"problems": error.messages}, status=404
            )
        return view(request, customer, *args, **kwargs)

    return wrapper


# --- Orders --------------------------------------------------------------------------


@login_required
@portal_view
def home(request, customer):
    """The organisation's orders with status, due date and progress of the samples."""
    form = PortalOrderFilterForm(request.GET or None)
    orders = Order.objects.filter(customer=customer).annotate(
        item_count=selectors.count_of(OrderItem, order=OuterRef("pk")),
        sample_count=selectors.count_of(Sample, order=OuterRef("pk")),
        samples_done=selectors.count_of(Sample, order=OuterRef("pk"), status__in=DONE_STATUSES),
    )
    ordering = PortalOrderFilterForm.SORTS["newest"]
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            orders = orders.filter(
                Q(number__icontains=q)
                | Exists(OrderItem.objects.filter(order=OuterRef("pk"), serial_number__icontains=q))
                | Exists(Sample.objects.filter(order=OuterRef("pk"), serial_number__icontains=q))
            )
        if data["status"]:
            orders = orders.filter(status=data["status"])
        ordering = PortalOrderFilterForm.SORTS.get(data["sort"] or "newest", ordering)
    if ordering[0] == "due_date":
        orders = orders.order_by(F("due_date").asc(nulls_last=True), *ordering[1:])
    else:
        orders = orders.order_by(*ordering)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    waiting = customer.requests.filter(status=RequestStatus.SUBMITTED).count()
    return render(
        request,
        "intake/portal_home.html",
        {
            "customer": customer,
            "form": form,
            "page": page,
            "waiting": waiting,
            "querystring": querystring_without_page(request),
        },
    )


def _customer_order(customer, pk) -> Order:
    """The order with what the customer sees, in a fixed number of queries; 404 when it
    is not this organisation's."""
    queryset = Order.objects.filter(customer=customer).select_related("customer", "contact").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.select_related("category").order_by("line_no")),
        Prefetch(
            "reviews",
            queryset=ContractReview.objects.filter(superseded_at__isnull=True).order_by("-reviewed_at", "-id"),
            to_attr="current_reviews",
        ),
        Prefetch("samples", queryset=Sample.objects.select_related("item").order_by("sample_id")),
        Prefetch(
            "notices",
            queryset=CustomerNotice.objects.filter(status__in=TOLD).order_by("-created_at"),
            to_attr="told_notices",
        ),
    )
    return get_object_or_404(queryset, pk=pk)


@login_required
@portal_view
def order_detail(request, customer, pk):
    order = _customer_order(customer, pk)
    items = list(order.items.all())
    samples = list(order.samples.all())
    review = order.current_reviews[0] if order.current_reviews else None
    return render(
        request,
        "intake/portal_order_detail.html",
        {
            "customer": customer,
            "order": order,
            "items": items,
            "samples": samples,
            "samples_done": sum(1 for s in samples if s.is_done),
            "review": review,
            "notices": order.told_notices,
            "fee_total": sum((i.line_fee for i in items), Decimal("0")),
            "can_confirm": order.status == OrderStatus.REVIEWED and not order.is_confirmed,
        },
    )


@login_required
@portal_view
@require_POST
def order_confirm(request, customer, pk):
    """The customer confirms a reviewed order in the portal (R-INT-3)."""
    order = get_object_or_404(Order.objects.filter(customer=customer), pk=pk)
    user = request.user
    try:
        order_services.record_confirmation(
            actor=user,
            order=order,
            signer_name=user.full_name or user.username,
            method=ConfirmationMethod.PORTAL,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do this."))
    else:
        messages.success(
            request,
            _("Thank you: order %(number)s is confirmed. The lab accepts it and sets the due date.")
            % {"number": order.number},
        )
    return redirect(reverse("portal:order_detail", args=[order.pk]) + "#confirmation")


# --- Online requests -----------------------------------------------------------------


@login_required
@portal_view
def request_list(request, customer):
    requests = (
        OnlineRequest.objects.filter(customer=customer)
        .select_related("order")
        .annotate(item_count=selectors.count_of(RequestItem, request=OuterRef("pk")))
        .order_by("-submitted_at", "-id")
    )
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/portal_request_list.html",
        {"customer": customer, "page": page, "querystring": querystring_without_page(request)},
    )


def _header_initial(request) -> dict:
    """The request header prefilled from the account's contact."""
    account = request.user.customer_account
    contact = account.contact
    return {
        "contact_name": (contact.name if contact else "") or request.user.full_name,
        "contact_phone": (contact.phone if contact else "") or request.user.phone,
    }


def _sheet_problems(result) -> list[str]:
    """Line rules (serial numbers, quantity…) checked on the sheet's lines, reported by the
    sheet's row numbers so that the customer can fix the file."""
    return sheet_line_problems(result, check_scope=False)


@login_required
@portal_view
def request_create(request, customer):
    """Book work online: header, instrument lines, optionally read from a device list.

    A POST with a file reads the sheet and, when every row is good, replaces the rows of
    the form with the sheet's lines for the customer to check and submit; a bad sheet is
    reported by row number and nothing of it is taken.  A POST without a file submits."""
    sheet_problems: list[str] = []
    if request.method != "POST":
        form = PortalRequestForm(initial=_header_initial(request))
        formset = ItemLineFormSet()
        sheet_form = PortalImportForm()
        return _render_request_form(request, customer, form, formset, sheet_form, sheet_problems)

    sheet_form = PortalImportForm(request.POST, request.FILES)
    if request.FILES.get(sheet_form.add_prefix("file")):
        # Reading a sheet: keep the header as typed, without judging it yet.
        form = PortalRequestForm(initial=PortalRequestForm.initial_from(request.POST))
        formset = ItemLineFormSet(request.POST)
        if not formset.management_form.is_valid():
            formset = ItemLineFormSet()
        if sheet_form.is_valid():
            result = spreadsheets.read_items(sheet_form.cleaned_data["file"])
            sheet_problems = result.errors + _sheet_problems(result)
            if not sheet_problems:
                formset = ItemLineFormSet(initial=result.lines)
                sheet_form = PortalImportForm()
                messages.info(
                    request,
                    _("%(count)s lines read from the sheet: check them below, then submit the request.")
                    % {"count": len(result.lines)},
                )
        return _render_request_form(request, customer, form, formset, sheet_form, sheet_problems)

    form = PortalRequestForm(request.POST)
    formset = ItemLineFormSet(request.POST)
    forms_ok = form.is_valid()
    if formset.is_valid() and forms_ok:
        indexes, lines = formset.lines()
        data = form.cleaned_data
        try:
            online_request = portal_services.submit_request(
                actor=request.user,
                lines=lines,
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                work_location=data["work_location"],
                preferred_date=data["preferred_date"],
                notes=data["notes"],
            )
        except LinesInvalid as error:
            if formset.add_line_errors(error, indexes):
                form.add_error(None, _("Some lines need attention: see the rows marked below."))
            else:
                add_service_errors(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("portal:request_list")
        else:
            messages.success(
                request,
                _("Request #%(pk)s submitted with %(count)s lines. The lab will contact you.")
                % {"pk": online_request.pk, "count": len(lines)},
            )
            return redirect("portal:request_detail", pk=online_request.pk)
    return _render_request_form(request, customer, form, formset, sheet_form, sheet_problems)


def _render_request_form(request, customer, form, formset, sheet_form, sheet_problems):
    return render(
        request,
        "intake/portal_request_form.html",
        {
            "customer": customer,
            "form": form,
            "formset": formset,
            "sheet_form": sheet_form,
            "sheet_problems": sheet_problems,
        },
    )


@login_required
@portal_view
def request_detail(request, customer, pk):
    online_request = get_object_or_404(
        OnlineRequest.objects.filter(customer=customer)
        .select_related("order")
        .prefetch_related(
            Prefetch("items", queryset=RequestItem.objects.select_related("category").order_by("line_no"))
        ),
        pk=pk,
    )
    return render(
        request,
        "intake/portal_request_detail.html",
        {"customer": customer, "online_request": online_request, "items": list(online_request.items.all())},
    )


urlpatterns = [
    path("", home, name="home"),
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/confirm/", order_confirm, name="order_confirm"),
    path("requests/", request_list, name="request_list"),
    path("requests/new/", request_create, name="request_create"),
    path("requests/<int:pk>/", request_detail, name="request_detail"),
]
