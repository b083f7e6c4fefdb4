"""The findings register, a finding's page with its corrective actions, raising a finding
from its source, and "my actions" (R-MGT-1, R-IMP-2, R-PER-7).

Every staff member reads findings and actions (``audits.view``); customers and strangers
get 404.  A finding's page offers each step's form only to whoever may take it now:

- the person responsible for the finding, or the quality lead, proposes an action;
- the quality lead accepts it or sends it back; the responsible person revises a proposal
  that was sent back and reports the action done with its evidence;
- the quality lead or an auditor independent of the action (never its responsible person,
  never who proposed it) verifies effectiveness — effective closes the action (and the
  finding when it was the last one), not effective sends it back to work;
- the quality lead closes an observation without action, with a note.

Each step is a POST calling one service of ``audits.services.audits``; a refusal is shown
with what was typed kept, and nothing is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from audits.clauses import CLAUSE_TITLES
from audits.forms import findings as forms
from audits.models import (
    ActionEvent,
    ActionStatus,
    CorrectiveAction,
    EvaluationReport,
    Finding,
    FindingGrade,
    FindingSource,
    FindingStatus,
    ManagementReview,
)
from audits.services import audits as services
from complaints.models import Complaint
from equipment.models import ImpactAnalysis
from labqms import audit, export, permissions
from labqms.forms import add_service_errors
from labqms.models import SupervisionRecord
from labqms.views.helpers import page_size, querystring_without_page, sort_links


def _url(name: str, *args, anchor: str = "") -> str:
    """A link to a page of another part of the system; empty (shown as plain text) when
    that page is not there, so that a finding's page never fails over a link."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}#{anchor}" if anchor else url


def overdue_actions(today: dt.date):
    """Actions not closed whose due date has passed (as the daily job counts them)."""
    return CorrectiveAction.objects.exclude(status=ActionStatus.CLOSED).filter(due_on__lt=today)


def days_overdue_text(action: CorrectiveAction, today: dt.date) -> str:
    if action.status == ActionStatus.CLOSED or action.due_on >= today:
        return ""
    n = (today - action.due_on).days
    return ngettext("Overdue by %(n)d day", "Overdue by %(n)d days", n) % {"n": n}


# --- the register -------------------------------------------------------------------------------


def findings_for_register(data: dict, today: dt.date):
    """The filtered findings, unordered (the figures count over this set)."""
    findings = Finding.objects.all()
    q = (data.get("q") or "").strip()
    if q:
        findings = findings.filter(Q(number__icontains=q) | Q(description__icontains=q) | Q(area__icontains=q))
    for name in ("grade", "source", "status", "clause", "area", "responsible"):
        if data.get(name):
            findings = findings.filter(**{name: data[name]})
    if data.get("raised_from"):
        findings = findings.filter(raised_on__gte=data["raised_from"])
    if data.get("raised_to"):
        findings = findings.filter(raised_on__lte=data["raised_to"])
    if data.get("overdue"):
        findings = findings.filter(Exists(overdue_actions(today).filter(finding=OuterRef("pk"))))
    return findings


def figures(findings) -> dict:
    """Counts by grade and by status over the filtered findings, in one query."""
    counts = findings.aggregate(
        total=Count("pk"),
        **{f"grade_{value}": Count("pk", filter=Q(grade=value)) for value in FindingGrade.values},
        **{f"status_{value}": Count("pk", filter=Q(status=value)) for value in FindingStatus.values},
    )
    return {
        "total": counts["total"],
        "by_grade": [(value, label, counts[f"grade_{value}"]) for value, label in FindingGrade.choices],
        "by_status": [(value, label, counts[f"status_{value}"]) for value, label in FindingStatus.choices],
    }


SORTS = {"number": "number", "raised_on": "raised_on", "grade": "grade", "status": "status", "clause": "clause"}


