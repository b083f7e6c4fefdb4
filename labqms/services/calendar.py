"""Maintaining the working-day calendar: overrides and confirmed years."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from labqms import audit, permissions
from labqms.models import CalendarYear, User, WorkdayOverride


@transaction.atomic
def set_workday_override(
    *, actor: User, day: date, is_working_day: bool, note: str
) -> WorkdayOverride:
    """Declare ``day`` a working day or not; replaces an earlier override of that day."""
    decision = permissions.require(actor, "calendar.manage")
    if not note.strip():
        raise ValidationError({"note": _("Say why (e.g. “National Day holiday 2027”).")})
    override = WorkdayOverride.objects.select_for_update().filter(date=day).first()
    before = audit.snapshot(override, ["is_working_day", "note"]) if override else {}
    if override is None:
        override = WorkdayOverride(date=day)
    override.is_working_day = is_working_day
    override.note = note.strip()
    override.updated_by = actor
    override.save()
    changes = audit.diff(before, audit.snapshot(override, ["is_working_day", "note"]))
    if changes:
        audit.record(
            actor=actor,
            action="calendar.override_set",
            target=override,
            changes=changes,
            as_deputy_of=decision.as_deputy_of,
        )
    return override


@transaction.atomic
def remove_workday_override(*, actor: User, override: WorkdayOverride, reason: str) -> None:
    decision = permissions.require(actor, "calendar.manage")
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for removing this override.")})
    audit.record(
        actor=actor,
        action="calendar.override_removed",
        target=override,
        changes={"is_working_day": [override.is_working_day, None], "note": [override.note, None]},
        reason=reason,
        as_deputy_of=decision.as_deputy_of,
    )
    override.delete()


@transaction.atomic
def confirm_calendar_year(*, actor: User, year: int, source: str) -> CalendarYear:
    """Declare that all of ``year``'s official arrangement has been entered as overrides."""
    decision = permissions.require(actor, "calendar.manage")
    if not source.strip():
        raise ValidationError(
            {"source": _("Name the notice the arrangement comes from (e.g. State Council notice).")}
        )
    if CalendarYear.objects.filter(year=year).exists():
        raise ValidationError(_("%(year)s is already confirmed.") % {"year": year})
    if not WorkdayOverride.objects.filter(date__year=year).exists():
        raise ValidationError(
            _("Enter %(year)s's holidays and make-up workdays as overrides first.") % {"year": year}
        )
    confirmed = CalendarYear.objects.create(year=year, source=source.strip(), confirmed_by=actor)
    audit.record(
        actor=actor,
        action="calendar.year_confirmed",
        target=confirmed,
        changes={"year": [None, year], "source": [None, confirmed.source]},
        as_deputy_of=decision.as_deputy_of,
    )
    return confirmed
