"""The equipment list (设备一览表, R-EQP-1) with its Excel and PDF exports, the register
forms (R-EQP-2, changes audited with a reason: R-EQP-9) and the measurement standards
(计量标准, R-EQP-10).

Views parse with a form and call ``equipment.services.register``; a service's
``ValidationError`` becomes form errors and the page is shown again with everything that
was typed.  The list and both exports share one query (``equipment.selectors``), so an
export holds exactly the rows the filtered list shows, without pagination.  Staff pages
answer 404 to outsiders (customers); editing answers 404 to anyone but the technical lead."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from equipment import selectors
from equipment.forms import register as forms
from equipment.models import Equipment, MeasurementStandard
from equipment.services import register as services
from labqms import audit, export, pdf, permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page


def _refused(request, error: PermissionDenied) -> None:
    messages.error(request, str(error) or _("You may not do this."))


def _require_manage(request) -> None:
    permissions.require_or_404(request.user, "equipment.view")
    permissions.require_or_404(request.user, "equipment.manage")


# --- the equipment list and its exports --------------------------------------------------


def _filtered(request) -> tuple[forms.EquipmentFilterForm, object, date]:
    form = forms.EquipmentFilterForm(request.GET)
    today = timezone.localdate()
    return form, selectors.equipment_list(form.filters(), today=today), today


@login_required
def equipment_list(request):
    permissions.require_or_404(request.user, "equipment.view")
    form, rows, today = _filtered(request)
    if export.requested(request):
        return _xlsx(request, rows)
    page = Paginator(rows, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "equipment/equipment_list.html",
        {
            "form": form,
            "page": page,
            "querystring": querystring_without_page(request),
            "label_ids": ",".join(str(e.pk) for e in page),
            "today": today,
            "due_soon_days": selectors.due_soon_days(),
            "labels": field_labels(Equipment),
        },
    )


def _due_state(equipment: Equipment) -> str:
    if equipment.is_overdue_now:
        return _("overdue")
    if equipment.is_due_soon:
        return _("due soon")
    return ""


def _status_note(equipment: Equipment) -> str:
    parts = [
        equipment.get_stop_reason_display() if equipment.stop_reason else "",
        equipment.status_note,
    ]
    return "; ".join(p for p in parts if p)


def _field(name: str, model=Equipment) -> str:
    return capfirst(str(model._meta.get_field(name).verbose_name))


def field_labels(model) -> dict[str, str]:
    """Column headings from the model's (translated) field names, so the page, the PDF
    and the spreadsheet say the same thing."""
    return {
        f.name: _field(f.name, model)
        for f in model._meta.get_fields()
        if hasattr(f, "verbose_name")
    }


def _columns() -> list[export.Column]:
    """The exported list's columns, in the active language."""
    return [
        export.Column(_field("lab_id"), lambda e: e.lab_id, 14),
        export.Column(_field("name"), lambda e: e.name, 24),
        export.Column(_field("model"), lambda e: e.model, 16),
        export.Column(_field("manufacturer"), lambda e: e.manufacturer, 18),
        export.Column(_field("serial_number"), lambda e: e.serial_number, 14),
        export.Column(_field("kind"), lambda e: e.get_kind_display(), 14),
        export.Column(_field("measuring_range"), lambda e: e.measuring_range, 20),
        export.Column(_field("accuracy"), lambda e: e.accuracy, 20),
        export.Column(_field("calibrating_body"), lambda e: e.calibrating_body, 18),
        export.Column(_field("last_certificate_no"), lambda e: e.last_certificate_no, 16),
        export.Column(_field("status"), lambda e: e.get_status_display(), 10),
        export.Column(capfirst(_("reason / limitation")), _status_note, 20),
        export.Column(_field("last_calibrated_on"), lambda e: e.last_calibrated_on, 12),
        export.Column(_field("calibration_due"), lambda e: e.calibration_due, 12),
        export.Column(capfirst(_("due state")), _due_state, 10),
        export.Column(_field("custodian"), lambda e: str(e.custodian) if e.custodian else "", 12),
        export.Column(_field("location"), lambda e: e.location, 14),
        export.Column(
            capfirst(_("measurement standards")), lambda e: [s.name for s in e.standards.all()], 20
        ),
    ]


def _xlsx(request, rows):
    return export.response(request, rows, _columns(), name="equipment", title=_("Equipment list"))


@login_required
def equipment_export_xlsx(request):
    """The filtered list as a spreadsheet: every matching row, not one page (R-EQP-1).
    The same as the list's ``?format=xlsx``; this older address is kept for bookmarks."""
    permissions.require_or_404(request.user, "equipment.view")
    _form, rows, _today = _filtered(request)
    return _xlsx(request, rows)


