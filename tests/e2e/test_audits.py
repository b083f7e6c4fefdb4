"""Audits in Chromium (issue 8), each step as the role that takes it, each user in a
browser of their own, on the demo data (the current year's approved programme):

``qualitylead`` plans a scheduled audit of 医学计量室 in the programme — ``tech2`` (who
works there) is refused as lead auditor with the input kept (R-MGT-1, ISO/IEC 17025
8.8), ``techdeputy`` (技术部) leads it → ``techdeputy`` starts it, records a nonconformity
on the checklist item 7.5 and raises the finding with ``tech2`` responsible →
``tech2`` proposes the corrective action → ``qualitylead`` accepts it → ``tech2``
reports it done; as an auditor ``tech2`` could verify actions, but not this one (their
own): the form is not offered, the reason is shown → ``qualitylead`` verifies it
effective: the action and the finding close → the management-review pack, after
"refresh the inputs", shows the closed finding and counts it.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audits.models import (
    ActionStatus,
    Audit,
    AuditStatus,
    CorrectiveAction,
    Finding,
    FindingGrade,
    FindingStatus,
    ManagementReview,
    ReviewStatus,
)
from labqms.models import User
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1280, "height": 900}
TITLE = "医学计量室：原始记录与报告专项审核"
LAB = "医学计量室"


def _user_page(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, live_server, username)
    return context, page


def _submit(page, scope, key):
    with page.expect_navigation():
        scope.get_by_test_id(f"{key}-form").get_by_test_id(f"{key}-button").click()


def _decide(page, key, answer):
    """Press one of the two decision buttons of an action's form (accept / verify)."""
    with page.expect_navigation():
        page.get_by_test_id(f"{key}-form").get_by_test_id(f"{key}-{answer}").click()


