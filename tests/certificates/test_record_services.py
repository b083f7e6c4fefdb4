"""The original record through the services: environment (R-TST-2), equipment gate
(R-EQP-10, R-TST-4), readings (R-REC-2, R-REC-5), the performer's and the checker's
signatures (R-TST-1), corrections (R-REC-3), before/after adjustment (R-CRT-2),
calibration uncertainty and retention (R-REC-4)."""

import datetime as dt
import re
from decimal import Decimal
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from certificates.evaluation import evaluate, reading_field
from certificates.models import (
    CheckOutcome,
    Correction,
    InspectionResult,
    Phase,
    PointUncertainty,
    Reading,
    Record,
    RecordCheck,
    RecordEquipment,
    RecordStatus,
    TaskStatus,
)
from certificates.services import methods as method_services
from certificates.services import records as services
from certificates.services import tasks as task_services
from certificates.services.methods import POINT_FIELDS
from equipment.models import EquipmentUse
from intake.models import SampleStatus
from intake.services import samples as sample_services
from labqms.models import Activity, AuditEvent
from tests.certificates.conftest import BP_DATA, PASSWORD
from tests.intake.conftest import line

D = Decimal
AS_FOUND, AS_LEFT = Phase.AS_FOUND, Phase.AS_LEFT
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _points(record):
    return list(record.template.points.order_by("position"))


def _events(record, action):
    return AuditEvent.objects.filter(action=action, target_id=str(record.pk)).order_by("-id")


def _all_met(record, actor):
    services.save_inspections(actor=actor, record=record, results={i.position: (True, "") for i in record.inspections.all()})


def _reading(record, nominal=100, repeat=1, phase=AS_FOUND):
    return record.readings.get(point__nominal=nominal, repeat=repeat, phase=phase)


@pytest.fixture
def started(received_sample, method, template, performer, checker, assigner):
    """A started record with nothing entered yet."""
    task = task_services.assign_task(actor=assigner, sample=received_sample, method=method, performer=performer, checker=checker)
    return task_services.start_task(actor=performer, task=task)


@pytest.fixture
def make_cal_record(make_order, categories, clerk, location, cal_method, cal_template, performer, checker, assigner, bp_equipment):
    """A started calibration record (pump, JJF 1259-2018) with environment and equipment."""

    def make(serial="P-001"):
        order = make_order([line(categories["pump"], serial)])
        sample = sample_services.receive_sample(actor=clerk, sample=order.samples.get(), location=location)
        task = task_services.assign_task(actor=assigner, sample=sample, method=cal_method, performer=performer, checker=checker)
        record = task_services.start_task(actor=performer, task=task)
        services.save_environment(actor=performer, record=record, temperature="22", humidity="45")
        services.add_equipment(actor=performer, record=record, equipment=bp_equipment)
        record.refresh_from_db()
        return record

    return make


# --- environment (R-TST-2) ---------------------------------------------------------------


def test_r_tst_2_environment_out_of_limits_is_stored_and_stops_work(started, performer, bp_equipment):
    with pytest.raises(ValidationError, match="environmental conditions first"):
        services.save_readings(actor=performer, record=started, entries={})
    services.add_equipment(actor=performer, record=started, equipment=bp_equipment)  # not blocked by the environment
    problems = services.save_environment(actor=performer, record=started, temperature="26.5", humidity="")
    assert set(problems) == {"temperature", "humidity"}
    assert problems["temperature"] == "Temperature 26.5 ℃ is outside 15 – 25 ℃."
    assert "required" in problems["humidity"]
    started.refresh_from_db()
    # the values as measured are kept: they are facts of the record
    assert started.temperature == D("26.5") and started.humidity is None
    assert started.environment_ok is False and started.environment_at is not None
    event = _events(started, "record.environment_out_of_limits").get()
    assert event.changes["temperature"] == ["", "26.5"] and "26.5" in event.reason

    point = _points(started)[0]
    with pytest.raises(ValidationError, match="stop work") as exc:
        services.save_readings(actor=performer, record=started, entries={services.slot_key(point.pk, AS_FOUND, 1): "101"})
    assert "R-TST-2" in exc.value.messages[0]
    assert not started.readings.exists()
    assert any("stop work" in m for m in evaluate(started).missing())

    # once the conditions are within the limits, work goes on
    assert services.save_environment(actor=performer, record=started, temperature="22.0", humidity="55") == {}
    started.refresh_from_db()
    assert started.environment_ok is True and started.temperature == D("22")
    services.save_readings(actor=performer, record=started, entries={services.slot_key(point.pk, AS_FOUND, 1): "101"})
    assert started.readings.count() == 1


def test_r_tst_2_other_conditions_of_the_template_are_checked(template, method, method_lead, received_sample, performer, checker, assigner):
    draft = method_services.new_version(actor=method_lead, template=template)
    conditions = [{"name": "电源电压", "unit": "V", "min": "198", "max": "242"}]
    points = [{k: getattr(p, k) for k in POINT_FIELDS} for p in draft.points.all()]
    method_services.save_template(actor=method_lead, method=method, template=draft, data={**BP_DATA, "other_conditions": conditions}, points=points)
    method_services.approve_template(actor=method_lead, template=draft)
    task = task_services.assign_task(actor=assigner, sample=received_sample, method=method, performer=performer, checker=checker)
    record = task_services.start_task(actor=performer, task=task)
    problems = services.save_environment(actor=performer, record=record, temperature="20", humidity="50", others={"电源电压": "250"})
    assert list(problems) == ["other:电源电压"] and "250 V is outside 198 – 242 V" in problems["other:电源电压"]
    record.refresh_from_db()
    assert record.other_conditions == {"电源电压": "250"} and record.environment_ok is False
    assert services.save_environment(actor=performer, record=record, temperature="20", humidity="50", others={"电源电压": "220"}) == {}


