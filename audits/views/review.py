"""Management review (R-MGT-1, R-IMP-3) and quality objectives (R-IMP-3).

The quality lead plans a review (yearly, or ad hoc from a major complaint marked as a
management-review item), compiles its inputs from live data — the pack —, records the
meeting and the decisions (tracked like corrective actions); the chair, the lab head,
approves the minutes, which freezes the inputs as the meeting saw them.  The minutes
print as a PDF.  The objectives page shows each year's measurable targets against their
live values.

Every member of staff reads these pages; customers and strangers get 404.  Views parse
the forms of :mod:`audits.forms.review` and call :mod:`audits.services.review`, which
decides; a refusal is shown on the page with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audits.forms import review as forms
from audits.models import (
    QUESTIONS,
    ActionStatus,
    CorrectiveAction,
    Finding,
    FindingGrade,
    FindingStatus,
    ManagementReview,
    Measure,
    QualityObjective,
    ReviewKind,
    ReviewStatus,
)
from audits.services import review as services
from complaints.models import Complaint, ComplaintClass
from labqms import export, pdf, permissions
from labqms.forms import add_service_errors
from labqms.views.helpers import (
    YEAR_RANGE,
    page_size,
    querystring_without_page,
    sort_links,
    year_param,
)

SORTS = ("number", "planned_on", "held_on", "status")
STATUS_CSS = {ReviewStatus.PLANNED: "text-bg-secondary", ReviewStatus.HELD: "text-bg-warning", ReviewStatus.CLOSED: "text-bg-success"}


# --- the list ---------------------------------------------------------------------------------


def reviews_for_list(data: dict):
    reviews = ManagementReview.objects.all()
    q = (data.get("q") or "").strip()
    if q:
        reviews = reviews.filter(Q(number__icontains=q) | Q(attendees__icontains=q) | Q(minutes__icontains=q))
    for name in ("kind", "status"):
        if data.get(name):
            reviews = reviews.filter(**{name: data[name]})
    if data.get("year"):
        reviews = reviews.filter(planned_on__year=data["year"])
    return reviews


@login_required
@require_GET
def review_list(request):
    """R-MGT-1: the management reviews, newest first, with their decisions still open."""
    permissions.require_or_404(request.user, "audits.view")
    form = forms.ReviewFilterForm(request.GET)
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in SORTS:
        sort = "-planned_on"
    reviews = (
        reviews_for_list(form.filters())
        .select_related("chair", "source_complaint")
        .annotate(
            decisions=Count("actions", distinct=True),
            decisions_open=Count("actions", filter=~Q(actions__status=ActionStatus.CLOSED), distinct=True),
        )
        .order_by(sort, "-id")
    )
    if export.requested(request):
        return export.response(
            request, reviews, _review_columns(), name="management-reviews", title=_("Management reviews")
        )
    page = Paginator(reviews, page_size(request)).get_page(request.GET.get("page"))
    for review in page.object_list:
        review.status_css = STATUS_CSS.get(review.status, "text-bg-light")
    return render(request, "audits/review_list.html", {
        "form": form,
        "page": page,
        "sort": sort,
        "sort_links": sort_links(request, SORTS, sort),
        "querystring": querystring_without_page(request),
        "can_plan": permissions.can(request.user, "audits.manage"),
    })


def _review_columns() -> list[export.Column]:
    return [
        export.Column(_("Review number"), lambda r: r.number, 16),
        export.Column(_("Kind"), lambda r: r.get_kind_display(), 14),
        export.Column(
            _("from complaint"), lambda r: r.source_complaint.number if r.source_complaint else "", 16
        ),
        export.field(ManagementReview, "period_start", width=12),
        export.field(ManagementReview, "period_end", width=12),
        export.Column(_("Planned for"), lambda r: r.planned_on, 12),
        export.Column(_("Held on"), lambda r: r.held_on, 12),
        export.Column(_("Chair"), lambda r: r.chair, 12),
        export.Column(_("Status"), lambda r: r.get_status_display(), 10),
        export.Column(_("Decisions"), lambda r: r.decisions, 10),
        export.Column(_("Decisions (open)"), lambda r: r.decisions_open, 10),
    ]


# --- planning ---------------------------------------------------------------------------------


def _source_complaint(request) -> Complaint | None:
    """``?complaint=<pk>``: a major complaint the lab head wants reviewed (R-CMP-6)."""
    raw = request.GET.get("complaint", "")
    if not raw:
        return None
    pk = int(raw) if raw.isdigit() and len(raw) < 10 else 0
    complaint = Complaint.objects.filter(pk=pk, management_review_needed=True).first()
    if complaint is None:
        messages.warning(request, _("That complaint is not a management-review item; plan the review without it."))
    return complaint


@login_required
def review_plan(request):
    """R-MGT-1: the quality lead plans a review; the lab head chairs it."""
    permissions.require_or_404(request.user, "audits.manage")
    if request.method == "POST":
        form = forms.PlanReviewForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                review = services.plan_review(
                    actor=request.user, kind=data["kind"], period_start=data["period_start"], period_end=data["period_end"],
                    planned_on=data["planned_on"], chair=data["chair"], source_complaint=data["complaint"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error) or _("You may not plan management reviews."))
            else:
                messages.success(request, _("Management review %(number)s planned; compile its inputs when the period is over.")
                                 % {"number": review.number})
                return redirect("audits:review_detail", pk=review.pk)
        messages.error(request, _("The review was not planned; see the form below."))
        complaint = form.cleaned_data.get("complaint") if hasattr(form, "cleaned_data") else None
    else:
        complaint = _source_complaint(request)
        form = forms.PlanReviewForm()
        if complaint is not None:
            form.initial.update({"kind": ReviewKind.AD_HOC, "complaint": complaint.pk, "period_end": timezone.localdate()})
    return render(request, "audits/review_plan.html", {"form": form, "complaint": complaint})


# --- the pack: the inputs as compiled ---------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number of the pack; ``value`` as stored (a count, or a Decimal as text)."""

    key: str
    label: str
    value: object
    unit: str = ""
    detail: str = ""
    alert: bool = False

    @property
    def text(self) -> str:
        if self.value is None or self.value == "":
            return "—"
        return f"{self.value} {self.unit}".strip()


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)