def test_audit_finding_action_verified_and_shown_in_the_review_pack(demo_data, live_server, page, browser, browser_errors):
    users = {u.username: u for u in User.objects.filter(username__in=["tech2", "techdeputy"])}
    tech2, techdeputy = users["tech2"], users["techdeputy"]
    year = timezone.localdate().year

    # --- qualitylead plans the audit in the year's programme ----------------------------
    login(page, live_server, "qualitylead")
    page.goto(f"{live_server.url}/audits/programme/{year}/")
    expect(page.get_by_test_id("programme-approved")).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("plan-link").click()
    form = page.get_by_test_id("plan-form")
    form.locator("[name=title]").fill(TITLE)
    form.locator("input[name=clauses][value='7.5']").check()
    form.locator("input[name=clauses][value='7.8']").check()
    form.locator(f"input[name=areas][value='{LAB}']").check()
    # tech2 works in 医学计量室: refused as its auditor, everything typed kept.
    form.locator("[name=lead_auditor]").select_option(str(tech2.pk))
    with page.expect_navigation():
        page.get_by_test_id("plan-button").click()
    expect(page.get_by_test_id("auditors-error")).to_contain_text(LAB)
    expect(page.get_by_test_id("auditors-error")).to_contain_text(tech2.full_name)
    form = page.get_by_test_id("plan-form")
    expect(form.locator("[name=title]")).to_have_value(TITLE)
    expect(form.locator("input[name=clauses][value='7.5']")).to_be_checked()
    assert not Audit.objects.filter(title=TITLE).exists()
    form.locator("[name=lead_auditor]").select_option(str(techdeputy.pk))
    with page.expect_navigation():
        page.get_by_test_id("plan-button").click()
    item = Audit.objects.get(title=TITLE)
    expect(page).to_have_url(re.compile(rf"/audits/{item.pk}/$"))
    expect(page.get_by_test_id("audit-status")).to_have_attribute("data-status", AuditStatus.PLANNED)
    assert item.programme.year == year and item.lead_auditor == techdeputy and item.areas == [LAB]

    # --- the lead auditor starts it, records a nonconformity and raises the finding -----
    auditor_context, auditor = _user_page(browser, live_server, "techdeputy")
    auditor.goto(f"{live_server.url}/audits/{item.pk}/")
    _submit(auditor, auditor, "start")
    expect(auditor.get_by_test_id("audit-status")).to_have_attribute("data-status", AuditStatus.IN_PROGRESS)
    row = auditor.locator("[data-testid=checklist-forms][data-clause='7.5']")
    row.locator("summary").click()
    check = row.get_by_test_id("check-form")
    check.locator("textarea").fill("抽查原始记录 10 份，3 份示值更改未签名、未注明日期。")
    check.locator("select").select_option("nonconformity")
    _submit(auditor, row, "check")
    expect(auditor.locator("[data-testid=checklist-item][data-clause='7.5']")).to_have_attribute("data-result", "nonconformity")
    row = auditor.locator("[data-testid=checklist-forms][data-clause='7.5']")
    row.locator("summary").click()
    raise_form = row.get_by_test_id("finding-form")
    raise_form.locator("[name$=-grade]").select_option(FindingGrade.MINOR)
    raise_form.locator("[name$=-description]").fill("原始记录更改不符合“划改、签名、注明日期”的要求。")
    raise_form.locator("[name$=-responsible]").select_option(str(tech2.pk))
    expect(raise_form.locator("[name$=-area]")).to_have_value(LAB)
    _submit(auditor, row, "finding")
    finding = Finding.objects.get(audit=item)
    assert finding.responsible == tech2 and finding.clause == "7.5" and finding.raised_by == techdeputy
    expect(auditor.locator(f"[data-testid=finding-row][data-number='{finding.number}']")).to_be_visible()
    finding_url = f"{live_server.url}/audits/findings/{finding.pk}/"

    # --- the responsible person proposes the corrective action ------------------------------
    tech2_context, responsible = _user_page(browser, live_server, "tech2")
    responsible.goto(finding_url)
    propose = responsible.get_by_test_id("propose-form")
    propose.locator("[name=propose-correction]").fill("补签 3 份记录的更改并注明日期。")
    propose.locator("[name=propose-root_cause]").fill("新修订的记录控制程序未对检定员培训。")
    propose.locator("[name=propose-action]").fill("对全体检定员培训记录控制程序；每月抽查原始记录更改。")
    propose.locator("[name=propose-due_on]").fill((timezone.localdate() + dt.timedelta(days=14)).isoformat())
    _submit(responsible, responsible, "propose")
    action = CorrectiveAction.objects.get(finding=finding)
    assert action.status == ActionStatus.PROPOSED and action.proposed_by == tech2 and action.responsible == tech2
    expect(responsible.get_by_test_id("awaiting-acceptance")).to_be_visible()
    expect(responsible.get_by_test_id("accept-form")).to_have_count(0)

    # --- qualitylead accepts it ----------------------------------------------------------
    page.goto(finding_url)
    page.get_by_test_id("accept-form").locator("textarea").fill("同意。")
    _decide(page, "accept", "yes")
    expect(page.get_by_test_id("action")).to_have_attribute("data-status", ActionStatus.IN_PROGRESS)

    # --- the responsible person reports it done and may not verify it ----------------------
    responsible.reload()
    responsible.get_by_test_id("complete-form").locator("textarea").fill("培训已完成（签到表附后）；3 份记录已补签。")
    _submit(responsible, responsible, "complete")
    expect(responsible.get_by_test_id("action")).to_have_attribute("data-status", ActionStatus.DONE)
    # tech2 is an authorised auditor, but this is their own action (R-MGT-1).
    expect(responsible.get_by_test_id("verify-blocked")).to_be_visible()
    expect(responsible.get_by_test_id("verify-form")).to_have_count(0)
    screenshot(responsible, "audit-verify-refused.png")

    # --- qualitylead verifies it effective: the action and the finding close -------------------
    page.reload()
    page.get_by_test_id("verify-form").locator("textarea").fill("抽查培训后的原始记录 20 份，更改均规范；措施有效。")
    _decide(page, "verify", "yes")
    expect(page.get_by_test_id("action")).to_have_attribute("data-status", ActionStatus.CLOSED)
    expect(page.get_by_test_id("finding-status")).to_have_attribute("data-status", FindingStatus.CLOSED)
    action.refresh_from_db()
    finding.refresh_from_db()
    assert action.status == ActionStatus.CLOSED and action.verified_by.username == "qualitylead"
    assert finding.status == FindingStatus.CLOSED
    kinds = page.get_by_test_id("action-event").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["proposed", "accepted", "done", "verified_effective"]

    # --- the management-review pack shows the finding ------------------------------------------
    review = ManagementReview.objects.get(status=ReviewStatus.PLANNED)
    page.goto(f"{live_server.url}/audits/reviews/")
    with page.expect_navigation():
        page.get_by_role("link", name=review.number).first.click()
    _submit(page, page, "refresh")
    expect(page.get_by_test_id("inputs-compiled-at")).to_be_visible()
    expect(page.locator(f"[data-testid=finding-row][data-number='{finding.number}']")).to_have_attribute("data-status", "closed")
    minor = Finding.objects.filter(grade=FindingGrade.MINOR, raised_on__range=(review.period_start, review.period_end)).count()
    expect(page.locator("[data-testid=figure][data-key='audits.findings_minor']")).to_have_attribute("data-value", str(minor))
    screenshot(page, "audit-review-pack.png")
    auditor_context.close()
    tech2_context.close()
    assert browser_errors == []
