"""Forms for the equipment page and its actions: status, attachments, calibrations and
their confirmation, correction factors, intermediate checks, the log, check-out and
return.  They parse input only; ``equipment.services`` enforce every rule (R-EQP-2..8,
R-ONS-2, R-ONS-5), so a refusal comes back from the service and shows on the form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from equipment.models import (
    CalibrationResult,
    CheckOutPurpose,
    ConfirmationConclusion,
    CriterionKind,
    EquipmentStatus,
    LogKind,
    StopReason,
)
from intake.models import OnSiteVisit, VisitStatus
from labqms.forms import DATE, BootstrapMixin

# Off site is reached only through a check-out, never by choosing it.
CHOOSABLE_STATUSES = [(value, label) for value, label in EquipmentStatus.choices if value != EquipmentStatus.OFF_SITE]


class StatusForm(BootstrapMixin, forms.Form):
    """Change the status (R-EQP-4).  Any status may be submitted so that the service can
    say why a move is refused; the select only offers the moves the page computed."""

    status = forms.ChoiceField(label=_("New status"), choices=CHOOSABLE_STATUSES)
    reason = forms.ChoiceField(
        label=_("Reason (out of service)"), required=False, choices=[("", "—")] + list(StopReason.choices)
    )
    note = forms.CharField(
        label=_("Limitation / note"),
        required=False,
        max_length=300,
        help_text=_("Required for restricted use: state the limitation."),
    )

    def __init__(self, *args, offered=None, **kwargs):
        super().__init__(*args, **kwargs)
        if offered is not None:
            # Validation keeps every status; only the widget narrows what is shown.
            self.fields["status"].widget.choices = offered


class AttachmentForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, PNG or JPEG, at most 10 MB."),
        widget=forms.FileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )


class CalibrationForm(BootstrapMixin, forms.Form):
    """An external verification/calibration.  An empty "next due" means: calibration
    date + the equipment's interval; a date typed in is the one the provider stated."""

    provider = forms.CharField(label=_("Provider (calibrating body)"), max_length=200)
    certificate_no = forms.CharField(label=_("Certificate number"), max_length=100)
    calibrated_on = forms.DateField(label=_("Calibration date"), widget=DATE)
    result = forms.ChoiceField(label=_("Result"), choices=[("", "—")] + list(CalibrationResult.choices))
    next_due = forms.DateField(
        label=_("Next due (stated by the provider)"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty to use the calibration date plus the equipment's interval."),
    )
    certificate_file = forms.FileField(
        label=_("Certificate (PDF or image)"),
        required=False,
        help_text=_("PDF, PNG or JPEG, at most 10 MB."),
        widget=forms.FileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    adjusted = forms.BooleanField(label=_("Adjusted by the provider"), required=False)
    adjustment_notes = forms.CharField(
        label=_("Adjustments (before and after)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ConfirmForm(BootstrapMixin, forms.Form):
    """Metrological confirmation (计量确认) of one calibration."""

    conclusion = forms.ChoiceField(
        label=_("Conclusion"), choices=[("", "—")] + list(ConfirmationConclusion.choices)
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required unless it is fit for use."),
    )


class CorrectionHeaderForm(BootstrapMixin, forms.Form):
    unit = forms.CharField(label=_("Unit of measurement"), max_length=30)


class CorrectionPointForm(BootstrapMixin, forms.Form):
    """One row of the correction table; a completely blank row is ignored."""

    nominal = forms.CharField(label=_("Nominal value"), required=False, max_length=40)
    correction = forms.CharField(label=_("Correction"), required=False, max_length=40)

    def clean(self):
        data = super().clean()
        nominal, correction = data.get("nominal", "").strip(), data.get("correction", "").strip()
        if nominal and not correction:
            self.add_error("correction", _("Enter the correction for this nominal value."))
        elif correction and not nominal:
            self.add_error("nominal", _("Enter the nominal value for this correction."))
        return data

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not (data.get("nominal", "").strip() or data.get("correction", "").strip())


CorrectionPointFormSet = forms.formset_factory(CorrectionPointForm, extra=3, max_num=500, absolute_max=500)


class MaintenancePlanForm(BootstrapMixin, forms.Form):
    """A maintenance task of the maintenance plan (R-EQP-2)."""

    task = forms.CharField(label=_("Task"), max_length=300)
    interval_months = forms.IntegerField(label=_("Every (months)"))


class CheckPlanForm(BootstrapMixin, forms.Form):
    """An intermediate check plan (期间核查计划, R-EQP-7)."""

    interval_months = forms.IntegerField(label=_("Every (months)"))
    method = forms.CharField(label=_("Check method"), widget=forms.Textarea(attrs={"rows": 2}))
    criterion = forms.ChoiceField(label=_("Acceptance criterion"), choices=CriterionKind.choices)
    tolerance = forms.DecimalField(
        label=_("Tolerance"), required=False, max_digits=14, decimal_places=6,
        help_text=_("For the tolerance criterion: the largest allowed |measured − reference|."),
    )
    unit = forms.CharField(label=_("Unit of measurement"), required=False, max_length=30)
    first_due = forms.DateField(
        label=_("First check due"), required=False, widget=DATE,
        help_text=_("Leave empty: today plus the interval."),
    )


class CheckForm(BootstrapMixin, forms.Form):
    """One intermediate check record; the service scores it (En or deviation)."""

    checked_on = forms.DateField(label=_("Checked on"), widget=DATE)
    measured = forms.DecimalField(label=_("Measured value"), max_digits=18, decimal_places=8)
    reference = forms.DecimalField(label=_("Reference value"), max_digits=18, decimal_places=8)
    u_measured = forms.DecimalField(
        label=_("U of the lab"), required=False, max_digits=18, decimal_places=8,
        help_text=_("Expanded uncertainty; needed for the En criterion."),
    )
    u_reference = forms.DecimalField(
        label=_("U of the reference"), required=False, max_digits=18, decimal_places=8,
        help_text=_("Expanded uncertainty; needed for the En criterion."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LogForm(BootstrapMixin, forms.Form):
    """Maintenance done, or damage / malfunction / modification / repair."""

    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—")] + list(LogKind.choices))
    plan = forms.ModelChoiceField(
        label=_("Maintenance plan"), required=False, queryset=None, empty_label=_("none")
    )
    occurred_on = forms.DateField(label=_("Date"), widget=DATE)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}))
    action_taken = forms.CharField(label=_("Action taken"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, equipment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = equipment.maintenance_plans.all()


class CheckOutForm(BootstrapMixin, forms.Form):
    """The check before leaving (R-ONS-2): purpose, destination, condition, packing."""

    purpose = forms.ChoiceField(label=_("Purpose"), choices=[("", "—")] + list(CheckOutPurpose.choices))
    visit = forms.ModelChoiceField(
        label=_("On-site visit"),
        required=False,
        queryset=OnSiteVisit.objects.none(),
        empty_label=_("none"),
        help_text=_("For on-site work: the visit the equipment goes to."),
    )
    destination = forms.CharField(
        label=_("Destination"), required=False, max_length=300,
        help_text=_("Leave empty to use the visit's site address."),
    )
    condition_ok = forms.BooleanField(label=_("Checked and in good condition before leaving"), required=False)
    packed_ok = forms.BooleanField(label=_("Packed against shock, heat and humidity"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = (
            OnSiteVisit.objects.filter(status__in=[VisitStatus.PLANNED, VisitStatus.SITE_CONFIRMED])
            .select_related("order")
            .order_by("planned_date", "id")
        )
        self.fields["visit"].label_from_instance = lambda v: f"{v.order.number} · {v.planned_date:%Y-%m-%d} · {v.site_address}"

    def clean(self):
        data = super().clean()
        visit = data.get("visit")
        if visit is not None and not data.get("destination", "").strip():
            data["destination"] = visit.site_address
        return data


class ReturnForm(BootstrapMixin, forms.Form):
    """The return check (R-EQP-6, R-ONS-5)."""

    count_ok = forms.BooleanField(label=_("Complete (counted)"), required=False)
    function_ok = forms.BooleanField(label=_("Function check passed"), required=False)
    calibration_ok = forms.BooleanField(label=_("Calibration status checked and valid"), required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when any check failed."),
    )
