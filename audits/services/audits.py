"""Audit programme, audits, checklists, findings and corrective actions (R-MGT-1).

Who does what:
- the quality lead (``audits.manage``) plans the programme and the audits, accepts
  proposed actions and verifies their effectiveness; the lab head (``audits.approve``)
  approves the programme;
- auditors (the lead auditor and the audit team) fill the checklist and raise findings —
  never in an area (department) they belong to;
- the person responsible for a finding proposes the action and reports it done;
- effectiveness is verified by the quality lead or someone independent of the action
  (not its responsible person, not who proposed it) before the action closes.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audits.clauses import CLAUSE_CODES
from audits.models import (
    ACTION_TRANSITIONS,
    AUDIT_TRANSITIONS,
    ActionEvent,
    ActionStatus,
    Audit,
    AuditKind,
    AuditProgramme,
    AuditStatus,
    ChecklistItem,
    ChecklistResult,
    CorrectiveAction,
    Finding,
    FindingGrade,
    FindingSource,
    FindingStatus,
)
from labqms import audit, notify, numbering, permissions
from labqms.models import Role, StaffProfile, User


def _person(user) -> str:
    return user.get_full_name() if user else ""


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def department_of(user) -> str:
    profile = getattr(user, "profile", None)
    return profile.department if profile else ""


def departments() -> list[str]:
    """The lab's departments (as recorded on the staff profiles)."""
    return sorted(set(StaffProfile.objects.exclude(department="").values_list("department", flat=True)))


def quality_leads() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=Role.QUALITY_LEAD).distinct().order_by("pk"))


# --- programme ---------------------------------------------------------------------------------


def create_programme(*, actor, year: int, objectives: str = "") -> AuditProgramme:
    permissions.require(actor, "audits.manage")
    if AuditProgramme.objects.filter(year=year).exists():
        raise ValidationError({"year": _("There is already a programme for %(year)d.") % {"year": year}})
    with transaction.atomic():
        programme = AuditProgramme.objects.create(year=year, objectives=(objectives or "").strip(), prepared_by=actor)
        audit.record(actor=actor, action="audit_programme.created", target=programme)
    return programme


def coverage(programme: AuditProgramme) -> dict:
    """Which clauses and departments the programme's audits (not cancelled) cover, and
    which they miss (the programme must cover every element and every department)."""
    clauses, areas = set(), set()
    for audit_clauses, audit_areas in programme.audits.exclude(status=AuditStatus.CANCELLED).values_list("clauses", "areas"):
        clauses.update(audit_clauses or [])
        areas.update(audit_areas or [])
    every_department = departments()
    return {
        "clauses_missing": [c for c in CLAUSE_CODES if c not in clauses],
        "areas_missing": [d for d in every_department if d not in areas],
        "complete": all(c in clauses for c in CLAUSE_CODES) and all(d in areas for d in every_department),
    }


def approve_programme(*, actor, programme: AuditProgramme) -> AuditProgramme:
    permissions.require(actor, "audits.approve")
    with transaction.atomic():
        programme = AuditProgramme.objects.select_for_update().get(pk=programme.pk)
        if programme.approved_at:
            raise ValidationError(_("The %(year)d programme is already approved.") % {"year": programme.year})
        gaps = coverage(programme)
        if not gaps["complete"]:
            raise ValidationError(
                _("The programme does not cover every element and department yet: clauses %(clauses)s; departments %(areas)s.")
                % {"clauses": ", ".join(gaps["clauses_missing"]) or "—", "areas": ", ".join(gaps["areas_missing"]) or "—"}
            )
        programme.approved_by, programme.approved_at = actor, timezone.now()
        programme.save(update_fields=["approved_by", "approved_at"])
        audit.record(actor=actor, action="audit_programme.approved", target=programme)
    return programme


# --- audits ------------------------------------------------------------------------------------


