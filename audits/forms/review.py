"""Forms of the management-review and quality-objective pages (R-MGT-1, R-IMP-3).

They only parse input; ``audits.services.review`` decides (a reversed period, a chair who
is not the lab head, a meeting in the future, a percentage target above 100 …).  Text a
refusal concerns is optional here so that the service's own sentence is the one shown,
and the page keeps whatever was typed.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from audits.models import Comparison, Measure, ReviewKind, ReviewStatus
from complaints.models import Complaint
from labqms.forms import DATE, BootstrapMixin
from labqms.models import Role, User
from labqms.selectors.people import staff_users
from labqms.views.helpers import YEAR_RANGE

TEXT = {"rows": 3}


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        department = getattr(getattr(obj, "profile", None), "department", "")
        return f"{obj} · {department}" if department else str(obj)


def lab_heads():
    return User.objects.filter(is_active=True, groups__name=Role.LAB_HEAD).distinct().select_related("profile").order_by("username")


class ComplaintChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} · {obj.subject}"


# --- the list ---------------------------------------------------------------------------------


class ReviewFilterForm(BootstrapMixin, forms.Form):
    """Search and filters of the review list; a bad value is reported and left out."""

    q = forms.CharField(
        label=gettext_lazy("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("number, attendees, minutes")}),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False, choices=[("", gettext_lazy("any kind"))] + list(ReviewKind.choices))
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("any status"))] + list(ReviewStatus.choices)
    )
    year = forms.IntegerField(label=gettext_lazy("Year planned"), required=False, min_value=YEAR_RANGE[0], max_value=YEAR_RANGE[1])

    def filters(self) -> dict:
        self.is_valid()
        return getattr(self, "cleaned_data", {})


# --- planning ---------------------------------------------------------------------------------


class PlanReviewForm(forms.Form):
    """A yearly review, or an ad-hoc one (from a major complaint marked as a
    management-review item, R-CMP-6)."""

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ReviewKind.choices)
    period_start = forms.DateField(label=gettext_lazy("Period from"), widget=DATE)
    period_end = forms.DateField(label=gettext_lazy("Period to"), widget=DATE)
    planned_on = forms.DateField(label=gettext_lazy("Planned for"), widget=DATE)
    chair = PersonChoiceField(
        label=gettext_lazy("Chair"), queryset=User.objects.none(), required=False,
        help_text=gettext_lazy("The lab head chairs the review and approves its minutes."),
    )
    complaint = ComplaintChoiceField(
        label=gettext_lazy("Opened from complaint"), required=False, widget=forms.HiddenInput,
        queryset=Complaint.objects.filter(management_review_needed=True),
        error_messages={"invalid_choice": gettext_lazy("That complaint is not a management-review item.")},
    )

    def __init__(self, *args, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault("initial", {
            "kind": ReviewKind.ANNUAL,
            "period_start": dt.date(today.year, 1, 1),
            "period_end": dt.date(today.year, 12, 31),
            "planned_on": today,
        })
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = lab_heads()
        heads = list(self.fields["chair"].queryset[:2])
        if len(heads) == 1 and "chair" not in self.initial:
            self.initial["chair"] = heads[0].pk


# --- the steps on the review page -------------------------------------------------------------


class EmptyForm(forms.Form):
    """A step whose only input is the button (refresh the inputs, approve the minutes)."""


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=gettext_lazy("Held on"), required=False, widget=DATE)
    attendees = forms.CharField(
        label=gettext_lazy("Attendees"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Names and functions of those present."),
    )
    minutes = forms.CharField(label=gettext_lazy("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 8}))


class DecisionForm(forms.Form):
    """A decision of the review, tracked like a corrective action."""

    action = forms.CharField(
        label=gettext_lazy("Decision and what is to be done"), required=False, widget=forms.Textarea(attrs=TEXT)
    )
    responsible = PersonChoiceField(label=gettext_lazy("Responsible"), queryset=User.objects.none(), required=False)
    due_on = forms.DateField(label=gettext_lazy("Due on"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = staff_users().order_by("username")


# --- quality objectives -----------------------------------------------------------------------


class ObjectiveForm(BootstrapMixin, forms.Form):
    """Set or change the objective for one measure in one year (one per measure)."""

    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=YEAR_RANGE[0], max_value=YEAR_RANGE[1])
    measure = forms.ChoiceField(label=gettext_lazy("Measure"), choices=[("", "—")] + list(Measure.choices), required=False)
    comparison = forms.ChoiceField(label=gettext_lazy("Comparison"), choices=Comparison.choices, initial=Comparison.AT_LEAST)
    # A DecimalField refuses "NaN" and "Infinity", which a Decimal would otherwise accept.
    target = forms.DecimalField(label=gettext_lazy("Target"), required=False, max_digits=8, decimal_places=2)
    statement = forms.CharField(
        label=gettext_lazy("Objective as stated in the quality manual"), max_length=300, required=False,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. on-time completion of at least 98 %")}),
    )
