"""The equipment list (设备一览表, R-EQP-1) with its filters and Excel/PDF exports, the
register forms (R-EQP-2; changes audited old → new with a reason, R-EQP-9) and the
measurement standards (计量标准, R-EQP-10)."""

import datetime as dt
import io
import shutil
import subprocess

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from equipment.models import (
    Equipment,
    EquipmentKind,
    EquipmentStatus,
    MeasurementStandard,
    StopReason,
)
from equipment.services import register, status
from labqms.models import AuditEvent, Role


@pytest.fixture
def lead_client(client, lead, settings):
    """The technical lead, with the English UI so that texts can be asserted before and
    after the Chinese translation is done."""
    client.force_login(lead)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def login(client, settings):
    def as_user(user):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return as_user


def listed(response) -> list[str]:
    return [e.lab_id for e in response.context["page"]]


def due_in(days_from_today: int, today):
    """``calibrated_on`` for a 12-month interval so that the item falls due in ``days`` days."""
    return today + dt.timedelta(days=days_from_today) - relativedelta(months=12)


def form_data(equipment=None, **changes):
    """The register form as the browser posts it (every EQUIPMENT_FIELDS field)."""
    data = {
        "lab_id": "EQ-NEW",
        "name": "数字压力计",
        "model": "DPG-100",
        "manufacturer": "某仪器厂",
        "serial_number": "SN-1",
        "software_version": "v2.1",
        "kind": EquipmentKind.STANDARD,
        "location": "压力室",
        "manual_location": "资料柜 A",
        "measuring_range": "0–300 kPa",
        "accuracy": "0.05 级",
        "calibrating_body": "省计量院",
        "acceptance_criteria": "MPE ±0.05%",
        "custodian": "",
        "purchased_on": "2024-01-10",
        "commissioned_on": "2024-02-01",
        "needs_calibration": "on",
        "calibration_interval_months": "12",
    }
    if equipment is not None:
        data.update(
            {
                "lab_id": equipment.lab_id,
                "name": equipment.name,
                "model": equipment.model,
                "manufacturer": equipment.manufacturer,
                "serial_number": equipment.serial_number,
                "software_version": equipment.software_version,
                "kind": equipment.kind,
                "location": equipment.location,
                "manual_location": equipment.manual_location,
                "measuring_range": equipment.measuring_range,
                "accuracy": equipment.accuracy,
                "calibrating_body": equipment.calibrating_body,
                "acceptance_criteria": equipment.acceptance_criteria,
                "custodian": str(equipment.custodian_id or ""),
                "purchased_on": equipment.purchased_on.isoformat()
                if equipment.purchased_on
                else "",
                "commissioned_on": equipment.commissioned_on.isoformat()
                if equipment.commissioned_on
                else "",
                "calibration_interval_months": str(equipment.calibration_interval_months or ""),
            }
        )
        if not equipment.needs_calibration:
            data.pop("needs_calibration")
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


