"""``manage.py scale_data`` writes synthetic data that keeps every invariant the services
keep (issue 9 item 3): numbers in the lab's formats, gap-free, and the sequences moved
past them; statuses as the transition tables allow; two different people on every record;
certificates issued by an authorised signatory with the stored PDF's real hash; the
intake side knows each issued number; complaint deadlines in working days.  Run twice to
show a second run continues rather than collides.  On PostgreSQL the bulk path (one
transaction, constraints rebuilt, triggers in force) is exercised as well."""

import datetime as dt
import hashlib
import io
import re
from collections import Counter

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audits.models import CorrectiveAction
from certificates.models import NUMBER_KEYS, Certificate, Record, RecordCheck, Task
from complaints.models import Complaint
from equipment.models import Equipment
from intake.models import Order, OrderStatus, Sample, SampleStatus
from labqms import numbering, workdays
from labqms.models import Activity, Authorisation, NumberSequence, User

SMALL = {"certificates": 120, "equipment": 40, "complaints": 60, "actions": 20, "customers": 8, "batch": 50}
FORMATS = {
    "order": r"WT\d{4}-\d{6}", "record": r"JL\d{4}-\d{6}", "complaint": r"TS\d{4}-\d{4}",
    "cert_verification": r"JD\d{4}-\d{6}", "cert_notice": r"TZ\d{4}-\d{6}", "cert_calibration": r"JZ\d{4}-\d{6}",
    "cert_test": r"JC\d{4}-\d{6}", "finding": r"BF\d{4}-\d{3}", "audit": r"NS\d{4}-\d{2}",
}


def scale(**options):
    out = io.StringIO()
    call_command("scale_data", **{**SMALL, **options}, stdout=out)
    return out.getvalue()


def numbers_by_key():
    """Every generated number, by sequence key."""
    found = {"order": list(Order.objects.values_list("number", flat=True)),
             "record": list(Record.objects.values_list("number", flat=True)),
             "complaint": list(Complaint.objects.values_list("number", flat=True))}
    for cert_type, key in NUMBER_KEYS.items():
        found[key] = list(Certificate.objects.filter(type=cert_type, number__isnull=False).values_list("number", flat=True))
    return found


def assert_invariants():
    # Numbers: the lab's formats, unique, and gap-free per year up to the sequence's last value.
    sequences = {(s.key, s.year): s.last_value for s in NumberSequence.objects.all()}
    for key, numbers in numbers_by_key().items():
        assert len(numbers) == len(set(numbers)), key
        per_year = Counter()
        for number in numbers:
            assert re.fullmatch(FORMATS[key], number), number
            year, seq = int(number[2:6]), int(number[7:])
            per_year[year] += 1
            assert seq <= sequences[(key, year)], f"{number} beyond the {key} sequence"
        for year, count in per_year.items():
            assert sequences[(key, year)] == count, f"{key} {year}: numbers not gap-free"

    # Orders follow the transition table: work only after acceptance, completed/released with dates.
    for order in Order.objects.prefetch_related("samples", "items__category"):
        states = {s.status for s in order.samples.all()}
        if order.status in (OrderStatus.DRAFT, OrderStatus.REVIEWED, OrderStatus.DECLINED, OrderStatus.CANCELLED):
            assert not states and order.accepted_on is None
            continue
        limits = [i.category.turnaround_days for i in order.items.all() if i.disposition != "refuse"]
        assert order.due_date == workdays.add_working_days(order.accepted_on, max(limits))
        if order.status == OrderStatus.ACCEPTED:
            assert order.completed_at is None and states - {SampleStatus.READY, SampleStatus.RETURNED}
        elif order.status == OrderStatus.COMPLETED:
            assert order.completed_at and states <= {SampleStatus.READY, SampleStatus.RETURNED}
        else:
            assert order.released_at and order.completed_at
            assert states <= {SampleStatus.RELEASED, SampleStatus.RETURNED}
            assert order.is_settled or states == {SampleStatus.RETURNED}

    # Samples, tasks, records, certificates move together.
    for task in Task.objects.select_related("sample"):
        assert task.performer_id != task.checker_id
    for record in Record.objects.select_related("task", "sample"):
        assert record.task.sample_id == record.sample_id
        assert record.checker_id is None or record.checker_id != record.performer_id
        if record.status == "checked":
            check = RecordCheck.objects.get(record=record)
            assert (check.checker_id, check.outcome) == (record.checker_id, "checked")
            assert record.task.status == "checked"
            assert record.sample.status in ("tested", "ready", "released")
        else:
            assert record.task.status in ("in_progress", "awaiting_check")
            assert record.sample.status == SampleStatus.IN_TEST

    pdf_hashes = {}
    for certificate in Certificate.objects.select_related("record__sample"):
        sample = certificate.record.sample
        assert certificate.record.status == "checked"
        if certificate.status == "draft":
            assert not certificate.number and certificate.approved_by_id is None
            continue
        assert certificate.status == "issued" and certificate.issued_at and certificate.content
        assert certificate.content["number"] == certificate.number
        assert sample.expects_certificate and certificate.number in sample.certificate_numbers
        assert Authorisation.objects.valid_on(certificate.approved_at.date()).filter(
            person_id=certificate.approved_by_id, activity=Activity.SIGN_CERTIFICATES).exists()
        if certificate.pdf.name not in pdf_hashes:
            with default_storage.open(certificate.pdf.name, "rb") as file:
                pdf_hashes[certificate.pdf.name] = hashlib.sha256(file.read()).hexdigest()
        assert certificate.sha256 == pdf_hashes[certificate.pdf.name]
    for sample in Sample.objects.exclude(certificate_numbers=[]):
        issued = Certificate.objects.filter(number__in=sample.certificate_numbers, record__sample=sample, status="issued")
        assert issued.count() == len(sample.certificate_numbers)

    # Complaints: 10 working days from acceptance.
    for complaint in Complaint.objects.exclude(accepted_on=None):
        assert complaint.reply_due == workdays.add_working_days(complaint.accepted_on, 10) == complaint.original_due
        assert complaint.status not in ("registered", "dismissed")


