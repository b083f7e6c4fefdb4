"""Tasks: one sample × one service, a performer and a different checker, each authorised
for that category on the day (R-TST-1, R-TST-4), under the current method edition
(R-TST-3).  Starting a task opens the record and marks the sample in test."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from certificates.models import InspectionResult, Record, RecordStatus, Task, TaskStatus
from certificates.services import methods as method_services
from certificates.services import tasks as services
from intake.models import SampleStatus, WorkLocation
from intake.services import visits as visit_services
from labqms.models import Activity, AuditEvent
from tests.factories import AuthorisationFactory, QualificationFactory
from tests.intake.conftest import line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _assign(assigner, sample, method, performer, checker, **kwargs):
    return services.assign_task(actor=assigner, sample=sample, method=method, performer=performer, checker=checker, **kwargs)


def _new_edition(method_lead, categories, edition="2025"):
    new = method_services.save_method(
        actor=method_lead, categories=[categories["bp"]],
        data={"code": "JJG 692", "edition": edition, "title": "无创自动测量血压计", "kind": "verification", "effective_on": dt.date(2025, 1, 1)},
    )
    return method_services.approve_method(actor=method_lead, method=new)


def _refused(exc, field):
    return " ".join(exc.value.message_dict[field])


# --- assigning ----------------------------------------------------------------------------


def test_r_tst_1_assign_names_a_performer_and_a_checker(received_sample, method, template, performer, checker, assigner):
    task = _assign(assigner, received_sample, method, performer, checker, note="加急")
    assert (task.performer, task.checker, task.method, task.service) == (performer, checker, method, "verification")
    assert task.status == TaskStatus.ASSIGNED and task.visit is None and task.note == "加急"
    event = AuditEvent.objects.get(action="task.assigned", target_id=str(task.pk))
    assert event.changes["method"] == [None, "JJG 692-2010"]


def test_r_tst_1_checker_must_differ_from_performer(received_sample, method, template, performer, assigner):
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, performer, performer)
    assert "R-TST-1" in _refused(exc, "checker")
    assert not Task.objects.exists()


def test_r_tst_1_database_refuses_a_task_checked_by_its_performer(received_sample, method, performer, assigner):
    """The check constraint holds even when the service is bypassed."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            sample=received_sample, service="verification", method=method, performer=performer, checker=performer, assigned_by=assigner
        )
    assert not Task.objects.exists()


def test_r_tst_1_database_refuses_an_update_making_the_performer_the_checker(task, performer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(checker=performer)
    task.refresh_from_db()
    assert task.checker != performer


def test_r_tst_3_superseded_method_is_refused_for_assignment(received_sample, method, template, performer, checker, assigner, method_lead, categories):
    _new_edition(method_lead, categories)
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, performer, checker)
    assert "JJG 692-2010 is Superseded" in _refused(exc, "method")
    assert not Task.objects.exists()


def test_r_tst_3_withdrawn_method_is_refused_for_assignment(received_sample, method, template, performer, checker, assigner, method_lead):
    method_services.withdraw_method(actor=method_lead, method=method, reason="废止")
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, performer, checker)
    assert "Withdrawn" in _refused(exc, "method")


def test_r_tst_3_method_must_apply_to_the_category(received_sample, performer, checker, assigner, method_lead, categories):
    ct_method = method_services.save_method(
        actor=method_lead, categories=[categories["ct"]],
        data={"code": "JJG 1163", "edition": "2019", "title": "CT", "kind": "verification", "effective_on": dt.date(2019, 1, 1)},
    )
    ct_method = method_services.approve_method(actor=method_lead, method=ct_method)
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, ct_method, performer, checker)
    assert "does not apply to" in _refused(exc, "method")


def test_r_tst_3_method_must_match_the_service(received_sample, performer, checker, assigner, method_lead, categories):
    """A calibration specification is not used for a verification line, even for the same category."""
    bp_calibration = method_services.save_method(
        actor=method_lead, categories=[categories["bp"]],
        data={"code": "JJF 1070", "edition": "2020", "title": "血压计校准", "kind": "calibration", "effective_on": dt.date(2020, 1, 1)},
    )
    bp_calibration = method_services.approve_method(actor=method_lead, method=bp_calibration)
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, bp_calibration, performer, checker)
    assert "is not a method for" in _refused(exc, "method")


def test_r_tst_4_performer_authorised_for_another_category_is_refused(
    received_sample, method, template, checker, assigner, make_technician, categories
):
    pump_only = make_technician("pump_only", scope=categories["pump"])
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, pump_only, checker)
    assert "no valid authorisation" in _refused(exc, "performer")
    # the same kind of authorisation scoped to the sample's category is enough
    bp_only = make_technician("bp_only", scope=categories["bp"])
    task = _assign(assigner, received_sample, method, bp_only, checker)
    assert task.performer == bp_only


