"""Customer pages (search, one customer with contacts, orders and audit trail), the
instrument categories with their authorised scope, and the public turnaround page (R-INT-5).

Views parse with a form and call ``intake.services.customers`` / ``intake.services.catalogue``;
a service's ``ValidationError`` becomes form errors and the page is shown again with
everything that was typed.  Staff pages answer 404 to outsiders (customers)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake.forms import customers as forms
from intake.models import AuthorisedScope, Contact, Customer, InstrumentCategory, Order
from intake.services import catalogue as catalogue_services
from intake.services import customers as services
from labqms import audit, export, permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page

RECENT_ORDERS = 20
SORTS = {"name": ("name", "department", "pk"), "newest": ("-created_at", "-pk")}


def _refused(request, error: PermissionDenied) -> None:
    messages.error(request, str(error) or _("You may not do this."))


# --- customers -------------------------------------------------------------------------


def _search(customers, q: str):
    """Any field of the organisation or of one of its contacts."""
    contact_matches = Contact.objects.filter(customer=OuterRef("pk")).filter(
        Q(name__icontains=q) | Q(phone__icontains=q) | Q(email__icontains=q)
    )
    return customers.filter(
        Q(name__icontains=q)
        | Q(short_name__icontains=q)
        | Q(credit_code__icontains=q)
        | Q(address__icontains=q)
        | Q(department__icontains=q)
        | Q(phone__icontains=q)
        | Q(email__icontains=q)
        | Exists(contact_matches)
    )


@login_required
def customer_list(request):
    permissions.require_or_404(request.user, "intake.view")
    form = forms.CustomerSearchForm(request.GET)
    form.is_valid()  # every field is optional; bad values fall back to the defaults
    data = getattr(form, "cleaned_data", {})
    customers = Customer.objects.all()
    if q := (data.get("q") or "").strip():
        customers = _search(customers, q)
    status = data.get("status") or "active"
    if status == "active":
        customers = customers.filter(is_active=True)
    elif status == "archived":
        customers = customers.filter(is_active=False)
    customers = (
        customers.prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.filter(is_active=True).order_by("name", "pk"))
        )
        .order_by(*SORTS.get(data.get("sort") or "name", SORTS["name"]))
    )
    if export.requested(request):
        return export.response(
            request, customers, _customer_columns(), name="customers", title=_("Customers"), prepare=_attach_order_counts
        )
    page = Paginator(customers, page_size(request)).get_page(request.GET.get("page"))
    _attach_order_counts(page.object_list)
    return render(
        request,
        "intake/customer_list.html",
        {"form": form, "page": page, "querystring": querystring_without_page(request)},
    )


def _attach_order_counts(customers) -> None:
    """``order_count`` on each customer shown, with one grouped count over their orders
    only (an annotation would count every customer's orders before the page is cut)."""
    customers = list(customers)
    counts = dict(
        Order.objects.filter(customer__in=customers).order_by().values_list("customer").annotate(n=Count("pk"))
    )
    for customer in customers:
        customer.order_count = counts.get(customer.pk, 0)


def _customer_columns() -> list[export.Column]:
    def contacts(customer):
        return [" ".join(filter(None, [c.name, c.phone or c.email])) for c in customer.contacts.all()]

    return [
        export.Column(_("Organisation"), lambda c: c.name, 28),
        export.Column(_("Short name"), lambda c: c.short_name, 12),
        export.Column(_("Department"), lambda c: c.department, 14),
        export.Column(_("Credit code"), lambda c: c.credit_code, 20),
        export.field(Customer, "address", width=28),
        export.field(Customer, "phone", width=14),
        export.field(Customer, "email", width=22),
        export.Column(_("Contacts"), contacts, 28),
        export.Column(_("Orders"), lambda c: c.order_count, 8),
        export.field(Customer, "is_active", width=8),
        export.field(Customer, "created_at", width=17),
    ]


def _similar_context(name: str, exclude_pk=None) -> list[Customer]:
    return services.near_duplicates(name, exclude_pk=exclude_pk) if name else []


@login_required
def customer_create(request):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    form = forms.CustomerCreateForm(request.POST or None)
    similar = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # One transaction: a refused first contact must not leave the customer behind.
            with transaction.atomic():
                customer = services.create_customer(
                    actor=request.user, data=data, allow_similar=data["allow_similar"]
                )
                contact = form.contact_data()
                if contact is not None:
                    try:
                        services.add_contact(actor=request.user, customer=customer, **contact)
                    except ValidationError as error:
                        raise _contact_errors(error) from None
        except ValidationError as error:
            if getattr(error, "code", None) == "near_duplicate":
                similar = _similar_context(data["name"])
            if not similar:  # the warning box lists them with links; no need to say it twice
                add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(request, _("Customer created."))
            return redirect("intake:customer_detail", pk=customer.pk)
    return render(
        request,
        "intake/customer_form.html",
        {"form": form, "similar": similar, "title": _("New customer"), "customer": None},
    )


def _contact_errors(error: ValidationError) -> ValidationError:
    """``add_contact`` names its fields name/phone/e-mail; the create form calls them contact_*."""
    if not hasattr(error, "error_dict"):
        return error
    fields = forms.CustomerCreateForm.CONTACT_FIELDS
    return ValidationError({fields.get(key, key): value for key, value in error.error_dict.items()})


@login_required
def customer_detail(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    customer = get_object_or_404(Customer, pk=pk)
    return _detail_page(request, customer, forms.ContactForm())


def _detail_page(request, customer, contact_form):
    orders = customer.orders.order_by("-created_at", "-pk")
    context = {
        "customer": customer,
        "contacts": customer.contacts.order_by("-is_active", "name", "pk"),
        "orders": orders[:RECENT_ORDERS],
        "order_total": orders.count(),
        "recent_limit": RECENT_ORDERS,
        "accounts": customer.accounts.select_related("user", "contact"),
        "events": audit.events_for(customer)[:50],
        "contact_form": contact_form,
    }
    return render(request, "intake/customer_detail.html", context)


@login_required
def customer_edit(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    customer = get_object_or_404(Customer, pk=pk)
    # The form validates its own copy; the service compares against ``customer``.
    form = forms.CustomerForm(request.POST or None, instance=Customer.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(actor=request.user, customer=customer, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("intake:customer_detail", pk=customer.pk)
    similar = _similar_context(customer.name, exclude_pk=customer.pk)
    return render(
        request,
        "intake/customer_form.html",
        {"form": form, "similar": similar, "title": _("Edit customer"), "customer": customer},
    )


@login_required
@require_POST
def contact_add(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    customer = get_object_or_404(Customer, pk=pk)
    form = forms.ContactForm(request.POST)
    if form.is_valid():
        try:
            services.add_contact(actor=request.user, customer=customer, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
            return redirect("intake:customer_detail", pk=customer.pk)
        else:
            messages.success(request, _("Contact added."))
            return redirect("intake:customer_detail", pk=customer.pk)
    return _detail_page(request, customer, form)


# --- instrument categories and the authorised scope ------------------------------------


@login_required
def category_list(request):
    permissions.require_or_404(request.user, "intake.view")
    categories = InstrumentCategory.objects.prefetch_related(
        Prefetch("scopes", queryset=AuthorisedScope.objects.order_by("service", "-valid_from", "pk"))
    ).order_by("code")
    return render(
        request,
        "intake/category_list.html",
        {"categories": categories, "today": timezone.localdate(), "end_form": forms.ScopeEndForm()},
    )


def _catalogue_form_page(request, form, call, context, template="intake/category_form.html"):
    """POST: a valid form goes to the service; its errors go back onto the form."""
    if request.method == "POST" and form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("intake:category_list")
    return render(request, template, {"form": form, **context})


def _require_catalogue(request):
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.manage_catalogue")


@login_required
def category_create(request):
    _require_catalogue(request)
    form = forms.CategoryForm(request.POST or None)
    return _catalogue_form_page(
        request,
        form,
        lambda data: catalogue_services.save_category(actor=request.user, data=data),
        {"title": _("New instrument category"), "category": None},
    )


@login_required
def category_edit(request, pk):
    _require_catalogue(request)
    category = get_object_or_404(InstrumentCategory, pk=pk)
    form = forms.CategoryForm(request.POST or None, instance=InstrumentCategory.objects.get(pk=pk))
    return _catalogue_form_page(
        request,
        form,
        lambda data: catalogue_services.save_category(
            actor=request.user, data=data, category=category
        ),
        {"title": _("Edit instrument category"), "category": category},
    )


@login_required
def scope_add(request, pk):
    _require_catalogue(request)
    category = get_object_or_404(InstrumentCategory, pk=pk)
    form = forms.ScopeForm(
        request.POST or None,
        initial={"service": category.proposed_service(), "valid_from": timezone.localdate()},
    )
    return _catalogue_form_page(
        request,
        form,
        lambda data: catalogue_services.grant_scope(actor=request.user, category=category, **data),
        {"title": _("Add authorised scope"), "category": category},
        template="intake/category_scope_form.html",
    )


@login_required
def scope_end(request, pk):
    """The inline form on the category list posts here; errors show on a page of their own."""
    _require_catalogue(request)
    scope = get_object_or_404(AuthorisedScope.objects.select_related("category"), pk=pk)
    form = forms.ScopeEndForm(request.POST or None, initial={"last_day": timezone.localdate()})
    return _catalogue_form_page(
        request,
        form,
        lambda data: catalogue_services.end_scope(actor=request.user, scope=scope, **data),
        {"title": _("End authorised scope"), "category": scope.category, "scope": scope},
        template="intake/category_scope_end.html",
    )


# --- public ------------------------------------------------------------------------------


def turnaround(request):
    """Published turnaround limits (R-INT-5): public, no sign-in.  Lists only what the lab
    is authorised to do today, so customers are never promised a service it may not do."""
    today = timezone.localdate()
    categories = InstrumentCategory.objects.filter(is_active=True).prefetch_related(
        Prefetch(
            "scopes",
            queryset=AuthorisedScope.objects.valid_on(today).order_by("service"),
            to_attr="current_scopes",
        )
    ).order_by("code")
    rows = []
    for category in categories:
        # Two certificates may cover the same service; list it once.
        services_today = list(
            dict.fromkeys((scope.service, scope.get_service_display()) for scope in category.current_scopes)
        )
        if services_today:
            rows.append({"category": category, "services": services_today})
    return render(request, "intake/turnaround.html", {"rows": rows, "today": today})


urlpatterns = [
    path("customers/", customer_list, name="customer_list"),
    path("customers/new/", customer_create, name="customer_create"),
    path("customers/<int:pk>/", customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", customer_edit, name="customer_edit"),
    path("customers/<int:pk>/contacts/add/", contact_add, name="contact_add"),
    path("categories/", category_list, name="category_list"),
    path("categories/new/", category_create, name="category_create"),
    path("categories/<int:pk>/edit/", category_edit, name="category_edit"),
    path("categories/<int:pk>/scope/add/", scope_add, name="scope_add"),
    path("scope/<int:pk>/end/", scope_end, name="scope_end"),
    path("turnaround/", turnaround, name="turnaround"),
]