def _check_team(lead_auditor, auditors, areas: list[str], kind: str) -> None:
    """R-MGT-1 / ISO/IEC 17025 8.8: auditors do not audit their own area."""
    if kind == AuditKind.EXTERNAL:
        return
    if lead_auditor is None:
        raise ValidationError({"lead_auditor": _("Choose the lead auditor.")})
    for person in [lead_auditor, *auditors]:
        if not permissions.can(person, "audits.audit"):
            raise ValidationError({"auditors": _("%(name)s is not authorised to audit.") % {"name": _person(person)}})
        own = department_of(person)
        if own and own in areas:
            raise ValidationError({"auditors": _(
                "%(name)s belongs to %(department)s and may not audit their own area."
            ) % {"name": _person(person), "department": own}})


def plan_audit(*, actor, kind: str, title: str, clauses: list[str], areas: list[str], planned_start: dt.date,
               planned_end: dt.date, lead_auditor=None, auditors=(), programme: AuditProgramme | None = None,
               external_body: str = "", source_complaint=None, source_impact=None) -> Audit:
    permissions.require(actor, "audits.manage")
    errors = {}
    if kind not in AuditKind.values:
        errors["kind"] = _("Choose the kind of audit.")
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Give the audit a title.")
    clauses = [c for c in CLAUSE_CODES if c in set(clauses or [])]
    if not clauses:
        errors["clauses"] = _("Choose the clauses in scope.")
    areas = [a for a in dict.fromkeys(a.strip() for a in (areas or [])) if a]
    if not areas and kind != AuditKind.EXTERNAL:
        errors["areas"] = _("Choose the areas (departments) in scope.")
    if planned_start and planned_end and planned_end < planned_start:
        errors["planned_end"] = _("The end is before the start.")
    if not planned_start or not planned_end:
        errors["planned_start"] = _("Enter the planned dates.")
    if kind == AuditKind.SCHEDULED and programme is None:
        errors["programme"] = _("A scheduled audit belongs to the year's programme.")
    if programme is not None and planned_start and planned_start.year != programme.year:
        errors["planned_start"] = _("The audit falls outside the %(year)d programme.") % {"year": programme.year}
    if kind == AuditKind.EXTERNAL and not (external_body or "").strip():
        errors["external_body"] = _("Name the assessment body.")
    if kind == AuditKind.AD_HOC and source_complaint is None and source_impact is None:
        errors["kind"] = _("An ad-hoc audit is opened from a complaint or an impact analysis.")
    if errors:
        raise ValidationError(errors)
    auditors = [a for a in auditors if a != lead_auditor]
    _check_team(lead_auditor, auditors, areas, kind)
    with transaction.atomic():
        item = Audit.objects.create(
            number=numbering.next_number("audit", year=planned_start.year), programme=programme, kind=kind, title=title,
            clauses=clauses, areas=areas, planned_start=planned_start, planned_end=planned_end, lead_auditor=lead_auditor,
            external_body=(external_body or "").strip(), source_complaint=source_complaint, source_impact=source_impact,
            created_by=actor,
        )
        item.auditors.set(auditors)
        from audits.clauses import CLAUSE_TITLES

        with translation.override(settings.LANGUAGE_CODE):  # stored text: the lab's language
            ChecklistItem.objects.bulk_create([
                ChecklistItem(audit=item, clause=code, question=str(CLAUSE_TITLES[code]), position=i)
                for i, code in enumerate(clauses)
            ])
        audit.record(actor=actor, action="audit.planned", target=item, changes={"clauses": [None, clauses], "areas": [None, areas]})
        url = reverse("audits:audit_detail", args=[item.pk])
        notify.notify([notify.Message(p, _("You are on the audit team of %(number)s") % {"number": item.number}, item.title, url)
                       for p in [lead_auditor, *auditors] if p is not None])
    return item


def open_ad_hoc_audit(*, actor, complaint=None, impact=None, **fields) -> Audit:
    """R-CMP-6: an ad-hoc audit from a major complaint's request or an impact analysis."""
    if complaint is None and impact is None:
        raise ValidationError(_("An ad-hoc audit is opened from a complaint or an impact analysis."))
    if complaint is not None and complaint.audit_requested_at is None:
        raise ValidationError(_("Complaint %(number)s did not request an audit.") % {"number": complaint.number})
    opened = Audit.objects.filter(kind=AuditKind.AD_HOC).exclude(status=AuditStatus.CANCELLED)
    existing = (opened.filter(source_complaint=complaint) if complaint is not None else opened.filter(source_impact=impact)).first()
    if existing is not None:
        raise ValidationError(_("Ad-hoc audit %(number)s was already opened from it.") % {"number": existing.number})
    return plan_audit(actor=actor, kind=AuditKind.AD_HOC, source_complaint=complaint, source_impact=impact, **fields)