@login_required
@require_GET
def finding_list(request):
    """R-MGT-1: the findings register with search, filters, figures and paging."""
    permissions.require_or_404(request.user, "audits.view")
    today = timezone.localdate()
    form = forms.FindingFilterForm(request.GET)
    findings = findings_for_register(form.filters(), today)
    sort = request.GET.get("sort", "")
    key = sort.lstrip("-")
    ordering = [f"-{SORTS[key]}" if sort.startswith("-") else SORTS[key], "-id"] if key in SORTS else ["-raised_on", "-id"]
    rows = findings.annotate(
        open_actions=Count("actions", filter=~Q(actions__status=ActionStatus.CLOSED)),
        late_actions=Count("actions", filter=~Q(actions__status=ActionStatus.CLOSED) & Q(actions__due_on__lt=today)),
    ).select_related("responsible", "audit").order_by(*ordering)
    if export.requested(request):
        return export.response(request, rows, _finding_columns(), name="findings", title=_("Findings register"))
    page = Paginator(rows, page_size(request)).get_page(request.GET.get("page"))
    return render(request, "audits/finding_list.html", {
        "form": form,
        "page": page,
        "figures": figures(findings.order_by()),
        "sort": sort,
        "sort_links": sort_links(request, SORTS, sort),
        "querystring": querystring_without_page(request),
        "can_manage": permissions.can(request.user, "audits.manage"),
    })


def _finding_columns() -> list[export.Column]:
    return [
        export.Column(_("Finding number"), lambda f: f.number, 16),
        export.Column(_("Raised on"), lambda f: f.raised_on, 12),
        export.Column(_("Grade"), lambda f: f.get_grade_display(), 12),
        export.Column(_("Source"), lambda f: f.get_source_display(), 14),
        export.field(Finding, "audit__number", heading=_("audit"), width=14),
        export.Column(_("Clause"), lambda f: f.clause, 8),
        export.Column(_("Area"), lambda f: f.area, 14),
        export.Column(_("Nonconformity / observation"), lambda f: f.description, 48),
        export.Column(_("Responsible"), lambda f: f.responsible, 12),
        export.Column(_("Status"), lambda f: f.get_status_display(), 12),
        export.Column(_("Open actions"), lambda f: f.open_actions, 8),
        export.Column(_("Overdue"), lambda f: f.late_actions, 8),
    ]


# --- a finding's origin ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a finding comes from, as words and a link."""

    label: str
    text: str
    url: str


def origin_of(source: str, obj) -> Origin | None:
    if obj is None:
        return None
    label = str(FindingSource(source).label)
    if source == FindingSource.AUDIT:
        return Origin(label, f"{obj.number} {obj.title}", _url("audits:audit_detail", obj.pk))
    if source == FindingSource.COMPLAINT:
        return Origin(label, f"{obj.number} {obj.subject}", _url("complaints:complaint_detail", obj.pk))
    if source == FindingSource.IMPACT:
        equipment = obj.equipment
        return Origin(label, f"{equipment.lab_id} {equipment.name} · {obj.trigger_detail}", _url("equipment:impact_detail", obj.pk))
    if source == FindingSource.SUPERVISION:
        text = f"{obj.supervisee} · {obj.subject} · {obj.supervised_on:%Y-%m-%d}"
        return Origin(label, text, _url("people:person_detail", obj.supervisee_id, anchor="supervisions"))
    if source == FindingSource.SURVEY:
        invitation = obj.invitation
        text = f"{invitation.survey.title} · {invitation.customer} · {obj.submitted_at:%Y-%m-%d}"
        return Origin(label, text, _url("audits:survey_detail", invitation.survey_id))
    if source == FindingSource.EVALUATION:
        return Origin(label, obj.title, _url("audits:evaluation_detail", obj.pk))
    if source == FindingSource.REVIEW:
        return Origin(label, obj.number, _url("audits:review_detail", obj.pk))
    return None


# --- a finding's page ---------------------------------------------------------------------------

FINDING_RELATED = (
    "raised_by", "responsible", "audit", "checklist_item", "complaint", "impact__equipment", "supervision__supervisee",
    "survey_response__invitation__survey", "survey_response__invitation__customer", "evaluation", "review",
)


