"""The instrument-line form and formset, shared by order entry and the customer portal.

Nothing here knows about orders: a line is the fields of ``intake.models.items.ItemFields``
with the category typed as text (code, "CODE — name" from the datalist, or the exact
name).  The rules (serial numbers, quantity, scope) live in
``intake.services.items.clean_lines``; the forms only parse, so every field is optional
here and a completely blank row is simply not a line.

Use in a view::

    formset = ItemLineFormSet(request.POST or None, initial=[line_initial(i) for i in items])
    if request.method == "POST" and formset.is_valid():
        indexes, lines = formset.lines()          # non-blank rows only
        try:
            service(..., lines=lines)
        except LinesInvalid as error:
            formset.add_line_errors(error, indexes)

and in a template ``{% include "intake/includes/_item_formset.html" %}`` (it needs
``formset`` in the context) plus ``<script src="{% static 'intake/items.js' %}" defer>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.models import AuthorisedScope, InstrumentCategory, Service
from labqms.forms import BootstrapMixin

ITEM_PREFIX = "items"
# The text fields whose content makes a row a line; quantity, ticks and choices alone do not.
TEXT_FIELDS = (
    "instrument_name",
    "model",
    "serial_number",
    "manufacturer",
    "asset_number",
    "accessories",
    "special_requirements",
)
DASH = "—"


def category_label(category: InstrumentCategory) -> str:
    """How a category appears in the autocomplete list: ``CODE — name``."""
    return f"{category.code} {DASH} {category.name}"


class CategoryLookup:
    """Every category, loaded once, found by code, "CODE — name" or exact name."""

    def __init__(self, categories=None):
        if categories is None:
            categories = InstrumentCategory.objects.all()
        self.by_code: dict[str, InstrumentCategory] = {}
        self.by_name: dict[str, InstrumentCategory] = {}
        for category in categories:
            self.by_code[category.code.upper()] = category
            self.by_name.setdefault(category.name_zh.strip(), category)
            self.by_name.setdefault(category.name_en.strip().lower(), category)

    def find(self, text: str) -> InstrumentCategory | None:
        text = " ".join((text or "").split())
        if not text:
            return None
        if DASH in text:
            code, _sep, name = text.partition(DASH)
            found = self.by_code.get(code.strip().upper())
            if found is not None:
                return found
            text = name.strip()
        return (
            self.by_code.get(text.upper())
            or self.by_name.get(text)
            or self.by_name.get(text.lower())
        )


@dataclass(frozen=True)
class CategoryOption:
    """One ``<option>`` of the category datalist, with what items.js needs to know."""

    code: str
    label: str
    compulsory: bool
    proposed: str
    proposed_label: str
    scoped: tuple[str, ...]


def category_options(on: date | None = None) -> list[CategoryOption]:
    """Active categories with their proposed service and the services in scope on ``on``
    (two queries)."""
    on = on or timezone.localdate()
    scoped: dict[int, set[str]] = {}
    for category_id, service in AuthorisedScope.objects.valid_on(on).values_list(
        "category_id", "service"
    ):
        scoped.setdefault(category_id, set()).add(service)
    options = []
    for category in InstrumentCategory.objects.filter(is_active=True).order_by("code"):
        proposed = category.proposed_service()
        options.append(
            CategoryOption(
                code=category.code,
                label=category_label(category),
                compulsory=category.compulsory,
                proposed=proposed,
                proposed_label=str(Service(proposed).label),
                scoped=tuple(sorted(scoped.get(category.pk, ()))),
            )
        )
    return options


class CategoryField(forms.CharField):
    """A text input bound to the category datalist; cleans to an ``InstrumentCategory``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.lookup: CategoryLookup | None = None

    def prepare_value(self, value):
        if isinstance(value, InstrumentCategory):
            return category_label(value)
        return value

    def to_python(self, value):
        if isinstance(value, InstrumentCategory):
            return value
        text = super().to_python(value)
        if not text:
            return None
        if self.lookup is None:
            self.lookup = CategoryLookup()
        category = self.lookup.find(text)
        if category is None:
            raise forms.ValidationError(
                _("Unknown category “%(value)s”: choose one from the list."),
                code="unknown_category",
                params={"value": text},
            )
        return category


