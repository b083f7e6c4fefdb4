"""Forms of the public complaint form and the customer portal (R-CMP-2, R-INT-9).

They parse what was typed; ``complaints.services.complaints.register`` decides (a name,
a way to reach the complainant, a subject, a description, the attachments' type and
size).  The public form also carries the spam defences that need no third party: a
honeypot field hidden by the stylesheet, a signed time stamp (too fast or too old is
refused, the input kept) and a limit on web links in the text.  The rate limit per
address lives in the view.
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certificates.models import Certificate, CertificateStatus
from certificates.services import certificates as certificate_services
from complaints.models import ATTACHMENT_LIMIT
from intake.models import Order
from labqms.forms import BootstrapMixin

# --- the signed time stamp ------------------------------------------------------------

TOKEN_SALT = "complaints.public_form"
MIN_SECONDS = 3  # a person does not fill in the form faster
MAX_SECONDS = 2 * 60 * 60  # a form open longer is stale (and a replayed token expires)
MAX_LINKS = 3
LINK = re.compile(r"(?i)\b(?:https?://|www\.)")


def issue_token() -> str:
    """The hidden time stamp a fresh form carries (signed, so it cannot be back-dated)."""
    return signing.TimestampSigner(salt=TOKEN_SALT).sign("complaint")


def token_for_retry(token: str) -> str:
    """The time stamp a form sent back for correction carries: the one it came with while
    that is still good (a person fixing one field must not be "too fast" the second
    time), a fresh one when it was stale or forged."""
    try:
        signing.TimestampSigner(salt=TOKEN_SALT).unsign(token or "", max_age=MAX_SECONDS)
    except signing.BadSignature:
        return issue_token()
    return token


def token_problem(token: str) -> str | None:
    """Why the form's time stamp is refused, or None when it was sent between
    ``MIN_SECONDS`` and ``MAX_SECONDS`` after the form was shown."""
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    try:
        signer.unsign(token or "", max_age=MAX_SECONDS)
    except signing.SignatureExpired:
        return gettext("The form was open for more than two hours. Please try again: what you typed is kept below.")
    except signing.BadSignature:
        return gettext("The form could not be checked. Please try again: what you typed is kept below.")
    try:
        signer.unsign(token, max_age=MIN_SECONDS)
    except signing.SignatureExpired:
        return None  # older than MIN_SECONDS: a person had time to type
    return gettext("The form was sent too quickly. Please check it and try again: what you typed is kept below.")


# --- several files in one field -----------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Up to ``ATTACHMENT_LIMIT`` files; the service checks type and size again and
    stores them (this pre-check keeps a bad file from leaving its good siblings
    stored on disk when the complaint is rolled back)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > ATTACHMENT_LIMIT:
            raise ValidationError(_("Attach at most %(n)d files.") % {"n": ATTACHMENT_LIMIT})
        from equipment.services.register import check_upload  # the rule the service applies

        cleaned = []
        for upload in files:
            upload = super().clean(upload, initial)
            try:
                check_upload(upload, "attachments")
            except ValidationError as error:
                raise ValidationError(
                    _("%(name)s: %(problem)s") % {"name": upload.name, "problem": " ".join(error.messages)}
                ) from None
            cleaned.append(upload)
        return cleaned


# --- the complainant ---------------------------------------------------------------------

CONTACT_FIELDS = (
    "complainant_name", "complainant_organisation", "complainant_phone", "complainant_email", "complainant_address",
)


class ComplaintFields(BootstrapMixin, forms.Form):
    """Who complains and about what.  Nothing is required here: the service names what
    is missing (a name, at least one way to reach the complainant, subject, text)."""

    complainant_name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    complainant_organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    complainant_phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    complainant_email = forms.EmailField(label=_("E-mail"), required=False)
    complainant_address = forms.CharField(label=_("Postal address"), max_length=300, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(
        label=_("What happened"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = gettext("Up to %(n)d files: PDF, PNG or JPEG, at most 10 MB each.") % {
            "n": ATTACHMENT_LIMIT
        }

    def complaint_data(self) -> dict:
        return {key: self.cleaned_data[key] for key in (*CONTACT_FIELDS, "subject", "description")}


def _with_references(description: str, references: list[tuple[str, str]]) -> str:
    """The numbers the complainant typed, kept under the text in the lab's language
    (an empty description stays empty, so the service still asks for one)."""
    lines = [f"{label}: {value}" for label, value in references if value]
    if not description.strip() or not lines:
        return description
    return description.rstrip() + "\n\n" + "\n".join(lines)


class PublicComplaintForm(ComplaintFields):
    """The online form anyone may send (R-CMP-2)."""

    certificate_number = forms.CharField(label=_("Certificate number"), max_length=30, required=False)
    verification_code = forms.CharField(
        label=_("Verification code"), max_length=12, required=False,
        help_text=_("Printed on the certificate; with it the lab finds the certificate at once."),
    )
    order_number = forms.CharField(label=_("Order number"), max_length=30, required=False)
    # The honeypot: hidden by static/complaints/public.css; a person leaves it empty.
    homepage = forms.CharField(label=_("Leave this field empty"), required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["homepage"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        for name in ("certificate_number", "verification_code", "order_number"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def is_trap(self) -> bool:
        """The honeypot was filled in: a robot."""
        return bool((self.data.get(self.add_prefix("homepage")) or "").strip())

    def clean_description(self):
        description = self.cleaned_data["description"]
        if len(LINK.findall(description)) > MAX_LINKS:
            raise ValidationError(
                _("Please describe the problem with at most %(n)d web links.") % {"n": MAX_LINKS}
            )
        return description

    def clean(self):
        cleaned = super().clean()
        problem = token_problem(cleaned.get("token", ""))
        if problem:
            raise ValidationError(problem)
        return cleaned

    def complaint_data(self) -> dict:
        """The service's input.  A certificate is linked only when its number and its
        verification code match (as on the public verification page); otherwise the
        numbers are kept as text, and the answer is the same either way."""
        data = super().complaint_data()
        number = self.cleaned_data["certificate_number"].strip()
        code = self.cleaned_data["verification_code"].strip()
        with translation.override(settings.LANGUAGE_CODE):
            data["description"] = _with_references(data["description"], [
                (gettext("Certificate number"), number),
                (gettext("Order number"), self.cleaned_data["order_number"].strip()),
            ])
        certificate = certificate_services.verify(number, code) if number and code else None
        if certificate is not None:
            data["certificate"] = certificate
        return data


class PortalComplaintForm(ComplaintFields):
    """A complaint from a customer account (R-CMP-2, R-INT-9): the order or certificate
    is looked up among the organisation's own only — another organisation's number
    answers exactly like a number that does not exist."""

    order_number = forms.CharField(label=_("Order number"), max_length=30, required=False)
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=30, required=False)

    def __init__(self, *args, customer, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)
        self.fields["complainant_name"].label = _("Contact")

    def clean_order_number(self):
        number = self.cleaned_data["order_number"].strip()
        self.cleaned_data["order"] = None
        if number:
            order = Order.objects.filter(customer=self.customer, number__iexact=number).first()
            if order is None:
                raise ValidationError(_("None of your organisation's orders has this number."))
            self.cleaned_data["order"] = order
        return number

    def clean_certificate_number(self):
        number = self.cleaned_data["certificate_number"].strip()
        self.cleaned_data["certificate"] = None
        if number:
            certificate = Certificate.objects.filter(
                record__sample__order__customer=self.customer, number__iexact=number,
                status__in=(CertificateStatus.ISSUED, CertificateStatus.VOID),
            ).first()
            if certificate is None:
                raise ValidationError(_("None of your organisation's certificates has this number."))
            self.cleaned_data["certificate"] = certificate
        return number

    def complaint_data(self) -> dict:
        data = super().complaint_data()
        data["order"] = self.cleaned_data.get("order")
        data["certificate"] = self.cleaned_data.get("certificate")
        return data


class PortalComplaintSearchForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"placeholder": _("complaint number or subject"), "type": "search"}),
    )

    def filter(self, complaints):
        if self.is_valid() and self.cleaned_data["q"].strip():
            q = self.cleaned_data["q"].strip()
            complaints = complaints.filter(Q(number__icontains=q) | Q(subject__icontains=q))
        return complaints

