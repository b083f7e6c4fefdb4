"""Forms of the order pages: the order header, order lines with their disposition
(R-INT-2), the order list filters, the spreadsheet upload and the online-request queue.
They parse input; ``intake.services.orders`` / ``portal`` enforce the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from intake.forms.items import BaseItemLineFormSet, ItemLineForm
from intake.models import (
    Channel,
    Contact,
    Customer,
    Disposition,
    OrderStatus,
    RequestStatus,
    WorkLocation,
)
from intake.services.spreadsheets import MAX_BYTES
from labqms.forms import DATE, BootstrapMixin

# ISO value: <input type="date"> shows nothing for the zh-hans format 2026/11/21.


class OrderLineForm(ItemLineForm):
    """An order line: an instrument line plus what the lab does with it."""

    disposition = forms.ChoiceField(
        label=_("Disposition"), choices=Disposition.choices, initial=Disposition.ACCEPT, required=False
    )
    disposition_reason = forms.CharField(
        label=_("Reason for refusal or subcontracting"), required=False, max_length=300
    )
    subcontractor = forms.CharField(label=_("Subcontractor"), required=False, max_length=200)

    DISPOSITION_LAYOUT = (
        ("disposition", "col-6 col-md-2"),
        ("disposition_reason", "col-12 col-md-6"),
        ("subcontractor", "col-6 col-md-4"),
    )

    def line(self) -> dict:
        data = super().line()
        data["disposition"] = data.get("disposition") or Disposition.ACCEPT
        return data


class BaseOrderLineFormSet(BaseItemLineFormSet):
    check_scope = True


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=BaseOrderLineFormSet, extra=3, max_num=1000, absolute_max=2000
)


class ContactSelect(forms.Select):
    """Contact options carry their customer's id so items.js can filter them."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-customer"] = str(instance.customer_id)
        return option


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} · {obj.customer.name}"


class OrderForm(BootstrapMixin, forms.Form):
    """The order header (R-INT-1): who, how it came in, where the work is done."""

    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.none(),
        widget=forms.Select(attrs={"data-customer-select": "1"}),
    )
    contact = ContactChoiceField(
        label=_("Contact"),
        queryset=Contact.objects.none(),
        required=False,
        widget=ContactSelect(attrs={"data-contact-select": "1"}),
        empty_label=_("(none)"),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.COUNTER)
    work_location = forms.ChoiceField(
        label=_("Work location"), choices=WorkLocation.choices, initial=WorkLocation.LAB
    )
    special_requirements = forms.CharField(
        label=_("Special requirements"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    sample_disposal = forms.CharField(
        label=_("Sample disposal"),
        required=False,
        max_length=200,
        help_text=_("What happens to the instruments after the work, e.g. collected by the customer."),
    )

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        customers = Customer.objects.filter(is_active=True)
        contacts = Contact.objects.filter(is_active=True)
        if order is not None:
            # Keep the order's own customer and contact choosable even if archived since.
            customers = Customer.objects.filter(is_active=True) | Customer.objects.filter(
                pk=order.customer_id
            )
            if order.contact_id:
                contacts = contacts | Contact.objects.filter(pk=order.contact_id)
        self.fields["customer"].queryset = customers.order_by("name", "department")
        self.fields["contact"].queryset = contacts.select_related("customer").order_by(
            "customer__name", "name"
        )

    def clean(self):
        data = super().clean()
        customer, contact = data.get("customer"), data.get("contact")
        if customer and contact and contact.customer_id != customer.pk:
            self.add_error("contact", _("This contact belongs to another customer."))
        return data


class OrderEditForm(OrderForm):
    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=300,
        help_text=_("Kept in the order's history."),
    )


class RequestContactForm(BootstrapMixin, forms.Form):
    """Converting an online request: the request's customer is fixed, the contact is chosen."""

    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False, empty_label=_("(none)")
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.filter(is_active=True).order_by("name")


class OrderFilterForm(BootstrapMixin, forms.Form):
    SORTS = {
        "newest": ("-created_at", "-id"),
        "oldest": ("created_at", "id"),
        "due": ("due_date", "-created_at"),
        "number": ("number",),
        "-number": ("-number",),
    }

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("order number, customer, serial number, sample ID")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("any status"))] + list(OrderStatus.choices)
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("any channel"))] + list(Channel.choices)
    )
    work_location = forms.ChoiceField(
        label=_("Work location"),
        required=False,
        choices=[("", _("anywhere"))] + list(WorkLocation.choices),
    )
    due_from = forms.DateField(label=_("Due from"), required=False, widget=DATE)
    due_to = forms.DateField(label=_("Due until"), required=False, widget=DATE)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("newest first")),
            ("oldest", _("oldest first")),
            ("due", _("due date")),
            ("number", _("order number")),
            ("-number", _("order number, descending")),
        ],
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Device list (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "class": "form-control",
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an .xlsx workbook (use the template)."))
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return upload


class RequestFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("customer or contact")}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("any status"))] + list(RequestStatus.choices),
    )
