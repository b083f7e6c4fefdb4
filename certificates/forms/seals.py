"""Forms for the seals and their usage log (R-CRT-7).

``SealForm`` parses; ``certificates.services.seals`` decides (PNG of at most 1 MB, one
seal of each kind in use, custodian on the staff).  ``SealUseFilterForm`` narrows the
usage log; a bad value is reported and that filter left out."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certificates.models import Seal, SealKind
from labqms.forms import DATE, BootstrapMixin
from labqms.selectors.people import staff_users


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.username


class SealForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of seal"), choices=[("", "—"), *SealKind.choices])
    name = forms.CharField(label=_("Seal name"), max_length=100, help_text=_("As engraved, e.g. 检定专用章."))
    custodian = PersonChoice(
        label=_("Custodian"), queryset=staff_users().none(),
        help_text=_("The person who keeps the seal and answers for its use."),
    )
    is_active = forms.BooleanField(
        label=_("In use"), required=False, initial=True,
        help_text=_("The seal in use of each kind is applied to certificates at issue."),
    )
    image = forms.FileField(
        label=_("Seal image (PNG)"), required=False,
        help_text=_("A PNG with a transparent background, at most 1 MB. Leave empty to keep the current image."),
        widget=forms.FileInput(attrs={"accept": ".png,image/png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["custodian"].queryset = staff_users().filter(is_active=True).order_by("username")

    @classmethod
    def initial_for(cls, seal: Seal) -> dict:
        return {"kind": seal.kind, "name": seal.name, "custodian": seal.custodian_id, "is_active": seal.is_active}


class SealUseFilterForm(BootstrapMixin, forms.Form):
    SORTS = {"-used_at": ("-used_at", "-id"), "used_at": ("used_at", "id")}

    q = forms.CharField(
        label=_("Search"), required=False,
        widget=forms.TextInput(attrs={"placeholder": _("certificate number or person"), "type": "search"}),
    )
    seal = forms.ModelChoiceField(label=_("Seal"), required=False, queryset=Seal.objects.all(), empty_label=_("any seal"))
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)
    sort = forms.ChoiceField(
        label=_("Sort"), required=False,
        choices=[("-used_at", _("newest first")), ("used_at", _("oldest first"))],
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filter(self, queryset):
        """The valid part of the input applied to ``queryset``."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        q = (data.get("q") or "").strip()
        if q:
            queryset = queryset.filter(
                Q(certificate__number__icontains=q) | Q(used_by__full_name__icontains=q) | Q(used_by__username__icontains=q)
            )
        if data.get("seal"):
            queryset = queryset.filter(seal=data["seal"])
        if data.get("date_from"):
            queryset = queryset.filter(used_at__date__gte=data["date_from"])
        if data.get("date_to"):
            queryset = queryset.filter(used_at__date__lte=data["date_to"])
        return queryset.order_by(*self.SORTS.get(data.get("sort") or "-used_at", self.SORTS["-used_at"]))
