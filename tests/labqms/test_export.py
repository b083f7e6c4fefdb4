"""The Excel writer every staff list uses (labqms.export) and the rows-per-page helper
(labqms.views.helpers.page_size) — R-MGT-4 "Excel export of every statistic and list".

The helpers at the top are shared by each app's ``test_list_exports.py``."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from labqms import export
from labqms.models import Activity, AuditEvent, Authorisation
from labqms.views.helpers import page_size
from tests.factories import AuthorisationFactory

# --- shared helpers ---------------------------------------------------------------------


def sheet_of(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == export.CONTENT_TYPE
    return load_workbook(io.BytesIO(response.content)).active


def rows_of(response) -> tuple[list, list[list]]:
    """(header, data rows) of a downloaded workbook."""
    values = [[cell.value for cell in row] for row in sheet_of(response).iter_rows()]
    return values[0], values[1:]


def column(response, heading) -> list:
    header, rows = rows_of(response)
    index = header.index(heading)
    return [row[index] for row in rows]


def get_xlsx(client, url, params=None):
    return client.get(url, {**(params or {}), "format": "xlsx"})


def queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return len(captured)


def assert_export_is_the_list(client, url, params, key, heading, *, page_rows=None):
    """The workbook holds exactly the rows the filtered list shows on all its pages, in
    the same order: ``key(row)`` of the page's rows equals the ``heading`` column."""
    page = client.get(url, {**params, "per_page": 100}).context["page"]
    assert page.paginator.num_pages == 1, "make fewer rows or compare page by page"
    shown = [key(row) for row in (page_rows(page) if page_rows else page.object_list)]
    exported = column(get_xlsx(client, url, params), heading)
    assert exported == shown
    return shown


def assert_paging_and_export_queries_are_constant(client, url, add_rows, *, params=None, page_len=None):
    """With 3 rows, then 30: the export's queries do not grow and it holds every row;
    the page's queries are the same at per_page=25 (a full page) and at per_page=100
    (all 30 rows); per_page=7 falls back to 25 (R-MGT-4)."""
    params = params or {}
    page_len = page_len or (lambda response: len(response.context["page"].object_list))
    add_rows(3)
    few = queries(client, url, {**params, "format": "xlsx"})
    add_rows(27)
    many = queries(client, url, {**params, "format": "xlsx"})
    header, rows = rows_of(get_xlsx(client, url, params))
    assert len(rows) >= 30
    assert many == few, f"export: {few} queries for 3 rows, {many} for 30"
    at_25 = queries(client, url, {**params, "per_page": 25})
    at_100 = queries(client, url, {**params, "per_page": 100})
    assert at_25 == at_100, f"page: {at_25} queries at 25 rows, {at_100} at 100"
    assert page_len(client.get(url, {**params, "per_page": 100})) == len(rows)
    assert page_len(client.get(url, {**params, "per_page": 25})) == 25
    assert page_len(client.get(url, {**params, "per_page": 7})) == 25


def english(client):
    client.cookies["django_language"] = "en"
    return client


def assert_header_translated(client, url, column: int, english_text: str) -> None:
    """The export's header follows the visitor's language: zh-hans by default, English
    with the language cookie (``client`` is signed in; the list has a row)."""
    chinese = rows_of(get_xlsx(client, url))[0][column]
    with translation.override("zh-hans"):
        assert chinese == translation.gettext(english_text) != english_text
    assert rows_of(get_xlsx(english(client), url))[0][column] == english_text


# --- rows per page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size"),
    [(None, 25), ("25", 25), ("50", 50), ("100", 100), ("7", 25), ("1000", 25), ("-50", 25), ("x", 25), ("", 25)],
)
def test_page_size_allows_25_50_100_and_falls_back_to_25(value, size):
    """R-MGT-4: a list shows 25, 50 or 100 rows; anything else shows 25."""
    request = RequestFactory().get("/", {} if value is None else {"per_page": value})
    assert page_size(request) == size


# --- the workbook -------------------------------------------------------------------------


