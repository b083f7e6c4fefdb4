"""Method editions (R-TST-3) and their record templates.

Everyone with ``records.view`` may read; the technical lead (``records.manage_methods``)
registers editions, approves them (the previous current edition of the code becomes
superseded), withdraws them, and writes and approves template versions.  Views parse
with ``certificates.forms.methods`` and call ``certificates.services.methods``; a
refusal shows the form again with what was typed, or a message for buttons.  Outsiders
(counter staff, customers) get 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from certificates.evaluation import decimal_text
from certificates.forms import methods as forms
from certificates.models import Method, MethodStatus, RecordTemplate, TemplateStatus, ToleranceKind
from certificates.services import methods as services
from labqms import audit, export, permissions
from labqms.forms import add_service_errors
from labqms.views.helpers import page_size, querystring_without_page

AUDIT_ROWS = 50
MANAGE = "records.manage_methods"
# Service errors about the rows go above the rows, not on the template's own fields.
ROW_ERRORS = {"points": "points", "other_conditions": "conditions"}


def _can_manage(request) -> bool:
    return permissions.can(request.user, MANAGE)


def _refuse_unless_manager(request, back):
    """Someone who may only look is sent back with the reason (the service would refuse)."""
    decision = permissions.check(request.user, MANAGE)
    if decision:
        return None
    messages.error(request, decision.reason or _("You may not do this."))
    return redirect(back)


def _message_for(request, error: Exception) -> None:
    if isinstance(error, ValidationError):
        text = " ".join(error.messages)
    else:
        text = str(error)
    messages.error(request, text or _("You may not do this."))


def _method_or_404(request, pk) -> Method:
    permissions.require_or_404(request.user, "records.view")
    return get_object_or_404(
        Method.objects.select_related("superseded_by", "created_by", "approved_by"), pk=pk
    )


def _template_or_404(request, pk) -> RecordTemplate:
    permissions.require_or_404(request.user, "records.view")
    return get_object_or_404(
        RecordTemplate.objects.select_related("method", "created_by", "approved_by"), pk=pk
    )


def method_detail_url(method: Method) -> str:
    return reverse("certificates:method_detail", args=[method.pk])


def template_detail_url(template: RecordTemplate) -> str:
    return reverse("certificates:template_detail", args=[template.pk])


def tolerance_text(kind: str, tolerance, unit: str) -> str:
    """"±3 mmHg", "±5 % of reading", "±1 % of range"; "—" when the point has no limit."""
    if tolerance is None:
        return "—"
    value = decimal_text(tolerance)
    if kind == ToleranceKind.PERCENT_OF_READING:
        return _("±%(value)s %% of reading") % {"value": value}
    if kind == ToleranceKind.PERCENT_OF_RANGE:
        return _("±%(value)s %% of range") % {"value": value}
    return f"±{value} {unit}"  # the same in every language


# --- method editions -------------------------------------------------------------------


@login_required
def method_list(request):
    """Every edition of every method, searchable and filtered (R-TST-3)."""
    permissions.require_or_404(request.user, "records.view")
    form = forms.MethodFilterForm(request.GET)
    rows = form.filter(
        Method.objects.select_related("superseded_by")
        .prefetch_related("categories")
        .annotate(template_count=Count("templates", distinct=True))
    )
    if export.requested(request):
        return export.response(request, rows, _method_columns(), name="methods", title=_("Methods"))
    page = Paginator(rows, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/method_list.html",
        {"form": form, "page": page, "querystring": querystring_without_page(request), "can_manage": _can_manage(request)},
    )


def _method_columns() -> list[export.Column]:
    return [
        export.Column(pgettext("measurement method", "Method"), lambda m: m.full_code, 18),
        export.Column(_("Title"), lambda m: m.title, 32),
        export.Column(_("Kind"), lambda m: m.get_kind_display(), 14),
        export.Column(_("Effective from"), lambda m: m.effective_on, 12),
        export.Column(_("Edition status"), lambda m: m.get_status_display(), 12),
        export.Column(
            _("superseded by"), lambda m: m.superseded_by.full_code if m.superseded_by else "", 18
        ),
        export.field(Method, "status_changed_on", width=12),
        export.Column(_("Applicable categories"), lambda m: [f"{c.code} · {c.name}" for c in m.categories.all()], 28),
        export.Column(_("Template versions"), lambda m: m.template_count, 10),
    ]


def _method_form_page(request, form, method: Method | None, source: Method | None = None):
    return render(
        request,
        "certificates/method_form.html",
        {"form": form, "method": method, "source": source},
    )


@login_required
def method_create(request):
    """Register an edition (awaiting approval).  ``?from=<pk>`` starts from an existing
    edition of the same method: the next edition is usually the same code and scope."""
    permissions.require_or_404(request.user, "records.view")
    refused = _refuse_unless_manager(request, "certificates:method_list")
    if refused:
        return refused
    source = None
    if request.method != "POST":
        initial = {}
        source_pk = request.GET.get("from", "")
        if source_pk.isdigit():
            source = Method.objects.filter(pk=source_pk).first()
        if source is not None:
            initial = {"code": source.code, "title": source.title, "kind": source.kind,
                       "categories": list(source.categories.all())}
        return _method_form_page(request, forms.MethodForm(initial=initial), None, source)
    form = forms.MethodForm(request.POST)
    if form.is_valid():
        try:
            method = services.save_method(
                actor=request.user, data=form.method_data(), categories=list(form.cleaned_data["categories"])
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            _message_for(request, error)
            return redirect("certificates:method_list")
        else:
            messages.success(
                request,
                _("%(code)s registered; it awaits the technical lead's approval.") % {"code": method.full_code},
            )
            return redirect("certificates:method_detail", pk=method.pk)
    messages.error(request, _("Nothing was saved; see the form below."))
    return _method_form_page(request, form, None)


@login_required
def method_edit(request, pk):
    """Change an edition still awaiting approval; an approved edition does not change."""
    method = _method_or_404(request, pk)
    refused = _refuse_unless_manager(request, method_detail_url(method))
    if refused:
        return refused
    if method.status != MethodStatus.DRAFT:
        messages.error(request, _("An approved edition does not change; register a new edition instead."))
        return redirect(method_detail_url(method))
    # The form validates its own copy; the service compares against the stored row.
    form = forms.MethodForm(request.POST or None, instance=Method.objects.get(pk=method.pk))
    if request.method == "POST":
        if form.is_valid():
            try:
                services.save_method(
                    actor=request.user, method=method, data=form.method_data(),
                    categories=list(form.cleaned_data["categories"]),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                _message_for(request, error)
                return redirect(method_detail_url(method))
            else:
                messages.success(request, _("Saved."))
                return redirect(method_detail_url(method))
        messages.error(request, _("Nothing was saved; see the form below."))
    return _method_form_page(request, form, method)


def _method_context(request, method: Method, withdraw_form=None) -> dict:
    templates = list(
        method.templates.select_related("approved_by", "created_by")
        .annotate(point_count=Count("points"))
        .order_by("-version")
    )
    can_manage = _can_manage(request)
    open_for_work = method.status in (MethodStatus.CURRENT, MethodStatus.DRAFT)
    return {
        "method": method,
        "m": method,
        "categories": list(method.categories.order_by("code")),
        "editions": list(
            Method.objects.filter(code=method.code).select_related("superseded_by").order_by("-edition")
        ),
        "supersedes": list(method.supersedes.order_by("-edition")),
        "templates": templates,
        "draft_template": next((t for t in templates if t.status == TemplateStatus.DRAFT), None),
        "can_manage": can_manage,
        "can_approve": can_manage and method.status == MethodStatus.DRAFT,
        "can_withdraw": can_manage and open_for_work,
        "can_add_template": can_manage and open_for_work,
        "withdraw_form": withdraw_form or forms.WithdrawForm(),
        "events": list(audit.events_for(method).select_related("target_type").order_by("-at", "-id")[:AUDIT_ROWS]),
        "audit_rows": AUDIT_ROWS,
    }


@login_required
def method_detail(request, pk):
    method = _method_or_404(request, pk)
    return render(request, "certificates/method_detail.html", _method_context(request, method))


@login_required
@require_POST
def method_approve(request, pk):
    """The edition becomes current; the current edition of the code is superseded."""
    method = _method_or_404(request, pk)
    try:
        method = services.approve_method(actor=request.user, method=method)
    except (ValidationError, PermissionDenied) as error:
        _message_for(request, error)
    else:
        # A newly approved edition supersedes only what it replaced just now.
        superseded = list(method.supersedes.order_by("-edition"))
        text = _("%(code)s is now the current edition.") % {"code": method.full_code}
        if superseded:
            text += " " + _("Superseded: %(old)s.") % {"old": ", ".join(m.full_code for m in superseded)}
        messages.success(request, text)
    return redirect(method_detail_url(method))


@login_required
@require_POST
def method_withdraw(request, pk):
    method = _method_or_404(request, pk)
    form = forms.WithdrawForm(request.POST)
    if form.is_valid():
        try:
            method = services.withdraw_method(actor=request.user, method=method, reason=form.cleaned_data["reason"])
        except PermissionDenied as error:
            _message_for(request, error)
            return redirect(method_detail_url(method))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(code)s is withdrawn.") % {"code": method.full_code})
            return redirect(method_detail_url(method))
    elif not _can_manage(request):
        messages.error(request, permissions.check(request.user, MANAGE).reason or _("You may not do this."))
        return redirect(method_detail_url(method))
    messages.error(request, _("The method was not withdrawn; see the form below."))
    method.refresh_from_db()
    context = _method_context(request, method, withdraw_form=form)
    context["open_withdraw"] = True
    return render(request, "certificates/method_detail.html", context)


# --- record templates --------------------------------------------------------------------


def _template_forms(request, *, template: RecordTemplate | None = None, start: RecordTemplate | None = None):
    """The template form with its point and condition rows, bound on POST; on GET filled
    from ``template`` (editing) or ``start`` (a new version starting from the last one)."""
    if request.method == "POST":
        return (
            forms.TemplateForm(request.POST, instance=RecordTemplate.objects.get(pk=template.pk) if template else None),
            forms.PointFormSet(request.POST, prefix="points"),
            forms.ConditionFormSet(request.POST, prefix="conditions"),
        )
    source = template or start
    if source is None:
        return forms.TemplateForm(), forms.PointFormSet(prefix="points"), forms.ConditionFormSet(prefix="conditions")
    points = [
        {key: getattr(p, key) for key in services.POINT_FIELDS} for p in source.points.order_by("position")
    ]
    conditions = [dict(c) for c in source.other_conditions or []]
    if template is not None:
        form = forms.TemplateForm(instance=template)
    else:
        initial = {key: getattr(source, key) for key in services.TEMPLATE_FIELDS if key != "other_conditions"}
        form = forms.TemplateForm(initial=initial)
    return (
        form,
        forms.PointFormSet(prefix="points", initial=points or None),
        forms.ConditionFormSet(prefix="conditions", initial=conditions or None),
    )


def _save_template(request, method: Method, form, points, conditions, template: RecordTemplate | None):
    """Valid input → the service.  Returns the saved template, or None with the errors
    placed on the form, the rows, or above the rows."""
    row_errors = {"points": [], "conditions": []}
    valid = all([form.is_valid(), points.is_valid(), conditions.is_valid()])
    if not valid:
        return None, row_errors
    try:
        saved = services.save_template(
            actor=request.user, method=method, template=template,
            data={**form.cleaned_data, "other_conditions": [c.condition() for c in conditions.filled()]},
            points=[p.point() for p in points.filled()],
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            rest = {}
            for key, errors in error.error_dict.items():
                if key in ROW_ERRORS:
                    row_errors[ROW_ERRORS[key]].extend(m for e in errors for m in e.messages)
                else:
                    rest[key] = errors
            if rest:
                add_service_errors(form, ValidationError(rest))
        else:
            add_service_errors(form, error)
        return None, row_errors
    return saved, row_errors


def _template_form_page(request, method, form, points, conditions, *, template=None, start=None, row_errors=None):
    return render(
        request,
        "certificates/template_form.html",
        {
            "method": method,
            "template": template,
            "start": start,
            "form": form,
            "points": points,
            "conditions": conditions,
            "row_errors": row_errors or {"points": [], "conditions": []},
            "point_headings": [f.label for f in forms.PointForm.base_fields.values()],
            "condition_headings": [f.label for f in forms.ConditionForm.base_fields.values()],
        },
    )


def _run_template_form(request, method: Method, *, template: RecordTemplate | None = None, back: str):
    start = None
    if template is None:
        start = method.templates.order_by("-version").first()
    form, points, conditions = _template_forms(request, template=template, start=start)
    if request.method != "POST":
        return _template_form_page(request, method, form, points, conditions, template=template, start=start)
    try:
        saved, row_errors = _save_template(request, method, form, points, conditions, template)
    except PermissionDenied as error:
        _message_for(request, error)
        return redirect(back)
    if saved is not None:
        messages.success(
            request,
            _("Version %(v)s of the record template saved as a draft; approve it to put it in use.")
            % {"v": saved.version},
        )
        return redirect("certificates:template_detail", pk=saved.pk)
    messages.error(request, _("Nothing was saved; see the form below."))
    return _template_form_page(
        request, method, form, points, conditions, template=template, start=start, row_errors=row_errors
    )


@login_required
def template_create(request, pk):
    """The next version of ``method``'s record template, starting from the last one."""
    method = _method_or_404(request, pk)
    refused = _refuse_unless_manager(request, method_detail_url(method))
    if refused:
        return refused
    return _run_template_form(request, method, back=method_detail_url(method))


