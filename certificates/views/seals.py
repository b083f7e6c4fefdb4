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
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from certificates.forms import seals as forms
from certificates.models import Seal, SealUse
from certificates.services import seals as services
from intake.selectors import count_of
from labqms import export, permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page

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
        # Per seal shown (index probes), not by grouping every use in the log.
        .annotate(
            use_count=count_of(SealUse, seal=OuterRef("pk")),
            last_used_at=Subquery(SealUse.objects.filter(seal=OuterRef("pk")).order_by("-used_at").values("used_at")[:1]),
        )
        .order_by("kind", "-is_active", "name")
    )
    if export.requested(request):
        return export.response(request, seals, _seal_columns(), name="seals", title=_("Seals"))
    page = Paginator(seals, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/seal_list.html",
        {"page": page, "querystring": querystring_without_page(request), "can_manage": permissions.can(request.user, MANAGE)},
    )


def _person(user) -> str:
    return user.full_name or user.username


def _seal_columns() -> list[export.Column]:
    return [
        export.Column(_("Kind of seal"), lambda s: s.get_kind_display(), 16),
        export.Column(_("Seal name"), lambda s: s.name, 24),
        export.Column(_("Custodian"), lambda s: _person(s.custodian), 12),
        export.Column(_("In use"), lambda s: s.is_active, 8),
        export.Column(_("Uses"), lambda s: s.use_count, 8),
        export.Column(_("Last used"), lambda s: s.last_used_at, 17),
    ]


def _seal_use_columns() -> list[export.Column]:
    return [
        export.Column(_("Applied at"), lambda u: u.used_at, 17),
        export.Column(_("Seal"), lambda u: u.seal.name, 24),
        export.Column(_("Kind of seal"), lambda u: u.seal.get_kind_display(), 16),
        export.Column(_("Certificate"), lambda u: u.certificate.number, 20),
        export.Column(_("Certificate type"), lambda u: u.certificate.get_type_display(), 18),
        export.Column(_("Applied by"), lambda u: _person(u.used_by), 12),
    ]


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
    if export.requested(request):
        return export.response(request, uses, _seal_use_columns(), name="seal-uses", title=_("Seal usage log"))
    page = Paginator(uses, page_size(request)).get_page(request.GET.get("page"))
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
