"""Monitoring pages: status labels (R-EQP-5), the due / overdue page for the technical
and quality leads (R-EQP-10, the daily job's view), and impact analysis — the affected
records of failed equipment with the technical lead's decision per record.  Views parse
input and call ``equipment.services.impact``; the services enforce every rule.
Outsiders (customers) get 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_POST

from equipment.forms import monitoring as forms
from equipment.models import (
    CheckPlan,
    Equipment,
    EquipmentStatus,
    ImpactAnalysis,
    ImpactDecision,
    ImpactItem,
    ImpactStatus,
    MeasurementStandard,
)
from equipment.services import impact as services
from equipment.services.job import due_window
from intake.qr import qr_svg
from labqms import export, pdf, permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page

# --- labels (R-EQP-5) ---------------------------------------------------------------

# The big word on a label, by colour; msgstr 合格 / 准用 / 停用.  The context keeps these
# apart from the register's status names, which are translated differently.
LABEL_WORDS = {
    "green": pgettext_lazy("equipment status label", "In service"),
    "yellow": pgettext_lazy("equipment status label", "Restricted"),
    "red": pgettext_lazy("equipment status label", "Out of service"),
}
# A QR code taller than this (px at 96 dpi, ≈ 26 mm) is drawn with smaller modules.
QR_MAX_PX = 100


def _label_qr(url: str) -> str:
    svg = qr_svg(url, scale=3, border=1)
    size = svg.split('width="', 1)[1].split('"', 1)[0]
    if int(float(size)) > QR_MAX_PX:
        svg = qr_svg(url, scale=2, border=1)
    return svg


def _label(request, equipment: Equipment, today) -> dict:
    colour = equipment.label_colour
    url = request.build_absolute_uri(reverse("equipment:equipment_detail", args=[equipment.pk]))
    return {
        "equipment": equipment,
        "colour": colour,
        "word": LABEL_WORDS[colour],
        "url": url,
        "qr": _label_qr(url),
        # Printed today for equipment already past its due date: the gate refuses it.
        # Retired equipment is never flagged (as on the list and the due page).
        "overdue": equipment.is_overdue(today) and equipment.status != EquipmentStatus.RETIRED,
    }


def label_context(request, equipment_list) -> dict:
    """The template context of the label PDF (tests render it to check colour and word)."""
    today = timezone.localdate()
    return {"labels": [_label(request, e, today) for e in equipment_list]}


def _labels_response(request, equipment_list, filename: str) -> HttpResponse:
    return pdf.pdf_response(
        "pdf/equipment/labels.html", label_context(request, equipment_list), request=request, filename=filename
    )


@login_required
def labels_pdf(request):
    """``?ids=1,2,3`` (database ids), or without ids every item that is not retired."""
    permissions.require_or_404(request.user, "equipment.view")
    equipment = Equipment.objects.all()
    raw = request.GET.get("ids", "").strip()
    if raw:
        ids = [int(part) for part in raw.split(",") if part.strip().isdigit()]
        equipment = equipment.filter(pk__in=ids)
    else:
        equipment = equipment.exclude(status=EquipmentStatus.RETIRED)
    equipment = list(equipment.order_by("lab_id"))
    if not equipment:
        raise Http404
    return _labels_response(request, equipment, "equipment-labels.pdf")


@login_required
def label_pdf(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    equipment = get_object_or_404(Equipment, pk=pk)
    return _labels_response(request, [equipment], f"label-{equipment.lab_id}.pdf")


# --- due / overdue ------------------------------------------------------------------


def due_days_param(request) -> int:
    """``?days=`` clamped to 1–365; the configured window when missing or malformed."""
    try:
        days = int(request.GET.get("days", ""))
    except ValueError:
        return settings.EQUIPMENT_DUE_SOON_DAYS
    return min(max(days, forms.DUE_DAYS_RANGE[0]), forms.DUE_DAYS_RANGE[1])


# Bootstrap badge classes for the label colours.
BADGES = {"green": "text-bg-success", "yellow": "text-bg-warning", "red": "text-bg-danger"}


def _with_days_left(rows, due_attr: str, today, equipment_attr: str | None = ""):
    """Attach ``days_left`` / ``days_overdue`` and the equipment's status badge class."""
    for row in rows:
        due = getattr(row, due_attr)
        row.days_left = (due - today).days if due is not None else None
        row.days_overdue = -row.days_left if row.days_left is not None else None
        if equipment_attr is not None:
            equipment = getattr(row, equipment_attr) if equipment_attr else row
            equipment.badge_class = BADGES[equipment.label_colour]
    return rows


# Rows per section on the due list (the most urgent first); the export has them all.
DUE_SECTION_ROWS = 100


