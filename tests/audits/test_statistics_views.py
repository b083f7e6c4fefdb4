"""The statistics page and its Excel export (R-MGT-4): who may see them, the numbers of
the known dataset on the page and in the workbook, the filters, the charts, and a
constant number of queries.  The dataset and its hand-computed figures are in
``tests/audits/test_statistics.py``."""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audits.templatetags.statistics_charts import fmt
from labqms.models import Role
from tests.audits.test_statistics import LAB, add_volume, build_world
from tests.factories import DelegationFactory

URL = reverse("audits:statistics")
EXPORT = reverse("audits:statistics_export")
YEAR = {"start": "2026-01-01", "end": "2026-12-31"}
SVG = "{http://www.w3.org/2000/svg}"
D = Decimal


@pytest.fixture(autouse=True)
def _no_cached_figures():
    """The page keeps its figures for minutes (in the process's memory in tests)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stats_world(db):
    """The known dataset of ``tests/audits/test_statistics.py``."""
    return build_world()


@pytest.fixture
def lead_client(client, qualitylead):
    client.force_login(qualitylead)
    client.cookies["django_language"] = "en"
    return client


def page(client, **params):
    response = client.get(URL, {**YEAR, **params})
    assert response.status_code == 200
    return response, response.content.decode()


def cells(html: str, testid: str) -> dict[tuple[str, str], str]:
    """``{(row label, measure): text}`` of one table on the page."""
    table = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', html, re.S).group(0)
    result = {}
    for label, row in re.findall(r'<tr[^>]*data-label="([^"]*)"[^>]*>(.*?)</tr>', table, re.S):
        for measure, text in re.findall(r'data-measure="([^"]+)">([^<]*)<', row):
            result[(label, measure)] = text
    return result


# --- who may see it --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [URL, EXPORT])
@pytest.mark.parametrize(
    "role, status",
    [(Role.TECHNICAL_LEAD, 200), (Role.QUALITY_LEAD, 200), (Role.LAB_HEAD, 200),
     (Role.COUNTER_STAFF, 404), (Role.TECHNICIAN, 404), (Role.CUSTOMER, 404)],
)
def test_only_the_leads_see_the_statistics_R_MGT_4(client, make_user, url, role, status):
    """Counter staff, technicians and customers get 404, like the other lead pages."""
    client.force_login(make_user(role, username=f"u_{role}"))
    assert client.get(url).status_code == status


@pytest.mark.django_db
def test_strangers_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_a_deputy_sees_them_while_acting_for_a_lead_R_MGT_4(client, make_user, head):
    """R-PER-6: the delegation gives the lead's role, and with it the statistics."""
    lead = make_user(Role.QUALITY_LEAD, username="ql_away")
    deputy = make_user(Role.TECHNICIAN, username="deputy_t")
    client.force_login(deputy)
    assert client.get(URL).status_code == 404
    today = timezone.localdate()
    DelegationFactory(lead=lead, deputy=deputy, role=Role.QUALITY_LEAD, created_by=head,
                      valid_from=today - dt.timedelta(days=2), valid_until=today + dt.timedelta(days=2))
    assert client.get(URL).status_code == 200


# --- the numbers on the page -----------------------------------------------------------------


def test_page_shows_each_statistic_by_month_with_its_total_R_MGT_4(lead_client, stats_world):
    response, html = page(lead_client)
    orders = cells(html, "table-orders-periods")
    assert (orders[("2026-01", "received")], orders[("2026-02", "received")], orders[("2026-03", "received")]) == ("3", "1", "1")
    assert orders[("Total", "received")] == "7" and orders[("Total", "declined")] == "1"
    certificates = cells(html, "table-certificates-periods")
    assert certificates[("2026-02", "verification_certificate")] == "2" and certificates[("Total", "total")] == "6"
    rate = cells(html, "table-pass_rate-periods")
    assert rate[("2026-01", "rate")] == "50.0" and rate[("Total", "rate")] == "75.0"
    assert rate[("2026-03", "rate")] == "—"  # no record: no rate
    on_time = cells(html, "table-on_time-periods")
    assert on_time[("2026-10", "rate")] == "50.0" and on_time[("Total", "rate")] == "50.0"
    assert cells(html, "table-payments-periods")[("Total", "amount")] == "470.00"
    assert cells(html, "table-fees-periods")[("2026-03", "fees")] == "300.00"
    assert cells(html, "table-complaints-periods")[("Total", "substantiated")] == "1"
    for key in ("orders", "samples", "certificates", "pass_rate", "on_time", "payments", "fees", "complaints"):
        assert f'data-testid="stat-{key}"' in html and f'data-testid="note-{key}"' in html