def _of(total, part) -> str:
    return f"{part}/{total}" if total else ""


def pack_sections(inputs: dict) -> list[Section]:
    """The stored inputs as labelled figures, section by section (ISO/IEC 17025 8.9.2).
    Labels are read from the current language, never from the stored data."""
    if not inputs:
        return []
    audits, complaints = inputs.get("audits", {}), inputs.get("complaints", {})
    satisfaction, equipment = inputs.get("satisfaction", {}), inputs.get("equipment", {})
    completion, actions = inputs.get("completion", {}), inputs.get("actions", {})
    by_grade, by_class = audits.get("findings", {}), complaints.get("by_class", {})
    averages = satisfaction.get("averages", {})
    replied = complaints.get("replied", 0)
    return [
        Section("audits", _("Internal audits and findings"), [
            Figure("audits_planned", _("Audits in the period"), audits.get("audits_planned")),
            Figure("audits_reported", _("Audits reported"), audits.get("audits_reported")),
            *[Figure(f"findings_{grade}", str(label), by_grade.get(grade, 0)) for grade, label in FindingGrade.choices],
            Figure("findings_open", _("Findings of the period not closed"), audits.get("findings_open"),
                   alert=bool(audits.get("findings_open"))),
        ]),
        Section("complaints", _("Complaints"), [
            Figure("received", _("Complaints received"), complaints.get("received")),
            *[Figure(f"class_{value}", str(label), by_class.get(value, 0)) for value, label in ComplaintClass.choices],
            Figure("replied", _("Replied"), replied),
            Figure("on_time_rate", _("Replied by the due date"), complaints.get("on_time_rate"), "%",
                   _of(replied, complaints.get("on_time"))),
            Figure("within_limit_rate", _("Replied within 10 working days"), complaints.get("within_limit_rate"), "%",
                   _of(replied, complaints.get("within_limit"))),
        ]),
        Section("satisfaction", _("Customer satisfaction"), [
            Figure("responses", _("Survey responses"), satisfaction.get("responses")),
            *[Figure(f"average_{key}", _("Average: %(question)s") % {"question": label}, averages.get(key), "/ 5")
              for key, label in QUESTIONS],
            Figure("satisfied_rate", _("Satisfied (overall score 4 or 5)"), satisfaction.get("satisfied_rate"), "%"),
            Figure("with_low_scores", _("Responses with a low score"), satisfaction.get("with_low_scores"),
                   alert=bool(satisfaction.get("with_low_scores"))),
        ]),
        Section("equipment", _("Equipment"), [
            Figure("in_use_needing_calibration", _("In use and needing calibration"), equipment.get("in_use_needing_calibration")),
            Figure("overdue", _("Calibration overdue"), equipment.get("overdue"), alert=bool(equipment.get("overdue"))),
            Figure("out_of_service", _("Out of service"), equipment.get("out_of_service")),
            Figure("in_calibration_rate", _("In calibration"), equipment.get("in_calibration_rate"), "%"),
        ]),
        Section("completion", _("On-time completion"), [
            Figure("completed", _("Orders completed"), completion.get("completed")),
            Figure("on_time", _("Completed by the due date"), completion.get("on_time")),
            Figure("on_time_rate", _("On-time completion rate"), completion.get("on_time_rate"), "%",
                   _of(completion.get("completed"), completion.get("on_time"))),
        ]),
        Section("actions", _("Corrective actions"), [
            Figure("open", _("Open actions"), actions.get("open")),
            Figure("overdue", _("Overdue actions"), actions.get("overdue"), alert=bool(actions.get("overdue"))),
        ]),
    ]


