"""The original record: the entry page (one tablet-friendly page, usable on site, with a
form per section), the read view with corrections struck through, the signatures (the
performer's, the checker's or a return with comments) and correction entries (R-TST-1,
R-TST-2, R-REC-1..3, R-REC-5, R-ONS-3, R-CRT-2, R-EQP-10).

Views parse and call ``certificates.services.records``; the services decide.  A refused
section comes back on the whole page with its bound input and the errors, the other
sections showing what is saved, so nothing typed is lost.  Outsiders get 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from certificates import calc
from certificates.evaluation import Evaluation, Value, allowed_conclusions, decimal_text, evaluate
from certificates.forms import records as forms
from certificates.models import (
    CheckOutcome,
    Conclusion,
    Phase,
    Record,
    RecordEquipment,
    RecordStatus,
)
from certificates.services import records as services
from intake.models import Service
from labqms import audit, permissions
from labqms.forms import add_service_errors

AUDIT_ROWS = 50
SECTIONS = ("environment", "equipment", "readings", "uncertainty", "inspections", "conclusion", "sign")


def _record_or_404(request, pk) -> Record:
    permissions.require_or_404(request.user, "records.view")
    return get_object_or_404(
        Record.objects.select_related(
            "task__checker", "method", "template", "sample__item__category", "performer", "checker"
        ),
        pk=pk,
    )


def _detail_url(record: Record, section: str = "") -> str:
    url = reverse("certificates:record_detail", args=[record.pk])
    return f"{url}#{section}" if section else url


def _entry_url(record: Record, section: str = "") -> str:
    url = reverse("certificates:record_entry", args=[record.pk])
    return f"{url}#{section}" if section else url


def _entry_open(user, record: Record) -> bool:
    return user == record.performer and record.status == RecordStatus.DRAFT


def _entry_refusal(request, record: Record) -> str:
    """Why ``request.user`` may not enter data in this record, or ""."""
    if request.user != record.performer:
        return _("Only the performer of this record, %(person)s, enters its data.") % {"person": record.performer}
    if record.status != RecordStatus.DRAFT:
        return _("Record %(number)s is signed; values change only by a correction entry (R-REC-3).") % {
            "number": record.number
        }
    return ""


# --- what the pages show --------------------------------------------------------------


@dataclass
class Cell:
    slot: object
    field: object = None  # the bound field on the entry page
    warning: str = ""


@dataclass
class RowView:
    row: object
    cells: list[Cell]
    nominal: str = ""
    mean: str = ""
    error: str = ""
    mpe: str = ""
    uncertainty: tuple = ()  # (U field, k field) on the entry page


@dataclass
class PhaseTable:
    phase: str
    label: str
    rows: list[RowView] = field(default_factory=list)


def _warning(reading, template) -> str:
    if reading is None or not calc.finer_than(reading.value, template.resolution):
        return ""
    return _("More digits than the resolution %(step)s; kept as typed, results rounded.") % {
        "step": decimal_text(template.resolution)
    }


def _tables(record: Record, evaluation: Evaluation, readings_form=None, uncertainty_form=None) -> list[PhaseTable]:
    """Rows = points per phase, columns = readings, then the computed results."""
    tables = []
    for phase, rows in evaluation.rows.items():
        table = PhaseTable(phase, Phase(phase).label)
        for row in rows:
            cells = []
            for slot in row.slots:
                bound = None
                if readings_form is not None:
                    bound = readings_form[services.slot_key(row.point.pk, phase, slot.repeat)]
                # Notes belong to the stored value; a refused page shows the refusals instead.
                warning = "" if readings_form is not None and readings_form.is_bound else _warning(slot.reading, record.template)
                cells.append(Cell(slot, bound, warning))
            result = row.result
            view = RowView(
                row, cells, nominal=decimal_text(row.point.nominal), mean=decimal_text(result.mean), error=decimal_text(result.error),
                mpe=f"±{decimal_text(result.mpe)}" if result.mpe is not None else "",
            )
            if uncertainty_form is not None:
                key = services.uncertainty_key(row.point.pk, phase)
                view.uncertainty = (uncertainty_form[f"{key}-U"], uncertainty_form[f"{key}-k"])
            table.rows.append(view)
        tables.append(table)
    return tables


def _environment_problems(record: Record) -> dict[str, str]:
    """The stored conditions' problems: the stop-work alert stays while they last."""
    if record.environment_at is None or record.environment_ok:
        return {}
    others = {name: Decimal(str(v)) for name, v in record.other_conditions.items() if str(v).strip()}
    problems = services.environment_problems(record.template, record.temperature, record.humidity, others)
    return problems or {"": str(services.STOP_WORK)}


