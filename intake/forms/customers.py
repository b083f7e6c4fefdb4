"""Forms for customers, contacts, instrument categories and the authorised scope.

They parse what was typed; ``intake.services.customers`` and ``intake.services.catalogue``
decide whether it may be saved.  The model forms here are never ``save()``d: views pass
``cleaned_data`` to the service, and give the form its own copy of the instance so that
form validation cannot change the object the service compares against for the audit trail.
"""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.models import AuthorisedScope, Customer, InstrumentCategory, Service
from intake.services.catalogue import CATEGORY_FIELDS
from intake.services.customers import CUSTOMER_FIELDS
from labqms.forms import DATE, BootstrapMixin

# ISO value: <input type="date"> shows nothing for the zh-hans format 2026/11/21.


class CustomerSearchForm(BootstrapMixin, forms.Form):
    STATUS_CHOICES = [
        ("active", _("Active")),
        ("archived", _("Archived")),
        ("all", _("All")),
    ]
    SORT_CHOICES = [("name", _("Name")), ("newest", _("Newest first"))]

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("name, credit code, address, contact, phone, e-mail")}
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)


class CustomerForm(forms.ModelForm):
    """The organisation's own fields (``CUSTOMER_FIELDS``)."""

    class Meta:
        model = Customer
        fields = list(CUSTOMER_FIELDS)
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class CustomerCreateForm(CustomerForm):
    """A new customer, optionally with its first contact, and the near-duplicate override."""

    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=50, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    allow_similar = forms.BooleanField(
        label=_("This is a different organisation — create it anyway"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    CONTACT_FIELDS = {"name": "contact_name", "phone": "contact_phone", "email": "contact_email"}

    def contact_data(self) -> dict | None:
        """The first contact as ``add_contact`` takes it, or None when nothing was typed."""
        data = {key: self.cleaned_data.get(field) or "" for key, field in self.CONTACT_FIELDS.items()}
        return data if any(value.strip() for value in data.values()) else None


class ContactForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = InstrumentCategory
        fields = list(CATEGORY_FIELDS)

    def clean_standard_fee(self):
        # Stored with two decimals; "80" and "80.00" must not show up as a change.
        fee = self.cleaned_data.get("standard_fee")
        return fee.quantize(Decimal("0.01")) if fee is not None else fee


class ScopeForm(forms.ModelForm):
    class Meta:
        model = AuthorisedScope
        fields = ["service", "certificate_no", "valid_from", "valid_until", "note"]
        widgets = {"valid_from": DATE, "valid_until": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = Service.choices


class ScopeEndForm(BootstrapMixin, forms.Form):
    last_day = forms.DateField(label=_("Last valid day"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=300)