def _is_on_team(user, item: Audit) -> bool:
    return user.pk == item.lead_auditor_id or item.auditors.filter(pk=user.pk).exists()


def require_auditor(actor, item: Audit) -> None:
    permissions.require(actor, "audits.view")
    if _is_on_team(actor, item) or (item.kind == AuditKind.EXTERNAL and permissions.can(actor, "audits.manage")):
        return
    raise PermissionDenied(_("Only the audit team of %(number)s records this.") % {"number": item.number})


def _move_audit(item: Audit, target: str) -> str:
    before = item.status
    if target not in AUDIT_TRANSITIONS[before]:
        raise ValidationError(
            _("Audit %(number)s is “%(status)s”; this step does not apply now.") % {"number": item.number, "status": item.get_status_display()}
        )
    item.status = target
    return before


def start_audit(*, actor, audit_item: Audit, on: dt.date | None = None) -> Audit:
    require_auditor(actor, audit_item)
    with transaction.atomic():
        item = Audit.objects.select_for_update().get(pk=audit_item.pk)
        before = _move_audit(item, AuditStatus.IN_PROGRESS)
        item.started_on = on or timezone.localdate()
        item.save(update_fields=["status", "started_on"])
        audit.record(actor=actor, action="audit.started", target=item, changes={"status": [before, item.status]})
    return item


def record_check(*, actor, item: ChecklistItem, evidence: str, result: str) -> ChecklistItem:
    require_auditor(actor, item.audit)
    if result not in ChecklistResult.values or result == ChecklistResult.NOT_CHECKED:
        raise ValidationError({"result": _("Choose conforms, nonconformity or observation.")})
    evidence = _text(evidence, "evidence", _("Note the evidence seen."))
    with transaction.atomic():
        item = ChecklistItem.objects.select_for_update().select_related("audit").get(pk=item.pk)
        if item.audit.status != AuditStatus.IN_PROGRESS:
            raise ValidationError(_("The checklist is filled while the audit is in progress."))
        before = {"evidence": item.evidence, "result": item.result}
        item.evidence, item.result, item.checked_by, item.checked_at = evidence, result, actor, timezone.now()
        item.save(update_fields=["evidence", "result", "checked_by", "checked_at"])
        audit.record(actor=actor, action="audit.checked", target=item.audit,
                     changes={"clause": [None, item.clause], "result": [before["result"], result]})
    return item


def report_audit(*, actor, audit_item: Audit, conclusions: str) -> Audit:
    """The lead auditor reports: every checklist item checked, conclusions written."""
    conclusions = _text(conclusions, "conclusions", _("Write the audit's conclusions."))
    with transaction.atomic():
        item = Audit.objects.select_for_update().get(pk=audit_item.pk)
        if actor.pk != item.lead_auditor_id and not (item.kind == AuditKind.EXTERNAL and permissions.can(actor, "audits.manage")):
            raise PermissionDenied(_("The lead auditor reports the audit."))
        unchecked = list(item.checklist.filter(result=ChecklistResult.NOT_CHECKED).values_list("clause", flat=True))
        if unchecked:
            raise ValidationError(_("These clauses are not checked yet: %(clauses)s.") % {"clauses": ", ".join(unchecked)})
        nonconforming = item.checklist.filter(result=ChecklistResult.NONCONFORMITY, findings__isnull=True).values_list("clause", flat=True)
        if nonconforming:
            raise ValidationError(_("Raise a finding for each nonconformity first: %(clauses)s.") % {"clauses": ", ".join(nonconforming)})
        before = _move_audit(item, AuditStatus.REPORTED)
        item.conclusions, item.reported_by, item.reported_at = conclusions, actor, timezone.now()
        item.save(update_fields=["status", "conclusions", "reported_by", "reported_at"])
        audit.record(actor=actor, action="audit.reported", target=item, changes={"status": [before, item.status]})
    return item


