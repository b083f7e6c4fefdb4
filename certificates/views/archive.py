"""The records archive: the list of original records (search, filters, paging), the
printable record for the archive (R-REC-1, R-REC-3: corrected values printed with the old
value struck through) and disposal after the retention period (R-REC-4).

Everyone with ``records.view`` reads; only the lab head disposes, and
``certificates.services.records.dispose_record`` refuses anything before ``keep_until``.
The list issues a fixed number of queries however many rows it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_POST

from certificates.evaluation import Value, decimal_text, evaluate
from certificates.models import Conclusion, Method, Phase, Record, RecordStatus
from certificates.services import records as record_services
from intake.models import InstrumentCategory
from intake.selectors import few_or_subquery, sample_match
from labqms import export, pdf, permissions
from labqms.forms import DATE, BootstrapMixin, ReasonForm
from labqms.models import User
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page

SORTS = {
    "-measured": ("-measured_on", "-number"),
    "measured": ("measured_on", "number"),
    "-number": ("-number",),
    "number": ("number",),
    "keep_until": ("keep_until", "number"),
    "-keep_until": ("-keep_until", "number"),
}
DEFAULT_SORT = "-measured"


class RecordFilterForm(BootstrapMixin, forms.Form):
    """The archive's search bar.  Every field is optional; a bad value is reported and
    that filter is left out."""

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": gettext_lazy("record number, sample ID, serial number, order number, customer"),
                "type": "search",
            }
        ),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Record status"),
        required=False,
        choices=[("", gettext_lazy("any status"))] + list(RecordStatus.choices),
    )
    performer = forms.ModelChoiceField(
        label=gettext_lazy("Performer"), required=False, queryset=User.objects.none(), empty_label=gettext_lazy("anyone")
    )
    checker = forms.ModelChoiceField(
        label=gettext_lazy("Checker"), required=False, queryset=User.objects.none(), empty_label=gettext_lazy("anyone")
    )
    method = forms.ChoiceField(label=pgettext_lazy("measurement method", "Method"), required=False)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Instrument category"),
        required=False,
        queryset=InstrumentCategory.objects.all(),
        empty_label=gettext_lazy("any category"),
    )
    measured_from = forms.DateField(label=gettext_lazy("Measured from"), required=False, widget=DATE)
    measured_to = forms.DateField(label=gettext_lazy("Measured until"), required=False, widget=DATE)
    past_retention = forms.BooleanField(label=gettext_lazy("Past the retention period"), required=False)
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=[
            ("-measured", gettext_lazy("measurement date, newest first")),
            ("measured", gettext_lazy("measurement date, oldest first")),
            ("-number", gettext_lazy("record number, descending")),
            ("number", gettext_lazy("record number, ascending")),
            ("keep_until", gettext_lazy("keep until, soonest first")),
            ("-keep_until", gettext_lazy("keep until, latest first")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.order_by("full_name", "username")
        # Per person "has a record" (an index probe each), not "is among all records' people"
        # (a read of every record).  A checked record names its checker itself; the task's
        # checker matters only for records not checked yet (few, found by status).
        self.fields["performer"].queryset = people.filter(Exists(Record.objects.filter(performer=OuterRef("pk"))))
        unchecked = [s for s in RecordStatus.values if s != RecordStatus.CHECKED]
        self.fields["checker"].queryset = people.filter(
            Exists(Record.objects.filter(checker=OuterRef("pk")))
            | Exists(Record.objects.filter(status__in=unchecked, task__checker=OuterRef("pk")))
        )
        codes = Method.objects.order_by("code").values_list("code", flat=True).distinct()
        self.fields["method"].choices = [("", _("any method"))] + [(code, code) for code in codes]

    def clean(self):
        data = super().clean()
        start, end = data.get("measured_from"), data.get("measured_to")
        if start and end and start > end:
            # Neither date is used: half of a reversed range would filter nonsense.
            data.pop("measured_from", None)
            self.add_error(
                "measured_to",
                _("The end date %(end)s is before the start date %(start)s.")
                % {"end": end.isoformat(), "start": start.isoformat()},
            )
        return data

    def filters(self) -> dict:
        """The valid part of the input."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})


