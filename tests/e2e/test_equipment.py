"""Equipment in Chromium (issue 4): ``tech1`` records a failed intermediate check; the
equipment turns red (out of service, R-EQP-4/R-EQP-7) and appears in ``techlead``'s
impact-analysis queue; the usage gate then refuses it (R-EQP-10)."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from playwright.sync_api import expect

from equipment.models import Equipment, EquipmentStatus, ImpactAnalysis
from equipment.services import gate
from labqms.models import User
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.e2e


def test_failed_intermediate_check_stops_equipment_and_reaches_the_lead(demo_data, live_server, page, browser, browser_errors):
    equipment = Equipment.objects.get(lab_id="BZ-001")
    assert equipment.status == EquipmentStatus.IN_SERVICE
    login(page, live_server, "tech1")
    page.goto(f"{live_server.url}/equipment/{equipment.pk}/")
    expect(page.get_by_test_id("equipment-status")).to_have_attribute("data-colour", "green")
    page.get_by_test_id("check-add-link").first.click()
    form = page.get_by_test_id("check-form")
    form.locator("input[name=checked_on]").fill(timezone.localdate().isoformat())
    form.locator("input[name=measured]").fill("100.50")
    form.locator("input[name=reference]").fill("100.00")
    form.locator("input[name=u_measured]").fill("0.05")
    form.locator("input[name=u_reference]").fill("0.03")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/equipment/{equipment.pk}/(#.*)?$"))
    expect(page.get_by_test_id("equipment-status")).to_have_attribute("data-colour", "red")
    expect(page.get_by_test_id("open-impact-analyses")).to_be_visible()
    screenshot(page, "equipment-failed-check.png")
    assert browser_errors == []

    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    with pytest.raises(ValidationError):
        gate.check_usable(equipment, timezone.localdate(), User.objects.get(username="tech1"))

    lead = browser.new_context(locale="zh-CN").new_page()
    login(lead, live_server, "techlead")
    lead.goto(f"{live_server.url}/equipment/impact/")
    row = lead.locator(f"[data-testid=impact-row][data-pk='{analysis.pk}']")
    expect(row).to_contain_text("BZ-001")
    row.locator("a").first.click()
    expect(lead).to_have_url(re.compile(rf"/equipment/impact/{analysis.pk}/$"))
    screenshot(lead, "equipment-impact.png")
    lead.context.close()
