"""Forms of the audit programme and audit pages (R-MGT-1): a year's programme, planning an
audit (scheduled, ad hoc or external), and the small forms of an audit's page — start,
report, cancel, one checklist item's check and a finding raised from it.

They only parse input; ``audits.services.audits`` decides (and says why not).  Text a
refusal concerns is optional here so that the service's own sentence is the one shown,
and a refused form keeps whatever was typed.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.clauses import CLAUSES
from audits.models import AuditKind, AuditProgramme, ChecklistResult, FindingGrade
from audits.services.audits import departments
from labqms.forms import DATE
from labqms.models import Activity, Authorisation, Delegation, User
from labqms.models.people import STAFF_ROLES
from labqms.permissions import ROLE_ACTIVITIES
from labqms.selectors.people import staff_users

TEXT = {"rows": 3}
CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})


def authorised_auditors(on: dt.date | None = None) -> QuerySet:
    """The people ``permissions.can(user, "audits.audit")`` allows on ``on``, in one query:
    active staff holding a valid general authorisation to audit — their own, or, as the
    deputy of a lead whose role carries auditing (R-PER-6), the lead's.  The service
    still checks each person it is given."""
    on = on or timezone.localdate()
    valid = Authorisation.objects.valid_on(on).filter(activity=Activity.AUDIT, scope_type__isnull=True)
    borrowing_roles = [role for role, activities in ROLE_ACTIVITIES.items() if Activity.AUDIT in activities]
    deputy = (
        Delegation.objects.valid_on(on)
        .filter(deputy=OuterRef("pk"), role__in=borrowing_roles, lead__is_active=True, lead__groups__name=F("role"))
        .filter(Exists(valid.filter(person=OuterRef("lead"))))
    )
    staff = User.groups.through.objects.filter(user=OuterRef("pk"), group__name__in=STAFF_ROLES)
    return (
        User.objects.filter(is_active=True)
        .filter(Exists(staff))
        .filter(Q(Exists(valid.filter(person=OuterRef("pk")))) | Q(Exists(deputy)))
        .select_related("profile")
        .order_by("full_name", "username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        profile = getattr(obj, "profile", None)
        return f"{obj} · {profile.department}" if profile and profile.department else str(obj)


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return PersonChoiceField.label_from_instance(self, obj)


class ProgrammeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj.year)


# --- the programme ------------------------------------------------------------------------------


class ProgrammeForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    objectives = forms.CharField(label=_("Objectives of the programme"), required=False, widget=forms.Textarea(attrs=TEXT))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"year": timezone.localdate().year})
        super().__init__(*args, **kwargs)


# --- planning an audit --------------------------------------------------------------------------


class PlanAuditForm(forms.Form):
    """An audit's kind, scope, dates and team.  With a source (a complaint that requested an
    audit, or an impact analysis) it is an ad-hoc audit and the kind is fixed."""

    kind = forms.ChoiceField(label=_("Kind of audit"), choices=AuditKind.choices, required=False)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    clauses = forms.MultipleChoiceField(
        label=_("Clauses in scope"), choices=CLAUSES, required=False, widget=CHECKBOXES,
    )
    areas = forms.MultipleChoiceField(label=_("Areas (departments) in scope"), required=False, widget=CHECKBOXES)
    planned_start = forms.DateField(label=_("Planned start"), required=False, widget=DATE)
    planned_end = forms.DateField(label=_("Planned end"), required=False, widget=DATE)
    lead_auditor = PersonChoiceField(label=_("Lead auditor"), queryset=User.objects.none(), required=False)
    auditors = PeopleChoiceField(
        label=_("Auditors"), queryset=User.objects.none(), required=False, widget=CHECKBOXES,
        help_text=_("People authorised to audit; nobody audits their own department."),
    )
    programme = ProgrammeChoiceField(
        label=_("Programme (year)"), queryset=AuditProgramme.objects.all(), required=False, empty_label=_("none"),
        help_text=_("A scheduled audit belongs to the year's programme."),
    )
    external_body = forms.CharField(
        label=_("Assessment body"), max_length=200, required=False,
        help_text=_("For an external assessment: who assesses the lab."),
    )
    complaint = forms.IntegerField(required=False, widget=forms.HiddenInput)
    impact = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, source: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clauses"].choices = [(code, f"{code} {title}") for code, title in CLAUSES]
        self.fields["areas"].choices = [(d, d) for d in departments()]
        people = authorised_auditors()
        self.fields["lead_auditor"].queryset = people
        self.fields["auditors"].queryset = people
        if source:
            # Opened from a complaint or an impact analysis: always ad hoc.
            self.fields["kind"].choices = [(AuditKind.AD_HOC.value, AuditKind.AD_HOC.label)]
            self.fields["kind"].disabled = True
            self.fields["kind"].initial = AuditKind.AD_HOC.value


# --- the audit's page ---------------------------------------------------------------------------


class StartForm(forms.Form):
    """Starting an audit has no input (the date is today)."""


class ReportForm(forms.Form):
    conclusions = forms.CharField(label=_("Conclusions"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why is the audit cancelled?"), max_length=300, required=False)


class CheckForm(forms.Form):
    evidence = forms.CharField(label=_("Evidence seen"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    result = forms.ChoiceField(
        label=_("Result"), required=False,
        choices=[("", "—")] + [(v, lbl) for v, lbl in ChecklistResult.choices if v != ChecklistResult.NOT_CHECKED],
    )


class FindingForm(forms.Form):
    """A finding raised from a checklist item (the item's clause; the area one of the
    audit's areas)."""

    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=[("", "—")] + list(FindingGrade.choices))
    description = forms.CharField(label=_("Nonconformity / observation"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(label=_("Objective evidence"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    responsible = PersonChoiceField(
        label=_("Responsible for the action"), queryset=User.objects.none(), required=False,
    )
    area = forms.ChoiceField(label=_("Area (department)"), required=False)

    def __init__(self, *args, areas=(), people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = responsible_people()
        if people is not None:
            # One list for every item's form on the page (no query per form).
            self.fields["responsible"].choices = [("", "—"), *people]
        self.fields["area"].choices = [("", "—")] + [(a, a) for a in areas]


def responsible_people() -> QuerySet:
    return staff_users().filter(is_active=True).order_by("full_name", "username")


def people_choices() -> list[tuple[int, str]]:
    """``(pk, label)`` of the staff who may answer for a finding, for many forms at once."""
    field = PersonChoiceField(queryset=None)
    return [(person.pk, field.label_from_instance(person)) for person in responsible_people()]
