"""The order page and its actions: contract review (R-INT-4), confirmation (R-INT-3),
acceptance with the due date (R-INT-5), the printable order, notices (R-INT-8),
payment and credit (R-INT-7), and on-site visits (R-ONS-1, R-ONS-4)."""

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from intake.models import (
    ContractReview,
    NoticeStatus,
    OrderStatus,
    Payment,
    ReviewDecision,
    SampleStatus,
    VisitStatus,
    WorkLocation,
)
from intake.services import orders as order_services
from intake.services import visits as visit_services
from intake.views.order_actions import full_order, order_document_context
from labqms.models import AuditEvent
from tests.intake.conftest import line


def url(name, pk):
    return reverse(f"intake:{name}", args=[pk])


def review_data(order, **overrides):
    """A complete "accept" review with every checklist point ticked."""
    data = {
        "lawful": "on",
        "requirements_clear": "on",
        "competent": "on",
        "terms_agreed": "on",
        "decision": ReviewDecision.ACCEPT,
        "notes": "",
        "deviations": "",
        "customer_told_how": "",
        "customer_told_at": "",
        "decision_rule": "",
    }
    for item in order.items.all():
        data[f"fee_{item.pk}"] = str(item.unit_fee)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


# ---- detail page ----------------------------------------------------------------


@pytest.mark.django_db
def test_detail_page_shows_the_order_to_clerk_and_technician(client, clerk, technician, make_order, categories):
    order = make_order(
        [line(categories["bp"], "BP-001"), line(categories["pump"], "P-1, P-2", quantity=2)]
    )
    for user in (clerk, technician):
        client.force_login(user)
        response = client.get(url("order_detail", order.pk))
        assert response.status_code == 200
        html = response.content.decode()
        assert order.number in html
        assert "P-1, P-2" in html
        assert f"{order.number}-03" in html  # the third sample
        assert reverse("intake:sample_detail", args=[order.samples.first().pk]) in html
        assert 'data-testid="audit-row"' in html


@pytest.mark.django_db
def test_detail_page_offers_actions_by_state(clerk_client, make_order, categories):
    draft = make_order([line(categories["bp"], "BP-001")], stage="draft")
    html = clerk_client.get(url("order_detail", draft.pk)).content.decode()
    assert url("order_edit", draft.pk) in html and url("order_review", draft.pk) in html
    assert url("order_accept", draft.pk) not in html
    accepted = make_order([line(categories["bp"], "BP-002")])
    html = clerk_client.get(url("order_detail", accepted.pk)).content.decode()
    assert url("order_edit", accepted.pk) not in html
    assert url("order_receive", accepted.pk) in html and url("order_labels", accepted.pk) in html
    assert url("order_notice", accepted.pk) in html and url("order_payment", accepted.pk) in html
    assert url("order_credit", accepted.pk) not in html  # lab head only


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["customer", "portal_user"])
def test_detail_page_is_404_for_customers(client, request, who, make_order, categories):
    """R-INT-9: outsiders learn nothing, not even that the order exists."""
    order = make_order([line(categories["bp"], "BP-001")])
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("order_detail", order.pk)).status_code == 404
    assert client.get(url("order_pdf", order.pk)).status_code == 404
    assert client.post(url("order_accept", order.pk)).status_code == 404


@pytest.mark.django_db
def test_detail_page_queries_do_not_grow_with_lines(clerk_client, make_order, categories, django_assert_max_num_queries):
    small = make_order([line(categories["bp"], "A-1")])
    big = make_order([line(categories["bp"], f"B-{n}") for n in range(15)])
    order_services.record_payment(actor=small.created_by, order=big, amount="10", method="cash", receipt_no="R1")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        clerk_client.get(url("order_detail", small.pk))
    with django_assert_max_num_queries(len(few)):
        assert clerk_client.get(url("order_detail", big.pk)).status_code == 200


# ---- contract review (R-INT-4) --------------------------------------------------


@pytest.mark.django_db
def test_review_form_prefills_each_line_fee(clerk_client, make_order, categories):
    order = make_order([line(categories["pump"], "P-1, P-2", quantity=2)], stage="draft")
    response = clerk_client.get(url("order_review", order.pk))
    assert response.status_code == 200
    item = order.items.get()
    assert f'name="fee_{item.pk}" id="id_fee_{item.pk}" value="150.00"' in response.content.decode()
    assert response.context["fee_total"] == Decimal("300.00")


