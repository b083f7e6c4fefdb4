"""Forms for the task pages: queue and list filters, assignment, reassignment and
cancellation.  They parse input only; ``certificates.services.tasks`` decides who may
perform or check what (R-TST-1, R-TST-4).

The performer and checker fields *offer* only the people authorised for the category ×
activity today (``eligible_people``) but *accept* any active technical staff member, so
that a forged choice reaches the service and is refused there with its reason, rather
than being silently dropped by the form."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certificates import selectors
from certificates.models import Method, TaskStatus
from intake.models import InstrumentCategory, OnSiteVisit, Service, VisitStatus
from labqms.forms import BootstrapMixin
from labqms.models import Role, User

SAMPLE_SORTS = {
    "due": ("order__due_date", "sample_id"),
    "-due": ("-order__due_date", "sample_id"),
    "id": ("sample_id",),
    "-id": ("-sample_id",),
    "visit": ("visit_date", "sample_id"),
}
DEFAULT_SAMPLE_SORT = "due"

TASK_SORTS = {
    "-assigned": ("-assigned_at", "-id"),
    "assigned": ("assigned_at", "id"),
    "due": ("sample__order__due_date", "sample__sample_id"),
    "-due": ("-sample__order__due_date", "sample__sample_id"),
    "id": ("sample__sample_id",),
    "-id": ("-sample__sample_id",),
    "status": ("status", "sample__sample_id"),
}
DEFAULT_TASK_SORT = "-assigned"


def _search_field():
    return forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("sample ID, serial number, order number, customer"), "type": "search"}
        ),
    )


class UnassignedFilterForm(BootstrapMixin, forms.Form):
    q = _search_field()
    category = forms.ModelChoiceField(
        label=_("Instrument category"), required=False, queryset=InstrumentCategory.objects.all(),
        empty_label=_("any category"),
    )
    service = forms.ChoiceField(label=_("Service"), required=False, choices=[("", _("any service"))] + list(Service.choices))
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("due", _("due date, soonest first")),
            ("-due", _("due date, latest first")),
            ("visit", _("on-site visit date")),
            ("id", _("sample ID, ascending")),
            ("-id", _("sample ID, descending")),
        ],
    )


# A status choice that stands for several: what the performer still has to do.
TO_DO = "to_do"


class TaskFilterForm(BootstrapMixin, forms.Form):
    q = _search_field()
    status = forms.ChoiceField(
        label=_("Task status"),
        required=False,
        choices=[("", _("any status")), (TO_DO, _("to do (assigned, in progress or returned)"))]
        + list(TaskStatus.choices),
    )
    performer = forms.ModelChoiceField(
        label=_("Performer"), required=False, queryset=User.objects.none(), empty_label=_("anyone")
    )
    checker = forms.ModelChoiceField(
        label=_("Checker"), required=False, queryset=User.objects.none(), empty_label=_("anyone")
    )
    category = forms.ModelChoiceField(
        label=_("Instrument category"), required=False, queryset=InstrumentCategory.objects.all(),
        empty_label=_("any category"),
    )
    method = forms.ModelChoiceField(
        label=pgettext_lazy("measurement method", "Method"), required=False, queryset=Method.objects.all(), empty_label=_("any method")
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-assigned", _("assigned, newest first")),
            ("assigned", _("assigned, oldest first")),
            ("due", _("due date, soonest first")),
            ("-due", _("due date, latest first")),
            ("id", _("sample ID, ascending")),
            ("-id", _("sample ID, descending")),
            ("status", _("task status")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Past performers may have left the technical roles; anyone named on a task counts.
        people = User.objects.filter(is_active=True).exclude(groups__name=Role.CUSTOMER).order_by("full_name", "username")
        self.fields["performer"].queryset = people
        self.fields["checker"].queryset = people


class PeopleField(forms.ModelChoiceField):
    """Accepts any active technical staff member; :meth:`offer` sets whom the page lists."""

    def __init__(self, **kwargs):
        super().__init__(queryset=selectors.technical_staff(), **kwargs)

    def offer(self, people) -> None:
        self.widget.choices = [("", self.empty_label)] + [(p.pk, str(p)) for p in people]


def _offer_people(form, performers, checkers) -> None:
    form.fields["performer"].offer(performers)
    form.fields["checker"].offer(checkers)
    if not performers:
        form.fields["performer"].help_text = _("Nobody is authorised today to perform this work on this category.")
    if not checkers:
        form.fields["checker"].help_text = _("Nobody is authorised today to check this work on this category.")


class AssignForm(forms.Form):
    """One method, performer and checker for samples of one category × service."""

    method = forms.ModelChoiceField(label=pgettext_lazy("measurement method", "Method"), queryset=Method.objects.none(), empty_label=None)
    performer = PeopleField(label=_("Performer"))
    checker = PeopleField(
        label=_("Checker"), help_text=_("A different person from the performer (R-TST-1).")
    )
    visit = forms.ModelChoiceField(
        label=pgettext_lazy("on-site job", "On-site visit"), required=False, queryset=OnSiteVisit.objects.none(),
        empty_label=_("the order's next planned visit"),
    )
    note = forms.CharField(
        label=_("Note for the performer"), required=False, max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, methods, performers, checkers, visits=None, preferred_method=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].queryset = methods
        if preferred_method is not None:
            self.fields["method"].initial = preferred_method.pk
        _offer_people(self, performers, checkers)
        if visits is None:
            del self.fields["visit"]
        else:
            self.fields["visit"].queryset = visits
            self.fields["visit"].label_from_instance = visit_label


def visit_label(visit: OnSiteVisit) -> str:
    return f"{visit.planned_date:%Y-%m-%d} · {visit.site_address} · {visit.site_contact}"


def visits_of(order):
    return OnSiteVisit.objects.filter(order=order).exclude(status=VisitStatus.CANCELLED).order_by("planned_date", "id")


class ReassignForm(forms.Form):
    performer = PeopleField(label=_("Performer"))
    checker = PeopleField(
        label=_("Checker"), help_text=_("A different person from the performer (R-TST-1).")
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, performers, checkers, performer_locked=False, current_performer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if performer_locked and current_performer is not None:
            # The performer has signed: only the checker may change (the service says so too).
            performers = [current_performer]
            checkers = [c for c in checkers if c != current_performer]
            self.fields["performer"].disabled = True
            self.fields["performer"].help_text = _("The performer has signed the record; only the checker can change.")
        _offer_people(self, performers, checkers)


class CancelForm(forms.Form):
    prefix = "cancel"  # shown on the same page as the reassignment form's reason
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