def _readings_blocked(record: Record, equipment_count: int) -> str:
    if record.environment_at is None:
        return _("Record the environmental conditions first.")
    if not record.environment_ok:
        return str(services.STOP_WORK)
    if not equipment_count:
        return _("Add the equipment you measure with before entering readings (R-EQP-10).")
    return ""


def _environment_rows(record: Record, evaluation: Evaluation) -> list[tuple[str, Value, str]]:
    """(label, value, limits) of each condition, for the read view."""
    template = record.template
    rows = [
        (_("Temperature (℃)"), evaluation.environment["temperature"],
         forms.limits_text(template.temperature_min, template.temperature_max, "℃")),
        (_("Relative humidity (%)"), evaluation.environment["humidity"],
         forms.limits_text(template.humidity_min, template.humidity_max, "%")),
    ]
    for condition in template.other_conditions:
        name, unit = condition.get("name", ""), condition.get("unit", "")
        rows.append((f"{name} ({unit})" if unit else name, evaluation.environment[f"other:{name}"],
                     forms.limits_text(condition.get("min"), condition.get("max"), unit)))
    return rows


def _points(evaluation: Evaluation) -> list:
    return [row.point for row in evaluation.rows[Phase.AS_FOUND]]


# --- entry ------------------------------------------------------------------------------


def _entry_context(request, record: Record, bound: dict | None = None) -> dict:
    bound = bound or {}
    evaluation = evaluate(record)
    points = _points(evaluation)
    inspections = [inspection for inspection, _ok, _note in evaluation.inspections]
    calibration = record.task.service == Service.CALIBRATION
    equipment_used = list(record.equipment_used.select_related("added_by"))

    readings_initial = {
        services.slot_key(row.point.pk, row.phase, slot.repeat): slot.reading.entered_text
        for rows in evaluation.rows.values() for row in rows for slot in row.slots if slot.reading is not None
    }
    default_k = record.template.default_coverage_factor
    uncertainty_initial = {}
    for rows in evaluation.rows.values():
        for row in rows:
            key = services.uncertainty_key(row.point.pk, row.phase)
            if row.uncertainty is not None:
                uncertainty_initial[f"{key}-U"] = decimal_text(row.uncertainty.expanded_uncertainty)
                uncertainty_initial[f"{key}-k"] = decimal_text(row.uncertainty.coverage_factor)
            else:
                uncertainty_initial[f"{key}-U"] = decimal_text(row.point.default_uncertainty)
                uncertainty_initial[f"{key}-k"] = decimal_text(default_k)

    section_forms = {
        "environment": forms.EnvironmentForm(record=record),
        "equipment": forms.EquipmentAddForm(record=record),
        "readings": forms.ReadingsForm(record=record, points=points, initial=readings_initial),
        "uncertainty": forms.UncertaintyForm(record=record, points=points, initial=uncertainty_initial) if calibration else None,
        "inspections": forms.InspectionsForm(inspections=inspections, initial=forms.InspectionsForm.initial_for(inspections)),
        "conclusion": forms.ConclusionForm(
            record=record,
            initial={"adjusted": record.adjusted, "adjustment_notes": record.adjustment_notes,
                     "conclusion": record.conclusion, "conclusion_note": record.conclusion_note},
        ),
        "sign": forms.PasswordForm(prefix="sign"),
    }
    section_forms.update(bound)
    inspection_rows = [
        (inspection, section_forms["inspections"][f"inspection-{inspection.position}"],
         section_forms["inspections"][f"note-{inspection.position}"])
        for inspection in inspections
    ]
    return {
        "record": record,
        "evaluation": evaluation,
        "instrument": record.instrument,
        "calibration": calibration,
        "forms": section_forms,
        "tables": _tables(record, evaluation, section_forms["readings"], section_forms["uncertainty"]),
        "inspection_rows": inspection_rows,
        "equipment_used": equipment_used,
        "environment_problems": _environment_problems(record),
        "readings_blocked": _readings_blocked(record, len(equipment_used)),
        "missing": evaluation.missing(),
        "stop_work": services.STOP_WORK,
        "repeat_numbers": range(1, record.template.repeats + 1),
        "step": decimal_text(record.template.resolution),
        "readings_entered": sum(len(row.result.readings) for rows in evaluation.rows.values() for row in rows),
        "readings_total": sum(len(rows) for rows in evaluation.rows.values()) * record.template.repeats,
        "open_section": next(iter(bound), ""),
    }


