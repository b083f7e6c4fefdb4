"""The equipment page and every action on it: status (R-EQP-4), attachments and
calibrations with their certificates (R-EQP-2), metrological confirmation, correction
factors (R-EQP-8), intermediate checks (R-EQP-7), check-out and the return check
(R-EQP-6, R-ONS-2, R-ONS-5)."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from equipment.models import (
    Attachment,
    Calibration,
    CalibrationResult,
    CheckOut,
    CorrectionTable,
    CriterionKind,
    EquipmentStatus,
    ImpactAnalysis,
    ImpactTrigger,
    StopReason,
)
from equipment.services import calibration as calibration_services
from equipment.services import checks as check_services
from equipment.services import gate
from intake.models import WorkLocation
from intake.services import visits as visit_services

# The intake fixtures that make an on-site order, made available to this module.
from tests.intake.conftest import categories as categories  # noqa: F401
from tests.intake.conftest import clerk as clerk  # noqa: F401
from tests.intake.conftest import hospital as hospital  # noqa: F401
from tests.intake.conftest import line
from tests.intake.conftest import make_order as make_order  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads go to a temporary folder, never to var/media."""
    settings.MEDIA_ROOT = tmp_path


def _login(client, settings, user):
    """Signed in with the English UI, so that messages can be asserted."""
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def detail_url(equipment):
    return reverse("equipment:equipment_detail", args=[equipment.pk])


def calibration_data(**overrides):
    data = {
        "provider": "省计量院",
        "certificate_no": "JJ-2025-001",
        "calibrated_on": "",
        "result": CalibrationResult.PASS,
        "next_due": "",
        "adjusted": "",
        "adjustment_notes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


# --- the page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_detail_renders_for_staff_and_is_404_for_a_customer(client, settings, make_equipment, operator, counter,
                                                             head, customer):
    """R-EQP-2: all staff see the page with the register fields; customers learn nothing."""
    equipment = make_equipment("EQ-7", serial_number="SN-4711", location="检定室 2")
    for user in (operator, counter, head):
        response = _login(client, settings, user).get(detail_url(equipment))
        assert response.status_code == 200, user
        body = response.content.decode()
        assert "SN-4711" in body and "检定室 2" in body and "C-EQ-7" in body
        assert 'data-colour="green"' in body
    response = _login(client, settings, customer).get(detail_url(equipment))
    assert response.status_code == 404


@pytest.mark.django_db
def test_detail_shows_the_overdue_banner_derived_from_the_due_date(client, settings, make_equipment, operator, today):
    """R-EQP-10: overdue is derived from calibration_due vs today, not a stored flag."""
    equipment = make_equipment("EQ-OLD", months_ago=13)
    assert equipment.calibration_due < today
    response = _login(client, settings, operator).get(detail_url(equipment))
    body = response.content.decode()
    assert 'data-state="overdue"' in body
    since = (equipment.calibration_due + dt.timedelta(days=1)).isoformat()
    assert f"OVERDUE since {since}" in body


@pytest.mark.django_db
def test_detail_shows_due_soon_and_no_banner_when_far_off(client, settings, make_equipment, operator):
    soon = make_equipment("EQ-SOON", months_ago=12, interval=12)  # due today: still usable, due soon
    fresh = make_equipment("EQ-NEW", months_ago=1)
    client = _login(client, settings, operator)
    assert 'data-state="due_soon"' in client.get(detail_url(soon)).content.decode()
    assert "calibration-banner" not in client.get(detail_url(fresh)).content.decode()


@pytest.mark.django_db
def test_buttons_follow_permissions(client, settings, make_equipment, operator, lead, counter):
    equipment = make_equipment()
    body = _login(client, settings, counter).get(detail_url(equipment)).content.decode()
    assert "status-form" not in body and "calibration-add" not in body and "equipment-edit" not in body
    body = _login(client, settings, operator).get(detail_url(equipment)).content.decode()
    assert "status-form" in body and "calibration-add" in body and "equipment-edit" not in body
    # The operator is not offered moves only the lead may make.
    assert 'value="retired"' not in body and 'value="out_of_service"' in body
    body = _login(client, settings, lead).get(detail_url(equipment)).content.decode()
    assert "equipment-edit" in body and 'value="retired"' in body and "plan-form" in body