def _measure_label(value: str) -> str:
    try:
        return str(Measure(value).label)
    except ValueError:
        return value


def objective_rows(rows: list[dict]) -> list[dict]:
    """Objectives against targets (as compiled or live) with met / not met in words."""
    result = []
    for row in rows:
        met = row.get("met")
        result.append({
            **row,
            "label": _measure_label(row.get("measure", "")),
            "met_text": _("no data") if met is None else (_("met") if met else _("not met")),
            "met_css": "text-bg-secondary" if met is None else ("text-bg-success" if met else "text-bg-danger"),
            "met_icon": "bi-dash-circle" if met is None else ("bi-check-circle" if met else "bi-x-circle"),
            "met_key": "none" if met is None else ("met" if met else "not_met"),
        })
    return result


# --- one review -------------------------------------------------------------------------------


def full_review(pk) -> ManagementReview:
    """A review with its people and its decisions (a fixed number of queries)."""
    return get_object_or_404(
        ManagementReview.objects.select_related("chair", "approved_by", "created_by", "source_complaint").prefetch_related(
            Prefetch("actions", queryset=CorrectiveAction.objects.select_related("responsible").order_by("due_on", "id"))
        ),
        pk=pk,
    )


def period_findings(review: ManagementReview):
    """Findings raised in the review's period, and any still open from before — live, so
    the pack shows each finding with its state today."""
    return (
        Finding.objects.filter(Q(raised_on__range=(review.period_start, review.period_end)) | ~Q(status=FindingStatus.CLOSED))
        .select_related("audit", "responsible")
        .order_by("-raised_on", "-id")
    )


@dataclass
class Offers:
    """Which step forms the page shows the user now (the services still decide)."""

    refresh: bool = False
    meeting: bool = False
    decide: bool = False
    approve: bool = False

    @classmethod
    def of(cls, user, review: ManagementReview) -> Offers:
        manage = permissions.can(user, "audits.manage")
        open_ = review.status != ReviewStatus.CLOSED
        return cls(
            refresh=manage and open_,
            meeting=manage and open_ and bool(review.inputs),
            decide=manage and review.status == ReviewStatus.HELD,
            approve=review.status == ReviewStatus.HELD and user.pk == review.chair_id,
        )