def cancel_audit(*, actor, audit_item: Audit, reason: str) -> Audit:
    permissions.require(actor, "audits.manage")
    reason = _text(reason, "reason", _("Say why the audit is cancelled."))
    with transaction.atomic():
        item = Audit.objects.select_for_update().get(pk=audit_item.pk)
        before = _move_audit(item, AuditStatus.CANCELLED)
        item.cancelled_reason = reason
        item.save(update_fields=["status", "cancelled_reason"])
        audit.record(actor=actor, action="audit.cancelled", target=item, reason=reason, changes={"status": [before, item.status]})
    return item


# --- findings ----------------------------------------------------------------------------------

SOURCE_FIELDS = {
    FindingSource.AUDIT: "audit",
    FindingSource.COMPLAINT: "complaint",
    FindingSource.IMPACT: "impact",
    FindingSource.SUPERVISION: "supervision",
    FindingSource.SURVEY: "survey_response",
    FindingSource.EVALUATION: "evaluation",
    FindingSource.REVIEW: "review",
}


def raise_finding(*, actor, source: str, origin, grade: str, description: str, clause: str = "", area: str = "",
                  evidence: str = "", responsible=None, checklist_item: ChecklistItem | None = None,
                  raised_on: dt.date | None = None) -> Finding:
    """A finding from an audit (by its team) or from any other source (by the quality lead)."""
    if source not in SOURCE_FIELDS:
        raise ValidationError({"source": _("Unknown source of the finding.")})
    if source == FindingSource.AUDIT:
        require_auditor(actor, origin)
        if origin.status != AuditStatus.IN_PROGRESS:
            raise ValidationError(_("Findings are raised while the audit is in progress."))
        if checklist_item is not None and checklist_item.audit_id != origin.pk:
            raise ValidationError({"checklist_item": _("That checklist item belongs to another audit.")})
    elif source == FindingSource.SURVEY and actor is None:
        pass  # raised by the survey itself (a low score, R-IMP-2)
    else:
        permissions.require(actor, "audits.manage")
    errors = {}
    if grade not in FindingGrade.values:
        errors["grade"] = _("Choose major, minor or observation.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe the finding.")
    if clause and clause not in CLAUSE_CODES:
        errors["clause"] = _("Choose a clause of the standard.")
    if grade in (FindingGrade.MAJOR, FindingGrade.MINOR) and not (evidence or "").strip():
        errors["evidence"] = _("A nonconformity states its objective evidence.")
    if grade in (FindingGrade.MAJOR, FindingGrade.MINOR) and responsible is None:
        errors["responsible"] = _("Name who answers for the corrective action.")
    if errors:
        raise ValidationError(errors)
    raised_on = raised_on or timezone.localdate()
    with transaction.atomic():
        finding = Finding.objects.create(
            number=numbering.next_number("finding", year=raised_on.year), grade=grade, source=source, clause=clause,
            area=(area or "").strip(), description=description, evidence=(evidence or "").strip(),
            raised_by=actor if actor is not None else origin.invitation.survey.created_by,
            raised_on=raised_on, responsible=responsible, checklist_item=checklist_item,
            **{SOURCE_FIELDS[source]: origin},
        )
        if checklist_item is not None:
            checklist_item = ChecklistItem.objects.select_for_update().get(pk=checklist_item.pk)
        if checklist_item is not None and checklist_item.result == ChecklistResult.NOT_CHECKED:
            # Raising the finding is the check's result: the report does not ask again.
            checklist_item.result = (
                ChecklistResult.OBSERVATION if grade == FindingGrade.OBSERVATION else ChecklistResult.NONCONFORMITY
            )
            if not checklist_item.evidence and evidence:
                checklist_item.evidence = (evidence or "").strip()
            checklist_item.checked_by, checklist_item.checked_at = actor, timezone.now()
            checklist_item.save(update_fields=["result", "evidence", "checked_by", "checked_at"])
        audit.record(actor=actor, action="finding.raised", target=finding, changes={"grade": [None, grade], "source": [None, source]})
        if responsible is not None:
            notify.notify([notify.Message(
                responsible, _("Finding %(number)s: propose the corrective action") % {"number": finding.number},
                description, reverse("audits:finding_detail", args=[finding.pk]),
            )])
    return finding


