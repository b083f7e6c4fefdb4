"""Forms of the staff complaint pages (R-CMP-1..7): the quality lead's list filters, the
registration of a complaint from any channel, and one small form per step on the
complaint page.

They only parse input; ``complaints.services.complaints`` decides.  Text a refusal
concerns (a reason, an explanation, the reply) is optional here so that the service's
own sentence is the one shown — and the page keeps whatever was typed.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from certificates.models import Certificate
from complaints.models import Channel, ComplaintClass, ComplaintStatus, Feedback
from complaints.services import job
from intake.models import Customer, Order, Sample
from labqms.forms import DATE, BootstrapMixin
from labqms.selectors.people import staff_users

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TEXT = {"rows": 3}


# --- the quality lead's list ------------------------------------------------------------------


class ComplaintFilterForm(BootstrapMixin, forms.Form):
    """Search and filters of the complaint list; a bad value is reported and left out."""

    OPEN, CLOSED = "open", "closed"

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.TextInput(attrs={
            "type": "search",
            "placeholder": gettext_lazy("number, complainant, organisation, subject, order, sample ID, certificate"),
        }),
    )
    classification = forms.ChoiceField(
        label=gettext_lazy("Class"), required=False, choices=[("", gettext_lazy("any class"))] + list(ComplaintClass.choices)
    )
    channel = forms.ChoiceField(
        label=pgettext_lazy("complaint", "Channel"), required=False, choices=[("", pgettext_lazy("complaint", "any channel"))] + list(Channel.choices)
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("any status"))] + list(ComplaintStatus.choices)
    )
    state = forms.ChoiceField(
        label=gettext_lazy("Open or closed"),
        required=False,
        choices=[
            ("", gettext_lazy("open and closed")),
            (OPEN, gettext_lazy("open (not closed, not dismissed)")),
            (CLOSED, gettext_lazy("closed or not accepted")),
        ],
    )
    # Open complaints by working days left to the reply due date (the daily job's bands).
    OVERDUE, NEAR, LATER = job.OVERDUE, job.NEAR, job.LATER
    deadline = forms.ChoiceField(label=gettext_lazy("Reply deadline"), required=False)
    received_from = forms.DateField(label=gettext_lazy("Received from"), required=False, widget=DATE)
    received_to = forms.DateField(label=gettext_lazy("Received until"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        near = settings.COMPLAINTS_NEAR_DEADLINE_DAYS
        self.fields["deadline"].choices = [
            ("", gettext_lazy("any deadline")),
            (self.OVERDUE, gettext_lazy("open, reply overdue")),
            (self.NEAR, ngettext(
                "open, at most %(n)d working day left", "open, at most %(n)d working days left", near
            ) % {"n": near}),
            (self.LATER, ngettext(
                "open, more than %(n)d working day left", "open, more than %(n)d working days left", near
            ) % {"n": near}),
        ]

    def filters(self) -> dict:
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            # Neither date is used: half of a reversed range would filter nonsense.
            data.pop("received_from", None)
            data.pop("received_to", None)
            self.add_error(
                "received_to",
                _("The end date %(end)s is before the start date %(start)s.") % {"end": end.isoformat(), "start": start.isoformat()},
            )
        return data


# --- registering (R-CMP-2) --------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks each one's type and size."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.department}" if obj.department else obj.name


class RegisterForm(BootstrapMixin, forms.Form):
    """A complaint taken by a member of staff, from any channel.  The order, sample and
    certificate complained about are entered by their numbers and looked up here."""

    channel = forms.ChoiceField(label=pgettext_lazy("complaint", "Channel"), choices=[("", "—")] + list(Channel.choices), required=False)
    received_at = forms.DateTimeField(label=gettext_lazy("Received at"), widget=DATETIME)
    complainant_name = forms.CharField(label=gettext_lazy("Complainant"), max_length=100, required=False)
    complainant_organisation = forms.CharField(label=gettext_lazy("Organisation"), max_length=200, required=False)
    complainant_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=50, required=False)
    complainant_email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    complainant_address = forms.CharField(label=gettext_lazy("Postal address"), max_length=300, required=False)
    customer = CustomerChoiceField(
        label=gettext_lazy("Customer"), required=False, queryset=Customer.objects.filter(is_active=True).order_by("name", "department"),
        help_text=gettext_lazy("When the complainant is one of the lab's customers."),
    )
    order_number = forms.CharField(label=gettext_lazy("Order number"), max_length=30, required=False)
    sample_id = forms.CharField(label=gettext_lazy("Sample ID"), max_length=40, required=False)
    certificate_number = forms.CharField(label=gettext_lazy("Certificate number"), max_length=30, required=False)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200, required=False)
    description = forms.CharField(label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(
        label=gettext_lazy("Attachments"), required=False,
        help_text=gettext_lazy("PDF, PNG or JPEG, at most 10 MB each, at most 5 files."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"received_at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)

    def clean_order_number(self):
        number = self.cleaned_data["order_number"].strip()
        if not number:
            return None
        order = Order.objects.select_related("customer").filter(number__iexact=number).first()
        if order is None:
            raise forms.ValidationError(_("No order has the number %(number)s.") % {"number": number})
        return order

    def clean_sample_id(self):
        sample_id = self.cleaned_data["sample_id"].strip()
        if not sample_id:
            return None
        sample = Sample.objects.select_related("order__customer").filter(sample_id__iexact=sample_id).first()
        if sample is None:
            raise forms.ValidationError(_("No sample has the ID %(id)s.") % {"id": sample_id})
        return sample

    def clean_certificate_number(self):
        number = self.cleaned_data["certificate_number"].strip()
        if not number:
            return None
        certificate = Certificate.objects.select_related("record__sample__order__customer").filter(number__iexact=number).first()
        if certificate is None:
            raise forms.ValidationError(_("No certificate has the number %(number)s.") % {"number": number})
        return certificate

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "channel": data["channel"],
            "received_at": data["received_at"],
            "attachments": data["attachments"],
            "data": {
                **{key: data[key] for key in (
                    "complainant_name", "complainant_organisation", "complainant_phone", "complainant_email",
                    "complainant_address", "subject", "description", "customer",
                )},
                "order": data["order_number"],
                "sample": data["sample_id"],
                "certificate": data["certificate_number"],
            },
        }


# --- the steps on the complaint page ------------------------------------------------------------


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        department = getattr(getattr(obj, "profile", None), "department", "")
        return f"{obj} · {department}" if department else str(obj)


class AcceptForm(forms.Form):
    """R-CMP-1/3: the responsible department and person; the clock starts."""

    department = forms.CharField(
        label=gettext_lazy("Responsible department"), max_length=100, required=False,
        widget=forms.TextInput(attrs={"list": "complaint-departments", "autocomplete": "off"}),
    )
    responsible_person = StaffChoiceField(label=gettext_lazy("Responsible person"), queryset=None, required=False)
    accepted_on = forms.DateField(
        label=gettext_lazy("Accepted on"), required=False, widget=DATE,
        help_text=gettext_lazy("Today when left empty. The reply is due 10 working days later."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_person"].queryset = staff_users().filter(is_active=True).order_by("full_name", "username")


class ReassignForm(forms.Form):
    """Another department or responsible person while the complaint is open; the clock
    does not restart (the service refuses someone involved in the work, 7.9.6)."""

    department = forms.CharField(
        label=gettext_lazy("Responsible department"), max_length=100, required=False,
        widget=forms.TextInput(attrs={"list": "complaint-departments", "autocomplete": "off"}),
    )
    responsible_person = StaffChoiceField(label=gettext_lazy("Responsible person"), queryset=None, required=False)
    reason = forms.CharField(
        label=gettext_lazy("Why the responsibility changes"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("For example an absence, or a conflict of interest found later."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_person"].queryset = staff_users().filter(is_active=True).order_by("full_name", "username")


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it is not accepted"), required=False, widget=forms.Textarea(attrs=TEXT),
        help_text=gettext_lazy("Told to the complainant when they can be reached."),
    )


class FindingsForm(forms.Form):
    findings = forms.CharField(label=gettext_lazy("Findings"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ClassifyForm(forms.Form):
    classification = forms.ChoiceField(
        label=gettext_lazy("Class"), required=False, choices=[("", "—")] + list(ComplaintClass.choices)
    )
    substantiated = forms.BooleanField(label=gettext_lazy("Substantiated"), required=False)
    management_review = forms.BooleanField(
        label=gettext_lazy("Raise a management-review item (major quality incident)"), required=False
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OpinionForm(forms.Form):
    opinion = forms.CharField(label=gettext_lazy("Handling opinion"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


APPROVE, RETURN = "approve", "return"


class DecideOpinionForm(forms.Form):
    """Approve or send back: the button pressed is the decision."""

    decision = forms.ChoiceField(choices=[(APPROVE, APPROVE), (RETURN, RETURN)], widget=forms.HiddenInput)
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when the opinion is sent back."),
    )


class CarryOutForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("What was done"), required=False, widget=forms.Textarea(attrs=TEXT))


class ReplyForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Reply to the complainant"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    publish = forms.BooleanField(
        label=gettext_lazy("Publish the result to the customer"), required=False,
        help_text=gettext_lazy("A general complaint's result is always published (R-CMP-5)."),
    )


class ExtendForm(forms.Form):
    new_due = forms.DateField(label=pgettext_lazy("complaint", "New due date"), required=False, widget=DATE)
    explanation = forms.CharField(
        label=gettext_lazy("Explanation to the complainant"), required=False, widget=forms.Textarea(attrs=TEXT),
        help_text=gettext_lazy("Sent to the complainant with the new date."),
    )


class CompensationForm(forms.Form):
    """R-CMP-7: the amount stays text here; the service reads it as a Decimal."""

    amount = forms.CharField(
        label=gettext_lazy("Amount (CNY)"), required=False, max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "350.00"}),
    )
    in_kind = forms.CharField(label=gettext_lazy("In kind"), required=False, max_length=300)
    agreement = forms.CharField(
        label=gettext_lazy("What was agreed with the complainant"), required=False, widget=forms.Textarea(attrs=TEXT)
    )


class DecideCompensationForm(forms.Form):
    decision = forms.ChoiceField(choices=[(APPROVE, APPROVE), (RETURN, RETURN)], widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when the compensation is refused."),
    )


class CloseForm(forms.Form):
    feedback = forms.ChoiceField(
        label=gettext_lazy("Complainant's feedback"), required=False, choices=[("", "—")] + list(Feedback.choices)
    )
    feedback_note = forms.CharField(
        label=gettext_lazy("Feedback in their words"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
