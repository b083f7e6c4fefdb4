"""The daily recalibration job (issue 4 item 10; R-EQP-10): equipment overdue or due
within N days and measurement-standard certificates about to expire; the technical
lead(s) and the custodian are told once per item per state, in-app and by e-mail; a
constant number of queries however many items; also a management command."""

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from equipment.models import Alert, AlertState, Equipment, EquipmentKind, EquipmentStatus
from equipment.services import job, register, status
from equipment.tasks import recalibration_job
from labqms.models import Notification

DAY = dt.timedelta(days=1)


def set_due(equipment, due):
    Equipment.objects.filter(pk=equipment.pk).update(calibration_due=due)
    equipment.refresh_from_db()
    return equipment


@pytest.fixture
def world(make_equipment, lead, techlead, operator, today, settings):
    """Overdue, due soon (in 10 days), fine (in 200 days), retired and overdue, no
    calibration needed; a standard certificate expiring in 10 days and one in 100 days."""
    settings.EQUIPMENT_DUE_SOON_DAYS = 30
    items = {
        "over": set_due(make_equipment("EQ-OVER"), today - 5 * DAY),
        "soon": set_due(make_equipment("EQ-SOON"), today + 10 * DAY),
        "fine": set_due(make_equipment("EQ-FINE"), today + 200 * DAY),
        "retired": set_due(make_equipment("EQ-OLD"), today - 50 * DAY),
        "aux": make_equipment("AUX-1", months_ago=None, interval=None, kind=EquipmentKind.AUXILIARY),
    }
    status.change_status(actor=lead, equipment=items["retired"], status=EquipmentStatus.RETIRED, note="报废")
    register.save_standard(actor=lead, data={"name": "心电装置", "certificate_no": "STD-SOON",
                                             "valid_from": dt.date(2022, 1, 1), "valid_until": today + 10 * DAY},
                           members=[items["over"]])
    register.save_standard(actor=lead, data={"name": "X 射线装置", "certificate_no": "STD-LATER",
                                             "valid_from": dt.date(2022, 1, 1), "valid_until": today + 100 * DAY},
                           members=[])
    Notification.objects.all().delete()
    mail.outbox.clear()
    return items


def run(today, capture, days=None):
    with capture(execute=True):
        return job.run(today, days)


@pytest.mark.django_db
def test_flags_overdue_due_soon_and_expiring_standards(world, today, lead, techlead, operator, django_capture_on_commit_callbacks):
    """R-EQP-10: overdue, due within the window and expiring standard certificates are
    flagged; retired equipment, equipment far from due and equipment that needs no
    calibration are not."""
    result = run(today, django_capture_on_commit_callbacks)
    assert (result.overdue, result.due_soon, result.standards_expiring) == (1, 1, 1)
    alerts = {(a.equipment.lab_id if a.equipment else a.standard.certificate_no, a.state, a.due) for a in Alert.objects.all()}
    assert alerts == {
        ("EQ-OVER", AlertState.OVERDUE, today - 5 * DAY),
        ("EQ-SOON", AlertState.DUE_SOON, today + 10 * DAY),
        ("STD-SOON", AlertState.STANDARD_EXPIRING, today + 10 * DAY),
    }
    # Equipment: both technical leads and the custodian; the standard: the technical leads.
    assert result.notifications == 3 + 3 + 2 == Notification.objects.count()
    by_recipient = {}
    for note in Notification.objects.select_related("recipient"):
        by_recipient.setdefault(note.recipient, []).append(note)
    assert set(by_recipient) == {lead, techlead, operator}
    assert len(by_recipient[lead]) == len(by_recipient[techlead]) == 3
    assert len(by_recipient[operator]) == 2  # custodian of the two items, not of the standard
    over = Notification.objects.filter(recipient=operator, subject__contains="EQ-OVER").get()
    assert over.url == reverse("equipment:equipment_detail", args=[world["over"].pk])
    assert (today - 5 * DAY).isoformat() in over.subject
    assert Notification.objects.filter(subject__contains="STD-SOON", url=reverse("equipment:due_list")).count() == 2
    # ... and by e-mail, after the commit.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [lead.email] * 3 + [techlead.email] * 3 + [operator.email] * 2
    )
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_the_window_is_the_setting_or_the_days_given(world, today, settings, django_capture_on_commit_callbacks):
    settings.EQUIPMENT_DUE_SOON_DAYS = 5
    assert job.run(today).due_soon == 0
    assert job.run(today, days=10).due_soon == 1  # the due date itself is inside the window


@pytest.mark.django_db
def test_a_second_run_creates_no_alerts_and_no_notifications(world, today, django_capture_on_commit_callbacks):
    """Idempotent: once per item per state."""
    run(today, django_capture_on_commit_callbacks)
    alerts, notes, mails = Alert.objects.count(), Notification.objects.count(), len(mail.outbox)
    again = run(today, django_capture_on_commit_callbacks)
    assert (again.overdue, again.due_soon, again.standards_expiring, again.notifications) == (1, 1, 1, 0)
    assert (Alert.objects.count(), Notification.objects.count(), len(mail.outbox)) == (alerts, notes, mails)
    later = run(today + DAY, django_capture_on_commit_callbacks)  # the next day: nothing new either
    assert later.notifications == 0
    assert Alert.objects.count() == alerts


