"""Read queries about people, shared by the home page and the person page."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from labqms.models import (
    Authorisation,
    Delegation,
    Qualification,
    Role,
    SupervisionRecord,
    TrainingRecord,
    User,
)

# Items ending within this many days are flagged "expiring soon".
EXPIRY_WARNING_DAYS = 60


def person_overview(person: User, today: date) -> dict:
    """Everything R-PER-4 wants findable about one person, each row with a status flag."""
    authorisations = list(
        Authorisation.objects.filter(person=person)
        .select_related("authorised_by", "scope_type", "revoked_by")
        .order_by("activity", "-valid_from")
    )
    qualifications = list(Qualification.objects.filter(person=person).order_by("-valid_from"))
    for row in [*authorisations, *qualifications]:
        row.status = dated_status(row, today)
    delegations = list(
        Delegation.objects.filter(Q(lead=person) | Q(deputy=person))
        .select_related("lead", "deputy")
        .order_by("-valid_from")
    )
    for row in delegations:
        row.status = delegation_status(row, today)
    return {
        "person": person,
        "authorisations": authorisations,
        "qualifications": qualifications,
        "trainings": TrainingRecord.objects.filter(person=person).select_related("plan"),
        "supervisions": SupervisionRecord.objects.filter(supervisee=person).select_related(
            "supervisor"
        ),
        "delegations": delegations,
    }


def dated_status(row, today: date) -> str:
    """One of revoked / not_yet / expired / expiring / valid."""
    if getattr(row, "revoked_at", None):
        return "revoked"
    if row.valid_from > today:
        return "not_yet"
    if row.valid_until is not None and row.valid_until < today:
        return "expired"
    if row.expires_within(today, EXPIRY_WARNING_DAYS):
        return "expiring"
    return "valid"


def delegation_status(row: Delegation, today: date) -> str:
    if row.revoked_at:
        return "revoked"
    if row.valid_from > today:
        return "not_yet"
    if row.valid_until < today:
        return "expired"
    return "valid"


def people_needing_attention(today: date) -> QuerySet:
    """Staff with an authorisation or qualification expired or ending soon."""
    horizon = today.toordinal() + EXPIRY_WARNING_DAYS
    soon = date.fromordinal(horizon)
    ending = Q(valid_until__isnull=False, valid_until__lte=soon)
    return User.objects.filter(
        Exists(Authorisation.objects.filter(ending, person=OuterRef("pk"), revoked_at=None))
        | Exists(Qualification.objects.filter(ending, person=OuterRef("pk")))
    )


def staff_users() -> QuerySet:
    return (
        User.objects.filter(groups__name__in=[r.value for r in Role if r != Role.CUSTOMER])
        .distinct()
        .select_related("profile")
    )