# --- status (R-EQP-4) ------------------------------------------------------------------


@pytest.mark.django_db
def test_operator_takes_equipment_out_of_service_with_a_reason(client, settings, make_equipment, operator):
    """R-EQP-4: a technician may stop equipment; the reason is kept and shown in red."""
    equipment = make_equipment()
    client = _login(client, settings, operator)
    url = reverse("equipment:equipment_status", args=[equipment.pk])
    response = client.post(url, {"status-status": "out_of_service", "status-reason": "", "status-note": ""})
    assert response.status_code == 200  # no reason: refused, form shown again
    assert "Give the reason" in response.content.decode()
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE

    response = client.post(
        url, {"status-status": "out_of_service", "status-reason": StopReason.OVERLOADED, "status-note": "过载 120%"},
        follow=True,
    )
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE and equipment.stop_reason == StopReason.OVERLOADED
    body = response.content.decode()
    assert 'data-colour="red"' in body and "Overloaded" in body


@pytest.mark.django_db
def test_only_the_lead_returns_equipment_to_service(client, settings, make_equipment, operator, lead):
    """R-EQP-4: back to in service is the technical lead's decision."""
    equipment = make_equipment()
    url = reverse("equipment:equipment_status", args=[equipment.pk])
    _login(client, settings, operator).post(
        url, {"status-status": "out_of_service", "status-reason": StopReason.DEFECTIVE}
    )
    response = client.post(url, {"status-status": "in_service"}, follow=True)
    assert "Only the technical lead" in _messages(response)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE

    response = _login(client, settings, lead).post(url, {"status-status": "in_service"}, follow=True)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE and equipment.stop_reason == ""
    assert "is now" in _messages(response)


@pytest.mark.django_db
def test_restricted_needs_the_limitation_and_shows_yellow(client, settings, make_equipment, lead):
    equipment = make_equipment()
    client = _login(client, settings, lead)
    url = reverse("equipment:equipment_status", args=[equipment.pk])
    response = client.post(url, {"status-status": "restricted", "status-note": ""})
    assert "State the limitation" in response.content.decode()
    response = client.post(url, {"status-status": "restricted", "status-note": "仅 0–100 mmHg"}, follow=True)
    body = response.content.decode()
    assert 'data-colour="yellow"' in body and "仅 0–100 mmHg" in body


# --- attachments and calibrations (R-EQP-2) ---------------------------------------------


