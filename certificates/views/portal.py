"""The customer's certificates in the portal (R-INT-9, issue 6 "Delivery").

A customer account ("portal.use") sees the issued and void certificates of its own
organisation's orders — number, type, instrument, serial number, date of issue, status,
and for a void one the certificate that replaced it — and downloads the stored PDF.
Drafts and certificates being issued are not shown.  Another organisation's certificate
is a 404, exactly like one that does not exist; staff (no "portal.use") get 404 too.

A PDF is handed over only against settled fees, as at the counter (R-INT-7): the order
is paid in full or credit is approved (``Order.is_settled``).  Until then the row says
so and the download is refused with a 403 page that explains why — not a 404, since
the certificate is the customer's own and already listed; hiding it would only confuse.
The list issues a fixed number of queries however many rows (and orders) it shows.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import F, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from certificates.models import AmendmentKind, Certificate, CertificateStatus
from intake import selectors as intake_selectors
from intake.models import Order, OrderItem, Payment
from intake.views.portal import portal_view
from labqms.forms import BootstrapMixin
from labqms.pagination import Paginator
from labqms.views.helpers import querystring_without_page

PAGE_SIZE = 25
SHOWN = (CertificateStatus.ISSUED, CertificateStatus.VOID)


class PortalCertificateSearchForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"placeholder": _("certificate number or serial number"), "type": "search"}),
    )


def _certificates_of(customer):
    """The organisation's issued and void certificates; nothing else exists for it.
    ``order_pk`` / ``order_number`` name the certificate's order (:func:`settled_orders`)."""
    return Certificate.objects.filter(record__sample__order__customer=customer, status__in=SHOWN).annotate(
        order_pk=F("record__sample__order_id"), order_number=F("record__sample__order__number")
    )


def settled_orders(order_pks) -> set[int]:
    """Which of the orders are settled, exactly as ``Order.is_settled`` decides (credit
    approved, or paid ≥ the fees of the lines not refused), in three queries however
    many orders: the orders, their lines and their payments."""
    pks = set(order_pks)
    if not pks:
        return set()
    orders = list(
        Order.objects.filter(pk__in=pks)
        .only("id", "credit_approved_at")
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.only("id", "order_id", "unit_fee", "quantity", "disposition")),
            Prefetch("payments", queryset=Payment.objects.only("id", "order_id", "amount")),
        )
    )
    intake_selectors.attach_settlement(orders)
    return {order.pk for order in orders if order.settled}


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
    settled = settled_orders(c.order_pk for c in page)
    for certificate in page:
        certificate.downloadable = certificate.order_pk in settled
    return render(
        request,
        "certificates/portal_certificates.html",
        {"customer": customer, "form": form, "page": page, "querystring": querystring_without_page(request)},
    )


@login_required
@portal_view
@require_GET
def portal_certificate_download(request, customer, pk):
    """The PDF as issued (its SHA-256 is on the public verification page), once the
    order's fees are settled (R-INT-7); before that a 403 page says why."""
    certificate = get_object_or_404(_certificates_of(customer).defer("content"), pk=pk)
    if certificate.order_pk not in settled_orders([certificate.order_pk]):
        return render(
            request,
            "certificates/portal_certificate_unsettled.html",
            {"customer": customer, "certificate": certificate},
            status=403,
        )
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
