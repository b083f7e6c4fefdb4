"""Certificates in Chromium (issue 6): ``techlead`` signs the demo certificate with the
password, downloads its PDF (page 1 rendered to PNG with pdftoppm and kept as an
artifact in /tmp/labqms-e2e), then replaces it; ``tech1`` (authorised to check blood
pressure records) checks the replacement as the second person, ``techlead`` approves it;
the public verification page, without signing in, says the original is void and
replaced by the new number (R-CRT-6: an amendment passes check and approval again)."""

import hashlib
import re
import subprocess

import pytest
from playwright.sync_api import expect

from certificates.models import Certificate, CertificateStatus
from tests.e2e.conftest import DEMO_PASSWORD, SCREENSHOT_DIR, login, screenshot

pytestmark = pytest.mark.e2e


def test_sign_download_replace_and_verify(demo_data, live_server, page, browser, browser_errors):
    draft = Certificate.objects.get(status=CertificateStatus.DRAFT, amends__isnull=True)
    waiting_supplement = Certificate.objects.get(status=CertificateStatus.DRAFT, amends__isnull=False)
    login(page, live_server, "techlead")
    page.goto(f"{live_server.url}/certificates/awaiting/")
    # The demo's draft, and its ECG supplement waiting for a second person's check (no tick box).
    expect(page.get_by_test_id("queue-row")).to_have_count(2)
    supplement_row = page.locator(f"[data-testid=queue-row][data-id='{waiting_supplement.pk}']")
    expect(supplement_row.get_by_test_id("awaits-check")).to_be_visible()
    expect(supplement_row.get_by_test_id("queue-tick")).to_have_count(0)
    page.locator(f"[data-testid=queue-row][data-id='{draft.pk}']").get_by_test_id("queue-open").click()
    expect(page).to_have_url(re.compile(rf"/certificates/{draft.pk}/$"))

    form = page.get_by_test_id("approve-form")
    form.locator("input[type=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.get_by_test_id("approve-button").click()
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.ISSUED and draft.number
    expect(page.get_by_test_id("certificate-sha256")).to_contain_text(draft.sha256)

    # Download: the file is the stored one (same SHA-256); page 1 kept as a picture.
    with page.expect_download() as download_info:
        page.get_by_test_id("certificate-download").click()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    pdf_path = SCREENSHOT_DIR / f"{draft.number}.pdf"
    download_info.value.save_as(pdf_path)
    assert hashlib.sha256(pdf_path.read_bytes()).hexdigest() == draft.sha256
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf_path), str(SCREENSHOT_DIR / "certificate-page1")],
        check=True,
    )
    assert (SCREENSHOT_DIR / "certificate-page1.png").stat().st_size > 10_000

    # Replace it: prepare → a second person checks → approve → the original becomes void.
    replace = page.get_by_test_id("replace-form")
    replace.locator("textarea").fill("客户名称有误，按客户来函更正")
    with page.expect_navigation():
        replace.get_by_test_id("replace-button").click()
    replacement = Certificate.objects.get(amends=draft)
    expect(page).to_have_url(re.compile(rf"/certificates/{replacement.pk}/$"))
    expect(page.get_by_test_id("awaits-check-notice")).to_be_visible()
    expect(page.get_by_test_id("approve-form")).to_have_count(0)
    expect(page.get_by_test_id("check-form")).to_have_count(0)  # techlead prepared it

    # tech1 checks it (核验) in a browser of their own.
    checker_context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    checker = checker_context.new_page()
    login(checker, live_server, "tech1")
    checker.goto(f"{live_server.url}/certificates/awaiting/")
    row = checker.locator(f"[data-testid=queue-row][data-id='{replacement.pk}']")
    expect(row.get_by_test_id("awaits-check")).to_be_visible()
    with checker.expect_navigation():
        row.get_by_test_id("queue-open").click()
    check = checker.get_by_test_id("check-form")
    check.locator("input[type=password]").fill(DEMO_PASSWORD)
    with checker.expect_navigation():
        check.get_by_test_id("check-button").click()
    expect(checker.get_by_test_id("amendment-checked")).to_be_visible()
    replacement.refresh_from_db()
    assert replacement.checked_by.username == "tech1"
    checker_context.close()

    page.reload()
    expect(page.get_by_test_id("amendment-checked")).to_be_visible()
    form = page.get_by_test_id("approve-form")
    form.locator("input[type=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.get_by_test_id("approve-button").click()
    replacement.refresh_from_db()
    draft.refresh_from_db()
    assert replacement.status == CertificateStatus.ISSUED
    assert draft.status == CertificateStatus.VOID
    expect(page.get_by_test_id("certificate-chain")).to_contain_text(draft.number)
    screenshot(page, "certificate-replacement.png")
    assert browser_errors == []

    # The public page, signed out, from the link the QR code carries.
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(f"{live_server.url}/verify/?number={draft.number}&code={draft.verification_code}")
    result = public.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-status", "void")
    expect(public.get_by_test_id("verify-status")).to_contain_text(replacement.number)
    screenshot(public, "certificate-verify-replaced.png")
    public.context.close()