@pytest.mark.django_db
def test_scale_data_keeps_every_invariant_and_a_second_run_continues():
    """R-INT-5, R-TST-1, R-CRT-1, R-CRT-6, R-CMP-3: synthetic data as the services would leave it."""
    output = scale()
    assert "rows/s" in output
    issued = Certificate.objects.filter(status="issued").count()
    assert 0.9 * SMALL["certificates"] <= issued <= SMALL["certificates"]
    assert Equipment.objects.count() == SMALL["equipment"]
    assert Complaint.objects.count() == SMALL["complaints"]
    assert CorrectiveAction.objects.count() == SMALL["actions"]
    assert Order.objects.filter(status=OrderStatus.RELEASED).exists()
    assert Sample.objects.filter(status=SampleStatus.RETURNED).exists()
    assert Certificate.objects.filter(type="verification_notice").exists() or SMALL["certificates"] < 50
    assert_invariants()
    first_orders = Order.objects.count()

    scale(force=True)
    assert Order.objects.count() > first_orders
    assert Equipment.objects.count() == 2 * SMALL["equipment"]
    assert_invariants()


@pytest.mark.django_db
def test_the_next_real_numbers_follow_the_generated_ones():
    """R-CRT-1: after scale_data the numbering service never repeats a generated number."""
    scale()
    existing = numbers_by_key()
    with transaction.atomic():
        for key, numbers in existing.items():
            if not numbers:
                continue
            latest = max(numbers, key=lambda n: (n[2:6], n[7:]))
            taken = numbering.next_number(key, year=int(latest[2:6]))
            assert taken not in numbers
            assert int(taken[7:]) == int(latest[7:]) + 1
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_ids_continue_after_the_generated_rows():
    """A row created normally after the generator gets a fresh id."""
    scale()
    top = Order.objects.aggregate(m=Max("pk"))["m"]
    customer = Order.objects.first().customer
    order = Order.objects.create(number="WT1999-000001", channel="counter", customer=customer,
                                 created_by=User.objects.get(username="scale_counter01"))
    assert order.pk > top


@pytest.mark.django_db
def test_it_refuses_a_database_with_real_users_unless_forced(make_user):
    make_user(username="alice")
    with pytest.raises(CommandError, match="real data"):
        scale()
    assert not Order.objects.exists()
    scale(force=True)
    assert Order.objects.exists()


@pytest.mark.django_db
def test_if_missing_does_nothing_at_the_asked_scale():
    scale()
    orders = Order.objects.count()
    assert "nothing to do" in scale(if_missing=True)
    assert Order.objects.count() == orders
    scale(if_missing=True, certificates=2 * SMALL["certificates"])
    assert Order.objects.count() > orders


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bulk_load_on_postgresql_keeps_constraints_and_triggers():
    """On PostgreSQL the one-transaction load drops and rebuilds constraints and indexes;
    afterwards they are all back and the rows pass them, and the immutability trigger
    still guards the issued certificates (R-CRT-6)."""
    from django.db import DatabaseError, connection

    def constraint_names():
        with connection.cursor() as cursor:
            cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid IN ('intake_sample'::regclass, "
                           "'certificates_certificate'::regclass, 'certificates_record'::regclass)")
            names = {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('intake_sample', "
                           "'certificates_certificate', 'certificates_record')")
            return names | {row[0] for row in cursor.fetchall()}

    before = constraint_names()
    scale(bulk="on")
    assert constraint_names() == before
    assert_invariants()
    issued = Certificate.objects.filter(status="issued").first()
    with pytest.raises(DatabaseError, match="R-CRT-6"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE certificates_certificate SET sha256 = 'x' WHERE id = %s", [issued.pk])


@pytest.mark.django_db
def test_the_daily_jobs_memory_is_as_yesterdays_runs_left_it():
    """R-EQP-9, R-CMP-3: the data looks like a lab whose daily jobs ran every day: run as
    of yesterday, no job finds anything new to notify."""
    from audits.services import job as actions_job
    from complaints.services import job as complaints_job
    from equipment.models import Alert
    from equipment.services import job as equipment_job

    scale(equipment=400, complaints=400, actions=200)
    assert Alert.objects.exists()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert equipment_job.run(yesterday).notifications == 0
    assert complaints_job.run(yesterday).notifications == 0
    assert actions_job.run(yesterday).notifications == 0