def test_page_with_a_breakdown_shows_the_groups_and_the_detail_R_MGT_4(lead_client, stats_world):
    _response, html = page(lead_client, breakdown="department", grouping="quarter")
    groups = cells(html, "table-fees-groups")
    assert groups[(LAB, "fees")] == "240.00" and groups[("Department not known", "fees")] == "300.00"
    assert cells(html, "table-pass_rate-groups")[(LAB, "rate")] == "100.0"
    assert cells(html, "table-orders-periods")[("2026 Q1", "received")] == "5"
    assert 'data-testid="breakdown-note-orders"' in html
    assert 'data-testid="breakdown-not-applicable-payments"' in html
    assert 'data-testid="table-certificates-detail"' in html


def test_page_shows_no_rate_as_a_dash_when_nothing_was_verified_R_MGT_4(lead_client, stats_world):
    _response, html = page(lead_client, start="2025-01-01", end="2025-12-31")
    rate = cells(html, "table-pass_rate-periods")
    assert rate[("Total", "rate")] == "—" and rate[("Total", "verified")] == "0"


def test_page_defaults_to_this_year_by_month(lead_client, stats_world):
    response = lead_client.get(URL)
    assert response.status_code == 200
    criteria = response.context["criteria"]
    today = response.context["today"]
    assert (criteria.start, criteria.end, criteria.grouping) == (dt.date(today.year, 1, 1), today, "month")


def test_page_renders_in_the_default_language(client, qualitylead, stats_world):
    client.force_login(qualitylead)
    response = client.get(URL, {**YEAR, "breakdown": "customer"})
    assert response.status_code == 200 and "市第一人民医院" in response.content.decode()


# --- the charts ------------------------------------------------------------------------------


def test_every_chart_on_the_page_is_valid_svg_with_a_bar_per_value_R_MGT_4(lead_client, stats_world):
    _response, html = page(lead_client, breakdown="customer")
    svgs = {ET.fromstring(svg).get("data-testid"): ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S)}
    assert svgs["chart-orders"].find(f"{SVG}title").text == "Orders received by period"
    assert len(svgs["chart-orders"].findall(f"{SVG}rect[@class='bar']")) == 12
    assert len(svgs["chart-certificates"].findall(f"{SVG}rect[@class='bar']")) == 12 * 4  # stacked by type
    assert len(svgs["chart-pass_rate"].findall(f"{SVG}circle[@class='point']")) == 3  # months with a rate
    assert len(svgs["chart-orders-groups"].findall(f"{SVG}rect[@class='bar']")) == 2  # two customers
    assert "chart-payments-groups" in svgs and "chart-payments" in svgs
    for svg in svgs.values():
        assert svg.get("role") == "img" and svg.find(f"{SVG}desc").text


def test_page_has_no_inline_script_or_style(lead_client, stats_world):
    _response, html = page(lead_client, breakdown="category")
    assert "<script>" not in html and " style=" not in html


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"start": "2026-12-31", "end": "2026-01-01"}, "end", "The end of the range is before its start."),
        ({"start": "2026-02-30"}, "start", "Enter a valid date."),
        ({"start": "2010-01-01", "end": "2026-01-01"}, "end", "Choose a range of at most 10 years."),
        ({"start": "1900-01-01", "end": "1900-02-01"}, "start", "Choose a date between 2004 and 2100."),
        ({"customer": "不存在的医院"}, "customer", "No customer's name contains “不存在的医院”."),
        ({"category": "999999"}, "category", "Select a valid choice."),
        ({"grouping": "week"}, "grouping", "Select a valid choice."),
        ({"breakdown": "colour"}, "breakdown", "Select a valid choice."),
    ],
)
def test_bad_filter_input_gives_a_clear_message_and_keeps_the_input(lead_client, stats_world, params, field, message):
    response = lead_client.get(URL, params)
    html = response.content.decode()
    assert response.status_code == 200 and response.context["criteria"] is None
    assert message in response.context["form"].errors[field][0]
    assert f'data-testid="error-{field}"' in html and 'data-testid="statistics-errors"' in html
    assert 'data-testid="stat-orders"' not in html and 'data-testid="export-link"' not in html
    for name, value in params.items():
        if name in ("start", "end", "customer"):
            assert f'value="{value}"' in html  # what was typed is still in the field