class ItemLineForm(BootstrapMixin, forms.Form):
    """One instrument line.  All fields optional: the service says what is missing."""

    instrument_name = forms.CharField(label=_("Instrument name"), required=False, max_length=200)
    category = CategoryField(
        label=_("Category"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("code or name")}),
    )
    model = forms.CharField(label=_("Model / specification"), required=False, max_length=200)
    serial_number = forms.CharField(
        label=_("Serial number"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": _("one per unit, separated by commas")}),
    )
    no_serial = forms.BooleanField(label=_("No serial number"), required=False)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        required=False,
        initial=1,
        widget=forms.NumberInput(attrs={"min": 1, "step": 1}),
    )
    service = forms.ChoiceField(
        label=_("Service"),
        required=False,
        choices=[("", _("proposed from category"))] + list(Service.choices),
    )
    manufacturer = forms.CharField(label=_("Manufacturer"), required=False, max_length=200)
    asset_number = forms.CharField(label=_("Asset number"), required=False, max_length=100)
    accessories = forms.CharField(label=_("Accessories"), required=False, max_length=300)
    special_requirements = forms.CharField(
        label=_("Special requirements"), required=False, max_length=500
    )

    # (field, Bootstrap column) per visual line of a row; _item_row.html follows this.
    MAIN_LAYOUT = (
        ("instrument_name", "col-6 col-md-2"),
        ("category", "col-6 col-md-3"),
        ("model", "col-6 col-md-2"),
        ("serial_number", "col-6 col-md-3"),
        ("quantity", "col-3 col-md-1"),
        ("no_serial", "col-3 col-md-1"),
    )
    DETAIL_LAYOUT = (
        ("service", "col-6 col-md-2"),
        ("manufacturer", "col-6 col-md-2"),
        ("asset_number", "col-6 col-md-2"),
        ("accessories", "col-6 col-md-3"),
        ("special_requirements", "col-12 col-md-3"),
    )
    DISPOSITION_LAYOUT: tuple = ()

    def __init__(self, *args, category_lookup: CategoryLookup | None = None,
                 datalist_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].lookup = category_lookup
        if datalist_id:
            self.fields["category"].widget.attrs["list"] = datalist_id
        for name, field in self.fields.items():
            field.widget.attrs["data-field"] = name

    @property
    def has_disposition(self) -> bool:
        return bool(self.DISPOSITION_LAYOUT)

    def _layout(self, layout):
        rows = []
        for name, css in layout:
            bound = self[name]
            if bound.errors:
                classes = bound.field.widget.attrs.get("class", "")
                if "is-invalid" not in classes:
                    bound.field.widget.attrs["class"] = f"{classes} is-invalid".strip()
            rows.append((bound, css))
        return rows

    def main_fields(self):
        return self._layout(self.MAIN_LAYOUT)

    def detail_fields(self):
        return self._layout(self.DETAIL_LAYOUT)

    def disposition_fields(self):
        return self._layout(self.DISPOSITION_LAYOUT)

    def field_groups(self) -> list[dict]:
        """The row's visual lines for ``_item_row.html``: main, detail, disposition."""
        groups = [
            {"name": "main", "fields": self.main_fields()},
            {"name": "detail", "fields": self.detail_fields()},
        ]
        if self.has_disposition:
            groups.append({"name": "disposition", "fields": self.disposition_fields()})
        return groups

    def is_blank(self) -> bool:
        """Nothing typed in the row (a blank row is ignored, not an error)."""
        data = getattr(self, "cleaned_data", None) or {}
        return not data.get("category") and not any(
            str(data.get(name) or "").strip() for name in TEXT_FIELDS
        )

    def line(self) -> dict:
        """The row as the services take it (category as the model instance)."""
        data = dict(self.cleaned_data)
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and not isinstance(field, CategoryField):
                data[name] = (data.get(name) or "").strip()
        return data


class BaseItemLineFormSet(forms.BaseFormSet):
    """Rows of ``ItemLineForm`` with the shared category lookup and datalist options."""

    check_scope = False  # the order form warns about the authorised scope; the portal does not

    def __init__(self, *args, on: date | None = None, **kwargs):
        self.on = on or timezone.localdate()
        super().__init__(*args, **kwargs)

    @classmethod
    def get_default_prefix(cls):
        return ITEM_PREFIX

    @cached_property
    def category_lookup(self) -> CategoryLookup:
        return CategoryLookup()

    @cached_property
    def category_options(self) -> list[CategoryOption]:
        return category_options(self.on)

    @property
    def datalist_id(self) -> str:
        return f"{self.prefix}-category-options"

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs.setdefault("category_lookup", self.category_lookup)
        kwargs.setdefault("datalist_id", self.datalist_id)
        return kwargs

    def lines(self) -> tuple[list[int], list[dict]]:
        """``(form indexes, line dicts)`` of the non-blank rows; call after ``is_valid()``."""
        indexes, lines = [], []
        for index, form in enumerate(self.forms):
            if form.is_blank():
                continue
            indexes.append(index)
            lines.append(form.line())
        return indexes, lines

    def add_line_errors(self, error, indexes: list[int]) -> bool:
        """Put a ``LinesInvalid``'s errors under their fields in the rows they came from.
        ``indexes[n]`` is the form of submitted line ``n + 1``.  False when nothing mapped."""
        mapped = False
        for problem in getattr(error, "line_errors", []):
            position = problem.line - 1
            if not 0 <= position < len(indexes):
                continue
            form = self.forms[indexes[position]]
            for name, messages in problem.errors.items():
                target = name if name in form.fields else None
                for message in messages:
                    form.add_error(target, message)
            mapped = True
        return mapped


ItemLineFormSet = forms.formset_factory(
    ItemLineForm, formset=BaseItemLineFormSet, extra=3, max_num=1000, absolute_max=2000
)


def line_initial(item) -> dict:
    """Initial form data from a saved line (an ``OrderItem`` or a ``RequestItem``)."""
    data = {name: getattr(item, name) for name in item.ITEM_FIELDS}
    for name in ("disposition", "disposition_reason", "subcontractor"):
        if hasattr(item, name):
            data[name] = getattr(item, name)
    return data
