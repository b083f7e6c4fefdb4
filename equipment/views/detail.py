"""One piece of equipment on one page (R-EQP-2) and every action on it: status (R-EQP-4),
attachments, calibrations with metrological confirmation, correction factors (R-EQP-8),
intermediate checks (R-EQP-7), the maintenance/incident log, check-out and the return
check (R-EQP-6, R-ONS-2, R-ONS-5).

Views only parse and call ``equipment.services``.  A refused POST shows the page it came
from again with the bound form, so nothing typed is lost; outsiders get 404."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from equipment.forms import detail as forms
from equipment.models import (
    Attachment,
    Calibration,
    CheckOut,
    CheckPlan,
    Equipment,
    EquipmentStatus,
    ImpactStatus,
    IntermediateCheck,
)
from equipment.models.register import STATUS_TRANSITIONS
from equipment.services import calibration as calibration_services
from equipment.services import checkout as checkout_services
from equipment.services import checks as check_services
from equipment.services import register as register_services
from equipment.services import status as status_services
from labqms import audit, permissions
from labqms.forms import add_service_errors

# Statuses only the technical lead may choose (the service enforces it; the page only
# avoids offering what would be refused).
LEAD_ONLY = frozenset({EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED, EquipmentStatus.RETIRED})
AUDIT_ROWS = 50


def _equipment_or_404(request, pk) -> Equipment:
    permissions.require_or_404(request.user, "equipment.view")
    return get_object_or_404(Equipment.objects.select_related("custodian"), pk=pk)


def _detail_url(equipment: Equipment, section: str = "") -> str:
    url = reverse("equipment:equipment_detail", args=[equipment.pk])
    return f"{url}#{section}" if section else url


def offered_statuses(equipment: Equipment, user) -> list[tuple[str, str]]:
    """The status moves the page offers ``user``: allowed from the current status by
    ``STATUS_TRANSITIONS``, never "off site" (only a check-out sends it away), the
    lead-only targets only to the technical lead, and nothing while off site (only the
    return check brings it back)."""
    if equipment.status == EquipmentStatus.OFF_SITE or not permissions.can(user, "equipment.maintain"):
        return []
    may_decide = permissions.can(user, "equipment.manage")
    allowed = STATUS_TRANSITIONS[equipment.status]
    offered = []
    for status in EquipmentStatus:
        if status not in allowed or status == EquipmentStatus.OFF_SITE:
            continue
        if status in LEAD_ONLY and not may_decide:
            continue
        offered.append((status.value, status.label))
    return [("", "—"), *offered] if offered else []


def _calibration_banner(equipment: Equipment, today) -> dict | None:
    """Overdue / due soon, derived from the due date on ``today`` (never stored).  The lab
    may use equipment ON its due date; it is overdue from the day after."""
    if not equipment.needs_calibration or equipment.status == EquipmentStatus.RETIRED:
        return None
    due = equipment.calibration_due
    if due is None:
        return {"state": "missing"}
    if due < today:
        return {"state": "overdue", "since": due + timedelta(days=1), "due": due, "days": (today - due).days}
    if (due - today).days <= settings.EQUIPMENT_DUE_SOON_DAYS:
        return {"state": "due_soon", "due": due, "days": (due - today).days}
    return None


def _detail_context(request, equipment: Equipment, bound: dict | None = None) -> dict:
    today = timezone.localdate()
    bound = bound or {}
    calibrations = list(
        equipment.calibrations.select_related("recorded_by", "confirmed_by", "approved_by").order_by(
            "-calibrated_on", "-id"
        )
    )
    for calibration in calibrations:
        key = f"confirm{calibration.pk}"
        calibration.confirm_form = bound.get(key) or forms.ConfirmForm(prefix=key)
    corrections = list(
        equipment.corrections.select_related("calibration", "created_by").order_by("-version")
    )
    plans = list(
        equipment.check_plans.prefetch_related(
            Prefetch(
                "checks",
                queryset=IntermediateCheck.objects.select_related("performed_by").order_by("-checked_on", "-id"),
            )
        ).order_by("-is_active", "id")
    )
    checkouts = list(equipment.checkouts.select_related("out_by", "returned_by", "visit__order"))
    open_checkout = next((c for c in checkouts if c.is_open), None)
    standards = list(equipment.standards.all())
    for standard in standards:
        standard.valid_today = standard.is_valid_on(today)
    forms_ = {
        "status": forms.StatusForm(prefix="status", offered=offered_statuses(equipment, request.user)),
        "attachment": forms.AttachmentForm(prefix="attachment"),
        "plan": forms.CheckPlanForm(prefix="plan"),
        "maintenance": forms.MaintenancePlanForm(prefix="maintenance"),
        "log": forms.LogForm(prefix="log", equipment=equipment, initial={"occurred_on": today}),
        "return": forms.ReturnForm(prefix="return"),
    }
    forms_.update({k: v for k, v in bound.items() if not k.startswith("confirm")})
    if "status" in bound:
        bound["status"].fields["status"].widget.choices = offered_statuses(equipment, request.user)
    return {
        "e": equipment,
        "equipment": equipment,
        "today": today,
        "banner": _calibration_banner(equipment, today),
        "standards": standards,
        "calibrations": calibrations,
        "corrections_in_force": next((t for t in corrections if t.in_force), None),
        "corrections_old": [t for t in corrections if not t.in_force],
        "plans": plans,
        "maintenance_plans": list(equipment.maintenance_plans.all()),
        "log": list(equipment.log.select_related("recorded_by", "plan")),
        "checkouts": checkouts,
        "open_checkout": open_checkout,
        "attachments": list(equipment.attachments.select_related("uploaded_by")),
        "impact_analyses": list(equipment.impact_analyses.filter(status=ImpactStatus.OPEN).order_by("-opened_at")),
        "events": list(audit.events_for(equipment).select_related("target_type").order_by("-at", "-id")[:AUDIT_ROWS]),
        "audit_rows": AUDIT_ROWS,
        "forms": forms_,
        "open_action": next(iter(bound), None),
    }


def _render_detail(request, equipment: Equipment, *, bound: dict | None = None):
    return render(request, "equipment/equipment_detail.html", _detail_context(request, equipment, bound))


@login_required
def equipment_detail(request, pk):
    equipment = _equipment_or_404(request, pk)
    return _render_detail(request, equipment)


def _newest_analysis_pk(equipment: Equipment) -> int:
    return equipment.impact_analyses.aggregate(m=Max("pk"))["m"] or 0


def _impact_message(equipment: Equipment, before_pk: int) -> str:
    """The link to an impact analysis the action just opened, or ""."""
    analysis = equipment.impact_analyses.filter(pk__gt=before_pk).order_by("-pk").first()
    if analysis is None:
        return ""
    equipment.refresh_from_db(fields=["status"])
    return format_html(
        ' {} <a class="alert-link" href="{}" data-testid="impact-link">{}</a>',
        _("%(eq)s is now “%(status)s” and an impact analysis was opened.")
        % {"eq": equipment.lab_id, "status": equipment.get_status_display()},
        reverse("equipment:impact_detail", args=[analysis.pk]),
        _("Open the impact analysis"),
    )


def _run(request, equipment: Equipment, form, call: Callable[[dict], object], done: Callable[[object], str],
         *, needs: str, section: str = "", render_page: Callable | None = None,
         shown: Callable[[], bool] | None = None):
    """Shared POST handling: valid form → service.  Success: message (plus the impact
    analysis the service may have opened) and redirect.  Refusal: the service's errors on
    the form and the page again with what was typed; PermissionDenied: a message.
    Someone without ``needs`` is not shown the form, so they get the reason as a message
    (the service would refuse them anyway); so does anyone whose form the page no longer
    shows (``shown`` says whether it does, e.g. a confirmation already recorded)."""
    refused = _refuse_unless(request, equipment, needs, section)
    if refused:
        return refused
    if form.is_valid():
        before = _newest_analysis_pk(equipment)
        try:
            result = call(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect(_detail_url(equipment, section))
        else:
            impact = _impact_message(equipment, before)
            text = format_html("{}{}", done(result), impact) if impact else done(result)
            (messages.warning if impact else messages.success)(request, text)
            return redirect(_detail_url(equipment, section))
    equipment.refresh_from_db()
    if shown is not None and not shown():
        errors = [str(m) for field_errors in form.errors.values() for m in field_errors]
        messages.error(request, " ".join(errors) or _("Nothing was changed."))
        return redirect(_detail_url(equipment, section))
    messages.error(request, _("Nothing was changed; see the form below."))
    if render_page is not None:
        return render_page(form)
    return _render_detail(request, equipment, bound={form.prefix: form})


def _refuse_unless(request, equipment: Equipment, action: str, section: str = ""):
    """Someone who may only look is sent back to the equipment page with the reason."""
    decision = permissions.check(request.user, action)
    if decision:
        return None
    messages.error(request, decision.reason or _("You may not do this."))
    return redirect(_detail_url(equipment, section))


# --- status and attachments ----------------------------------------------------------


@login_required
@require_POST
def equipment_status(request, pk):
    equipment = _equipment_or_404(request, pk)
    form = forms.StatusForm(request.POST, prefix="status")

    def call(data):
        try:
            return status_services.change_status(
                actor=request.user, equipment=equipment, status=data["status"], reason=data["reason"],
                note=data["note"],
            )
        except PermissionDenied as error:
            if data["status"] in LEAD_ONLY:
                raise PermissionDenied(
                    _("Only the technical lead decides that equipment may be used again (in service or "
                      "restricted) or is retired.") + " " + str(error)
                ) from None
            raise

    return _run(
        request, equipment, form, call,
        lambda e: _("%(eq)s is now “%(status)s”.") % {"eq": e.lab_id, "status": e.get_status_display()},
        needs="equipment.maintain", section="status",
        shown=lambda: bool(offered_statuses(equipment, request.user)),
    )


@login_required
@require_POST
def attachment_add(request, pk):
    equipment = _equipment_or_404(request, pk)
    form = forms.AttachmentForm(request.POST, request.FILES, prefix="attachment")
    return _run(
        request, equipment, form,
        lambda data: register_services.add_attachment(
            actor=request.user, equipment=equipment, title=data["title"], upload=data["file"]
        ),
        lambda a: _("Attachment “%(title)s” added.") % {"title": a.title},
        needs="equipment.maintain", section="attachments",
    )


# --- calibrations, confirmation, correction factors ----------------------------------


@login_required
def calibration_add(request, pk):
    equipment = _equipment_or_404(request, pk)
    refused = _refuse_unless(request, equipment, "equipment.maintain")
    if refused:
        return refused

    def page(form):
        return render(request, "equipment/detail_calibration_form.html", {"e": equipment, "form": form})

    if request.method != "POST":
        return page(forms.CalibrationForm(initial={"provider": equipment.calibrating_body}))
    form = forms.CalibrationForm(request.POST, request.FILES)
    return _run(
        request, equipment, form,
        lambda data: calibration_services.record_calibration(
            actor=request.user, equipment=equipment, provider=data["provider"],
            certificate_no=data["certificate_no"], calibrated_on=data["calibrated_on"], result=data["result"],
            next_due=data["next_due"], certificate_file=data["certificate_file"], adjusted=data["adjusted"],
            adjustment_notes=data["adjustment_notes"],
        ),
        lambda c: _("Calibration %(no)s recorded; next due %(due)s.")
        % {"no": c.certificate_no, "due": c.next_due.isoformat()},
        needs="equipment.maintain", section="calibrations",
        render_page=page,
    )


def _calibration_or_404(request, pk) -> Calibration:
    permissions.require_or_404(request.user, "equipment.view")
    return get_object_or_404(Calibration.objects.select_related("equipment__custodian"), pk=pk)


@login_required
@require_POST
def calibration_confirm(request, pk):
    calibration = _calibration_or_404(request, pk)
    equipment = calibration.equipment
    form = forms.ConfirmForm(request.POST, prefix=f"confirm{calibration.pk}")
    return _run(
        request, equipment, form,
        lambda data: calibration_services.confirm_calibration(
            actor=request.user, calibration=calibration, conclusion=data["conclusion"], notes=data["notes"]
        ),
        lambda c: _("Metrological confirmation of %(no)s recorded; the technical lead approves it next.")
        % {"no": c.certificate_no},
        needs="equipment.maintain", section="calibrations",
        shown=lambda: not Calibration.objects.filter(pk=calibration.pk, confirmed_at__isnull=False).exists(),
    )


@login_required
@require_POST
def calibration_approve(request, pk):
    calibration = _calibration_or_404(request, pk)
    try:
        calibration_services.approve_confirmation(actor=request.user, calibration=calibration)
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text or _("You may not do this."))
    else:
        messages.success(
            request, _("Metrological confirmation of %(no)s approved.") % {"no": calibration.certificate_no}
        )
    return redirect(_detail_url(calibration.equipment, "calibrations"))


@login_required
def corrections_set(request, pk):
    """A new version of the correction table from this calibration (R-EQP-8); the form
    starts from the table in force, and blank rows are ignored."""
    calibration = _calibration_or_404(request, pk)
    equipment = calibration.equipment
    refused = _refuse_unless(request, equipment, "equipment.maintain")
    if refused:
        return refused
    current = equipment.corrections.filter(in_force=True).first()
    if request.method == "POST":
        header = forms.CorrectionHeaderForm(request.POST)
        points = forms.CorrectionPointFormSet(request.POST, prefix="points")
    else:
        header = forms.CorrectionHeaderForm(initial={"unit": current.unit if current else ""})
        points = forms.CorrectionPointFormSet(prefix="points", initial=current.points if current else None)

    def page(form):
        return render(
            request, "equipment/detail_corrections_form.html",
            {"e": equipment, "calibration": calibration, "current": current, "form": form, "points": points},
        )

    if request.method != "POST":
        return page(header)
    if not points.is_valid():
        header.is_valid()
        header.add_error(None, _("Some rows are incomplete; see the table."))
    return _run(
        request, equipment, header,
        lambda data: calibration_services.set_corrections(
            actor=request.user, calibration=calibration, unit=data["unit"],
            points=[
                {"nominal": f.cleaned_data["nominal"], "correction": f.cleaned_data["correction"]}
                for f in points if not f.is_blank
            ],
        ),
        lambda t: (_("Correction table version %(v)s is in force; the previous version is superseded.")
                   if t.version > 1 else _("Correction table version %(v)s is in force.")) % {"v": t.version},
        needs="equipment.maintain", section="corrections",
        render_page=page,
    )


# --- intermediate checks, log ---------------------------------------------------------


@login_required
@require_POST
def check_plan_add(request, pk):
    equipment = _equipment_or_404(request, pk)
    form = forms.CheckPlanForm(request.POST, prefix="plan")
    return _run(
        request, equipment, form,
        lambda data: check_services.save_check_plan(
            actor=request.user, equipment=equipment, interval_months=data["interval_months"],
            method=data["method"], criterion=data["criterion"], tolerance=data["tolerance"], unit=data["unit"],
            first_due=data["first_due"],
        ),
        lambda plan: _("Intermediate check plan saved; first check due %(due)s.") % {"due": plan.next_due.isoformat()},
        needs="equipment.manage", section="checks",
    )


def _file_response(field):
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=False, filename=os.path.basename(field.name))


@login_required
def attachment_file(request, pk):
    """Attachments are lab records: served to staff only, never from a public /media URL."""
    permissions.require_or_404(request.user, "equipment.view")
    attachment = get_object_or_404(Attachment, pk=pk)
    return _file_response(attachment.file)


@login_required
def calibration_file(request, pk):
    """The uploaded calibration certificate, to staff only."""
    permissions.require_or_404(request.user, "equipment.view")
    calibration = get_object_or_404(Calibration, pk=pk)
    return _file_response(calibration.certificate_file)


@login_required
@require_POST
def maintenance_plan_add(request, pk):
    equipment = _equipment_or_404(request, pk)
    form = forms.MaintenancePlanForm(request.POST, prefix="maintenance")
    return _run(
        request, equipment, form,
        lambda data: check_services.save_maintenance_plan(
            actor=request.user, equipment=equipment, task=data["task"], interval_months=data["interval_months"],
        ),
        lambda plan: _("Maintenance plan saved: %(task)s.") % {"task": plan.task},
        needs="equipment.manage", section="log",
    )


@login_required
def check_add(request, pk):
    """Record an intermediate check; a failed one takes the equipment out of service and
    opens an impact analysis (the service does both; the message links to it)."""
    permissions.require_or_404(request.user, "equipment.view")
    plan = get_object_or_404(CheckPlan.objects.select_related("equipment__custodian"), pk=pk)
    equipment = plan.equipment
    refused = _refuse_unless(request, equipment, "equipment.maintain")
    if refused:
        return refused

    def page(form):
        return render(request, "equipment/detail_check_form.html", {"e": equipment, "plan": plan, "form": form})

    if request.method != "POST":
        return page(forms.CheckForm(initial={"checked_on": timezone.localdate(), "notes": ""}))
    form = forms.CheckForm(request.POST)
    return _run(
        request, equipment, form,
        lambda data: check_services.record_check(
            actor=request.user, plan=plan, checked_on=data["checked_on"], measured=data["measured"],
            reference=data["reference"], u_measured=data["u_measured"], u_reference=data["u_reference"],
            notes=data["notes"],
        ),
        lambda check: (_("Intermediate check passed (%(score)s).") if check.passed
                       else _("Intermediate check FAILED (%(score)s).")) % {"score": check.score.normalize()},
        needs="equipment.maintain", section="checks",
        render_page=page,
    )


@login_required
@require_POST
def log_add(request, pk):
    equipment = _equipment_or_404(request, pk)
    form = forms.LogForm(request.POST, prefix="log", equipment=equipment)
    return _run(
        request, equipment, form,
        lambda data: check_services.log_event(
            actor=request.user, equipment=equipment, kind=data["kind"], occurred_on=data["occurred_on"],
            description=data["description"], action_taken=data["action_taken"], plan=data["plan"],
        ),
        lambda entry: _("%(kind)s logged.") % {"kind": entry.get_kind_display()},
        needs="equipment.maintain", section="log",
    )


# --- check-out and return ---------------------------------------------------------------


@login_required
def checkout(request, pk):
    """The check before leaving (R-ONS-2); the equipment is then off site."""
    equipment = _equipment_or_404(request, pk)
    refused = _refuse_unless(request, equipment, "equipment.maintain")
    if refused:
        return refused
    open_checkout = equipment.checkouts.filter(returned_at__isnull=True).first()

    def page(form):
        return render(
            request, "equipment/detail_checkout_form.html", {"e": equipment, "form": form, "open_checkout": open_checkout}
        )

    if request.method != "POST":
        return page(forms.CheckOutForm())
    form = forms.CheckOutForm(request.POST)
    return _run(
        request, equipment, form,
        lambda data: checkout_services.check_out(
            actor=request.user, equipment=equipment, purpose=data["purpose"], destination=data["destination"],
            condition_ok=data["condition_ok"], packed_ok=data["packed_ok"], notes=data["notes"], visit=data["visit"],
        ),
        lambda c: _("%(eq)s is checked out to %(to)s and off site until its return check.")
        % {"eq": equipment.lab_id, "to": c.destination},
        needs="equipment.maintain", section="checkouts",
        render_page=page,
    )


@login_required
@require_POST
def checkin(request, pk):
    """The return check (R-EQP-6, R-ONS-5) on a check-out."""
    permissions.require_or_404(request.user, "equipment.view")
    checkout_ = get_object_or_404(CheckOut.objects.select_related("equipment__custodian"), pk=pk)
    equipment = checkout_.equipment
    form = forms.ReturnForm(request.POST, prefix="return")

    def done(_result):
        equipment.refresh_from_db(fields=["status"])
        if equipment.status in status_services.USABLE:
            return _("Return check recorded: %(eq)s is back “%(status)s”.") % {
                "eq": equipment.lab_id, "status": equipment.get_status_display()}
        return _("Return check recorded: %(eq)s is “%(status)s” until the technical lead decides.") % {
            "eq": equipment.lab_id, "status": equipment.get_status_display()}

    return _run(
        request, equipment, form,
        lambda data: checkout_services.check_in(
            actor=request.user, checkout=checkout_, count_ok=data["count_ok"], function_ok=data["function_ok"],
            calibration_ok=data["calibration_ok"], notes=data["notes"],
        ),
        done,
        needs="equipment.maintain", section="checkouts",
        shown=lambda: CheckOut.objects.filter(pk=checkout_.pk, returned_at__isnull=True).exists(),
    )


urlpatterns = [
    path("<int:pk>/", equipment_detail, name="equipment_detail"),
    path("<int:pk>/status/", equipment_status, name="equipment_status"),
    path("<int:pk>/attachments/add/", attachment_add, name="attachment_add"),
    path("<int:pk>/calibrations/add/", calibration_add, name="calibration_add"),
    path("calibrations/<int:pk>/confirm/", calibration_confirm, name="calibration_confirm"),
    path("calibrations/<int:pk>/approve/", calibration_approve, name="calibration_approve"),
    path("calibrations/<int:pk>/corrections/", corrections_set, name="corrections_set"),
    path("<int:pk>/check-plans/add/", check_plan_add, name="check_plan_add"),
    path("<int:pk>/maintenance-plans/add/", maintenance_plan_add, name="maintenance_plan_add"),
    path("attachments/<int:pk>/file/", attachment_file, name="attachment_file"),
    path("calibrations/<int:pk>/file/", calibration_file, name="calibration_file"),
    path("check-plans/<int:pk>/checks/add/", check_add, name="check_add"),
    path("<int:pk>/log/add/", log_add, name="log_add"),
    path("<int:pk>/checkout/", checkout, name="checkout"),
    path("checkouts/<int:pk>/return/", checkin, name="checkin"),
]