def test_category_and_customer_filters_on_the_page_R_MGT_4(lead_client, stats_world):
    _response, html = page(lead_client, category=str(stats_world.pump.pk), customer="二院")
    assert cells(html, "table-orders-periods")[("Total", "received")] == "2"  # O3 and O5
    assert 'data-testid="not-applicable-payments"' in html
    assert "name contains “二院”" in html


# --- the export ------------------------------------------------------------------------------


def sheet_tables(sheet) -> dict[str, dict]:
    """``{first-column label: {measure heading: value}}`` for every table row of a sheet
    (later tables win for equal labels: call it on a sheet without breakdown)."""
    rows, header = {}, None
    for values in sheet.iter_rows(min_row=4, values_only=True):
        if not any(v is not None for v in values):
            header = None
            continue
        if header is None:
            header = values
            continue
        rows[values[0]] = dict(zip(header[1:], values[1:], strict=True))
    return rows


def test_export_has_one_sheet_per_statistic_with_the_numbers_of_the_page_R_MGT_4(lead_client, stats_world):
    response, html = page(lead_client)
    export = lead_client.get(EXPORT, YEAR)
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="statistics-2026-01-01-2026-12-31.xlsx"' in export["Content-Disposition"]
    book = load_workbook(io.BytesIO(export.content))
    statistics = response.context["statistics"]
    assert book.sheetnames == [s.title for s in statistics]
    for statistic in statistics:
        sheet = book[statistic.title]
        assert sheet["A1"].value == statistic.title and sheet["A3"].value == statistic.note
        table = sheet_tables(sheet)
        page_cells = cells(html, f"table-{statistic.key}-periods")
        for row in [*statistic.periods, statistic.total]:
            for measure in statistic.measures:
                value = table[row.label][measure.label]
                expected = row.values[measure.key]
                assert value == (None if expected is None else pytest.approx(float(expected))), (statistic.key, row.label)
                assert fmt(None if value is None else D(str(value)), measure.kind) == page_cells[(row.label, measure.key)]
    orders = sheet_tables(book["Orders received"])
    assert orders["2026-01"]["Orders received"] == 3 and orders["Total"]["Orders received"] == 7
    assert sheet_tables(book["Payments received"])["Total"]["Amount received (CNY)"] == 470.0
    assert sheet_tables(book["Pass rate"])["2026-03"]["Pass rate (%)"] is None


def test_export_with_a_breakdown_holds_the_groups_and_the_detail_R_MGT_4(lead_client, stats_world):
    export = lead_client.get(EXPORT, {**YEAR, "breakdown": "customer"})
    sheet = load_workbook(io.BytesIO(export.content))["Fees of accepted orders"]
    rows = [tuple(v for v in row if v is not None) for row in sheet.iter_rows(values_only=True)]
    assert ("市第一人民医院 · 设备科", 470.0, 3) in rows
    assert ("市第二人民医院", 380.0, 2) in rows
    assert ("2026-03", "市第二人民医院", 300.0, 1) in rows


def test_export_with_bad_filters_goes_back_to_the_page_with_the_message(lead_client, stats_world):
    response = lead_client.get(EXPORT, {"start": "2026-12-31", "end": "2026-01-01"})
    assert response.status_code == 302
    assert response["Location"].startswith(URL) and "start=2026-12-31" in response["Location"]
    followed = lead_client.get(response["Location"])
    assert "Correct the filters below" in followed.content.decode()


# --- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [URL, EXPORT])
def test_page_and_export_queries_do_not_grow_with_the_rows_R_MGT_4(lead_client, stats_world, url):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert lead_client.get(url, {**YEAR, "breakdown": "category", "refresh": "1"}).status_code == 200
        return len(captured)

    queries()  # sessions, caches
    small = queries()
    add_volume(stats_world, 30)
    assert queries() == small


def test_the_export_reuses_the_figures_of_the_page_and_refresh_computes_again(lead_client, stats_world):
    """The export clicked from the page shows the page's figures without computing them
    again; "compute again now" picks up what changed since."""
    page(lead_client)
    with CaptureQueriesContext(connection) as captured:
        export = lead_client.get(EXPORT, YEAR)
    assert not any("intake_order" in query["sql"] for query in captured.captured_queries)
    orders = sheet_tables(load_workbook(io.BytesIO(export.content))["Orders received"])
    assert orders["Total"]["Orders received"] == 7
    add_volume(stats_world, 2)
    _response, html = page(lead_client)
    assert cells(html, "table-orders-periods")[("Total", "received")] == "7"
    assert 'data-testid="refresh-link"' in html
    _response, html = page(lead_client, refresh="1")
    assert cells(html, "table-orders-periods")[("Total", "received")] == "9"
