"""Forms of the customer portal (R-INT-1, R-INT-9): the order filter, the request header
and the optional device-list upload.  The instrument lines reuse
``intake.forms.items.ItemLineFormSet``; the rules live in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.forms.orders import ImportForm
from intake.models import OrderStatus, WorkLocation
from labqms.forms import DATE, BootstrapMixin


class PortalOrderFilterForm(BootstrapMixin, forms.Form):
    SORTS = {
        "newest": ("-created_at", "-id"),
        "oldest": ("created_at", "id"),
        "due": ("due_date", "-created_at", "-id"),
        "number": ("number",),
    }

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("order number or serial number")}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("any status"))] + list(OrderStatus.choices),
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("newest first")),
            ("oldest", _("oldest first")),
            ("due", _("due date")),
            ("number", _("order number")),
        ],
    )


class PortalRequestForm(BootstrapMixin, forms.Form):
    """The request's header; the service says what is missing or wrong."""

    HEADER_FIELDS = ("contact_name", "contact_phone", "work_location", "preferred_date", "notes")

    contact_name = forms.CharField(label=_("Contact"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    work_location = forms.ChoiceField(
        label=_("Work location"), choices=WorkLocation.choices, initial=WorkLocation.LAB
    )
    preferred_date = forms.DateField(
        label=_("Preferred date"),
        required=False,
        widget=DATE,
        help_text=_("When you would bring the instruments, or when we should come."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Anything the lab should know, e.g. opening hours of the department."),
    )

    @classmethod
    def initial_from(cls, data) -> dict:
        """What was typed in the header, as initial values: re-rendering after reading a
        sheet keeps the header without showing its errors yet."""
        return {name: data.get(name, "") for name in cls.HEADER_FIELDS if name in data}


class PortalImportForm(ImportForm):
    """The optional device list on the request form (prefix "sheet")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "sheet")
        super().__init__(*args, **kwargs)
        field = self.fields["file"]
        field.required = False
        field.widget.attrs["data-testid"] = "request-sheet"
        field.widget.attrs["class"] = "form-control form-control-sm"

    def clean_file(self):
        if not self.cleaned_data.get("file"):
            return None
        return super().clean_file()
