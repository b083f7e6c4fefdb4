"""People and calendar services: every allowed and refused move, with its audit event
(R-PER-2..7; audit trail: DESIGN "Where rules live")."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from labqms.models import (
    Activity,
    AuditEvent,
    Authorisation,
    CalendarYear,
    Delegation,
    QualificationKind,
    Role,
    SupervisionRecord,
    TrainingRecord,
    WorkdayOverride,
)
from labqms.services import calendar as calendar_services
from labqms.services import people as services
from tests.factories import AuthorisationFactory, DelegationFactory, UserFactory

D = dt.date
TODAY = timezone.localdate


def grant(actor, person, **overrides):
    kwargs = dict(
        actor=actor,
        person=person,
        activity=Activity.PERFORM_VERIFICATION,
        valid_from=D(2026, 1, 1),
        valid_until=D(2027, 12, 31),
        competence_confirmed_on=D(2025, 12, 20),
    )
    kwargs.update(overrides)
    return services.grant_authorisation(**kwargs)


def test_lab_head_grants_an_authorisation_and_it_is_audited(head, technician):
    """R-PER-3/R-PER-4: who authorised whom, for what, from–to, competence confirmed when."""
    authorisation = grant(head, technician)
    assert authorisation.authorised_by == head
    event = AuditEvent.objects.get(action="authorisation.granted")
    assert event.actor == head and event.target_id == str(authorisation.pk)
    assert event.changes["valid_from"] == [None, "2026-01-01"]
    assert event.changes["activity"][1] == Activity.PERFORM_VERIFICATION


def test_technical_lead_may_grant_too(techlead, technician):
    assert grant(techlead, technician).authorised_by == techlead


@pytest.mark.parametrize(
    "role", [Role.TECHNICIAN, Role.COUNTER_STAFF, Role.QUALITY_LEAD, Role.CUSTOMER]
)
def test_others_may_not_grant(make_user, technician, role):
    with pytest.raises(PermissionDenied):
        grant(make_user(role), technician)
    assert not Authorisation.objects.exists()
    assert not AuditEvent.objects.exists()


def test_nobody_authorises_themselves(head):
    with pytest.raises(ValidationError):
        grant(head, head)


def test_competence_must_be_confirmed_before_the_start(head, technician):
    """R-PER-4: the competence confirmation date precedes the authorisation."""
    with pytest.raises(ValidationError) as info:
        grant(head, technician, competence_confirmed_on=D(2026, 2, 1))
    assert "competence_confirmed_on" in info.value.error_dict


def test_end_before_start_is_refused(head, technician):
    with pytest.raises(ValidationError) as info:
        grant(head, technician, valid_until=D(2025, 12, 31))
    assert "valid_until" in info.value.error_dict


def test_customers_cannot_be_authorised(head, customer):
    with pytest.raises(ValidationError):
        grant(head, customer)


def test_revoking_keeps_the_row_with_who_when_why(head, technician):
    authorisation = grant(head, technician)
    services.revoke_authorisation(actor=head, authorisation=authorisation, reason="调岗")
    authorisation.refresh_from_db()
    assert authorisation.revoked_by == head and authorisation.revoke_reason == "调岗"
    assert not Authorisation.objects.valid_on(TODAY()).filter(pk=authorisation.pk).exists()
    assert AuditEvent.objects.filter(action="authorisation.revoked", reason="调岗").exists()
    with pytest.raises(ValidationError):
        services.revoke_authorisation(actor=head, authorisation=authorisation, reason="again")


def test_revoking_needs_a_reason(head, technician):
    authorisation = grant(head, technician)
    with pytest.raises(ValidationError):
        services.revoke_authorisation(actor=head, authorisation=authorisation, reason="  ")


def test_qualification_is_recorded_once_per_number(qualitylead, technician):
    """R-PER-5: verifier certificates with number and validity."""
    kwargs = dict(
        actor=qualitylead,
        person=technician,
        kind=QualificationKind.VERIFIER_CERTIFICATE,
        number="YJJ-1",
        valid_from=D(2024, 1, 1),
        valid_until=D(2029, 1, 1),
    )
    services.record_qualification(**kwargs)
    assert AuditEvent.objects.filter(action="qualification.recorded").count() == 1
    with pytest.raises(ValidationError):
        services.record_qualification(**kwargs)


def test_technician_cannot_record_qualifications(make_user, technician):
    with pytest.raises(PermissionDenied):
        services.record_qualification(
            actor=make_user(Role.TECHNICIAN),
            person=technician,
            kind=QualificationKind.VERIFIER_CERTIFICATE,
            number="X",
            valid_from=D(2024, 1, 1),
            valid_until=None,
        )


def test_training_record(qualitylead, technician):
    """R-PER-2: training records."""
    record = services.record_training(
        actor=qualitylead,
        person=technician,
        title="JJG 692 培训",
        started_on=D(2026, 3, 1),
        ended_on=D(2026, 3, 2),
        result=TrainingRecord.Result.PASSED,
    )
    assert record.person == technician
    assert AuditEvent.objects.filter(action="training.recorded", target_id=str(record.pk)).exists()
    with pytest.raises(ValidationError):
        services.record_training(
            actor=qualitylead,
            person=technician,
            title="x",
            started_on=D(2026, 3, 2),
            ended_on=D(2026, 3, 1),
            result=TrainingRecord.Result.PASSED,
        )


def test_supervision_by_an_authorised_checker(make_user, technician):
    """R-PER-7: supervised by someone who knows the methods (authorised to check records)."""
    checker = make_user(Role.TECHNICIAN)
    fields = dict(
        supervised_on=D(2026, 11, 2),
        subject="血压计检定",
        observations="操作规范",
        conclusion=SupervisionRecord.Conclusion.SATISFACTORY,
    )
    with pytest.raises(PermissionDenied):
        services.record_supervision(actor=checker, supervisee=technician, **fields)
    AuthorisationFactory(person=checker, activity=Activity.CHECK_RECORDS)
    record = services.record_supervision(actor=checker, supervisee=technician, **fields)
    assert record.supervisor == checker
    assert AuditEvent.objects.filter(action="supervision.recorded").exists()


def test_nobody_supervises_themselves(qualitylead):
    with pytest.raises(ValidationError):
        services.record_supervision(
            actor=qualitylead,
            supervisee=qualitylead,
            supervised_on=D(2026, 11, 2),
            subject="x",
            observations="y",
            conclusion=SupervisionRecord.Conclusion.SATISFACTORY,
        )


def test_roles_are_set_by_the_lab_head_and_audited(head, technician, techlead):
    services.set_roles(actor=head, person=technician, roles=[Role.TECHNICIAN, Role.COUNTER_STAFF])
    assert technician.role_names == {Role.TECHNICIAN, Role.COUNTER_STAFF}
    event = AuditEvent.objects.get(action="person.roles_changed")
    assert event.changes["roles"] == [["technician"], ["counter_staff", "technician"]]
    with pytest.raises(PermissionDenied):
        services.set_roles(actor=techlead, person=technician, roles=[Role.LAB_HEAD])
    with pytest.raises(ValidationError):
        services.set_roles(actor=head, person=technician, roles=[Role.CUSTOMER, Role.TECHNICIAN])
    with pytest.raises(ValidationError):
        services.set_roles(actor=head, person=head, roles=[Role.TECHNICIAN])


# --- Delegations (R-PER-6) --------------------------------------------------------------


def delegate(head, lead, deputy, **overrides):
    kwargs = dict(
        actor=head,
        lead=lead,
        deputy=deputy,
        role=Role.TECHNICAL_LEAD,
        valid_from=D(2026, 12, 1),
        valid_until=D(2026, 12, 10),
        reason="出差",
    )
    kwargs.update(overrides)
    return services.start_delegation(**kwargs)


def test_lab_head_names_a_deputy(head, techlead, technician):
    delegation = delegate(head, techlead, technician)
    assert delegation.created_by == head
    assert AuditEvent.objects.filter(action="delegation.started", reason="出差").exists()


def test_overlapping_delegation_is_refused(head, techlead, technician, make_user):
    delegate(head, techlead, technician)
    with pytest.raises(ValidationError):
        delegate(
            head,
            techlead,
            make_user(Role.TECHNICIAN),
            valid_from=D(2026, 12, 10),
            valid_until=D(2026, 12, 20),
        )
    # Adjacent periods are fine.
    delegate(
        head,
        techlead,
        make_user(Role.TECHNICIAN),
        valid_from=D(2026, 12, 11),
        valid_until=D(2026, 12, 20),
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": Role.QUALITY_LEAD}, "lead"),
        ({"valid_until": D(2026, 11, 30)}, "valid_until"),
        ({"reason": " "}, "reason"),
        ({"role": Role.LAB_HEAD}, "role"),
    ],
)
def test_delegation_validation(head, techlead, technician, overrides, field):
    with pytest.raises(ValidationError) as info:
        delegate(head, techlead, technician, **overrides)
    assert field in info.value.error_dict


def test_delegation_to_oneself_is_refused(head, techlead):
    with pytest.raises(ValidationError):
        delegate(head, techlead, techlead)


def test_only_the_lab_head_delegates(techlead, technician):
    with pytest.raises(PermissionDenied):
        delegate(techlead, techlead, technician)


def test_ending_a_delegation_early(head, techlead, technician):
    delegation = DelegationFactory(
        lead=techlead,
        deputy=technician,
        valid_from=TODAY(),
        valid_until=TODAY() + dt.timedelta(days=5),
    )
    services.end_delegation(actor=head, delegation=delegation, reason="提前返岗")
    delegation.refresh_from_db()
    assert delegation.revoked_by == head
    assert not Delegation.objects.valid_on(TODAY()).exists()
    with pytest.raises(ValidationError):
        services.end_delegation(actor=head, delegation=delegation, reason="again")


def test_deputy_acts_are_recorded_as_deputy(head, technician):
    """R-PER-6: every act of a deputy says "as deputy of …"."""
    lead = UserFactory(roles=[Role.TECHNICAL_LEAD])
    deputy = UserFactory(roles=[Role.TECHNICIAN])
    DelegationFactory(lead=lead, deputy=deputy, valid_from=TODAY(), valid_until=TODAY())
    grant(deputy, technician)
    event = AuditEvent.objects.get(action="authorisation.granted")
    assert event.actor == deputy and event.as_deputy_of == lead


# --- Calendar -------------------------------------------------------------------------


def test_calendar_override_set_changed_and_removed_with_history(qualitylead):
    override = calendar_services.set_workday_override(
        actor=qualitylead, day=D(2027, 1, 1), is_working_day=False, note="元旦"
    )
    calendar_services.set_workday_override(
        actor=qualitylead, day=D(2027, 1, 1), is_working_day=False, note="元旦（国务院通知）"
    )
    assert WorkdayOverride.objects.count() == 1
    calendar_services.remove_workday_override(
        actor=qualitylead, override=override, reason="录入错误"
    )
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "calendar.override_set",
        "calendar.override_set",
        "calendar.override_removed",
    ]
    second = AuditEvent.objects.filter(action="calendar.override_set").order_by("id")[1]
    assert second.changes == {"note": ["元旦", "元旦（国务院通知）"]}


def test_technician_cannot_edit_the_calendar(technician):
    with pytest.raises(PermissionDenied):
        calendar_services.set_workday_override(
            actor=technician, day=D(2027, 1, 1), is_working_day=False, note="x"
        )


def test_override_needs_a_note(qualitylead):
    with pytest.raises(ValidationError):
        calendar_services.set_workday_override(
            actor=qualitylead, day=D(2027, 1, 1), is_working_day=False, note=" "
        )


def test_confirming_a_year_needs_its_overrides_first(qualitylead):
    with pytest.raises(ValidationError):
        calendar_services.confirm_calendar_year(actor=qualitylead, year=2027, source="国办发明电")
    calendar_services.set_workday_override(
        actor=qualitylead, day=D(2027, 1, 1), is_working_day=False, note="元旦"
    )
    calendar_services.confirm_calendar_year(actor=qualitylead, year=2027, source="国办发明电")
    assert CalendarYear.objects.filter(year=2027).exists()
    with pytest.raises(ValidationError):
        calendar_services.confirm_calendar_year(actor=qualitylead, year=2027, source="again")