def close_observation(*, actor, finding: Finding, note: str) -> Finding:
    """An observation may close without an action (noted); a nonconformity never does."""
    permissions.require(actor, "audits.manage")
    note = _text(note, "note", _("Say why no action is needed."))
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding.pk)
        if finding.is_nonconformity:
            raise ValidationError(_("A nonconformity closes only when its corrective actions are verified effective."))
        if finding.status == FindingStatus.CLOSED:
            raise ValidationError(_("Finding %(number)s is already closed.") % {"number": finding.number})
        finding.status, finding.closed_at = FindingStatus.CLOSED, timezone.now()
        finding.save(update_fields=["status", "closed_at"])
        audit.record(actor=actor, action="finding.closed", target=finding, reason=note)
    return finding


# --- corrective actions ----------------------------------------------------------------------------


def _action_event(action: CorrectiveAction, actor, kind: str, note: str = "") -> None:
    ActionEvent.objects.create(action=action, actor=actor, kind=kind, note=note)
    audit.record(actor=actor, action=f"action.{kind}", target=action, reason=note)


def _move_action(action: CorrectiveAction, target: str) -> None:
    if target not in ACTION_TRANSITIONS[action.status]:
        raise ValidationError(
            _("The action is “%(status)s”; this step does not apply now.") % {"status": action.get_status_display()}
        )
    action.status = target


