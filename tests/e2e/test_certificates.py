"""Certificates in Chromium (issue 6): ``techlead`` signs the demo certificate with the
password, downloads its PDF (page 1 rendered to PNG with pdftoppm and kept as an
artifact in /tmp/labqms-e2e), then replaces it; the public verification page, without
signing in, says the original is void and replaced by the new number (R-CRT-6)."""

import hashlib
import re
import subprocess

import pytest
from playwright.sync_api import expect

from certificates.models import Certificate, CertificateStatus
from tests.e2e.conftest import DEMO_PASSWORD, SCREENSHOT_DIR, login, screenshot

pytestmark = pytest.mark.e2e


def test_sign_download_replace_and_verify(demo_data, live_server, page, browser, browser_errors):
    draft = Certificate.objects.get(status=CertificateStatus.DRAFT)
    login(page, live_server, "techlead")
    page.goto(f"{live_server.url}/certificates/awaiting/")
    expect(page.get_by_test_id("queue-row")).to_have_count(1)
    page.get_by_test_id("queue-open").first.click()
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

    # Replace it: prepare → approve the replacement → the original becomes void.
    replace = page.get_by_test_id("replace-form")
    replace.locator("textarea").fill("客户名称有误，按客户来函更正")
    with page.expect_navigation():
        replace.get_by_test_id("replace-button").click()
    replacement = Certificate.objects.get(amends=draft)
    expect(page).to_have_url(re.compile(rf"/certificates/{replacement.pk}/$"))
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
