"""Order entry at the counter: the order list, fast entry of lines, the .xlsx import and
the online-request queue (R-INT-1, R-INT-2, R-INT-9)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from intake.forms.items import CategoryLookup, ItemLineFormSet
from intake.models import (
    Channel,
    Disposition,
    OnlineRequest,
    Order,
    OrderItem,
    OrderStatus,
    RequestStatus,
    Sample,
)
from intake.services import portal as portal_services
from intake.services.spreadsheets import COLUMNS
from tests.intake.conftest import line

PREFIX = "items"


def row(category=None, serial="", **fields):
    """One submitted row as the clerk types it (category as the datalist text)."""
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
        "disposition": "accept",
        "disposition_reason": "",
        "subcontractor": "",
    }
    data.update(fields)
    return data


def formset_data(rows, initial=0):
    data = {
        f"{PREFIX}-TOTAL_FORMS": str(len(rows)),
        f"{PREFIX}-INITIAL_FORMS": str(initial),
        f"{PREFIX}-MIN_NUM_FORMS": "0",
        f"{PREFIX}-MAX_NUM_FORMS": "1000",
    }
    for index, values in enumerate(rows):
        for name, value in values.items():
            if name == "no_serial":
                if value:
                    data[f"{PREFIX}-{index}-no_serial"] = "on"
                continue
            data[f"{PREFIX}-{index}-{name}"] = value
    return data


def order_data(customer, rows, **header):
    data = {
        "customer": str(customer.pk),
        "contact": str(customer.contacts.first().pk),
        "channel": Channel.COUNTER,
        "work_location": "lab",
        "special_requirements": "",
        "sample_disposal": "客户自取",
    }
    data.update(header)
    data.update(formset_data(rows))
    return data


@pytest.fixture
def clerk_client(client, clerk, settings):
    """The clerk, with the English UI so that messages can be asserted before and after
    the Chinese translation is done."""
    client.force_login(clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- Order entry -------------------------------------------------------------------


@pytest.mark.django_db
def test_order_create_page_renders_three_blank_rows_and_the_category_list(clerk_client, categories):
    response = clerk_client.get(reverse("intake:order_create"))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('data-testid="item-row"') == 4  # three rows + the JS template
    assert 'value="BP — Sphygmomanometer"' in content
    assert 'data-scoped="verification"' in content  # bp in scope
    assert 'data-code="CT"' in content and 'data-scoped=""' in content  # ct out of scope
    assert "intake/items.js" in content
    assert "<script>" not in content  # CSP: no inline script


@pytest.mark.django_db
def test_out_of_scope_line_refused_with_reason_creates_the_order_R_INT_2(
    clerk_client, hospital, categories
):
    rows = [
        row(categories["bp"], "BP-1"),
        row(categories["pump"], "P-1, P-2", quantity="2"),
        row(categories["ct"], "CT-9", disposition="refuse", disposition_reason="超出授权范围"),
        row(),  # blank rows are ignored
        row(),
    ]
    response = clerk_client.post(reverse("intake:order_create"), order_data(hospital, rows))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:order_detail", args=[order.pk])
    items = {i.category.code: i for i in order.items.select_related("category")}
    assert [i.line_no for i in order.items.order_by("line_no")] == [1, 2, 3]
    assert items["BP"].disposition == Disposition.ACCEPT and items["BP"].service == "verification"
    assert items["PUMP"].quantity == 2 and items["PUMP"].serial_number == "P-1, P-2"
    assert items["CT"].disposition == Disposition.REFUSE
    assert items["CT"].disposition_reason == "超出授权范围"
    assert items["CT"].in_scope is False
    assert order.channel == Channel.COUNTER and order.sample_disposal == "客户自取"


@pytest.mark.django_db
def test_out_of_scope_line_accepted_is_refused_and_nothing_typed_is_lost_R_INT_2(
    clerk_client, hospital, categories
):
    rows = [
        row(categories["bp"], "BP-1", manufacturer="鱼跃"),
        row(categories["pump"], "P-7"),
        row(categories["ct"], "CT-777", name="西门子CT"),
    ]
    response = clerk_client.post(reverse("intake:order_create"), order_data(hospital, rows))
    assert response.status_code == 200
    assert not Order.objects.exists()
    formset = response.context["formset"]
    assert not formset.forms[0].errors and not formset.forms[1].errors
    assert "outside the lab's authorised scope" in " ".join(formset.forms[2].errors["disposition"])
    content = response.content.decode()
    for typed in ("BP-1", "鱼跃", "P-7", "CT-777", "西门子CT", "CT — CT机"):
        assert f'value="{typed}"' in content
    assert 'data-testid="form-error"' in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "form_index", "field"),
    [
        ("missing_serial", 1, "serial_number"),
        ("quantity_zero", 0, "quantity"),
        ("duplicate_serial", 2, "serial_number"),
    ],
)
def test_bad_lines_show_field_errors_in_their_row(
    clerk_client, hospital, categories, rows, form_index, field
):
    """Bad input from the issue: missing serial, quantity < 1, the same serial twice."""
    bp, pump = categories["bp"], categories["pump"]
    cases = {
        "missing_serial": [row(bp, "BP-1"), row(pump, "")],
        "quantity_zero": [row(bp, "BP-1", quantity="0"), row(pump, "P-1")],
        # a blank row between: the error still lands on the right form
        "duplicate_serial": [row(bp, "X-1"), row(), row(pump, "x-1")],
    }
    response = clerk_client.post(reverse("intake:order_create"), order_data(hospital, cases[rows]))
    assert response.status_code == 200
    assert not Order.objects.exists()
    forms = response.context["formset"].forms
    assert forms[form_index].errors[field]
    others = [f for i, f in enumerate(forms) if i != form_index]
    assert not any(f.errors for f in others)
    assert 'data-error-for="%s"' % field in response.content.decode()


@pytest.mark.django_db
def test_no_serial_ticked_needs_no_serial_number(clerk_client, hospital, categories):
    rows = [row(categories["pump"], "", no_serial=True, quantity="3")]
    response = clerk_client.post(reverse("intake:order_create"), order_data(hospital, rows))
    assert response.status_code == 302
    item = OrderItem.objects.get()
    assert item.no_serial and item.serial_number == "" and item.quantity == 3


@pytest.mark.django_db
def test_unknown_category_text_is_a_field_error(clerk_client, hospital, categories):
    rows = [row(categories["bp"], "BP-1")]
    rows[0]["category"] = "不存在的类别"
    response = clerk_client.post(reverse("intake:order_create"), order_data(hospital, rows))
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["category"]
    assert 'value="不存在的类别"' in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_category_is_found_by_code_label_or_name(categories):
    lookup = CategoryLookup()
    bp = categories["bp"]
    for text in ("BP", "bp", "BP — 血压计", "BP — Sphygmomanometer", "血压计", "sphygmomanometer"):
        assert lookup.find(text) == bp, text
    assert lookup.find("XYZ") is None


@pytest.mark.django_db
def test_contact_of_another_customer_is_refused(clerk_client, hospital, other_hospital, categories):
    data = order_data(hospital, [row(categories["bp"], "BP-1")])
    data["contact"] = str(other_hospital.contacts.first().pk)
    response = clerk_client.post(reverse("intake:order_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["contact"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_edit_draft_order_keeps_lines_and_saves_changes(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-1"), line(categories["pump"], "P-1")], stage="draft")
    page = clerk_client.get(reverse("intake:order_edit", args=[order.pk]))
    assert page.status_code == 200
    forms = page.context["formset"].forms
    assert 'value="BP — Sphygmomanometer"' in str(forms[0]["category"])
    assert 'value="P-1"' in page.content.decode()
    rows = [row(categories["bp"], "BP-1"), row(categories["pump"], "P-2", accessories="电源线")]
    data = order_data(order.customer, rows, reason="客户更正出厂编号")
    response = clerk_client.post(reverse("intake:order_edit", args=[order.pk]), data)
    assert response.status_code == 302
    pump = order.items.get(line_no=2)
    assert pump.serial_number == "P-2" and pump.accessories == "电源线"


@pytest.mark.django_db
def test_edit_of_a_reviewed_order_is_refused(clerk_client, make_order, categories):
    order = make_order([line(categories["bp"], "BP-1")], stage="reviewed")
    response = clerk_client.get(reverse("intake:order_edit", args=[order.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:order_detail", args=[order.pk])
    data = order_data(order.customer, [row(categories["bp"], "BP-9")])
    clerk_client.post(reverse("intake:order_edit", args=[order.pk]), data)
    assert order.items.get().serial_number == "BP-1"


@pytest.mark.django_db
def test_technician_gets_404_on_order_entry(client, technician, categories):
    client.force_login(technician)
    assert client.get(reverse("intake:order_create")).status_code == 404
    assert client.get(reverse("intake:order_list")).status_code == 200


@pytest.mark.django_db
def test_customer_role_gets_404_on_staff_pages(client, portal_user):
    """R-INT-9: outsiders learn nothing."""
    client.force_login(portal_user)
    assert client.get(reverse("intake:order_list")).status_code == 404
    assert client.get(reverse("intake:request_list")).status_code == 404
    assert client.get(reverse("intake:order_create")).status_code == 404


def test_formset_without_order_fields_is_reusable_for_the_portal(db, categories):
    """The portal's request form uses the same line form without disposition."""
    data = formset_data([row(categories["bp"], "BP-1")])
    data = {k: v for k, v in data.items() if "dispos" not in k and "subcontractor" not in k}
    formset = ItemLineFormSet(data)
    assert formset.is_valid(), formset.errors
    indexes, lines = formset.lines()
    assert indexes == [0]
    assert lines[0]["category"] == categories["bp"] and "disposition" not in lines[0]
    assert formset.check_scope is False