def full_finding(pk) -> Finding:
    """One finding with its origin, its actions and every step of each (a fixed number
    of queries whatever their number)."""
    actions = CorrectiveAction.objects.select_related("responsible", "proposed_by", "accepted_by", "verified_by").prefetch_related(
        Prefetch("events", queryset=ActionEvent.objects.select_related("actor"))
    )
    return get_object_or_404(
        Finding.objects.select_related(*FINDING_RELATED).prefetch_related(Prefetch("actions", queryset=actions)), pk=pk
    )


def finding_url(finding_id) -> str:
    return reverse("audits:finding_detail", args=[finding_id])


@dataclass
class Who:
    """What the signed-in person may do on audits (asked once per page)."""

    user: object
    manage: bool
    audit: bool

    @classmethod
    def of(cls, user) -> Who:
        return cls(user, permissions.can(user, "audits.manage"), permissions.can(user, "audits.audit"))


@dataclass
class ActionRow:
    action: CorrectiveAction
    overdue: str
    events: list[tuple[ActionEvent, str]]
    forms: dict = field(default_factory=dict)
    verify_blocked: str = ""


def _action_offers(who: Who, action: CorrectiveAction) -> tuple[dict[str, object], str]:
    """``({kind: form}, why verification is blocked)`` for one action and ``who``."""
    offers: dict[str, object] = {}
    blocked = ""
    status, me = action.status, who.user.pk
    part_of = me in (action.responsible_id, action.proposed_by_id)
    if status == ActionStatus.PROPOSED:
        if who.manage:
            offers["accept"] = forms.AcceptActionForm(prefix=f"accept-{action.pk}")
        sent_back = any(event.kind == "returned" for event in action.events.all())
        if sent_back and part_of:
            offers["revise"] = forms.ReviseActionForm(prefix=f"revise-{action.pk}", initial={
                "correction": action.correction, "root_cause": action.root_cause, "action": action.action,
                "due_on": action.due_on,
            })
    elif status == ActionStatus.IN_PROGRESS and me == action.responsible_id:
        offers["complete"] = forms.CompleteActionForm(prefix=f"complete-{action.pk}")
    elif status == ActionStatus.DONE and (who.manage or who.audit):
        if part_of:
            blocked = _("You are part of this action; someone independent verifies its effectiveness.")
        else:
            offers["verify"] = forms.VerifyActionForm(prefix=f"verify-{action.pk}")
    return offers, blocked


def _detail_context(request, finding: Finding, bound: dict | None = None) -> dict:
    """The page: the finding, its origin, its actions with their steps and the forms
    ``request.user`` may use now; ``bound`` replaces an offered form by its refused,
    bound copy (keyed by prefix)."""
    bound = bound or {}
    today = timezone.localdate()
    who = Who.of(request.user)
    is_open = finding.status != FindingStatus.CLOSED
    step_forms: dict[str, object] = {}
    if is_open and (who.manage or request.user.pk == finding.responsible_id):
        step_forms["propose"] = forms.ProposeActionForm(prefix="propose")
    if is_open and who.manage and not finding.is_nonconformity:
        step_forms["close"] = forms.CloseObservationForm(prefix="close")
    rows = []
    for action in finding.actions.all():
        offers, blocked = _action_offers(who, action)
        for kind, form in offers.items():
            offers[kind] = bound.get(form.prefix, form)
        step_forms.update({form.prefix: form for form in offers.values()})
        rows.append(ActionRow(
            action=action,
            overdue=days_overdue_text(action, today),
            events=[(e, str(audit.ACTION_LABELS.get(f"action.{e.kind}", e.kind))) for e in action.events.all()],
            forms=offers,
            verify_blocked=blocked,
        ))
    for key in ("propose", "close"):
        if key in step_forms and key in bound:
            step_forms[key] = bound[key]
    return {
        "f": finding,
        "clause_title": CLAUSE_TITLES.get(finding.clause, ""),
        "today": today,
        "origin": origin_of(finding.source, getattr(finding, services.SOURCE_FIELDS[finding.source])),
        "action_rows": rows,
        "offered": set(step_forms),
        "propose_form": step_forms.get("propose"),
        "close_form": step_forms.get("close"),
        "history": list(audit.events_for(finding)[:50]),
        "can_manage": who.manage,
    }