def test_r_tst_4_checker_authorised_for_another_category_is_refused(
    received_sample, method, template, performer, assigner, make_technician, categories
):
    pump_only = make_technician("pump_chk", scope=categories["pump"])
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, performer, pump_only)
    assert "may not check" in _refused(exc, "checker")


def test_r_tst_4_performer_without_a_valid_verifier_certificate_is_refused(
    received_sample, method, template, checker, assigner, make_technician
):
    unqualified = make_technician("noqual", qualified=False)
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, unqualified, checker)
    assert "verifier certificate" in _refused(exc, "performer")
    expired = make_technician("expqual", qualified=False)
    QualificationFactory(person=expired, valid_from=dt.date(2020, 1, 1), valid_until=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, expired, checker)
    assert "verifier certificate" in _refused(exc, "performer")


def test_r_tst_4_an_expired_authorisation_is_refused(received_sample, method, template, checker, assigner, make_technician, head):
    person = make_technician("expired_auth", activities=(Activity.CHECK_RECORDS,))
    AuthorisationFactory(
        person=person, activity=Activity.PERFORM_VERIFICATION, authorised_by=head,
        valid_from=dt.date(2024, 1, 1), valid_until=timezone.localdate() - dt.timedelta(days=1),
    )
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, person, checker)
    assert "no valid authorisation" in _refused(exc, "performer")


