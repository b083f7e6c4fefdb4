"""Forms of the original record: one per section of the entry page (environment,
equipment, readings, uncertainty, inspections, conclusion, signature), the checker's
forms and the correction form.

They parse what the technician typed and keep it as typed; ``certificates.services.
records`` decides (limits, the equipment gate, resolution, the two-person rule), and a
refusal comes back from the service onto these forms.  Inputs are large and ask tablets
for the decimal keypad (R-ONS-3: records are made on site)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certificates.evaluation import allowed_conclusions, decimal_text
from certificates.models import Conclusion, Phase, Record
from certificates.services.records import slot_key, uncertainty_key
from equipment.models import Equipment, EquipmentStatus


def decimal_input(**attrs) -> forms.TextInput:
    """A text input that opens the decimal keypad on a tablet; text, not type=number,
    so what was typed (and refused) comes back exactly as typed."""
    return forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off", "class": "form-control form-control-lg", **attrs}
    )


def _large(form: forms.Form) -> None:
    """Large, touch-friendly Bootstrap widgets for every field without its own class."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.RadioSelect):
            continue
        elif isinstance(widget, forms.Select):
            css = "form-select form-select-lg"
        else:
            css = "form-control form-control-lg"
        widget.attrs.setdefault("class", css)


class DecimalText(forms.DecimalField):
    """A decimal as the instruments show it; a comma is refused rather than guessed at
    (decimal comma or thousands separator?), like readings (certificates.calc)."""

    def to_python(self, value):
        if isinstance(value, str) and ("," in value or "，" in value):
            raise forms.ValidationError(gettext("“%(text)s”: use a decimal point, not a comma.") % {"text": value})
        if isinstance(value, str):
            value = value.strip().replace("．", ".")
        return super().to_python(value)


def limits_text(low, high, unit: str) -> str:
    if low is None and high is None:
        return ""
    return gettext("limits: %(low)s – %(high)s %(unit)s") % {
        "low": decimal_text(_as_decimal(low)) or "…", "high": decimal_text(_as_decimal(high)) or "…", "unit": unit,
    }


def _as_decimal(value) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    return Decimal(str(value))


class EnvironmentForm(forms.Form):
    """Temperature, relative humidity and the template's other conditions, with the
    method's limits as help text (R-TST-2)."""

    temperature = DecimalText(
        label=_("Temperature (℃)"), required=False, max_digits=5, decimal_places=1, widget=decimal_input()
    )
    humidity = DecimalText(
        label=_("Relative humidity (%)"), required=False, max_digits=5, decimal_places=1, widget=decimal_input()
    )

    def __init__(self, *args, record: Record, **kwargs):
        template = record.template
        self.conditions = list(template.other_conditions)
        initial = kwargs.pop("initial", None) or {
            "temperature": record.temperature,
            "humidity": record.humidity,
            **{
                f"other_{i}": record.other_conditions.get(c.get("name", ""), "")
                for i, c in enumerate(self.conditions)
            },
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["temperature"].help_text = limits_text(template.temperature_min, template.temperature_max, "℃")
        self.fields["humidity"].help_text = limits_text(template.humidity_min, template.humidity_max, "%")
        for i, condition in enumerate(self.conditions):
            unit = condition.get("unit", "")
            self.fields[f"other_{i}"] = DecimalText(
                label=f"{condition.get('name', '')} ({unit})" if unit else condition.get("name", ""),
                required=False, max_digits=14, decimal_places=6, widget=decimal_input(),
                help_text=limits_text(condition.get("min"), condition.get("max"), unit),
            )

    def others(self) -> dict:
        """Condition name → value (None when left empty)."""
        return {c.get("name", ""): self.cleaned_data.get(f"other_{i}") for i, c in enumerate(self.conditions)}


class EquipmentChoice(forms.ModelChoiceField):
    def __init__(self, *args, on, **kwargs):
        self.on = on
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Equipment) -> str:
        due = obj.calibration_due.isoformat() if obj.calibration_due else "—"
        parts = [f"{obj.lab_id} {obj.name}", obj.get_status_display(), gettext("due %(date)s") % {"date": due}]
        if obj.is_overdue(self.on):
            parts.append(gettext("overdue"))
        return " · ".join(parts)