@login_required
@require_GET
def finding_detail(request, pk):
    permissions.require_or_404(request.user, "audits.view")
    return render(request, "audits/finding_detail.html", _detail_context(request, full_finding(pk)))


def _errors_text(form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def _run(form, call: Callable[[dict], object]) -> bool:
    """Parse, call the service, put its refusal on the form.  True when it was done."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
    except PermissionDenied as error:
        form.add_error(None, str(error) or _("You may not do this."))
    else:
        return True
    return False


def _action_home(action: CorrectiveAction) -> str:
    """Where an action's steps are taken: its finding's page; for a management-review
    decision, the action list (the review's page lists its decisions)."""
    if action.finding_id:
        return finding_url(action.finding_id) + f"#action-{action.pk}"
    return reverse("audits:action_list") + f"#action-{action.pk}"


def _step(request, finding_id, form, call: Callable[[dict], object], done: str, *, back: str):
    """Run one step: done → back to the page with a message.  Refused: the finding's
    page again with the form, its errors and its input when the page offers that form
    to this user, otherwise the refusal as a message (nothing was changed)."""
    if _run(form, call):
        messages.success(request, done)
        return redirect(back)
    if finding_id is not None:
        finding = full_finding(finding_id)  # as it stands now (nothing was changed)
        context = _detail_context(request, finding, {form.prefix: form})
        if form.prefix in context["offered"]:
            messages.error(request, _("Nothing was changed; see the form below."))
            return render(request, "audits/finding_detail.html", context)
    messages.error(request, _errors_text(form) or _("Nothing was changed."))
    return redirect(back)


def _finding(request, pk) -> Finding:
    permissions.require_or_404(request.user, "audits.view")
    return get_object_or_404(Finding, pk=pk)


def _action(request, pk) -> CorrectiveAction:
    permissions.require_or_404(request.user, "audits.view")
    return get_object_or_404(CorrectiveAction.objects.select_related("finding", "responsible"), pk=pk)


@login_required
@require_POST
def finding_propose(request, pk):
    """The responsible person (or the quality lead) proposes correction, root cause and
    corrective action with a due date."""
    finding = _finding(request, pk)

    def call(data):
        services.propose_action(actor=request.user, finding=finding, action=data["action"], due_on=data["due_on"],
                               correction=data["correction"], root_cause=data["root_cause"], responsible=data["responsible"])

    return _step(request, finding.pk, forms.ProposeActionForm(request.POST, prefix="propose"), call,
                 _("Corrective action proposed; the quality lead is told."), back=finding_url(finding.pk) + "#actions")


@login_required
@require_POST
def finding_close(request, pk):
    """An observation closes without action, with the quality lead's note."""
    finding = _finding(request, pk)
    return _step(request, finding.pk, forms.CloseObservationForm(request.POST, prefix="close"),
                 lambda data: services.close_observation(actor=request.user, finding=finding, note=data["note"]),
                 _("Finding %(number)s closed without action.") % {"number": finding.number}, back=finding_url(finding.pk))


@login_required
@require_POST
def action_accept(request, pk):
    action = _action(request, pk)
    prefix = f"accept-{action.pk}"
    accept = request.POST.get(f"{prefix}-decision") == forms.ACCEPT

    def call(data):
        services.accept_action(actor=request.user, action=action, accept=data["decision"] == forms.ACCEPT, note=data["note"])

    done = _("Corrective action accepted.") if accept else _("Corrective action sent back; the responsible person is told.")
    return _step(request, action.finding_id, forms.AcceptActionForm(request.POST, prefix=prefix), call, done,
                 back=_action_home(action))


@login_required
@require_POST
def action_revise(request, pk):
    action = _action(request, pk)

    def call(data):
        services.revise_action(actor=request.user, action=action, action_text=data["action"], root_cause=data["root_cause"],
                               correction=data["correction"], due_on=data["due_on"])

    return _step(request, action.finding_id, forms.ReviseActionForm(request.POST, prefix=f"revise-{action.pk}"), call,
                 _("Corrective action revised; it awaits the quality lead again."), back=_action_home(action))


@login_required
@require_POST
def action_complete(request, pk):
    action = _action(request, pk)
    return _step(request, action.finding_id, forms.CompleteActionForm(request.POST, prefix=f"complete-{action.pk}"),
                 lambda data: services.complete_action(actor=request.user, action=action, note=data["note"]),
                 _("Reported done; the quality lead verifies its effectiveness."), back=_action_home(action))


@login_required
@require_POST
def action_verify(request, pk):
    """R-MGT-1: effectiveness verified by someone independent of the action, only once
    it is done; effective closes it, not effective sends it back to work."""
    action = _action(request, pk)
    prefix = f"verify-{action.pk}"
    effective = request.POST.get(f"{prefix}-decision") == forms.EFFECTIVE

    def call(data):
        services.verify_action(actor=request.user, action=action, effective=data["decision"] == forms.EFFECTIVE,
                               note=data["note"])

    done = (_("Verified effective; the action is closed.") if effective
            else _("Verified not effective; the action is back in progress and the responsible person is told."))
    return _step(request, action.finding_id, forms.VerifyActionForm(request.POST, prefix=prefix), call, done,
                 back=_action_home(action))


# --- raising a finding from its source --------------------------------------------------------------

# ?parameter → (source, model, related to read with it)
RAISE_FROM = {
    "complaint": (FindingSource.COMPLAINT, Complaint, ("responsible_person",)),
    "impact": (FindingSource.IMPACT, ImpactAnalysis, ("equipment",)),
    "supervision": (FindingSource.SUPERVISION, SupervisionRecord, ("supervisee__profile",)),
    "evaluation": (FindingSource.EVALUATION, EvaluationReport, ()),
    "review": (FindingSource.REVIEW, ManagementReview, ()),
}


def _raise_origin(request):
    """``(parameter, source, object)`` from the query string, or None when none is given;
    404 for a malformed or unknown one."""
    for parameter, (source, model, related) in RAISE_FROM.items():
        value = request.GET.get(parameter)
        if value is None:
            continue
        if not value.isdigit():
            raise Http404
        return parameter, source, get_object_or_404(model.objects.select_related(*related), pk=int(value))
    return None


def _raise_initial(source: str, obj) -> dict:
    """What the source already says, to start the form from."""
    if source == FindingSource.COMPLAINT:
        return {"description": obj.subject, "evidence": obj.findings, "area": obj.department, "responsible": obj.responsible_person}
    if source == FindingSource.IMPACT:
        return {"description": obj.nonconformity, "evidence": obj.trigger_detail, "clause": "6.4"}
    if source == FindingSource.SUPERVISION:
        profile = getattr(obj.supervisee, "profile", None)
        return {
            "description": obj.observations, "evidence": f"{obj.supervised_on:%Y-%m-%d} {obj.subject}", "clause": "6.2",
            "area": profile.department if profile else "", "responsible": obj.supervisee,
        }
    if source == FindingSource.EVALUATION:
        return {"evidence": obj.analysis}
    return {}


@login_required
def finding_raise(request):
    """The quality lead raises a finding from a complaint, an impact analysis, a
    supervision (R-PER-7), an evaluation report (R-IMP-2) or a management review."""
    permissions.require_or_404(request.user, "audits.manage")
    found = _raise_origin(request)
    if found is None:
        return render(request, "audits/finding_raise.html", {"form": None, "origin": None})
    parameter, source, obj = found
    form = forms.RaiseFindingForm(request.POST or None, initial=_raise_initial(source, obj))
    if request.method == "POST":
        def call(data):
            return services.raise_finding(
                actor=request.user, source=source, origin=obj, grade=data["grade"], description=data["description"],
                clause=data["clause"], area=data["area"], evidence=data["evidence"], responsible=data["responsible"],
            )

        if form.is_valid():
            try:
                finding = call(form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error) or _("You may not do this."))
            else:
                messages.success(request, _("Finding %(number)s raised.") % {"number": finding.number})
                return redirect("audits:finding_detail", pk=finding.pk)
        messages.error(request, _("The finding was not raised; see the form below."))
    return render(request, "audits/finding_raise.html", {
        "form": form,
        "origin": origin_of(source, obj),
        "areas": forms.area_choices(),
        "existing": list(Finding.objects.filter(**{services.SOURCE_FIELDS[source]: obj}).order_by("-raised_on", "-id")),
        "query": f"{parameter}={obj.pk}",
    })


# --- actions: mine, and all open ones for the quality lead ----------------------------------------


@dataclass
class ActionListRow:
    action: CorrectiveAction
    source: str
    url: str
    overdue: str
    forms: dict = field(default_factory=dict)
    verify_blocked: str = ""


@login_required
@require_GET
def action_list(request):
    """My open actions; for the quality lead every open action (management-review
    decisions too), overdue ones first."""
    permissions.require_or_404(request.user, "audits.view")
    today = timezone.localdate()
    # The quality lead and the auditors (who may verify others' actions) see every open action.
    manage = permissions.can(request.user, "audits.manage") or permissions.can(request.user, "audits.audit")
    scope = request.GET.get("scope") or ("all" if manage else "mine")
    if scope != "all" or not manage:
        scope = "mine"
    overdue_only = bool(request.GET.get("overdue"))
    actions = overdue_actions(today) if overdue_only else CorrectiveAction.objects.exclude(status=ActionStatus.CLOSED)
    if scope == "mine":
        actions = actions.filter(responsible=request.user)
    if export.requested(request):
        return export.response(
            request, actions.select_related("finding", "review", "responsible").order_by("due_on", "id"),
            _action_columns(today), name="corrective-actions", title=_("Corrective actions"),
        )
    counts = actions.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
    # By due date: the overdue ones (due before today) come first.
    ordered = actions.select_related("finding", "review", "responsible").prefetch_related("events").order_by("due_on", "id")
    page = Paginator(ordered, page_size(request)).get_page(request.GET.get("page"))
    who = Who.of(request.user)
    rows = []
    for action in page.object_list:
        if action.finding_id:
            rows.append(ActionListRow(action, action.finding.number, finding_url(action.finding_id) + f"#action-{action.pk}",
                                      days_overdue_text(action, today)))
        else:
            # A management-review decision: its steps (done, verified) are taken here.
            offers, blocked = _action_offers(who, action)
            rows.append(ActionListRow(action, action.review.number, _url("audits:review_detail", action.review_id),
                                      days_overdue_text(action, today), offers, blocked))
    return render(request, "audits/action_list.html", {
        "page": page,
        "rows": rows,
        "scope": scope,
        "overdue_only": overdue_only,
        "counts": counts,
        "can_manage": manage,
        "querystring": querystring_without_page(request),
    })


def _action_columns(today: dt.date) -> list[export.Column]:
    def source(action):
        return action.finding.number if action.finding_id else f"{_('Management review')} {action.review.number}"

    return [
        export.Column(_("Due on"), lambda a: a.due_on, 12),
        export.Column(_("Finding or management review"), source, 20),
        export.field(CorrectiveAction, "correction", width=32),
        export.field(CorrectiveAction, "root_cause", width=32),
        export.Column(_("Corrective action"), lambda a: a.action, 48),
        export.Column(_("Responsible"), lambda a: a.responsible, 12),
        export.Column(_("Status"), lambda a: a.get_status_display(), 12),
        export.Column(_("Overdue"), lambda a: days_overdue_text(a, today), 14),
    ]


urlpatterns = [
    path("audits/findings/", finding_list, name="finding_list"),
    path("audits/findings/raise/", finding_raise, name="finding_raise"),
    path("audits/findings/<int:pk>/", finding_detail, name="finding_detail"),
    path("audits/findings/<int:pk>/propose/", finding_propose, name="finding_propose"),
    path("audits/findings/<int:pk>/close/", finding_close, name="finding_close"),
    path("audits/actions/", action_list, name="action_list"),
    path("audits/actions/<int:pk>/accept/", action_accept, name="action_accept"),
    path("audits/actions/<int:pk>/revise/", action_revise, name="action_revise"),
    path("audits/actions/<int:pk>/done/", action_complete, name="action_complete"),
    path("audits/actions/<int:pk>/verify/", action_verify, name="action_verify"),
]
