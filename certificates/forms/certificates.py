"""Forms of the certificate pages (R-CRT-1..7): the search bars of the list and the
approval queue, the signatory's password (one certificate or a batch), amendments and
the request for a certificate from a checked record.

They only parse input; ``certificates.services.certificates`` decides.  Text a refusal
concerns (the password, what an amendment changes) is optional here so that the
service's own message is the one shown.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certificates.models import AmendmentKind, CertificateStatus, CertificateType
from labqms.forms import DATE, BootstrapMixin

SORTS = {
    "-prepared": ("-created_at", "-id"),
    "prepared": ("created_at", "id"),
    "-issued": ("-issued_at", "-id"),
    "issued": ("issued_at", "id"),
    "-number": ("-number", "-id"),
    "number": ("number", "id"),
}
DEFAULT_SORT = "-prepared"


class _SearchMixin:
    def filters(self) -> dict:
        """The valid part of the input (a bad value is reported and left out)."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})


class QueueFilterForm(_SearchMixin, BootstrapMixin, forms.Form):
    """The approval queue's search bar: always oldest first, so no sort field."""

    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": gettext_lazy("sample ID, serial number, customer, record number"),
            }
        ),
    )
    type = forms.ChoiceField(
        label=gettext_lazy("Certificate type"),
        required=False,
        choices=[("", gettext_lazy("any type"))] + list(CertificateType.choices),
    )


class CertificateFilterForm(QueueFilterForm):
    """The certificate list's search bar: the queue's, plus status, dates and sorting."""

    ISSUED_STATES = (CertificateStatus.ISSUED, CertificateStatus.VOID)

    def __init__(self, *args, issued_only: bool = False, **kwargs):
        """``issued_only``: the reader sees issued and void certificates only (counter
        staff), so the status filter offers just those."""
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = gettext_lazy(
            "certificate number, sample ID, serial number, customer, record number"
        )
        if issued_only:
            self.fields["status"].choices = [("", gettext_lazy("any status"))] + [
                (value, label) for value, label in CertificateStatus.choices if value in self.ISSUED_STATES
            ]

    status = forms.ChoiceField(
        label=gettext_lazy("Certificate status"),
        required=False,
        choices=[("", gettext_lazy("any status"))] + list(CertificateStatus.choices),
    )
    issued_from = forms.DateField(label=gettext_lazy("Issued from"), required=False, widget=DATE)
    issued_to = forms.DateField(label=gettext_lazy("Issued until"), required=False, widget=DATE)
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=[
            ("-prepared", gettext_lazy("prepared, newest first")),
            ("prepared", gettext_lazy("prepared, oldest first")),
            ("-issued", gettext_lazy("date of issue, newest first")),
            ("issued", gettext_lazy("date of issue, oldest first")),
            ("-number", gettext_lazy("certificate number, descending")),
            ("number", gettext_lazy("certificate number, ascending")),
        ],
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("issued_from"), data.get("issued_to")
        if start and end and start > end:
            # Neither date is used: half of a reversed range would filter nonsense.
            data.pop("issued_from", None)
            self.add_error(
                "issued_to",
                _("The end date %(end)s is before the start date %(start)s.")
                % {"end": end.isoformat(), "start": start.isoformat()},
            )
        return data


class SignatureForm(forms.Form):
    """The signatory re-types the password at the moment of approving (批准)."""

    password = forms.CharField(
        label=gettext_lazy("Your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "current-password"}),
    )


class CertificateIdsField(forms.Field):
    """The ids of the ticked rows (``<input type=checkbox name=… value=id>``)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": gettext_lazy("Tick the certificates to approve."),
        "invalid": gettext_lazy("The selection is not understood; reload the page and tick again."),
    }

    def to_python(self, value):
        if not value:
            return []
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return list(dict.fromkeys(ids))  # each once, in the order ticked


class BatchApproveForm(SignatureForm):
    """One password for a ticked set of drafts (R-CRT approval, batch signing)."""

    certificate = CertificateIdsField(label=gettext_lazy("Certificates"))

    field_order = ["certificate", "password"]


class AmendmentForm(forms.Form):
    """What a supplement or a replacement changes, and why (R-CRT-6)."""

    text = forms.CharField(
        label=gettext_lazy("What changes and why"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3, "required": True, "maxlength": 2000}),
    )

    LABELS = {
        AmendmentKind.SUPPLEMENT: gettext_lazy("What the supplement adds or corrects, and why"),
        AmendmentKind.REPLACEMENT: gettext_lazy("What was wrong in the certificate, and why it is replaced"),
    }

    def __init__(self, *args, kind: str, **kwargs):
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["text"].label = self.LABELS[kind]


class PrepareForm(forms.Form):
    """A certificate from a checked record; remarks are printed on it."""

    remarks = forms.CharField(
        label=gettext_lazy("Remarks on the certificate"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2, "maxlength": 2000}),
    )
