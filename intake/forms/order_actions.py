"""Forms for the actions on one order: contract review, confirmation, notices, payments,
credit and on-site visits.  They parse input; intake.services enforce the rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.models import Disposition, NoticeKind, PaymentMethod, ReviewDecision
from labqms.forms import DATE

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def datetime_local():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def now_local() -> str:
    return timezone.localtime().strftime(DATETIME_FORMAT)


class ContractReviewForm(forms.Form):
    """R-INT-4: the checklist (a)–(d), the decision and the fee of every line.

    One ``fee_<item pk>`` field per line that is not refused, prefilled with the line's
    unit fee; :meth:`fees` hands them to ``review_order`` keyed by item pk.
    """

    lawful = forms.BooleanField(
        label=_("(a) The request is lawful and within the regulations"), required=False
    )
    requirements_clear = forms.BooleanField(
        label=_("(b) The customer's requirements are clear, specific and complete"), required=False
    )
    competent = forms.BooleanField(
        label=_("(c) The lab's competence and qualification suffice"), required=False
    )
    terms_agreed = forms.BooleanField(
        label=_("(d) Price, completion time, transport and sample disposal are agreed"),
        required=False,
    )
    notes = forms.CharField(
        label=_("Review notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    decision = forms.ChoiceField(
        label=_("Decision"), choices=ReviewDecision.choices, widget=forms.RadioSelect
    )
    deviations = forms.CharField(
        label=_("Deviations / reason for declining"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    customer_told_how = forms.CharField(
        label=_("How the customer was told of the deviations"), max_length=200, required=False
    )
    customer_told_at = forms.DateTimeField(
        label=_("When the customer was told"), required=False, widget=datetime_local()
    )
    conformity_statement_requested = forms.BooleanField(
        label=_("The customer asks for a statement of conformity"), required=False
    )
    decision_rule = forms.CharField(
        label=_("Decision rule agreed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. simple acceptance, or guarded acceptance with the expanded uncertainty."),
    )
    interval_requested = forms.BooleanField(
        label=_("The customer asks for a recommended calibration interval"), required=False
    )

    CHECKLIST = ("lawful", "requirements_clear", "competent", "terms_agreed")

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            if item.disposition == Disposition.REFUSE:
                continue
            self.fields[self.fee_name(item)] = forms.DecimalField(
                label=_("Fee per unit, line %(line)s") % {"line": item.line_no},
                min_value=Decimal("0"),
                max_digits=10,
                decimal_places=2,
                initial=item.unit_fee,
                widget=forms.NumberInput(
                    attrs={"step": "0.01", "min": "0", "data-quantity": item.quantity, "class": "js-fee"}
                ),
            )

    @staticmethod
    def fee_name(item) -> str:
        return f"fee_{item.pk}"

    def lines(self):
        """``(item, bound fee field or None)`` for the template's lines table."""
        for item in self.items:
            name = self.fee_name(item)
            yield item, (self[name] if name in self.fields else None)

    def total(self) -> Decimal:
        """The total of the fees as typed (the stored fee where a typed one is no number)."""
        total = Decimal("0")
        for item, field in self.lines():
            if field is None:
                continue
            try:
                fee = Decimal(str(field.value()))
            except (InvalidOperation, TypeError):
                fee = item.unit_fee
            total += fee * item.quantity
        return total.quantize(Decimal("0.01"))

    def fees(self) -> dict[int, Decimal]:
        return {
            item.pk: self.cleaned_data[self.fee_name(item)]
            for item in self.items
            if self.fee_name(item) in self.cleaned_data
        }

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            **{name: data[name] for name in self.CHECKLIST},
            "decision": data["decision"],
            "notes": data["notes"],
            "deviations": data["deviations"],
            "customer_told_how": data["customer_told_how"],
            "customer_told_at": data["customer_told_at"],
            "conformity_statement_requested": data["conformity_statement_requested"],
            "decision_rule": data["decision_rule"],
            "interval_requested": data["interval_requested"],
            "fees": self.fees(),
        }


class ConfirmationForm(forms.Form):
    """R-INT-3: the customer signed the printed order at the counter."""

    signer_name = forms.CharField(label=_("Signed by (customer)"), max_length=100)
    confirmed_at = forms.DateTimeField(label=_("Signed at"), widget=datetime_local())


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class NoticeForm(forms.Form):
    """R-INT-8: a delay or deviation told to the customer."""

    EMAIL, TOLD = "email", "told"

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(NoticeKind.DELAY.value, NoticeKind.DELAY.label), (NoticeKind.DEVIATION.value, NoticeKind.DEVIATION.label)],
        widget=forms.RadioSelect,
        initial=NoticeKind.DELAY.value,
    )
    body = forms.CharField(
        label=_("What the customer is told"), widget=forms.Textarea(attrs={"rows": 4})
    )
    new_due_date = forms.DateField(
        label=_("New due date"),
        required=False,
        widget=DATE,
        help_text=_("For a delay: the date the work will now be done."),
    )
    how = forms.ChoiceField(
        label=_("How"),
        choices=[(EMAIL, _("Send by e-mail")), (TOLD, _("Told by phone or in person"))],
        widget=forms.RadioSelect,
        initial=EMAIL,
    )
    told_whom = forms.CharField(
        label=_("Told whom"),
        max_length=200,
        required=False,
        help_text=_("Only when told by phone or in person."),
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "body": data["body"],
            "new_due_date": data["new_due_date"],
            "by_email": data["how"] == self.EMAIL,
            "told_whom": data["told_whom"],
        }


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    receipt_no = forms.CharField(label=_("Receipt number"), max_length=100)


class VisitForm(forms.Form):
    """Plan an on-site visit."""

    planned_date = forms.DateField(label=_("Planned date"), widget=DATE)
    site_address = forms.CharField(label=_("Site address"), max_length=300)
    site_contact = forms.CharField(label=_("Site contact"), max_length=100)
    site_phone = forms.CharField(label=_("Site phone"), max_length=50, required=False)


class SiteConfirmationForm(forms.Form):
    """R-ONS-1: the customer confirmed the site meets the method's environmental needs."""

    confirmed_with = forms.CharField(label=_("Confirmed with"), max_length=100)
    conditions = forms.CharField(
        label=_("Site conditions confirmed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Temperature, humidity, power supply, space, as the method requires."),
    )


class HandoverForm(forms.Form):
    """R-ONS-4: after the visit, the instruments restored (if changed) and handed over."""

    state_changed = forms.BooleanField(
        label=_("The instrument's initial state was changed during the work"), required=False
    )
    restoration_notes = forms.CharField(
        label=_("How the initial state was restored"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    handed_over_to = forms.CharField(label=_("Handed over to"), max_length=100)