def records_for_list(data: dict, *, today):
    """The filtered, sorted records with everything a row shows joined: one query."""
    records = Record.objects.select_related(
        "sample__item__category", "sample__order__customer", "method", "performer", "checker", "task__checker"
    )
    if q := (data.get("q") or "").strip():
        # One indexed search per column, united (see intake.selectors.sample_match).
        ids = Record.objects.order_by().values_list("pk", flat=True)
        records = records.filter(
            pk__in=few_or_subquery(ids.filter(number__icontains=q).union(ids.filter(sample_match(q, "sample__"))))
        )
    if data.get("status"):
        records = records.filter(status=data["status"])
    if data.get("performer"):
        records = records.filter(performer=data["performer"])
    if data.get("checker"):
        records = records.filter(Q(task__checker=data["checker"]) | Q(checker=data["checker"]))
    if data.get("method"):
        records = records.filter(method__code=data["method"])
    if data.get("category"):
        records = records.filter(sample__item__category=data["category"])
    if data.get("measured_from"):
        records = records.filter(measured_on__gte=data["measured_from"])
    if data.get("measured_to"):
        records = records.filter(measured_on__lte=data["measured_to"])
    if data.get("past_retention"):
        records = records.filter(keep_until__lt=today)
    return records.order_by(*SORTS.get(data.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT]))


@login_required
def record_list(request):
    permissions.require_or_404(request.user, "records.view")
    today = timezone.localdate()
    form = RecordFilterForm(request.GET)
    records = records_for_list(form.filters(), today=today)
    if export.requested(request):
        return export.response(request, records, _record_columns(), name="records", title=_("Original records"))
    page = Paginator(records, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/record_list.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "querystring": querystring_without_page(request),
            "can_dispose": permissions.can(request.user, "records.dispose"),
        },
    )


def _record_columns() -> list[export.Column]:
    def instrument(record, key, fallback):
        return (record.instrument or {}).get(key) or fallback

    return [
        export.Column(_("Record number"), lambda r: r.number, 18),
        export.Column(_("Sample ID"), lambda r: r.sample.sample_id, 18),
        export.Column(_("Order"), lambda r: r.sample.order.number, 18),
        export.Column(_("Customer"), lambda r: r.sample.order.customer.name, 28),
        export.Column(_("Instrument"), lambda r: instrument(r, "name", r.sample.item.instrument_name), 20),
        export.Column(_("Model"), lambda r: instrument(r, "model", ""), 12),
        export.Column(_("Serial number"), lambda r: instrument(r, "serial_number", r.sample.serial_number), 14),
        export.Column(pgettext("measurement method", "Method"), lambda r: r.method.full_code, 16),
        export.Column(_("Performer"), lambda r: r.performer, 12),
        export.Column(_("Checker"), lambda r: r.checker or r.task.checker, 12),
        export.Column(_("Status"), lambda r: r.get_status_display(), 10),
        export.field(Record, "conclusion", width=12),
        export.Column(_("Measured on"), lambda r: r.measured_on, 12),
        export.Column(_("Keep until"), lambda r: r.keep_until, 12),
    ]


# --- the printable record (R-REC-1, R-REC-3) ----------------------------------------------


def shown(value: Value | None, label=None) -> SafeString:
    """A value as printed: every value it had before struck through, then the current one
    (R-REC-3).  ``label`` turns stored codes ("yes", "pass") into words."""
    if value is None:
        return format_html("{}", "")
    label = label or (lambda text: text)
    chain = [value.original] + [c.new_value for c in value.corrections]
    old = format_html_join(" ", '<del class="old">{}</del>', ((label(text) or "—",) for text in chain[:-1]))
    current = label(chain[-1])
    if not value.corrections:
        return format_html("{}", current)
    return format_html('{} <span class="new">{}</span>', old, current or "—")


def _yes_no(text: str) -> str:
    return {"yes": _("meets requirements"), "no": _("does not meet requirements")}.get(text, text)


