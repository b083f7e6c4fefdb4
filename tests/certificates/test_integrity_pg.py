"""On PostgreSQL the database itself keeps signed records as signed (R-REC-3, R-REC-4):
even raw SQL from the application cannot rewrite a correction, a reading of a signed
record or its data columns, nor delete a record before ``keep_until``
(certificates/migrations/0002_record_integrity_triggers.py).

Skipped on SQLite; with LABQMS_REQUIRE_POSTGRES=1 a non-PostgreSQL run is an error
(tests/conftest.py)."""

from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from certificates.evaluation import reading_field
from certificates.models import (
    Correction,
    InspectionResult,
    Reading,
    Record,
    RecordCheck,
    RecordEquipment,
)
from certificates.services import records as services
from tests.certificates.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _refused(sql, params, match="R-REC-3"):
    """Each attempt in its own transaction: the error aborts it."""
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _run(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _correct(record, performer, new_value="102"):
    reading = record.readings.get(point__nominal=100, repeat=1, phase="as_found")
    return services.correct_value(actor=performer, record=record, field=reading_field(reading), new_value=new_value, reason="笔误")


@pytest.mark.postgres
def test_r_rec_3_database_refuses_update_and_delete_of_a_correction(signed_record, performer):
    correction = _correct(signed_record, performer)
    _refused("UPDATE certificates_correction SET new_value = '999' WHERE id = %s", [correction.pk])
    _refused("UPDATE certificates_correction SET reason = 'forged' WHERE id = %s", [correction.pk])
    _refused("DELETE FROM certificates_correction WHERE id = %s", [correction.pk])
    correction = Correction.objects.get(pk=correction.pk)
    assert (correction.old_value, correction.new_value, correction.reason) == ("101", "102", "笔误")


@pytest.mark.postgres
def test_r_tst_1_database_refuses_update_and_delete_of_a_check_round(checked_record):
    check = RecordCheck.objects.get(record=checked_record)
    _refused("UPDATE certificates_recordcheck SET comments = 'forged' WHERE id = %s", [check.pk])
    _refused("DELETE FROM certificates_recordcheck WHERE id = %s", [check.pk])
    assert RecordCheck.objects.get(pk=check.pk).comments == ""


@pytest.mark.postgres
def test_r_rec_3_database_refuses_changing_a_reading_of_a_signed_record(signed_record):
    reading = signed_record.readings.get(point__nominal=100, repeat=1, phase="as_found")
    _refused("UPDATE certificates_reading SET value = 150, entered_text = '150' WHERE id = %s", [reading.pk])
    _refused("DELETE FROM certificates_reading WHERE id = %s", [reading.pk])
    _refused("DELETE FROM certificates_reading WHERE record_id = %s", [signed_record.pk])
    reading = Reading.objects.get(pk=reading.pk)
    assert (reading.value, reading.entered_text) == (101, "101")
    assert signed_record.readings.count() == 9


@pytest.mark.postgres
def test_r_rec_3_database_refuses_changing_other_rows_of_a_signed_record(signed_record):
    inspection = signed_record.inspections.get(position=1)
    entry = signed_record.equipment_used.get()
    _refused("UPDATE certificates_inspectionresult SET ok = false WHERE id = %s", [inspection.pk])
    _refused("DELETE FROM certificates_inspectionresult WHERE id = %s", [inspection.pk])
    _refused("DELETE FROM certificates_recordequipment WHERE id = %s", [entry.pk])
    assert InspectionResult.objects.get(pk=inspection.pk).ok is True
    assert RecordEquipment.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
def test_r_rec_3_database_allows_changing_readings_of_a_draft_record(record, fill):
    fill(record)
    reading = record.readings.get(point__nominal=100, repeat=1, phase="as_found")
    assert _run("UPDATE certificates_reading SET value = 102, entered_text = '102' WHERE id = %s", [reading.pk]) == 1
    assert Reading.objects.get(pk=reading.pk).entered_text == "102"
    assert _run("DELETE FROM certificates_reading WHERE id = %s", [reading.pk]) == 1
    assert record.readings.count() == 8


@pytest.mark.postgres
def test_r_rec_3_database_refuses_changing_the_data_of_a_signed_record(signed_record, checker):
    pk = signed_record.pk
    _refused("UPDATE certificates_record SET performer_id = %s WHERE id = %s", [checker.pk, pk])
    for sql in (
        "UPDATE certificates_record SET conclusion = 'fail' WHERE id = %s",
        "UPDATE certificates_record SET temperature = 30 WHERE id = %s",
        "UPDATE certificates_record SET humidity = NULL WHERE id = %s",
        "UPDATE certificates_record SET place = 'elsewhere' WHERE id = %s",
        "UPDATE certificates_record SET keep_until = '2000-01-01' WHERE id = %s",
        "UPDATE certificates_record SET first_signed_at = NULL WHERE id = %s",
    ):
        _refused(sql, [pk])
    record = Record.objects.get(pk=pk)
    assert record.conclusion == "pass" and str(record.temperature) == "21.5"
    assert record.keep_until == signed_record.keep_until and record.first_signed_at == signed_record.first_signed_at


@pytest.mark.postgres
def test_r_rec_3_database_lets_the_status_of_a_signed_record_change(signed_record, checker):
    """The workflow columns (status, check) still move after the signature, but
    "checked" only with the checker's check round (R-TST-1)."""
    assert _run("UPDATE certificates_record SET status = 'returned' WHERE id = %s", [signed_record.pk]) == 1
    assert _run("UPDATE certificates_record SET status = 'signed' WHERE id = %s", [signed_record.pk]) == 1
    now = timezone.now()
    forged = "UPDATE certificates_record SET status = 'checked', checker_id = %s, checked_at = %s WHERE id = %s"
    _refused(forged, [checker.pk, now, signed_record.pk], match="R-TST-1")
    assert _run(
        "INSERT INTO certificates_recordcheck (record_id, checker_id, outcome, comments, at) VALUES (%s, %s, 'checked', '', %s)",
        [signed_record.pk, checker.pk, now],
    ) == 1
    assert _run(forged, [checker.pk, now, signed_record.pk]) == 1
    record = Record.objects.get(pk=signed_record.pk)
    assert record.status == "checked" and record.checker == checker


@pytest.mark.postgres
def test_r_tst_1_database_refuses_a_check_round_by_the_performer(signed_record, performer):
    now = timezone.now()
    insert = "INSERT INTO certificates_recordcheck (record_id, checker_id, outcome, comments, at) VALUES (%s, %s, 'checked', '', %s)"
    _refused(insert, [signed_record.pk, performer.pk, now], match="R-TST-1")


@pytest.mark.postgres
def test_r_rec_3_database_refuses_adding_readings_to_a_signed_record(signed_record):
    reading = signed_record.readings.first()
    _refused(
        "INSERT INTO certificates_reading (record_id, point_id, phase, repeat, value, entered_text, entered_at, entered_by_id) "
        "VALUES (%s, %s, 'as_after', 99, 1, '1', now(), %s)",
        [signed_record.pk, reading.point_id, reading.entered_by_id],
        match="R-REC-3",
    )


@pytest.mark.postgres
def test_database_refuses_changing_a_template_version_in_use(template):
    _refused("UPDATE certificates_recordtemplate SET resolution = 0.1 WHERE id = %s", [template.pk], match="in use")
    _refused("UPDATE certificates_templatepoint SET tolerance = 10 WHERE template_id = %s", [template.pk], match="in use")
    assert _run("UPDATE certificates_recordtemplate SET status = 'retired' WHERE id = %s", [template.pk]) == 1


@pytest.mark.postgres
def test_r_rec_4_database_refuses_deleting_a_record_before_keep_until(signed_record):
    assert signed_record.keep_until > timezone.localdate()
    _refused("DELETE FROM certificates_record WHERE id = %s", [signed_record.pk], match="R-REC-4")
    assert Record.objects.filter(pk=signed_record.pk).exists()


@pytest.mark.postgres
def test_r_rec_4_database_refuses_deleting_a_draft_record(record):
    assert record.keep_until is None
    _refused("DELETE FROM certificates_record WHERE id = %s", [record.pk], match="R-REC-4")
    assert Record.objects.filter(pk=record.pk).exists()


@pytest.mark.postgres
def test_r_rec_4_database_allows_disposal_after_keep_until(record, fill, performer, head):
    """A record signed 25 months ago (bp: kept 24 months) is disposed of through the
    service; the triggers let the rows go once ``keep_until`` has passed."""
    fill(record)
    with mock.patch.object(timezone, "now", return_value=timezone.now() - relativedelta(months=25)):
        services.sign_record(actor=performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.keep_until < timezone.localdate()
    _correct(record, performer)
    # still no rewriting of what is kept, even past keep_until
    _refused("UPDATE certificates_record SET conclusion = 'fail' WHERE id = %s", [record.pk])
    _refused("UPDATE certificates_correction SET new_value = '999' WHERE record_id = %s", [record.pk])
    services.dispose_record(actor=head, record=record, reason="保存期满")
    assert not Record.objects.filter(pk=record.pk).exists()
    assert not Reading.objects.exists() and not Correction.objects.exists()