# --- Spreadsheet import ------------------------------------------------------------


def sheet(rows, headings=None):
    wb = Workbook()
    ws = wb.active
    if headings is None:
        ws.append([zh for _f, zh, _en in COLUMNS])
        ws.append([en for _f, _zh, en in COLUMNS])
    else:
        ws.append(headings)
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


@pytest.fixture
def draft(make_order, categories):
    return make_order([line(categories["bp"], "BP-1")], stage="draft")


@pytest.mark.django_db
def test_import_good_sheet_appends_lines(clerk_client, draft, categories):
    upload = sheet([device("BP", "BP-2"), device("PUMP", "P-1, P-2", quantity=2), device("输液泵", "P-3")])
    response = clerk_client.post(reverse("intake:order_import", args=[draft.pk]), {"file": upload})
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:order_edit", args=[draft.pk])
    assert list(draft.items.order_by("line_no").values_list("serial_number", flat=True)) == [
        "BP-1", "BP-2", "P-1, P-2", "P-3",
    ]


@pytest.mark.django_db
def test_import_sheet_with_wrong_columns_imports_nothing(clerk_client, draft):
    upload = sheet([{"instrument_name": "血压计"}], headings=["名称", "类别", "编号"])
    response = clerk_client.post(reverse("intake:order_import", args=[draft.pk]), {"file": upload})
    assert response.status_code == 200
    problems = response.context["problems"]
    assert problems[0].startswith("Row 1: missing column(s)") and "器具类别" in problems[0]
    assert 'data-testid="import-errors"' in response.content.decode()
    assert draft.items.count() == 1


