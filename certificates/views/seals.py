"""The lab's seals and their usage log (R-CRT-7).

Everyone with ``records.view`` sees the seals (kind, name, custodian, in use, image) and
the usage log — who applied which seal to which certificate, when; the log is written by
``services.certificates.issue`` only.  The technical lead (``records.manage_methods``)
registers and changes seals through ``certificates.services.seals``.  Seal images are
served by :func:`seal_image` after the permission check, never from /media.  Counter
staff and customers get 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from certificates.forms import seals as forms
from certificates.models import Seal, SealUse
from certificates.services import seals as services
from labqms import permissions
from labqms.forms import add_service_errors
from labqms.views.helpers import querystring_without_page

PAGE_SIZE = 25
MANAGE = services.MANAGE
def _refuse_unless_manager(request):
    decision = permissions.check(request.user, MANAGE)
    if decision:
        return None
    messages.error(request, decision.reason or _("You may not do this."))
    return redirect("certificates:seal_list")


@login_required
def seal_list(request):
    permissions.require_or_404(request.user, "records.view")
    seals = (
        Seal.objects.select_related("custodian")
        .annotate(use_count=Count("uses"), last_used_at=Max("uses__used_at"))
        .order_by("kind", "-is_active", "name")
    )
    page = Paginator(seals, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/seal_list.html",
        {"page": page, "querystring": querystring_without_page(request), "can_manage": permissions.can(request.user, MANAGE)},
    )


def _form_page(request, form, seal: Seal | None):
    return render(request, "certificates/seal_form.html", {"form": form, "seal": seal})


def _save(request, form, seal: Seal | None):
    """Validate, call the service; on refusal the form comes back with what was typed."""
    if form.is_valid():
        data = form.cleaned_data
        fields = {
            "kind": data["kind"], "name": data["name"], "custodian": data["custodian"],
            "is_active": data["is_active"], "image": data["image"] or None,
        }
        try:
            if seal is None:
                seal = services.create_seal(actor=request.user, **fields)
            else:
                seal = services.update_seal(actor=request.user, seal=seal, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("certificates:seal_list")
        else:
            messages.success(request, _("Seal “%(name)s” saved.") % {"name": seal.name})
            return redirect("certificates:seal_list")
    messages.error(request, _("Nothing was saved; see the form below."))
    return _form_page(request, form, seal)


@login_required
def seal_create(request):
    permissions.require_or_404(request.user, "records.view")
    refused = _refuse_unless_manager(request)
    if refused:
        return refused
    if request.method != "POST":
        return _form_page(request, forms.SealForm(), None)
    return _save(request, forms.SealForm(request.POST, request.FILES), None)


@login_required
def seal_edit(request, pk):
    permissions.require_or_404(request.user, "records.view")
    seal = get_object_or_404(Seal.objects.select_related("custodian"), pk=pk)
    refused = _refuse_unless_manager(request)
    if refused:
        return refused
    if request.method != "POST":
        return _form_page(request, forms.SealForm(initial=forms.SealForm.initial_for(seal)), seal)
    return _save(request, forms.SealForm(request.POST, request.FILES), seal)


@login_required
@require_GET
def seal_image(request, pk):
    """The seal's image to staff who read records; never a public /media URL."""
    permissions.require_or_404(request.user, "records.view")
    seal = get_object_or_404(Seal, pk=pk)
    if not seal.image:
        raise Http404
    try:
        handle = seal.image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type="image/png", filename=f"seal-{seal.pk}.png")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def seal_uses(request):
    """The usage log: who applied which seal to which certificate, when."""
    permissions.require_or_404(request.user, "records.view")
    form = forms.SealUseFilterForm(request.GET)
    uses = form.filter(
        SealUse.objects.select_related("seal", "used_by", "certificate").defer("certificate__content")
    )
    page = Paginator(uses, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/seal_uses.html",
        {"form": form, "page": page, "querystring": querystring_without_page(request)},
    )


urlpatterns = [
    path("seals/", seal_list, name="seal_list"),
    path("seals/new/", seal_create, name="seal_create"),
    path("seals/uses/", seal_uses, name="seal_uses"),
    path("seals/<int:pk>/edit/", seal_edit, name="seal_edit"),
    path("seals/<int:pk>/image/", seal_image, name="seal_image"),
]