def _conclusion(text: str) -> str:
    return Conclusion(text).label if text in Conclusion.values else text


@dataclass
class PrintedRow:
    point: str
    nominal: str
    readings: list[SafeString]
    mean: str
    error: str
    mpe: str
    conforms: bool | None
    U: SafeString
    k: SafeString


def _printed_rows(evaluation) -> list[tuple[str, list[PrintedRow]]]:
    phases = []
    for phase, rows in evaluation.rows.items():
        printed = [
            PrintedRow(
                point=str(row.point),
                nominal=decimal_text(row.point.nominal),
                readings=[shown(slot.value) for slot in row.slots],
                mean=decimal_text(row.result.mean),
                error=decimal_text(row.result.error),
                mpe=decimal_text(row.result.mpe),
                conforms=row.result.conforms,
                U=shown(row.U),
                k=shown(row.k),
            )
            for row in rows
        ]
        phases.append((Phase(phase).label, printed))
    return phases


def _environment(record: Record, evaluation) -> list[tuple[str, SafeString, str]]:
    """(condition, value as printed, unit)."""
    units = {c.get("name", ""): c.get("unit", "") for c in record.template.other_conditions}
    rows = []
    for key, value in evaluation.environment.items():
        if key == "temperature":
            rows.append((_("Temperature"), shown(value), "℃"))
        elif key == "humidity":
            rows.append((_("Relative humidity"), shown(value), "%"))
        else:
            name = key.split(":", 1)[1]
            rows.append((name, shown(value), units.get(name, "")))
    return rows


def record_pdf_context(record: Record) -> dict:
    evaluation = evaluate(record)
    return {
        "record": record,
        "instrument": record.instrument,
        "evaluation": evaluation,
        "phases": _printed_rows(evaluation),
        "repeat_numbers": range(1, record.template.repeats + 1),
        "resolution": decimal_text(record.template.resolution),
        "has_uncertainty": any(row.U is not None for rows in evaluation.rows.values() for row in rows),
        "environment": _environment(record, evaluation),
        "inspections": [(i.item, shown(ok, _yes_no), shown(note)) for i, ok, note in evaluation.inspections],
        "conclusion": shown(evaluation.conclusion, _conclusion),
        "conclusion_note": shown(evaluation.conclusion_note),
        "equipment": list(record.equipment_used.select_related("equipment").order_by("id")),
        "checks": list(record.checks.select_related("checker")),
        "corrections": evaluation.corrections,
        "is_draft": record.status == RecordStatus.DRAFT,
        "lab_name": pdf.lab_name(),
        "today": timezone.localdate(),
    }


@login_required
def record_pdf(request, pk):
    """The original record as printed for the archive (R-REC-4), values and results from
    ``evaluate``; a record not signed yet carries a "draft" watermark."""
    permissions.require_or_404(request.user, "records.view")
    record = get_object_or_404(
        Record.objects.select_related(
            "task__checker", "sample__item__category", "sample__order__customer", "method", "template", "performer",
            "checker",
        ),
        pk=pk,
    )
    return pdf.pdf_response(
        "pdf/certificates/record.html", record_pdf_context(record), request=request, filename=f"{record.number}.pdf"
    )


# --- disposal after the retention period (R-REC-4) -----------------------------------------


@login_required
@require_POST
def record_dispose(request, pk):
    """The lab head destroys a record whose retention period has passed; the service
    refuses earlier disposal ("must be kept until …") and nothing is deleted."""
    permissions.require_or_404(request.user, "records.view")
    record = get_object_or_404(Record, pk=pk)
    back = reverse("certificates:record_list")
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why and how the record is disposed of."))
        record_services.dispose_record(actor=request.user, record=record, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("Only the lab head disposes of records."))
    else:
        messages.success(request, _("Record %(number)s was disposed of.") % {"number": record.number})
    return redirect(back)


urlpatterns = [
    path("records/", record_list, name="record_list"),
    path("records/<int:pk>/pdf/", record_pdf, name="record_pdf"),
    path("records/<int:pk>/dispose/", record_dispose, name="record_dispose"),
]
