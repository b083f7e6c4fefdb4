"""Complaints in Chromium (issue 7), each step as the role that takes it, each user in a
browser of their own:

a member of the public finds the complaint form from the sign-in page (and from the
certificate verification page) and sends a complaint (R-CMP-2 "online", no sign-in) →
``qualitylead`` accepts it, 医学计量室 responsible with ``tech1`` (R-CMP-3: the reply is
due 10 working days later) → ``tech1`` records the findings → ``qualitylead`` classifies
it general (R-CMP-4) → ``tech2``, a colleague in the department, proposes the handling
opinion → ``tech1``, the responsible person, approves it (R-CMP-5; ``tech2`` is not offered
the approval of their own proposal) → ``tech2`` records it as carried out →
``qualitylead`` replies and the result is published (R-CMP-5).
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from complaints.models import Channel, Complaint, ComplaintClass, ComplaintStatus
from labqms import workdays
from labqms.models import User
from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.e2e
S = ComplaintStatus
SUBJECT = "证书上的送检单位名称写错"
VIEWPORT = {"width": 1280, "height": 900}


def _user_page(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, live_server, username)
    return context, page


def _submit(page, key):
    with page.expect_navigation():
        page.get_by_test_id(f"{key}-form").get_by_test_id(f"{key}-button").click()


def test_public_complaint_to_published_result(demo_data, live_server, page, browser, browser_errors):
    # --- the complainant: from the sign-in page to the public form, no account -------------
    public = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
    visitor = public.new_page()
    visitor.goto(f"{live_server.url}/verify/")
    expect(visitor.get_by_test_id("public-complaint-link").locator("a")).to_have_attribute("href", "/complain/")
    visitor.goto(f"{live_server.url}/accounts/login/")
    with visitor.expect_navigation():
        visitor.get_by_test_id("public-complaint-link").locator("a").click()
    expect(visitor).to_have_url(re.compile(r"/complain/$"))
    form = visitor.get_by_test_id("public-complaint-form")
    form.locator("[name=complainant_name]").fill("钱女士")
    form.locator("[name=complainant_organisation]").fill("江北社区医院")
    form.locator("[name=complainant_email]").fill("qian@jiangbei.example.cn")
    form.locator("[name=subject]").fill(SUBJECT)
    form.locator("[name=description]").fill("收到的检定证书上送检单位名称少了“社区”两字，无法用于年度检查。")
    visitor.wait_for_timeout(3200)  # the form refuses what is sent faster than a person types
    with visitor.expect_navigation():
        visitor.get_by_test_id("public-complaint-submit").click()
    complaint = Complaint.objects.get(subject=SUBJECT)
    expect(visitor.get_by_test_id("public-complaint-number")).to_have_text(complaint.number)
    assert complaint.channel == Channel.ONLINE and complaint.registered_by is None and complaint.status == S.REGISTERED
    public.close()

    # --- qualitylead accepts: 医学计量室, tech1 responsible; the clock starts ---------------
    tech1, tech2 = User.objects.get(username="tech1"), User.objects.get(username="tech2")
    login(page, live_server, "qualitylead")
    page.goto(f"{live_server.url}/complaints/")
    with page.expect_navigation():
        page.get_by_role("link", name=complaint.number).first.click()
    expect(page).to_have_url(re.compile(rf"/complaints/{complaint.pk}/$"))
    accept = page.get_by_test_id("accept-form")
    accept.locator("[name=accept-department]").fill("医学计量室")
    accept.locator("[name=accept-responsible_person]").select_option(str(tech1.pk))
    _submit(page, "accept")
    complaint.refresh_from_db()
    assert complaint.status == S.ACCEPTED and complaint.responsible_person == tech1
    assert complaint.reply_due == workdays.add_working_days(complaint.accepted_on, 10)
    expect(page.get_by_test_id("responsible")).to_contain_text("医学计量室")
    expect(page.get_by_test_id("correspondence").first).to_have_attribute("data-kind", "acknowledgement")
    # Classifying waits for the findings of the department.
    expect(page.get_by_test_id("classify-form")).to_be_visible()

    # --- tech1 (responsible) records the findings -----------------------------------------
    tech1_context, tech1_page = _user_page(browser, live_server, "tech1")
    tech1_page.goto(f"{live_server.url}/complaints/{complaint.pk}/")
    tech1_page.get_by_test_id("findings-form").locator("textarea").fill("核对委托单与证书：委托单名称正确，证书录入时遗漏两字，属实。")
    _submit(tech1_page, "findings")
    expect(tech1_page.get_by_test_id("findings")).to_contain_text("证书录入时遗漏两字")

    # --- qualitylead classifies it general ------------------------------------------------
    page.reload()
    classify = page.get_by_test_id("classify-form")
    classify.locator("[name=classify-classification]").select_option(ComplaintClass.GENERAL.value)
    classify.locator("[name=classify-substantiated]").check()
    _submit(page, "classify")
    expect(page.get_by_test_id("complaint-class")).to_be_visible()
    complaint.refresh_from_db()
    assert complaint.status == S.CLASSIFIED and complaint.classification == ComplaintClass.GENERAL

    # --- tech2, a colleague in the department, proposes the handling opinion ----------------
    tech2_context, tech2_page = _user_page(browser, live_server, "tech2")
    tech2_page.goto(f"{live_server.url}/complaints/{complaint.pk}/")
    tech2_page.get_by_test_id("propose-form").locator("textarea").fill("更正并重新出具证书，向客户致歉；证书录入增加名称核对。")
    _submit(tech2_page, "propose")
    expect(tech2_page.get_by_test_id("opinion")).to_contain_text("重新出具证书")
    expect(tech2_page.get_by_test_id("decide-form")).to_have_count(0)  # not their own proposal
    expect(tech2_page.get_by_test_id("awaiting-decision")).to_be_visible()

    # --- tech1, the responsible person, approves -----------------------------------------
    tech1_page.reload()
    with tech1_page.expect_navigation():
        tech1_page.get_by_test_id("decide-form").get_by_test_id("decide-approve").click()
    expect(tech1_page.get_by_test_id("opinion-approved-by")).to_contain_text(tech1.full_name)
    complaint.refresh_from_db()
    assert complaint.status == S.APPROVED and complaint.opinion_approved_by == tech1 and complaint.opinion_by == tech2

    # --- tech2 records it as carried out ---------------------------------------------------
    tech2_page.reload()
    tech2_page.get_by_test_id("carry_out-form").locator("textarea").fill("已重新出具证书并寄送客户，原证书收回作废。")
    _submit(tech2_page, "carry_out")
    expect(tech2_page.get_by_test_id("carried-out")).to_contain_text("已重新出具证书")

    # --- qualitylead replies; the general complaint's result is published --------------------
    page.reload()
    page.get_by_test_id("reply-form").locator("textarea").fill("经核查属实，已重新出具证书并寄送，特此致歉。")
    _submit(page, "reply")
    complaint.refresh_from_db()
    assert complaint.status == S.REPLIED and complaint.published_at is not None and complaint.replied_on_time
    expect(page.get_by_test_id("reply-text")).to_contain_text("已重新出具证书并寄送")
    expect(page.get_by_test_id("published")).to_contain_text(timezone.localtime(complaint.published_at).strftime("%Y-%m-%d"))
    expect(page.locator("[data-testid=correspondence][data-kind=reply]")).to_have_count(1)
    kinds = page.get_by_test_id("event").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["registered", "accepted", "findings", "classified", "opinion_proposed", "opinion_approved", "carried_out", "replied"]
    screenshot(page, "complaint-replied.png")
    tech1_context.close()
    tech2_context.close()
    assert browser_errors == []


def test_quality_lead_reassigns_an_open_complaint(demo_data, live_server, page, browser_errors):
    """R-CMP-3 / 7.9.6: on the demo complaint about the ECG certificate, ``tech2`` (who
    performed that record) is refused as the new responsible person, with the input kept;
    the lab head's office takes it over and the reply due date stays."""
    complaint = Complaint.objects.get(subject="心电图机证书未注明使用科室")
    due = complaint.reply_due
    tech2, head = User.objects.get(username="tech2"), User.objects.get(username="head")
    login(page, live_server, "qualitylead")
    page.goto(f"{live_server.url}/complaints/{complaint.pk}/")
    section = page.get_by_test_id("reassign-section")
    section.locator("summary").click()
    form = page.get_by_test_id("reassign-form")
    expect(form.locator("[name=reassign-department]")).to_have_value("医学计量室")
    form.locator("[name=reassign-responsible_person]").select_option(str(tech2.pk))
    form.locator("[name=reassign-reason]").fill("原负责人长期外出。")
    _submit(page, "reassign")
    form = page.get_by_test_id("reassign-form")
    expect(form).to_contain_text("ISO/IEC 17025 7.9.6")
    expect(form.locator("[name=reassign-reason]")).to_have_value("原负责人长期外出。")
    expect(form.locator("[name=reassign-responsible_person]")).to_have_value(str(tech2.pk))
    screenshot(page, "complaint-reassign-refused.png")
    complaint.refresh_from_db()
    assert complaint.responsible_person != tech2

    form.locator("[name=reassign-department]").fill("中心办公室")
    form.locator("[name=reassign-responsible_person]").select_option(str(head.pk))
    _submit(page, "reassign")
    expect(page.get_by_test_id("responsible")).to_contain_text("中心办公室")
    expect(page.locator("[data-testid=event][data-kind=reassigned]")).to_contain_text("原负责人长期外出。")
    complaint.refresh_from_db()
    assert complaint.responsible_person == head and complaint.reply_due == due
    assert browser_errors == []
