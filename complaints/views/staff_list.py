"""The quality lead's complaint list with its figures (R-CMP-3, R-MGT-2), the
registration of a complaint taken by staff from any channel (R-CMP-2), the complaint
file as a PDF for an assessor, and the permission-checked download of an attachment.

Every staff member reads complaints and registers them (whoever takes the call);
customers and strangers get 404.  Views parse and call
``complaints.services.complaints``, which decides.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from certificates.models import Certificate
from complaints import forms
from complaints.models import (
    OPEN_STATES,
    Complaint,
    ComplaintAttachment,
    ComplaintClass,
    ComplaintStatus,
)
from complaints.services import complaints as services
from complaints.services.job import deadline_conditions
from complaints.views.staff_common import clocks, complaint_or_404, file_context
from intake.models import Customer, Order, Sample
from intake.selectors import few_or_subquery
from labqms import export, pdf, permissions
from labqms.forms import add_service_errors
from labqms.views.helpers import page_size, querystring_without_page

FINISHED = (ComplaintStatus.CLOSED, ComplaintStatus.DISMISSED)


def _search(complaints, q: str):
    q = (q or "").strip()
    if not q:
        return complaints
    # The complaint's own columns in one pass; the linked order, sample, certificate and
    # customer each through its own (indexed) search, united — one OR across the joins
    # makes the database pair every complaint with its links first.
    ids = Complaint.objects.order_by().values_list("pk", flat=True)
    return complaints.filter(pk__in=few_or_subquery(ids.filter(
        Q(number__icontains=q) | Q(complainant_name__icontains=q) | Q(complainant_organisation__icontains=q)
        | Q(subject__icontains=q)
    ).union(
        ids.filter(order__in=Order.objects.filter(number__icontains=q).values("pk")),
        ids.filter(sample__in=Sample.objects.filter(sample_id__icontains=q).values("pk")),
        ids.filter(certificate__in=Certificate.objects.filter(number__icontains=q).values("pk")),
        ids.filter(customer__in=Customer.objects.filter(name__icontains=q).values("pk")),
    )))


def complaints_for_list(data: dict):
    """The filtered complaints, unordered (the figures count over this set)."""
    complaints = _search(Complaint.objects.all(), data.get("q"))
    for field in ("classification", "channel", "status"):
        if data.get(field):
            complaints = complaints.filter(**{field: data[field]})
    if data.get("state") == forms.ComplaintFilterForm.OPEN:
        complaints = complaints.exclude(status__in=FINISHED)
    elif data.get("state") == forms.ComplaintFilterForm.CLOSED:
        complaints = complaints.filter(status__in=FINISHED)
    if data.get("deadline"):
        complaints = complaints.filter(deadline_conditions(timezone.localdate())[data["deadline"]])
    if data.get("received_from"):
        complaints = complaints.filter(received_at__date__gte=data["received_from"])
    if data.get("received_to"):
        complaints = complaints.filter(received_at__date__lte=data["received_to"])
    return complaints


def by_due_date(complaints):
    """Open complaints first, by reply due date; then those waiting for acceptance;
    then the rest, newest first."""
    return complaints.annotate(
        rank=Case(
            When(status__in=OPEN_STATES, then=Value(0)),
            When(status=ComplaintStatus.REGISTERED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("rank", F("reply_due").asc(nulls_last=True), "-received_at", "-id")


@login_required
@require_GET
def complaint_list(request):
    """R-CMP-3 / R-MGT-2: open complaints by due date with working days left and a
    traffic light, search, filters and the figures of the filtered set."""
    permissions.require_or_404(request.user, "complaints.view")
    form = forms.ComplaintFilterForm(request.GET)
    complaints = complaints_for_list(form.filters())
    if export.requested(request):
        return export.response(
            request, by_due_date(complaints).select_related("responsible_person"), _complaint_columns(),
            name="complaints", title=_("Complaints"), prepare=_attach_clocks,
        )
    page = Paginator(
        by_due_date(complaints).select_related("responsible_person"), page_size(request)
    ).get_page(request.GET.get("page"))
    row_clocks = clocks(page.object_list)
    figures = services.figures(complaints.order_by())
    return render(request, "complaints/complaint_list.html", {
        "form": form,
        "page": page,
        "rows": [(c, row_clocks[c.pk]) for c in page.object_list],
        "figures": figures,
        "class_counts": [(label, figures["by_class"][value]) for value, label in ComplaintClass.choices],
        "querystring": querystring_without_page(request),
        "today": timezone.localdate(),
        "can_register": permissions.can(request.user, "complaints.register"),
    })


def _attach_clocks(complaints) -> None:
    row_clocks = clocks(complaints)
    for complaint in complaints:
        complaint.clock = row_clocks[complaint.pk]


def _complaint_columns() -> list[export.Column]:
    return [
        export.Column(_("Complaint number"), lambda c: c.number, 16),
        export.Column(pgettext("complaint", "Received"), lambda c: c.received_at, 17),
        export.Column(pgettext("complaint", "Channel"), lambda c: c.get_channel_display(), 10),
        export.Column(_("Complainant"), lambda c: c.complainant_name, 12),
        export.field(Complaint, "complainant_organisation", width=24),
        export.Column(_("Subject"), lambda c: c.subject, 32),
        export.Column(_("Class"), lambda c: c.get_classification_display(), 10),
        export.Column(_("Status"), lambda c: c.get_status_display(), 12),
        export.Column(_("Responsible person"), lambda c: c.responsible_person, 12),
        export.field(Complaint, "department", width=14),
        export.Column(_("Reply due"), lambda c: c.reply_due, 12),
        export.Column(_("Working days left"), lambda c: c.clock.left, 10),
        export.Column(_("Reply clock"), lambda c: c.clock.label, 14),
    ]


@login_required
def complaint_register(request):
    """R-CMP-2: staff register a complaint from any channel; on success, its page."""
    permissions.require_or_404(request.user, "complaints.register")
    form = forms.RegisterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.register(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not register complaints."))
        else:
            messages.success(
                request, _("Complaint %(number)s registered; the quality lead is told.") % {"number": complaint.number}
            )
            return redirect("complaints:complaint_detail", pk=complaint.pk)
    if request.method == "POST":
        messages.error(request, _("The complaint was not registered; see the form below."))
    return render(request, "complaints/complaint_register.html", {
        "form": form,
        # A browser cannot refill a file input: say so when the files have to be chosen again.
        "files_dropped": request.method == "POST" and bool(request.FILES),
    })


@login_required
@require_GET
def complaint_pdf(request, pk):
    """The whole complaint file, printable for an assessor (ISO/IEC 17025 7.9)."""
    complaint = complaint_or_404(request, pk)
    context = {**file_context(complaint), "lab_name": pdf.lab_name(), "printed_by": request.user}
    return pdf.pdf_response("pdf/complaints/complaint.html", context, request=request, filename=f"{complaint.number}.pdf")


@login_required
@require_GET
def complaint_attachment(request, pk):
    """An attachment, for staff only (never a public /media URL)."""
    permissions.require_or_404(request.user, "complaints.view")
    attachment = get_object_or_404(ComplaintAttachment, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.name)


urlpatterns = [
    path("complaints/", complaint_list, name="complaint_list"),
    path("complaints/register/", complaint_register, name="complaint_register"),
    path("complaints/<int:pk>/pdf/", complaint_pdf, name="complaint_pdf"),
    path("complaints/attachments/<int:pk>/", complaint_attachment, name="complaint_attachment"),
]