@pytest.mark.django_db
def test_import_reports_unknown_category_by_row_number(clerk_client, draft, categories):
    # rows 1-2 are the headings; data starts at row 3
    upload = sheet([device("BP", "BP-2"), device("NOPE", "X-1"), device("PUMP", "P-1")])
    response = clerk_client.post(reverse("intake:order_import", args=[draft.pk]), {"file": upload})
    problems = response.context["problems"]
    assert problems == ["Row 4: unknown category “NOPE”."]
    assert draft.items.count() == 1


@pytest.mark.django_db
def test_import_reports_duplicate_serial_by_row_number(clerk_client, draft, categories):
    upload = sheet([device("PUMP", "P-1"), device("PUMP", "P-2"), device("PUMP", "P-1")])
    response = clerk_client.post(reverse("intake:order_import", args=[draft.pk]), {"file": upload})
    problems = response.context["problems"]
    assert len(problems) == 1
    assert problems[0].startswith("Row 5: Serial number P-1 already appears")
    assert draft.items.count() == 1


@pytest.mark.django_db
def test_import_reports_cell_and_line_errors_in_one_round(clerk_client, draft, categories):
    """A sheet with an unknown category also gets its missing serial and its duplicate
    serial reported, by sheet row, so one round of corrections is enough."""
    upload = sheet(
        [device("PUMP", "P-1"), device("NOPE", "X-1"), device("PUMP", ""), device("PUMP", "P-1")]
    )
    response = clerk_client.post(reverse("intake:order_import", args=[draft.pk]), {"file": upload})
    problems = response.context["problems"]
    assert problems[0] == "Row 4: unknown category “NOPE”."
    assert any(p.startswith("Row 5: ") for p in problems)
    duplicate = [p for p in problems if p.startswith("Row 6: ")]
    assert duplicate and duplicate[0].endswith("line 3.")
    assert draft.items.count() == 1