@pytest.mark.django_db
def test_r_int_4_review_accept_with_all_points_makes_the_order_reviewed(clerk_client, make_order, categories):
    order = make_order([line(categories["pump"], "P-1, P-2", quantity=2)], stage="draft")
    item = order.items.get()
    response = clerk_client.post(
        url("order_review", order.pk), review_data(order, **{f"fee_{item.pk}": "120.50"})
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.REVIEWED
    review = order.current_review()
    assert review.reviewer.username == "clerk_t"
    assert review.fee_total == Decimal("241.00")
    item.refresh_from_db()
    assert item.unit_fee == Decimal("120.50")


@pytest.mark.django_db
def test_r_int_4_accept_with_b_unticked_is_refused_and_input_kept(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="draft")
    item = order.items.get()
    data = review_data(order, requirements_clear=None, notes="客户要求加急", **{f"fee_{item.pk}": "99.00"})
    response = clerk_client.post(url("order_review", order.pk), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    html = response.content.decode()
    assert "客户要求加急" in html and 'value="99.00"' in html
    assert response.context["fee_total"] == Decimal("99.00")  # the total follows the typed fees
    order.refresh_from_db()
    item.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert not ContractReview.objects.filter(order=order).exists()
    assert item.unit_fee == Decimal("80.00")


@pytest.mark.django_db
def test_r_int_4_decline_needs_a_reason(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="draft")
    response = clerk_client.post(url("order_review", order.pk), review_data(order, decision=ReviewDecision.DECLINE))
    assert response.status_code == 200
    assert "deviations" in response.context["form"].errors
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    response = clerk_client.post(
        url("order_review", order.pk),
        review_data(order, decision=ReviewDecision.DECLINE, deviations="无法提供所需的溯源"),
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DECLINED


@pytest.mark.django_db
def test_r_int_4_deviations_need_how_and_when_the_customer_was_told(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="draft")
    data = review_data(order, decision=ReviewDecision.ACCEPT_WITH_DEVIATIONS, deviations="只做 3 个测量点")
    response = clerk_client.post(url("order_review", order.pk), data)
    assert response.status_code == 200
    assert "customer_told_how" in response.context["form"].errors
    assert "只做 3 个测量点" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    data.update(customer_told_how="电话告知刘洋", customer_told_at="2026-01-05T10:30")
    response = clerk_client.post(url("order_review", order.pk), data)
    assert response.status_code == 302
    review = order.reviews.get()
    assert review.customer_told_how == "电话告知刘洋"
    assert timezone.localtime(review.customer_told_at).strftime("%Y-%m-%d %H:%M") == "2026-01-05 10:30"


@pytest.mark.django_db
def test_review_by_technician_is_refused(client, technician, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="draft")
    client.force_login(technician)
    response = client.post(url("order_review", order.pk), review_data(order))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


# ---- confirmation (R-INT-3) and acceptance (R-INT-5) -------------------------------


@pytest.mark.django_db
def test_r_int_3_confirmation_is_recorded_once_and_a_second_is_refused_clearly(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="reviewed")
    assert clerk_client.get(url("order_confirm", order.pk)).status_code == 200
    response = clerk_client.post(
        url("order_confirm", order.pk), {"signer_name": "刘洋", "confirmed_at": "2026-01-05T09:15"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.confirmed_by_name == "刘洋"
    assert order.confirmation_method == "paper"
    assert order.confirmation_recorded_by.username == "clerk_t"

    response = clerk_client.post(
        url("order_confirm", order.pk), {"signer_name": "张三", "confirmed_at": "2026-01-05T11:00"}
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "刘洋" in errors and "2026-01-05 09:15" in errors
    assert 'value="张三"' in response.content.decode()
    order.refresh_from_db()
    assert order.confirmed_by_name == "刘洋"


@pytest.mark.django_db
def test_r_int_3_accept_before_confirmation_is_refused(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="reviewed")
    response = clerk_client.post(url("order_accept", order.pk))
    assert response.status_code == 302
    assert messages_of(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.REVIEWED
    assert not order.samples.exists()


@pytest.mark.django_db
def test_r_int_5_accept_sets_the_due_date_and_registers_samples(clerk_client, make_order, categories):
    order = make_order(
        [line(categories["bp"], "BP-001"), line(categories["pump"], "P-1, P-2", quantity=2)], stage="confirmed"
    )
    response = clerk_client.post(url("order_accept", order.pk))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    expected, _provisional = order_services.due_date_for(order, timezone.localdate())
    assert order.due_date == expected
    assert any(order.due_date.strftime("%Y-%m-%d") in m for m in messages_of(response))
    assert list(order.samples.values_list("sample_id", "serial_number", "status")) == [
        (f"{order.number}-01", "BP-001", SampleStatus.REGISTERED),
        (f"{order.number}-02", "P-1", SampleStatus.REGISTERED),
        (f"{order.number}-03", "P-2", SampleStatus.REGISTERED),
    ]


@pytest.mark.django_db
def test_reopen_supersedes_the_review_and_clears_the_confirmation(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="confirmed")
    response = clerk_client.post(url("order_reopen", order.pk), {"reason": ""})
    assert response.status_code == 200  # the reason is required
    order.refresh_from_db()
    assert order.status == OrderStatus.REVIEWED
    response = clerk_client.post(url("order_reopen", order.pk), {"reason": "客户增加一台"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert not order.is_confirmed and order.confirmed_by_name == ""
    review = order.reviews.get()
    assert review.superseded_at is not None and review.superseded_reason == "客户增加一台"
    assert order.current_review() is None
    html = clerk_client.get(url("order_detail", order.pk)).content.decode()
    assert 'data-testid="superseded-reviews"' in html


@pytest.mark.django_db
def test_cancel_needs_a_reason_and_is_refused_once_accepted(clerk_client, make_order, categories):
    draft = make_order([line(categories["bp"], "BP-001")], stage="draft")
    response = clerk_client.post(url("order_cancel", draft.pk), {"reason": "客户撤回"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == OrderStatus.CANCELLED
    accepted = make_order([line(categories["bp"], "BP-002")])
    response = clerk_client.post(url("order_cancel", accepted.pk), {"reason": "客户撤回"})
    assert response.status_code == 200
    assert response.context["cancel_form"].non_field_errors()
    accepted.refresh_from_db()
    assert accepted.status == OrderStatus.ACCEPTED


# ---- the printable order (R-INT-3) ------------------------------------------------


@pytest.mark.django_db
def test_r_int_3_printable_order_is_a_pdf_with_number_and_serial(clerk_client, make_order, categories, tmp_path):
    order = make_order([line(categories["bp"], "BPX-778899"), line(categories["pump"], "P-1")])
    response = clerk_client.get(url("order_pdf", order.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{order.number}.pdf"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("inline")
    document = response.content
    assert document.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path = tmp_path / "order.pdf"
        path.write_bytes(document)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    else:  # poppler missing locally: check the HTML the PDF is made from instead
        text = render_to_string("pdf/intake/order.html", order_document_context(full_order(order.pk)))
    assert order.number in text
    assert "BPX-778899" in text
    assert "刘洋" in text  # the confirmation, printed in Chinese


@pytest.mark.django_db
def test_printed_order_html_has_qr_terms_and_signature_lines(make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="draft")
    html = render_to_string("pdf/intake/order.html", order_document_context(full_order(order.pk)))
    assert "<svg" in html and "<?xml" not in html
    assert "示范市医疗器械计量检测中心" in html or "labqms" in html
    assert html.count('class="sigline"') == 2


# ---- notices (R-INT-8) ------------------------------------------------------------


@pytest.mark.django_db
def test_r_int_8_delay_notice_moves_the_due_date_and_audits_old_and_new(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")])
    old_due = order.due_date
    new_due = old_due + dt.timedelta(days=14)
    assert clerk_client.get(url("order_notice", order.pk)).status_code == 200
    response = clerk_client.post(
        url("order_notice", order.pk),
        {
            "kind": "delay",
            "body": "标准器送检未归，延期两周。",
            "new_due_date": new_due.isoformat(),
            "how": "told",
            "told_whom": "刘洋（电话）",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.due_date == new_due
    notice = order.notices.get()
    assert notice.status == NoticeStatus.RECORDED and notice.recipient == "刘洋（电话）"
    event = AuditEvent.objects.get(action="order.notice_sent", target_id=str(order.pk))
    assert event.changes["due_date"] == [old_due.isoformat(), new_due.isoformat()]


@pytest.mark.django_db
def test_r_int_8_notice_told_by_phone_needs_whom(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")])
    response = clerk_client.post(
        url("order_notice", order.pk), {"kind": "deviation", "body": "方法偏离", "how": "told"}
    )
    assert response.status_code == 200
    assert "told_whom" in response.context["form"].errors
    assert "方法偏离" in response.content.decode()
    assert not order.notices.exists()


# ---- payment and credit (R-INT-7) -------------------------------------------------


@pytest.mark.django_db
def test_r_int_7_payment_is_recorded_and_a_bad_one_keeps_the_input(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")])
    response = clerk_client.post(url("order_payment", order.pk), {"amount": "80.00", "method": "cash", "receipt_no": "SK-001"})
    assert response.status_code == 302
    assert Payment.objects.get(order=order).amount == Decimal("80.00")
    response = clerk_client.post(url("order_payment", order.pk), {"amount": "5", "method": "cash", "receipt_no": "SK-001"})
    assert response.status_code == 200
    assert "receipt_no" in response.context["payment_form"].errors
    assert 'value="SK-001"' in response.content.decode()
    assert Payment.objects.filter(order=order).count() == 1


@pytest.mark.django_db
def test_r_int_7_credit_is_refused_for_the_clerk_and_given_by_the_head(client, clerk, head, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")])
    client.force_login(clerk)
    response = client.post(url("order_credit", order.pk), {"reason": "医院月结"})
    assert response.status_code in (302, 404)
    order.refresh_from_db()
    assert order.credit_approved_at is None
    client.force_login(head)
    html = client.get(url("order_detail", order.pk)).content.decode()
    assert url("order_credit", order.pk) in html
    response = client.post(url("order_credit", order.pk), {"reason": "医院月结"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.credit_approved_by == head and order.credit_reason == "医院月结"
    assert order.is_settled


# ---- on-site visits (R-ONS-1, R-ONS-4) -------------------------------------------------


@pytest.fixture
def on_site_order(make_order, categories):
    return make_order([line(categories["bp"], "BP-001")], stage="reviewed", work_location=WorkLocation.ON_SITE)


@pytest.mark.django_db
def test_r_ons_1_r_ons_4_visit_plan_confirm_and_hand_over(clerk_client, on_site_order):
    order = on_site_order
    planned = timezone.localdate() + dt.timedelta(days=3)
    html = clerk_client.get(url("order_detail", order.pk)).content.decode()
    assert url("visit_add", order.pk) in html
    response = clerk_client.post(
        url("visit_add", order.pk),
        {"planned_date": planned.isoformat(), "site_address": "一院门诊楼3楼", "site_contact": "刘洋", "site_phone": "138"},
    )
    assert response.status_code == 302
    visit = order.visits.get()
    assert visit.status == VisitStatus.PLANNED
    response = clerk_client.post(
        url("visit_confirm", visit.pk), {"confirmed_with": "刘洋", "conditions": "温度 20–25 ℃，湿度 ≤ 70%，220 V 电源"}
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SITE_CONFIRMED and visit.environment_confirmed_at
    response = clerk_client.post(
        url("visit_handover", visit.pk), {"state_changed": "on", "restoration_notes": "", "handed_over_to": "刘洋"}
    )
    assert response.status_code == 200  # a changed state needs the restoration described
    visit.refresh_from_db()
    assert visit.status == VisitStatus.SITE_CONFIRMED
    response = clerk_client.post(
        url("visit_handover", visit.pk),
        {"state_changed": "on", "restoration_notes": "报警阈值已恢复原设置", "handed_over_to": "刘洋"},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE and visit.restoration_notes == "报警阈值已恢复原设置"


@pytest.mark.django_db
def test_r_ons_4_hand_over_before_the_site_is_confirmed_is_refused(clerk_client, clerk, on_site_order):
    visit = visit_services.plan_visit(
        actor=clerk, order=on_site_order, planned_date=timezone.localdate(), site_address="一院", site_contact="刘洋"
    )
    response = clerk_client.post(url("visit_handover", visit.pk), {"handed_over_to": "刘洋"})
    assert response.status_code == 200
    assert response.context["visits"][0].handover_form.non_field_errors()
    assert 'value="刘洋"' in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.PLANNED and visit.handed_over_at is None


@pytest.mark.django_db
def test_r_ons_1_visit_for_a_lab_order_is_refused(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-001")], stage="reviewed")
    response = clerk_client.post(
        url("visit_add", order.pk),
        {"planned_date": timezone.localdate().isoformat(), "site_address": "x", "site_contact": "y"},
    )
    assert response.status_code == 200
    assert response.context["visit_form"].non_field_errors()
    assert not order.visits.exists()


@pytest.mark.django_db
def test_r_int_8_deviation_notice_by_e_mail_is_queued_after_commit(clerk_client, make_order, categories, django_capture_on_commit_callbacks):
    order = make_order([line(categories["bp"], "BP-001")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = clerk_client.post(
            url("order_notice", order.pk), {"kind": "deviation", "body": "改用 JJG 692 方法", "how": "email"}
        )
    assert response.status_code == 302
    notice = order.notices.get()
    assert notice.status == NoticeStatus.PENDING and notice.recipient == "ly@h1.example.cn"
    assert len(callbacks) == 1