class EquipmentAddForm(forms.Form):
    """Every registered, not retired piece of equipment is offered, so that the gate can
    say why one may not be used (R-EQP-10) instead of it silently missing."""

    equipment = EquipmentChoice(
        label=_("Equipment"), queryset=Equipment.objects.none(), on=None, empty_label=_("Choose equipment…"),
    )

    def __init__(self, *args, record: Record, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["equipment"]
        field.on = record.measured_on
        field.queryset = (
            Equipment.objects.exclude(status=EquipmentStatus.RETIRED)
            .exclude(record_uses__record=record)
            .order_by("lab_id")
        )
        _large(self)


class ReadingsForm(forms.Form):
    """One text field per slot, named ``slot_key(point, phase, repeat)``; kept as typed
    (the service parses and judges every value)."""

    def __init__(self, *args, record: Record, points, **kwargs):
        super().__init__(*args, **kwargs)
        repeats = record.template.repeats
        self.keys = []
        for phase in record.phases:
            for point in points:
                for repeat in range(1, repeats + 1):
                    key = slot_key(point.pk, phase, repeat)
                    self.keys.append(key)
                    self.fields[key] = forms.CharField(
                        label=gettext("%(point)s, %(phase)s, reading %(n)s")
                        % {"point": point, "phase": Phase(phase).label, "n": repeat},
                        required=False, max_length=30, strip=True,
                        widget=decimal_input(**{"class": "form-control form-control-lg reading-input text-end"}),
                    )

    def entries(self) -> dict[str, str]:
        """Only the slots the page sent: a slot not on the page is left as it is."""
        return {key: self.cleaned_data.get(key, "") for key in self.keys if key in self.data}


class UncertaintyForm(forms.Form):
    """Expanded uncertainty U and coverage factor k per point and phase (calibration)."""

    def __init__(self, *args, record: Record, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = []
        for phase in record.phases:
            for point in points:
                key = uncertainty_key(point.pk, phase)
                self.keys.append(key)
                label = f"{point} ({Phase(phase).label})"
                self.fields[f"{key}-U"] = forms.CharField(
                    label=gettext("%(point)s: U") % {"point": label}, required=False, max_length=30,
                    widget=decimal_input(**{"class": "form-control form-control-lg text-end"}),
                )
                self.fields[f"{key}-k"] = forms.CharField(
                    label=gettext("%(point)s: k") % {"point": label}, required=False, max_length=10,
                    widget=decimal_input(**{"class": "form-control form-control-lg text-end"}),
                )

    def entries(self) -> dict[str, tuple[str, str]]:
        return {key: (self.cleaned_data.get(f"{key}-U", ""), self.cleaned_data.get(f"{key}-k", "")) for key in self.keys}


MEETS = [("yes", _("Meets")), ("no", _("Does not meet"))]


class InspectionsForm(forms.Form):
    """Each inspection item: meets / does not meet, and the finding (required by the
    service when not met).  Fields ``inspection-<position>`` and ``note-<position>``."""

    def __init__(self, *args, inspections, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(inspections)
        for inspection in self.items:
            self.fields[f"inspection-{inspection.position}"] = forms.ChoiceField(
                label=inspection.item, choices=MEETS, required=False,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
            )
            self.fields[f"note-{inspection.position}"] = forms.CharField(
                label=_("Finding"), required=False, max_length=300,
                widget=forms.TextInput(attrs={"class": "form-control form-control-lg", "autocomplete": "off"}),
            )

    def results(self) -> dict[int, tuple[bool | None, str]]:
        out = {}
        for inspection in self.items:
            ok = self.cleaned_data.get(f"inspection-{inspection.position}", "")
            out[inspection.position] = ({"yes": True, "no": False}.get(ok), self.cleaned_data.get(f"note-{inspection.position}", ""))
        return out

    @staticmethod
    def initial_for(inspections) -> dict:
        initial = {}
        for inspection in inspections:
            initial[f"inspection-{inspection.position}"] = "" if inspection.ok is None else ("yes" if inspection.ok else "no")
            initial[f"note-{inspection.position}"] = inspection.note
        return initial


class ConclusionForm(forms.Form):
    """Adjusted or repaired (then readings before and after, R-CRT-2), the conclusion
    this service allows, and remarks."""

    adjusted = forms.BooleanField(
        label=_("The instrument was adjusted or repaired"), required=False,
        help_text=_("Readings are then taken before and after the adjustment (R-CRT-2)."),
    )
    adjustment_notes = forms.CharField(
        label=_("Adjustment or repair"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    conclusion = forms.ChoiceField(label=_("Conclusion"), required=False)
    conclusion_note = forms.CharField(label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, record: Record, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conclusion"].choices = [("", "—")] + [
            (c, Conclusion(c).label) for c in allowed_conclusions(record.task.service)
        ]
        _large(self)


class PasswordForm(forms.Form):
    """A signature: the signer types the password again at the moment of signing."""

    password = forms.CharField(
        label=_("Your password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"class": "form-control form-control-lg", "autocomplete": "current-password"}),
    )


class CheckForm(PasswordForm):
    """The checker's signature, bound to the version of the record the checker read."""

    seen = forms.CharField(required=False, widget=forms.HiddenInput)


class ReturnForm(forms.Form):
    seen = forms.CharField(required=False, widget=forms.HiddenInput)
    comments = forms.CharField(
        label=_("What needs correcting"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class CorrectionForm(forms.Form):
    """A correction entry (R-REC-3): the value it replaces (``field``), the new value and
    why.  ``choices`` turns the new value into a choice (inspection, conclusion)."""

    field = forms.CharField(widget=forms.HiddenInput)
    new_value = forms.CharField(label=_("New value"), required=False, max_length=300)
    reason = forms.CharField(
        label=_("Reason for the correction"), required=False, max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control form-control-lg", "required": True}),
    )

    def __init__(self, *args, kind: str = "number", choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["new_value"]
        if choices:
            field.widget = forms.Select(choices=[("", "—"), *choices], attrs={"class": "form-select form-select-lg"})
        elif kind == "number":
            field.widget = decimal_input()
        else:
            field.widget = forms.TextInput(attrs={"class": "form-control form-control-lg"})
