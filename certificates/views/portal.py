"""The customer's certificates in the portal (R-INT-9, issue 6 "Delivery").

A customer account ("portal.use") sees the issued and void certificates of its own
organisation's orders — number, type, instrument, serial number, date of issue, status,
and for a void one the certificate that replaced it — and downloads the stored PDF.
Drafts and certificates being issued are not shown.  Another organisation's certificate
is a 404, exactly like one that does not exist; staff (no "portal.use") get 404 too.
The list issues a fixed number of queries however many rows it shows.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from certificates.models import AmendmentKind, Certificate, CertificateStatus
from intake.views.portal import portal_view
from labqms.forms import BootstrapMixin
from labqms.views.helpers import querystring_without_page

PAGE_SIZE = 25
SHOWN = (CertificateStatus.ISSUED, CertificateStatus.VOID)


class PortalCertificateSearchForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"placeholder": _("certificate number or serial number"), "type": "search"}),
    )


def _certificates_of(customer):
    """The organisation's issued and void certificates; nothing else exists for it."""
    return Certificate.objects.filter(record__sample__order__customer=customer, status__in=SHOWN)


@login_required
@portal_view
def portal_certificates(request, customer):
    form = PortalCertificateSearchForm(request.GET)
    certificates = (
        _certificates_of(customer)
        .select_related("record", "amends")
        .defer("content", "amends__content")
        .prefetch_related(
            Prefetch(
                "amendments",
                queryset=Certificate.objects.filter(amendment_kind=AmendmentKind.REPLACEMENT, status__in=SHOWN)
                .only("id", "number", "amends_id"),
                to_attr="replacements",
            )
        )
        .order_by("-issued_at", "-id")
    )
    if form.is_valid() and form.cleaned_data["q"].strip():
        q = form.cleaned_data["q"].strip()
        certificates = certificates.filter(Q(number__icontains=q) | Q(record__sample__serial_number__icontains=q))
    page = Paginator(certificates, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/portal_certificates.html",
        {"customer": customer, "form": form, "page": page, "querystring": querystring_without_page(request)},
    )


@login_required
@portal_view
@require_GET
def portal_certificate_download(request, customer, pk):
    """The PDF as issued (its SHA-256 is on the public verification page)."""
    certificate = get_object_or_404(_certificates_of(customer).defer("content"), pk=pk)
    if not certificate.pdf:
        raise Http404
    try:
        handle = certificate.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=f"{certificate.number}.pdf", content_type="application/pdf")


urlpatterns = [
    path("portal/certificates/", portal_certificates, name="portal_certificates"),
    path("portal/certificates/<int:pk>/pdf/", portal_certificate_download, name="portal_certificate_download"),
]