@pytest.fixture
def sample_rows():
    aware = timezone.make_aware(dt.datetime(2026, 11, 21, 8, 30), dt.UTC)  # 16:30 in Shanghai
    return [
        SimpleNamespace(
            name="甲", when=aware, day=dt.date(2026, 11, 21), amount=Decimal("80.50"), n=3, ok=True,
            note="=HYPERLINK(\"http://x\")", tags=["a", "b"], none=None, bad="x\x01y",
        ),
        SimpleNamespace(
            name="乙", when=None, day=None, amount=Decimal("7"), n=0, ok=False, note="plain", tags=[], none=None, bad="",
        ),
    ]


def _columns():
    return [
        export.Column("Name", lambda r: r.name),
        export.Column("When", lambda r: r.when),
        export.Column("Day", lambda r: r.day),
        export.Column("Amount", lambda r: r.amount),
        export.Column("N", lambda r: r.n),
        export.Column("OK", lambda r: r.ok),
        export.Column("Note", lambda r: r.note),
        export.Column("Tags", lambda r: r.tags),
        export.Column("None", lambda r: r.none),
        export.Column("Bad", lambda r: r.bad),
    ]


def test_workbook_keeps_types_and_has_a_bold_frozen_filtered_header(sample_rows, settings):
    """R-MGT-4: real dates (datetimes in the lab's local time), numbers as numbers,
    a bold frozen header with an autofilter; text that looks like a formula stays text."""
    settings.TIME_ZONE = "Asia/Shanghai"
    with translation.override("en"):
        content = export.workbook(sample_rows, _columns(), title="Orders: [all]")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.title == "Orders   all "
    assert [c.value for c in sheet[1]] == ["Name", "When", "Day", "Amount", "N", "OK", "Note", "Tags", "None", "Bad"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J3"
    first = [c for c in sheet[2]]
    assert first[1].value == dt.datetime(2026, 11, 21, 16, 30)  # naive, local
    assert first[1].is_date and first[2].is_date
    assert first[2].value == dt.datetime(2026, 11, 21)
    assert first[3].value == 80.5 and first[3].number_format == "0.00"
    assert first[4].value == 3 and first[4].data_type == "n"
    assert first[5].value == "Yes"
    assert first[6].value == '=HYPERLINK("http://x")' and first[6].data_type == "s"
    assert first[7].value == "a; b"
    assert first[8].value is None
    assert first[9].value == "xy"
    second = [c.value for c in sheet[3]]
    assert second[1] is None and second[2] is None
    assert second[3] == 7 and sheet[3][3].number_format == "0"
    assert second[5] == "No"


def test_workbook_of_no_rows_is_a_header_only(db):
    content = export.workbook([], _columns(), title="x")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_row == 1
    assert sheet.auto_filter.ref == "A1:J1"


def test_field_column_uses_verbose_name_and_choice_labels_in_the_active_language(db):
    """Headings and choice labels follow the active language (zh-hans by default);
    ``a__b`` follows a relation."""
    authorisation = AuthorisationFactory(activity=Activity.CHECK_RECORDS, person__full_name="赵磊")
    columns = [
        export.field(Authorisation, "person__full_name"),
        export.field(Authorisation, "activity"),
        export.field(Authorisation, "valid_until"),
    ]
    with translation.override("en"):
        header, rows = _read(export.workbook([authorisation], columns, title="t"))
        assert header == ["Full name", "Activity", "Valid until"]
        assert rows == [["赵磊", "Check records", dt.datetime(2030, 12, 31)]]
    with translation.override("zh-hans"):
        zh_header, zh_rows = _read(export.workbook([authorisation], columns, title="t"))
        assert zh_header[1] == translation.gettext("Activity") != "Activity"
        assert zh_rows[0][1] == str(Activity.CHECK_RECORDS.label) != "Check records"


def _read(content):
    values = [[c.value for c in row] for row in load_workbook(io.BytesIO(content)).active.iter_rows()]
    return values[0], values[1:]


def test_querysets_are_read_in_chunks_with_prepare_called_per_chunk(db, technician, monkeypatch):
    """Memory stays flat: a queryset is iterated in chunks and ``prepare`` sees each."""
    monkeypatch.setattr(export, "CHUNK_SIZE", 2)
    for i in range(5):
        AuditEvent.objects.create(actor=technician, source="test", action=f"a.{i}")
    seen = []
    content = export.workbook(
        AuditEvent.objects.order_by("id"), [export.Column("a", lambda e: e.action)], title="t",
        prepare=lambda chunk: seen.append(len(chunk)),
    )
    assert seen == [2, 2, 1]
    assert [r[0] for r in _read(content)[1]] == [f"a.{i}" for i in range(5)]


# --- the download and the cap (on a real list: the audit trail) ------------------------


@pytest.fixture
def head_client(client, head):
    client.force_login(head)
    return english(client)


def _events(n, actor):
    AuditEvent.objects.bulk_create(AuditEvent(actor=actor, source="test", action="t.e", target_repr=f"E{i}") for i in range(n))


@pytest.mark.django_db
def test_the_download_is_named_after_the_list_and_the_labs_date(head_client, head):
    _events(2, head)
    response = get_xlsx(head_client, reverse("people:audit_list"))
    assert response["Content-Type"] == export.CONTENT_TYPE
    expected = f"audit-trail-{timezone.localdate().isoformat()}.xlsx"
    assert response["Content-Disposition"] == f'attachment; filename="{expected}"'


@pytest.mark.django_db
def test_above_the_cap_the_export_is_refused_with_a_message_on_the_list(head_client, head, settings):
    """R-MGT-4: no silent truncation — above EXPORT_MAX_ROWS the list comes back with
    the filters kept and a message saying how many rows match."""
    settings.EXPORT_MAX_ROWS = 2
    _events(3, head)
    url = reverse("people:audit_list")
    response = get_xlsx(head_client, url, {"q": "E"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?q=E"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["3 rows match; narrow the filter to at most 2 rows to export them."]
    page = head_client.get(response["Location"])
    assert "3 rows match" in page.content.decode()
    # Narrowed to two rows it downloads.
    assert len(rows_of(get_xlsx(head_client, url, {"q": "E1"}))[1]) == 1
    settings.EXPORT_MAX_ROWS = 3
    assert len(rows_of(get_xlsx(head_client, url, {"q": "E"}))[1]) == 3


@pytest.mark.django_db
def test_every_list_page_offers_the_export_and_rows_per_page(head_client, head):
    _events(30, head)
    url = reverse("people:audit_list")
    content = head_client.get(url, {"q": "E", "page": 2}).content.decode()
    assert 'href="?q=E&amp;format=xlsx" data-testid="export-xlsx"' in content
    assert 'href="?q=E&amp;per_page=100"' in content
    assert 'href="?q=E&amp;per_page=50"' in content
    assert 'href="?q=E"' in content  # 25: the default, no parameter
    response = head_client.get(url, {"q": "E", "per_page": 50})
    assert len(response.context["page"].object_list) == 30
    assert 'class="btn btn-outline-secondary active" href="?q=E&amp;per_page=50"' in response.content.decode()


@pytest.mark.django_db
def test_people_list_has_no_export_for_customers(client, customer):
    client.force_login(customer)
    assert get_xlsx(client, reverse("people:person_list")).status_code == 404
    assert get_xlsx(client, reverse("people:audit_list")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["intake:order_list", "intake:sample_list", "certificates:certificate_list", "complaints:complaint_list",
             "audits:finding_list", "equipment:equipment_list", "people:audit_list"],
)
def test_r_mgt_4_the_filter_form_keeps_the_chosen_rows_per_page(client, head, name):
    """Filtering again keeps 50 rows per page: the list's filter form (id list-filters)
    carries a hidden per_page field; at the default 25 nothing extra is sent."""
    client.force_login(head)
    body = client.get(reverse(name), {"per_page": 50}).content.decode()
    assert body.count('id="list-filters"') == 1
    assert 'name="per_page" value="50" form="list-filters"' in body
    default = client.get(reverse(name)).content.decode()
    assert 'name="per_page" value=' not in default
