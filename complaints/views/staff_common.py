"""What the staff complaint pages share: reading a complaint with everything its page
and its printed file show (a constant number of queries), the reply clock with its
traffic light, and the event log in words."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from complaints.models import (
    Channel,
    Compensation,
    Complaint,
    ComplaintAttachment,
    ComplaintClass,
    ComplaintEvent,
    ComplaintStatus,
    Correspondence,
    Extension,
    Feedback,
)
from complaints.services import job
from labqms import audit, permissions

USERS = (
    "registered_by", "accepted_by", "responsible_person", "classified_by", "opinion_by", "opinion_approved_by",
    "carried_out_by", "replied_by", "closed_by",
)


def full_complaint(pk) -> Complaint:
    """One complaint with its links, people, extensions, compensations, messages,
    attachments and events (a fixed number of queries whatever their number)."""
    return get_object_or_404(
        Complaint.objects.select_related("customer", "order", "sample", "certificate", *USERS).prefetch_related(
            Prefetch("extensions", queryset=Extension.objects.select_related("granted_by")),
            Prefetch("compensations", queryset=Compensation.objects.select_related("proposed_by", "decided_by")),
            Prefetch("correspondence", queryset=Correspondence.objects.select_related("sent_by")),
            Prefetch("attachments", queryset=ComplaintAttachment.objects.select_related("uploaded_by")),
            Prefetch("events", queryset=ComplaintEvent.objects.select_related("actor")),
        ),
        pk=pk,
    )


def complaint_or_404(request, pk) -> Complaint:
    """Every staff member reads complaints; customers and strangers learn nothing."""
    permissions.require_or_404(request.user, "complaints.view")
    return full_complaint(pk)


# --- the reply clock and its traffic light --------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Working days left to the reply due date, as a colour and in words (colour is never
    the only signal)."""

    left: int | None
    level: str  # "overdue" / "near" / "ok" / "" (not running)
    label: str

    @property
    def css(self) -> str:
        return {"overdue": "text-bg-danger", "near": "text-bg-warning", "ok": "text-bg-success"}.get(self.level, "text-bg-light")

    @property
    def icon(self) -> str:
        return {"overdue": "bi-exclamation-octagon", "near": "bi-hourglass-split", "ok": "bi-check-circle"}.get(self.level, "bi-dash-circle")

    @property
    def days_text(self) -> str:
        if self.left is None:
            return ""
        if self.left < 0:
            return ngettext("%(n)d working day overdue", "%(n)d working days overdue", -self.left) % {"n": -self.left}
        return ngettext("%(n)d working day left", "%(n)d working days left", self.left) % {"n": self.left}


def clock_of(complaint: Complaint, left: int | None, today: dt.date, threshold: int | None = None) -> Clock:
    threshold = settings.COMPLAINTS_NEAR_DEADLINE_DAYS if threshold is None else threshold
    if complaint.replied_on is not None:
        on_time = complaint.replied_on_time
        return Clock(None, "", _("Replied on time") if on_time else _("Replied late"))
    if not complaint.is_open or complaint.reply_due is None:
        return Clock(None, "", "")
    if complaint.reply_due < today:
        return Clock(left, "overdue", _("Overdue"))
    if left is not None and left <= threshold:
        return Clock(left, "near", _("Due soon"))
    return Clock(left, "ok", _("On track"))


def clocks(complaints, today: dt.date | None = None) -> dict[int, Clock]:
    """``{pk: Clock}`` for many complaints with one calendar query."""
    today = today or timezone.localdate()
    complaints = list(complaints)
    left = job.days_left([c for c in complaints if c.is_open], today)
    return {c.pk: clock_of(c, left.get(c.pk), today) for c in complaints}


# --- the event log in words -------------------------------------------------------------------


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def event_details(event: ComplaintEvent) -> str:
    """The interesting part of an event's data as a short sentence."""
    data = event.data or {}
    kind = event.kind
    if kind == "registered" and data.get("channel"):
        return _label(Channel, data["channel"])
    if kind == "accepted":
        text = _("%(department)s, %(person)s; reply due %(due)s") % {
            "department": data.get("department", ""), "person": data.get("responsible", ""), "due": data.get("due", ""),
        }
        if data.get("provisional"):
            text += " " + _("(provisional)")
        if data.get("as_deputy_of"):
            text += " · " + _("as deputy of %(name)s") % {"name": data["as_deputy_of"]}
        return text
    if kind == "classified" and data.get("class"):
        return "%s · %s" % (
            _label(ComplaintClass, data["class"]), _("substantiated") if data.get("substantiated") else _("not substantiated")
        )
    if kind == "reassigned" and data.get("to"):
        before, after = data.get("from") or {}, data["to"]
        return _("%(before)s → %(after)s") % {
            "before": ", ".join(v for v in (before.get("department"), before.get("responsible")) if v) or "—",
            "after": ", ".join(v for v in (after.get("department"), after.get("responsible")) if v),
        }
    if kind == "extended":
        return _("due %(before)s → %(after)s") % {"before": data.get("from", ""), "after": data.get("to", "")}
    if kind == "compensation_proposed":
        parts = []
        if data.get("amount"):
            parts.append(_("CNY %(amount)s") % {"amount": data["amount"]})
        if data.get("in_kind"):
            parts.append(data["in_kind"])
        return " · ".join(parts)
    if kind == "replied":
        parts = [_("on time") if data.get("on_time") else _("late")]
        if data.get("published"):
            parts.append(_("result published"))
        return " · ".join(parts)
    if kind == "closed" and data.get("feedback"):
        return _label(Feedback, data["feedback"])
    if kind == "reported_to_head" and data.get("heads"):
        return ", ".join(data["heads"])
    return ""


@dataclass
class EventRow:
    event: ComplaintEvent
    label: str
    status: str
    details: str


def event_rows(complaint: Complaint) -> list[EventRow]:
    return [
        EventRow(
            event=event,
            label=str(audit.ACTION_LABELS.get(f"complaint.{event.kind}", event.kind)),
            status=_label(ComplaintStatus, event.status_after) if event.status_after != event.status_before else "",
            details=event_details(event),
        )
        for event in complaint.events.all()
    ]


def file_context(complaint: Complaint) -> dict:
    """What both the complaint page and its printed file show."""
    today = timezone.localdate()
    left = job.days_left([complaint], today) if complaint.is_open else {}
    return {
        "c": complaint,
        "today": today,
        "clock": clock_of(complaint, left.get(complaint.pk), today),
        "extensions": list(complaint.extensions.all()),
        "compensations": list(complaint.compensations.all()),
        "correspondence": list(complaint.correspondence.all()),
        "attachments": list(complaint.attachments.all()),
        "events": event_rows(complaint),
        "is_major": complaint.classification == ComplaintClass.MAJOR,
    }
