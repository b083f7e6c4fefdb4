"""Forms for the sample pages: list filters, status actions, receipt inspection and
release.  They parse input only; ``intake.services.samples`` enforces the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.models import InstrumentCategory, SampleStatus, StorageLocation
from labqms.forms import BootstrapMixin

SORTS = {
    "id": "sample_id",
    "-id": "-sample_id",
    "due": "order__due_date",
    "-due": "-order__due_date",
    "changed": "updated_at",
    "-changed": "-updated_at",
}
DEFAULT_SORT = "-changed"


def _locations():
    return StorageLocation.objects.filter(is_active=True)


class SampleSearchForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("sample ID, order number, serial number, customer"), "type": "search"}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any status"))] + list(SampleStatus.choices)
    )
    location = forms.ModelChoiceField(
        label=_("Storage location"),
        required=False,
        queryset=StorageLocation.objects.all(),
        empty_label=_("any location"),
    )
    category = forms.ModelChoiceField(
        label=_("Instrument category"),
        required=False,
        queryset=InstrumentCategory.objects.all(),
        empty_label=_("any category"),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-changed", _("last change, newest first")),
            ("changed", _("last change, oldest first")),
            ("id", _("sample ID, ascending")),
            ("-id", _("sample ID, descending")),
            ("due", _("due date, soonest first")),
            ("-due", _("due date, latest first")),
        ],
    )


class LocationForm(BootstrapMixin, forms.Form):
    """Store a received sample, or move it to another location (R-SMP-3)."""

    location = forms.ModelChoiceField(label=_("Storage location"), queryset=StorageLocation.objects.none())
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ResumeForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Why the hold ends"), widget=forms.Textarea(attrs={"rows": 2}))


class IntegrityForm(BootstrapMixin, forms.Form):
    """The check after testing (R-SMP-4)."""

    intact = forms.TypedChoiceField(
        label=_("Intact as received?"),
        choices=[("yes", _("Yes, intact")), ("no", _("No, damaged or incomplete"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the sample is not intact."),
    )
    location = forms.ModelChoiceField(
        label=_("Store at"), required=False, queryset=StorageLocation.objects.none(), empty_label=_("(stays where it is)")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()
        self.fields["intact"].widget.attrs["class"] = "form-check-input"


class ReceiptRowForm(BootstrapMixin, forms.Form):
    """One sample's receipt inspection on the receive page (R-SMP-1); prefix per sample."""

    include = forms.BooleanField(label=_("Receive"), required=False)
    packaging_ok = forms.BooleanField(label=_("Packaging intact"), required=False)
    appearance_ok = forms.BooleanField(label=_("Appearance normal"), required=False)
    markings_ok = forms.BooleanField(label=_("Markings legible"), required=False)
    accessories_ok = forms.BooleanField(label=_("Accessories complete"), required=False)
    accessories_received = forms.CharField(label=_("Accessories received"), required=False, max_length=300)
    anomalies = forms.CharField(
        label=_("Anomalies"), required=False, widget=forms.Textarea(attrs={"rows": 1})
    )

    CHECKS = ("packaging_ok", "appearance_ok", "markings_ok", "accessories_ok")

    def __init__(self, *args, sample=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The row shows no label next to each input (the column head says it): name them
        # for screen readers, with the sample ID.
        for field in self.fields.values():
            label = f"{sample.sample_id} {field.label}" if sample is not None else str(field.label)
            field.widget.attrs.setdefault("aria-label", label)

    @classmethod
    def initial_for(cls, sample) -> dict:
        return {
            "include": True,
            **dict.fromkeys(cls.CHECKS, True),
            "accessories_received": sample.item.accessories,
        }


class ReceiveOrderForm(BootstrapMixin, forms.Form):
    """What applies to the whole batch on the receive page."""

    customer_confirmed_by = forms.CharField(
        label=_("Customer confirmed the anomalies on the spot (name)"),
        required=False,
        max_length=100,
        help_text=_("Needed when any sample has anomalies."),
    )
    location = forms.ModelChoiceField(
        label=_("Store at"),
        required=False,
        queryset=StorageLocation.objects.none(),
        empty_label=_("(not stored yet)"),
        help_text=_("With a location the samples are stored at once."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _locations()


class ReleaseForm(BootstrapMixin, forms.Form):
    """Hand-over record (R-INT-7).  Text fields are checked by the service, which says
    exactly what is missing; ``samples`` accepts any sample of the order so that the
    service, not the form, explains why one cannot be released."""

    samples = forms.ModelMultipleChoiceField(
        label=_("Samples handed over"), required=False, queryset=None, widget=forms.CheckboxSelectMultiple
    )
    receiver_name = forms.CharField(label=_("Received by (name)"), required=False, max_length=100)
    receiver_id_document = forms.CharField(
        label=_("ID document"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. ID card ending 1234, staff card")}),
    )
    handed_over = forms.CharField(
        label=_("What was handed over"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["samples"].queryset = order.samples.all()
