"""The public verification page (no sign-in): certificate number + verification code →
status, instrument, customer short name, date of issue, SHA-256 of the issued PDF.
A wrong code answers like a wrong number; attempts are rate-limited per address."""

from __future__ import annotations

from django.core.cache import cache
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from certificates.models import AmendmentKind, CertificateStatus
from certificates.services import certificates as services

ATTEMPTS = 30  # per address and window
WINDOW_SECONDS = 600


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _over_limit(request) -> bool:
    key = f"certificates:verify:{_client_address(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count > ATTEMPTS


@require_GET
def verify(request):
    number = request.GET.get("number", "").strip()
    code = request.GET.get("code", "").strip()
    context = {"number": number, "code": code, "asked": bool(number or code)}
    status = 200
    if context["asked"]:
        if _over_limit(request):
            context["limited"] = True
            status = 429
        else:
            certificate = services.verify(number, code)
            context["certificate"] = certificate
            if certificate is not None:
                amendments = list(certificate.amendments.filter(status=CertificateStatus.ISSUED).order_by("issued_at"))
                context["supplements"] = [a for a in amendments if a.amendment_kind == AmendmentKind.SUPPLEMENT]
                context["replaced_by"] = next((a for a in certificate.amendments.all() if a.amendment_kind == AmendmentKind.REPLACEMENT and a.number), None)
                customer = certificate.record.sample.order.customer
                context["customer_short"] = customer.short_name or customer.name
            else:
                context["not_found"] = _("No certificate matches this number and code.")
    return render(request, "certificates/verify.html", context, status=status)


urlpatterns = [path("verify/", verify, name="verify")]
