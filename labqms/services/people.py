"""State changes about people: roles, authorisations, qualifications, training,
supervision and delegations.  Each checks permission through ``labqms.permissions``,
validates, changes inside one transaction and writes an audit event.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from labqms import audit, permissions
from labqms.models import (
    Activity,
    Authorisation,
    Delegation,
    Qualification,
    Role,
    SupervisionRecord,
    TrainingRecord,
    User,
)
from labqms.models.people import DELEGABLE_ROLES, STAFF_ROLES


def _check_dates(valid_from: date, valid_until: date | None) -> None:
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end date is before the start date.")})


def _require_staff(person: User, field: str = "person") -> None:
    if not person.is_active or not (person.role_names & STAFF_ROLES):
        raise ValidationError({field: _("%(name)s is not active lab staff.") % {"name": person}})


def set_roles(*, actor: User, person: User, roles: list[str], reason: str = "") -> None:
    """Replace the person's roles (Django groups).  Lab head only."""
    decision = permissions.require(actor, "people.manage_roles")
    wanted = {Role(r) for r in roles}
    if Role.CUSTOMER in wanted and len(wanted) > 1:
        raise ValidationError({"roles": _("A customer account cannot also hold a staff role.")})
    if person == actor and Role.LAB_HEAD not in wanted:
        raise ValidationError({"roles": _("You cannot remove your own lab head role.")})
    with transaction.atomic():
        before = sorted(person.groups.values_list("name", flat=True))
        groups = [Group.objects.get_or_create(name=role.value)[0] for role in sorted(wanted)]
        person.groups.set(groups)
        after = sorted(role.value for role in wanted)
        if before != after:
            audit.record(
                actor=actor,
                action="person.roles_changed",
                target=person,
                changes={"roles": [before, after]},
                reason=reason,
                as_deputy_of=decision.as_deputy_of,
            )
    person.__dict__.pop("_role_names", None)


@transaction.atomic
def grant_authorisation(
    *,
    actor: User,
    person: User,
    activity: str,
    valid_from: date,
    competence_confirmed_on: date,
    valid_until: date | None = None,
    scope=None,
    note: str = "",
) -> Authorisation:
    """Authorise ``person`` for ``activity`` (within ``scope``) from–to (R-PER-3, R-PER-4).

    Refused when the actor authorises themselves, when competence was not confirmed by
    the start date, or when the dates are out of order.
    """
    decision = permissions.require(actor, "people.manage_authorisations")
    _require_staff(person)
    Activity(activity)
    if person == actor:
        raise ValidationError(_("Nobody may authorise themselves; ask another lead."))
    _check_dates(valid_from, valid_until)
    if competence_confirmed_on > valid_from:
        raise ValidationError(
            {
                "competence_confirmed_on": _(
                    "Competence must be confirmed on or before the start of the authorisation."
                )
            }
        )
    if competence_confirmed_on > timezone.localdate():
        raise ValidationError(
            {"competence_confirmed_on": _("Competence cannot be confirmed in the future.")}
        )
    authorisation = Authorisation(
        person=person,
        activity=activity,
        scope=scope,
        valid_from=valid_from,
        valid_until=valid_until,
        competence_confirmed_on=competence_confirmed_on,
        authorised_by=actor,
        note=note,
    )
    authorisation.full_clean()
    authorisation.save()
    audit.record(
        actor=actor,
        action="authorisation.granted",
        target=authorisation,
        changes=audit.diff(
            {},
            audit.snapshot(
                authorisation,
                [
                    "person",
                    "activity",
                    "scope_label",
                    "valid_from",
                    "valid_until",
                    "competence_confirmed_on",
                ],
            ),
        ),
        as_deputy_of=decision.as_deputy_of,
    )
    return authorisation


