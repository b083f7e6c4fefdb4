"""Forms of the findings register, a finding's page and its corrective actions (R-MGT-1,
R-IMP-2, R-PER-7): the register's filters, raising a finding from its source, and one
small form per step of an action (propose, accept / send back, revise, report done,
verify effective / not effective) and for closing an observation without action.

They only parse input; ``audits.services.audits`` decides.  Text a refusal concerns is
optional here so that the service's own sentence is the one shown — and a refused form
keeps whatever was typed.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audits.clauses import CLAUSES
from audits.models import Finding, FindingGrade, FindingSource, FindingStatus
from audits.services.audits import departments
from labqms.forms import DATE, BootstrapMixin
from labqms.selectors.people import staff_users

TEXT = {"rows": 3}


def clause_choices(empty_label) -> list:
    return [("", empty_label)] + [(code, f"{code} {title}") for code, title in CLAUSES]


def area_choices() -> list[str]:
    """The departments on the staff profiles and any area a finding already names."""
    used = Finding.objects.exclude(area="").order_by().values_list("area", flat=True).distinct()
    return sorted(set(departments()) | set(used))


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        department = getattr(getattr(obj, "profile", None), "department", "")
        return f"{obj} · {department}" if department else str(obj)


def active_staff():
    return staff_users().filter(is_active=True).order_by("full_name", "username")


# --- the register -------------------------------------------------------------------------------


class FindingFilterForm(BootstrapMixin, forms.Form):
    """Search and filters of the findings register; a bad value is reported and left out."""

    q = forms.CharField(
        label=gettext_lazy("Search"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("number, description, area")}),
    )
    grade = forms.ChoiceField(
        label=gettext_lazy("Grade"), required=False, choices=[("", gettext_lazy("any grade"))] + list(FindingGrade.choices)
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), required=False, choices=[("", gettext_lazy("any source"))] + list(FindingSource.choices)
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("any status"))] + list(FindingStatus.choices)
    )
    clause = forms.ChoiceField(label=gettext_lazy("Clause"), required=False)
    area = forms.ChoiceField(label=gettext_lazy("Area"), required=False)
    responsible = StaffChoiceField(label=gettext_lazy("Responsible"), required=False, queryset=None)
    raised_from = forms.DateField(label=gettext_lazy("Raised from"), required=False, widget=DATE)
    raised_to = forms.DateField(label=gettext_lazy("Raised until"), required=False, widget=DATE)
    overdue = forms.BooleanField(label=gettext_lazy("With overdue actions only"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clause"].choices = clause_choices(gettext_lazy("any clause"))
        self.fields["area"].choices = [("", gettext_lazy("any area"))] + [(a, a) for a in area_choices()]
        self.fields["responsible"].queryset = staff_users().order_by("full_name", "username")

    def filters(self) -> dict:
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    def clean(self):
        data = super().clean()
        start, end = data.get("raised_from"), data.get("raised_to")
        if start and end and start > end:
            # Neither date is used: half of a reversed range would filter nonsense.
            data.pop("raised_from", None)
            data.pop("raised_to", None)
            self.add_error(
                "raised_to",
                _("The end date %(end)s is before the start date %(start)s.") % {"end": end.isoformat(), "start": start.isoformat()},
            )
        return data


# --- raising a finding ------------------------------------------------------------------------


class RaiseFindingForm(forms.Form):
    """A finding the quality lead raises from a complaint, an impact analysis, a
    supervision, an evaluation report or a management review."""

    grade = forms.ChoiceField(label=gettext_lazy("Grade"), required=False, choices=[("", "—")] + list(FindingGrade.choices))
    clause = forms.ChoiceField(label=gettext_lazy("Clause of ISO/IEC 17025"), required=False)
    area = forms.CharField(
        label=gettext_lazy("Area (department)"), max_length=100, required=False,
        widget=forms.TextInput(attrs={"list": "finding-areas", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=gettext_lazy("Nonconformity / observation"), required=False, widget=forms.Textarea(attrs=TEXT)
    )
    evidence = forms.CharField(
        label=gettext_lazy("Objective evidence"), required=False, widget=forms.Textarea(attrs=TEXT),
        help_text=gettext_lazy("Required for a nonconformity."),
    )
    responsible = StaffChoiceField(
        label=gettext_lazy("Responsible for the action"), required=False, queryset=None,
        help_text=gettext_lazy("Required for a nonconformity; this person proposes the corrective action."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clause"].choices = clause_choices("—")
        self.fields["responsible"].queryset = active_staff()


# --- the steps of a finding and its actions -----------------------------------------------------


class ProposeActionForm(forms.Form):
    correction = forms.CharField(
        label=gettext_lazy("Correction (immediate fix)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    root_cause = forms.CharField(
        label=gettext_lazy("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required for a nonconformity."),
    )
    action = forms.CharField(label=gettext_lazy("Corrective action"), required=False, widget=forms.Textarea(attrs=TEXT))
    due_on = forms.DateField(label=gettext_lazy("Due on"), required=False, widget=DATE)
    responsible = StaffChoiceField(
        label=gettext_lazy("Responsible"), required=False, queryset=None,
        help_text=gettext_lazy("Whoever answers for the finding when left empty."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = active_staff()


class ReviseActionForm(forms.Form):
    """The proposal again, after it was sent back."""

    correction = forms.CharField(
        label=gettext_lazy("Correction (immediate fix)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    root_cause = forms.CharField(label=gettext_lazy("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    action = forms.CharField(label=gettext_lazy("Corrective action"), required=False, widget=forms.Textarea(attrs=TEXT))
    due_on = forms.DateField(label=gettext_lazy("Due on"), required=False, widget=DATE)


ACCEPT, RETURN = "accept", "return"
EFFECTIVE, NOT_EFFECTIVE = "effective", "not_effective"


class AcceptActionForm(forms.Form):
    """Accept or send back: the button pressed is the decision."""

    decision = forms.ChoiceField(choices=[(ACCEPT, ACCEPT), (RETURN, RETURN)], widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when the proposal is sent back: say what it lacks."),
    )


class CompleteActionForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What was done (evidence)"), required=False, widget=forms.Textarea(attrs=TEXT)
    )


class VerifyActionForm(forms.Form):
    """Effective (the action closes) or not effective (back to work): the button pressed."""

    decision = forms.ChoiceField(choices=[(EFFECTIVE, EFFECTIVE), (NOT_EFFECTIVE, NOT_EFFECTIVE)], widget=forms.HiddenInput)
    note = forms.CharField(
        label=gettext_lazy("How effectiveness was verified"), required=False, widget=forms.Textarea(attrs=TEXT)
    )


class CloseObservationForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why no action is needed"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
