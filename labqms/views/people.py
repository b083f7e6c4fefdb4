"""People pages: search, one person on one screen (R-PER-4), and the forms that call
``labqms.services.people``.  Outsiders (customers) get 404 everywhere here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from labqms import audit, export, forms, permissions
from labqms.models import (
    AuditEvent,
    Authorisation,
    Delegation,
    Role,
    RoleDescription,
    TrainingPlan,
    TrainingRecord,
)
from labqms.pagination import Paginator
from labqms.selectors import people as selectors
from labqms.services import people as services
from labqms.views import printouts
from labqms.views.helpers import page_size, querystring_without_page, run_with_reason, year_param


@login_required
def person_list(request):
    permissions.require_or_404(request.user, "people.view")
    today = timezone.localdate()
    form = forms.PersonSearchForm(request.GET or None)
    people = selectors.staff_users().order_by("username")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"]
            people = people.filter(
                Q(username__icontains=q)
                | Q(full_name__icontains=q)
                | Q(profile__department__icontains=q)
                | Q(profile__job_title__icontains=q)
                | Q(profile__employee_no__icontains=q)
            )
        if data["role"]:
            people = people.filter(groups__name=data["role"])
        if data["activity"]:
            people = people.filter(
                Exists(
                    Authorisation.objects.valid_on(today).filter(
                        person=OuterRef("pk"), activity=data["activity"]
                    )
                )
            )
        if data["attention"]:
            people = people.filter(pk__in=selectors.people_needing_attention(today))
    attention = set(selectors.people_needing_attention(today).values_list("pk", flat=True))
    people = people.prefetch_related("groups")
    if export.requested(request):
        return export.response(request, people, _person_columns(attention), name="people", title=_("People"))
    page = Paginator(people, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "labqms/person_list.html",
        {
            "form": form,
            "page": page,
            "attention": attention,
            "querystring": querystring_without_page(request),
        },
    )


def _person_columns(attention: set[int]) -> list[export.Column]:
    def profile(user, name):
        profile = getattr(user, "profile", None)  # absent until someone fills it in
        return getattr(profile, name, "") if profile else ""

    return [
        export.Column(_("Name"), str, 16),
        export.Column(_("User name"), lambda p: p.username, 14),
        export.Column(_("Employee number"), lambda p: profile(p, "employee_no"), 12),
        export.Column(_("Department"), lambda p: profile(p, "department"), 16),
        export.Column(_("Job title"), lambda p: profile(p, "job_title"), 14),
        export.Column(_("Roles"), lambda p: [Role(g.name).label for g in p.groups.all() if g.name in Role], 24),
        export.Column(_("Dates to check"), lambda p: p.pk in attention, 10),
    ]


def _person_or_404(request, pk):
    permissions.require_or_404(request.user, "people.view")
    return get_object_or_404(selectors.staff_users(), pk=pk)


@login_required
def person_detail(request, pk):
    person = _person_or_404(request, pk)
    today = timezone.localdate()
    context = selectors.person_overview(person, today)
    # R-PER-7: the findings raised from this person's supervision records (one query).
    supervisions = list(context["supervisions"].prefetch_related("findings"))
    context.update(
        {
            "today": today,
            "roles": permissions.effective_roles(person, today),
            "events": audit.events_for(person)[:20],
            "supervisions": supervisions,
            "supervision_findings": [f for s in supervisions for f in s.findings.all()],
        }
    )
    return render(request, "labqms/person_detail.html", context)


def _form_page(request, person, form, title, call, template="labqms/person_form.html"):
    """Shared POST handling: valid form → service; its errors → form errors."""
    if request.method == "POST" and form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as error:
            forms.add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("people:person_detail", pk=person.pk)
        else:
            messages.success(request, _("Saved."))
            return redirect("people:person_detail", pk=person.pk)
    return render(request, template, {"person": person, "form": form, "title": title})


@login_required
def person_roles(request, pk):
    person = _person_or_404(request, pk)
    permissions.require_or_404(request.user, "people.manage_roles")
    form = forms.RolesForm(request.POST or None, initial={"roles": sorted(person.role_names)})
    return _form_page(
        request,
        person,
        form,
        _("Roles"),
        lambda data: services.set_roles(
            actor=request.user, person=person, roles=data["roles"], reason=data["reason"]
        ),
    )


@login_required
def authorisation_grant(request, pk):
    person = _person_or_404(request, pk)
    permissions.require_or_404(request.user, "people.manage_authorisations")
    form = forms.AuthorisationForm(
        request.POST or None, initial={"valid_from": timezone.localdate()}
    )
    return _form_page(
        request,
        person,
        form,
        _("Grant authorisation"),
        lambda data: services.grant_authorisation(actor=request.user, person=person, **data),
    )


@login_required
@require_POST
def authorisation_revoke(request, pk):
    permissions.require_or_404(request.user, "people.manage_authorisations")
    authorisation = get_object_or_404(Authorisation, pk=pk)
    run_with_reason(
        request,
        lambda reason: services.revoke_authorisation(
            actor=request.user, authorisation=authorisation, reason=reason
        ),
        missing=_("Give the reason for revoking."),
        done=_("Authorisation revoked."),
    )
    return redirect("people:person_detail", pk=authorisation.person_id)


@login_required
def qualification_add(request, pk):
    person = _person_or_404(request, pk)
    permissions.require_or_404(request.user, "people.manage_records")
    form = forms.QualificationForm(request.POST or None)
    return _form_page(
        request,
        person,
        form,
        _("Add qualification certificate"),
        lambda data: services.record_qualification(actor=request.user, person=person, **data),
    )


@login_required
def training_add(request, pk):
    person = _person_or_404(request, pk)
    permissions.require_or_404(request.user, "people.manage_records")
    form = forms.TrainingForm(request.POST or None)
    return _form_page(
        request,
        person,
        form,
        _("Add training record"),
        lambda data: services.record_training(actor=request.user, person=person, **data),
    )


@login_required
def supervision_add(request, pk):
    person = _person_or_404(request, pk)
    permissions.require_or_404(request.user, "people.record_supervision")
    form = forms.SupervisionForm(request.POST or None)
    return _form_page(
        request,
        person,
        form,
        _("Record supervision"),
        lambda data: services.record_supervision(actor=request.user, supervisee=person, **data),
    )


@login_required
def delegation_add(request, pk):
    lead = _person_or_404(request, pk)
    permissions.require_or_404(request.user, "people.manage_delegations")
    form = forms.DelegationForm(request.POST or None, lead=lead)
    return _form_page(
        request,
        lead,
        form,
        _("Name a deputy"),
        lambda data: services.start_delegation(actor=request.user, lead=lead, **data),
    )


@login_required
@require_POST
def delegation_end(request, pk):
    permissions.require_or_404(request.user, "people.manage_delegations")
    delegation = get_object_or_404(Delegation, pk=pk)
    run_with_reason(
        request,
        lambda reason: services.end_delegation(
            actor=request.user, delegation=delegation, reason=reason
        ),
        missing=_("Give the reason for ending the delegation."),
        done=_("Delegation ended."),
    )
    return redirect("people:person_detail", pk=delegation.lead_id)


@login_required
def role_list(request):
    """Every role with its duties, knowledge, qualifications and training needs (R-PER-1)."""
    permissions.require_or_404(request.user, "people.view")
    descriptions = {d.role: d for d in RoleDescription.objects.all()}
    roles = [{"role": role, "description": descriptions.get(role.value)} for role in Role]
    return render(request, "labqms/role_list.html", {"roles": roles})


@login_required
def training_plan(request):
    """The year's training plan with who attended each item, and unplanned trainings (R-PER-2)."""
    permissions.require_or_404(request.user, "people.view")
    year = year_param(request)
    items = (
        TrainingPlan.objects.filter(year=year)
        .select_related("responsible")
        .prefetch_related("records__person")
    )
    unplanned = TrainingRecord.objects.filter(plan=None, started_on__year=year).select_related(
        "person"
    )
    return render(
        request,
        "labqms/training_plan.html",
        {"year": year, "items": items, "unplanned": unplanned},
    )