FORMS: dict[str, type] = {
    "refresh": forms.EmptyForm,
    "meeting": forms.MeetingForm,
    "decide": forms.DecisionForm,
    "approve": forms.EmptyForm,
}


def minutes_context(review: ManagementReview) -> dict:
    """What both the review page and the printed minutes show."""
    today = timezone.localdate()
    decisions = list(review.actions.all())
    for decision in decisions:
        decision.overdue = decision.status != ActionStatus.CLOSED and decision.due_on < today
    return {
        "review": review,
        "today": today,
        "sections": pack_sections(review.inputs),
        "objectives": objective_rows(review.inputs.get("objectives", [])),
        "decisions": decisions,
        "status_css": STATUS_CSS.get(review.status, "text-bg-light"),
    }


def _detail_context(request, review: ManagementReview, bound: dict | None = None) -> dict:
    offers = Offers.of(request.user, review)
    step_forms = {key: form_class(prefix=key) for key, form_class in FORMS.items() if getattr(offers, key)}
    if "meeting" in step_forms and review.held_on:
        step_forms["meeting"] = forms.MeetingForm(
            prefix="meeting", initial={"held_on": review.held_on, "attendees": review.attendees, "minutes": review.minutes}
        )
    step_forms.update(bound or {})
    return {
        **minutes_context(review),
        "offers": offers,
        **{f"{key}_form": form for key, form in step_forms.items()},
        "findings": list(period_findings(review)),
    }


@login_required
@require_GET
def review_detail(request, pk):
    """R-MGT-1 / R-IMP-3: the review pack, the meeting, the decisions and the approval."""
    permissions.require_or_404(request.user, "audits.view")
    review = full_review(pk)
    return render(request, "audits/review_detail.html", _detail_context(request, review))


