"""The customer's complaints in the portal (R-CMP-2 "online", R-CMP-5, R-INT-9).

A customer account ("portal.use") lists its own organisation's complaints — number,
subject, status, reply due, replied on and the reply or published result — makes a new
complaint linked to one of its own orders or certificates, and follows one: status,
reply, the messages the lab sent, extensions with their explanation.  Findings,
opinions, people and internal notes stay with the lab.  Another organisation's
complaint is a 404, exactly like one that does not exist; staff (no "portal.use") get
404 too.  The list issues a fixed number of queries however many rows it shows.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from complaints.forms_public import PortalComplaintForm, PortalComplaintSearchForm
from complaints.models import Channel, Complaint, ComplaintAttachment, Correspondence, Extension
from complaints.services import complaints as services
from intake.views.portal import portal_view
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import querystring_without_page

PAGE_SIZE = 25
LIST_FIELDS = (
    "id", "number", "subject", "status", "received_at", "channel", "reply_due", "due_provisional", "replied_on",
    "reply", "published_at", "closed_at",
)


@login_required
@portal_view
@require_GET
def portal_complaints(request, customer):
    form = PortalComplaintSearchForm(request.GET)
    complaints = form.filter(Complaint.objects.filter(customer=customer).only(*LIST_FIELDS)).order_by("-received_at", "-id")
    page = Paginator(complaints, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/portal_complaint_list.html",
        {"customer": customer, "form": form, "page": page, "querystring": querystring_without_page(request)},
    )


def _initial(request, customer) -> dict:
    """The complainant prefilled from the account and its contact."""
    user = request.user
    contact = user.customer_account.contact
    return {
        "complainant_name": (contact.name if contact else "") or user.full_name or user.username,
        "complainant_organisation": customer.name,
        "complainant_phone": (contact.phone if contact else "") or user.phone or customer.phone,
        "complainant_email": (contact.email if contact else "") or user.email or customer.email,
        "complainant_address": customer.address,
    }


@login_required
@portal_view
@require_http_methods(["GET", "POST"])
def portal_complaint_new(request, customer):
    if request.method != "POST":
        form = PortalComplaintForm(customer=customer, initial=_initial(request, customer))
        return _render_form(request, customer, form)
    form = PortalComplaintForm(request.POST, request.FILES, customer=customer)
    if form.is_valid():
        try:
            complaint = services.register(
                actor=request.user, channel=Channel.PORTAL, data=form.complaint_data(),
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("complaints:portal_complaints")
        else:
            messages.success(
                request,
                _("Complaint %(number)s sent. The lab tells you when it is accepted and replies within 10 working days of acceptance.")
                % {"number": complaint.number},
            )
            return redirect("complaints:portal_complaint_detail", pk=complaint.pk)
    return _render_form(request, customer, form)


def _render_form(request, customer, form):
    return render(
        request,
        "complaints/portal_complaint_form.html",
        {"customer": customer, "form": form, "files_dropped": bool(request.FILES) and form.is_bound},
    )


@login_required
@portal_view
@require_GET
def portal_complaint_detail(request, customer, pk):
    complaint = get_object_or_404(
        Complaint.objects.filter(customer=customer)
        .select_related("order", "certificate")
        .defer("certificate__content")
        .prefetch_related(
            Prefetch("correspondence", queryset=Correspondence.objects.only(
                "id", "complaint_id", "kind", "subject", "body", "created_at",
            )),
            Prefetch("extensions", queryset=Extension.objects.only(
                "id", "complaint_id", "previous_due", "new_due", "explanation", "granted_at",
            )),
            Prefetch("attachments", queryset=ComplaintAttachment.objects.only("id", "complaint_id", "name", "uploaded_at")),
        ),
        pk=pk,
    )
    return render(
        request,
        "complaints/portal_complaint_detail.html",
        {
            "customer": customer,
            "complaint": complaint,
            "correspondence": list(complaint.correspondence.all()),
            "extensions": list(complaint.extensions.all()),
            "attachments": list(complaint.attachments.all()),
        },
    )


urlpatterns = [
    path("portal/complaints/", portal_complaints, name="portal_complaints"),
    path("portal/complaints/new/", portal_complaint_new, name="portal_complaint_new"),
    path("portal/complaints/<int:pk>/", portal_complaint_detail, name="portal_complaint_detail"),
]