@transaction.atomic
def revoke_authorisation(*, actor: User, authorisation: Authorisation, reason: str) -> None:
    """End an authorisation now; the row stays, with who revoked it and why."""
    decision = permissions.require(actor, "people.manage_authorisations")
    authorisation = Authorisation.objects.select_for_update().get(pk=authorisation.pk)
    if authorisation.revoked_at:
        raise ValidationError(_("This authorisation was already revoked."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for revoking.")})
    authorisation.revoked_at = timezone.now()
    authorisation.revoked_by = actor
    authorisation.revoke_reason = reason.strip()
    authorisation.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit.record(
        actor=actor,
        action="authorisation.revoked",
        target=authorisation,
        changes={"revoked_at": [None, authorisation.revoked_at.isoformat()]},
        reason=reason,
        as_deputy_of=decision.as_deputy_of,
    )


@transaction.atomic
def record_qualification(
    *,
    actor: User,
    person: User,
    kind: str,
    number: str,
    valid_from: date,
    valid_until: date | None,
    issued_by: str = "",
    scope: str = "",
) -> Qualification:
    """Register a qualification certificate a person holds (R-PER-5)."""
    decision = permissions.require(actor, "people.manage_records")
    _require_staff(person)
    _check_dates(valid_from, valid_until)
    if Qualification.objects.filter(kind=kind, number=number.strip()).exists():
        raise ValidationError({"number": _("A certificate with this number is already recorded.")})
    qualification = Qualification(
        person=person,
        kind=kind,
        number=number.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        issued_by=issued_by,
        scope=scope,
    )
    qualification.full_clean()
    qualification.save()
    audit.record(
        actor=actor,
        action="qualification.recorded",
        target=qualification,
        changes=audit.diff(
            {},
            audit.snapshot(
                qualification, ["person", "kind", "number", "valid_from", "valid_until", "scope"]
            ),
        ),
        as_deputy_of=decision.as_deputy_of,
    )
    return qualification


@transaction.atomic
def record_training(*, actor: User, person: User, **fields) -> TrainingRecord:
    """Record that ``person`` attended a training (R-PER-2)."""
    decision = permissions.require(actor, "people.manage_records")
    _require_staff(person)
    if fields.get("ended_on") and fields["ended_on"] < fields["started_on"]:
        raise ValidationError({"ended_on": _("The end date is before the start date.")})
    record = TrainingRecord(person=person, **fields)
    record.full_clean()
    record.save()
    audit.record(
        actor=actor,
        action="training.recorded",
        target=record,
        changes=audit.diff({}, audit.snapshot(record, ["person", "title", "started_on", "result"])),
        as_deputy_of=decision.as_deputy_of,
    )
    return record


@transaction.atomic
def record_supervision(*, actor: User, supervisee: User, **fields) -> SupervisionRecord:
    """Record a supervision of ``supervisee`` by the actor (R-PER-7).

    The supervisor is the actor: a lead, or a technician authorised to check records for
    the work (someone who knows the methods).
    """
    decision = permissions.require(actor, "people.record_supervision")
    _require_staff(supervisee, "supervisee")
    if supervisee == actor:
        raise ValidationError({"supervisee": _("Nobody supervises themselves.")})
    if fields.get("supervised_on") and fields["supervised_on"] > timezone.localdate():
        raise ValidationError({"supervised_on": _("A supervision cannot be in the future.")})
    record = SupervisionRecord(supervisor=actor, supervisee=supervisee, **fields)
    record.full_clean()
    record.save()
    audit.record(
        actor=actor,
        action="supervision.recorded",
        target=record,
        changes=audit.diff(
            {}, audit.snapshot(record, ["supervisee", "subject", "supervised_on", "conclusion"])
        ),
        as_deputy_of=decision.as_deputy_of,
    )
    return record


@transaction.atomic
def start_delegation(
    *,
    actor: User,
    lead: User,
    deputy: User,
    role: str,
    valid_from: date,
    valid_until: date,
    reason: str,
) -> Delegation:
    """Name ``deputy`` to act as ``lead`` in ``role`` from–to (R-PER-6)."""
    decision = permissions.require(actor, "people.manage_delegations")
    if role not in DELEGABLE_ROLES:
        raise ValidationError(
            {"role": _("Only the technical lead and quality lead have deputies.")}
        )
    if not lead.has_role(role):
        raise ValidationError({"lead": _("%(name)s does not hold this role.") % {"name": lead}})
    _require_staff(deputy, "deputy")
    if lead == deputy:
        raise ValidationError({"deputy": _("The deputy must be another person.")})
    if valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end date is before the start date.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the delegation.")})
    overlapping = Delegation.objects.filter(
        lead=lead,
        role=role,
        revoked_at=None,
        valid_from__lte=valid_until,
        valid_until__gte=valid_from,
    )
    if overlapping.exists():
        raise ValidationError(
            _("%(name)s already has a deputy for this role in that period.") % {"name": lead}
        )
    delegation = Delegation.objects.create(
        lead=lead,
        deputy=deputy,
        role=role,
        valid_from=valid_from,
        valid_until=valid_until,
        reason=reason.strip(),
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="delegation.started",
        target=delegation,
        changes=audit.diff(
            {}, audit.snapshot(delegation, ["lead", "deputy", "role", "valid_from", "valid_until"])
        ),
        reason=reason,
        as_deputy_of=decision.as_deputy_of,
    )
    return delegation


@transaction.atomic
def end_delegation(*, actor: User, delegation: Delegation, reason: str) -> None:
    """End a delegation before its end date; the row stays with who ended it and why."""
    decision = permissions.require(actor, "people.manage_delegations")
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.revoked_at or delegation.valid_until < timezone.localdate():
        raise ValidationError(_("This delegation has already ended."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for ending the delegation.")})
    delegation.revoked_at = timezone.now()
    delegation.revoked_by = actor
    delegation.revoke_reason = reason.strip()
    delegation.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit.record(
        actor=actor,
        action="delegation.ended",
        target=delegation,
        changes={"revoked_at": [None, delegation.revoked_at.isoformat()]},
        reason=reason,
        as_deputy_of=decision.as_deputy_of,
    )