@login_required
def due_list(request):
    """Calibration overdue and due soon, standard certificates expiring or expired, and
    intermediate checks overdue — for the technical and quality leads."""
    permissions.require_or_404(request.user, "equipment.view")
    today = timezone.localdate()
    days = due_days_param(request)
    horizon = due_window(today, days)
    calibrated = (
        Equipment.objects.filter(needs_calibration=True)
        .exclude(status=EquipmentStatus.RETIRED)
        .select_related("custodian")
    )
    overdue = calibrated.filter(Q(calibration_due__lt=today) | Q(calibration_due__isnull=True)).order_by(
        F("calibration_due").asc(nulls_first=True), "lab_id"
    )
    due_soon = calibrated.filter(calibration_due__gte=today, calibration_due__lte=horizon).order_by(
        "calibration_due", "lab_id"
    )
    standards = list(
        MeasurementStandard.objects.filter(valid_until__lte=horizon)
        .prefetch_related("members")
        .order_by("valid_until", "name")
    )
    checks = list(
        CheckPlan.objects.filter(is_active=True, next_due__lt=today)
        .exclude(equipment__status=EquipmentStatus.RETIRED)
        .select_related("equipment__custodian")
        .order_by("next_due", "equipment__lab_id")
    )
    if export.requested(request):
        return export.response(
            request, _due_rows(today, days, list(overdue), list(due_soon), standards, checks), _due_columns(),
            name="due-list", title=_("Calibration due and overdue"),
        )
    # A big register has thousands due: the page shows the most urgent of each section,
    # the counts are the totals and the Excel export has every row.
    overdue_total, due_soon_total = overdue.count(), due_soon.count()
    overdue, due_soon = list(overdue[:DUE_SECTION_ROWS]), list(due_soon[:DUE_SECTION_ROWS])
    label_ids = ",".join(str(e.pk) for e in overdue + due_soon)
    return render(
        request,
        "equipment/due_list.html",
        {
            "today": today,
            "days": days,
            "horizon": horizon,
            "form": forms.DueWindowForm(initial={"days": days}),
            "overdue": _with_days_left(overdue, "calibration_due", today),
            "due_soon": _with_days_left(due_soon, "calibration_due", today),
            "standards": _with_days_left(standards, "valid_until", today, equipment_attr=None),
            "checks": _with_days_left(checks, "next_due", today, equipment_attr="equipment"),
            "label_ids": label_ids,
            "overdue_total": overdue_total,
            "due_soon_total": due_soon_total,
            "section_rows": DUE_SECTION_ROWS,
        },
    )


def _due_rows(today, days, overdue, due_soon, standards, checks) -> list[tuple]:
    """The page's four tables as one sheet: (section, due on, days left — negative when
    overdue, lab ID or standard, name, status, custodian), in the page's order."""

    def days_left(due):
        return (due - today).days if due is not None else None

    rows = []
    for section, items in (
        (_("Calibration overdue"), overdue),
        (
            ngettext("Calibration due within %(days)s day", "Calibration due within %(days)s days", days)
            % {"days": days},
            due_soon,
        ),
    ):
        rows += [
            (section, e.calibration_due, days_left(e.calibration_due), e.lab_id, e.name,
             e.get_status_display(), e.custodian)
            for e in items
        ]
    rows += [
        (_("Measurement standard certificates expired or expiring"), s.valid_until, days_left(s.valid_until),
         s.certificate_no, s.name, "", ", ".join(m.lab_id for m in s.members.all()))
        for s in standards
    ]
    rows += [
        (_("Intermediate checks overdue"), p.next_due, days_left(p.next_due), p.equipment.lab_id,
         p.equipment.name, p.equipment.get_status_display(), p.equipment.custodian)
        for p in checks
    ]
    return rows


def _due_columns() -> list[export.Column]:
    return [
        export.Column(_("Section"), lambda r: r[0], 28),
        export.Column(_("Due on"), lambda r: r[1], 12),
        export.Column(_("Days left"), lambda r: r[2], 10),
        export.Column(_("Lab ID") + " / " + _("Certificate number"), lambda r: r[3], 16),
        export.Column(_("Equipment name") + " / " + _("Measurement standard"), lambda r: r[4], 28),
        export.Column(_("Status"), lambda r: r[5], 12),
        export.Column(_("Custodian") + " / " + _("Equipment"), lambda r: r[6], 16),
    ]


# --- impact analysis ----------------------------------------------------------------