@pytest.mark.django_db
def test_attachment_upload_pdf_ok_and_non_pdf_refused(client, settings, make_equipment, operator):
    """R-EQP-2: PDF or image only, checked by content."""
    equipment = make_equipment()
    client = _login(client, settings, operator)
    url = reverse("equipment:attachment_add", args=[equipment.pk])
    fake = SimpleUploadedFile("manual.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(url, {"attachment-title": "说明书", "attachment-file": fake})
    assert response.status_code == 200
    assert "is not a PDF" in response.content.decode()
    assert not Attachment.objects.exists()
    good = SimpleUploadedFile("manual.pdf", PDF, content_type="application/pdf")
    response = client.post(url, {"attachment-title": "说明书", "attachment-file": good}, follow=True)
    attachment = Attachment.objects.get()
    assert reverse("equipment:attachment_file", args=[attachment.pk]) in response.content.decode()


@pytest.mark.django_db
def test_calibration_through_the_view_updates_the_due_date(client, settings, make_equipment, operator, today):
    """R-EQP-2: next due = calibration date + interval; the certificate is kept."""
    equipment = make_equipment("EQ-C", months_ago=13, interval=12)
    client = _login(client, settings, operator)
    url = reverse("equipment:calibration_add", args=[equipment.pk])
    assert client.get(url).status_code == 200
    calibrated = today - dt.timedelta(days=2)
    certificate = SimpleUploadedFile("cert.pdf", PDF, content_type="application/pdf")
    response = client.post(
        url, calibration_data(calibrated_on=calibrated.isoformat(), certificate_file=certificate), follow=True
    )
    equipment.refresh_from_db()
    assert equipment.last_certificate_no == "JJ-2025-001"
    assert equipment.calibration_due == calibrated + relativedelta(months=12)
    calibration = Calibration.objects.get(certificate_no="JJ-2025-001")
    assert not calibration.due_stated_by_provider and calibration.certificate_file
    body = response.content.decode()
    assert "calibration-banner" not in body and reverse("equipment:calibration_file", args=[calibration.pk]) in body


@pytest.mark.django_db
def test_due_date_stated_by_the_provider_is_used(client, settings, make_equipment, operator, today):
    equipment = make_equipment("EQ-P", months_ago=13)
    due = today + dt.timedelta(days=200)
    _login(client, settings, operator).post(
        reverse("equipment:calibration_add", args=[equipment.pk]),
        calibration_data(calibrated_on=today.isoformat(), next_due=due.isoformat()),
    )
    equipment.refresh_from_db()
    assert equipment.calibration_due == due
    assert Calibration.objects.get(certificate_no="JJ-2025-001").due_stated_by_provider


@pytest.mark.django_db
def test_due_date_before_calibration_date_is_a_field_error_and_nothing_is_saved(client, settings, make_equipment,
                                                                                operator, today):
    equipment = make_equipment("EQ-B", months_ago=3)
    before = equipment.calibration_due
    response = _login(client, settings, operator).post(
        reverse("equipment:calibration_add", args=[equipment.pk]),
        calibration_data(calibrated_on=today.isoformat(), next_due=(today - dt.timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 200
    assert "next_due" in response.context["form"].errors
    assert "The due date must be after the calibration date." in response.content.decode()
    assert 'value="JJ-2025-001"' in response.content.decode()  # input kept
    equipment.refresh_from_db()
    assert equipment.calibration_due == before
    assert not Calibration.objects.filter(certificate_no="JJ-2025-001").exists()


@pytest.mark.django_db
def test_calibration_certificate_that_is_not_a_pdf_is_refused(client, settings, make_equipment, operator, today):
    """R-EQP-2: the uploaded certificate must really be a PDF or image."""
    equipment = make_equipment("EQ-F", months_ago=3)
    response = _login(client, settings, operator).post(
        reverse("equipment:calibration_add", args=[equipment.pk]),
        calibration_data(
            calibrated_on=today.isoformat(),
            certificate_file=SimpleUploadedFile("cert.docx", b"PK\x03\x04", content_type="application/msword"),
        ),
    )
    assert response.status_code == 200
    assert "certificate_file" in response.context["form"].errors
    assert not Calibration.objects.filter(certificate_no="JJ-2025-001").exists()


@pytest.mark.django_db
def test_failed_calibration_message_links_the_impact_analysis(client, settings, make_equipment, operator, today):
    equipment = make_equipment("EQ-X", months_ago=3)
    response = _login(client, settings, operator).post(
        reverse("equipment:calibration_add", args=[equipment.pk]),
        calibration_data(calibrated_on=today.isoformat(), result=CalibrationResult.FAIL),
        follow=True,
    )
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert analysis.trigger == ImpactTrigger.FAILED_CALIBRATION
    assert reverse("equipment:impact_detail", args=[analysis.pk]) in response.content.decode()


@pytest.mark.django_db
def test_calibration_form_is_not_for_counter_staff(client, settings, make_equipment, counter):
    equipment = make_equipment()
    response = _login(client, settings, counter).get(reverse("equipment:calibration_add", args=[equipment.pk]))
    assert response.status_code == 302
    assert response["Location"] == detail_url(equipment)


# --- metrological confirmation -----------------------------------------------------------


@pytest.mark.django_db
def test_confirmation_by_the_operator_then_approval_by_the_lead(client, settings, make_equipment, operator, lead):
    equipment = make_equipment()
    calibration = equipment.calibrations.get()
    prefix = f"confirm{calibration.pk}"
    client = _login(client, settings, operator)
    confirm = reverse("equipment:calibration_confirm", args=[calibration.pk])
    response = client.post(confirm, {f"{prefix}-conclusion": "restricted", f"{prefix}-notes": ""})
    assert response.status_code == 200 and "Explain the limitation" in response.content.decode()
    client.post(confirm, {f"{prefix}-conclusion": "fit", f"{prefix}-notes": ""})
    calibration.refresh_from_db()
    assert calibration.confirmed_by == operator and calibration.confirmation == "fit"

    response = _login(client, settings, lead).get(detail_url(equipment))
    assert "approve-button" in response.content.decode()
    response = client.post(reverse("equipment:calibration_approve", args=[calibration.pk]), follow=True)
    calibration.refresh_from_db()
    assert calibration.approved_by == lead and calibration.approved_at
    assert "approved" in _messages(response)
    # A second confirmation (e.g. a stale page) is refused with a message.
    response = client.post(confirm, {f"{prefix}-conclusion": "unfit", f"{prefix}-notes": "x"}, follow=True)
    assert "already confirmed" in _messages(response)
    calibration.refresh_from_db()
    assert calibration.confirmation == "fit"


@pytest.mark.django_db
def test_the_confirmer_cannot_approve_their_own_confirmation(client, settings, make_equipment, lead):
    equipment = make_equipment()
    calibration = equipment.calibrations.get()
    client = _login(client, settings, lead)
    client.post(
        reverse("equipment:calibration_confirm", args=[calibration.pk]),
        {f"confirm{calibration.pk}-conclusion": "fit"},
    )
    response = client.post(reverse("equipment:calibration_approve", args=[calibration.pk]), follow=True)
    assert "someone other than the person who made it" in _messages(response)
    calibration.refresh_from_db()
    assert calibration.confirmed_by == lead and calibration.approved_at is None


@pytest.mark.django_db
def test_an_operator_cannot_approve(client, settings, make_equipment, operator):
    equipment = make_equipment()
    calibration = equipment.calibrations.get()
    client = _login(client, settings, operator)
    client.post(
        reverse("equipment:calibration_confirm", args=[calibration.pk]),
        {f"confirm{calibration.pk}-conclusion": "fit"},
    )
    client.post(reverse("equipment:calibration_approve", args=[calibration.pk]))
    calibration.refresh_from_db()
    assert calibration.approved_at is None


# --- correction factors (R-EQP-8) --------------------------------------------------------


def points_data(rows, unit="mmHg"):
    data = {
        "unit": unit,
        "points-TOTAL_FORMS": str(len(rows)),
        "points-INITIAL_FORMS": "0",
        "points-MIN_NUM_FORMS": "0",
        "points-MAX_NUM_FORMS": "500",
    }
    for index, (nominal, correction) in enumerate(rows):
        data[f"points-{index}-nominal"] = nominal
        data[f"points-{index}-correction"] = correction
    return data


@pytest.mark.django_db
def test_a_new_correction_table_supersedes_the_previous_one(client, settings, make_equipment, operator):
    """R-EQP-8: only the newest version is in force; the older one is shown struck through."""
    equipment = make_equipment()
    calibration = equipment.calibrations.get()
    client = _login(client, settings, operator)
    url = reverse("equipment:corrections_set", args=[calibration.pk])
    assert client.get(url).status_code == 200
    client.post(url, points_data([("0", "0.1"), ("100", "-0.2"), ("", "")]))
    first = CorrectionTable.objects.get()
    assert first.version == 1 and first.in_force and len(first.points) == 2
    # The form starts from the table in force.
    assert 'value="-0.2"' in client.get(url).content.decode()

    response = client.post(url, points_data([("0", "0.05"), ("100", "-0.15"), ("200", "0.3")]), follow=True)
    tables = {t.version: t for t in CorrectionTable.objects.all()}
    assert tables[2].in_force and not tables[1].in_force and tables[1].superseded_at
    body = response.content.decode()
    assert 'data-testid="corrections-in-force" data-version="2"' in body
    assert 'data-testid="corrections-superseded" data-version="1"' in body


@pytest.mark.django_db
def test_a_correction_table_with_a_missing_point_is_refused(client, settings, make_equipment, operator):
    """Bad input: a row with a nominal value but no correction — clear error, nothing saved."""
    equipment = make_equipment()
    calibration = equipment.calibrations.get()
    client = _login(client, settings, operator)
    url = reverse("equipment:corrections_set", args=[calibration.pk])
    response = client.post(url, points_data([("0", "0.1"), ("100", "")]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter the correction for this nominal value." in body
    assert 'value="0.1"' in body  # input kept
    response = client.post(url, points_data([("", ""), ("", "")]))
    assert "Enter at least one point." in response.content.decode()
    response = client.post(url, points_data([("abc", "0.1")]))
    assert "as numbers" in response.content.decode()
    assert not CorrectionTable.objects.exists()


# --- intermediate checks (R-EQP-7) -------------------------------------------------------


@pytest.mark.django_db
def test_lead_plans_checks_and_a_zero_interval_is_refused(client, settings, make_equipment, lead):
    equipment = make_equipment()
    client = _login(client, settings, lead)
    url = reverse("equipment:check_plan_add", args=[equipment.pk])
    data = {"plan-interval_months": "0", "plan-method": "用核查标准比对", "plan-criterion": CriterionKind.EN}
    response = client.post(url, data)
    assert response.status_code == 200 and "at least 1 month" in response.content.decode()
    assert not equipment.check_plans.exists()
    client.post(url, {**data, "plan-interval_months": "6"})
    assert equipment.check_plans.get().interval_months == 6


@pytest.mark.django_db
def test_failed_intermediate_check_stops_the_equipment_and_opens_an_impact_analysis(
    client, settings, make_equipment, operator, lead, today
):
    """R-EQP-7: a failed check takes the equipment out of service and opens an impact
    analysis; the message says so and links to it."""
    equipment = make_equipment()
    plan = check_services.save_check_plan(
        actor=lead, equipment=equipment, interval_months=6, method="比对", criterion=CriterionKind.TOLERANCE,
        tolerance="0.5", unit="mmHg",
    )
    client = _login(client, settings, operator)
    url = reverse("equipment:check_add", args=[plan.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"checked_on": today.isoformat(), "measured": "101.2", "reference": "100.0", "notes": ""}, follow=True
    )
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert analysis.trigger == ImpactTrigger.FAILED_CHECK
    text = _messages(response)
    assert "FAILED" in text and "impact analysis was opened" in text
    assert reverse("equipment:impact_detail", args=[analysis.pk]) in response.content.decode()
    assert 'data-passed="0"' in response.content.decode()


@pytest.mark.django_db
def test_passed_check_keeps_the_equipment_in_service(client, settings, make_equipment, operator, lead, today):
    equipment = make_equipment()
    plan = check_services.save_check_plan(
        actor=lead, equipment=equipment, interval_months=6, method="比对", criterion=CriterionKind.EN,
    )
    client = _login(client, settings, operator)
    url = reverse("equipment:check_add", args=[plan.pk])
    response = client.post(url, {"checked_on": today.isoformat(), "measured": "100.1", "reference": "100"})
    assert response.status_code == 200 and "both expanded uncertainties" in response.content.decode()
    response = client.post(
        url,
        {"checked_on": today.isoformat(), "measured": "100.1", "reference": "100", "u_measured": "0.2",
         "u_reference": "0.1"},
        follow=True,
    )
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE
    assert "passed" in _messages(response) and not ImpactAnalysis.objects.exists()


# --- log ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_log_entry_is_recorded_and_a_future_date_refused(client, settings, make_equipment, operator, today):
    equipment = make_equipment()
    client = _login(client, settings, operator)
    url = reverse("equipment:log_add", args=[equipment.pk])
    data = {"log-kind": "damage", "log-occurred_on": (today + dt.timedelta(days=1)).isoformat(),
            "log-description": "外壳摔裂", "log-action_taken": ""}
    response = client.post(url, data)
    assert response.status_code == 200 and "not in the future" in response.content.decode()
    assert not equipment.log.exists()
    response = client.post(url, {**data, "log-occurred_on": today.isoformat()}, follow=True)
    assert equipment.log.get().description == "外壳摔裂"
    assert "外壳摔裂" in response.content.decode()


# --- check-out and return (R-EQP-6, R-ONS-2, R-ONS-5) -------------------------------------


@pytest.mark.django_db
def test_checkout_blocks_use_until_the_return_check(client, settings, make_equipment, operator, today):
    """R-EQP-6, R-ONS-5: off site after the check-out; the gate refuses it until the return
    check, and a return with all checks passed puts it back in service."""
    equipment = make_equipment()
    client = _login(client, settings, operator)
    url = reverse("equipment:checkout", args=[equipment.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"purpose": "on_site", "destination": "市一医院", "condition_ok": "on"})
    assert response.status_code == 200 and "Pack it" in response.content.decode()  # R-ONS-2
    assert not CheckOut.objects.exists()
    response = client.post(
        url, {"purpose": "on_site", "destination": "市一医院", "condition_ok": "on", "packed_ok": "on"}, follow=True
    )
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OFF_SITE
    assert 'data-open="1"' in response.content.decode() and "return-form" in response.content.decode()
    with pytest.raises(ValidationError):
        gate.check_usable(equipment, today, operator)

    checkout = CheckOut.objects.get()
    back = reverse("equipment:checkin", args=[checkout.pk])
    response = client.post(back, {"return-count_ok": "on", "return-function_ok": "on"})
    assert response.status_code == 200 and "Describe what failed" in response.content.decode()
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OFF_SITE

    response = client.post(
        back, {"return-count_ok": "on", "return-function_ok": "on", "return-calibration_ok": "on"}, follow=True
    )
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE
    assert "back" in _messages(response)
    assert gate.check_usable(equipment, today, operator).snapshot["status"] == EquipmentStatus.IN_SERVICE


@pytest.mark.django_db
def test_checkout_to_an_on_site_visit_takes_its_address(request, client, settings, make_equipment, operator, today):
    """R-ONS-2: equipment goes out for a planned on-site visit; the destination defaults
    to the visit's site address."""
    pump = request.getfixturevalue("categories")["pump"]
    order = request.getfixturevalue("make_order")([line(pump, "P-7")], work_location=WorkLocation.ON_SITE)
    visit = visit_services.plan_visit(actor=request.getfixturevalue("clerk"), order=order, planned_date=today + dt.timedelta(days=2),
                                      site_address="市一医院 病区 3 楼", site_contact="刘洋")
    equipment = make_equipment()
    client = _login(client, settings, operator)
    url = reverse("equipment:checkout", args=[equipment.pk])
    assert order.number in client.get(url).content.decode()
    client.post(url, {"purpose": "on_site", "visit": str(visit.pk), "destination": "", "condition_ok": "on",
                      "packed_ok": "on"})
    checkout = CheckOut.objects.get()
    assert checkout.visit == visit and checkout.destination == "市一医院 病区 3 楼"


@pytest.mark.django_db
def test_off_site_equipment_is_not_offered_back_to_service_by_status(client, settings, make_equipment, operator, lead):
    """Returning to service without a return check is refused (off site → through check-in only)."""
    equipment = make_equipment()
    client = _login(client, settings, operator)
    client.post(reverse("equipment:checkout", args=[equipment.pk]),
                {"purpose": "calibration", "destination": "省计量院", "condition_ok": "on"})
    body = _login(client, settings, lead).get(detail_url(equipment)).content.decode()
    assert "status-form" not in body and "off-site-hint" in body
    for target in ("in_service", "out_of_service"):
        response = client.post(reverse("equipment:equipment_status", args=[equipment.pk]),
                               {"status-status": target, "status-reason": StopReason.SUSPECT}, follow=True)
        assert "comes back through the return check" in _messages(response)
        equipment.refresh_from_db()
        assert equipment.status == EquipmentStatus.OFF_SITE


# --- queries -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_detail_query_count_does_not_grow_with_calibrations(client, settings, make_equipment, operator, lead, today):
    def build(lab_id, n):
        equipment = make_equipment(lab_id, months_ago=None)
        for i in range(n):
            calibration_services.record_calibration(
                actor=operator, equipment=equipment, provider="省计量院", certificate_no=f"{lab_id}-{i}",
                calibrated_on=today - dt.timedelta(days=400 - i * 30), result=CalibrationResult.PASS,
            )
        plan = check_services.save_check_plan(
            actor=lead, equipment=equipment, interval_months=6, method="比对", criterion=CriterionKind.EN,
        )
        for i in range(n):
            check_services.record_check(actor=operator, plan=plan, checked_on=today - dt.timedelta(days=i),
                                        measured="1", reference="1", u_measured="0.1", u_reference="0.1")
            check_services.log_event(actor=operator, equipment=equipment, kind="maintenance",
                                     occurred_on=today, description=f"保养 {i}")
        calibration = equipment.calibrations.first()
        for i in range(n):
            calibration_services.set_corrections(actor=operator, calibration=calibration, unit="mmHg",
                                                 points=[{"nominal": "0", "correction": str(i)}])
        return equipment

    few, many = build("EQ-FEW", 2), build("EQ-MANY", 10)
    client = _login(client, settings, lead)
    client.get(detail_url(few))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(detail_url(few)).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert client.get(detail_url(many)).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


# --- who reaches the actions ---------------------------------------------------------------

ACTIONS = {
    "equipment_status": "equipment", "attachment_add": "equipment", "calibration_add": "equipment",
    "calibration_confirm": "calibration", "calibration_approve": "calibration", "corrections_set": "calibration",
    "check_plan_add": "equipment", "check_add": "plan", "log_add": "equipment", "checkout": "equipment",
    "checkin": "checkout",
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_actions_refuse_outsiders_and_onlookers_without_writing(name, client, settings, make_equipment, operator,
                                                                lead, counter, customer):
    """Customers get 404; counter staff (may look, not act) are refused and nothing is
    written; an empty POST by the people the action is for is refused without a 500."""
    from labqms.models import AuditEvent

    equipment = make_equipment()
    plan = check_services.save_check_plan(actor=lead, equipment=equipment, interval_months=6, method="比对",
                                          criterion=CriterionKind.EN)
    from equipment.services import checkout as checkout_services

    checkout = checkout_services.check_out(actor=operator, equipment=equipment, purpose="calibration",
                                           destination="省计量院", condition_ok=True, packed_ok=True)
    pk = {"equipment": equipment.pk, "calibration": equipment.calibrations.get().pk, "plan": plan.pk,
          "checkout": checkout.pk}[ACTIONS[name]]
    url = reverse(f"equipment:{name}", args=[pk])
    assert _login(client, settings, customer).post(url, {}).status_code == 404
    before = AuditEvent.objects.count()
    response = _login(client, settings, counter).post(url, {})
    assert response.status_code == 302 and response["Location"].startswith(detail_url(equipment))
    assert AuditEvent.objects.count() == before
    for user in (operator, lead):
        response = _login(client, settings, user).post(url, {})
        assert response.status_code in (200, 302), (user, response.status_code)
    assert AuditEvent.objects.count() == before
    client.logout()
    assert "/accounts/login/" in client.post(url, {})["Location"]


@pytest.mark.django_db
def test_uploaded_files_are_served_to_staff_only(client, make_equipment, operator, customer, settings, tmp_path):
    """R-EQP-2 copies of certificates are lab records: staff download them through a
    permission-checked view; customers get 404 and there is no public /media URL."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from equipment.services import register as register_services

    settings.MEDIA_ROOT = tmp_path
    equipment = make_equipment("EQ-F")
    attachment = register_services.add_attachment(
        actor=operator, equipment=equipment, title="说明书", upload=SimpleUploadedFile("m.pdf", b"%PDF-1.4 manual")
    )
    url = reverse("equipment:attachment_file", args=[attachment.pk])
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(customer)
    assert client.get(url).status_code == 404
    assert client.get(f"/media/{attachment.file.name}").status_code == 404