@login_required
def template_edit(request, pk):
    """Change a draft version; versions in use do not change (start a new version)."""
    template = _template_or_404(request, pk)
    back = template_detail_url(template)
    refused = _refuse_unless_manager(request, back)
    if refused:
        return refused
    if not template.is_editable:
        messages.error(
            request,
            _("Version %(v)s is in use and does not change; start a new version.") % {"v": template.version},
        )
        return redirect(back)
    return _run_template_form(request, template.method, template=template, back=back)


@login_required
def template_detail(request, pk):
    template = _template_or_404(request, pk)
    points = list(template.points.order_by("position"))
    for point in points:
        point.nominal_text = decimal_text(point.nominal)
        point.tolerance_text = tolerance_text(point.tolerance_kind, point.tolerance, template.unit)
        point.uncertainty_text = decimal_text(point.default_uncertainty)
    conditions = [
        {**c, "min": c.get("min") or "", "max": c.get("max") or ""} for c in template.other_conditions or []
    ]
    versions = list(template.method.templates.order_by("-version"))
    can_manage = _can_manage(request)
    method_open = template.method.status in (MethodStatus.CURRENT, MethodStatus.DRAFT)
    draft = next((v for v in versions if v.status == TemplateStatus.DRAFT), None)
    return render(
        request,
        "certificates/template_detail.html",
        {
            "template": template,
            "t": template,
            "method": template.method,
            "points": points,
            "conditions": conditions,
            "versions": versions,
            "draft": draft,
            "numbers": {
                key: decimal_text(getattr(template, key))
                for key in (
                    "resolution", "range_low", "range_high", "temperature_min", "temperature_max",
                    "humidity_min", "humidity_max", "default_coverage_factor",
                )
            },
            "can_manage": can_manage,
            "can_edit": can_manage and template.is_editable,
            "can_approve": can_manage and template.is_editable and method_open,
            "can_new_version": can_manage and not template.is_editable and draft is None and method_open,
            "events": list(audit.events_for(template).select_related("target_type").order_by("-at", "-id")[:AUDIT_ROWS]),
            "audit_rows": AUDIT_ROWS,
        },
    )