@login_required
def impact_list(request):
    permissions.require_or_404(request.user, "equipment.view")
    form = forms.ImpactFilterForm(request.GET or None)
    analyses = ImpactAnalysis.objects.select_related("equipment").annotate(
        n_items=Count("items"),
        n_pending=Count("items", filter=Q(items__decision=ImpactDecision.PENDING)),
        open_first=Case(
            When(status=ImpactStatus.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
    )
    sort = forms.DEFAULT_IMPACT_SORT
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            analyses = analyses.filter(
                Q(equipment__lab_id__icontains=q) | Q(equipment__name__icontains=q)
            )
        if data["status"]:
            analyses = analyses.filter(status=data["status"])
        sort = data["sort"] or sort
    analyses = analyses.order_by("open_first", *forms.IMPACT_SORTS[sort])
    if export.requested(request):
        return export.response(
            request, analyses, _impact_columns(), name="impact-analyses", title=_("Impact analyses")
        )
    page = Paginator(analyses, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "equipment/impact_list.html",
        {"page": page, "form": form, "querystring": querystring_without_page(request)},
    )


def _impact_columns() -> list[export.Column]:
    return [
        export.Column("#", lambda a: a.pk, 8),
        export.Column(_("Lab ID"), lambda a: a.equipment.lab_id, 14),
        export.Column(_("Equipment name"), lambda a: a.equipment.name, 24),
        export.Column(_("Trigger"), lambda a: a.get_trigger_display(), 18),
        export.field(ImpactAnalysis, "trigger_detail", width=28),
        export.Column(_("Found on"), lambda a: a.found_on, 12),
        export.Column(_("Since"), lambda a: a.since, 12),
        export.Column(_("Affected records"), lambda a: a.n_items, 10),
        export.Column(_("To decide"), lambda a: a.n_pending, 10),
        export.Column(_("Status"), lambda a: a.get_status_display(), 10),
    ]


def _snapshot_status(value):
    try:
        return EquipmentStatus(value).label
    except ValueError:
        return value or "—"


def _render_detail(request, analysis: ImpactAnalysis, *, decision_forms=None, conclude_form=None):
    decision_forms = decision_forms or {}
    analysis = ImpactAnalysis.objects.select_related(
        "equipment__custodian", "opened_by", "decided_by"
    ).get(pk=analysis.pk)
    items = list(
        analysis.items.select_related(
            "use__used_by", "use__record_type", "decided_by"
        ).prefetch_related("use__record")
    )
    may_decide = analysis.status == ImpactStatus.OPEN and permissions.can(
        request.user, "equipment.manage"
    )
    for item in items:
        snapshot = item.use.snapshot or {}
        item.snapshot_status = _snapshot_status(snapshot.get("status"))
        item.snapshot_due = snapshot.get("calibration_due")
        item.snapshot_certificate = snapshot.get("certificate_no")
        item.snapshot_note = snapshot.get("status_note")
        record = item.use.record
        item.record_url = record.get_absolute_url() if hasattr(record, "get_absolute_url") else ""
        item.form = None
        if may_decide and item.decision == ImpactDecision.PENDING:
            item.form = decision_forms.get(item.pk) or forms.ImpactDecisionForm(
                prefix=forms.decision_prefix(item.pk)
            )
    pending = sum(1 for item in items if item.decision == ImpactDecision.PENDING)
    return render(
        request,
        "equipment/impact_detail.html",
        {
            "analysis": analysis,
            "equipment": analysis.equipment,
            "items": items,
            "pending": pending,
            "may_decide": may_decide,
            "conclude_form": conclude_form or forms.ImpactConcludeForm(),
        },
    )


@login_required
def impact_detail(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    analysis = get_object_or_404(ImpactAnalysis, pk=pk)
    return _render_detail(request, analysis)


@login_required
@require_POST
def impact_decide(request, pk):
    """The technical lead's decision on one affected record."""
    permissions.require_or_404(request.user, "equipment.view")
    item = get_object_or_404(ImpactItem.objects.select_related("analysis", "use"), pk=pk)
    analysis = item.analysis
    form = forms.ImpactDecisionForm(request.POST, prefix=forms.decision_prefix(item.pk))
    if form.is_valid():
        try:
            services.decide_item(
                actor=request.user,
                item=item,
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("equipment:impact_detail", pk=analysis.pk)
        else:
            messages.success(
                request, _("Decision recorded for %(record)s.") % {"record": item.use.record_label}
            )
            return redirect("equipment:impact_detail", pk=analysis.pk)
    return _render_detail(request, analysis, decision_forms={item.pk: form})


@login_required
@require_POST
def impact_conclude(request, pk):
    """Close the analysis with the conclusion; refused while records are undecided."""
    permissions.require_or_404(request.user, "equipment.view")
    analysis = get_object_or_404(ImpactAnalysis, pk=pk)
    form = forms.ImpactConcludeForm(request.POST)
    if form.is_valid():
        try:
            services.conclude(
                actor=request.user, analysis=analysis, conclusion=form.cleaned_data["conclusion"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("equipment:impact_detail", pk=analysis.pk)
        else:
            messages.success(request, _("Impact analysis concluded."))
            return redirect("equipment:impact_detail", pk=analysis.pk)
    return _render_detail(request, analysis, conclude_form=form)


urlpatterns = [
    path("labels.pdf", labels_pdf, name="labels_pdf"),
    path("<int:pk>/label.pdf", label_pdf, name="label_pdf"),
    path("due/", due_list, name="due_list"),
    path("impact/", impact_list, name="impact_list"),
    path("impact/<int:pk>/", impact_detail, name="impact_detail"),
    path("impact/items/<int:pk>/decide/", impact_decide, name="impact_decide"),
    path("impact/<int:pk>/conclude/", impact_conclude, name="impact_conclude"),
]
