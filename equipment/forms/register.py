"""Forms for the equipment list's filters, the register (equipment master data) and the
measurement standards.

They parse what was typed; ``equipment.services.register`` decides whether it may be
saved.  The model forms here are never ``save()``d: views pass ``cleaned_data`` to the
service, and give the form its own copy of the instance so that form validation cannot
change the object the service compares against for the audit trail (R-EQP-9)."""

from django import forms
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from equipment.models import Equipment, EquipmentKind, EquipmentStatus, MeasurementStandard
from equipment.selectors import DEFAULT_SORT, EquipmentFilters
from equipment.services.register import EQUIPMENT_FIELDS
from labqms.forms import DATE, BootstrapMixin
from labqms.models import User
from labqms.selectors.people import staff_users


class EquipmentFilterForm(BootstrapMixin, forms.Form):
    SORT_CHOICES = [
        ("lab_id", _("lab ID")),
        ("-lab_id", _("lab ID, descending")),
        ("due", _("calibration due, soonest first")),
        ("-due", _("calibration due, latest first")),
        ("name", _("name")),
    ]

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("lab ID, name, model, serial number, manufacturer")}
        ),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("any kind"))] + list(EquipmentKind.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("any status"))] + list(EquipmentStatus.choices),
    )
    custodian = forms.ModelChoiceField(
        label=_("Custodian"), required=False, queryset=None, empty_label=_("anyone")
    )
    standard = forms.ModelChoiceField(
        label=_("Measurement standard"),
        required=False,
        queryset=MeasurementStandard.objects.order_by("name"),
        empty_label=_("any"),
    )
    overdue = forms.BooleanField(label=_("Overdue"), required=False)
    due_soon = forms.BooleanField(label=_("Due soon"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["custodian"].queryset = staff_users().order_by("full_name", "username")

    def filters(self) -> EquipmentFilters:
        """The valid part of the input (a bad value falls back to "no filter")."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return EquipmentFilters(
            q=data.get("q") or "",
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            overdue=bool(data.get("overdue")),
            due_soon=bool(data.get("due_soon")),
            custodian=data.get("custodian"),
            standard=data.get("standard"),
            sort=data.get("sort") or DEFAULT_SORT,
        )

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) of every filter in use, for the printed list's heading."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        rows = []
        for name in ("q", "kind", "status", "custodian", "standard"):
            value = data.get(name)
            if not value:
                continue
            field = self.fields[name]
            if isinstance(field, forms.ChoiceField) and not isinstance(
                field, forms.ModelChoiceField
            ):
                value = dict(field.choices).get(value, value)
            rows.append((str(field.label), str(value)))
        for name in ("overdue", "due_soon"):
            if data.get(name):
                rows.append((str(self.fields[name].label), str(_("yes"))))
        return rows


class EquipmentForm(forms.ModelForm):
    """Every field of ``EQUIPMENT_FIELDS`` (R-EQP-2); the custodian is an active staff member."""

    class Meta:
        model = Equipment
        fields = list(EQUIPMENT_FIELDS)
        widgets = {
            "purchased_on": DATE,
            "commissioned_on": DATE,
            "acceptance_criteria": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = Q(pk__in=staff_users().filter(is_active=True).values("pk"))
        if current := getattr(self.instance, "custodian_id", None):
            # An inactive custodian stays selectable until someone else is named.
            active |= Q(pk=current)
        self.fields["custodian"].queryset = User.objects.filter(active).order_by(
            "full_name", "username"
        )
        interval = self.fields["calibration_interval_months"]
        interval.help_text = _("Required when the equipment needs calibration (at least 1 month).")
        # The model allows 1 month at least; say so for -3 too, not "at least 0" first.
        interval.min_value = 1
        interval.validators = [
            v for v in interval.validators if not isinstance(v, MinValueValidator)
        ] + [MinValueValidator(1)]
        interval.widget.attrs["min"] = 1

    def clean_lab_id(self):
        """Lab IDs are unique regardless of case and surrounding spaces: "bz-001" is
        the label "BZ-001" already on another instrument."""
        lab_id = (self.cleaned_data.get("lab_id") or "").strip()
        clash = Equipment.objects.filter(lab_id__iexact=lab_id).exclude(pk=self.instance.pk)
        if lab_id and clash.exists():
            raise forms.ValidationError(self.instance.unique_error_message(Equipment, ["lab_id"]))
        return lab_id


class EquipmentEditForm(EquipmentForm):
    """A change of equipment data needs a reason; the audit trail keeps it (R-EQP-9)."""

    reason = forms.CharField(
        label=_("Reason for the change"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def equipment_data(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in EQUIPMENT_FIELDS if name in self.cleaned_data
        }


class StandardFilterForm(BootstrapMixin, forms.Form):
    STATE_CHOICES = [
        ("", _("any")),
        ("valid", _("valid")),
        ("expiring", _("expiring soon")),
        ("expired", _("expired")),
    ]
    SORT_CHOICES = [("name", _("name")), ("valid_until", _("valid until"))]

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("name, certificate number, measurand, lab ID")}
        ),
    )
    state = forms.ChoiceField(label=_("Certificate"), required=False, choices=STATE_CHOICES)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)


class StandardForm(forms.ModelForm):
    """A measurement standard (计量标准) and the equipment registered on its certificate."""

    class Meta:
        model = MeasurementStandard
        fields = ["name", "certificate_no", "measurand", "valid_from", "valid_until", "members"]
        widgets = {
            "valid_from": DATE,
            "valid_until": DATE,
            "members": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = self.fields["members"]
        members.queryset = Equipment.objects.order_by("lab_id")
        members.label_from_instance = lambda e: f"{e.lab_id} {e.name}"
        members.help_text = _("The equipment registered on the standard certificate.")

    def standard_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "members"}