@pytest.mark.django_db
def test_import_refuses_other_files_and_non_drafts(clerk_client, draft, make_order, categories):
    bad = SimpleUploadedFile("devices.csv", b"a,b\n", content_type="text/csv")
    response = clerk_client.post(reverse("intake:order_import", args=[draft.pk]), {"file": bad})
    assert response.status_code == 200 and response.context["form"].errors["file"]
    accepted = make_order([line(categories["bp"], "BP-7")])
    response = clerk_client.get(reverse("intake:order_import", args=[accepted.pk]))
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["clerk", "portal_user"])
def test_template_download_is_a_valid_workbook(client, categories, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("intake:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    headings = [c.value for c in wb.worksheets[0][1]]
    assert headings[:2] == ["器具名称", "器具类别"]


# --- Order list --------------------------------------------------------------------


def _bulk_orders(n, clerk, customer, bp, start=0):
    """``n`` accepted orders with one line and one sample each, in a handful of queries."""
    today = timezone.localdate()
    orders = Order.objects.bulk_create(
        [
            Order(
                number=f"WT2026-{start + i:06d}",
                channel=Channel.COUNTER,
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
def test_order_list_searches_serial_number_and_sample_id(clerk_client, make_order, categories):
    wanted = make_order(
        [line(categories["pump"], "PX-4711, PX-4712", quantity=2), line(categories["bp"], "PX-9")]
    )
    make_order([line(categories["bp"], "BP-1")])
    response = clerk_client.get(reverse("intake:order_list"), {"q": "px-4712"})
    assert [o.pk for o in response.context["page"]] == [wanted.pk]
    # two lines match: the order is still listed once
    response = clerk_client.get(reverse("intake:order_list"), {"q": "PX-"})
    assert [o.pk for o in response.context["page"]] == [wanted.pk]
    sample_id = wanted.samples.order_by("sample_id").last().sample_id
    response = clerk_client.get(reverse("intake:order_list"), {"q": sample_id})
    assert [o.pk for o in response.context["page"]] == [wanted.pk]
    row_ = response.context["page"][0]
    assert row_.item_count == 2 and row_.sample_count == 3


@pytest.mark.django_db
def test_order_list_overdue_filter(clerk_client, make_order, categories):
    late = make_order([line(categories["bp"], "BP-1")])
    Order.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    make_order([line(categories["bp"], "BP-2")])  # due in the future
    past_draft = make_order([line(categories["bp"], "BP-3")], stage="draft")
    Order.objects.filter(pk=past_draft.pk).update(due_date=timezone.localdate() - dt.timedelta(days=3))
    response = clerk_client.get(reverse("intake:order_list"), {"overdue": "on"})
    assert [o.pk for o in response.context["page"]] == [late.pk]
    assert 'data-testid="order-overdue"' in response.content.decode()


@pytest.mark.django_db
def test_order_list_filters_by_status_and_sorts_by_number(clerk_client, make_order, categories):
    draft = make_order([line(categories["bp"], "BP-1")], stage="draft")
    accepted = make_order([line(categories["bp"], "BP-2")])
    response = clerk_client.get(reverse("intake:order_list"), {"status": "draft"})
    assert [o.pk for o in response.context["page"]] == [draft.pk]
    response = clerk_client.get(reverse("intake:order_list"), {"sort": "number"})
    assert [o.pk for o in response.context["page"]] == [draft.pk, accepted.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [25, 100])
def test_order_list_query_count_does_not_grow(
    clerk_client, clerk, hospital, categories, count, django_assert_max_num_queries
):
    _bulk_orders(count, clerk, hospital, categories["bp"])
    # session, user, roles, the menu's permission checks and the unread-notification
    # count (~15) + count + page rows; a fixed budget, whatever the number of orders
    with django_assert_max_num_queries(20):
        response = clerk_client.get(reverse("intake:order_list"), {"q": "WT2026"})
    assert len(response.context["page"].object_list) == 25


@pytest.mark.django_db
def test_order_list_query_count_is_the_same_for_3_and_25_rows(clerk_client, clerk, hospital, categories):
    url = reverse("intake:order_list")
    _bulk_orders(3, clerk, hospital, categories["bp"])
    with CaptureQueriesContext(connection) as few:
        clerk_client.get(url)
    _bulk_orders(22, clerk, hospital, categories["bp"], start=100)
    with CaptureQueriesContext(connection) as many:
        response = clerk_client.get(url)
    assert len(response.context["page"].object_list) == 25
    assert len(many) == len(few)


# --- Online requests ---------------------------------------------------------------


@pytest.fixture
def online_request(portal_user, categories):
    return portal_services.submit_request(
        actor=portal_user,
        lines=[line(categories["bp"], "BP-10"), line(categories["ct"], "CT-1")],
        contact_name="刘洋",
        contact_phone="13800000001",
        notes="下周一送来",
    )


@pytest.mark.django_db
def test_request_queue_lists_waiting_requests(clerk_client, online_request):
    response = clerk_client.get(reverse("intake:request_list"))
    assert [r.pk for r in response.context["page"]] == [online_request.pk]
    assert response.context["page"][0].item_count == 2
    assert reverse("intake:request_convert", args=[online_request.pk]) in response.content.decode()
    response = clerk_client.get(reverse("intake:request_list"), {"status": "converted"})
    assert list(response.context["page"]) == []


@pytest.mark.django_db
def test_request_convert_creates_an_online_order_R_INT_9(clerk_client, online_request, categories):
    url = reverse("intake:request_convert", args=[online_request.pk])
    page = clerk_client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert 'value="BP-10"' in content and 'value="CT-1"' in content and "下周一送来" in content
    rows = [
        row(categories["bp"], "BP-10"),
        row(categories["ct"], "CT-1", disposition="subcontract", disposition_reason="无授权",
            subcontractor="省计量院"),
    ]
    data = formset_data(rows)
    data["contact"] = str(online_request.customer.contacts.first().pk)
    response = clerk_client.post(url, data)
    online_request.refresh_from_db()
    assert online_request.status == RequestStatus.CONVERTED
    order = online_request.order
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:order_detail", args=[order.pk])
    assert order.channel == Channel.ONLINE
    assert order.items.get(category=categories["ct"]).disposition == Disposition.SUBCONTRACT


@pytest.mark.django_db
def test_request_convert_with_out_of_scope_line_accepted_keeps_the_request(
    clerk_client, online_request, categories
):
    url = reverse("intake:request_convert", args=[online_request.pk])
    data = formset_data([row(categories["bp"], "BP-10"), row(categories["ct"], "CT-1")])
    data["contact"] = ""
    response = clerk_client.post(url, data)
    assert response.status_code == 200
    assert response.context["formset"].forms[1].errors["disposition"]
    online_request.refresh_from_db()
    assert online_request.status == RequestStatus.SUBMITTED and not Order.objects.exists()


@pytest.mark.django_db
def test_request_decline_needs_a_reason(clerk_client, online_request):
    url = reverse("intake:request_decline", args=[online_request.pk])
    clerk_client.post(url, {"reason": ""})
    online_request.refresh_from_db()
    assert online_request.status == RequestStatus.SUBMITTED
    response = clerk_client.post(url, {"reason": "本实验室不开展此项目"})
    assert response.status_code == 302
    online_request.refresh_from_db()
    assert online_request.status == RequestStatus.DECLINED
    assert OnlineRequest.objects.get().decline_reason == "本实验室不开展此项目"


@pytest.mark.django_db
def test_request_decline_is_post_only_and_staff_without_authorisation_get_404(
    client, technician, online_request
):
    client.force_login(technician)
    assert client.get(reverse("intake:request_list")).status_code == 200
    assert client.get(reverse("intake:request_convert", args=[online_request.pk])).status_code == 404
    assert client.post(
        reverse("intake:request_decline", args=[online_request.pk]), {"reason": "x"}
    ).status_code == 404
