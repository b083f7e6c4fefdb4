"""The customer portal's pages (R-INT-9 isolation, R-INT-1 online requests, R-INT-3
confirmation in the portal): customers see only their own organisation's orders and
requests, book work online (lines typed or read from an .xlsx device list) and confirm a
reviewed order."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from intake.models import (
    Channel,
    ConfirmationMethod,
    CustomerAccount,
    NoticeKind,
    OnlineRequest,
    Order,
    OrderItem,
    OrderStatus,
    RequestItem,
    Sample,
    SampleStatus,
)
from intake.services import orders as order_services
from intake.services import portal as portal_services
from intake.services.spreadsheets import COLUMNS
from labqms.models import Role
from tests.intake.conftest import line

PREFIX = "items"
PORTAL_PAGES = ["home", "request_list", "request_create"]


@pytest.fixture
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def portal_client(english, portal_user):
    english.force_login(portal_user)
    return english


@pytest.fixture
def other_portal_user(make_user, other_hospital):
    user = make_user(Role.CUSTOMER, username="h2_portal", full_name="王芳")
    CustomerAccount.objects.create(
        user=user, customer=other_hospital, contact=other_hospital.contacts.first()
    )
    return user


@pytest.fixture
def own_order(make_order, categories):
    return make_order([line(categories["bp"], "OWN-1")], stage="accepted")


@pytest.fixture
def foreign_order(make_order, categories, other_hospital):
    return make_order(
        [line(categories["bp"], "FOREIGN-1")], stage="reviewed", customer=other_hospital
    )


@pytest.fixture
def foreign_request(other_portal_user, categories):
    return portal_services.submit_request(
        actor=other_portal_user,
        lines=[line(categories["pump"], "FOREIGN-P1")],
        contact_name="王芳",
        contact_phone="13900000002",
    )


def row(category=None, serial="", **fields):
    """One submitted line as the customer types it (category as the datalist text)."""
    data = {
        "instrument_name": fields.pop("name", category.name_zh if category else ""),
        "category": f"{category.code} — {category.name_zh}" if category else "",
        "model": "M-1" if category else "",
        "serial_number": serial,
        "quantity": "1",
        "service": "",
        "manufacturer": "",
        "asset_number": "",
        "accessories": "",
        "special_requirements": "",
    }
    data.update(fields)
    return data


def request_data(rows, **header):
    data = {
        "contact_name": "刘洋",
        "contact_phone": "13800000001",
        "work_location": "lab",
        "preferred_date": "",
        "notes": "",
        f"{PREFIX}-TOTAL_FORMS": str(len(rows)),
        f"{PREFIX}-INITIAL_FORMS": "0",
        f"{PREFIX}-MIN_NUM_FORMS": "0",
        f"{PREFIX}-MAX_NUM_FORMS": "1000",
    }
    data.update(header)
    for index, values in enumerate(rows):
        for name, value in values.items():
            if name == "no_serial":
                if value:
                    data[f"{PREFIX}-{index}-no_serial"] = "on"
                continue
            data[f"{PREFIX}-{index}-{name}"] = value
    return data


def sheet(rows):
    wb = Workbook()
    ws = wb.active
    ws.append([zh for _f, zh, _en in COLUMNS])
    ws.append([en for _f, _zh, en in COLUMNS])
    fields = [f for f, _zh, _en in COLUMNS]
    for values in rows:
        ws.append([values.get(f, "") for f in fields])
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile(
        "devices.xlsx",
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def device(code, serial, **extra):
    return {"instrument_name": "设备", "category": code, "serial_number": serial, "quantity": 1, **extra}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- R-INT-9: who may open the portal, and isolation ------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["clerk", "counter", "technician", "head"])
def test_staff_get_404_on_every_portal_page_R_INT_9(client, who, request, own_order):
    client.force_login(request.getfixturevalue(who))
    for name in PORTAL_PAGES:
        assert client.get(reverse(f"portal:{name}")).status_code == 404, name
    assert client.get(reverse("portal:order_detail", args=[own_order.pk])).status_code == 404
    assert client.post(reverse("portal:order_confirm", args=[own_order.pk])).status_code == 404


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_customer_without_account_gets_a_404_that_says_why_R_INT_9(english, customer, own_order):
    english.force_login(customer)
    for name in PORTAL_PAGES:
        response = english.get(reverse(f"portal:{name}"))
        assert response.status_code == 404, name
        assert 'data-testid="portal-unlinked"' in response.content.decode()
        assert "not linked to an organisation" in response.content.decode()
    assert english.get(reverse("portal:order_detail", args=[own_order.pk])).status_code == 404
    assert not OnlineRequest.objects.exists()


@pytest.mark.django_db
def test_portal_user_sees_own_orders_only_R_INT_9(portal_client, own_order, foreign_order):
    response = portal_client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert [o.pk for o in response.context["page"]] == [own_order.pk]
    content = response.content.decode()
    assert own_order.number in content
    assert foreign_order.number not in content
    # searching for the other organisation's number or serial finds nothing
    for q in (foreign_order.number, "FOREIGN-1"):
        response = portal_client.get(reverse("portal:home"), {"q": q})
        assert list(response.context["page"]) == []
        content = response.content.decode()  # the search box echoes the query itself
        assert f">{foreign_order.number}<" not in content
        assert reverse("portal:order_detail", args=[foreign_order.pk]) not in content


@pytest.mark.django_db
def test_other_organisations_order_is_404_for_detail_and_confirm_R_INT_9(
    portal_client, foreign_order
):
    assert portal_client.get(reverse("portal:order_detail", args=[foreign_order.pk])).status_code == 404
    response = portal_client.post(reverse("portal:order_confirm", args=[foreign_order.pk]))
    assert response.status_code == 404
    foreign_order.refresh_from_db()
    assert not foreign_order.is_confirmed
    # a pk that does not exist looks the same
    assert portal_client.get(reverse("portal:order_detail", args=[99999])).status_code == 404


@pytest.mark.django_db
def test_other_organisations_request_is_404_and_never_listed_R_INT_9(
    portal_client, portal_user, foreign_request, categories
):
    own = portal_services.submit_request(
        actor=portal_user, lines=[line(categories["bp"], "OWN-R1")],
        contact_name="刘洋", contact_phone="138",
    )
    assert portal_client.get(reverse("portal:request_detail", args=[foreign_request.pk])).status_code == 404
    response = portal_client.get(reverse("portal:request_list"))
    assert [r.pk for r in response.context["page"]] == [own.pk]
    content = response.content.decode()
    assert reverse("portal:request_detail", args=[foreign_request.pk]) not in content
    assert "王芳" not in content
    assert portal_client.get(reverse("portal:request_detail", args=[own.pk])).status_code == 200


# --- Orders: list and detail --------------------------------------------------------------


@pytest.mark.django_db
def test_home_shows_status_due_date_and_sample_progress(
    portal_client, make_order, categories, clerk, own_order
):
    draft = make_order([line(categories["pump"], "D-1")], stage="draft")
    Order.objects.filter(pk=own_order.pk).update(due_date_provisional=True)
    sample = own_order.samples.get()
    Sample.objects.filter(pk=sample.pk).update(status=SampleStatus.READY)
    response = portal_client.get(reverse("portal:home"))
    rows = {o.pk: o for o in response.context["page"]}
    assert rows[own_order.pk].sample_count == 1 and rows[own_order.pk].samples_done == 1
    assert rows[draft.pk].item_count == 1 and rows[draft.pk].sample_count == 0
    content = response.content.decode()
    assert own_order.due_date.strftime("%Y-%m-%d") in content
    assert "provisional" in content
    assert reverse("portal:request_create") in content
    assert reverse("portal:request_list") in content
    # the status filter
    response = portal_client.get(reverse("portal:home"), {"status": "draft"})
    assert [o.pk for o in response.context["page"]] == [draft.pk]


@pytest.mark.django_db
def test_home_search_by_serial_number(portal_client, make_order, categories, own_order):
    make_order([line(categories["pump"], "PX-4711, PX-4712", quantity=2)], stage="draft")
    response = portal_client.get(reverse("portal:home"), {"q": "own-1"})
    assert [o.pk for o in response.context["page"]] == [own_order.pk]
    response = portal_client.get(reverse("portal:home"), {"q": own_order.number})
    assert [o.pk for o in response.context["page"]] == [own_order.pk]


def _bulk_orders(n, clerk, customer, bp, start=0):
    """``n`` accepted orders with one line and one sample each, in a handful of queries."""
    today = timezone.localdate()
    orders = Order.objects.bulk_create(
        [
            Order(
                number=f"WT2026-{start + i:06d}",
                channel=Channel.ONLINE,
                customer=customer,
                status=OrderStatus.ACCEPTED,
                due_date=today + dt.timedelta(days=5),
                created_by=clerk,
            )
            for i in range(n)
        ]
    )
    items = OrderItem.objects.bulk_create(
        [
            OrderItem(order=o, line_no=1, instrument_name="血压计", category=bp,
                      serial_number=f"SN-{o.number}", service="verification")
            for o in orders
        ]
    )
    Sample.objects.bulk_create(
        [Sample(sample_id=f"{i.order.number}-01", order=i.order, item=i, unit_no=1) for i in items]
    )


@pytest.mark.django_db
def test_home_query_count_is_constant_at_3_25_and_100_orders(
    portal_client, clerk, hospital, other_hospital, categories, django_assert_max_num_queries
):
    """The number of queries does not grow with the rows on the page (3 vs 25) nor with
    the organisation's orders (25 vs 100)."""
    url = reverse("portal:home")
    _bulk_orders(3, clerk, hospital, categories["bp"])
    _bulk_orders(30, clerk, other_hospital, categories["bp"], start=500)
    with CaptureQueriesContext(connection) as at_3:
        response = portal_client.get(url)
    assert len(response.context["page"].object_list) == 3
    _bulk_orders(22, clerk, hospital, categories["bp"], start=100)
    # session, user, roles and menu permission checks + the account + count + page rows
    with django_assert_max_num_queries(len(at_3)) as at_25:
        response = portal_client.get(url)
    assert len(response.context["page"].object_list) == 25
    assert len(at_25) == len(at_3) <= 20
    _bulk_orders(75, clerk, hospital, categories["bp"], start=200)
    with CaptureQueriesContext(connection) as at_100:
        response = portal_client.get(url, {"q": "WT2026", "status": "accepted"})
    assert response.context["page"].paginator.count == 100
    assert len(response.context["page"].object_list) == 25
    assert len(at_100) == len(at_25)


