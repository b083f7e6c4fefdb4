"""Forms for the method editions and record templates (R-TST-3).

They parse what the technical lead typed; ``certificates.services.methods`` decides
whether it may be saved (permission, edition status, template limits).  The model forms
are never ``save()``d: views pass ``cleaned_data`` to the service.  Measurement points
and other environmental conditions are formsets whose rows may be left blank (blank rows
are ignored), so the page works with or without static/certificates/template_form.js."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certificates.evaluation import decimal_text
from certificates.models import Method, MethodKind, MethodStatus, RecordTemplate, ToleranceKind
from intake.models import InstrumentCategory
from labqms.forms import DATE, BootstrapMixin

DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


class CategoryChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.name}"


# --- the method list -------------------------------------------------------------------


class MethodFilterForm(BootstrapMixin, forms.Form):
    SORTS = {
        "code": ("code", "-edition"),
        "-effective_on": ("-effective_on", "code"),
        "effective_on": ("effective_on", "code"),
        "status": ("status", "code", "-edition"),
        "-created_at": ("-created_at", "-id"),
    }
    SORT_CHOICES = [
        ("code", _("code, newest edition first")),
        ("-effective_on", _("effective date, latest first")),
        ("effective_on", _("effective date, earliest first")),
        ("status", _("edition status")),
        ("-created_at", _("recently registered first")),
    ]

    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"placeholder": _("code, edition or title")}),
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("any kind")), *MethodKind.choices])
    status = forms.ChoiceField(
        label=_("Edition status"), required=False, choices=[("", _("any status")), *MethodStatus.choices]
    )
    category = forms.ModelChoiceField(
        label=_("Instrument category"), required=False, queryset=InstrumentCategory.objects.order_by("code"),
        empty_label=_("any category"),
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def filter(self, queryset):
        """The valid part of the input applied to ``queryset`` (bad values: no filter)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        q = (data.get("q") or "").strip()
        if q:
            match = Q(code__icontains=q) | Q(title__icontains=q) | Q(edition__icontains=q)
            if "-" in q:  # "JJG 692-2010", as the code is written on certificates
                code, edition = q.rsplit("-", 1)
                match |= Q(code__iexact=" ".join(code.split()), edition__startswith=edition.strip())
            queryset = queryset.filter(match)
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("category"):
            queryset = queryset.filter(categories=data["category"])
        return queryset.order_by(*self.SORTS.get(data.get("sort") or "code", self.SORTS["code"]))


# --- a method edition -------------------------------------------------------------------


class MethodForm(forms.ModelForm):
    categories = CategoryChoices(
        label=_("Applicable categories"), required=False, queryset=InstrumentCategory.objects.order_by("code"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several.  Needed before approval."),
    )

    class Meta:
        model = Method
        fields = ["code", "edition", "title", "kind", "effective_on", "notes"]
        widgets = {"effective_on": DATE, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "categories" not in self.initial:
            self.initial["categories"] = list(self.instance.categories.all())

    def method_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "categories"}


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the method is withdrawn.")},
    )


# --- a record template ---------------------------------------------------------------------


def _plain_initial(form: forms.BaseForm) -> None:
    """Decimals from the database (``100.000000``) shown as typed (``100``)."""
    for key, value in list(form.initial.items()):
        if isinstance(value, Decimal):
            form.initial[key] = decimal_text(value)