def test_r_tst_4_authorisation_lapsing_after_assignment_blocks_the_start(task, performer, head):
    performer.authorisations.filter(activity=Activity.PERFORM_VERIFICATION).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    with pytest.raises(PermissionDenied):
        services.start_task(actor=performer, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED and not Record.objects.exists()


def test_unreceived_lab_sample_is_refused(make_order, categories, method, template, performer, checker, assigner):
    sample = make_order([line(categories["bp"], "BP-9")]).samples.get()
    assert sample.status == SampleStatus.REGISTERED
    with pytest.raises(ValidationError, match="has not been received"):
        _assign(assigner, sample, method, performer, checker)
    assert not Task.objects.exists()


def test_sample_of_an_order_not_yet_accepted_is_refused(make_order, categories, method, template, performer, checker, assigner):
    order = make_order([line(categories["bp"], "BP-8")], stage="confirmed")
    for sample in order.samples.all():
        with pytest.raises(ValidationError, match="not accepted"):
            _assign(assigner, sample, method, performer, checker)


def test_second_open_task_for_a_sample_is_refused(task, received_sample, method, performer, checker, assigner):
    with pytest.raises(ValidationError, match="already has a task"):
        _assign(assigner, received_sample, method, performer, checker)
    assert Task.objects.count() == 1


def test_database_refuses_a_second_open_task(task, received_sample, method, performer, checker, assigner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(sample=received_sample, service="verification", method=method, performer=checker, checker=performer, assigned_by=assigner)


def test_r_ons_3_on_site_sample_is_assignable_while_registered_and_gets_the_visit(
    make_order, categories, clerk, method, template, performer, checker, assigner
):
    """An on-site instrument never passes the counter: registered is enough, and the
    task takes the order's visit; the record is made on site (R-ONS-3)."""
    order = make_order([line(categories["bp"], "BP-S1")], work_location=WorkLocation.ON_SITE, channel="on_site")
    visit = visit_services.plan_visit(
        actor=clerk, order=order, planned_date=timezone.localdate() + dt.timedelta(days=2),
        site_address="市第一人民医院门诊楼三层", site_contact="刘洋",
    )
    sample = order.samples.get()
    assert sample.status == SampleStatus.REGISTERED
    task = _assign(assigner, sample, method, performer, checker)
    assert task.visit == visit
    record = services.start_task(actor=performer, task=task)
    sample.refresh_from_db()
    assert record.on_site is True
    assert record.place == "市第一人民医院门诊楼三层"
    assert sample.status == SampleStatus.IN_TEST


def test_visit_of_another_order_is_refused(make_order, categories, clerk, received_sample, method, template, performer, checker, assigner):
    other = make_order([line(categories["bp"], "BP-S2")], work_location=WorkLocation.ON_SITE, channel="on_site")
    visit = visit_services.plan_visit(
        actor=clerk, order=other, planned_date=timezone.localdate() + dt.timedelta(days=2), site_address="二院", site_contact="王芳",
    )
    with pytest.raises(ValidationError) as exc:
        _assign(assigner, received_sample, method, performer, checker, visit=visit)
    assert "visit" in exc.value.message_dict


def test_counter_staff_do_not_assign(received_sample, method, template, performer, checker, clerk):
    with pytest.raises(PermissionDenied):
        _assign(clerk, received_sample, method, performer, checker)


def test_r_tst_4_eligible_people_are_those_authorised_for_the_category(
    performer, checker, method_lead, make_technician, categories
):
    pump_only = make_technician("pump_only", scope=categories["pump"])
    unqualified = make_technician("noqual", qualified=False)
    performers, checkers = services.eligible_people(categories["bp"], "verification")
    assert set(performers) == {performer, checker}
    assert set(checkers) == {performer, checker, unqualified}  # checking needs no verifier certificate
    performers, checkers = services.eligible_people(categories["pump"], "calibration")
    assert set(performers) == {performer, checker, pump_only}
    assert method_lead not in performers  # a role without the authorisation is not enough


# --- starting ---------------------------------------------------------------------------


def test_r_rec_1_start_opens_the_record_from_the_active_template(task, performer, template, received_sample):
    record = services.start_task(actor=performer, task=task)
    task.refresh_from_db()
    received_sample.refresh_from_db()
    assert re.fullmatch(r"JL\d{4}-\d{6}", record.number)
    assert (record.task, record.sample, record.method, record.template) == (task, received_sample, task.method, template)
    assert record.status == RecordStatus.DRAFT and record.performer == performer
    assert record.measured_on == timezone.localdate()
    assert record.on_site is False and record.place == settings.LABQMS_LAB_ADDRESS
    assert record.instrument["serial_number"] == "BP-001"
    assert record.instrument["sample_id"] == received_sample.sample_id
    assert record.instrument["customer"] == "市第一人民医院"
    inspections = list(record.inspections.order_by("position"))
    assert [(i.position, i.item, i.ok) for i in inspections] == [(1, "外观", None), (2, "气密性", None)]
    assert not record.uncertainties.exists()  # verification: no U per point
    assert received_sample.status == SampleStatus.IN_TEST
    assert task.status == TaskStatus.IN_PROGRESS
    assert AuditEvent.objects.filter(action="record.started", target_id=str(record.pk)).exists()


def test_r_tst_3_start_ignores_a_draft_template_version(task, performer, template, method_lead):
    draft = method_services.new_version(actor=method_lead, template=template)
    record = services.start_task(actor=performer, task=task)
    assert draft.version == 2
    assert record.template == template and record.template.version == 1


def test_r_tst_3_start_takes_a_template_approved_after_assignment(task, performer, template, method_lead):
    draft = method_services.new_version(actor=method_lead, template=template)
    method_services.approve_template(actor=method_lead, template=draft)
    record = services.start_task(actor=performer, task=task)
    assert record.template == draft and record.template.version == 2


def test_r_tst_3_start_is_refused_when_the_edition_was_superseded_after_assignment(
    task, performer, method_lead, categories, received_sample
):
    _new_edition(method_lead, categories)
    with pytest.raises(ValidationError, match="JJG 692-2010 is Superseded"):
        services.start_task(actor=performer, task=task)
    task.refresh_from_db()
    received_sample.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED
    assert received_sample.status == SampleStatus.STORED
    assert not Record.objects.exists()
    assert not InspectionResult.objects.exists()


def test_start_is_refused_without_an_approved_template(received_sample, method, performer, checker, assigner):
    task = _assign(assigner, received_sample, method, performer, checker)
    with pytest.raises(ValidationError, match="no approved record template"):
        services.start_task(actor=performer, task=task)
    assert not Record.objects.exists()


def test_r_tst_1_only_the_named_performer_starts(task, checker, method_lead, make_technician):
    other = make_technician("other_perf")
    for person in (checker, method_lead, other):
        with pytest.raises(ValidationError, match="Only the performer"):
            services.start_task(actor=person, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED and not Record.objects.exists()


def test_a_task_is_started_once(task, performer):
    services.start_task(actor=performer, task=task)
    with pytest.raises(ValidationError, match="already been started"):
        services.start_task(actor=performer, task=task)
    assert Record.objects.count() == 1


# --- reassigning and cancelling ------------------------------------------------------


def test_reassign_needs_a_reason(task, performer, checker, method_lead, make_technician):
    other = make_technician("other_perf")
    with pytest.raises(ValidationError) as exc:
        services.reassign_task(actor=method_lead, task=task, performer=other, checker=checker, reason=" ")
    assert "reason" in exc.value.message_dict
    task.refresh_from_db()
    assert task.performer == performer


def test_reassign_before_start_changes_who_starts(task, performer, checker, method_lead, make_technician):
    other = make_technician("other_perf")
    services.reassign_task(actor=method_lead, task=task, performer=other, checker=checker, reason="甲出差")
    task.refresh_from_db()
    assert task.performer == other
    event = AuditEvent.objects.get(action="task.reassigned", target_id=str(task.pk))
    assert event.reason == "甲出差" and event.changes["performer"] == [str(performer), str(other)]
    with pytest.raises(ValidationError, match="Only the performer"):
        services.start_task(actor=performer, task=task)
    assert services.start_task(actor=other, task=task).performer == other


def test_reassign_of_a_started_record_without_data_moves_it_to_the_new_performer(task, performer, checker, method_lead, make_technician):
    record = services.start_task(actor=performer, task=task)
    other = make_technician("other_perf")
    services.reassign_task(actor=method_lead, task=task, performer=other, checker=checker, reason="甲病假")
    record.refresh_from_db()
    assert record.performer == other and record.task.performer == other


def test_r_tst_1_once_data_is_recorded_the_performer_no_longer_changes(record, checker, method_lead, make_technician):
    """Otherwise the person who took the readings could end up as the checker."""
    other = make_technician("other_perf")
    with pytest.raises(ValidationError) as exc:
        services.reassign_task(actor=method_lead, task=record.task, performer=other, checker=checker, reason="甲病假")
    assert "performer" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.reassign_task(actor=method_lead, task=record.task, performer=checker, checker=record.performer, reason="swap")
    record.refresh_from_db()
    assert record.task.checker == checker


def test_the_performer_does_not_choose_their_own_checker(task, performer, checker, make_technician):
    other = make_technician("other_check")
    with pytest.raises(ValidationError) as exc:
        services.reassign_task(actor=performer, task=task, performer=performer, checker=other, reason="想换人")
    assert "checker" in exc.value.message_dict


def test_r_tst_4_reassign_checks_the_new_people(task, checker, method_lead, make_technician, categories):
    pump_only = make_technician("pump_only", scope=categories["pump"])
    with pytest.raises(ValidationError) as exc:
        services.reassign_task(actor=method_lead, task=task, performer=pump_only, checker=checker, reason="x")
    assert "performer" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.reassign_task(actor=method_lead, task=task, performer=checker, checker=checker, reason="x")
    assert "checker" in exc.value.message_dict


def test_r_tst_1_after_signing_only_the_checker_changes(signed_record, performer, checker, method_lead, make_technician):
    task = signed_record.task
    other = make_technician("other_chk")
    with pytest.raises(ValidationError) as exc:
        services.reassign_task(actor=method_lead, task=task, performer=other, checker=checker, reason="x")
    assert "only the checker" in _refused(exc, "performer")
    with pytest.raises(ValidationError) as exc:
        services.reassign_task(actor=method_lead, task=task, performer=performer, checker=performer, reason="x")
    assert "checker" in exc.value.message_dict
    services.reassign_task(actor=method_lead, task=task, performer=performer, checker=other, reason="乙休假")
    task.refresh_from_db()
    assert task.checker == other and task.performer == performer


def test_checked_task_is_not_reassigned(checked_record, performer, method_lead, make_technician):
    other = make_technician("other_chk")
    with pytest.raises(ValidationError, match="no longer be reassigned"):
        services.reassign_task(actor=method_lead, task=checked_record.task, performer=performer, checker=other, reason="x")


def test_cancel_needs_a_reason_and_frees_the_sample(task, received_sample, method, performer, checker, assigner):
    with pytest.raises(ValidationError) as exc:
        services.cancel_task(actor=assigner, task=task, reason="")
    assert "reason" in exc.value.message_dict
    services.cancel_task(actor=assigner, task=task, reason="客户撤回")
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED and task.cancelled_reason == "客户撤回"
    again = _assign(assigner, received_sample, method, checker, performer)
    assert again.pk != task.pk and again.status == TaskStatus.ASSIGNED
    with pytest.raises(ValidationError, match="cannot be cancelled"):
        services.cancel_task(actor=assigner, task=task, reason="again")


def test_started_task_cannot_be_cancelled(record, assigner):
    with pytest.raises(ValidationError, match="cannot be cancelled"):
        services.cancel_task(actor=assigner, task=record.task, reason="x")
    record.task.refresh_from_db()
    assert record.task.status == TaskStatus.IN_PROGRESS


def test_counter_staff_do_not_reassign_or_cancel(task, performer, checker, clerk):
    with pytest.raises(PermissionDenied):
        services.reassign_task(actor=clerk, task=task, performer=checker, checker=performer, reason="x")
    with pytest.raises(PermissionDenied):
        services.cancel_task(actor=clerk, task=task, reason="x")


def test_subcontracted_sample_gets_no_task_in_this_lab(received_sample, method, template, performer, checker, assigner):
    """A line the contract review sent to a subcontractor is not worked on here (R-INT-4)."""
    item = received_sample.item
    type(item).objects.filter(pk=item.pk).update(disposition="subcontract", subcontractor="省计量院")
    received_sample.refresh_from_db()
    with pytest.raises(ValidationError, match="does no work on it"):
        _assign(assigner, received_sample, method, performer, checker)
    assert not Task.objects.exists()
