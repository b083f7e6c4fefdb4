"""Server-rendered SVG charts for the statistics page: no JavaScript, no CDN.

:func:`svg_chart` turns labels and one or more series of numbers into the geometry of a
column chart (stacked when there are several series), a line chart (gaps where a value
is missing, e.g. a rate with nothing to divide) or a horizontal bar chart (long group
names); ``templates/audits/includes/chart_svg.html`` draws it.  Each chart carries a
``<title>`` and a ``<desc>`` for screen readers, every bar or point its own ``<title>``,
and the page shows the same numbers in a table next to it.  Colours are SVG presentation
attributes, not ``style=`` (the page's Content-Security-Policy refuses inline styles).

Template use: ``{% load statistics_charts %}{% period_chart statistic %}`` and
``{% group_chart statistic %}``.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()

PALETTE = ("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997")
WIDTH = 720
TOP_GROUPS = 12


@dataclass
class Geometry:
    chart_id: str
    title: str
    desc: str
    width: int = WIDTH
    height: int = 280
    bars: list = field(default_factory=list)  # (x, y, w, h, fill, tooltip)
    dots: list = field(default_factory=list)  # (cx, cy, fill, tooltip)
    lines: list = field(default_factory=list)  # "x,y x,y …" per unbroken run
    grid: list = field(default_factory=list)  # (x1, y1, x2, y2)
    texts: list = field(default_factory=list)  # (x, y, text, anchor, rotate)
    legend: list = field(default_factory=list)  # (x, y, fill, text, text x, text y)


def _num(value) -> float | None:
    return None if value is None else float(value)


def nice_max(value: float, *, at_least: float = 1) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ not below ``value`` (an axis that reads well)."""
    value = max(value, at_least)
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _rounded(value, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals.  Django's ``number_format`` cuts
    extra decimals off instead of rounding, and a float such as an axis tick 0.6 is
    0.5999… in binary, so it would read 0.59 (and 2.675 would read 2.67)."""
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt(value, kind: str = "count") -> str:
    """A number as the tables show it: thousands grouped, money with 2 decimals, a rate
    with 1, nothing to show as an em dash."""
    if value is None:
        return "—"
    if kind == "money":
        return number_format(_rounded(value, 2), 2, force_grouping=True)
    if kind == "rate":
        return number_format(_rounded(value, 1), 1)
    if float(value) == int(value):
        return number_format(int(value), force_grouping=True)
    return number_format(_rounded(value, 1), 1, force_grouping=True)


def _width_units(text: str) -> int:
    """Rough text width: a CJK character is as wide as two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _shorten(text: str, units: int) -> str:
    if _width_units(text) <= units:
        return text
    out = ""
    for char in text:
        if _width_units(out + char) > units - 1:
            break
        out += char
    return out + "…"


def _r(value: float) -> float:
    return round(value, 1)


def _axis(geo: Geometry, left: int, top: int, plot_w: float, plot_h: float, top_value: float, kind: str) -> None:
    for i in range(6):
        value = top_value * i / 5
        y = top + plot_h - plot_h * i / 5
        geo.grid.append((left, _r(y), _r(left + plot_w), _r(y)))
        tick = fmt(value, "money" if kind == "money" and value % 1 else "count")
        geo.texts.append((left - 6, _r(y + 4), tick, "end", None))


def svg_chart(
    *, chart_id: str, title: str, labels: list[str], series: list[tuple[str, list]], kind: str = "column",
    measure_kind: str = "count", unit: str = "",
) -> Geometry:
    """The geometry of one chart.  ``series`` is ``[(name, values)]`` with one value per
    label (None: no value).  ``kind``: "column", "line" or "bar" (horizontal)."""
    if kind == "bar":
        return _bar_chart(chart_id, title, labels, series, measure_kind, unit)
    n = max(len(labels), 1)
    every = math.ceil(n / 24)  # at most 24 period labels under the axis
    legend_h = 22 if len(series) > 1 else 0
    rotate = any(_width_units(label) * 7 > (WIDTH - 84) / n * every for label in labels)
    left, right, top, bottom = 72, 12, 20 + legend_h, 64 if rotate else 32
    geo = Geometry(chart_id, title, _describe(title, labels, series, measure_kind, unit, kind))
    plot_w, plot_h = WIDTH - left - right, geo.height - top - bottom
    if kind == "line" and measure_kind == "rate":
        top_value = 100.0
    else:
        stacks = [sum(_num(values[i]) or 0 for _name, values in series) for i in range(len(labels))]
        top_value = nice_max(max(stacks, default=0), at_least=5 if measure_kind == "count" else 1)
    _axis(geo, left, top, plot_w, plot_h, top_value, measure_kind)
    slot = plot_w / n

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    for i, label in enumerate(labels):
        centre = left + slot * i + slot / 2
        if i % every == 0:
            y_label = top + plot_h + 14
            if rotate:
                geo.texts.append((_r(centre), y_label, label, "end", (-40, _r(centre), y_label)))
            else:
                geo.texts.append((_r(centre), y_label, label, "middle", None))
    if kind == "line":
        _, values = series[0]
        run: list[str] = []
        for i, value in enumerate(values):
            centre = left + slot * i + slot / 2
            if value is None:
                if run:
                    geo.lines.append(" ".join(run))
                run = []
                continue
            y = y_of(_num(value))
            run.append(f"{_r(centre)},{_r(y)}")
            geo.dots.append((_r(centre), _r(y), PALETTE[0], f"{labels[i]}: {fmt(value, measure_kind)} {unit}".strip()))
            if n <= 16:
                geo.texts.append((_r(centre), _r(y - 7), fmt(value, measure_kind), "middle", None))
        if run:
            geo.lines.append(" ".join(run))
        return geo
    bar_w = min(max(slot * 0.7, 1), 56)
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        stacked = 0.0
        for j, (name, values) in enumerate(series):
            value = _num(values[i]) or 0.0
            y_top = y_of(stacked + value)
            what = f"{label} · {name}" if len(series) > 1 else label
            tooltip = f"{what}: {fmt(values[i], measure_kind)} {unit}".strip()
            height = y_of(stacked) - y_top
            geo.bars.append((_r(x), _r(y_top), _r(bar_w), _r(height), PALETTE[j % len(PALETTE)], tooltip))
            stacked += value
        if n <= 16:
            geo.texts.append((_r(x + bar_w / 2), _r(y_of(stacked) - 4), fmt(stacked, measure_kind), "middle", None))
    if len(series) > 1:
        x = left
        for j, (name, _values) in enumerate(series):
            geo.legend.append((_r(x), 8, PALETTE[j % len(PALETTE)], name, _r(x + 14), 17))
            x += 20 + _width_units(name) * 6.5
    return geo


def _bar_chart(chart_id, title, labels, series, measure_kind, unit) -> Geometry:
    _name, values = series[0]
    row_h, left, right, top, bottom = 24, 176, 64, 8, 8
    geo = Geometry(chart_id, title, _describe(title, labels, series, measure_kind, unit, "bar"))
    geo.height = top + row_h * max(len(labels), 1) + bottom
    plot_w = WIDTH - left - right
    top_value = 100.0 if measure_kind == "rate" else nice_max(max((_num(v) or 0 for v in values), default=0))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row_h * i
        length = plot_w * (_num(value) or 0) / top_value
        tooltip = f"{label}: {fmt(value, measure_kind)} {unit}".strip()
        geo.bars.append((left, y + 4, _r(length), row_h - 8, PALETTE[0], tooltip))
        geo.texts.append((left - 6, y + row_h / 2 + 4, _shorten(label, 26), "end", None))
        geo.texts.append((_r(left + length + 4), y + row_h / 2 + 4, fmt(value, measure_kind), "start", None))
    return geo


def _describe(title, labels, series, measure_kind, unit, kind) -> str:
    shape = {"column": _("Column chart"), "line": _("Line chart"), "bar": _("Bar chart")}[kind]
    if not labels:
        return _("%(shape)s of %(title)s: no data.") % {"shape": shape, "title": title}
    text = _(
        "%(shape)s of %(title)s, %(count)s values from %(first)s to %(last)s%(unit)s; "
        "the table beside it lists them."
    )
    return text % {
        "shape": shape, "title": title, "count": len(labels) * len(series), "first": labels[0], "last": labels[-1],
        "unit": f" ({unit})" if unit else "",
    }


@register.inclusion_tag("audits/includes/chart_svg.html")
def period_chart(statistic):
    """The statistic's chart measures over the periods."""
    measures = [statistic.measure(key) for key in statistic.chart_measures]
    title = _("%(statistic)s by period") % {"statistic": statistic.title}
    geo = svg_chart(
        chart_id=f"chart-{statistic.key}", title=title, labels=[row.label for row in statistic.periods],
        series=[(m.label, [row.values[m.key] for row in statistic.periods]) for m in measures],
        kind=statistic.chart_kind, measure_kind=measures[0].kind, unit=statistic.unit,
    )
    return {"chart": geo}


@register.inclusion_tag("audits/includes/chart_svg.html")
def group_chart(statistic):
    """The first chart measure over the whole range for the largest groups."""
    measure = statistic.measure(statistic.group_measure)
    rows = statistic.groups[:TOP_GROUPS]
    title = _("%(statistic)s by group (the %(count)s largest)") % {"statistic": statistic.title, "count": len(rows)}
    unit = {"money": _("CNY"), "rate": "%"}.get(measure.kind, "")
    geo = svg_chart(
        chart_id=f"chart-{statistic.key}-groups", title=title, labels=[row.label for row in rows],
        series=[(measure.label, [row.values[measure.key] for row in rows])], kind="bar",
        measure_kind=measure.kind, unit=unit,
    )
    return {"chart": geo}


@register.filter
def stat_value(values: dict, measure):
    """``{{ row.values|stat_value:measure }}``: the cell as the tables show it."""
    return fmt(values.get(measure.key), measure.kind)
