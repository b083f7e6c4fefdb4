"""The audit programme and the audits (R-MGT-1, ISO/IEC 17025 8.8).

- ``/audits/``: the years' programmes, the audits outside a programme (ad hoc, external)
  and the signed-in auditor's own audits; the quality lead creates a year's programme.
- ``/audits/programme/<year>/``: the programme's audits and its coverage — every clause
  of the management system and every department against the audits that cover them, the
  gaps in words; the lab head approves once nothing is missing (the service refuses
  before, and the page shows why).
- ``/audits/plan/``: the quality lead plans an audit; ``?complaint=`` or ``?impact=``
  opens an ad-hoc audit from a complaint that requested one or from an impact analysis.
  An auditor from an audited department is refused by the service; the form comes back
  with everything typed kept.
- ``/audits/<pk>/``: scope, team, source, the steps (start — the audit team; report —
  the lead auditor; cancel — the quality lead), the checklist with each item's evidence
  and result and a finding raised from it, and the audit's findings.
- ``/audits/<pk>/report.pdf``: the audit report.

Views parse and call ``audits.services.audits``; every staff member reads (customers and
strangers get 404); who may take a step is the services' business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits.clauses import CLAUSE_TITLES, CLAUSES
from audits.forms import programme as forms
from audits.models import (
    Audit,
    AuditKind,
    AuditProgramme,
    AuditStatus,
    ChecklistItem,
    ChecklistResult,
    Finding,
    FindingSource,
)
from audits.services import audits as services
from complaints.models import Complaint
from equipment.models import ImpactAnalysis
from labqms import export, pdf, permissions
from labqms.forms import add_service_errors
from labqms.views.helpers import page_size, querystring_without_page

# Clauses an ad-hoc audit looks at first, by where it comes from (the planner changes them).
COMPLAINT_CLAUSES = ["7.9", "7.10", "8.7"]
IMPACT_CLAUSES = ["6.4", "6.5", "7.10"]
NOT_CHECKED = ChecklistResult.NOT_CHECKED


def _errors_text(form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


# --- the programmes ---------------------------------------------------------------------------


def _list_context(request, programme_form=None) -> dict:
    user = request.user
    programmes = (
        AuditProgramme.objects.select_related("prepared_by", "approved_by")
        .annotate(
            n_audits=Count("audits", filter=~Q(audits__status=AuditStatus.CANCELLED)),
            n_reported=Count("audits", filter=Q(audits__status=AuditStatus.REPORTED)),
        )
        .order_by("-year")
    )
    outside = Audit.objects.filter(programme__isnull=True).select_related("lead_auditor").order_by("-planned_start", "-id")
    mine = (
        Audit.objects.filter(Q(lead_auditor=user) | Q(auditors=user), status__in=[AuditStatus.PLANNED, AuditStatus.IN_PROGRESS])
        .select_related("lead_auditor")
        .distinct()
        .order_by("planned_start", "id")
    )
    can_manage = permissions.can(user, "audits.manage")
    return {
        "programmes": list(programmes),
        "outside_page": Paginator(outside, page_size(request)).get_page(request.GET.get("page")),
        "querystring": querystring_without_page(request),
        "mine": list(mine),
        "can_manage": can_manage,
        "programme_form": (programme_form or forms.ProgrammeForm()) if can_manage else None,
    }


@login_required
@require_GET
def programme_list(request):
    permissions.require_or_404(request.user, "audits.view")
    if export.requested(request):
        return export.response(
            request, _audits_for_export(), _audit_columns(), name="internal-audits", title=_("Internal audits")
        )
    return render(request, "audits/programme_list.html", _list_context(request))


def _audits_for_export():
    """Every audit, programme by programme (newest year first), then those outside a
    programme as the page lists them."""
    return (
        Audit.objects.select_related("programme", "lead_auditor")
        .prefetch_related("auditors")
        .order_by(F("programme__year").desc(nulls_last=True), "-planned_start", "-id")
    )


def _audit_columns() -> list[export.Column]:
    return [
        export.Column(_("Year"), lambda a: a.programme.year if a.programme else None, 8),
        export.Column(_("Audit number"), lambda a: a.number, 16),
        export.Column(_("Kind"), lambda a: a.get_kind_display(), 14),
        export.Column(_("Title"), lambda a: a.title, 32),
        export.field(Audit, "external_body", width=20),
        export.field(Audit, "planned_start", width=12),
        export.field(Audit, "planned_end", width=12),
        export.Column(_("Lead auditor"), lambda a: a.lead_auditor, 12),
        export.Column(_field_label(Audit, "auditors"), lambda a: [str(u) for u in a.auditors.all()], 20),
        export.Column(_field_label(Audit, "clauses"), lambda a: a.clauses or [], 20),
        export.Column(_field_label(Audit, "areas"), lambda a: a.areas or [], 20),
        export.Column(_("Status"), lambda a: a.get_status_display(), 12),
    ]


def _field_label(model, name: str) -> str:
    return capfirst(model._meta.get_field(name).verbose_name)


@login_required
@require_POST
def programme_create(request):
    """The quality lead opens a year's audit programme."""
    permissions.require_or_404(request.user, "audits.view")
    form = forms.ProgrammeForm(request.POST)
    if form.is_valid():
        try:
            programme = services.create_programme(
                actor=request.user, year=form.cleaned_data["year"], objectives=form.cleaned_data["objectives"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("audits:programme_list")
        else:
            messages.success(request, _("The %(year)d audit programme is open: plan its audits.") % {"year": programme.year})
            return redirect("audits:programme_detail", year=programme.year)
    if not permissions.can(request.user, "audits.manage"):
        messages.error(request, _errors_text(form) or _("Nothing was changed."))
        return redirect("audits:programme_list")
    messages.error(request, _("Nothing was changed; see the form below."))
    return render(request, "audits/programme_list.html", _list_context(request, form))


@dataclass
class MatrixRow:
    """One clause or department against the programme's audits: which audits cover it."""

    code: str
    title: str
    cells: list[bool]
    gap: bool


def _matrix(rows, audits, attribute: str, missing) -> list[MatrixRow]:
    missing = set(missing)
    return [
        MatrixRow(code, str(title), [code in (getattr(a, attribute) or []) for a in audits], code in missing)
        for code, title in rows
    ]


def _programme_context(request, programme: AuditProgramme, approve_error: str = "") -> dict:
    audits = list(
        programme.audits.select_related("lead_auditor", "source_complaint")
        .prefetch_related("auditors")
        .order_by("planned_start", "number")
    )
    active = [a for a in audits if a.status != AuditStatus.CANCELLED]
    coverage = services.coverage(programme)
    every_department = services.departments()
    # Areas an audit names that no staff profile carries any more are shown, not required.
    extra = sorted({area for a in active for area in a.areas or [] if area not in every_department})
    user = request.user
    return {
        "programme": programme,
        "audits": audits,
        "active": active,
        "coverage": coverage,
        "clause_rows": _matrix(CLAUSES, active, "clauses", coverage["clauses_missing"]),
        "area_rows": _matrix([(d, d) for d in [*every_department, *extra]], active, "areas", coverage["areas_missing"]),
        "can_manage": permissions.can(user, "audits.manage"),
        "can_approve": programme.approved_at is None and permissions.can(user, "audits.approve"),
        "approve_error": approve_error,
    }


def _programme_or_404(request, year) -> AuditProgramme:
    permissions.require_or_404(request.user, "audits.view")
    return get_object_or_404(AuditProgramme.objects.select_related("prepared_by", "approved_by"), year=year)


@login_required
@require_GET
def programme_detail(request, year):
    programme = _programme_or_404(request, year)
    return render(request, "audits/programme_detail.html", _programme_context(request, programme))


@login_required
@require_POST
def programme_approve(request, year):
    """R-MGT-1: the lab head approves a programme that covers every clause and department."""
    programme = _programme_or_404(request, year)
    try:
        services.approve_programme(actor=request.user, programme=programme)
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You may not do this."))
    except ValidationError as error:
        if not permissions.can(request.user, "audits.approve"):
            messages.error(request, " ".join(error.messages))
            return redirect("audits:programme_detail", year=programme.year)
        messages.error(request, _("The programme is not approved."))
        context = _programme_context(request, programme, approve_error=" ".join(error.messages))
        return render(request, "audits/programme_detail.html", context)
    else:
        messages.success(request, _("The %(year)d audit programme is approved.") % {"year": programme.year})
    return redirect("audits:programme_detail", year=programme.year)


# --- planning an audit ------------------------------------------------------------------------


def _pk(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _source(params) -> tuple[Complaint | None, ImpactAnalysis | None]:
    """The complaint or impact analysis an ad-hoc audit is opened from (``?complaint=`` /
    ``?impact=`` on the first visit, hidden fields after)."""
    complaint = impact = None
    if params.get("complaint"):
        complaint = get_object_or_404(Complaint, pk=_pk(params["complaint"]) or 0)
    if params.get("impact"):
        impact = get_object_or_404(ImpactAnalysis.objects.select_related("equipment"), pk=_pk(params["impact"]) or 0)
    return complaint, impact


def _plan_initial(request, complaint, impact) -> dict:
    today = timezone.localdate()
    initial = {"planned_start": today, "planned_end": today, "kind": AuditKind.SCHEDULED}
    year = _pk(request.GET.get("programme")) or today.year
    programme = AuditProgramme.objects.filter(year=year).first()
    if programme is not None:
        initial["programme"] = programme.pk
        if programme.year != today.year:
            initial["planned_start"] = initial["planned_end"] = None
    departments = set(services.departments())
    if complaint is not None:
        initial.update(
            kind=AuditKind.AD_HOC, complaint=complaint.pk, clauses=COMPLAINT_CLAUSES,
            title=_("Ad-hoc audit after complaint %(number)s") % {"number": complaint.number},
            areas=[complaint.department] if complaint.department in departments else [],
        )
    if impact is not None:
        initial.update(
            kind=AuditKind.AD_HOC, impact=impact.pk, clauses=IMPACT_CLAUSES,
            title=_("Ad-hoc audit after the impact analysis of %(equipment)s") % {"equipment": impact.equipment.lab_id},
        )
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def audit_plan(request):
    """The quality lead plans an audit (or opens an ad-hoc one from its source)."""
    permissions.require_or_404(request.user, "audits.manage")
    complaint, impact = _source(request.POST if request.method == "POST" else request.GET)
    has_source = complaint is not None or impact is not None
    if request.method == "GET":
        form = forms.PlanAuditForm(initial=_plan_initial(request, complaint, impact), source=has_source)
    else:
        form = forms.PlanAuditForm(request.POST, source=has_source)
        if form.is_valid():
            data = form.cleaned_data
            fields = {
                "title": data["title"], "clauses": data["clauses"], "areas": data["areas"],
                "planned_start": data["planned_start"], "planned_end": data["planned_end"],
                "lead_auditor": data["lead_auditor"], "auditors": list(data["auditors"]),
                "programme": data["programme"], "external_body": data["external_body"],
            }
            try:
                if has_source:
                    item = services.open_ad_hoc_audit(actor=request.user, complaint=complaint, impact=impact, **fields)
                else:
                    item = services.plan_audit(actor=request.user, kind=data["kind"], **fields)
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error) or _("You may not do this."))
            else:
                messages.success(request, _("Audit %(number)s planned; the audit team is told.") % {"number": item.number})
                return redirect("audits:audit_detail", pk=item.pk)
        messages.error(request, _("Nothing was planned; see the form below."))
    return render(request, "audits/audit_plan.html", {
        "form": form, "complaint": complaint, "impact": impact,
        "clause_titles": CLAUSE_TITLES,
    })


# --- one audit and its steps --------------------------------------------------------------------


def full_audit(pk) -> Audit:
    """An audit with its team, source, checklist and findings (a fixed number of queries)."""
    return get_object_or_404(
        Audit.objects.select_related(
            "programme", "lead_auditor", "created_by", "reported_by", "source_complaint", "source_impact__equipment",
        ).prefetch_related(
            "auditors",
            Prefetch("checklist", queryset=ChecklistItem.objects.select_related("checked_by")),
            Prefetch("findings", queryset=Finding.objects.select_related("responsible", "raised_by", "checklist_item")),
        ),
        pk=pk,
    )


def _audit_or_404(request, pk) -> Audit:
    permissions.require_or_404(request.user, "audits.view")
    return full_audit(pk)


@dataclass
class Offers:
    """Which steps the page shows ``user`` now (the services still decide)."""

    start: bool = False
    check: bool = False
    report: bool = False
    cancel: bool = False

    @classmethod
    def of(cls, user, item: Audit) -> Offers:
        manages = permissions.can(user, "audits.manage")
        external_by_lead = item.kind == AuditKind.EXTERNAL and manages
        on_team = user.pk == item.lead_auditor_id or any(a.pk == user.pk for a in item.auditors.all()) or external_by_lead
        status = item.status
        return cls(
            start=on_team and status == AuditStatus.PLANNED,
            check=on_team and status == AuditStatus.IN_PROGRESS,
            report=(user.pk == item.lead_auditor_id or external_by_lead) and status == AuditStatus.IN_PROGRESS,
            cancel=manages and status == AuditStatus.PLANNED,
        )

    def shows(self, key: str) -> bool:
        return getattr(self, "check" if key == "finding" else key)


STEP_FORMS = {"start": forms.StartForm, "report": forms.ReportForm, "cancel": forms.CancelForm}


def _detail_context(request, item: Audit, bound: dict | None = None, *, printed: bool = False) -> dict:
    bound = bound or {}
    offers = Offers() if printed else Offers.of(request.user, item)
    checklist = list(item.checklist.all())
    findings = list(item.findings.all())
    step_forms = {key: bound.get(key) or form_class(prefix=key) for key, form_class in STEP_FORMS.items() if offers.shows(key)}
    if offers.check:
        people = forms.people_choices()
        for row in checklist:
            row.check_form = bound.get(("check", row.pk)) or forms.CheckForm(
                prefix=f"check-{row.pk}", initial={"evidence": row.evidence, "result": "" if row.result == NOT_CHECKED else row.result}
            )
            row.finding_form = bound.get(("finding", row.pk)) or forms.FindingForm(
                prefix=f"finding-{row.pk}", areas=item.areas, people=people,
                initial={"evidence": row.evidence, "area": item.areas[0] if len(item.areas or []) == 1 else ""},
            )
            row.open = ("check", row.pk) in bound or ("finding", row.pk) in bound
    findings_by_item: dict[int, list[Finding]] = {}
    for finding in findings:
        if finding.checklist_item_id:
            findings_by_item.setdefault(finding.checklist_item_id, []).append(finding)
    for row in checklist:
        row.title = CLAUSE_TITLES.get(row.clause, "")
        row.raised = findings_by_item.get(row.pk, [])
    return {
        "a": item,
        "offers": offers,
        "checklist": checklist,
        "unchecked": [row.clause for row in checklist if row.result == NOT_CHECKED],
        "findings": findings,
        "clauses": [(code, CLAUSE_TITLES.get(code, "")) for code in item.clauses or []],
        "auditors": list(item.auditors.all()),
        **{f"{key}_form": form for key, form in step_forms.items()},
    }


@login_required
@require_GET
def audit_detail(request, pk):
    item = _audit_or_404(request, pk)
    return render(request, "audits/audit_detail.html", _detail_context(request, item))


def _detail_url(item: Audit, section: str = "") -> str:
    url = reverse("audits:audit_detail", args=[item.pk])
    return f"{url}#{section}" if section else url


def _step(request, item: Audit, key, form, call: Callable[[dict], object], done: str, section: str):
    """Run one step: parse, call the service, say what happened.  Refused: the page with
    the bound form (what was typed kept) when it offers the step to this user, otherwise
    a message on the audit page.  ``key`` is a step name or ``(step, item pk)``."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
        else:
            messages.success(request, done)
            return redirect(_detail_url(item, section))
    item = full_audit(item.pk)  # as it stands now (nothing was changed)
    step = key[0] if isinstance(key, tuple) else key
    if not Offers.of(request.user, item).shows(step):
        messages.error(request, _errors_text(form) or _("Nothing was changed."))
        return redirect(_detail_url(item, section))
    messages.error(request, _("Nothing was changed; see the form below."))
    return render(request, "audits/audit_detail.html", _detail_context(request, item, {key: form}))


@login_required
@require_POST
def audit_start(request, pk):
    item = _audit_or_404(request, pk)
    return _step(request, item, "start", forms.StartForm(request.POST, prefix="start"),
                 lambda data: services.start_audit(actor=request.user, audit_item=item),
                 _("Audit %(number)s started: fill the checklist.") % {"number": item.number}, "checklist")


@login_required
@require_POST
def audit_report(request, pk):
    """The lead auditor reports: every item checked, a finding for each nonconformity."""
    item = _audit_or_404(request, pk)
    return _step(request, item, "report", forms.ReportForm(request.POST, prefix="report"),
                 lambda data: services.report_audit(actor=request.user, audit_item=item, conclusions=data["conclusions"]),
                 _("Audit %(number)s reported.") % {"number": item.number}, "status")


@login_required
@require_POST
def audit_cancel(request, pk):
    item = _audit_or_404(request, pk)
    return _step(request, item, "cancel", forms.CancelForm(request.POST, prefix="cancel"),
                 lambda data: services.cancel_audit(actor=request.user, audit_item=item, reason=data["reason"]),
                 _("Audit %(number)s cancelled.") % {"number": item.number}, "status")


def _item_or_404(request, pk) -> ChecklistItem:
    permissions.require_or_404(request.user, "audits.view")
    return get_object_or_404(ChecklistItem.objects.select_related("audit"), pk=pk)


@login_required
@require_POST
def checklist_check(request, pk):
    """An auditor records the evidence seen and the result for one checklist item."""
    row = _item_or_404(request, pk)
    form = forms.CheckForm(request.POST, prefix=f"check-{row.pk}")
    return _step(request, row.audit, ("check", row.pk), form,
                 lambda data: services.record_check(actor=request.user, item=row, evidence=data["evidence"], result=data["result"]),
                 _("Clause %(clause)s checked.") % {"clause": row.clause}, f"item-{row.pk}")


@login_required
@require_POST
def checklist_finding(request, pk):
    """An auditor raises a finding (nonconformity or observation) from a checklist item."""
    row = _item_or_404(request, pk)
    form = forms.FindingForm(request.POST, prefix=f"finding-{row.pk}", areas=row.audit.areas)

    def call(data):
        return services.raise_finding(
            actor=request.user, source=FindingSource.AUDIT, origin=row.audit, checklist_item=row, clause=row.clause,
            grade=data["grade"], description=data["description"], evidence=data["evidence"],
            responsible=data["responsible"], area=data["area"],
        )

    return _step(request, row.audit, ("finding", row.pk), form, call,
                 _("Finding raised; the responsible person is asked for the corrective action."), "findings")


@login_required
@require_GET
def audit_report_pdf(request, pk):
    """The audit report: scope, team, checklist with evidence, findings, conclusions."""
    item = _audit_or_404(request, pk)
    context = {
        **_detail_context(request, item, printed=True),
        "lab_name": pdf.lab_name(),
        "today": timezone.localdate(),
        "printed_by": request.user,
    }
    return pdf.pdf_response("pdf/audits/audit_report.html", context, request=request, filename=f"{item.number}.pdf")


urlpatterns = [
    path("audits/", programme_list, name="programme_list"),
    path("audits/programme/new/", programme_create, name="programme_create"),
    path("audits/programme/<int:year>/", programme_detail, name="programme_detail"),
    path("audits/programme/<int:year>/approve/", programme_approve, name="programme_approve"),
    path("audits/plan/", audit_plan, name="audit_plan"),
    path("audits/<int:pk>/", audit_detail, name="audit_detail"),
    path("audits/<int:pk>/start/", audit_start, name="audit_start"),
    path("audits/<int:pk>/report/", audit_report, name="audit_report"),
    path("audits/<int:pk>/cancel/", audit_cancel, name="audit_cancel"),
    path("audits/<int:pk>/report.pdf", audit_report_pdf, name="audit_report_pdf"),
    path("audits/checklist/<int:pk>/check/", checklist_check, name="checklist_check"),
    path("audits/checklist/<int:pk>/finding/", checklist_finding, name="checklist_finding"),
]