@login_required
def audit_list(request):
    """The audit trail, searchable by object, action, actor and date."""
    permissions.require_or_404(request.user, "audit.view")
    form = forms.AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor", "as_deputy_of", "target_type")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            events = events.filter(
                Q(target_repr__icontains=data["q"]) | Q(action__icontains=data["q"])
            )
        if data["actor"]:
            events = events.filter(actor=data["actor"])
        if data["date_from"]:
            events = events.filter(at__date__gte=data["date_from"])
        if data["date_to"]:
            events = events.filter(at__date__lte=data["date_to"])
    if export.requested(request):
        return export.response(request, events, _audit_columns(), name="audit-trail", title=_("Audit trail"))
    page = Paginator(events, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "labqms/audit_list.html",
        {
            "form": form,
            "page": page,
            "querystring": querystring_without_page(request),
        },
    )


def _audit_columns() -> list[export.Column]:
    def changes(event):
        return [f"{label}: {_none(old)} → {_none(new)}" for label, old, new in event.changes_display]

    return [
        export.Column(_("When"), lambda e: e.at, 18),
        export.Column(_("Who"), lambda e: str(e.actor) if e.actor else _("system"), 14),
        export.field(AuditEvent, "as_deputy_of", width=14),
        export.Column(_("Action"), lambda e: e.action_label, 20),
        export.Column(_("Action code"), lambda e: e.action, 20),
        export.Column(_("Object"), lambda e: e.target_repr, 28),
        export.Column(_("Changes"), changes, 40),
        export.Column(_("Reason"), lambda e: e.reason, 24),
        export.Column(_("Source"), lambda e: e.source, 14),
    ]


def _none(value) -> str:
    return "∅" if value is None else str(value)


urlpatterns = [
    path("", person_list, name="person_list"),
    path("<int:pk>/", person_detail, name="person_detail"),
    path("<int:pk>/roles/", person_roles, name="person_roles"),
    path("<int:pk>/record.pdf", printouts.person_record_pdf, name="person_record_pdf"),
    path("<int:pk>/authorisations/new/", authorisation_grant, name="authorisation_grant"),
    path("authorisations/<int:pk>/revoke/", authorisation_revoke, name="authorisation_revoke"),
    path("<int:pk>/qualifications/new/", qualification_add, name="qualification_add"),
    path("<int:pk>/trainings/new/", training_add, name="training_add"),
    path("<int:pk>/supervisions/new/", supervision_add, name="supervision_add"),
    path("<int:pk>/delegations/new/", delegation_add, name="delegation_add"),
    path("delegations/<int:pk>/end/", delegation_end, name="delegation_end"),
    path("roles/", role_list, name="role_list"),
    path("training/", training_plan, name="training_plan"),
    path("audit/", audit_list, name="audit_list"),
]