def _errors_text(form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def _step(request, pk, key: str, call: Callable[[ManagementReview, dict], object], done: str, section: str):
    """Run one step: parse the form, call the service, say what happened.  Refused: the
    form with its errors and input when the page offers it to this user, otherwise a
    message on the review page."""
    permissions.require_or_404(request.user, "audits.view")
    review = get_object_or_404(ManagementReview, pk=pk)
    form = FORMS[key](request.POST, prefix=key)
    if form.is_valid():
        try:
            call(review, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
        else:
            messages.success(request, done)
            return redirect(reverse("audits:review_detail", args=[review.pk]) + f"#{section}")
    review = full_review(pk)  # as it stands now (nothing was changed)
    if not getattr(Offers.of(request.user, review), key):
        messages.error(request, _errors_text(form) or _("Nothing was changed."))
        return redirect(reverse("audits:review_detail", args=[review.pk]) + f"#{section}")
    messages.error(request, _("Nothing was changed; see the form below."))
    return render(request, "audits/review_detail.html", _detail_context(request, review, {key: form}))


@login_required
@require_POST
def review_refresh(request, pk):
    """Compile the inputs again from live data (until the minutes are approved)."""
    return _step(request, pk, "refresh", lambda review, data: services.refresh_inputs(actor=request.user, review=review),
                 _("The inputs were compiled from the data as it stands now."), "inputs")


@login_required
@require_POST
def review_meeting(request, pk):
    def call(review, data):
        services.record_meeting(actor=request.user, review=review, held_on=data["held_on"], attendees=data["attendees"],
                                minutes=data["minutes"])

    return _step(request, pk, "meeting", call, _("The meeting was recorded; the minutes await the chair's approval."), "meeting")


@login_required
@require_POST
def review_decide(request, pk):
    """A decision with its responsible person and due date, tracked like a corrective action."""
    def call(review, data):
        services.add_decision(actor=request.user, review=review, action=data["action"], responsible=data["responsible"],
                              due_on=data["due_on"])

    return _step(request, pk, "decide", call, _("Decision recorded; it is tracked like a corrective action."), "decisions")


@login_required
@require_POST
def review_approve(request, pk):
    """The chair approves the minutes; the inputs are frozen as the meeting saw them."""
    return _step(request, pk, "approve", lambda review, data: services.approve_minutes(actor=request.user, review=review),
                 _("Minutes approved."), "approval")


@login_required
@require_GET
def review_minutes_pdf(request, pk):
    """The minutes with the inputs as compiled, the decisions and the approval."""
    permissions.require_or_404(request.user, "audits.view")
    review = full_review(pk)
    context = {**minutes_context(review), "lab_name": pdf.lab_name(), "printed_by": request.user}
    return pdf.pdf_response("pdf/audits/review_minutes.html", context, request=request, filename=f"{review.number}.pdf")


# --- quality objectives -----------------------------------------------------------------------


def _objectives_context(request, year: int, form=None) -> dict:
    rows = services.objectives_against_targets(year)
    statements = dict(QualityObjective.objects.filter(year=year).values_list("id", "statement"))
    for row in rows:
        row["statement"] = statements.get(row["id"], "")
    can_set = permissions.can(request.user, "audits.manage")
    if form is None and can_set:
        initial = {"year": year}
        chosen = next((row for row in rows if row["measure"] == request.GET.get("measure")), None)
        if chosen is not None:
            objective = QualityObjective.objects.get(pk=chosen["id"])
            initial.update(measure=objective.measure, comparison=objective.comparison, target=objective.target,
                           statement=objective.statement)
        form = forms.ObjectiveForm(initial=initial)
    years = sorted({year, *QualityObjective.objects.values_list("year", flat=True).distinct()})
    return {
        "year": year,
        "previous_year": max(year - 1, YEAR_RANGE[0]),
        "next_year": min(year + 1, YEAR_RANGE[1]),
        "years": years,
        "rows": objective_rows(rows),
        "form": form,
        "can_set": can_set,
        "edit_year": year if can_set else None,
        "measures_missing": [label for value, label in Measure.choices if value not in {row["measure"] for row in rows}],
    }


@login_required
@require_GET
def objective_list(request):
    """R-IMP-3: the year's measurable targets against their values computed from live data."""
    permissions.require_or_404(request.user, "audits.view")
    return render(request, "audits/objective_list.html", _objectives_context(request, year_param(request)))


@login_required
@require_POST
def objective_set(request):
    """R-IMP-3: the quality lead sets or changes the objective for one measure and year."""
    permissions.require_or_404(request.user, "audits.view")
    form = forms.ObjectiveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.set_objective(actor=request.user, year=data["year"], measure=data["measure"], comparison=data["comparison"],
                                   target=data["target"], statement=data["statement"])
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not set quality objectives."))
            return redirect("audits:objective_list")
        else:
            messages.success(request, _("Objective for %(year)s set: %(measure)s.")
                             % {"year": data["year"], "measure": _measure_label(data["measure"])})
            return redirect(reverse("audits:objective_list") + f"?year={data['year']}")
    if not permissions.can(request.user, "audits.manage"):
        messages.error(request, _("You may not set quality objectives."))
        return redirect("audits:objective_list")
    year = form.cleaned_data.get("year") or year_param(request)
    messages.error(request, _("The objective was not set; see the form below."))
    return render(request, "audits/objective_list.html", _objectives_context(request, year, form))


urlpatterns = [
    path("audits/reviews/", review_list, name="review_list"),
    path("audits/reviews/plan/", review_plan, name="review_plan"),
    path("audits/reviews/<int:pk>/", review_detail, name="review_detail"),
    path("audits/reviews/<int:pk>/refresh/", review_refresh, name="review_refresh"),
    path("audits/reviews/<int:pk>/meeting/", review_meeting, name="review_meeting"),
    path("audits/reviews/<int:pk>/decisions/", review_decide, name="review_decide"),
    path("audits/reviews/<int:pk>/approve/", review_approve, name="review_approve"),
    path("audits/reviews/<int:pk>/minutes.pdf", review_minutes_pdf, name="review_minutes_pdf"),
    path("audits/objectives/", objective_list, name="objective_list"),
    path("audits/objectives/set/", objective_set, name="objective_set"),
]
