"""Intake in Chromium, as the counter and a hospital use it (issue 3 journeys).

The counter logs a 3-item order with one item outside the authorised scope (refused with
a reason, R-INT-2), reviews it (R-INT-4), records the customer's confirmation (R-INT-3),
accepts it, receives the samples (R-SMP-1), downloads the labels (the PDF holds the
sample IDs, R-SMP-2), scans one ID and lands on that sample.  ``hospital1`` submits an
online request in the portal that appears in the counter's queue (R-INT-1, R-INT-9).
"""

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from intake.models import Customer, Disposition, OnlineRequest, Order, OrderStatus, SampleStatus
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.e2e


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "labels.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [shutil.which("pdftotext"), "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def fill_row(page, index, name, category, serial):
    row = page.locator("[data-testid=item-row]").nth(index)
    row.locator(f"input[name='items-{index}-instrument_name']").fill(name)
    row.locator(f"input[name='items-{index}-category']").fill(category)
    row.locator(f"input[name='items-{index}-serial_number']").fill(serial)
    return row


def test_counter_logs_reviews_confirms_receives_labels_and_scans(demo_data, live_server, page, browser_errors, tmp_path):
    login(page, live_server, "counter")
    hospital = Customer.objects.get(name="市第一人民医院")
    page.goto(f"{live_server.url}/intake/orders/new/")
    page.select_option("select[name=customer]", str(hospital.pk))
    fill_row(page, 0, "电子血压计", "BP-NIBP", "E2E-BP-1")
    fill_row(page, 1, "输液泵", "PUMP-INF", "E2E-PUMP-1")
    ct = fill_row(page, 2, "CT机", "XR-CT", "E2E-CT-1")
    # The CT scanner is outside the authorised scope: the row warns and asks for a decision.
    ct.locator("input[name='items-2-serial_number']").click()
    expect(ct.get_by_test_id("scope-warning")).to_be_visible()
    ct.locator("select[name='items-2-disposition']").select_option(Disposition.REFUSE)
    ct.locator("input[name='items-2-disposition_reason']").fill("本中心无CT检定授权，建议送省院")
    screenshot(page, "intake-order-form.png")
    page.get_by_test_id("order-save").click()

    expect(page.get_by_test_id("order-number")).to_have_text(re.compile(r"WT\d{4}-\d{6}"))
    number = page.get_by_test_id("order-number").inner_text().strip()
    order = Order.objects.get(number=number)
    assert order.items.count() == 3
    refused = order.items.get(category__code="XR-CT")
    assert refused.disposition == Disposition.REFUSE and not refused.in_scope
    expect(page.get_by_test_id("out-of-scope")).to_be_visible()

    # Contract review (a)–(d), accept.
    page.get_by_test_id("order-review").click()
    form = page.get_by_test_id("review-form")
    for name in ("lawful", "requirements_clear", "competent", "terms_agreed"):
        form.locator(f"input[name={name}]").check()
    form.locator("input[name=decision][value=accept]").check()
    page.get_by_test_id("review-submit").click()
    expect(page.get_by_test_id("order-confirm")).to_be_visible()

    # The customer's confirmation, signed at the counter, then acceptance.
    page.get_by_test_id("order-confirm").click()
    page.get_by_test_id("confirm-submit").click()
    expect(page.get_by_test_id("confirmation")).to_contain_text("刘洋")
    page.get_by_test_id("order-accept").click()
    expect(page.get_by_test_id("order-due-date")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2}"))
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    sample_ids = sorted(order.samples.values_list("sample_id", flat=True))
    assert sample_ids == [f"{number}-01", f"{number}-02"]  # the refused CT has no sample

    # Receipt inspection of both samples.
    page.get_by_test_id("order-receive").click()
    expect(page.get_by_test_id("receive-row")).to_have_count(2)
    page.get_by_test_id("receive-submit").click()
    expect(page.get_by_test_id("order-samples")).to_be_visible()
    assert set(order.samples.values_list("status", flat=True)) <= {SampleStatus.RECEIVED, SampleStatus.STORED}

    # Labels: the PDF carries every sample ID.
    labels_url = page.get_by_test_id("order-labels").get_attribute("href")
    response = page.request.get(f"{live_server.url}{labels_url}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body(), tmp_path)
    for sample_id in sample_ids:
        assert sample_id in text

    # A scanner types the ID into the menu bar's box and presses Enter.
    scan = page.get_by_test_id("nav-scan-input")
    scan.fill(sample_ids[1])
    scan.press("Enter")
    expect(page).to_have_url(re.compile(r"/intake/samples/\d+/$"))
    expect(page.locator("h1")).to_contain_text(sample_ids[1])
    screenshot(page, "intake-sample.png")
    assert browser_errors == []


def test_hospital_submits_online_request_that_reaches_the_counter(demo_data, live_server, page, browser, browser_errors):
    """R-INT-1, R-INT-9: an online request from the portal lands in the counter's queue."""
    login(page, live_server, "hospital1")
    page.goto(f"{live_server.url}/portal/requests/new/")
    page.locator("input[name=contact_phone]").fill("13800000001")
    fill_row(page, 0, "注射泵", "PUMP-SYR", "E2E-SYR-1")
    page.get_by_test_id("row-copy").first.click()  # a second identical pump
    page.locator("input[name='items-1-serial_number']").fill("E2E-SYR-2")
    page.get_by_test_id("request-submit").click()
    expect(page.locator(".alert-success")).to_be_visible()
    request = OnlineRequest.objects.get(customer__name="市第一人民医院")
    assert sorted(request.items.values_list("serial_number", flat=True)) == ["E2E-SYR-1", "E2E-SYR-2"]
    assert browser_errors == []

    counter = browser.new_context(locale="zh-CN").new_page()
    login(counter, live_server, "counter")
    counter.goto(f"{live_server.url}/intake/requests/")
    row = counter.get_by_test_id("request-row").filter(has_text="市第一人民医院")
    expect(row).to_have_count(1)
    row.get_by_test_id("request-open").click()
    expect(counter.get_by_test_id("item-row").first).to_be_visible()
    screenshot(counter, "intake-request-convert.png")
    counter.context.close()
