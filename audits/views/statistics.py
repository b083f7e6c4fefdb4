"""Business statistics page and its Excel export (R-MGT-4).

For the leads (``statistics.view``): everyone else on the staff, and customers, get 404
like the other lead pages.  The page parses :class:`audits.forms.statistics.StatisticsForm`
and shows what :mod:`audits.services.statistics` computes: per statistic a chart (SVG
drawn on the server), the table of the same numbers and, with a breakdown, the table by
group and the period × group detail.  The export is the same report as a workbook, one
sheet per statistic, with the same blocks and the same numbers.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font

from audits.forms.statistics import BREAKDOWN_CHOICES, GROUPING_CHOICES, StatisticsForm
from audits.services import statistics as services
from labqms import permissions
from labqms.export import CONTENT_TYPE

FORBIDDEN_IN_SHEET_TITLES = str.maketrans({c: " " for c in "[]:*?/\\"})
NUMBER_FORMATS = {services.COUNT: "#,##0", services.MONEY: "#,##0.00", services.RATE: "0.0"}


def _choice(choices, value) -> str:
    return str(dict(choices).get(value, ""))


def criteria_summary(criteria: services.Criteria) -> list[tuple[str, str]]:
    """The filters in words, for the page heading, the print-out and each sheet."""
    items = [
        (_("Period"), f"{criteria.start.isoformat()} – {criteria.end.isoformat()}"),
        (_("Periods"), _choice(GROUPING_CHOICES, criteria.grouping)),
        (_("Breakdown"), _choice(BREAKDOWN_CHOICES, criteria.breakdown)),
    ]
    if criteria.category is not None:
        items.append((_("Instrument category"), f"{criteria.category.code} {criteria.category.name}"))
    if criteria.customer:
        items.append((_("Customer"), _("name contains “%(text)s”") % {"text": criteria.customer}))
    return items


def _report(request):
    """The form, the criteria (None when the filters are wrong), the statistics and when
    they were computed.  ``?refresh=1`` computes anew instead of reusing the last few
    minutes' figures."""
    permissions.require_or_404(request.user, "statistics.view")
    params = request.GET.copy()
    fresh = params.pop("refresh", None) is not None
    form = StatisticsForm(params or None)
    criteria = form.criteria()
    if criteria is None:
        return form, None, [], None
    statistics, computed_at = services.cached_statistics(criteria, fresh=fresh)
    return form, criteria, statistics, computed_at


@login_required
@require_GET
def statistics(request):
    """R-MGT-4: orders, samples, certificates by type, pass rate, on-time completion,
    payments, fees and complaints by period, optionally by category, department or customer."""
    form, criteria, report, computed_at = _report(request)
    params = request.GET.copy()
    params.pop("refresh", None)
    return render(request, "audits/statistics.html", {
        "form": form,
        "criteria": criteria,
        "summary": criteria_summary(criteria) if criteria else [],
        "statistics": report,
        "computed_at": computed_at,
        "cache_minutes": services.CACHE_SECONDS // 60,
        "breakdown_label": _choice(BREAKDOWN_CHOICES, criteria.breakdown) if criteria else "",
        "export_query": params.urlencode(),
        "refresh_query": f"{params.urlencode()}&refresh=1" if params else "refresh=1",
        "today": timezone.localdate(),
    })


@login_required
@require_GET
def statistics_export(request):
    """The page's report as .xlsx: one sheet per statistic, the same numbers."""
    _form, criteria, report, _computed_at = _report(request)
    if criteria is None:
        messages.error(request, _("Correct the filters below; the export uses the same ones."))
        query = request.GET.urlencode()
        return redirect(f"{reverse('audits:statistics')}?{query}" if query else reverse("audits:statistics"))
    reply = HttpResponse(statistics_workbook(report, criteria), content_type=CONTENT_TYPE)
    filename = f"statistics-{criteria.start.isoformat()}-{criteria.end.isoformat()}.xlsx"
    reply["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return reply


# --- the workbook ------------------------------------------------------------------------------


def _sheet_title(title: str, taken: set[str]) -> str:
    base = title.translate(FORBIDDEN_IN_SHEET_TITLES)[:31] or "Sheet"
    name, number = base, 2
    while name in taken:
        suffix = f" {number}"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def _write_table(sheet, first_headings: list[str], rows, statistic: services.Statistic, *, bold: Font,
                 label=lambda row: [row.label]) -> None:
    sheet.append([*first_headings, *[m.label for m in statistic.measures]])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in rows:
        sheet.append([*label(row), *[_value(row.values[m.key], m) for m in statistic.measures]])
        offset = len(first_headings)
        for measure, cell in zip(statistic.measures, sheet[sheet.max_row][offset:], strict=True):
            cell.number_format = NUMBER_FORMATS[measure.kind]


def _value(value, measure: services.Measure):
    if value is None:
        return None
    return int(value) if measure.kind == services.COUNT else float(value)


def statistics_workbook(report: list[services.Statistic], criteria: services.Criteria) -> bytes:
    """One sheet per statistic: title, filters, note, the period table with its total and,
    with a breakdown, the table by group and the period × group detail.  Numbers stay
    numbers (money with 2 decimals, rates in % with 1); no value (a rate of nothing) is an
    empty cell where the page shows "—"."""
    book = Workbook()
    book.remove(book.active)
    bold, heading = Font(bold=True), Font(bold=True, size=13)
    summary = "; ".join(f"{label}: {value}" for label, value in criteria_summary(criteria))
    taken: set[str] = set()
    for statistic in report:
        sheet = book.create_sheet(_sheet_title(statistic.title, taken))
        sheet.append([statistic.title])
        sheet["A1"].font = heading
        sheet.append([summary])
        sheet.append([statistic.note])
        if statistic.not_applicable:
            sheet.append([statistic.not_applicable])
            continue
        sheet.append([])
        _write_table(sheet, [_("Period")], [*statistic.periods, statistic.total], statistic, bold=bold)
        if statistic.breakdown:
            breakdown = _choice(BREAKDOWN_CHOICES, statistic.breakdown)
            sheet.append([])
            sheet.append([breakdown])
            sheet[f"A{sheet.max_row}"].font = bold
            if statistic.breakdown_not_applicable:
                sheet.append([statistic.breakdown_not_applicable])
            else:
                if statistic.breakdown_note:
                    sheet.append([statistic.breakdown_note])
                _write_table(sheet, [_("Group")], statistic.groups, statistic, bold=bold)
                sheet.append([])
                _write_table(sheet, [_("Period"), _("Group")], statistic.detail, statistic, bold=bold,
                             label=lambda row: [row.label, row.group])
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 22
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


urlpatterns = [
    path("statistics/", statistics, name="statistics"),
    path("statistics/export.xlsx", statistics_export, name="statistics_export"),
]