@login_required
def equipment_export_pdf(request):
    """The printed equipment list (设备一览表), A4 landscape, with the filters in use."""
    permissions.require_or_404(request.user, "equipment.view")
    form, rows, today = _filtered(request)
    context = {
        "rows": list(rows),
        "filters": form.summary(),
        "labels": field_labels(Equipment),
        "lab_name": pdf.lab_name(),
        "today": today,
    }
    return pdf.pdf_response(
        "pdf/equipment/equipment_list.html", context, request=request, filename=f"equipment-{today.isoformat()}.pdf"
    )


# --- register and edit -------------------------------------------------------------------


@login_required
def equipment_create(request):
    _require_manage(request)
    form = forms.EquipmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            equipment = services.save_equipment(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(
                request, _("Equipment %(lab_id)s registered.") % {"lab_id": equipment.lab_id}
            )
            return redirect("equipment:equipment_detail", pk=equipment.pk)
    return render(
        request,
        "equipment/equipment_form.html",
        {"form": form, "title": _("Register equipment"), "equipment": None},
    )


@login_required
def equipment_edit(request, pk):
    _require_manage(request)
    equipment = get_object_or_404(Equipment, pk=pk)
    # The form validates its own copy; the service compares against ``equipment``.
    form = forms.EquipmentEditForm(request.POST or None, instance=Equipment.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_equipment(
                actor=request.user,
                equipment=equipment,
                data=form.equipment_data(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("equipment:equipment_detail", pk=equipment.pk)
    return render(
        request,
        "equipment/equipment_form.html",
        {
            "form": form,
            "title": _("Edit equipment %(lab_id)s") % {"lab_id": equipment.lab_id},
            "equipment": equipment,
        },
    )


# --- measurement standards ---------------------------------------------------------------


@login_required
def standard_list(request):
    permissions.require_or_404(request.user, "equipment.view")
    form = forms.StandardFilterForm(request.GET)
    form.is_valid()  # every field is optional; bad values fall back to the defaults
    data = getattr(form, "cleaned_data", {})
    today = timezone.localdate()
    standards = selectors.standard_list(
        q=data.get("q") or "",
        state=data.get("state") or "",
        sort=data.get("sort") or "name",
        today=today,
    )
    if export.requested(request):
        return export.response(
            request, standards, _standard_columns(today), name="measurement-standards",
            title=_("Measurement standards"),
        )
    page = Paginator(standards, page_size(request)).get_page(request.GET.get("page"))
    for standard in page:
        standard.state = selectors.standard_state(standard, today)
    return render(
        request,
        "equipment/standard_list.html",
        {
            "form": form,
            "page": page,
            "querystring": querystring_without_page(request),
            "today": today,
            "labels": field_labels(MeasurementStandard),
        },
    )


def _standard_columns(today) -> list[export.Column]:
    states = {
        "expired": _("expired"), "expiring": _("expiring soon"), "not_yet": _("not yet valid"), "valid": "",
    }
    return [
        export.field(MeasurementStandard, "name", width=28),
        export.field(MeasurementStandard, "certificate_no", width=20),
        export.field(MeasurementStandard, "measurand", width=16),
        export.field(MeasurementStandard, "valid_from", width=12),
        export.field(MeasurementStandard, "valid_until", width=12),
        export.Column(_("Validity"), lambda s: states[selectors.standard_state(s, today)], 12),
        export.Column(
            _field("members", MeasurementStandard), lambda s: [e.lab_id for e in s.members.all()], 24
        ),
    ]


def _standard_form_page(request, form, standard):
    if request.method == "POST" and form.is_valid():
        try:
            services.save_standard(
                actor=request.user,
                data=form.standard_data(),
                members=list(form.cleaned_data["members"]),
                standard=standard,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _refused(request, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("equipment:standard_list")
    context = {
        "form": form,
        "standard": standard,
        "title": _("Edit measurement standard") if standard else _("New measurement standard"),
        "events": audit.events_for(standard)[:50] if standard else [],
    }
    return render(request, "equipment/standard_form.html", context)


@login_required
def standard_create(request):
    _require_manage(request)
    return _standard_form_page(request, forms.StandardForm(request.POST or None), None)


@login_required
def standard_edit(request, pk):
    _require_manage(request)
    standard = get_object_or_404(MeasurementStandard, pk=pk)
    form = forms.StandardForm(request.POST or None, instance=MeasurementStandard.objects.get(pk=pk))
    return _standard_form_page(request, form, standard)


urlpatterns = [
    path("", equipment_list, name="equipment_list"),
    path("export.xlsx", equipment_export_xlsx, name="equipment_export_xlsx"),
    path("export.pdf", equipment_export_pdf, name="equipment_export_pdf"),
    path("new/", equipment_create, name="equipment_create"),
    path("<int:pk>/edit/", equipment_edit, name="equipment_edit"),
    path("standards/", standard_list, name="standard_list"),
    path("standards/new/", standard_create, name="standard_create"),
    path("standards/<int:pk>/edit/", standard_edit, name="standard_edit"),
]