@login_required
@require_POST
def template_approve(request, pk):
    """The draft version goes into use; the version in use before it is retired."""
    template = _template_or_404(request, pk)
    try:
        template = services.approve_template(actor=request.user, template=template)
    except (ValidationError, PermissionDenied) as error:
        _message_for(request, error)
    else:
        messages.success(
            request, _("Version %(v)s is now in use for new records.") % {"v": template.version}
        )
    return redirect(template_detail_url(template))


@login_required
@require_POST
def template_new_version(request, pk):
    """A draft copy (points included) of a version in use or retired, to edit."""
    template = _template_or_404(request, pk)
    if template.is_editable:
        messages.error(request, _("Version %(v)s is still a draft; change it directly.") % {"v": template.version})
        return redirect("certificates:template_edit", pk=template.pk)
    draft = template.method.templates.filter(status=TemplateStatus.DRAFT).order_by("-version").first()
    if draft is not None and permissions.can(request.user, MANAGE):
        messages.info(
            request, _("Version %(v)s is already a draft; change it rather than starting another.") % {"v": draft.version}
        )
        return redirect("certificates:template_edit", pk=draft.pk)
    try:
        new = services.new_version(actor=request.user, template=template)
    except (ValidationError, PermissionDenied) as error:
        _message_for(request, error)
        return redirect(template_detail_url(template))
    messages.success(
        request,
        _("Version %(v)s started as a copy of version %(old)s; change it, then approve it.")
        % {"v": new.version, "old": template.version},
    )
    return redirect("certificates:template_edit", pk=new.pk)


urlpatterns = [
    path("methods/", method_list, name="method_list"),
    path("methods/new/", method_create, name="method_create"),
    path("methods/<int:pk>/", method_detail, name="method_detail"),
    path("methods/<int:pk>/edit/", method_edit, name="method_edit"),
    path("methods/<int:pk>/approve/", method_approve, name="method_approve"),
    path("methods/<int:pk>/withdraw/", method_withdraw, name="method_withdraw"),
    path("methods/<int:pk>/templates/new/", template_create, name="template_create"),
    path("templates/<int:pk>/", template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", template_edit, name="template_edit"),
    path("templates/<int:pk>/approve/", template_approve, name="template_approve"),
    path("templates/<int:pk>/new-version/", template_new_version, name="template_new_version"),
]
