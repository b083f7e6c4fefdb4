"""Records in Chromium (issue 5): ``tech1`` starts the waiting sphygmomanometer task,
fills the record from its template on a tablet-sized screen and signs (R-ONS-3,
R-REC-1/2); ``tech2`` checks and signs (R-TST-1) and the sample becomes tested; a later
correction by ``tech1`` shows the old value struck through beside the new one (R-REC-3)."""

import re

import pytest
from playwright.sync_api import expect

from certificates.models import Correction, Record, RecordStatus, Task
from equipment.models import Equipment
from intake.models import SampleStatus
from tests.e2e.conftest import DEMO_PASSWORD, login, screenshot

pytestmark = pytest.mark.e2e


def test_task_record_check_and_correction(demo_data, live_server, page, browser, browser_errors):
    task = Task.objects.get(performer__username="tech1", status="assigned")
    page.set_viewport_size({"width": 1024, "height": 768})  # a 10" tablet on site
    login(page, live_server, "tech1")

    # My tasks → start: the record opens from the method's template.
    page.goto(f"{live_server.url}/tasks/mine/")
    item = page.locator(f"[data-testid=task-item][data-task='{task.pk}']")
    expect(item).to_contain_text(task.sample.sample_id)
    with page.expect_navigation():
        item.get_by_test_id("task-start").click()
    record = Record.objects.get(task=task)
    expect(page).to_have_url(re.compile(rf"/records/{record.pk}/entry/"))
    expect(page.get_by_test_id("record-method")).to_contain_text("JJG 692-2010")

    # Environment outside the method's limits stops the work (R-TST-2) …
    env = page.get_by_test_id("environment-form")
    env.locator("input[name=temperature]").fill("30")
    env.locator("input[name=humidity]").fill("50")
    env.get_by_test_id("environment-save").click()
    expect(page.get_by_test_id("stop-work")).to_be_visible()
    # … and within them it goes on.
    env = page.get_by_test_id("environment-form")
    env.locator("input[name=temperature]").fill("21.5")
    env.get_by_test_id("environment-save").click()
    expect(page.get_by_test_id("stop-work")).to_have_count(0)

    # Equipment through the usage gate.
    standard = Equipment.objects.get(lab_id="BZ-001")
    form = page.get_by_test_id("equipment-form")
    form.locator("select[name=equipment]").select_option(str(standard.pk))
    form.get_by_test_id("equipment-add").click()
    expect(page.get_by_test_id("equipment-row")).to_contain_text("BZ-001")

    # Readings from the template: every point, every repeat.
    inputs = page.get_by_test_id("reading-input")
    count = inputs.count()
    assert count == record.template.points.count() * record.template.repeats
    nominals = [int(p.nominal) for p in record.template.points.order_by("position")]
    for index, nominal in enumerate(nominals):
        for repeat in range(record.template.repeats):
            inputs.nth(index * record.template.repeats + repeat).fill(str(nominal + 1))
    page.get_by_test_id("readings-save").click()
    expect(page.get_by_test_id("result-conformity").first).to_be_visible()
    expect(page.get_by_test_id("reading-error")).to_have_count(0)

    for inspection in record.inspections.all():
        page.locator(f"input[name='inspection-{inspection.position}'][value=yes]").check(force=True)
    page.get_by_test_id("inspections-save").click()
    expect(page.get_by_test_id("inspections-form")).to_be_visible()
    page.get_by_test_id("conclusion-form").locator("select[name=conclusion]").select_option("pass")
    page.get_by_test_id("conclusion-save").click()
    expect(page.get_by_test_id("sign-ready")).to_be_visible()
    screenshot(page, "records-entry-tablet.png")

    # The performer signs with the password: the record locks.
    page.get_by_test_id("sign-form").locator("input[name=sign-password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_test_id("sign-submit").click()
    expect(page).to_have_url(re.compile(rf"/records/{record.pk}/"))
    record.refresh_from_db()
    assert record.status == RecordStatus.SIGNED
    assert browser_errors == []

    # tech2, the checker, checks and signs.
    checker_page = browser.new_context(locale="zh-CN").new_page()
    login(checker_page, live_server, "tech2")
    checker_page.goto(f"{live_server.url}/tasks/mine/")
    expect(checker_page.get_by_test_id("queue-to-check")).to_contain_text(task.sample.sample_id)
    checker_page.goto(f"{live_server.url}/records/{record.pk}/")
    checker_page.get_by_test_id("check-form").locator("input[name=check-password]").fill(DEMO_PASSWORD)
    with checker_page.expect_navigation():
        checker_page.get_by_test_id("check-submit").click()
    expect(checker_page.get_by_test_id("checker-signature")).to_contain_text("孙丽")
    checker_page.context.close()
    record.refresh_from_db()
    record.sample.refresh_from_db()
    assert record.status == RecordStatus.CHECKED
    assert record.sample.status == SampleStatus.TESTED

    # A later correction by the performer: old value struck through beside the new one.
    reading = record.readings.order_by("point__position", "repeat").first()
    page.goto(f"{live_server.url}/records/{record.pk}/correct/?field=reading:{reading.pk}")
    form = page.get_by_test_id("correct-form")
    form.locator("[name=new_value]").fill(str(int(reading.value) - 1))
    form.locator("[name=reason]").fill("誊写错误")
    with page.expect_navigation():
        form.get_by_test_id("correct-submit").click()
    old = page.locator("[data-testid=readings-table] del").first
    expect(old).to_have_text(re.compile(rf"^\s*{int(reading.value)}\s*$"))
    expect(page.get_by_test_id("correction-row").first).to_contain_text("誊写错误")
    screenshot(page, "records-corrected.png")
    assert Correction.objects.filter(record=record, field=f"reading:{reading.pk}").count() == 1
    assert browser_errors == []