def _render_entry(request, record: Record, *, bound: dict | None = None):
    return render(request, "certificates/record_entry.html", _entry_context(request, record, bound))


@login_required
def record_entry(request, pk):
    record = _record_or_404(request, pk)
    if not _entry_open(request.user, record):
        return redirect(_detail_url(record))
    return _render_entry(request, record)


def _section_post(
    request, record: Record, section: str, form, call: Callable[[], None],
    *, map_errors: Callable | None = None,
):
    """Shared handling of one section's POST: valid form → service.  Accepted: the
    message ``call`` returns and back to the section.  Refused: the errors on the form
    and the whole page again with this section's input as typed."""
    refusal = _entry_refusal(request, record)
    if refusal:
        messages.error(request, refusal)
        return redirect(_detail_url(record))
    if form.is_valid():
        try:
            call()
        except ValidationError as error:
            (map_errors or add_service_errors)(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
        else:
            return redirect(_entry_url(record, section))
    messages.error(request, _("Nothing was saved; see the section marked below."))
    return _render_entry(request, record, bound={section: form})


@login_required
@require_POST
def record_environment(request, pk):
    record = _record_or_404(request, pk)
    form = forms.EnvironmentForm(request.POST, record=record)

    def call():
        problems = services.save_environment(
            actor=request.user, record=record, temperature=form.cleaned_data["temperature"],
            humidity=form.cleaned_data["humidity"], others=form.others(),
        )
        if problems:
            messages.error(request, str(services.STOP_WORK))
        else:
            messages.success(request, _("Environmental conditions saved; they are within the method's limits."))

    return _section_post(request, record, "environment", form, call)


def _equipment_errors(form, error: ValidationError) -> None:
    """The gate's refusal (why, and until when) belongs to the equipment field."""
    if hasattr(error, "error_dict"):
        add_service_errors(form, error)
    else:
        for message in error.messages:
            form.add_error("equipment", message)


@login_required
@require_POST
def record_equipment_add(request, pk):
    record = _record_or_404(request, pk)
    form = forms.EquipmentAddForm(request.POST, record=record)

    def call():
        equipment = form.cleaned_data["equipment"]
        services.add_equipment(actor=request.user, record=record, equipment=equipment)
        messages.success(
            request,
            _("%(eq)s added; its state on %(date)s is stored with the record.")
            % {"eq": equipment, "date": record.measured_on.isoformat()},
        )

    return _section_post(request, record, "equipment", form, call, map_errors=_equipment_errors)


@login_required
@require_POST
def record_equipment_remove(request, pk, entry):
    record = _record_or_404(request, pk)
    refusal = _entry_refusal(request, record)
    if refusal:
        messages.error(request, refusal)
        return redirect(_detail_url(record))
    item = get_object_or_404(RecordEquipment, pk=entry, record=record)
    try:
        services.remove_equipment(actor=request.user, record=record, entry=item)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
    else:
        messages.success(request, _("%(eq)s removed from the record.") % {"eq": item.snapshot.get("lab_id", "")})
    return redirect(_entry_url(record, "equipment"))


@login_required
@require_POST
def record_readings(request, pk):
    record = _record_or_404(request, pk)
    form = forms.ReadingsForm(request.POST, record=record, points=list(record.template.points.all()))

    def call():
        originals = {key[len("orig-"):]: value for key, value in request.POST.items() if key.startswith("orig-")}
        warnings = services.save_readings(
            actor=request.user, record=record, entries=form.entries(), originals=originals or None
        )
        messages.success(request, _("Readings saved, each with the server's time."))
        if warnings:
            messages.warning(request, " ".join(warnings.values()))

    return _section_post(request, record, "readings", form, call)


def _uncertainty_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        add_service_errors(form, error)
        return
    for key, errors in error.error_dict.items():
        target = f"{key}-U" if f"{key}-U" in form.fields else None
        for item in errors:
            form.add_error(target, item)


@login_required
@require_POST
def record_uncertainty(request, pk):
    record = _record_or_404(request, pk)
    form = forms.UncertaintyForm(request.POST, record=record, points=list(record.template.points.all()))

    def call():
        services.save_uncertainties(actor=request.user, record=record, entries=form.entries())
        messages.success(request, _("Uncertainties saved."))

    return _section_post(request, record, "uncertainty", form, call, map_errors=_uncertainty_errors)


@login_required
@require_POST
def record_inspections(request, pk):
    record = _record_or_404(request, pk)
    form = forms.InspectionsForm(request.POST, inspections=list(record.inspections.all()))

    def call():
        services.save_inspections(actor=request.user, record=record, results=form.results())
        messages.success(request, _("Inspection results saved."))

    return _section_post(request, record, "inspections", form, call)


@login_required
@require_POST
def record_conclusion(request, pk):
    record = _record_or_404(request, pk)
    form = forms.ConclusionForm(request.POST, record=record)

    def call():
        data = form.cleaned_data
        services.save_conclusion(
            actor=request.user, record=record, conclusion=data["conclusion"], conclusion_note=data["conclusion_note"],
            adjusted=data["adjusted"], adjustment_notes=data["adjustment_notes"],
        )
        messages.success(request, _("Conclusion saved."))

    return _section_post(request, record, "conclusion", form, call)


# --- read view ---------------------------------------------------------------------------


@dataclass
class Target:
    """A value of a signed record that a correction entry may replace."""

    label: str
    value: Value
    kind: str = "number"  # number | yesno | conclusion | text
    choices: list | None = None


def correctable_values(record: Record, evaluation: Evaluation) -> dict[str, Target]:
    targets = {}
    for label, value, _limits in _environment_rows(record, evaluation):
        targets[value.field] = Target(label, value)
    for phase, rows in evaluation.rows.items():
        for row in rows:
            for slot in row.slots:
                if slot.value is not None:
                    label = (
                        _("%(point)s, %(phase)s, reading %(n)s") % {"point": row.point, "phase": Phase(phase).label, "n": slot.repeat}
                        if record.adjusted else _("%(point)s, reading %(n)s") % {"point": row.point, "n": slot.repeat}
                    )
                    targets[slot.value.field] = Target(label, slot.value)
            where = f"{row.point} ({Phase(phase).label})" if record.adjusted else str(row.point)
            for name, value in (("U", row.U), ("k", row.k)):
                if value is not None:
                    targets[value.field] = Target(f"{where}: {name}", value)
    for inspection, ok, note in evaluation.inspections:
        targets[ok.field] = Target(inspection.item, ok, "yesno", [(c, str(label)) for c, label in forms.MEETS])
        targets[note.field] = Target(_("%(item)s: finding") % {"item": inspection.item}, note, "text")
    targets["conclusion"] = Target(
        _("Conclusion"), evaluation.conclusion, "conclusion",
        [(c, Conclusion(c).label) for c in allowed_conclusions(record.task.service)],
    )
    targets["conclusion_note"] = Target(_("Conclusion remarks"), evaluation.conclusion_note, "text")
    return targets


def _detail_context(request, record: Record, bound: dict | None = None) -> dict:
    bound = bound or {}
    user = request.user
    evaluation = evaluate(record)
    checks = list(record.checks.select_related("checker"))
    is_performer = user == record.performer
    is_checker = user == record.task.checker and not is_performer
    returned = record.status == RecordStatus.RETURNED
    detail_forms = {
        "check": forms.CheckForm(prefix="check", initial={"seen": services.record_version(record)}),
        "return": forms.ReturnForm(prefix="return", initial={"seen": services.record_version(record)}),
        "sign": forms.PasswordForm(prefix="sign"),
    }
    detail_forms.update(bound)
    return {
        "record": record,
        "evaluation": evaluation,
        "instrument": record.instrument,
        "calibration": record.task.service == Service.CALIBRATION,
        "tables": _tables(record, evaluation),
        "repeat_numbers": range(1, record.template.repeats + 1),
        "environment_rows": _environment_rows(record, evaluation),
        "environment_problems": _environment_problems(record),
        "equipment_used": list(record.equipment_used.select_related("added_by")),
        "checks": checks,
        "last_return": next((c for c in reversed(checks) if c.outcome == CheckOutcome.RETURNED), None) if returned else None,
        "corrections": evaluation.corrections,
        "events": list(audit.events_for(record).select_related("target_type").order_by("-at", "-id")[:AUDIT_ROWS]),
        "audit_rows": AUDIT_ROWS,
        "may_correct": services.may_correct(user, record),
        "can_enter": _entry_open(user, record),
        "can_check": is_checker and record.status == RecordStatus.SIGNED,
        "can_sign_again": is_performer and returned,
        "missing": evaluation.missing() if record.status != RecordStatus.DRAFT else [],
        "forms": detail_forms,
    }


def _render_detail(request, record: Record, *, bound: dict | None = None):
    return render(request, "certificates/record_detail.html", _detail_context(request, record, bound))


@login_required
def record_detail(request, pk):
    record = _record_or_404(request, pk)
    return _render_detail(request, record)


# --- signatures --------------------------------------------------------------------------


def _signature_post(request, record: Record, form, call: Callable[[], str], *, shown: bool, render_page: Callable):
    """A signature-like POST: accepted → message and the read view; refused → the errors
    on the form when the page shows it, otherwise as a message."""
    if form.is_valid():
        try:
            done = call()
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
        else:
            messages.success(request, done)
            return redirect(_detail_url(record))
    if not shown:
        errors = [str(m) for field_errors in form.errors.values() for m in field_errors]
        messages.error(request, " ".join(errors) or _("Nothing was changed."))
        return redirect(_detail_url(record))
    messages.error(request, _("Nothing was signed; see the form below."))
    return render_page()


@login_required
@require_POST
def record_sign(request, pk):
    """The performer signs a draft (from the entry page) or a returned record after its
    corrections (from the read view)."""
    record = _record_or_404(request, pk)
    form = forms.PasswordForm(request.POST, prefix="sign")
    on_entry = _entry_open(request.user, record)
    on_detail = request.user == record.performer and record.status == RecordStatus.RETURNED

    def call():
        services.sign_record(actor=request.user, record=record, password=form.cleaned_data["password"])
        return _("Record %(number)s signed; it is locked and goes to %(checker)s for checking.") % {
            "number": record.number, "checker": record.task.checker
        }

    def page():
        if on_entry:
            return _render_entry(request, record, bound={"sign": form})
        return _render_detail(request, record, bound={"sign": form})

    return _signature_post(request, record, form, call, shown=on_entry or on_detail, render_page=page)


def _checker_form_shown(user, record: Record) -> bool:
    return user == record.task.checker and user != record.performer and record.status == RecordStatus.SIGNED


@login_required
@require_POST
def record_check(request, pk):
    record = _record_or_404(request, pk)
    form = forms.CheckForm(request.POST, prefix="check")

    def call():
        services.check_record(
            actor=request.user, record=record, password=form.cleaned_data["password"], seen=form.cleaned_data["seen"] or None
        )
        return _("Record %(number)s checked and signed; the sample is tested.") % {"number": record.number}

    return _signature_post(
        request, record, form, call, shown=_checker_form_shown(request.user, record),
        render_page=lambda: _render_detail(request, record, bound={"check": form}),
    )


@login_required
@require_POST
def record_return(request, pk):
    record = _record_or_404(request, pk)
    form = forms.ReturnForm(request.POST, prefix="return")

    def call():
        services.return_record(
            actor=request.user, record=record, comments=form.cleaned_data["comments"], seen=form.cleaned_data["seen"] or None
        )
        return _("Record %(number)s returned to %(performer)s with your comments.") % {
            "number": record.number, "performer": record.performer
        }

    return _signature_post(
        request, record, form, call, shown=_checker_form_shown(request.user, record),
        render_page=lambda: _render_detail(request, record, bound={"return": form}),
    )


# --- corrections -------------------------------------------------------------------------


@login_required
def record_correct(request, pk):
    """One correction entry (R-REC-3): GET ``?field=…`` shows the value and its history;
    POST ``field``, ``new_value``, ``reason``."""
    record = _record_or_404(request, pk)
    if not record.is_locked:
        messages.error(request, _("Before the performer signs, change the value in the record itself."))
        return redirect(_entry_url(record) if _entry_open(request.user, record) else _detail_url(record))
    if not services.may_correct(request.user, record):
        messages.error(request, _("Only the performer of this record or the technical lead corrects its values."))
        return redirect(_detail_url(record))
    evaluation = evaluate(record)
    field_name = (request.POST if request.method == "POST" else request.GET).get("field", "")
    target = correctable_values(record, evaluation).get(field_name)
    if target is None:
        raise Http404
    if request.method == "POST":
        form = forms.CorrectionForm(request.POST, kind=target.kind, choices=target.choices)
        if form.is_valid():
            try:
                services.correct_value(
                    actor=request.user, record=record, field=field_name,
                    new_value=form.cleaned_data["new_value"], reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error) or _("You may not do this."))
            else:
                messages.success(request, _("Correction entered: %(what)s.") % {"what": target.label})
                return redirect(_detail_url(record, "corrections"))
        messages.error(request, _("Nothing was corrected; see the form below."))
    else:
        form = forms.CorrectionForm(kind=target.kind, choices=target.choices, initial={"field": field_name})
    return render(request, "certificates/record_correct.html", {
        "record": record, "target": target, "form": form,
        "history": [c for c in evaluation.corrections if c.field == field_name],
    })


urlpatterns = [
    path("records/<int:pk>/", record_detail, name="record_detail"),
    path("records/<int:pk>/entry/", record_entry, name="record_entry"),
    path("records/<int:pk>/environment/", record_environment, name="record_environment"),
    path("records/<int:pk>/equipment/", record_equipment_add, name="record_equipment_add"),
    path("records/<int:pk>/equipment/<int:entry>/remove/", record_equipment_remove, name="record_equipment_remove"),
    path("records/<int:pk>/readings/", record_readings, name="record_readings"),
    path("records/<int:pk>/uncertainty/", record_uncertainty, name="record_uncertainty"),
    path("records/<int:pk>/inspections/", record_inspections, name="record_inspections"),
    path("records/<int:pk>/conclusion/", record_conclusion, name="record_conclusion"),
    path("records/<int:pk>/sign/", record_sign, name="record_sign"),
    path("records/<int:pk>/check/", record_check, name="record_check"),
    path("records/<int:pk>/return/", record_return, name="record_return"),
    path("records/<int:pk>/correct/", record_correct, name="record_correct"),
]
