"""Device lists as .xlsx: the template customers fill in, and reading it back.

Reading is all-or-nothing: every bad row is reported by its row number and nothing is
imported until the sheet is clean.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from intake.models import InstrumentCategory, Service

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024

# (field, Chinese heading, English heading) — either language is accepted on import.
COLUMNS = [
    ("instrument_name", "器具名称", "Instrument name"),
    ("category", "器具类别", "Category"),
    ("model", "型号规格", "Model / specification"),
    ("serial_number", "出厂编号", "Serial number"),
    ("no_serial", "无出厂编号", "No serial number"),
    ("manufacturer", "制造厂", "Manufacturer"),
    ("asset_number", "资产编号", "Asset number"),
    ("quantity", "数量", "Quantity"),
    ("accessories", "附件", "Accessories"),
    ("service", "申请服务", "Requested service"),
    ("special_requirements", "特殊要求", "Special requirements"),
]
REQUIRED = {"instrument_name", "category"}
YES = {"是", "y", "yes", "true", "1", "√", "x"}
SERVICE_WORDS = {
    "检定": Service.VERIFICATION,
    "校准": Service.CALIBRATION,
    "检测": Service.TESTING,
    "verification": Service.VERIFICATION,
    "calibration": Service.CALIBRATION,
    "testing": Service.TESTING,
}


def template_workbook() -> bytes:
    """The blank device list with both headings, an example row and a category sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = "器具清单 Items"
    ws.append([zh for _f, zh, _en in COLUMNS])
    ws.append([en for _f, _zh, en in COLUMNS])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1] + ws[2]:
        cell.font = bold
        cell.fill = fill
    for index, width in enumerate([22, 22, 18, 24, 10, 20, 14, 8, 20, 12, 24], start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    ws.freeze_panes = "A3"
    categories = list(InstrumentCategory.objects.filter(is_active=True).order_by("code"))
    sheet = wb.create_sheet("器具类别 Categories")
    sheet.append(["代码 Code", "名称", "Name", "强检 Compulsory", "默认服务 Default service"])
    for category in categories:
        sheet.append(
            [
                category.code,
                category.name_zh,
                category.name_en,
                "是" if category.compulsory else "否",
                str(Service(category.proposed_service()).label),
            ]
        )
    if categories:
        validation = DataValidation(
            type="list", formula1=f"='器具类别 Categories'!$A$2:$A${len(categories) + 1}"
        )
        ws.add_data_validation(validation)
        validation.add("B3:B2000")
    services = DataValidation(type="list", formula1='"检定,校准,检测"')
    ws.add_data_validation(services)
    services.add("J3:J2000")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class SheetResult:
    lines: list[dict]
    row_numbers: list[int]
    errors: list[str]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _find_category(value: str, cache: dict) -> InstrumentCategory | None:
    if value not in cache:
        cache[value] = (
            InstrumentCategory.objects.filter(
                Q(code__iexact=value) | Q(name_zh=value) | Q(name_en__iexact=value)
            ).first()
            if value
            else None
        )
    return cache[value]


def read_items(upload) -> SheetResult:
    """Parse an uploaded sheet into item dicts; structural and cell errors by row number.

    Line-level rules (serials, scope, quantity ≥ 1) are checked afterwards by
    :func:`intake.services.items.clean_lines`, whose line numbers map back to
    ``row_numbers``.
    """
    if getattr(upload, "size", 0) > MAX_BYTES:
        return SheetResult([], [], [_("The file is larger than 5 MB.")])
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, ParseError, OSError, KeyError, ValueError, TypeError):
        return SheetResult([], [], [_("This is not an .xlsx workbook. Use the template.")])
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, ())]
    by_heading = {}
    for name, zh, en in COLUMNS:
        by_heading[zh] = name
        by_heading[en.lower()] = name
    positions: dict[str, int] = {}
    unknown = []
    for index, heading in enumerate(header):
        if not heading:
            continue
        name = by_heading.get(heading) or by_heading.get(heading.lower())
        if name is None:
            unknown.append(heading)
        else:
            positions[name] = index
    missing = [zh for name, zh, _en in COLUMNS if name in REQUIRED and name not in positions]
    if missing or unknown:
        errors = []
        if missing:
            errors.append(_("Row 1: missing column(s): %(cols)s.") % {"cols": "、".join(missing)})
        if unknown:
            errors.append(_("Row 1: unknown column(s): %(cols)s.") % {"cols": "、".join(unknown)})
        errors.append(_("Download the template and keep its first row."))
        wb.close()
        return SheetResult([], [], errors)
    lines, numbers, errors = [], [], []
    categories: dict[str, InstrumentCategory | None] = {}
    english_heading_row = {en.lower() for _n, _zh, en in COLUMNS}
    for row_number, row in enumerate(rows, start=2):
        values = {name: _text(row[i]) if i < len(row) else "" for name, i in positions.items()}
        if not any(values.values()):
            continue
        if {v.lower() for v in values.values() if v} <= english_heading_row:
            continue  # the template's second (English) heading row
        if len(lines) >= MAX_ROWS:
            errors.append(_("More than %(max)s rows; split the list.") % {"max": MAX_ROWS})
            break
        row_errors = []
        category_text = values.get("category", "")
        category = _find_category(category_text, categories)
        if category is None:
            row_errors.append(
                _("unknown category “%(value)s”") % {"value": category_text}
                if category_text
                else _("category missing")
            )
        service_text = values.get("service", "")
        service = SERVICE_WORDS.get(service_text.lower(), None) if service_text else ""
        if service is None:
            row_errors.append(_("unknown service “%(value)s”") % {"value": service_text})
        quantity = values.get("quantity", "") or "1"
        try:
            number = float(quantity)
            if not number.is_integer():  # 2.5, nan, inf: never round silently
                raise ValueError(quantity)
            quantity = int(number)
        except ValueError:
            row_errors.append(_("quantity “%(value)s” is not a whole number") % {"value": quantity})
        if row_errors:
            errors.append(_("Row %(row)s: %(errors)s.") % {"row": row_number, "errors": "; ".join(row_errors)})
            continue
        lines.append(
            {
                "instrument_name": values.get("instrument_name", ""),
                "category": category,
                "model": values.get("model", ""),
                "serial_number": values.get("serial_number", ""),
                "no_serial": values.get("no_serial", "").lower() in YES,
                "manufacturer": values.get("manufacturer", ""),
                "asset_number": values.get("asset_number", ""),
                "quantity": quantity,
                "accessories": values.get("accessories", ""),
                "service": service or "",
                "special_requirements": values.get("special_requirements", ""),
            }
        )
        numbers.append(row_number)
    wb.close()
    if not lines and not errors:
        errors.append(_("The sheet has no item rows."))
    return SheetResult(lines, numbers, errors)
