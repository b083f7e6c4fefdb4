"""External calibrations, the next due date, metrological confirmation (计量确认),
correction factors (R-EQP-2, R-EQP-8) and the upload checks of certificates and
attachments (R-EQP-2)."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from equipment.models import (
    Attachment,
    Calibration,
    CalibrationResult,
    ConfirmationConclusion,
    CorrectionTable,
    EquipmentStatus,
    ImpactAnalysis,
    ImpactTrigger,
    StopReason,
)
from equipment.models import register as register_models
from equipment.services import calibration, register
from labqms import audit

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def record(equipment, actor, calibrated_on, result=CalibrationResult.PASS, **kwargs):
    kwargs.setdefault("provider", "省计量院")
    kwargs.setdefault("certificate_no", f"JZ-{calibrated_on:%Y%m%d}")
    return calibration.record_calibration(actor=actor, equipment=equipment, calibrated_on=calibrated_on,
                                          result=result, **kwargs)


# --- the next due date ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "calibrated_on,interval,due",
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),  # calendar months, clipped to the month's end
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),  # leap year
        (dt.date(2025, 3, 15), 12, dt.date(2026, 3, 15)),
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
        (dt.date(2025, 8, 31), 6, dt.date(2026, 2, 28)),
    ],
)
def test_next_due_is_the_date_plus_the_interval_in_calendar_months(calibrated_on, interval, due, make_equipment, operator):
    """R-EQP-2: next due = calibration date + interval (calendar months)."""
    equipment = make_equipment("EQ-1", months_ago=None, interval=interval)
    cal = record(equipment, operator, calibrated_on)
    equipment.refresh_from_db()
    assert cal.next_due == due
    assert cal.due_stated_by_provider is False
    assert (equipment.calibration_due, equipment.last_calibrated_on, equipment.last_certificate_no) == (
        due, calibrated_on, cal.certificate_no
    )


@pytest.mark.django_db
def test_the_providers_due_date_wins(make_equipment, operator, today):
    """R-EQP-2: when the certificate states the next due date, that date is used."""
    equipment = make_equipment("EQ-1", months_ago=None, interval=12)
    calibrated_on = today - dt.timedelta(days=10)
    stated = calibrated_on + dt.timedelta(days=180)
    cal = record(equipment, operator, calibrated_on, next_due=stated)
    equipment.refresh_from_db()
    assert (cal.next_due, cal.due_stated_by_provider, equipment.calibration_due) == (stated, True, stated)


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [0, -1, -400])
def test_a_due_date_on_or_before_the_calibration_date_is_refused(offset, make_equipment, operator, today):
    """Bad input (issue 4): a due date before (or on) the calibration date; nothing saved."""
    equipment = make_equipment("EQ-1", months_ago=None)
    calibrated_on = today - dt.timedelta(days=30)
    with pytest.raises(ValidationError) as refused:
        record(equipment, operator, calibrated_on, next_due=calibrated_on + dt.timedelta(days=offset))
    assert "next_due" in refused.value.message_dict
    assert not Calibration.objects.exists()
    equipment.refresh_from_db()
    assert equipment.calibration_due is None


@pytest.mark.django_db
def test_a_future_calibration_date_is_refused(make_equipment, operator, today):
    equipment = make_equipment("EQ-1", months_ago=None)
    with pytest.raises(ValidationError) as refused:
        record(equipment, operator, today + dt.timedelta(days=1))
    assert "calibrated_on" in refused.value.message_dict
    assert not Calibration.objects.exists()
    record(equipment, operator, today)  # today itself is fine


@pytest.mark.django_db
def test_missing_fields_are_refused_together(make_equipment, operator, today):
    equipment = make_equipment("EQ-1", months_ago=None)
    with pytest.raises(ValidationError) as refused:
        calibration.record_calibration(actor=operator, equipment=equipment, provider=" ", certificate_no="",
                                       calibrated_on=today, result="maybe", adjusted=True)
    assert set(refused.value.message_dict) == {"provider", "certificate_no", "result", "adjustment_notes"}
    assert not Calibration.objects.exists()


@pytest.mark.django_db
def test_an_older_calibration_recorded_later_does_not_move_the_due_date_back(make_equipment, operator, today):
    """R-EQP-2: the register follows the newest calibration, whatever order they are typed in."""
    equipment = make_equipment("EQ-1", months_ago=None, interval=12)
    newer = record(equipment, operator, today - relativedelta(months=1), certificate_no="NEW")
    older = record(equipment, operator, today - relativedelta(months=13), certificate_no="OLD")
    equipment.refresh_from_db()
    assert equipment.calibration_due == newer.next_due > older.next_due
    assert equipment.last_certificate_no == "NEW"
    assert equipment.last_calibrated_on == newer.calibrated_on
    assert list(equipment.calibrations.values_list("certificate_no", flat=True)) == ["NEW", "OLD"]


@pytest.mark.django_db
def test_calibration_is_audited(make_equipment, operator, today):
    """R-EQP-9: who recorded what, with the due date old → new."""
    equipment = make_equipment("EQ-1", months_ago=13, interval=12)
    old_due = equipment.calibration_due
    cal = record(equipment, operator, today)
    event = audit.events_for(equipment).filter(action="equipment.calibration_recorded").first()
    assert event.actor == operator
    assert event.changes["calibration_due"] == [old_due.isoformat(), cal.next_due.isoformat()]
    assert event.changes["result"] == [None, CalibrationResult.PASS]


@pytest.mark.django_db
def test_only_technical_staff_record_calibrations(make_equipment, counter, qualitylead, today):
    equipment = make_equipment("EQ-1", months_ago=None)
    for user in (counter, qualitylead):
        with pytest.raises(PermissionDenied):
            record(equipment, user, today)
    assert not Calibration.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("start", [EquipmentStatus.IN_SERVICE, EquipmentStatus.RESTRICTED])
def test_a_failed_calibration_stops_the_equipment_and_opens_an_impact_analysis(start, make_equipment, lead, operator, today):
    """R-EQP-4: outside limits → out of service, and reverse traceability starts."""
    from equipment.services import status

    equipment = make_equipment("EQ-1", months_ago=6)
    if start == EquipmentStatus.RESTRICTED:
        status.change_status(actor=lead, equipment=equipment, status=start, note="仅低量程")
    record(equipment, operator, today, result=CalibrationResult.FAIL, certificate_no="F-9")
    equipment.refresh_from_db()
    assert (equipment.status, equipment.stop_reason) == (EquipmentStatus.OUT_OF_SERVICE, StopReason.OUTSIDE_LIMITS)
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert (analysis.trigger, analysis.found_on) == (ImpactTrigger.FAILED_CALIBRATION, today)
    assert analysis.since == today - relativedelta(months=6)  # the last good calibration
    assert "F-9" in analysis.trigger_detail


@pytest.mark.django_db
def test_a_failed_calibration_while_off_site_stops_it_on_return(make_equipment, operator, today):
    """R-EQP-4, R-EQP-6: sent out for calibration and failed: the return check cannot put it back in use."""
    from equipment.services import checkout

    equipment = make_equipment("EQ-1", months_ago=11)
    out = checkout.check_out(actor=operator, equipment=equipment, purpose="calibration", destination="省计量院",
                             condition_ok=True, packed_ok=True)
    record(equipment, operator, today, result=CalibrationResult.FAIL)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OFF_SITE
    assert ImpactAnalysis.objects.filter(equipment=equipment, trigger=ImpactTrigger.FAILED_CALIBRATION).count() == 1
    checkout.check_in(actor=operator, checkout=out, count_ok=True, function_ok=True, calibration_ok=True)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE


@pytest.mark.django_db
def test_a_failed_calibration_of_stopped_equipment_keeps_it_stopped(make_equipment, operator, today):
    from equipment.services import status

    equipment = make_equipment("EQ-1", months_ago=6)
    status.change_status(actor=operator, equipment=equipment, status=EquipmentStatus.OUT_OF_SERVICE,
                         reason=StopReason.DEFECTIVE)
    record(equipment, operator, today, result=CalibrationResult.FAIL)
    equipment.refresh_from_db()
    assert (equipment.status, equipment.stop_reason) == (EquipmentStatus.OUT_OF_SERVICE, StopReason.DEFECTIVE)
    assert ImpactAnalysis.objects.filter(equipment=equipment).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("result", [CalibrationResult.PASS, CalibrationResult.LIMITED])
def test_a_passed_calibration_opens_no_impact_analysis(result, make_equipment, operator, today):
    equipment = make_equipment("EQ-1", months_ago=6)
    record(equipment, operator, today, result=result)
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.IN_SERVICE
    assert not ImpactAnalysis.objects.exists()


# --- metrological confirmation -------------------------------------------------------


@pytest.mark.django_db
def test_confirmation_then_approval_by_another_person(make_equipment, operator, lead):
    """R-EQP-10 "valid confirmed traceability": a technician confirms, the technical lead approves."""
    cal = make_equipment("EQ-1").calibrations.get()
    calibration.confirm_calibration(actor=operator, calibration=cal, conclusion=ConfirmationConclusion.FIT)
    calibration.approve_confirmation(actor=lead, calibration=cal)
    cal.refresh_from_db()
    assert (cal.confirmation, cal.confirmed_by, cal.approved_by) == (ConfirmationConclusion.FIT, operator, lead)
    assert cal.confirmed_at <= cal.approved_at
    actions = list(audit.events_for(cal.equipment).values_list("action", flat=True)[:2])
    assert actions == ["equipment.confirmation_approved", "equipment.calibration_confirmed"]
    with pytest.raises(ValidationError):
        calibration.approve_confirmation(actor=lead, calibration=cal)  # once
    with pytest.raises(ValidationError):
        calibration.confirm_calibration(actor=operator, calibration=cal, conclusion=ConfirmationConclusion.FIT)


@pytest.mark.django_db
def test_the_confirmer_cannot_approve_their_own_confirmation(make_equipment, lead, techlead):
    equipment = make_equipment("EQ-1")
    cal = equipment.calibrations.get()
    calibration.confirm_calibration(actor=lead, calibration=cal, conclusion=ConfirmationConclusion.FIT)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        calibration.approve_confirmation(actor=lead, calibration=cal)
    assert "someone other than" in " ".join(refused.value.messages)
    cal.refresh_from_db()
    assert cal.approved_at is None
    calibration.approve_confirmation(actor=techlead, calibration=cal)  # another technical lead may


@pytest.mark.django_db
def test_approval_before_confirmation_is_refused(make_equipment, lead):
    cal = make_equipment("EQ-1").calibrations.get()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        calibration.approve_confirmation(actor=lead, calibration=cal)
    assert "confirmed before" in " ".join(refused.value.messages)
    cal.refresh_from_db()
    assert cal.approved_at is None


@pytest.mark.django_db
def test_a_technician_cannot_approve(make_equipment, operator, technician):
    cal = make_equipment("EQ-1").calibrations.get()
    calibration.confirm_calibration(actor=operator, calibration=cal, conclusion=ConfirmationConclusion.FIT)
    with pytest.raises(PermissionDenied):
        calibration.approve_confirmation(actor=technician, calibration=cal)


@pytest.mark.django_db
@pytest.mark.parametrize("conclusion", [ConfirmationConclusion.RESTRICTED, ConfirmationConclusion.UNFIT])
def test_a_limited_confirmation_needs_notes(conclusion, make_equipment, operator):
    cal = make_equipment("EQ-1").calibrations.get()
    with pytest.raises(ValidationError) as refused:
        calibration.confirm_calibration(actor=operator, calibration=cal, conclusion=conclusion)
    assert "notes" in refused.value.message_dict
    with pytest.raises(ValidationError):
        calibration.confirm_calibration(actor=operator, calibration=cal, conclusion="perhaps")
    cal.refresh_from_db()
    assert cal.confirmed_at is None
    calibration.confirm_calibration(actor=operator, calibration=cal, conclusion=conclusion, notes="高量程超差")


# --- correction factors --------------------------------------------------------------

POINTS_V1 = [{"nominal": "0", "correction": "0.002"}, {"nominal": "100", "correction": "-0.004"}]
POINTS_V2 = [{"nominal": "0", "correction": "0.001"}, {"nominal": "100", "correction": "-0.003"},
             {"nominal": "250", "correction": "-0.010"}]


@pytest.mark.django_db
def test_a_new_correction_table_supersedes_the_old_one(make_equipment, operator, today):
    """R-EQP-8: when calibration yields correction factors, only the newest version is in force."""
    equipment = make_equipment("EQ-1", months_ago=13)
    v1 = calibration.set_corrections(actor=operator, calibration=equipment.calibrations.get(), unit="kPa", points=POINTS_V1)
    new_cal = record(equipment, operator, today)
    v2 = calibration.set_corrections(actor=operator, calibration=new_cal, unit="kPa", points=POINTS_V2)
    v1.refresh_from_db()
    assert (v1.version, v1.in_force) == (1, False) and v1.superseded_at is not None
    assert (v2.version, v2.in_force, v2.superseded_at, v2.calibration) == (2, True, None, new_cal)
    assert list(CorrectionTable.objects.filter(equipment=equipment, in_force=True)) == [v2]
    assert v2.points == POINTS_V2
    event = audit.events_for(equipment).filter(action="equipment.corrections_set").first()
    assert event.changes == {"corrections": [1, 2]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "points,unit",
    [
        ([{"nominal": "0", "correction": "0.002"}, {"nominal": "100"}], "kPa"),  # missing correction
        ([{"nominal": "", "correction": "0.002"}], "kPa"),  # missing nominal
        ([{"nominal": "0", "correction": "abc"}], "kPa"),  # not a number
        ([{"nominal": "NaN", "correction": "0"}], "kPa"),
        ([{"nominal": "1", "correction": "Infinity"}], "kPa"),
        ([], "kPa"),
        (POINTS_V2, " "),
    ],
)
def test_a_bad_correction_table_is_refused_with_nothing_saved(points, unit, make_equipment, operator):
    """Bad input (issue 4): missing or non-numeric points; the table in force stays."""
    equipment = make_equipment("EQ-1")
    cal = equipment.calibrations.get()
    v1 = calibration.set_corrections(actor=operator, calibration=cal, unit="kPa", points=POINTS_V1)
    events = audit.events_for(equipment).count()
    with pytest.raises(ValidationError):
        calibration.set_corrections(actor=operator, calibration=cal, unit=unit, points=points)
    assert list(CorrectionTable.objects.all()) == [v1]
    v1.refresh_from_db()
    assert v1.in_force
    assert audit.events_for(equipment).count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("second", ["100", "100.0", "1E+2"])
def test_a_nominal_value_twice_is_refused(second, make_equipment, operator):
    """R-EQP-8: one correction per nominal value (100 and 100.0 are the same point)."""
    cal = make_equipment("EQ-1").calibrations.get()
    points = [{"nominal": "100", "correction": "0.1"}, {"nominal": second, "correction": "0.2"}]
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        calibration.set_corrections(actor=operator, calibration=cal, unit="kPa", points=points)
    assert "twice" in " ".join(refused.value.messages)
    assert not CorrectionTable.objects.exists()


# --- uploads -------------------------------------------------------------------------


def test_check_upload_accepts_pdf_and_images_and_returns_the_digest():
    import hashlib

    assert register.check_upload(SimpleUploadedFile("cert.pdf", PDF)) == hashlib.sha256(PDF).hexdigest()
    assert register.check_upload(SimpleUploadedFile("photo.PNG", PNG))
    assert register.check_upload(SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 16))


@pytest.mark.parametrize(
    "name,content",
    [
        ("setup.exe", b"MZ\x90\x00" + b"\0" * 60),
        ("cert.pdf.exe", PDF),
        ("cert", PDF),
        ("cert.pdf", b"MZ\x90\x00 not a pdf"),  # content does not match the extension
        ("cert.pdf", b""),
        ("photo.png", PDF),
        ("photo.jpg", PNG),
    ],
)
def test_check_upload_refuses_wrong_types(name, content):
    """R-EQP-2 attachments: PDF or images only, and the content must be what the name says."""
    with pytest.raises(ValidationError) as refused:
        register.check_upload(SimpleUploadedFile(name, content), "certificate_file")
    assert "certificate_file" in refused.value.message_dict


def test_check_upload_refuses_more_than_10_mb():
    limit = register_models.MAX_ATTACHMENT_BYTES
    assert limit == 10 * 1024 * 1024
    register.check_upload(SimpleUploadedFile("big.pdf", PDF + b"\0" * (limit - len(PDF))))  # exactly 10 MB
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        register.check_upload(SimpleUploadedFile("big.pdf", PDF + b"\0" * (limit - len(PDF) + 1)))
    assert "10 MB" in " ".join(refused.value.messages)


def test_check_upload_refuses_nothing():
    with pytest.raises(ValidationError):
        register.check_upload(None)


@pytest.mark.django_db
def test_a_bad_certificate_file_saves_no_calibration(make_equipment, operator, today):
    equipment = make_equipment("EQ-1", months_ago=None)
    with pytest.raises(ValidationError) as refused:
        record(equipment, operator, today, certificate_file=SimpleUploadedFile("cert.pdf", b"<html>"))
    assert "certificate_file" in refused.value.message_dict
    assert not Calibration.objects.exists()


@pytest.mark.django_db
def test_attachments_keep_their_digest_and_bad_ones_are_refused(make_equipment, operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    equipment = make_equipment("EQ-1")
    with pytest.raises(ValidationError):
        register.add_attachment(actor=operator, equipment=equipment, title="说明书",
                                upload=SimpleUploadedFile("manual.exe", b"MZ"))
    with pytest.raises(ValidationError):
        register.add_attachment(actor=operator, equipment=equipment, title=" ",
                                upload=SimpleUploadedFile("manual.pdf", PDF))
    assert not Attachment.objects.exists()
    attachment = register.add_attachment(actor=operator, equipment=equipment, title="说明书",
                                         upload=SimpleUploadedFile("manual.pdf", PDF))
    assert len(attachment.sha256) == 64
    assert audit.events_for(equipment).filter(action="equipment.attachment_added").exists()
