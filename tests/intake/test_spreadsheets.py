"""Device lists as .xlsx (R-INT-1, R-INT-2, R-INT-3): the template customers fill in,
and reading it back with every bad row reported by its row number."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook, load_workbook

from intake.services import orders as order_services
from intake.services.spreadsheets import COLUMNS, MAX_BYTES, read_items, template_workbook
from tests.intake.conftest import line

ZH = [zh for _f, zh, _en in COLUMNS]
EN = [en for _f, _zh, en in COLUMNS]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def upload(rows, name="清单.xlsx"):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def row(**values):
    """A data row in the template's column order."""
    return [values.get(field, "") for field, _zh, _en in COLUMNS]


@pytest.mark.django_db
def test_template_has_chinese_and_english_headings_and_the_categories(categories):
    """R-INT-1: the template customers download opens in any spreadsheet program."""
    wb = load_workbook(io.BytesIO(template_workbook()))
    items = wb.worksheets[0]
    assert [c.value for c in items[1]] == ZH
    assert [c.value for c in items[2]] == EN
    assert "器具名称" in ZH and "出厂编号" in ZH and "Serial number" in EN
    codes = [r[0] for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert codes == ["BP", "CT", "PUMP"]


@pytest.mark.django_db
def test_blank_template_reads_as_empty(categories):
    """The template's own English heading row is not an item; nothing filled in → error."""
    result = read_items(SimpleUploadedFile("t.xlsx", template_workbook(), content_type=XLSX))
    assert result.lines == []
    assert result.errors == ["The sheet has no item rows."]


@pytest.mark.django_db
def test_good_sheet_gives_lines_and_row_numbers(categories):
    """R-INT-3: category by code or by Chinese name, service words 检定/校准, 无出厂编号 是;
    blank rows are skipped and row numbers are the sheet's."""
    sheet = upload(
        [
            ZH,
            row(instrument_name="血压计", category="BP", model="HEM-7121", serial_number="BP-1", quantity=1,
                service="检定", manufacturer="欧姆龙"),
            row(instrument_name="输液泵", category="输液泵", serial_number="P1, P2", quantity=2, service="校准",
                accessories="电源线"),
            [None] * len(ZH),
            row(instrument_name="注射泵", category="pump", no_serial="是", quantity="1"),
        ]
    )
    result = read_items(sheet)
    assert result.errors == []
    assert result.row_numbers == [2, 3, 5]
    first, second, third = result.lines
    assert (first["instrument_name"], first["category"], first["model"]) == ("血压计", categories["bp"], "HEM-7121")
    assert (first["serial_number"], first["service"], first["no_serial"]) == ("BP-1", "verification", False)
    assert first["manufacturer"] == "欧姆龙"
    assert (second["category"], second["quantity"], second["service"]) == (categories["pump"], 2, "calibration")
    assert second["serial_number"] == "P1, P2" and second["accessories"] == "电源线"
    assert (third["category"], third["no_serial"], third["service"]) == (categories["pump"], True, "")


@pytest.mark.django_db
def test_english_headings_and_numeric_cells_are_read(categories):
    sheet = upload([EN, row(instrument_name="BP monitor", category="Sphygmomanometer", serial_number=12345,
                            quantity=1.0, service="Verification")])
    result = read_items(sheet)
    assert result.errors == []
    assert result.lines[0]["category"] == categories["bp"]
    assert (result.lines[0]["serial_number"], result.lines[0]["quantity"]) == ("12345", 1)


@pytest.mark.django_db
def test_imported_lines_go_through_the_order_rules_by_row_number(make_order, categories, clerk):
    """R-INT-2: an imported out-of-scope item is refused like a typed one, reported by its
    sheet row; a clean sheet is appended to the draft order."""
    order = make_order([line(categories["bp"], "B-0")], stage="draft")
    bad = read_items(upload([ZH, row(instrument_name="血压计", category="BP", serial_number="B-1"),
                             row(instrument_name="CT", category="CT", serial_number="C-1")]))
    assert bad.errors == []
    with pytest.raises(order_services.LinesInvalid) as error:
        order_services.append_lines(actor=clerk, order=order, lines=bad.lines, first_line_numbers=bad.row_numbers)
    assert [e.line for e in error.value.line_errors] == [3]
    assert order.items.count() == 1

    good = read_items(upload([ZH, row(instrument_name="血压计", category="血压计", serial_number="B-1, B-2",
                                      quantity=2)]))
    assert order_services.append_lines(
        actor=clerk, order=order, lines=good.lines, first_line_numbers=good.row_numbers
    ) == 1
    assert list(order.items.order_by("line_no").values_list("serial_number", flat=True)) == ["B-0", "B-1, B-2"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "heading",
    [
        ["名称", "类别", "出厂编号"],  # unknown columns, required ones missing
        ["器具名称", "出厂编号"],  # category missing
        ZH + ["备注"],  # an extra unknown column
    ],
)
def test_wrong_columns_are_reported_on_row_1_and_nothing_is_read(categories, heading):
    """The first row must be the template's: errors name row 1, no lines are returned."""
    result = read_items(upload([heading, ["血压计", "BP", "B1"] + [""] * 20]))
    assert result.lines == [] and result.row_numbers == []
    assert result.errors and result.errors[0].startswith("Row 1:")


@pytest.mark.django_db
def test_bad_rows_are_reported_by_row_number(categories):
    """Unknown category, missing category, bad or fractional quantity and unknown service:
    each row by number."""
    result = read_items(
        upload(
            [
                ZH,
                row(instrument_name="血压计", category="BP", serial_number="B1"),
                row(instrument_name="某器具", category="不存在", serial_number="X1"),
                row(instrument_name="输液泵", category="PUMP", serial_number="P1", quantity="两台"),
                row(instrument_name="输液泵", category="", serial_number="P2"),
                row(instrument_name="输液泵", category="PUMP", serial_number="P3", service="维修"),
                row(instrument_name="输液泵", category="PUMP", serial_number="P4, P5", quantity=2.5),
                row(instrument_name="输液泵", category="PUMP", serial_number="P6", quantity="inf"),
            ]
        )
    )
    assert len(result.errors) == 6
    row3, row4, row5, row6, row7, row8 = result.errors
    assert row7.startswith("Row 7:") and "2.5" in row7  # never rounded down silently
    assert row8.startswith("Row 8:") and "inf" in row8
    assert row3.startswith("Row 3:") and "不存在" in row3
    assert row4.startswith("Row 4:") and "两台" in row4
    assert row5.startswith("Row 5:") and "category missing" in row5
    assert row6.startswith("Row 6:") and "维修" in row6
    assert result.row_numbers == [2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("清单.xlsx", b"this is not a workbook"),
        ("清单.csv", "器具名称,器具类别\n血压计,BP\n".encode()),
        ("清单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512),  # old binary Excel
        ("empty.xlsx", b""),
        ("notes.xlsx", _zip({"readme.txt": "hello"})),  # a zip, but not a workbook
        ("broken.xlsx", _zip({"[Content_Types].xml": "<Types"})),  # damaged package XML
    ],
)
def test_non_xlsx_upload_gives_a_clear_error(categories, name, content):
    """A file that is not .xlsx is reported, not a server error."""
    result = read_items(SimpleUploadedFile(name, content))
    assert result.lines == []
    assert result.errors == ["This is not an .xlsx workbook. Use the template."]


@pytest.mark.django_db
def test_too_large_upload_is_refused(categories):
    result = read_items(SimpleUploadedFile("big.xlsx", b"0" * (MAX_BYTES + 1)))
    assert result.lines == [] and "5 MB" in result.errors[0]


@pytest.mark.django_db
def test_empty_sheet_is_an_error(categories):
    """A workbook without any row, or with the heading only, gives an error, not zero lines."""
    empty = read_items(upload([]))
    assert empty.lines == [] and empty.errors
    heading_only = read_items(upload([ZH]))
    assert heading_only.lines == [] and heading_only.errors == ["The sheet has no item rows."]
