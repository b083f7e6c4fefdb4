"""Staff lists as Excel workbooks (R-MGT-4: "Excel export of every statistic and list").

Every staff list answers ``?format=xlsx`` on its own URL: the view applies its
permission check and its filters exactly as for the page, then hands the filtered,
ordered rows to :func:`response` instead of paginating them.  The download therefore
holds the rows the filters select on every page, in the page's order, and nobody gets
rows the page would not show them.

The workbook is written with openpyxl's write-only mode while the rows are read with
``QuerySet.iterator(chunk_size=…)``, so memory stays flat however long the list is.
Cells keep their type: dates and datetimes are real Excel dates (datetimes in the lab's
local time, naive as Excel wants them), numbers stay numbers, choices show their label
in the active language.  Above ``settings.EXPORT_MAX_ROWS`` rows the export is refused
with a message back on the list: a silently truncated export is worse than none.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PARAM, VALUE = "format", "xlsx"
CHUNK_SIZE = 2000
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_SHEET_TITLE_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    """One column of an export: its heading (translated when the workbook is written),
    how to get the cell value from a row, and a width in characters."""

    heading: str | Promise
    value: Callable[[Any], Any]
    width: int = 16


def field(model: type[Model], path: str, *, heading: str | Promise | None = None, width: int = 16) -> Column:
    """A column for a model field, following ``a__b`` through to-one relations.

    The heading defaults to the field's verbose name (so the page, the PDF and the
    workbook use the same words); a field with choices shows its display label."""
    names = path.split("__")
    owner = model
    for name in names[:-1]:
        owner = owner._meta.get_field(name).related_model
    model_field = owner._meta.get_field(names[-1])

    def value(row):
        for name in names[:-1]:
            row = getattr(row, name)
            if row is None:
                return None
        if model_field.choices:
            return row._get_FIELD_display(model_field)
        return getattr(row, model_field.name)

    return Column(heading or capfirst(model_field.verbose_name), value, width)


def requested(request) -> bool:
    """True when the list was asked for as a workbook (``?format=xlsx``)."""
    return request.GET.get(PARAM) == VALUE


def response(
    request,
    rows: QuerySet | Iterable,
    columns: list[Column],
    *,
    name: str,
    title: str | Promise,
    prepare: Callable[[list], None] | None = None,
):
    """The rows as an .xlsx download named ``<name>-<lab's date>.xlsx``, or, above
    ``EXPORT_MAX_ROWS`` rows, a redirect back to the list (same filters) with a message.

    ``rows`` is the list's filtered, ordered queryset (with its select_related /
    prefetch_related, so the query count does not grow with the rows) or a list.
    ``prepare`` is what the list does to one page before showing it (attach counts,
    states…): it is called once per chunk of rows, so its queries do not grow either."""
    count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    limit = settings.EXPORT_MAX_ROWS
    if count > limit:
        messages.error(
            request,
            ngettext(
                "%(count)s row matches; narrow the filter to at most %(limit)s rows to export it.",
                "%(count)s rows match; narrow the filter to at most %(limit)s rows to export them.",
                count,
            )
            % {"count": count, "limit": limit},
        )
        params = request.GET.copy()
        params.pop(PARAM, None)
        return HttpResponseRedirect(f"{request.path}?{params.urlencode()}" if params else request.path)
    content = workbook(rows, columns, title=title, prepare=prepare)
    reply = HttpResponse(content, content_type=CONTENT_TYPE)
    reply["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{name}-{timezone.localdate().isoformat()}.xlsx"
    )
    return reply


def workbook(
    rows: QuerySet | Iterable,
    columns: list[Column],
    *,
    title: str | Promise,
    prepare: Callable[[list], None] | None = None,
) -> bytes:
    """The .xlsx bytes: a bold, frozen header row with an autofilter, one row per item."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(title).translate(_SHEET_TITLE_FORBIDDEN)[:31] or "Sheet1")
    # Write-only sheets take column widths and panes only before the first row.
    for number, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_text(str(column.heading)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    written = 0
    for chunk in _chunks(rows):
        if prepare is not None:
            prepare(chunk)
        for item in chunk:
            sheet.append([_cell(sheet, column.value(item)) for column in columns])
        written += len(chunk)
    last = get_column_letter(max(len(columns), 1))
    sheet.auto_filter.ref = f"A1:{last}{written + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _chunks(rows: QuerySet | Iterable) -> Iterable[list]:
    items = rows.iterator(chunk_size=CHUNK_SIZE) if isinstance(rows, QuerySet) else iter(rows)
    while chunk := list(islice(items, CHUNK_SIZE)):
        yield chunk


def _text(value: str) -> str:
    # Control characters make the file unreadable to Excel; they carry no meaning here.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _cell(sheet, value):
    """A value Excel understands, keeping its type; a styled cell where the type needs a
    number format."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        cell = WriteOnlyCell(sheet, value=float(value))
        places = max(-value.as_tuple().exponent, 0)
        cell.number_format = "0." + "0" * places if places else "0"
        return cell
    if isinstance(value, (list, tuple, set)):
        value = "; ".join(str(part) for part in value)
    text = _text(str(value))
    if text.startswith("="):
        # openpyxl would store it as a formula: text typed by a customer must never run.
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell
    return text
