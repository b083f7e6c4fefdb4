"""Forms for the people and calendar pages.  They parse input; services enforce rules."""

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from labqms.models import (
    Activity,
    Delegation,
    Qualification,
    Role,
    SupervisionRecord,
    TrainingRecord,
    User,
)
from labqms.models.people import DELEGABLE_ROLES
from labqms.selectors.people import staff_users

# HTML date inputs take ISO dates whatever the UI language (zh-hans would print 2026/11/21).
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BootstrapMixin:
    """Gives plain (non-crispy) forms Bootstrap classes, for compact filter bars."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs.setdefault("class", css)


class PersonSearchForm(BootstrapMixin, forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("name, user, department")}),
    )
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("any role"))] + list(Role.choices)
    )
    activity = forms.ChoiceField(
        label=_("Valid authorisation"),
        required=False,
        choices=[("", _("any"))] + list(Activity.choices),
    )
    attention = forms.BooleanField(label=_("Expired or expiring items only"), required=False)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    reason = forms.CharField(label=_("Reason"), required=False)


class AuthorisationForm(forms.Form):
    activity = forms.ChoiceField(label=_("Activity"), choices=Activity.choices)
    scope = forms.ChoiceField(
        label=_("Scope"),
        required=False,
        help_text=_("Leave empty to authorise the activity in general."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE)
    competence_confirmed_on = forms.DateField(label=_("Competence confirmed on"), widget=DATE)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    # Models later apps register as authorisation scopes: "app_label.model".
    SCOPE_MODELS = ("intake.instrumentcategory", "equipment.equipment")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [("", _("all (general)"))] + self._scope_choices()

    def _scope_choices(self):
        choices = []
        for label in self.SCOPE_MODELS:
            app_label, model = label.split(".")
            try:
                ct = ContentType.objects.get_by_natural_key(app_label, model)
            except ContentType.DoesNotExist:
                continue
            model_class = ct.model_class()
            if model_class is None:
                continue
            choices.append(
                (
                    str(model_class._meta.verbose_name),
                    [
                        (f"{ct.pk}:{obj.pk}", str(obj))
                        for obj in model_class._default_manager.all()[:500]
                    ],
                )
            )
        return choices

    def clean_scope(self):
        value = self.cleaned_data.get("scope")
        if not value:
            return None
        ct_id, obj_id = value.split(":")
        ct = ContentType.objects.get_for_id(int(ct_id))
        try:
            return ct.get_object_for_this_type(pk=int(obj_id))
        except ct.model_class().DoesNotExist:
            raise forms.ValidationError(_("That scope no longer exists.")) from None


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class QualificationForm(forms.ModelForm):
    class Meta:
        model = Qualification
        fields = ["kind", "number", "issued_by", "scope", "valid_from", "valid_until"]
        widgets = {
            "valid_from": DATE,
            "valid_until": DATE,
            "scope": forms.Textarea(attrs={"rows": 2}),
        }


class TrainingForm(forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = [
            "plan",
            "title",
            "provider",
            "started_on",
            "ended_on",
            "hours",
            "result",
            "certificate_no",
        ]
        widgets = {"started_on": DATE, "ended_on": DATE}


class SupervisionForm(forms.ModelForm):
    class Meta:
        model = SupervisionRecord
        fields = ["supervised_on", "subject", "observations", "conclusion", "follow_up"]
        widgets = {
            "supervised_on": DATE,
            "observations": forms.Textarea(attrs={"rows": 3}),
            "follow_up": forms.Textarea(attrs={"rows": 2}),
        }


class DelegationForm(forms.ModelForm):
    class Meta:
        model = Delegation
        fields = ["role", "deputy", "valid_from", "valid_until", "reason"]
        widgets = {
            "valid_from": DATE,
            "valid_until": DATE,
            "reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, lead: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = staff_users().exclude(pk=lead.pk)
        self.fields["role"].choices = [
            (r.value, r.label) for r in DELEGABLE_ROLES if lead.has_role(r)
        ]


class WorkdayOverrideForm(BootstrapMixin, forms.Form):
    day = forms.DateField(label=_("Date"), widget=DATE)
    is_working_day = forms.TypedChoiceField(
        label=_("Status"),
        choices=[("1", _("Working day")), ("0", _("Day off"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("Note"), max_length=200)


class ConfirmYearForm(BootstrapMixin, forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    source = forms.CharField(label=_("Source"), max_length=200)


class WorkdayCalculatorForm(BootstrapMixin, forms.Form):
    start = forms.DateField(label=_("Start date"), widget=DATE)
    days = forms.IntegerField(label=_("Working days"), min_value=-1000, max_value=1000, initial=10)


class AuditFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Object or action"), required=False)
    actor = forms.ModelChoiceField(label=_("Actor"), queryset=User.objects.all(), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)


def add_service_errors(form: forms.Form, error) -> None:
    """Show a service's ``ValidationError`` on the form, by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item)
    else:
        for message in error.messages:
            form.add_error(None, message)