class TemplateForm(forms.ModelForm):
    inspection_items = forms.CharField(
        label=_("Inspection items"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One visual or functional check per line, in the order of the record."),
    )

    class Meta:
        model = RecordTemplate
        fields = [
            "name", "quantity", "unit", "repeats", "resolution", "range_low", "range_high",
            "temperature_min", "temperature_max", "humidity_min", "humidity_max",
            "default_coverage_factor", "notes",
        ]
        # The model's "unit" shares its msgid with the sample's unit number (台件序号).
        labels = {"unit": _("Unit of measurement")}
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 2}),
            **{
                name: forms.TextInput(attrs=DECIMAL_INPUT)
                for name in (
                    "resolution", "range_low", "range_high", "temperature_min", "temperature_max",
                    "humidity_min", "humidity_max", "default_coverage_factor",
                )
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "inspection_items" not in self.initial:
            self.initial["inspection_items"] = "\n".join(self.instance.inspection_items or [])
        elif isinstance(self.initial.get("inspection_items"), list):
            self.initial["inspection_items"] = "\n".join(self.initial["inspection_items"])
        _plain_initial(self)

    def clean_inspection_items(self) -> list[str]:
        lines = (self.cleaned_data.get("inspection_items") or "").splitlines()
        return [line.strip() for line in lines if line.strip()]


class _RowForm(BootstrapMixin, forms.Form):
    """A formset row that may be left entirely blank (then it is ignored)."""

    content_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _plain_initial(self)
        for field in self.fields.values():  # the table's heading labels the column
            field.widget.attrs.setdefault("aria-label", str(field.label))

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return all(data.get(name) in (None, "") for name in self.content_fields)

    def has_changed(self) -> bool:
        # A blank extra row is skipped by the formset; so is one whose only value is the
        # pre-selected tolerance kind.
        return any(self[name].value() not in (None, "") for name in self.content_fields)


class PointForm(_RowForm):
    content_fields = ("label", "nominal", "tolerance", "default_uncertainty")

    label = forms.CharField(label=_("Point label"), required=False, max_length=100)
    nominal = forms.DecimalField(
        label=_("Nominal value"), required=False, max_digits=14, decimal_places=6,
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )
    tolerance_kind = forms.ChoiceField(
        label=_("Tolerance kind"), choices=ToleranceKind.choices, initial=ToleranceKind.ABSOLUTE
    )
    tolerance = forms.DecimalField(
        label=_("Maximum permissible error"), required=False, max_digits=14, decimal_places=6, min_value=0,
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )
    default_uncertainty = forms.DecimalField(
        label=_("Default U"), required=False, max_digits=14, decimal_places=6, min_value=0,
        widget=forms.TextInput(attrs=DECIMAL_INPUT),
    )

    def clean(self):
        data = super().clean()
        if not self.is_blank and data.get("nominal") is None and "nominal" not in self.errors:
            self.add_error("nominal", _("Enter the nominal value of this point."))
        return data

    def point(self) -> dict:
        data = self.cleaned_data
        return {
            "label": data.get("label") or "",
            "nominal": data["nominal"],
            "tolerance_kind": data.get("tolerance_kind") or ToleranceKind.ABSOLUTE,
            "tolerance": data.get("tolerance"),
            "default_uncertainty": data.get("default_uncertainty"),
        }


class ConditionForm(_RowForm):
    content_fields = ("name", "unit", "min", "max")

    name = forms.CharField(label=_("Condition"), required=False, max_length=60)
    unit = forms.CharField(label=_("Unit of measurement"), required=False, max_length=20)
    min = forms.DecimalField(
        label=_("Min"), required=False, max_digits=14, decimal_places=6, widget=forms.TextInput(attrs=DECIMAL_INPUT)
    )
    max = forms.DecimalField(
        label=_("Max"), required=False, max_digits=14, decimal_places=6, widget=forms.TextInput(attrs=DECIMAL_INPUT)
    )

    def clean(self):
        data = super().clean()
        if self.is_blank:
            return data
        if not (data.get("name") or "").strip() and "name" not in self.errors:
            self.add_error("name", _("Name the condition."))
        low, high = data.get("min"), data.get("max")
        if low is not None and high is not None and high < low:
            self.add_error("max", _("The upper limit is below the lower limit."))
        return data

    def condition(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "unit": (data.get("unit") or "").strip(),
            "min": decimal_text(data.get("min")),
            "max": decimal_text(data.get("max")),
        }


class _RowFormSet(forms.BaseFormSet):
    def filled(self) -> list[forms.Form]:
        return [form for form in self.forms if not form.is_blank]


PointFormSet = forms.formset_factory(PointForm, formset=_RowFormSet, extra=3, max_num=200, absolute_max=200)
ConditionFormSet = forms.formset_factory(ConditionForm, formset=_RowFormSet, extra=2, max_num=20, absolute_max=20)
