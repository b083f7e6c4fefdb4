"""Small pieces the labqms views share: request parameters and the reason-only POST."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from labqms import forms

YEAR_RANGE = (2004, 2100)  # what the official calendar and the numbering can mean


def year_param(request) -> int:
    """``?year=`` as an int within ``YEAR_RANGE``; this year when missing or malformed."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return min(max(year, YEAR_RANGE[0]), YEAR_RANGE[1])


PER_PAGE_CHOICES = (25, 50, 100)


def page_size(request) -> int:
    """``?per_page=`` when it is one of ``PER_PAGE_CHOICES``; the first (25) otherwise,
    so a hand-edited URL cannot ask for a page of a million rows."""
    try:
        size = int(request.GET.get("per_page", ""))
    except ValueError:
        return PER_PAGE_CHOICES[0]
    return size if size in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0]


def querystring_without_page(request) -> str:
    """The current filters, for pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def sort_links(request, keys, current: str) -> dict[str, str]:
    """``{column: query string}`` for sortable list headers: a click sorts by the column,
    a second click reverses; the page number is dropped."""
    links = {}
    for key in keys:
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = f"-{key}" if current == key else key
        links[key] = params.urlencode()
    return links


def run_with_reason(request, call: Callable[[str], object], *, missing: str, done: str) -> bool:
    """Handle a POST whose only input is a reason: call ``call(reason)``, report the
    outcome as a message.  Returns True when the service accepted it."""
    form = forms.ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(missing)
        call(form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, done)
    return True