# --- the list --------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_the_R_EQP_1_columns_with_a_link_to_each_item(
    lead_client, make_equipment, operator
):
    equipment = make_equipment("EQ-1", calibrating_body="省计量院", location="血压室")
    response = lead_client.get(reverse("equipment:equipment_list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert reverse("equipment:equipment_detail", args=[equipment.pk]) in content
    for text in (
        "设备 EQ-1",
        "M1",
        "某厂",
        "0–300 mmHg",
        "±0.5 mmHg",
        "省计量院",
        "C-EQ-1",
        "血压室",
        str(operator),
    ):
        assert text in content, text
    assert 'data-colour="green"' in content
    assert equipment.calibration_due.isoformat() in content
    assert 'data-testid="equipment-overdue"' not in content


@pytest.mark.django_db
def test_list_overdue_filter_is_derived_from_the_due_date_R_EQP_10(
    lead_client, make_equipment, today
):
    make_equipment("EQ-FRESH", months_ago=3)
    make_equipment("EQ-LATE", months_ago=13)
    make_equipment("EQ-TODAY", calibrated_on=due_in(0, today))  # usable ON its due date
    make_equipment("EQ-NEVER", months_ago=None)  # never calibrated: overdue
    response = lead_client.get(reverse("equipment:equipment_list"), {"overdue": "on"})
    assert listed(response) == ["EQ-LATE", "EQ-NEVER"]
    assert response.content.decode().count('data-testid="equipment-overdue"') == 2


@pytest.mark.django_db
def test_list_due_soon_filter_uses_the_setting(lead_client, make_equipment, today, settings):
    settings.EQUIPMENT_DUE_SOON_DAYS = 30
    make_equipment("EQ-FRESH", months_ago=3)
    make_equipment("EQ-LATE", months_ago=13)
    make_equipment("EQ-TODAY", calibrated_on=due_in(0, today))
    make_equipment("EQ-30", calibrated_on=due_in(30, today))
    make_equipment("EQ-31", calibrated_on=due_in(31, today))
    response = lead_client.get(reverse("equipment:equipment_list"), {"due_soon": "on"})
    assert listed(response) == ["EQ-30", "EQ-TODAY"]
    assert response.content.decode().count('data-testid="equipment-due-soon"') == 2
    both = lead_client.get(reverse("equipment:equipment_list"), {"due_soon": "on", "overdue": "on"})
    assert listed(both) == ["EQ-30", "EQ-LATE", "EQ-TODAY"]


@pytest.mark.django_db
def test_retired_equipment_is_never_flagged_overdue(lead_client, lead, make_equipment):
    old = make_equipment("EQ-OLD", months_ago=13)
    status.change_status(actor=lead, equipment=old, status=EquipmentStatus.RETIRED)
    response = lead_client.get(reverse("equipment:equipment_list"), {"overdue": "on"})
    assert listed(response) == []


@pytest.mark.django_db
def test_list_status_filter_and_colours_R_EQP_4(lead_client, lead, operator, make_equipment):
    make_equipment("EQ-OK")
    limited = make_equipment("EQ-LIM")
    stopped = make_equipment("EQ-STOP")
    status.change_status(
        actor=lead, equipment=limited, status=EquipmentStatus.RESTRICTED, note="仅用于 0–100 kPa"
    )
    status.change_status(
        actor=operator,
        equipment=stopped,
        status=EquipmentStatus.OUT_OF_SERVICE,
        reason=StopReason.DEFECTIVE,
    )
    response = lead_client.get(
        reverse("equipment:equipment_list"), {"status": EquipmentStatus.OUT_OF_SERVICE}
    )
    assert listed(response) == ["EQ-STOP"]
    content = response.content.decode()
    assert 'data-colour="red"' in content and "Defective" in content
    response = lead_client.get(
        reverse("equipment:equipment_list"), {"status": EquipmentStatus.RESTRICTED}
    )
    assert listed(response) == ["EQ-LIM"]
    content = response.content.decode()
    assert 'data-colour="yellow"' in content and "仅用于 0–100 kPa" in content


@pytest.mark.django_db
def test_list_kind_filter_and_search(lead_client, make_equipment):
    make_equipment("EQ-STD", kind=EquipmentKind.STANDARD, serial_number="AB-778")
    make_equipment("EQ-AUX", kind=EquipmentKind.AUXILIARY, manufacturer="Fluke")
    url = reverse("equipment:equipment_list")
    assert listed(lead_client.get(url, {"kind": EquipmentKind.AUXILIARY})) == ["EQ-AUX"]
    assert listed(lead_client.get(url, {"q": "ab-778"})) == ["EQ-STD"]  # serial number
    assert listed(lead_client.get(url, {"q": "fluke"})) == ["EQ-AUX"]  # manufacturer
    assert listed(lead_client.get(url, {"q": "eq-aux"})) == ["EQ-AUX"]  # lab ID
    assert listed(lead_client.get(url, {"q": "nothing-like-this"})) == []


@pytest.mark.django_db
def test_list_custodian_and_standard_filters(lead_client, lead, make_equipment, make_user, today):
    other = make_user(Role.TECHNICIAN, username="other_t")
    member = make_equipment("EQ-A")
    make_equipment("EQ-B", custodian=other)
    standard = register.save_standard(
        actor=lead,
        data={
            "name": "血压计标准装置",
            "certificate_no": "[2024]国量标某证字第001号",
            "valid_from": today,
        },
        members=[member],
    )
    url = reverse("equipment:equipment_list")
    assert listed(lead_client.get(url, {"custodian": other.pk})) == ["EQ-B"]
    response = lead_client.get(url, {"standard": standard.pk})
    assert listed(response) == ["EQ-A"]
    assert "血压计标准装置" in response.content.decode()


@pytest.mark.django_db
def test_list_sorts_by_due_date_and_name(lead_client, make_equipment):
    make_equipment("EQ-1", months_ago=2, name="Zeta")
    make_equipment("EQ-2", months_ago=10, name="Alpha")
    url = reverse("equipment:equipment_list")
    assert listed(lead_client.get(url, {"sort": "due"})) == ["EQ-2", "EQ-1"]
    assert listed(lead_client.get(url, {"sort": "name"})) == ["EQ-2", "EQ-1"]
    assert listed(lead_client.get(url, {"sort": "lab_id"})) == ["EQ-1", "EQ-2"]


@pytest.mark.django_db
def test_list_buttons_follow_permissions(login, lead, technician, make_equipment):
    equipment = make_equipment("EQ-1")
    content = login(lead).get(reverse("equipment:equipment_list")).content.decode()
    assert reverse("equipment:equipment_create") in content
    assert f"{reverse('equipment:labels_pdf')}?ids={equipment.pk}" in content
    for name in (
        "due_list",
        "impact_list",
        "standard_list",
        "equipment_export_xlsx",
        "equipment_export_pdf",
    ):
        assert reverse(f"equipment:{name}") in content
    content = login(technician).get(reverse("equipment:equipment_list")).content.decode()
    assert reverse("equipment:equipment_create") not in content
    assert reverse("equipment:equipment_export_xlsx") in content


@pytest.mark.django_db
def test_list_keeps_the_filters_in_the_export_links(lead_client, make_equipment):
    make_equipment("EQ-1")
    content = lead_client.get(
        reverse("equipment:equipment_list"), {"overdue": "on", "kind": "test"}
    ).content.decode()
    assert f"{reverse('equipment:equipment_export_xlsx')}?overdue=on&amp;kind=test" in content


def _bulk_equipment(count, custodian, standard, start=0, due=None):
    rows = Equipment.objects.bulk_create(
        Equipment(
            lab_id=f"BULK-{start + n:04d}",
            name=f"设备 {n}",
            kind=EquipmentKind.TEST,
            custodian=custodian,
            needs_calibration=True,
            calibration_interval_months=12,
            calibration_due=due,
        )
        for n in range(count)
    )
    standard.members.add(*rows)


@pytest.mark.django_db
def test_list_query_count_is_the_same_for_3_and_25_rows(lead_client, lead, operator, today):
    standard = register.save_standard(
        actor=lead, data={"name": "标准", "certificate_no": "S-1", "valid_from": today}, members=[]
    )
    url = reverse("equipment:equipment_list")
    _bulk_equipment(3, operator, standard, due=today)
    with CaptureQueriesContext(connection) as few:
        lead_client.get(url)
    _bulk_equipment(22, operator, standard, start=100, due=today)
    with CaptureQueriesContext(connection) as many:
        response = lead_client.get(url)
    assert len(response.context["page"].object_list) == 25
    assert len(many) == len(few)


@pytest.mark.django_db
def test_list_query_count_is_the_same_for_25_and_100_rows(
    lead_client, lead, operator, today, django_assert_max_num_queries
):
    standard = register.save_standard(
        actor=lead, data={"name": "标准", "certificate_no": "S-1", "valid_from": today}, members=[]
    )
    url = reverse("equipment:equipment_list")
    _bulk_equipment(25, operator, standard, due=today)
    with CaptureQueriesContext(connection) as few:
        lead_client.get(url)
    _bulk_equipment(75, operator, standard, start=100, due=today)
    # session, user, roles and the menu's permission checks (~13), count, rows, standards,
    # and the two filter drop-downs: a query per row would far exceed this.
    with django_assert_max_num_queries(22), CaptureQueriesContext(connection) as many:
        response = lead_client.get(url)
    assert response.context["page"].paginator.count == 100
    assert len(many) == len(few)


# --- exports ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_xlsx_export_holds_the_filtered_rows_only_R_EQP_1(lead_client, make_equipment, today):
    make_equipment("EQ-FRESH", months_ago=3)
    late = make_equipment("EQ-LATE", months_ago=13, calibrating_body="省计量院")
    response = lead_client.get(reverse("equipment:equipment_export_xlsx"), {"overdue": "on"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Lab ID", "Name", "Model / type"]
    for heading in (
        "Measuring range",
        "Uncertainty / accuracy class / MPE",
        "Calibrated by (traceability)",
        "Last calibration certificate",
        "Status",
        "Last calibrated on",
        "Calibration due",
    ):
        assert heading in header, heading
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref
    rows = [
        dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert [r["Lab ID"] for r in rows] == ["EQ-LATE"]
    assert rows[0]["Calibration due"].date() == late.calibration_due  # a real Excel date
    assert rows[0]["Calibrated by (traceability)"] == "省计量院"
    assert rows[0]["Last calibration certificate"] == "C-EQ-LATE"
    assert rows[0]["Status"] == "In service"


@pytest.mark.django_db
def test_xlsx_export_is_not_paginated_and_has_constant_queries(lead_client, lead, operator, today):
    standard = register.save_standard(
        actor=lead, data={"name": "标准", "certificate_no": "S-1", "valid_from": today}, members=[]
    )
    url = reverse("equipment:equipment_export_xlsx")
    _bulk_equipment(5, operator, standard, due=today)
    with CaptureQueriesContext(connection) as few:
        lead_client.get(url)
    _bulk_equipment(60, operator, standard, start=100, due=today)
    with CaptureQueriesContext(connection) as many:
        response = lead_client.get(url)
    assert load_workbook(io.BytesIO(response.content)).active.max_row == 66
    assert len(many) == len(few)


@pytest.mark.django_db
def test_pdf_export_is_a_pdf_with_the_filtered_rows(lead_client, make_equipment, tmp_path):
    make_equipment("EQ-FRESH", months_ago=3)
    make_equipment("EQ-LATE", months_ago=13)
    response = lead_client.get(reverse("equipment:equipment_export_pdf"), {"overdue": "on"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        path = tmp_path / "list.pdf"
        path.write_bytes(response.content)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "EQ-LATE" in text and "EQ-FRESH" not in text
        assert "Equipment list" in text and "Overdue: yes" in text


@pytest.mark.django_db
def test_pdf_export_template_shows_lab_name_filters_and_rows(
    lead_client, make_equipment, settings, monkeypatch
):
    """The HTML behind the PDF (checked without a PDF reader)."""
    settings.LABQMS_LAB_NAME = "测试计量中心"
    captured = {}

    def fake_render(template_name, context, *, request=None):
        from django.template.loader import render_to_string

        captured["html"] = render_to_string(template_name, context, request=request)
        return b"%PDF-fake"

    monkeypatch.setattr("equipment.views.register.pdf.render_pdf", fake_render)
    make_equipment("EQ-A", kind=EquipmentKind.AUXILIARY)
    make_equipment("EQ-S", kind=EquipmentKind.STANDARD)
    lead_client.get(reverse("equipment:equipment_export_pdf"), {"kind": EquipmentKind.AUXILIARY})
    html = captured["html"]
    assert "测试计量中心" in html and "A4 landscape" in html
    assert "EQ-A" in html and "EQ-S" not in html
    assert "Kind: Auxiliary equipment" in html


# --- register and edit -----------------------------------------------------------------


@pytest.mark.django_db
def test_lead_registers_equipment_and_it_is_audited_R_EQP_2(lead_client, lead, operator):
    response = lead_client.post(
        reverse("equipment:equipment_create"), form_data(custodian=str(operator.pk))
    )
    equipment = Equipment.objects.get(lab_id="EQ-NEW")
    assert response.status_code == 302
    assert response.url == reverse("equipment:equipment_detail", args=[equipment.pk])
    assert equipment.custodian == operator and equipment.calibration_interval_months == 12
    assert equipment.purchased_on == dt.date(2024, 1, 10) and equipment.software_version == "v2.1"
    event = AuditEvent.objects.get(action="equipment.registered", target_id=str(equipment.pk))
    assert event.actor == lead and event.changes["lab_id"] == [None, "EQ-NEW"]


@pytest.mark.django_db
def test_edit_keeps_old_and_new_values_and_the_reason_R_EQP_9(lead_client, lead, make_equipment):
    equipment = make_equipment("EQ-1")
    url = reverse("equipment:equipment_edit", args=[equipment.pk])
    page = lead_client.get(url)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    response = lead_client.post(url, form_data(equipment, location="新实验室 201", reason="搬迁"))
    assert response.status_code == 302
    assert response.url == reverse("equipment:equipment_detail", args=[equipment.pk])
    event = AuditEvent.objects.get(action="equipment.updated", target_id=str(equipment.pk))
    assert event.actor == lead and event.reason == "搬迁"
    assert event.changes == {"location": ["", "新实验室 201"]}


@pytest.mark.django_db
def test_edit_without_a_reason_is_refused_and_changes_nothing_R_EQP_9(lead_client, make_equipment):
    equipment = make_equipment("EQ-1")
    response = lead_client.post(
        reverse("equipment:equipment_edit", args=[equipment.pk]),
        form_data(equipment, location="别处", reason=""),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert 'value="别处"' in response.content.decode()  # the input is kept
    equipment.refresh_from_db()
    assert equipment.location == ""
    assert not AuditEvent.objects.filter(action="equipment.updated").exists()


@pytest.mark.django_db
def test_interval_of_zero_is_refused_on_the_field(lead_client):
    response = lead_client.post(
        reverse("equipment:equipment_create"), form_data(calibration_interval_months="0")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["calibration_interval_months"]
    assert 'value="DPG-100"' in response.content.decode()
    assert not Equipment.objects.exists()


@pytest.mark.django_db
def test_needs_calibration_without_interval_shows_the_service_error_on_the_field(lead_client):
    response = lead_client.post(
        reverse("equipment:equipment_create"), form_data(calibration_interval_months="")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["calibration_interval_months"]
    assert any("at least 1 month" in e for e in errors)
    assert 'value="数字压力计"' in response.content.decode()
    assert not Equipment.objects.exists()
    # Without calibration no interval is needed.
    response = lead_client.post(
        reverse("equipment:equipment_create"),
        form_data(calibration_interval_months="", needs_calibration=None),
    )
    assert response.status_code == 302
    assert Equipment.objects.get().needs_calibration is False


@pytest.mark.django_db
def test_duplicate_lab_id_is_refused_on_the_field(lead_client, make_equipment):
    """R-EQP-3: unique identification — the same lab ID, also in other case or with
    spaces, is refused."""
    make_equipment("EQ-1")
    for typed in ("EQ-1", " eq-1 "):
        response = lead_client.post(reverse("equipment:equipment_create"), form_data(lab_id=typed))
        assert response.status_code == 200
        assert response.context["form"].errors["lab_id"]
    assert Equipment.objects.count() == 1


@pytest.mark.django_db
def test_commissioned_before_purchase_is_refused_on_the_field(lead_client):
    response = lead_client.post(
        reverse("equipment:equipment_create"),
        form_data(purchased_on="2024-05-01", commissioned_on="2024-01-01"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["commissioned_on"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["equipment_create", "equipment_edit", "standard_create", "standard_edit"]
)
def test_technician_gets_404_on_register_pages(
    login, technician, lead, make_equipment, today, name
):
    equipment = make_equipment("EQ-1")
    standard = register.save_standard(
        actor=lead, data={"name": "标准", "certificate_no": "S-1", "valid_from": today}, members=[]
    )
    args = {"equipment_edit": [equipment.pk], "standard_edit": [standard.pk]}.get(name, [])
    client = login(technician)
    assert client.get(reverse(f"equipment:{name}", args=args)).status_code == 404
    assert (
        client.post(reverse(f"equipment:{name}", args=args), form_data(lab_id="EQ-X")).status_code
        == 404
    )
    assert not Equipment.objects.filter(lab_id="EQ-X").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["equipment_list", "equipment_export_xlsx", "equipment_export_pdf", "standard_list"]
)
def test_customer_gets_404_and_staff_may_look(login, customer, counter, name):
    assert login(customer).get(reverse(f"equipment:{name}")).status_code == 404
    assert login(counter).get(reverse(f"equipment:{name}")).status_code == 200


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("equipment:equipment_list"))
    assert response.status_code == 302 and "login" in response.url


# --- measurement standards -------------------------------------------------------------


@pytest.mark.django_db
def test_standard_create_with_members_R_EQP_10(lead_client, lead, make_equipment, today):
    a = make_equipment("EQ-A")
    make_equipment("EQ-B")
    page = lead_client.get(reverse("equipment:standard_create"))
    assert page.status_code == 200 and "EQ-B" in page.content.decode()
    response = lead_client.post(
        reverse("equipment:standard_create"),
        {
            "name": "血压计检定装置",
            "certificate_no": "[2024]某量标证字第 7 号",
            "measurand": "压力 0–300 mmHg",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=900)).isoformat(),
            "members": [str(a.pk)],
        },
    )
    assert response.status_code == 302 and response.url == reverse("equipment:standard_list")
    standard = MeasurementStandard.objects.get()
    assert list(standard.members.all()) == [a]
    event = AuditEvent.objects.get(action="standard.created")
    assert event.actor == lead and event.changes["members"] == [None, [str(a)]]


@pytest.mark.django_db
def test_standard_edit_changes_members_and_dates_are_checked(
    lead_client, lead, make_equipment, today
):
    a = make_equipment("EQ-A")
    b = make_equipment("EQ-B")
    standard = register.save_standard(
        actor=lead, data={"name": "标准", "certificate_no": "S-1", "valid_from": today}, members=[a]
    )
    url = reverse("equipment:standard_edit", args=[standard.pk])
    data = {
        "name": "标准",
        "certificate_no": "S-1",
        "measurand": "",
        "valid_from": today.isoformat(),
        "valid_until": (today - dt.timedelta(days=1)).isoformat(),
        "members": [str(b.pk)],
    }
    response = lead_client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["valid_until"]
    assert list(standard.members.all()) == [a]
    data["valid_until"] = (today + dt.timedelta(days=365)).isoformat()
    response = lead_client.post(url, data)
    assert response.status_code == 302
    assert list(standard.members.all()) == [b]
    event = AuditEvent.objects.get(action="standard.updated")
    assert event.changes["members"] == [[str(a)], [str(b)]]
    page = lead_client.get(url)
    assert 'data-testid="audit-row"' in page.content.decode()


@pytest.mark.django_db
def test_standard_list_marks_expired_and_expiring_certificates(
    login, lead, technician, make_equipment, today
):
    member = make_equipment("EQ-A")
    register.save_standard(
        actor=lead,
        data={
            "name": "过期标准",
            "certificate_no": "OLD-1",
            "valid_from": today - dt.timedelta(days=1500),
            "valid_until": today - dt.timedelta(days=1),
        },
        members=[member],
    )
    register.save_standard(
        actor=lead,
        data={
            "name": "将到期标准",
            "certificate_no": "SOON-1",
            "valid_from": today - dt.timedelta(days=1000),
            "valid_until": today + dt.timedelta(days=30),
        },
        members=[],
    )
    register.save_standard(
        actor=lead,
        data={
            "name": "有效标准",
            "certificate_no": "OK-1",
            "valid_from": today - dt.timedelta(days=10),
            "valid_until": today + dt.timedelta(days=31),
        },
        members=[],
    )
    client = login(technician)
    response = client.get(reverse("equipment:standard_list"))
    assert response.status_code == 200
    states = {s.name: s.state for s in response.context["page"]}
    assert states == {"过期标准": "expired", "将到期标准": "expiring", "有效标准": "valid"}
    content = response.content.decode()
    assert content.count('data-testid="standard-expired"') == 1
    assert content.count('data-testid="standard-expiring"') == 1
    assert reverse("equipment:equipment_detail", args=[member.pk]) in content
    assert reverse("equipment:standard_create") not in content  # technicians only look
    expired = client.get(reverse("equipment:standard_list"), {"state": "expired"})
    assert [s.name for s in expired.context["page"]] == ["过期标准"]
    found = client.get(reverse("equipment:standard_list"), {"q": "eq-a"})
    assert [s.name for s in found.context["page"]] == ["过期标准"]


@pytest.mark.django_db
def test_standard_list_query_count_does_not_grow(lead_client, lead, make_equipment, today):
    members = [make_equipment(f"EQ-{n}", months_ago=None) for n in range(3)]

    def add(count, start):
        for n in range(start, start + count):
            register.save_standard(
                actor=lead,
                data={"name": f"标准 {n:03d}", "certificate_no": f"S-{n}", "valid_from": today},
                members=members,
            )

    url = reverse("equipment:standard_list")
    add(3, 0)
    with CaptureQueriesContext(connection) as few:
        lead_client.get(url)
    add(25, 100)
    with CaptureQueriesContext(connection) as many:
        response = lead_client.get(url)
    assert len(response.context["page"].object_list) == 25
    assert len(many) == len(few)
