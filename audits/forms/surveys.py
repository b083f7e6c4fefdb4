"""Forms of the satisfaction surveys and evaluation reports (R-IMP-1, R-IMP-2).

They parse what was typed; :mod:`audits.services.surveys` decides (a reversed period, a
score outside 1–5, an unreleased order, a third-party report without its file)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from audits.models import QUESTIONS, EvaluationKind
from intake.models import Customer, Order
from labqms.forms import DATE, BootstrapMixin

SCORES = [(str(n), str(n)) for n in range(1, 6)]


class SurveySearchForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(attrs={"placeholder": _("title")}))
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)

    def filter(self, surveys):
        if not self.is_valid():
            return surveys
        data = self.cleaned_data
        if data["q"]:
            surveys = surveys.filter(title__icontains=data["q"].strip())
        if data["year"]:
            surveys = surveys.filter(created_at__year=data["year"])
        return surveys


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    period_start = forms.DateField(label=_("Period from"), required=False, widget=DATE)
    period_end = forms.DateField(label=_("Period to"), required=False, widget=DATE)


class InviteCustomersForm(forms.Form):
    customers = forms.ModelMultipleChoiceField(
        label=_("Customers"),
        queryset=Customer.objects.none(),
        help_text=_("Only customers with an e-mail address are listed; each gets one single-use link."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        error_messages={"required": _("Choose at least one customer.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = Customer.objects.filter(is_active=True).exclude(email="").order_by("name")


class InviteOrdersForm(forms.Form):
    numbers = forms.CharField(
        label=_("Order numbers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One or more released orders, separated by spaces, commas or new lines."),
        error_messages={"required": _("Enter at least one order number.")},
    )

    def clean_numbers(self):
        numbers = [n for n in re.split(r"[\s,;，；、]+", self.cleaned_data["numbers"]) if n]
        if not numbers:
            raise forms.ValidationError(_("Enter at least one order number."))
        orders = {o.number: o for o in Order.objects.filter(number__in=numbers).select_related("customer", "contact")}
        unknown = [n for n in numbers if n not in orders]
        if unknown:
            raise forms.ValidationError(_("No order has the number %(numbers)s.") % {"numbers": ", ".join(unknown)})
        seen = []
        for number in numbers:
            if orders[number] not in seen:
                seen.append(orders[number])
        return seen


class AnswerForm(forms.Form):
    """The five questions with a score 1–5 each, and comments.  The scores are checked
    by the service, so a wrong or missing one is refused with the others kept."""

    comments = forms.CharField(
        label=_("Comments and suggestions"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = {
            key: forms.CharField(label=label, required=False, widget=forms.RadioSelect(choices=SCORES, attrs={"class": "btn-check"}))
            for key, label in QUESTIONS
        }
        fields["comments"] = self.fields["comments"]
        self.fields = fields

    def question_fields(self):
        return [self[key] for key, _label in QUESTIONS]

    def scores(self) -> dict:
        return {key: self.cleaned_data.get(key, "") for key, _label in QUESTIONS}


class EvaluationFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, widget=forms.TextInput(attrs={"placeholder": _("title, evaluator")}))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("any kind"))] + list(EvaluationKind.choices))


class EvaluationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EvaluationKind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    evaluator = forms.CharField(
        label=_("Evaluated by"), max_length=200, required=False,
        help_text=_("The third party (required for a third-party evaluation) or the team of a self-evaluation."),
    )
    period_start = forms.DateField(label=_("Period from"), required=False, widget=DATE)
    period_end = forms.DateField(label=_("Period to"), required=False, widget=DATE)
    analysis = forms.CharField(
        label=_("Analysis"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the report says, what it means for the lab, and the actions it calls for."),
    )
    file = forms.FileField(
        label=_("Report file"), required=False,
        help_text=_("PDF, PNG or JPEG, at most 10 MB; required for a third-party evaluation."),
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"], "title": data["title"], "evaluator": data["evaluator"],
            "period_start": data["period_start"], "period_end": data["period_end"], "analysis": data["analysis"],
            "upload": data.get("file"),
        }