def propose_action(*, actor, finding: Finding, action: str, due_on: dt.date, correction: str = "", root_cause: str = "",
                   responsible=None) -> CorrectiveAction:
    """The person responsible for the finding (or the quality lead) proposes the action."""
    permissions.require(actor, "audits.view")
    if actor.pk != finding.responsible_id and not permissions.can(actor, "audits.manage"):
        raise PermissionDenied(_("%(name)s answers for this finding and proposes its action.") % {"name": _person(finding.responsible)})
    errors = {}
    action = (action or "").strip()
    if not action:
        errors["action"] = _("Describe the corrective action.")
    if finding.is_nonconformity and not (root_cause or "").strip():
        errors["root_cause"] = _("A nonconformity's action starts from its root cause.")
    if due_on is None:
        errors["due_on"] = _("Enter the due date.")
    elif due_on < timezone.localdate():
        errors["due_on"] = _("The due date is in the past.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding.pk)
        if finding.status == FindingStatus.CLOSED:
            raise ValidationError(_("Finding %(number)s is closed.") % {"number": finding.number})
        item = CorrectiveAction.objects.create(
            finding=finding, correction=(correction or "").strip(), root_cause=(root_cause or "").strip(), action=action,
            responsible=responsible or finding.responsible or actor, due_on=due_on, proposed_by=actor,
        )
        if finding.status == FindingStatus.OPEN:
            finding.status = FindingStatus.ACTION
            finding.save(update_fields=["status"])
        _action_event(item, actor, "proposed", action)
        notify.notify([notify.Message(lead, _("Corrective action proposed for %(number)s") % {"number": finding.number}, action,
                                      reverse("audits:finding_detail", args=[finding.pk])) for lead in quality_leads()])
    return item


def accept_action(*, actor, action: CorrectiveAction, accept: bool = True, note: str = "") -> CorrectiveAction:
    permissions.require(actor, "audits.manage")
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
        if action.status != ActionStatus.PROPOSED:
            raise ValidationError(_("Only a proposed action is accepted or sent back."))
        if accept:
            _move_action(action, ActionStatus.IN_PROGRESS)
            action.accepted_by, action.accepted_at = actor, timezone.now()
            action.save(update_fields=["status", "accepted_by", "accepted_at"])
            _action_event(action, actor, "accepted", note.strip())
        else:
            note = _text(note, "note", _("Say what the proposal lacks."))
            _action_event(action, actor, "returned", note)
            notify.notify([notify.Message(action.responsible, _("Corrective action sent back: %(why)s") % {"why": note}, action.action)])
    return action


def revise_action(*, actor, action: CorrectiveAction, action_text: str, root_cause: str, correction: str, due_on) -> CorrectiveAction:
    """The responsible person revises a proposal that was sent back."""
    if actor.pk not in (action.responsible_id, action.proposed_by_id):
        raise PermissionDenied(_("Only who proposed the action or answers for it revises it."))
    action_text = _text(action_text, "action", _("Describe the corrective action."))
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update(of=("self",)).select_related("finding").get(pk=action.pk)
        if action.status != ActionStatus.PROPOSED:
            raise ValidationError(_("Only a proposal is revised; an accepted action is reported done."))
        if action.finding is not None and action.finding.is_nonconformity and not (root_cause or "").strip():
            raise ValidationError({"root_cause": _("A nonconformity's action starts from its root cause.")})
        if due_on and due_on < timezone.localdate():
            raise ValidationError({"due_on": _("The due date is in the past.")})
        action.action, action.root_cause, action.correction = action_text, (root_cause or "").strip(), (correction or "").strip()
        if due_on:
            action.due_on = due_on
        action.save(update_fields=["action", "root_cause", "correction", "due_on"])
        _action_event(action, actor, "revised", action_text)
    return action


def complete_action(*, actor, action: CorrectiveAction, note: str) -> CorrectiveAction:
    if actor.pk != action.responsible_id:
        raise PermissionDenied(_("%(name)s reports this action done.") % {"name": _person(action.responsible)})
    note = _text(note, "note", _("Describe what was done and the evidence."))
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
        _move_action(action, ActionStatus.DONE)
        action.done_note, action.done_at = note, timezone.now()
        action.save(update_fields=["status", "done_note", "done_at"])
        _action_event(action, actor, "done", note)
        target = reverse("audits:finding_detail", args=[action.finding_id]) if action.finding_id else reverse("audits:review_detail", args=[action.review_id])
        notify.notify([notify.Message(lead, _("Corrective action done: verify its effectiveness"), action.action, target) for lead in quality_leads()])
    return action


def verify_action(*, actor, action: CorrectiveAction, effective: bool, note: str) -> CorrectiveAction:
    """Effectiveness verification before closure, by the quality lead or an auditor
    independent of the action (neither its responsible person nor who proposed it)."""
    if not (permissions.can(actor, "audits.manage") or permissions.can(actor, "audits.audit")):
        raise PermissionDenied(_("The quality lead or an auditor verifies effectiveness."))
    if actor.pk in (action.responsible_id, action.proposed_by_id):
        raise PermissionDenied(_("You are part of this action; someone independent verifies its effectiveness."))
    note = _text(note, "note", _("Record how effectiveness was verified."))
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
        if action.status != ActionStatus.DONE:
            raise ValidationError(_("The action is verified once it is reported done; it is “%(status)s”.") % {"status": action.get_status_display()})
        action.verified_by, action.verified_at, action.verification_note = actor, timezone.now(), note
        if effective:
            _move_action(action, ActionStatus.CLOSED)
        else:
            _move_action(action, ActionStatus.IN_PROGRESS)
        action.save(update_fields=["status", "verified_by", "verified_at", "verification_note"])
        _action_event(action, actor, "verified_effective" if effective else "verified_not_effective", note)
        if effective and action.finding_id:
            finding = Finding.objects.select_for_update().get(pk=action.finding_id)
            if not finding.actions.exclude(status=ActionStatus.CLOSED).exists():
                finding.status, finding.closed_at = FindingStatus.CLOSED, timezone.now()
                finding.save(update_fields=["status", "closed_at"])
                audit.record(actor=actor, action="finding.closed", target=finding, reason=note)
        if not effective:
            notify.notify([notify.Message(action.responsible, _("Corrective action not effective: %(why)s") % {"why": note}, action.action)])
    return action