def test_environment_value_that_is_not_a_number_is_refused(started, performer):
    with pytest.raises(ValidationError, match="not a number"):
        services.save_environment(actor=performer, record=started, temperature="warm", humidity="50")
    started.refresh_from_db()
    assert started.environment_at is None


@pytest.mark.parametrize(("temperature", "message"), [("21.55", "too many decimal places (at most 1)"), ("12345", "too large")])
def test_r_tst_2_environment_value_the_record_cannot_hold_is_refused_not_rounded(started, performer, temperature, message):
    """21.55 ℃ would be stored as 21.6 ℃ (judged on one value, recorded as another);
    12345 would fail the save."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        services.save_environment(actor=performer, record=started, temperature=temperature, humidity="50")
    started.refresh_from_db()
    assert started.environment_at is None and started.temperature is None


# --- equipment gate (R-EQP-10, R-TST-4) ---------------------------------------------


def test_r_eqp_10_overdue_equipment_is_refused_naming_the_due_date(record, performer, make_equipment):
    overdue = make_equipment("BZ-OLD", months_ago=13, interval=12)
    assert overdue.calibration_due < timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.add_equipment(actor=performer, record=record, equipment=overdue)
    message = exc.value.messages[0]
    assert overdue.calibration_due.isoformat() in message and "overdue" in message
    assert not record.equipment_used.filter(equipment=overdue).exists()
    assert not EquipmentUse.objects.filter(equipment=overdue).exists()


def test_r_eqp_10_equipment_in_calibration_is_added_with_its_snapshot(record, bp_equipment):
    entry = record.equipment_used.get()
    assert entry.equipment == bp_equipment
    assert entry.snapshot["lab_id"] == "BZ-T1"
    assert entry.snapshot["calibration_due"] == bp_equipment.calibration_due.isoformat()
    assert entry.use.used_on == record.measured_on and entry.use.record_label == record.number


def test_r_tst_4_operator_without_operate_authorisation_is_refused(
    received_sample, method, template, checker, assigner, make_technician, bp_equipment
):
    person = make_technician("no_operate", activities=(Activity.PERFORM_VERIFICATION, Activity.CHECK_RECORDS))
    task = task_services.assign_task(actor=assigner, sample=received_sample, method=method, performer=person, checker=checker)
    record = task_services.start_task(actor=person, task=task)
    services.save_environment(actor=person, record=record, temperature="21", humidity="50")
    with pytest.raises(ValidationError, match="may not operate"):
        services.add_equipment(actor=person, record=record, equipment=bp_equipment)
    assert not record.equipment_used.exists()
    point = _points(record)[0]
    with pytest.raises(ValidationError, match="Add the equipment"):
        services.save_readings(actor=person, record=record, entries={services.slot_key(point.pk, AS_FOUND, 1): "101"})


def test_equipment_is_added_once_and_removed_before_signing(record, performer, bp_equipment):
    with pytest.raises(ValidationError, match="already in this record"):
        services.add_equipment(actor=performer, record=record, equipment=bp_equipment)
    entry = record.equipment_used.get()
    use_id = entry.use_id
    services.remove_equipment(actor=performer, record=record, entry=entry)
    assert not record.equipment_used.exists()
    assert not EquipmentUse.objects.filter(pk=use_id).exists()


# --- readings (R-REC-2, R-REC-5) -------------------------------------------------------


def test_r_rec_2_readings_are_saved_all_or_nothing_with_errors_per_slot(record, performer):
    p100, p150, p200 = _points(record)
    good = services.slot_key(p100.pk, AS_FOUND, 1)
    text = services.slot_key(p150.pk, AS_FOUND, 1)
    outside = services.slot_key(p200.pk, AS_FOUND, 1)
    with pytest.raises(ValidationError) as exc:
        services.save_readings(actor=performer, record=record, entries={good: "101", text: "abc", outside: "301"})
    errors = exc.value.message_dict
    assert set(errors) == {text, outside}
    assert "is not a number" in errors[text][0]
    assert "outside the measuring range 0 – 300" in errors[outside][0]
    assert not record.readings.exists()  # nothing stored, not even the good value

    before = timezone.now()
    services.save_readings(actor=performer, record=record, entries={good: "101", text: "151", outside: "201", "r-bogus": "5"})
    after = timezone.now()
    readings = list(record.readings.all())
    assert len(readings) == 3
    for reading in readings:
        assert reading.entered_by == performer
        assert before <= reading.entered_at <= after  # stamped by the server when entered
    assert _reading(record).value == D("101") and _reading(record).entered_text == "101"


def test_r_rec_5_readings_the_record_cannot_hold_exactly_are_refused_per_slot(record, performer):
    """A value with 7 decimals would be stored rounded (R-REC-5); values too large for
    the column are covered in test_calc (parse_reading without a range)."""
    p100, p150, _p200 = _points(record)
    fine = services.slot_key(p100.pk, AS_FOUND, 1)
    plain = services.slot_key(p150.pk, AS_FOUND, 1)
    with pytest.raises(ValidationError) as exc:
        services.save_readings(actor=performer, record=record, entries={fine: "100.1234567", plain: "150"})
    errors = exc.value.message_dict
    assert "too many decimal places (at most 6)" in errors[fine][0]
    assert plain not in errors
    assert not record.readings.exists()


def test_r_rec_5_finer_than_the_resolution_is_a_warning_and_kept_as_typed(record, performer):
    p100, p150, _p200 = _points(record)
    fine = services.slot_key(p100.pk, AS_FOUND, 1)
    plain = services.slot_key(p150.pk, AS_FOUND, 1)
    warnings = services.save_readings(actor=performer, record=record, entries={fine: "100.5", plain: "151.0"})
    assert list(warnings) == [fine]
    assert "resolution 1" in warnings[fine]
    assert _reading(record).value == D("100.5") and _reading(record).entered_text == "100.5"
    assert _reading(record, nominal=150).value == D("151") and _reading(record, nominal=150).entered_text == "151.0"


def test_r_rec_3_changing_a_draft_value_is_audited_with_old_and_new(record, performer):
    key = services.slot_key(_points(record)[0].pk, AS_FOUND, 1)
    services.save_readings(actor=performer, record=record, entries={key: "101"})
    services.save_readings(actor=performer, record=record, entries={key: "102"})
    assert _events(record, "record.readings_saved").first().changes[key] == ["101", "102"]
    assert _reading(record).value == D("102")
    services.save_readings(actor=performer, record=record, entries={key: "102"})  # no change, no event
    assert _events(record, "record.readings_saved").count() == 2
    services.save_readings(actor=performer, record=record, entries={key: ""})
    assert _events(record, "record.readings_saved").first().changes[key] == ["102", None]
    assert not record.readings.exists()


def test_only_the_performer_enters_data(record, checker, method_lead):
    key = services.slot_key(_points(record)[0].pk, AS_FOUND, 1)
    for person in (checker, method_lead):
        with pytest.raises(ValidationError, match="Only the performer"):
            services.save_readings(actor=person, record=record, entries={key: "101"})
        with pytest.raises(ValidationError, match="Only the performer"):
            services.save_environment(actor=person, record=record, temperature="20", humidity="50")
    assert not record.readings.exists()


def test_a_failed_inspection_item_needs_a_finding(record, performer):
    with pytest.raises(ValidationError) as exc:
        services.save_inspections(actor=performer, record=record, results={1: (False, " ")})
    assert "inspection-1" in exc.value.message_dict
    services.save_inspections(actor=performer, record=record, results={1: (False, "外壳破损"), 2: (True, "")})
    assert [(i.ok, i.note) for i in record.inspections.order_by("position")] == [(False, "外壳破损"), (True, "")]
    assert evaluate(record).conforms is None  # no readings yet


def test_a_conclusion_must_fit_the_service(record, performer):
    with pytest.raises(ValidationError) as exc:
        services.save_conclusion(actor=performer, record=record, conclusion="calibrated")
    assert "conclusion" in exc.value.message_dict


# --- the performer's signature ---------------------------------------------------------


def test_r_tst_1_sign_lists_everything_missing(record, performer):
    with pytest.raises(ValidationError) as exc:
        services.sign_record(actor=performer, record=record, password=PASSWORD)
    messages = exc.value.messages
    assert "100 mmHg: 0 of 3 readings entered." in messages
    assert "200 mmHg: 0 of 3 readings entered." in messages
    assert "Inspection item “外观” is not answered." in messages
    assert "Inspection item “气密性” is not answered." in messages
    assert "No conclusion." in messages
    assert len(messages) == 6
    record.refresh_from_db()
    assert record.status == RecordStatus.DRAFT and record.first_signed_at is None and record.keep_until is None


def test_sign_refuses_a_wrong_password(record, fill, performer):
    fill(record)
    with pytest.raises(ValidationError) as exc:
        services.sign_record(actor=performer, record=record, password="not-my-password")
    assert "password" in exc.value.message_dict
    record.refresh_from_db()
    record.task.refresh_from_db()
    assert record.status == RecordStatus.DRAFT and record.first_signed_at is None
    assert record.task.status == TaskStatus.IN_PROGRESS


def test_only_the_performer_signs(record, fill, checker):
    fill(record)
    with pytest.raises(ValidationError, match="Only the performer"):
        services.sign_record(actor=checker, record=record, password=PASSWORD)


def test_r_rec_5_pass_contradicting_a_non_conforming_point_is_refused(record, fill, performer):
    fill(record, values={100: "104"})  # error 4 mmHg > MPE 3 mmHg
    evaluation = evaluate(record)
    assert [r.result.conforms for r in evaluation.rows[AS_FOUND]] == [False, True, True]
    assert evaluation.conforms is False
    with pytest.raises(ValidationError, match="conclusion says pass"):
        services.sign_record(actor=performer, record=record, password=PASSWORD)
    services.save_conclusion(actor=performer, record=record, conclusion="fail")
    services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.status == RecordStatus.SIGNED


def test_r_rec_5_fail_contradicting_conforming_points_is_refused(record, fill, performer):
    fill(record, values={100: "103"}, conclusion="fail")  # exactly at the MPE: conforms
    with pytest.raises(ValidationError, match="conclusion says fail"):
        services.sign_record(actor=performer, record=record, password=PASSWORD)


def test_r_rec_5_a_failed_inspection_item_makes_the_record_non_conforming(record, fill, performer):
    fill(record)
    services.save_inspections(actor=performer, record=record, results={2: (False, "漏气")})
    assert evaluate(record).conforms is False
    with pytest.raises(ValidationError, match="conclusion says pass"):
        services.sign_record(actor=performer, record=record, password=PASSWORD)


def test_r_rec_3_signature_locks_the_record(signed_record, performer):
    assert signed_record.status == RecordStatus.SIGNED and signed_record.is_locked
    assert signed_record.signed_at == signed_record.first_signed_at
    signed_record.task.refresh_from_db()
    assert signed_record.task.status == TaskStatus.AWAITING_CHECK
    key = services.slot_key(_points(signed_record)[0].pk, AS_FOUND, 1)
    with pytest.raises(ValidationError, match="correction entry"):
        services.save_readings(actor=performer, record=signed_record, entries={key: "102"})
    with pytest.raises(ValidationError, match="correction entry"):
        services.save_conclusion(actor=performer, record=signed_record, conclusion="fail")
    with pytest.raises(ValidationError, match="already signed"):
        services.sign_record(actor=performer, record=signed_record, password=PASSWORD)
    assert _reading(signed_record).value == D("101")


def test_r_rec_4_keep_until_is_two_verification_periods_after_the_first_signature(signed_record):
    """bp: verification period 12 months → kept 24 months."""
    signed_on = timezone.localdate(signed_record.first_signed_at)
    assert signed_record.sample.item.category.verification_period_months == 12
    assert signed_record.keep_until == signed_on + relativedelta(months=24)


def test_r_rec_4_keep_until_follows_the_category_period(record, fill, performer, categories):
    type(categories["bp"]).objects.filter(pk=categories["bp"].pk).update(verification_period_months=6)
    fill(record)
    services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.keep_until == timezone.localdate(record.first_signed_at) + relativedelta(months=12)


def test_r_rec_4_calibration_category_without_period_uses_the_settings_default(make_cal_record, fill, performer, settings):
    settings.RECORDS_DEFAULT_INTERVAL_MONTHS = 18
    record = make_cal_record()
    assert record.sample.item.category.verification_period_months is None
    fill(record, values={25: "25.5", 100: "101"}, conclusion="calibrated")
    p100 = _points(record)[1]
    services.save_uncertainties(actor=performer, record=record, entries={services.uncertainty_key(p100.pk, AS_FOUND): ("1.2", "")})
    services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.keep_until == timezone.localdate(record.first_signed_at) + relativedelta(months=36)


# --- the checker's signature (R-TST-1) ------------------------------------------------


def test_r_tst_1_performer_cannot_check_own_record_even_if_named_checker(record, fill, checker):
    """Even when the person who made the record is the task's checker (here: the record's
    performer was changed to the task's checker behind the services' back), the check
    is refused."""
    Record.objects.filter(pk=record.pk).update(performer=checker)
    record.refresh_from_db()
    fill(record)
    services.sign_record(actor=checker, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.performer == checker and record.task.checker == checker
    with pytest.raises(ValidationError, match="different person must check"):
        services.check_record(actor=checker, record=record, password=PASSWORD)
    with pytest.raises(ValidationError, match="different person must check"):
        services.return_record(actor=checker, record=record, comments="自己退回")
    record.refresh_from_db()
    assert record.status == RecordStatus.SIGNED and record.checker is None
    assert not RecordCheck.objects.exists()


def test_r_tst_1_a_checker_not_assigned_is_refused(signed_record, make_technician):
    other = make_technician("other_chk")
    with pytest.raises(ValidationError, match="assigned to 核验员乙"):
        services.check_record(actor=other, record=signed_record, password=PASSWORD)
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.SIGNED


def test_r_tst_4_checker_without_check_authorisation_is_refused(signed_record, checker):
    checker.authorisations.filter(activity=Activity.CHECK_RECORDS).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.check_record(actor=checker, record=signed_record, password=PASSWORD)


def test_check_refuses_a_wrong_password(signed_record, checker):
    with pytest.raises(ValidationError) as exc:
        services.check_record(actor=checker, record=signed_record, password=PASSWORD + "x")
    assert "password" in exc.value.message_dict
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.SIGNED and not RecordCheck.objects.exists()


def test_a_draft_record_is_not_checked(record, checker):
    with pytest.raises(ValidationError, match="not waiting for a check"):
        services.check_record(actor=checker, record=record, password=PASSWORD)


def test_r_tst_1_check_marks_the_sample_tested_and_the_task_checked(checked_record, checker):
    checked_record.sample.refresh_from_db()
    checked_record.task.refresh_from_db()
    assert checked_record.status == RecordStatus.CHECKED
    assert checked_record.checker == checker and checked_record.checked_at is not None
    assert checked_record.task.status == TaskStatus.CHECKED
    assert checked_record.sample.status == SampleStatus.TESTED
    check = RecordCheck.objects.get(record=checked_record)
    assert check.checker == checker and check.outcome == CheckOutcome.CHECKED
    with pytest.raises(ValidationError, match="not waiting for a check"):
        services.check_record(actor=checker, record=checked_record, password=PASSWORD)


def test_r_tst_1_return_needs_comments_and_the_performer_signs_again(signed_record, performer, checker):
    first_signed_at, keep_until = signed_record.first_signed_at, signed_record.keep_until
    with pytest.raises(ValidationError) as exc:
        services.return_record(actor=checker, record=signed_record, comments="  ")
    assert "comments" in exc.value.message_dict
    services.return_record(actor=checker, record=signed_record, comments="第1点读数请复核")
    signed_record.refresh_from_db()
    signed_record.task.refresh_from_db()
    assert signed_record.status == RecordStatus.RETURNED
    assert signed_record.task.status == TaskStatus.RETURNED
    assert RecordCheck.objects.get(record=signed_record).comments == "第1点读数请复核"

    # the returned record is still locked: a value changes only by correction
    reading = _reading(signed_record)
    key = services.slot_key(reading.point_id, AS_FOUND, 1)
    with pytest.raises(ValidationError, match="correction entry"):
        services.save_readings(actor=performer, record=signed_record, entries={key: "102"})
    services.correct_value(actor=performer, record=signed_record, field=reading_field(reading), new_value="102", reason="抄录错误")
    services.sign_record(actor=performer, record=signed_record, password=PASSWORD)
    signed_record.refresh_from_db()
    signed_record.task.refresh_from_db()
    assert signed_record.status == RecordStatus.SIGNED
    assert signed_record.task.status == TaskStatus.AWAITING_CHECK
    assert signed_record.first_signed_at == first_signed_at and signed_record.keep_until == keep_until
    assert signed_record.signed_at >= first_signed_at
    services.check_record(actor=checker, record=signed_record, password=PASSWORD)
    assert [c.outcome for c in RecordCheck.objects.filter(record=signed_record).order_by("id")] == [
        CheckOutcome.RETURNED, CheckOutcome.CHECKED,
    ]


# --- corrections (R-REC-3) -------------------------------------------------------------


def test_r_rec_3_no_correction_on_a_draft(record, fill, performer):
    fill(record)
    reading = _reading(record)
    with pytest.raises(ValidationError, match="Before the performer signs"):
        services.correct_value(actor=performer, record=record, field=reading_field(reading), new_value="102", reason="x")
    assert not Correction.objects.exists()


def test_r_rec_3_correction_needs_a_reason(signed_record, performer):
    field = reading_field(_reading(signed_record))
    with pytest.raises(ValidationError) as exc:
        services.correct_value(actor=performer, record=signed_record, field=field, new_value="102", reason="  ")
    assert "reason" in exc.value.message_dict
    assert not Correction.objects.exists()


def test_r_rec_3_correction_keeps_old_and_new_and_chains(signed_record, performer):
    reading = _reading(signed_record)
    field = reading_field(reading)
    first = services.correct_value(actor=performer, record=signed_record, field=field, new_value="110", reason="抄录错误")
    assert (first.old_value, first.new_value, first.reason, first.corrected_by) == ("101", "110", "抄录错误", performer)
    assert first.label == "100 mmHg, reading 1"
    second = services.correct_value(actor=performer, record=signed_record, field=field, new_value="104", reason="再次核对原始数据")
    assert (second.old_value, second.new_value) == ("110", "104")
    reading.refresh_from_db()
    assert reading.value == D("101") and reading.entered_text == "101"  # the original row never changes
    value = evaluate(signed_record).rows[AS_FOUND][0].slots[0].value
    assert value.original == "101" and value.current == "104"
    assert [c.new_value for c in value.corrections] == ["110", "104"]
    event = _events(signed_record, "record.corrected").first()
    assert event.changes == {field: ["110", "104"]} and event.reason == "再次核对原始数据"


def test_r_rec_3_evaluation_uses_the_corrected_value(signed_record, performer):
    field = reading_field(_reading(signed_record))
    row = evaluate(signed_record).rows[AS_FOUND][0]
    assert (row.result.mean, row.result.error, row.result.conforms) == (D("101"), D("1"), True)
    services.correct_value(actor=performer, record=signed_record, field=field, new_value="110", reason="抄录错误")
    evaluation = evaluate(signed_record)
    row = evaluation.rows[AS_FOUND][0]
    # (110 + 101 + 101) / 3 = 104 → error 4 > 3
    assert (row.result.mean, row.result.error, row.result.conforms) == (D("104"), D("4"), False)
    assert evaluation.conforms is False
    assert any("conclusion says pass" in m for m in evaluation.missing())
    services.correct_value(actor=performer, record=signed_record, field=field, new_value="104", reason="再核")
    row = evaluate(signed_record).rows[AS_FOUND][0]
    # (104 + 101 + 101) / 3 = 102 → error 2
    assert (row.result.mean, row.result.error, row.result.conforms) == (D("102"), D("2"), True)


def test_r_rec_3_checker_refuses_a_record_made_inconsistent_by_a_correction(signed_record, performer, checker):
    services.correct_value(
        actor=performer, record=signed_record, field=reading_field(_reading(signed_record)), new_value="110", reason="抄录错误"
    )
    with pytest.raises(ValidationError, match="conclusion says pass"):
        services.check_record(actor=checker, record=signed_record, password=PASSWORD)
    services.correct_value(actor=performer, record=signed_record, field="conclusion", new_value="fail", reason="结论随数据修正")
    services.check_record(actor=checker, record=signed_record, password=PASSWORD)
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.CHECKED
    assert signed_record.conclusion == "pass"  # the original stays; the correction holds "fail"
    assert evaluate(signed_record).conclusion.current == "fail"


def test_r_rec_3_correction_of_a_checked_record_sends_it_back_to_the_checker(checked_record, performer, checker):
    services.correct_value(actor=performer, record=checked_record, field=reading_field(_reading(checked_record)), new_value="102", reason="笔误")
    checked_record.refresh_from_db()
    checked_record.task.refresh_from_db()
    assert checked_record.status == RecordStatus.SIGNED
    assert checked_record.checker is None and checked_record.checked_at is None
    assert checked_record.task.status == TaskStatus.AWAITING_CHECK
    services.check_record(actor=checker, record=checked_record, password=PASSWORD)
    checked_record.refresh_from_db()
    assert checked_record.status == RecordStatus.CHECKED
    assert RecordCheck.objects.filter(record=checked_record).count() == 2


@pytest.mark.parametrize(
    ("field", "new_value", "message"),
    [
        ("reading", "101", "same as the current one"),
        ("reading", "abc", "not a number"),
        ("reading", "301", "outside the measuring range"),
        ("temperature", "abc", "not a number"),
        ("conclusion", "calibrated", "Choose a conclusion"),
        ("inspection", "maybe", "meets the requirements"),
        ("nonsense:1", "1", "has no value"),
    ],
)
def test_r_rec_3_corrections_are_validated(signed_record, performer, field, new_value, message):
    if field == "reading":
        field = reading_field(_reading(signed_record))
    elif field == "inspection":
        field = f"inspection:{signed_record.inspections.first().pk}"
    with pytest.raises(ValidationError, match=message):
        services.correct_value(actor=performer, record=signed_record, field=field, new_value=new_value, reason="x")
    assert not Correction.objects.exists()


def test_r_rec_3_environment_and_inspection_corrections(signed_record, performer):
    services.correct_value(actor=performer, record=signed_record, field="temperature", new_value="22.5", reason="温度计读错")
    inspection = signed_record.inspections.get(position=1)
    services.correct_value(actor=performer, record=signed_record, field=f"inspection:{inspection.pk}", new_value="no", reason="漏记划痕")
    evaluation = evaluate(signed_record)
    assert evaluation.environment["temperature"].original == "21.5"
    assert evaluation.environment["temperature"].current == "22.5"
    assert evaluation.conforms is False  # the corrected inspection item is not met
    signed_record.refresh_from_db()
    assert signed_record.temperature == D("21.5")


def test_r_rec_3_only_the_performer_or_the_technical_lead_corrects(signed_record, checker, method_lead):
    field = reading_field(_reading(signed_record))
    with pytest.raises(PermissionDenied):
        services.correct_value(actor=checker, record=signed_record, field=field, new_value="102", reason="x")
    assert not services.may_correct(checker, signed_record)
    assert services.may_correct(method_lead, signed_record)
    correction = services.correct_value(actor=method_lead, record=signed_record, field=field, new_value="102", reason="技术负责人更正")
    assert correction.corrected_by == method_lead


def test_r_rec_3_corrections_are_append_only(signed_record, performer):
    correction = services.correct_value(
        actor=performer, record=signed_record, field=reading_field(_reading(signed_record)), new_value="102", reason="笔误"
    )
    correction.new_value = "999"
    with pytest.raises(RuntimeError):
        correction.save()
    with pytest.raises(RuntimeError):
        correction.delete()
    correction.refresh_from_db()
    assert correction.new_value == "102"
    assert Correction.objects.count() == 1


def test_r_rec_3_rows_of_a_signed_record_do_not_change(signed_record):
    reading = _reading(signed_record)
    reading.value = D("150")
    with pytest.raises(RuntimeError):
        reading.save()
    with pytest.raises(RuntimeError):
        reading.delete()
    inspection = signed_record.inspections.first()
    inspection.ok = False
    with pytest.raises(RuntimeError):
        inspection.save()
    with pytest.raises(RuntimeError):
        signed_record.equipment_used.get().delete()
    reading.refresh_from_db()
    assert reading.value == D("101")
    assert Reading.objects.filter(record=signed_record).count() == 9
    assert InspectionResult.objects.filter(record=signed_record, ok=True).count() == 2
    assert RecordEquipment.objects.filter(record=signed_record).count() == 1


def test_rows_of_a_draft_record_change_freely(record, fill):
    fill(record)
    reading = _reading(record)
    reading.value = D("102")
    reading.save()
    reading.delete()
    assert record.readings.count() == 8


# --- before and after adjustment (R-CRT-2) ---------------------------------------------


def _adjusted(record, performer, before: str, after: str, conclusion="pass"):
    services.save_conclusion(actor=performer, record=record, conclusion=conclusion, adjusted=True, adjustment_notes="零点调整")
    record.refresh_from_db()
    # ``before`` / ``after``: offsets from each nominal value
    entries = {}
    for point in _points(record):
        for repeat in range(1, record.template.repeats + 1):
            entries[services.slot_key(point.pk, AS_FOUND, repeat)] = str(int(point.nominal) + int(before))
            entries[services.slot_key(point.pk, AS_LEFT, repeat)] = str(int(point.nominal) + int(after))
    services.save_readings(actor=performer, record=record, entries=entries)
    _all_met(record, performer)
    return record


def test_r_crt_2_adjusted_instrument_keeps_before_and_after_and_is_judged_after(record, performer):
    _adjusted(record, performer, before="5", after="1")
    assert record.phases == [AS_FOUND, AS_LEFT]
    evaluation = evaluate(record)
    assert evaluation.judged_phase == AS_LEFT
    assert [(r.result.error, r.result.conforms) for r in evaluation.rows[AS_FOUND]] == [(D("5"), False)] * 3
    assert [(r.result.error, r.result.conforms) for r in evaluation.rows[AS_LEFT]] == [(D("1"), True)] * 3
    assert evaluation.conforms is True
    services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.status == RecordStatus.SIGNED
    assert record.readings.filter(phase=AS_FOUND).count() == 9
    assert record.readings.filter(phase=AS_LEFT).count() == 9


def test_r_crt_2_conforming_before_but_not_after_adjustment_does_not_pass(record, performer):
    _adjusted(record, performer, before="1", after="4")
    evaluation = evaluate(record)
    assert all(r.result.conforms for r in evaluation.rows[AS_FOUND])
    assert evaluation.conforms is False
    with pytest.raises(ValidationError, match="conclusion says pass"):
        services.sign_record(actor=performer, record=record, password=PASSWORD)


def test_r_crt_2_after_adjustment_readings_are_required_and_described(record, fill, performer):
    fill(record)  # before-adjustment readings only
    services.save_conclusion(actor=performer, record=record, conclusion="pass", adjusted=True, adjustment_notes="")
    record.refresh_from_db()
    missing = evaluate(record).missing()
    assert "100 mmHg (After adjustment): 0 of 3 readings entered." in missing
    assert "Describe the adjustment or repair." in missing
    with pytest.raises(ValidationError, match="Describe the adjustment"):
        services.sign_record(actor=performer, record=record, password=PASSWORD)


def test_r_crt_2_not_adjusted_while_after_readings_exist_is_refused(record, performer):
    _adjusted(record, performer, before="5", after="1")
    with pytest.raises(ValidationError) as exc:
        services.save_conclusion(actor=performer, record=record, conclusion="pass", adjusted=False)
    assert "adjusted" in exc.value.message_dict
    record.refresh_from_db()
    assert record.adjusted is True


# --- calibration: uncertainty per point ---------------------------------------------------


def test_calibration_record_takes_u_and_k_from_the_template(cal_template, cal_method, method_lead, make_cal_record):
    draft = method_services.new_version(actor=method_lead, template=cal_template)
    points = [{k: getattr(p, k) for k in POINT_FIELDS} for p in draft.points.all()]
    data = {k: getattr(draft, k) for k in method_services.TEMPLATE_FIELDS}
    method_services.save_template(actor=method_lead, method=cal_method, template=draft, data={**data, "default_coverage_factor": D("3")}, points=points)
    method_services.approve_template(actor=method_lead, template=draft)
    record = make_cal_record()
    assert record.template == draft
    p25, p100 = _points(record)
    u = record.uncertainties.get()
    assert (u.point, u.phase, u.expanded_uncertainty, u.coverage_factor, u.from_template) == (p25, AS_FOUND, D("0.30"), D("3"), True)
    assert not record.uncertainties.filter(point=p100).exists()  # no default budget for 100 mL/h


def test_calibration_missing_u_blocks_signing(make_cal_record, cal_template, fill, performer):
    record = make_cal_record()
    fill(record, values={25: "25.5", 100: "101"}, conclusion="calibrated")
    p25, p100 = _points(record)
    with pytest.raises(ValidationError) as exc:
        services.sign_record(actor=performer, record=record, password=PASSWORD)
    assert exc.value.messages == ["100 mL/h: no expanded uncertainty U."]
    key = services.uncertainty_key(p100.pk, AS_FOUND)
    with pytest.raises(ValidationError) as exc:
        services.save_uncertainties(actor=performer, record=record, entries={key: ("-1", "")})
    assert key in exc.value.message_dict
    services.save_uncertainties(actor=performer, record=record, entries={key: ("1.2", "")})
    u = record.uncertainties.get(point=p100)
    assert (u.expanded_uncertainty, u.coverage_factor, u.from_template) == (D("1.2"), D("2"), False)
    services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.status == RecordStatus.SIGNED
    row = evaluate(record).rows[AS_FOUND][1]
    assert (row.U.current, row.k.current) == ("1.2", "2")
    # U is corrected like any other value
    services.correct_value(actor=performer, record=record, field=f"uncertainty:{u.pk}:U", new_value="1.5", reason="不确定度重新评定")
    assert evaluate(record).rows[AS_FOUND][1].U.current == "1.5"


@pytest.mark.parametrize(("u", "k", "message"), [("1.2345678", "", "U: "), ("1.2", "100", "too large"), ("1.2", "2.345", "too many decimal places (at most 2)")])
def test_calibration_u_and_k_the_record_cannot_hold_are_refused(make_cal_record, performer, u, k, message):
    record = make_cal_record()
    key = services.uncertainty_key(_points(record)[1].pk, AS_FOUND)
    with pytest.raises(ValidationError) as exc:
        services.save_uncertainties(actor=performer, record=record, entries={key: (u, k)})
    assert message in exc.value.message_dict[key][0]
    assert record.uncertainties.count() == 1  # only the template's default for 25 mL/h


def test_calibration_conclusion_is_calibrated_not_pass(make_cal_record, performer):
    record = make_cal_record()
    with pytest.raises(ValidationError) as exc:
        services.save_conclusion(actor=performer, record=record, conclusion="pass")
    assert "conclusion" in exc.value.message_dict


def test_uncertainty_is_for_calibration_only(record, performer):
    point = _points(record)[0]
    with pytest.raises(ValidationError, match="for calibration"):
        services.save_uncertainties(actor=performer, record=record, entries={services.uncertainty_key(point.pk, AS_FOUND): ("1", "2")})
    assert not PointUncertainty.objects.exists()


# --- retention (R-REC-4) -----------------------------------------------------------------


def test_r_rec_4_disposal_before_keep_until_is_refused(signed_record, head):
    with pytest.raises(ValidationError) as exc:
        services.dispose_record(actor=head, record=signed_record, reason="到期销毁")
    assert signed_record.keep_until.isoformat() in exc.value.messages[0]
    with pytest.raises(RuntimeError):
        signed_record.delete()
    assert Record.objects.filter(pk=signed_record.pk).exists()
    assert signed_record.readings.count() == 9


def test_r_rec_4_a_draft_record_is_never_deleted(record, head):
    with pytest.raises(RuntimeError):
        record.delete()
    with pytest.raises(ValidationError, match="two periods after signing"):
        services.dispose_record(actor=head, record=record, reason="x")
    assert Record.objects.filter(pk=record.pk).exists()


def test_r_rec_4_disposal_needs_the_lab_head_and_a_reason(signed_record, method_lead, head):
    with pytest.raises(PermissionDenied):
        services.dispose_record(actor=method_lead, record=signed_record, reason="x")
    with pytest.raises(ValidationError) as exc:
        services.dispose_record(actor=head, record=signed_record, reason=" ")
    assert "reason" in exc.value.message_dict


def test_r_rec_4_disposal_after_keep_until(record, fill, performer, head):
    """Signed 25 months ago (bp: kept 24 months) → may be disposed of today."""
    fill(record)
    signed_at = timezone.now() - relativedelta(months=25)
    with mock.patch.object(timezone, "now", return_value=signed_at):
        services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.keep_until < timezone.localdate()
    services.correct_value(actor=performer, record=record, field=reading_field(_reading(record)), new_value="102", reason="笔误")
    services.dispose_record(actor=head, record=record, reason="保存期满，碎纸销毁")
    assert not Record.objects.filter(pk=record.pk).exists()
    assert not Reading.objects.exists() and not Correction.objects.exists()
    event = AuditEvent.objects.get(action="record.disposed")
    assert event.reason == "保存期满，碎纸销毁" and event.changes == {"number": [record.number, None]}



def test_r_tst_2_a_true_temperature_outside_the_limits_is_recorded_and_blocks_the_check(signed_record, performer, checker):
    """A correction records the truth even when it is out of limits; the record then
    cannot be checked ("stop work", R-TST-2, R-REC-3)."""
    services.correct_value(actor=performer, record=signed_record, field="temperature", new_value="30", reason="温度计读错")
    assert any("stop work" in m for m in evaluate(signed_record).missing())
    with pytest.raises(ValidationError, match="stop work"):
        services.check_record(actor=checker, record=signed_record, password=PASSWORD)


def test_r_tst_1_whoever_entered_data_cannot_check_it(record, fill, performer, checker, assigner):
    """A checker who took readings (e.g. before a reassignment) is not independent (R-TST-1)."""
    fill(record)
    record.readings.filter(point=_points(record)[0], repeat=1).update(entered_by=checker)
    services.sign_record(actor=performer, record=record, password=PASSWORD)
    with pytest.raises(ValidationError, match="did not take part"):
        services.check_record(actor=checker, record=record, password=PASSWORD)
    assert record.checks.count() == 0


def test_r_rec_3_nothing_is_added_to_a_signed_record_and_check_rounds_stay(checked_record):
    """Only corrections and check rounds are appended after the signature."""
    reading = checked_record.readings.first()
    extra = Reading(
        record=checked_record, point=reading.point, phase=Phase.AS_LEFT, repeat=1, value=D("1"),
        entered_text="1", entered_at=timezone.now(), entered_by=reading.entered_by,
    )
    with pytest.raises(RuntimeError):
        extra.save()
    with pytest.raises(RuntimeError):
        checked_record.checks.first().delete()
    assert checked_record.readings.count() == 9 and checked_record.checks.count() == 1


def test_r_tst_1_a_check_posted_from_an_older_page_is_refused(signed_record, performer, checker):
    """The checker signs what they read: a correction landing in between refuses the
    check until the page is read again."""
    seen = services.record_version(signed_record)
    reading = signed_record.readings.first()
    services.correct_value(actor=performer, record=signed_record, field=reading_field(reading), new_value="100", reason="笔误")
    with pytest.raises(ValidationError, match="changed after you opened it"):
        services.check_record(actor=checker, record=signed_record, password=PASSWORD, seen=seen)
    with pytest.raises(ValidationError, match="changed after you opened it"):
        services.return_record(actor=checker, record=signed_record, comments="请复核", seen=seen)
    services.check_record(actor=checker, record=signed_record, password=PASSWORD, seen=services.record_version(signed_record))
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.CHECKED


def test_r_rec_2_a_stale_page_neither_clears_nor_overwrites_newer_readings(record, performer):
    """Tablet and PC on one record: the older page's unchanged cells are left alone, and
    a cell changed on it whose stored value moved on is refused, not overwritten."""
    p100, p150, _p200 = _points(record)
    a, b = services.slot_key(p100.pk, AS_FOUND, 1), services.slot_key(p150.pk, AS_FOUND, 1)
    stale = {a: "", b: ""}  # what the old page showed
    services.save_readings(actor=performer, record=record, entries={a: "101", b: "151"}, originals=dict(stale))
    # the old page posts its (empty) cells again, untouched: nothing is cleared
    services.save_readings(actor=performer, record=record, entries={a: "", b: ""}, originals=dict(stale))
    assert record.readings.count() == 2
    # the old page changes a cell that was saved meanwhile: refused with the stored value
    with pytest.raises(ValidationError) as exc:
        services.save_readings(actor=performer, record=record, entries={a: "99", b: ""}, originals=dict(stale))
    assert "“101”" in exc.value.message_dict[a][0]
    assert _reading(record).value == D("101")


def test_an_empty_password_asks_for_the_password(record, fill, performer):
    fill(record)
    with pytest.raises(ValidationError) as exc:
        services.sign_record(actor=performer, record=record, password="")
    assert exc.value.message_dict["password"] == ["Enter your password to sign."]
    record.refresh_from_db()
    assert record.status == RecordStatus.DRAFT
