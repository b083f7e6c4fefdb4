"""Forms for the monitoring pages: the due/overdue window, the impact-analysis list
filters, the decision per affected record and the conclusion.  They parse input only;
``equipment.services.impact`` enforces the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from equipment.models import ImpactDecision, ImpactStatus
from labqms.forms import BootstrapMixin

DUE_DAYS_RANGE = (1, 365)


class DueWindowForm(BootstrapMixin, forms.Form):
    """Only renders the window; the view clamps ``?days=`` into ``DUE_DAYS_RANGE``."""

    days = forms.IntegerField(
        label=_("Due within (days)"), min_value=DUE_DAYS_RANGE[0], max_value=DUE_DAYS_RANGE[1]
    )


IMPACT_SORTS = {
    "found": ["found_on", "id"],
    "-found": ["-found_on", "-id"],
    "opened": ["opened_at", "id"],
    "-opened": ["-opened_at", "-id"],
}
DEFAULT_IMPACT_SORT = "-opened"


class ImpactFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("lab ID or equipment name"), "type": "search"}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("any status"))] + list(ImpactStatus.choices),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-opened", _("opened, newest first")),
            ("opened", _("opened, oldest first")),
            ("-found", _("found on, newest first")),
            ("found", _("found on, oldest first")),
        ],
    )


DECISIONS = [
    (value, label) for value, label in ImpactDecision.choices if value != ImpactDecision.PENDING
]


class ImpactDecisionForm(BootstrapMixin, forms.Form):
    """The technical lead's decision on one affected record (use a per-item ``prefix``)."""

    decision = forms.ChoiceField(
        label=_("Impact decision"), required=False, choices=[("", "—")] + DECISIONS
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=300,
        widget=forms.TextInput(
            attrs={"placeholder": _("what is to be done (needed unless no effect)")}
        ),
    )


def decision_prefix(item_pk: int) -> str:
    return f"item-{item_pk}"


class ImpactConcludeForm(BootstrapMixin, forms.Form):
    conclusion = forms.CharField(
        label=_("Conclusion"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
