"""Satisfaction surveys and evaluation reports (R-IMP-1, R-IMP-2).

- Staff (``audits.view``) read the surveys with their analysis — response rate, averages
  per question, low scores, a trend over the previous surveys —, the invitations, the
  answers and the findings the low scores raised; the quality lead (``audits.manage``)
  creates a survey and invites customers (period survey) or released orders.
- The customer answers through the single-use link (no sign-in): ``/survey/<token>/``.
  An unknown link is a 404, a used one says so (HTTP 410 Gone) and stores nothing; the
  page is rate-limited per client address.  A portal user sees the organisation's open
  invitations at ``/portal/surveys/`` and answers through the same link.
- Self-evaluation and third-party evaluation reports with their analysis, the report
  file (downloaded through a permission check, never from /media) and their findings.

Views parse and call :mod:`audits.services.surveys`, which decides.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits.forms import surveys as forms
from audits.models import (
    LOW_SCORE,
    QUESTIONS,
    EvaluationReport,
    Finding,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)
from audits.services import surveys as services
from intake.selectors import count_of
from intake.views.portal import portal_view
from labqms import export, permissions
from labqms.forms import add_service_errors
from labqms.views.helpers import page_size, querystring_without_page, sort_links

PAGE_SIZE = 25
TREND_SURVEYS = 5  # previous surveys in the trend table

# The public answer page: requests (shown or sent) per client address and window.
ATTEMPTS = 30
WINDOW_SECONDS = 600

SURVEY_SORTS = {
    "created": ("created_at", "id"),
    "title": ("title", "id"),
    "responses": ("response_count", "id"),
}


# --- surveys (staff) ----------------------------------------------------------------------


@login_required
@require_GET
def survey_list(request):
    """R-IMP-1: the surveys with invitations, answers and the response rate."""
    permissions.require_or_404(request.user, "audits.view")
    form = forms.SurveySearchForm(request.GET)
    sort = request.GET.get("sort") or "-created"
    key = sort.lstrip("-")
    if key not in SURVEY_SORTS:
        sort, key = "-created", "created"
    order = [f"-{f}" if sort.startswith("-") else f for f in SURVEY_SORTS[key]]
    surveys = form.filter(Survey.objects.select_related("created_by")).annotate(
        invitation_count=count_of(SurveyInvitation, survey=OuterRef("pk")),
        response_count=count_of(SurveyResponse, invitation__survey=OuterRef("pk")),
        finding_count=count_of(Finding, survey_response__invitation__survey=OuterRef("pk")),
    ).order_by(*order)
    if export.requested(request):
        return export.response(
            request, surveys, _survey_columns(), name="satisfaction-surveys", title=_("Satisfaction surveys")
        )
    page = Paginator(surveys, page_size(request)).get_page(request.GET.get("page"))
    for survey in page.object_list:
        survey.rate = _response_rate(survey)
    return render(request, "audits/survey_list.html", {
        "form": form,
        "page": page,
        "sort": sort,
        "sorts": sort_links(request, SURVEY_SORTS, sort),
        "querystring": querystring_without_page(request),
        "can_manage": permissions.can(request.user, "audits.manage"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def survey_create(request):
    permissions.require_or_404(request.user, "audits.manage")
    form = forms.SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.create_survey(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
        else:
            messages.success(request, _("Survey created: now invite customers or released orders."))
            return redirect("audits:survey_detail", pk=survey.pk)
    return render(request, "audits/survey_form.html", {"form": form})


def _trend(survey: Survey, analysis: dict) -> tuple[list[dict], list[tuple]]:
    """The previous surveys (at most ``TREND_SURVEYS``, oldest first) with their figures,
    and one row per question: ``(label, [previous averages], this survey's average)``."""
    earlier = Survey.objects.filter(
        Q(created_at__lt=survey.created_at) | Q(created_at=survey.created_at, id__lt=survey.pk)
    ).order_by("-created_at", "-id")[:TREND_SURVEYS]
    previous = [{"survey": s, "analysis": services.survey_analysis(s)} for s in reversed(list(earlier))]
    rows = [
        (label, [p["analysis"]["averages"].get(key) for p in previous], analysis["averages"].get(key))
        for key, label in QUESTIONS
    ]
    return previous, rows


def _survey_context(request, survey: Survey, bound: dict | None = None) -> dict:
    can_manage = permissions.can(request.user, "audits.manage")
    analysis = services.survey_analysis(survey)
    invitations = list(survey.invitations.select_related("customer", "order", "response"))
    responses = list(
        SurveyResponse.objects.filter(invitation__survey=survey)
        .select_related("invitation__customer", "invitation__order")
        .prefetch_related(Prefetch("findings", queryset=Finding.objects.order_by("id")))
    )
    for response in responses:
        response.rows = [
            (label, response.scores.get(key), (response.scores.get(key) or 99) <= LOW_SCORE) for key, label in QUESTIONS
        ]
    previous, trend_rows = _trend(survey, analysis)
    context = {
        "survey": survey,
        "previous": previous,
        "trend_rows": trend_rows,
        "analysis": analysis,
        "questions": [label for _key, label in QUESTIONS],
        "invitations": invitations,
        "responses": responses,
        "findings": [f for r in responses for f in r.findings.all()],
        "low_score": LOW_SCORE,
        "can_manage": can_manage,
    }
    if can_manage:
        context["customers_form"] = forms.InviteCustomersForm(prefix="customers")
        context["orders_form"] = forms.InviteOrdersForm(prefix="orders")
        for invitation in invitations:
            invitation.url = services.invitation_url(invitation) if invitation.used_at is None else ""
    context.update(bound or {})
    return context


@login_required
@require_GET
def survey_detail(request, pk):
    permissions.require_or_404(request.user, "audits.view")
    survey = get_object_or_404(Survey.objects.select_related("created_by"), pk=pk)
    return render(request, "audits/survey_detail.html", _survey_context(request, survey))


def _invite(request, pk, key: str, form_class, arguments):
    """Invite customers or orders: the form parses, the service invites; a refusal shows
    the survey page with the form, its errors and what was typed."""
    permissions.require_or_404(request.user, "audits.view")
    survey = get_object_or_404(Survey.objects.select_related("created_by"), pk=pk)
    form = form_class(request.POST, prefix=key)
    if form.is_valid():
        try:
            created = services.invite(actor=request.user, survey=survey, **arguments(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("audits:survey_detail", pk=survey.pk)
        else:
            if created:
                messages.success(request, ngettext(
                    "%(n)d invitation made; the e-mail with its single-use link is being sent.",
                    "%(n)d invitations made; the e-mails with their single-use links are being sent.",
                    len(created),
                ) % {"n": len(created)})
            else:
                messages.info(request, _("They were all invited already; nothing was added."))
            return redirect(reverse("audits:survey_detail", args=[survey.pk]) + "#invitations")
    if not permissions.can(request.user, "audits.manage"):
        messages.error(request, _("You may not do this."))
        return redirect("audits:survey_detail", pk=survey.pk)
    messages.error(request, _("Nothing was changed; see the form below."))
    return render(request, "audits/survey_detail.html", _survey_context(request, survey, {f"{key}_form": form}))


@login_required
@require_POST
def survey_invite_customers(request, pk):
    return _invite(request, pk, "customers", forms.InviteCustomersForm, lambda data: {"customers": data["customers"]})


@login_required
@require_POST
def survey_invite_orders(request, pk):
    return _invite(request, pk, "orders", forms.InviteOrdersForm, lambda data: {"orders": data["numbers"]})


# --- the public answer page (no sign-in) ---------------------------------------------------


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _over_limit(request) -> bool:
    """Counts this request; True once the address made more than ``ATTEMPTS`` in the window
    (keeps robots from trying links or sending answers in bulk)."""
    key = f"audits:survey:{_client_address(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, WINDOW_SECONDS)
        count = 1
    return count > ATTEMPTS


def _answer_page(request, invitation, form, *, status=200, limited=False):
    return render(request, "audits/public_survey_form.html", {
        "invitation": invitation, "form": form, "limited": limited,
    }, status=status)


def _used_page(request, invitation):
    """A used link says so (410 Gone): the answer was stored once and stays as it is."""
    return render(request, "audits/public_survey_used.html", {"invitation": invitation}, status=410)


@require_http_methods(["GET", "POST"])
def survey_answer(request, token):
    """R-IMP-1: the customer answers the five questions through the single-use link."""
    if _over_limit(request):
        return render(request, "audits/public_survey_limited.html", {}, status=429)
    invitation = services.invitation_for(token)
    if invitation is None:
        raise Http404
    if invitation.used_at is not None:
        return _used_page(request, invitation)
    if request.method != "POST":
        return _answer_page(request, invitation, forms.AnswerForm())
    form = forms.AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer(token=token, scores=form.scores(), comments=form.cleaned_data["comments"])
        except ValidationError as error:
            invitation = services.invitation_for(token)
            if invitation is None:
                raise Http404 from None
            if invitation.used_at is not None:  # answered meanwhile (another tab)
                return _used_page(request, invitation)
            add_service_errors(form, error)
        else:
            return redirect("audits:survey_thanks")
    return _answer_page(request, invitation, form)


@require_GET
def survey_thanks(request):
    return render(request, "audits/public_survey_thanks.html", {"portal": permissions.can(request.user, "portal.use")})


# --- the customer portal ---------------------------------------------------------------


@login_required
@portal_view
@require_GET
def portal_surveys(request, customer):
    """R-IMP-1: the organisation's open survey invitations with their links, and the
    ones it answered (the answers themselves stay with the lab)."""
    invitations = SurveyInvitation.objects.filter(customer=customer).select_related("survey", "order")
    open_invitations = list(invitations.filter(used_at=None).order_by("-survey__created_at", "-id"))
    answered = Paginator(invitations.exclude(used_at=None).order_by("-used_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "audits/survey_portal.html", {
        "customer": customer,
        "open_invitations": open_invitations,
        "page": answered,
        "querystring": querystring_without_page(request),
    })


# --- evaluation reports -------------------------------------------------------------------


def _response_rate(survey) -> Decimal | None:
    """Answers per invitation in per cent, one decimal; None before any invitation."""
    if not survey.invitation_count:
        return None
    return (Decimal(survey.response_count * 100) / survey.invitation_count).quantize(Decimal("0.1"))


def _survey_columns() -> list[export.Column]:
    return [
        export.Column(_("Title"), lambda s: s.title, 32),
        export.field(Survey, "period_start", width=12),
        export.field(Survey, "period_end", width=12),
        export.Column(_("Created"), lambda s: s.created_at, 17),
        export.field(Survey, "created_by", width=12),
        export.Column(_("Invitations"), lambda s: s.invitation_count, 10),
        export.Column(_("Answers"), lambda s: s.response_count, 10),
        export.Column(_("Response rate") + " (%)", _response_rate, 10),
        export.Column(_("Findings from low scores"), lambda s: s.finding_count, 10),
    ]


def _evaluation_columns() -> list[export.Column]:
    return [
        export.Column(_("Title"), lambda r: r.title, 32),
        export.Column(_("Kind"), lambda r: r.get_kind_display(), 16),
        export.Column(_("Evaluated by"), lambda r: r.evaluator, 20),
        export.field(EvaluationReport, "period_start", width=12),
        export.field(EvaluationReport, "period_end", width=12),
        export.Column(_("Recorded"), lambda r: r.uploaded_at, 17),
        export.field(EvaluationReport, "uploaded_by", width=12),
        export.Column(_("File"), lambda r: bool(r.file), 8),
        export.Column(pgettext("audit", "Findings"), lambda r: r.finding_count, 10),
    ]


@login_required
@require_GET
def evaluation_list(request):
    """R-IMP-2: self-evaluation and third-party evaluation reports."""
    permissions.require_or_404(request.user, "audits.view")
    form = forms.EvaluationFilterForm(request.GET)
    reports = EvaluationReport.objects.select_related("uploaded_by").annotate(
        finding_count=count_of(Finding, evaluation=OuterRef("pk")),
    )
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            reports = reports.filter(Q(title__icontains=q) | Q(evaluator__icontains=q) | Q(analysis__icontains=q))
        if form.cleaned_data["kind"]:
            reports = reports.filter(kind=form.cleaned_data["kind"])
    reports = reports.order_by("-period_end", "-id")
    if export.requested(request):
        return export.response(
            request, reports, _evaluation_columns(), name="evaluation-reports", title=_("Evaluation reports")
        )
    page = Paginator(reports, page_size(request)).get_page(request.GET.get("page"))
    return render(request, "audits/evaluation_list.html", {
        "form": form,
        "page": page,
        "querystring": querystring_without_page(request),
        "can_manage": permissions.can(request.user, "audits.manage"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_create(request):
    permissions.require_or_404(request.user, "audits.manage")
    form = forms.EvaluationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.record_evaluation(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
        else:
            messages.success(request, _("Evaluation report recorded; raise a finding for each problem it shows."))
            return redirect("audits:evaluation_detail", pk=report.pk)
    return render(request, "audits/evaluation_form.html", {
        "form": form,
        # A browser cannot refill a file input: say so when the file has to be chosen again.
        "file_dropped": request.method == "POST" and bool(request.FILES),
    })


@login_required
@require_GET
def evaluation_detail(request, pk):
    permissions.require_or_404(request.user, "audits.view")
    report = get_object_or_404(EvaluationReport.objects.select_related("uploaded_by"), pk=pk)
    findings = list(report.findings.select_related("responsible").order_by("id"))
    return render(request, "audits/evaluation_detail.html", {
        "report": report,
        "findings": findings,
        "can_manage": permissions.can(request.user, "audits.manage"),
    })


@login_required
@require_GET
def evaluation_file(request, pk):
    """The report file, for staff only (never a public /media URL)."""
    permissions.require_or_404(request.user, "audits.view")
    report = get_object_or_404(EvaluationReport, pk=pk)
    if not report.file:
        raise Http404
    try:
        handle = report.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=report.file.name.rsplit("/", 1)[-1])


urlpatterns = [
    path("audits/surveys/", survey_list, name="survey_list"),
    path("audits/surveys/new/", survey_create, name="survey_create"),
    path("audits/surveys/<int:pk>/", survey_detail, name="survey_detail"),
    path("audits/surveys/<int:pk>/invite/customers/", survey_invite_customers, name="survey_invite_customers"),
    path("audits/surveys/<int:pk>/invite/orders/", survey_invite_orders, name="survey_invite_orders"),
    path("survey/thanks/", survey_thanks, name="survey_thanks"),
    path("survey/<str:token>/", survey_answer, name="survey_answer"),
    path("portal/surveys/", portal_surveys, name="portal_surveys"),
    path("audits/evaluations/", evaluation_list, name="evaluation_list"),
    path("audits/evaluations/new/", evaluation_create, name="evaluation_create"),
    path("audits/evaluations/<int:pk>/", evaluation_detail, name="evaluation_detail"),
    path("audits/evaluations/<int:pk>/file/", evaluation_file, name="evaluation_file"),
]