@pytest.mark.django_db
def test_order_detail_shows_status_lines_and_samples_but_nothing_internal(
    portal_client, make_order, categories, clerk, location
):
    order = make_order(
        [line(categories["bp"], "BP-77"),
         line(categories["ct"], "CT-1", disposition="refuse", disposition_reason="超出授权范围")],
        stage="draft",
    )
    order_services.review_order(
        actor=clerk, order=order, decision="accept_with_deviations", lawful=True,
        requirements_clear=True, competent=True, terms_agreed=True, notes="内部备注：客户难缠",
        deviations="血压计需外送部分附件", customer_told_how="电话", customer_told_at=timezone.now(),
    )
    order_services.record_confirmation(actor=clerk, order=order, signer_name="刘洋")
    order = order_services.accept_order(actor=clerk, order=order)
    from intake.services import samples as sample_services

    sample_services.receive_sample(actor=clerk, sample=order.samples.get(), location=location)
    order_services.send_notice(
        actor=clerk, order=order, kind=NoticeKind.DELAY, body="设备故障，延期两天",
        new_due_date=order.due_date + dt.timedelta(days=2), by_email=False, told_whom="刘洋",
    )
    order_services.send_notice(
        actor=clerk, order=order, kind=NoticeKind.DEVIATION, body="尚未发出的通知", by_email=True,
    )
    response = portal_client.get(reverse("portal:order_detail", args=[order.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert order.number in content and "BP-77" in content
    assert "超出授权范围" in content  # the refused line's reason
    assert "血压计需外送部分附件" in content  # deviations
    assert "设备故障，延期两天" in content  # a notice they were given
    assert order.samples.get().sample_id in content
    assert 'data-status="stored"' in content
    # internal: review notes, storage location, staff names
    assert "内部备注" not in content
    assert "收样室" not in content  # the storage location
    assert "柜台小李" not in content
    assert 'data-testid="portal-confirm"' not in content  # already confirmed
    assert reverse("intake:order_pdf", args=[order.pk]) not in content


@pytest.mark.django_db
def test_pending_notices_are_not_shown_until_sent(portal_client, own_order, clerk):
    order_services.send_notice(
        actor=clerk, order=own_order, kind=NoticeKind.DEVIATION, body="尚未发出的通知", by_email=True,
    )
    # eager Celery sent it after commit in a real request; here the test transaction
    # never commits, so the notice stays pending.
    content = portal_client.get(reverse("portal:order_detail", args=[own_order.pk])).content.decode()
    assert "尚未发出的通知" not in content


# --- R-INT-3: confirmation in the portal ----------------------------------------------------


@pytest.mark.django_db
def test_confirm_in_portal_records_method_portal_and_second_confirm_is_refused_R_INT_3(
    portal_client, make_order, categories
):
    order = make_order([line(categories["bp"], "BP-1")], stage="reviewed")
    page = portal_client.get(reverse("portal:order_detail", args=[order.pk]))
    content = page.content.decode()
    assert 'data-testid="portal-confirm"' in content
    assert 'data-testid="terms"' in content
    assert 'data-testid="confirm-fee-total"' in content
    assert reverse("portal:order_confirm", args=[order.pk]) in content
    assert portal_client.get(reverse("portal:order_confirm", args=[order.pk])).status_code == 405

    response = portal_client.post(reverse("portal:order_confirm", args=[order.pk]), follow=True)
    order.refresh_from_db()
    assert order.confirmation_method == ConfirmationMethod.PORTAL
    assert order.confirmed_by_name == "刘洋" and order.is_confirmed
    assert any("is confirmed" in m for m in messages_of(response))
    assert 'data-testid="portal-confirm"' not in response.content.decode()
    confirmed_at = order.confirmed_at

    response = portal_client.post(reverse("portal:order_confirm", args=[order.pk]), follow=True)
    assert any("already confirmed by 刘洋" in m for m in messages_of(response))
    order.refresh_from_db()
    assert order.confirmed_at == confirmed_at


@pytest.mark.django_db
def test_a_draft_order_cannot_be_confirmed_in_the_portal(portal_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-1")], stage="draft")
    assert 'data-testid="portal-confirm"' not in portal_client.get(
        reverse("portal:order_detail", args=[order.pk])
    ).content.decode()
    response = portal_client.post(reverse("portal:order_confirm", args=[order.pk]), follow=True)
    assert any("after the contract review" in m for m in messages_of(response))
    order.refresh_from_db()
    assert not order.is_confirmed


# --- R-INT-1: online requests ---------------------------------------------------------------


@pytest.mark.django_db
def test_request_form_prefills_the_contact_and_has_the_item_rows(portal_client, categories):
    response = portal_client.get(reverse("portal:request_create"))
    assert response.status_code == 200
    assert response.context["form"].initial["contact_name"] == "刘洋"
    assert response.context["form"].initial["contact_phone"] == "13800000001"
    content = response.content.decode()
    assert content.count('data-testid="item-row"') == 4  # three rows + the JS template
    assert "intake/items.js" in content and "<script>" not in content
    assert reverse("intake:import_template") in content
    assert 'enctype="multipart/form-data"' in content


@pytest.mark.django_db
def test_request_submitted_in_the_portal_reaches_the_counters_queue_R_INT_1(
    portal_client, client, hospital, categories, clerk
):
    preferred = timezone.localdate() + dt.timedelta(days=3)
    rows = [
        row(categories["bp"], "BP-1"),
        row(),  # blank rows are ignored
        row(categories["pump"], "P-1, P-2", quantity="2", accessories="电源线"),
    ]
    data = request_data(rows, work_location="on_site", preferred_date=preferred.isoformat(), notes="请上午来")
    response = portal_client.post(reverse("portal:request_create"), data)
    online_request = OnlineRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:request_detail", args=[online_request.pk])
    assert online_request.customer == hospital
    assert online_request.work_location == "on_site" and online_request.preferred_date == preferred
    items = list(online_request.items.order_by("line_no"))
    assert [(i.category.code, i.serial_number, i.quantity) for i in items] == [
        ("BP", "BP-1", 1), ("PUMP", "P-1, P-2", 2),
    ]
    detail = portal_client.get(response["Location"])
    assert "P-1, P-2" in detail.content.decode()
    assert any("submitted" in m for m in messages_of(detail))

    client.force_login(clerk)
    queue = client.get(reverse("intake:request_list"))
    assert [r.pk for r in queue.context["page"]] == [online_request.pk]
    content = queue.content.decode()
    assert hospital.name in content
    assert reverse("intake:request_convert", args=[online_request.pk]) in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "form_index", "field"),
    [("missing_serial", 1, "serial_number"), ("quantity_zero", 0, "quantity")],
)
def test_bad_lines_show_row_errors_and_nothing_is_created(portal_client, categories, case, form_index, field):
    bp, pump = categories["bp"], categories["pump"]
    cases = {
        "missing_serial": [row(bp, "BP-1", manufacturer="鱼跃"), row(pump, "")],
        "quantity_zero": [row(bp, "BP-1", quantity="0", manufacturer="鱼跃"), row(pump, "P-1")],
    }
    response = portal_client.post(
        reverse("portal:request_create"), request_data(cases[case], notes="保留的备注")
    )
    assert response.status_code == 200
    assert not OnlineRequest.objects.exists() and not RequestItem.objects.exists()
    forms = response.context["formset"].forms
    assert forms[form_index].errors[field]
    assert not any(f.errors for i, f in enumerate(forms) if i != form_index)
    content = response.content.decode()
    assert f'data-error-for="{field}"' in content
    assert 'data-testid="form-error"' in content
    for typed in ("BP-1", "鱼跃", "BP — 血压计", "保留的备注", "13800000001"):
        assert typed in content


@pytest.mark.django_db
def test_header_errors_and_no_lines_are_reported(portal_client, categories):
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = portal_client.post(
        reverse("portal:request_create"),
        request_data([row(categories["bp"], "BP-1")], contact_phone="", preferred_date=past),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contact_phone"]
    assert not OnlineRequest.objects.exists()
    assert 'value="BP-1"' in response.content.decode()
    response = portal_client.post(reverse("portal:request_create"), request_data([row(), row()]))
    assert response.status_code == 200
    assert "Add at least one instrument." in response.context["form"].non_field_errors()
    assert not OnlineRequest.objects.exists()


@pytest.mark.django_db
def test_xlsx_with_bad_rows_reports_row_numbers_and_takes_nothing(portal_client, categories):
    # rows 1-2 are the headings; data starts at row 3
    upload = sheet([device("BP", "BP-2"), device("NOPE", "X-1"), device("PUMP", "P-1")])
    data = request_data([row(categories["pump"], "TYPED-1")], notes="手填的备注")
    data["sheet-file"] = upload
    response = portal_client.post(reverse("portal:request_create"), data)
    assert response.status_code == 200
    assert response.context["sheet_problems"] == ["Row 4: unknown category “NOPE”."]
    content = response.content.decode()
    assert 'data-testid="import-errors"' in content and "Row 4" in content
    assert 'value="TYPED-1"' in content and "手填的备注" in content  # nothing typed is lost
    assert not OnlineRequest.objects.exists()


@pytest.mark.django_db
def test_xlsx_line_rule_errors_are_reported_by_row_number(portal_client, categories):
    upload = sheet([device("PUMP", "P-1"), device("PUMP", ""), device("PUMP", "P-1")])
    data = request_data([])
    data["sheet-file"] = upload
    response = portal_client.post(reverse("portal:request_create"), data)
    problems = response.context["sheet_problems"]
    assert len(problems) == 2
    assert problems[0].startswith("Row 4: Enter the serial number")
    assert problems[1].startswith("Row 5: Serial number P-1 already appears")
    assert not OnlineRequest.objects.exists()


@pytest.mark.django_db
def test_xlsx_rejects_other_files(portal_client):
    data = request_data([])
    data["sheet-file"] = SimpleUploadedFile("devices.csv", b"a,b\n", content_type="text/csv")
    response = portal_client.post(reverse("portal:request_create"), data)
    assert response.status_code == 200
    assert response.context["sheet_form"].errors["file"]
    assert not OnlineRequest.objects.exists()


@pytest.mark.django_db
def test_good_xlsx_replaces_the_rows_for_checking_then_submits(portal_client, categories):
    upload = sheet([device("BP", "BP-2"), device("输液泵", "P-1, P-2", quantity=2, accessories="电源线")])
    data = request_data([row(categories["pump"], "TYPED-1")], contact_name="张三", notes="手填的备注")
    data["sheet-file"] = upload
    response = portal_client.post(reverse("portal:request_create"), data)
    assert response.status_code == 200
    assert not OnlineRequest.objects.exists()  # the customer checks the lines first
    formset = response.context["formset"]
    assert [f.initial["serial_number"] for f in formset.initial_forms] == ["BP-2", "P-1, P-2"]
    assert len(formset.forms) == 2 + 3  # the sheet's lines and three blank rows
    content = response.content.decode()
    assert 'value="TYPED-1"' not in content  # replaced by the sheet
    assert 'value="BP — Sphygmomanometer"' in content and 'value="PUMP — Infusion pump"' in content
    assert 'value="张三"' in content and "手填的备注" in content
    assert any("2 lines read" in m for m in messages_of(response))
    assert not response.context["form"].errors  # the header is not judged while reading

    # submitting what the page shows creates the request with the sheet's lines
    rows = [row(categories["bp"], "BP-2", name="设备"),
            row(categories["pump"], "P-1, P-2", name="设备", quantity="2", accessories="电源线")]
    data = request_data(rows, contact_name="张三")
    data[f"{PREFIX}-INITIAL_FORMS"] = "2"
    response = portal_client.post(reverse("portal:request_create"), data)
    assert response.status_code == 302
    online_request = OnlineRequest.objects.get()
    assert online_request.contact_name == "张三"
    assert list(online_request.items.values_list("serial_number", flat=True)) == ["BP-2", "P-1, P-2"]


@pytest.mark.django_db
def test_request_detail_shows_declined_reason_and_converted_order_link(
    portal_client, portal_user, clerk, categories
):
    declined = portal_services.submit_request(
        actor=portal_user, lines=[line(categories["bp"], "B-1")], contact_name="刘洋", contact_phone="1",
    )
    portal_services.decline_request(actor=clerk, request=declined, reason="本实验室不开展此项目")
    converted = portal_services.submit_request(
        actor=portal_user, lines=[line(categories["bp"], "B-2")], contact_name="刘洋", contact_phone="1",
    )
    order = portal_services.convert_request(actor=clerk, request=converted)
    content = portal_client.get(reverse("portal:request_detail", args=[declined.pk])).content.decode()
    assert "本实验室不开展此项目" in content and 'data-status="declined"' in content
    content = portal_client.get(reverse("portal:request_detail", args=[converted.pk])).content.decode()
    assert reverse("portal:order_detail", args=[order.pk]) in content and order.number in content
    listing = portal_client.get(reverse("portal:request_list")).content.decode()
    assert "本实验室不开展此项目" in listing
    assert reverse("portal:order_detail", args=[order.pk]) in listing
    # the converted order is now on the portal's order list
    home = portal_client.get(reverse("portal:home"))
    assert [o.pk for o in home.context["page"]] == [order.pk]