@pytest.mark.django_db
def test_a_new_state_notifies_again_once(world, today, lead, techlead, operator, django_capture_on_commit_callbacks):
    """Due soon today, overdue 11 days later: one new alert and one more round of
    notifications (and the standard certificate, expired by then, once more to the
    leads); the days after, nothing."""
    run(today, django_capture_on_commit_callbacks)
    notes, mails = Notification.objects.count(), len(mail.outbox)
    later = run(today + 11 * DAY, django_capture_on_commit_callbacks)
    assert later.notifications == 3 + 2
    assert Alert.objects.filter(equipment=world["soon"], state=AlertState.OVERDUE).count() == 1
    assert Alert.objects.filter(equipment=world["soon"]).count() == 2
    assert Alert.objects.filter(state=AlertState.STANDARD_EXPIRED, standard__certificate_no="STD-SOON").count() == 1
    new = [n for n in Notification.objects.order_by("-id")[:5] if "EQ-SOON" in n.subject]
    assert {n.recipient for n in new} == {lead, techlead, operator}
    assert len(mail.outbox) == mails + 5
    assert run(today + 12 * DAY, django_capture_on_commit_callbacks).notifications == 0
    assert Notification.objects.count() == notes + 5


@pytest.mark.django_db
def test_a_new_due_date_is_a_new_item(world, today, django_capture_on_commit_callbacks):
    """After recalibration the item is watched again: a new due date alerts anew."""
    run(today, django_capture_on_commit_callbacks)
    set_due(world["over"], today + 20 * DAY)
    again = run(today, django_capture_on_commit_callbacks)
    assert (again.overdue, again.due_soon, again.notifications) == (0, 2, 3)


@pytest.mark.django_db
def test_without_a_custodian_only_the_leads_are_told(world, today, lead, techlead, django_capture_on_commit_callbacks):
    Equipment.objects.update(custodian=None)
    result = run(today, django_capture_on_commit_callbacks)
    assert result.notifications == 2 + 2 + 2
    assert set(Notification.objects.values_list("recipient", flat=True)) == {lead.pk, techlead.pk}


@pytest.mark.django_db
def test_the_command_prints_the_counts(world, today, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("equipment_due", stdout=out)
    assert out.getvalue().strip() == "overdue=1 due_soon=1 standards_expiring=1 notifications=8"
    out = StringIO()
    call_command("equipment_due", stdout=out)
    assert out.getvalue().strip() == "overdue=1 due_soon=1 standards_expiring=1 notifications=0"
    out = StringIO()
    call_command("equipment_due", "--date", (today + 11 * DAY).isoformat(), "--days", "300", stdout=out)
    # EQ-SOON is overdue now, EQ-FINE due within 300 days; STD-SOON has expired (flagged
    # once more as expired), STD-LATER expires.
    assert out.getvalue().strip() == "overdue=2 due_soon=1 standards_expiring=2 notifications=10"


@pytest.mark.django_db
def test_the_celery_task_runs_the_job(world, today, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = recalibration_job.delay().get()
    assert result == {"overdue": 1, "due_soon": 1, "standards_expiring": 1, "notifications": 8}
    assert len(mail.outbox) == 8


@pytest.mark.django_db
def test_the_same_number_of_queries_for_10_and_for_1000_items(lead, techlead, operator, today, django_capture_on_commit_callbacks):
    """Issue 4: the job (alerts, in-app notifications, and the e-mail task after the
    commit) issues the same number of queries for 10 and for 1 000 items."""
    Equipment.objects.bulk_create(
        Equipment(lab_id=f"BULK-{n:04d}", name=f"设备 {n}", kind=EquipmentKind.TEST, custodian=operator,
                  calibration_interval_months=12,
                  calibration_due=today + (n % 40 - 10) * DAY if n < 10 else today + 365 * DAY)
        for n in range(1000)
    )
    assert Equipment.objects.filter(calibration_due__lte=today + 30 * DAY).count() == 10

    def measure():
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            result = job.run(today, 30)
        return result, len(queries)

    small, small_queries = measure()
    assert small.overdue + small.due_soon == 10 and small.notifications == 30

    Alert.objects.all().delete()
    Notification.objects.all().delete()
    mail.outbox.clear()
    Equipment.objects.filter(lab_id__gte="BULK-0010").update(calibration_due=today + 5 * DAY)
    large, large_queries = measure()
    assert large.overdue + large.due_soon == 1000 and large.notifications == 3000
    assert len(mail.outbox) == 3000
    assert large_queries == small_queries, (small_queries, large_queries)


@pytest.mark.django_db
def test_equipment_never_calibrated_is_flagged_once(world, today, make_equipment, django_capture_on_commit_callbacks):
    """R-EQP-10: equipment that needs calibration and has none on record is blocked by the
    gate, so the job reports it as overdue — once."""
    make_equipment("EQ-NEW", months_ago=None)
    first = run(today, django_capture_on_commit_callbacks)
    assert first.overdue == 2
    assert Alert.objects.filter(equipment__lab_id="EQ-NEW", state=AlertState.OVERDUE).count() == 1
    assert any("EQ-NEW" in n.subject for n in Notification.objects.all())
    assert run(today + DAY, django_capture_on_commit_callbacks).notifications == 0
