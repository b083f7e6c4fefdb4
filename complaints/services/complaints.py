"""Complaint handling (R-CMP-1..7, ISO/IEC 17025 7.9): every step is a function here that
checks who may do it, checks the status table, runs in one transaction, writes the
:class:`ComplaintEvent` and, where the complainant is told something, a
:class:`Correspondence` row e-mailed after commit.

Who does what:
- anyone on the staff registers (whoever takes the call); the public form and the
  customer portal register without a staff member;
- the quality lead (``complaints.handle``: quality lead or lab head authorised to handle
  complaints) accepts, classifies, replies, extends, proposes compensation and closes;
- the responsible department (its members, the responsible person, or a handler) records
  findings, proposes the handling opinion and carries it out;
- the responsible person approves a general complaint's opinion, the lab head a major
  one's decision and any compensation — never the person who proposed it, and never
  someone who performed, checked or approved the work complained about (7.9.6).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import (
    ATTACHMENT_LIMIT,
    TRANSITIONS,
    Compensation,
    CompensationStatus,
    Complaint,
    ComplaintAttachment,
    ComplaintClass,
    ComplaintEvent,
    ComplaintStatus,
    Correspondence,
    CorrespondenceKind,
    EmailStatus,
    Extension,
    Feedback,
)
from labqms import audit, notify, numbering, permissions, workdays
from labqms.models import Role, User

S = ComplaintStatus
REPLY_WORKING_DAYS = 10  # R-CMP-3


# --- helpers -----------------------------------------------------------------------------


def _person(user) -> str:
    return user.get_full_name() if user else ""


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def _move(complaint: Complaint, target: str, *, actor, kind: str, note: str = "", data: dict | None = None, fields=()) -> None:
    before = complaint.status
    if target not in TRANSITIONS[before]:
        raise ValidationError(
            _("Complaint %(number)s is “%(status)s”; this step does not apply now.")
            % {"number": complaint.number, "status": complaint.get_status_display()}
        )
    complaint.status = target
    complaint.save(update_fields=["status", *fields])
    _event(complaint, actor=actor, kind=kind, before=before, note=note, data=data)


def _event(complaint, *, actor, kind: str, before: str = "", note: str = "", data: dict | None = None) -> ComplaintEvent:
    event = ComplaintEvent.objects.create(
        complaint=complaint, actor=actor if actor is not None and actor.pk else None, kind=kind,
        status_before=before, status_after=complaint.status, note=note, data=data or {},
    )
    audit.record(actor=actor, action=f"complaint.{kind}", target=complaint, reason=note,
                 changes={"status": [before, complaint.status]} if before and before != complaint.status else None)
    return event


def _tell(complaint: Complaint, *, kind: str, subject: str, body: str, actor) -> Correspondence:
    """A message to the complainant, e-mailed after commit when there is an address."""
    email = complaint.complainant_email
    message = Correspondence.objects.create(
        complaint=complaint, kind=kind, recipient=email or complaint.complainant_phone or complaint.complainant_address,
        subject=subject[:200], body=body, sent_by=actor if actor is not None and actor.pk else None,
        email_status=EmailStatus.PENDING if email else EmailStatus.NOT_EMAILED,
    )
    if email:
        from complaints import tasks

        transaction.on_commit(lambda: tasks.send_correspondence.delay(message.pk))
    return message


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def handlers() -> list[User]:
    """The quality leads (they own the process and are told of every new complaint)."""
    return list(User.objects.filter(is_active=True, groups__name=Role.QUALITY_LEAD).distinct().order_by("pk"))


def is_department_member(user, complaint: Complaint) -> bool:
    if not complaint.department:
        return False
    profile = getattr(user, "profile", None)
    return bool(profile and profile.department == complaint.department)


def _require_department(actor, complaint: Complaint) -> None:
    """The responsible department's work: its members, the responsible person, a handler."""
    permissions.require(actor, "complaints.view")
    if actor.pk == complaint.responsible_person_id or is_department_member(actor, complaint):
        return
    if permissions.can(actor, "complaints.handle"):
        return
    raise PermissionDenied(
        _("Only the responsible department (%(department)s), the responsible person or the quality lead does this.")
        % {"department": complaint.department or "—"}
    )


# --- registering (R-CMP-2) ---------------------------------------------------------------


def _clean_contact(data: dict) -> dict:
    cleaned = {key: (data.get(key) or "").strip() for key in (
        "complainant_name", "complainant_organisation", "complainant_phone", "complainant_email", "complainant_address",
        "subject", "description",
    )}
    errors = {}
    if not cleaned["complainant_name"]:
        errors["complainant_name"] = _("Enter the complainant's name.")
    if not (cleaned["complainant_phone"] or cleaned["complainant_email"] or cleaned["complainant_address"]):
        errors["complainant_phone"] = _("Enter a phone number, an e-mail or a postal address: the reply must reach the complainant.")
    if not cleaned["subject"]:
        errors["subject"] = _("Enter a subject.")
    if not cleaned["description"]:
        errors["description"] = _("Describe the complaint.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_links(data: dict) -> dict:
    """Order, sample and certificate must agree with each other (and the customer)."""
    order, sample, certificate = data.get("order"), data.get("sample"), data.get("certificate")
    if certificate is not None:
        sample = sample or certificate.record.sample
        if certificate.record.sample_id != sample.pk:
            raise ValidationError({"certificate": _("That certificate is not for the sample given.")})
    if sample is not None:
        order = order or sample.order
        if sample.order_id != order.pk:
            raise ValidationError({"sample": _("That sample does not belong to the order given.")})
    customer = data.get("customer")
    if customer is None and order is not None and data.get("_staff"):
        # Staff taking the call know who complains; an anonymous form that names someone's
        # certificate is not thereby that customer (its replies stay out of their portal).
        customer = order.customer
    if order is not None and customer is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("That order belongs to another customer.")})
    return {"order": order, "sample": sample, "certificate": certificate, "customer": customer}


def _save_attachments(complaint, uploads, actor) -> None:
    from equipment.services.register import check_upload  # PDF/PNG/JPEG ≤ 10 MB, content checked

    uploads = [u for u in (uploads or []) if u]
    if len(uploads) > ATTACHMENT_LIMIT:
        raise ValidationError({"attachments": _("Attach at most %(n)d files.") % {"n": ATTACHMENT_LIMIT}})
    # Check every file before storing any: a refused file leaves none of them on disk.
    checked = [(upload, check_upload(upload, "attachments")) for upload in uploads]
    for upload, sha in checked:
        ComplaintAttachment.objects.create(
            complaint=complaint, file=upload, name=upload.name[:200], sha256=sha,
            uploaded_by=actor if actor is not None and actor.pk else None,
        )


def register(*, actor, channel: str, data: dict, attachments=None, received_at=None) -> Complaint:
    """A complaint from any channel.  ``actor`` is the staff member who took it, or None for
    the public form; a portal user registers for their own organisation (R-INT-9; refused without one)."""
    if actor is not None and actor.pk and permissions.can(actor, "portal.use"):
        from intake.services.portal import customer_of

        customer = customer_of(actor)  # PermissionDenied without an organisation
        data = {**data, "customer": customer}
        for key in ("order", "sample", "certificate"):
            linked = data.get(key)
            if linked is not None and _customer_of_link(key, linked) != customer.pk:
                raise ValidationError({key: _("That is not one of your organisation's.")})
    elif actor is not None:
        permissions.require(actor, "complaints.register")
    from complaints.models import Channel

    if channel not in Channel.values:
        raise ValidationError({"channel": _("Choose how the complaint came in.")})
    cleaned = _clean_contact(data)
    links = _check_links({**data, "_staff": actor is not None and not permissions.can(actor, "portal.use")})
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"received_at": _("The complaint cannot have been received in the future.")})
    with transaction.atomic():
        complaint = Complaint.objects.create(
            number=numbering.next_number("complaint", year=timezone.localdate(received_at).year),
            channel=channel, received_at=received_at,
            registered_by=actor if actor is not None and actor.pk else None,
            **cleaned, **links,
        )
        _save_attachments(complaint, attachments, actor)
        _event(complaint, actor=actor, kind="registered", data={"channel": channel})
        url = reverse("complaints:complaint_detail", args=[complaint.pk])
        notify.notify([
            notify.Message(lead, _("New complaint %(number)s: %(subject)s") % {"number": complaint.number, "subject": complaint.subject}, "", url)
            for lead in handlers()
        ])
    return complaint


def _customer_of_link(key: str, linked) -> int | None:
    if key == "order":
        return linked.customer_id
    if key == "sample":
        return linked.order.customer_id
    return linked.record.sample.order.customer_id


# --- acceptance starts the clock (R-CMP-3) --------------------------------------------------


def due_for(accepted_on: dt.date) -> tuple[dt.date, bool]:
    """Acceptance + 10 working days, and whether that rests on an unpublished calendar."""
    due = workdays.add_working_days(accepted_on, REPLY_WORKING_DAYS)
    return due, not workdays.span_covered(accepted_on, due)


def accept(*, actor, complaint: Complaint, department: str, responsible_person, accepted_on: dt.date | None = None) -> Complaint:
    granted = permissions.require(actor, "complaints.handle")
    department = _require_text(department, "department", _("Name the responsible department."))
    if responsible_person is None or not responsible_person.is_active or not permissions.can(responsible_person, "complaints.view"):
        raise ValidationError({"responsible_person": _("Choose an active member of staff as the responsible person.")})
    today = timezone.localdate()
    accepted_on = accepted_on or today
    if accepted_on > today:
        raise ValidationError({"accepted_on": _("Acceptance cannot be in the future.")})
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status != S.REGISTERED:
            raise ValidationError(
                _("Complaint %(number)s was already accepted on %(date)s.") % {"number": complaint.number, "date": complaint.accepted_on}
                if complaint.accepted_on else _("Complaint %(number)s is “%(status)s”.") % {"number": complaint.number, "status": complaint.get_status_display()}
            )
        if accepted_on < timezone.localdate(complaint.received_at):
            raise ValidationError({"accepted_on": _("A complaint is accepted on or after the day it was received.")})
        _require_uninvolved(responsible_person, complaint)
        due, provisional = due_for(accepted_on)
        complaint.accepted_on, complaint.accepted_by = accepted_on, actor
        complaint.department, complaint.responsible_person = department, responsible_person
        complaint.reply_due = complaint.original_due = due
        complaint.due_provisional = provisional
        _move(complaint, S.ACCEPTED, actor=actor, kind="accepted",
              data={"department": department, "responsible": _person(responsible_person), "due": due.isoformat(), "provisional": provisional,
                    "as_deputy_of": _person(granted.as_deputy_of)},
              fields=["accepted_on", "accepted_by", "department", "responsible_person", "reply_due", "original_due", "due_provisional"])
        with translation.override(settings.LANGUAGE_CODE):  # the complainant reads the lab's language
            _tell(complaint, kind=CorrespondenceKind.ACKNOWLEDGEMENT, actor=actor,
                  subject=_("Your complaint %(number)s has been accepted") % {"number": complaint.number},
                  body=_("We accepted your complaint “%(subject)s” on %(date)s. %(department)s is responsible; you will receive our reply by %(due)s.")
                  % {"subject": complaint.subject, "date": accepted_on.isoformat(), "department": department, "due": due.isoformat()})
        notify.notify([notify.Message(
            responsible_person, _("You are responsible for complaint %(number)s (reply due %(due)s)") % {"number": complaint.number, "due": due.isoformat()},
            complaint.subject, reverse("complaints:complaint_detail", args=[complaint.pk]),
        )])
    return complaint


def _require_uninvolved(person, complaint: Complaint) -> None:
    """The responsible person approves a general complaint's outcome: not someone who
    performed, checked or approved the work complained about (ISO/IEC 17025 7.9.6)."""
    reasons = involvement(complaint).get(person.pk)
    if reasons:
        raise ValidationError({"responsible_person": _(
            "%(name)s %(what)s; choose someone not involved in the work complained about (ISO/IEC 17025 7.9.6)."
        ) % {"name": _person(person), "what": ", ".join(reasons)}})


def reassign(*, actor, complaint: Complaint, department: str, responsible_person, reason: str) -> Complaint:
    """Another department or responsible person while the complaint is open (absence,
    a conflict of interest found later); the clock does not restart."""
    permissions.require(actor, "complaints.handle")
    department = _require_text(department, "department", _("Name the responsible department."))
    reason = _require_text(reason, "reason", _("Say why the responsibility changes."))
    if responsible_person is None or not responsible_person.is_active or not permissions.can(responsible_person, "complaints.view"):
        raise ValidationError({"responsible_person": _("Choose an active member of staff as the responsible person.")})
    with transaction.atomic():
        complaint = _locked(complaint)
        if not complaint.is_open:
            raise ValidationError(_("Only an open complaint changes hands."))
        if department == complaint.department and responsible_person.pk == complaint.responsible_person_id:
            raise ValidationError({"responsible_person": _("That is who is responsible already.")})
        _require_uninvolved(responsible_person, complaint)
        before = {"department": complaint.department, "responsible": _person(complaint.responsible_person)}
        complaint.department, complaint.responsible_person = department, responsible_person
        complaint.save(update_fields=["department", "responsible_person"])
        _event(complaint, actor=actor, kind="reassigned", before=complaint.status, note=reason,
               data={"from": before, "to": {"department": department, "responsible": _person(responsible_person)}})
        notify.notify([notify.Message(
            responsible_person, _("You are responsible for complaint %(number)s (reply due %(due)s)") % {"number": complaint.number, "due": complaint.reply_due},
            complaint.subject, reverse("complaints:complaint_detail", args=[complaint.pk]),
        )])
    return complaint


def dismiss(*, actor, complaint: Complaint, reason: str) -> Complaint:
    """Not accepted (spam, not about the lab's work); the complainant is told why when reachable."""
    permissions.require(actor, "complaints.handle")
    reason = _require_text(reason, "reason", _("Say why the complaint is not accepted."))
    with transaction.atomic():
        complaint = _locked(complaint)
        complaint.dismissed_reason = reason
        _move(complaint, S.DISMISSED, actor=actor, kind="dismissed", note=reason, fields=["dismissed_reason"])
        if complaint.complainant_email or complaint.complainant_phone or complaint.complainant_address:
            with translation.override(settings.LANGUAGE_CODE):  # the complainant reads the lab's language
                _tell(complaint, kind=CorrespondenceKind.NOT_ACCEPTED, actor=actor,
                      subject=_("Your complaint %(number)s") % {"number": complaint.number}, body=reason)
    return complaint


# --- investigation and classification (R-CMP-4..6) ----------------------------------------


def record_findings(*, actor, complaint: Complaint, findings: str) -> Complaint:
    findings = _require_text(findings, "findings", _("Write what the investigation found."))
    _require_department(actor, complaint)
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status not in (S.ACCEPTED, S.CLASSIFIED, S.PROPOSED):
            raise ValidationError(_("Findings are recorded while the complaint is investigated."))
        before = complaint.findings
        complaint.findings = findings
        complaint.save(update_fields=["findings"])
        _event(complaint, actor=actor, kind="findings", note=findings, data={"before": before} if before else None)
    return complaint


def classify(*, actor, complaint: Complaint, classification: str, substantiated: bool = False,
             management_review: bool = False, note: str = "") -> Complaint:
    permissions.require(actor, "complaints.handle")
    if classification not in ComplaintClass.values:
        raise ValidationError({"classification": _("Choose invalid, general or major.")})
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status != S.ACCEPTED:
            raise ValidationError(
                _("Complaint %(number)s is “%(status)s”; it is classified once, after acceptance.")
                % {"number": complaint.number, "status": complaint.get_status_display()}
            )
        if not complaint.findings.strip():
            raise ValidationError({"classification": _("Record the findings of the investigation before classifying.")})
        now = timezone.now()
        complaint.classification, complaint.classified_by, complaint.classified_at = classification, actor, now
        complaint.substantiated = classification != ComplaintClass.INVALID and substantiated
        fields = ["classification", "classified_by", "classified_at", "substantiated"]
        major = classification == ComplaintClass.MAJOR
        if major:
            complaint.reported_to_head_at = now
            complaint.management_review_needed = management_review
            fields += ["reported_to_head_at", "management_review_needed"]
            if complaint.substantiated:
                complaint.audit_requested_at = now
                fields.append("audit_requested_at")
        _move(complaint, S.CLASSIFIED, actor=actor, kind="classified", note=note.strip(),
              data={"class": classification, "substantiated": complaint.substantiated}, fields=fields)
        if major:
            url = reverse("complaints:complaint_detail", args=[complaint.pk])
            heads = list(User.objects.filter(is_active=True, groups__name=Role.LAB_HEAD).distinct())
            notify.notify([notify.Message(
                head, _("Major quality incident reported: complaint %(number)s") % {"number": complaint.number},
                complaint.findings, url) for head in heads])
            _event(complaint, actor=actor, kind="reported_to_head", data={"heads": [_person(h) for h in heads]})
            if complaint.substantiated:
                # [Audits] opens the ad-hoc audit from this request (R-CMP-6).
                _event(complaint, actor=actor, kind="audit_requested", note=complaint.findings)
            if management_review:
                _event(complaint, actor=actor, kind="management_review_item")
    return complaint


# --- handling opinion (R-CMP-5) or decision (R-CMP-6) -------------------------------------


def propose_opinion(*, actor, complaint: Complaint, opinion: str) -> Complaint:
    opinion = _require_text(opinion, "opinion", _("Write the proposed handling opinion."))
    _require_department(actor, complaint)
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.classification == ComplaintClass.INVALID:
            raise ValidationError(_("An invalid complaint gets the investigation result as its reply, not a handling opinion."))
        # Whoever approves does not propose (nobody would be left to approve it).
        if complaint.classification == ComplaintClass.GENERAL and actor.pk == complaint.responsible_person_id:
            raise PermissionDenied(_("You approve the handling opinion; a colleague of the department or the quality lead proposes it."))
        if complaint.classification == ComplaintClass.MAJOR and permissions.can(actor, "complaints.approve_major"):
            raise PermissionDenied(_("The lab head decides a major case; the department or the quality lead proposes the decision."))
        complaint.opinion, complaint.opinion_by, complaint.opinion_at = opinion, actor, timezone.now()
        complaint.opinion_approved_by, complaint.opinion_approved_at = None, None
        _move(complaint, S.PROPOSED, actor=actor, kind="opinion_proposed", note=opinion,
              fields=["opinion", "opinion_by", "opinion_at", "opinion_approved_by", "opinion_approved_at"])
        approver = complaint.responsible_person if complaint.classification == ComplaintClass.GENERAL else None
        recipients = [approver] if approver else list(User.objects.filter(is_active=True, groups__name=Role.LAB_HEAD).distinct())
        notify.notify([notify.Message(r, _("Handling opinion to approve: complaint %(number)s") % {"number": complaint.number},
                                      opinion, reverse("complaints:complaint_detail", args=[complaint.pk])) for r in recipients])
    return complaint


def involvement(complaint: Complaint) -> dict[int, list[str]]:
    """Who performed, checked or approved the work complained about (7.9.6), by user id,
    from the linked certificate, sample or order and their records and certificates."""
    from certificates.models import Certificate, Record

    records = Record.objects.none()
    if complaint.certificate_id:
        records = Record.objects.filter(pk=complaint.certificate.record_id)
    elif complaint.sample_id:
        records = Record.objects.filter(task__sample_id=complaint.sample_id)
    elif complaint.order_id:
        records = Record.objects.filter(task__sample__order_id=complaint.order_id)
    people: dict[int, list[str]] = {}
    for number, performer, checker in records.values_list("number", "performer_id", "checker_id"):
        people.setdefault(performer, []).append(_("performed record %(n)s") % {"n": number})
        if checker:
            people.setdefault(checker, []).append(_("checked record %(n)s") % {"n": number})
    certificates = Certificate.objects.filter(Q(record__in=records) | Q(pk=complaint.certificate_id)).exclude(approved_by=None)
    for number, approver, checked_by in certificates.values_list("number", "approved_by_id", "checked_by_id"):
        people.setdefault(approver, []).append(_("approved certificate %(n)s") % {"n": number or "—"})
        if checked_by:
            people.setdefault(checked_by, []).append(_("checked certificate %(n)s") % {"n": number or "—"})
    return people


def _require_independent(actor, complaint: Complaint) -> None:
    reasons = involvement(complaint).get(actor.pk)
    if reasons:
        raise PermissionDenied(
            _("You %(what)s: someone not involved in the work complained about approves the outcome (ISO/IEC 17025 7.9.6).")
            % {"what": ", ".join(reasons)}
        )


def decide_opinion(*, actor, complaint: Complaint, approve: bool, comment: str = "") -> Complaint:
    """General: the responsible person approves the department's opinion (R-CMP-5); major:
    the lab head decides (R-CMP-6).  Sent back with a comment otherwise."""
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status != S.PROPOSED:
            raise ValidationError(_("There is no proposed opinion to decide on."))
        if complaint.classification == ComplaintClass.MAJOR:
            permissions.require(actor, "complaints.approve_major")
        elif actor.pk != complaint.responsible_person_id:
            raise PermissionDenied(
                _("The responsible person (%(name)s) approves the handling opinion.") % {"name": _person(complaint.responsible_person)}
            )
        if actor.pk == complaint.opinion_by_id:
            raise PermissionDenied(_("You proposed this opinion; someone else approves it."))
        _require_independent(actor, complaint)
        if approve:
            complaint.opinion_approved_by, complaint.opinion_approved_at = actor, timezone.now()
            _move(complaint, S.APPROVED, actor=actor, kind="opinion_approved", note=comment.strip(),
                  fields=["opinion_approved_by", "opinion_approved_at"])
        else:
            comment = _require_text(comment, "comment", _("Say why the opinion is sent back."))
            _move(complaint, S.CLASSIFIED, actor=actor, kind="opinion_returned", note=comment)
    return complaint


def carry_out(*, actor, complaint: Complaint, note: str) -> Complaint:
    note = _require_text(note, "note", _("Say what was done."))
    _require_department(actor, complaint)
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status != S.APPROVED:
            raise ValidationError(_("The handling opinion must be approved before it is carried out."))
        complaint.carried_out_note, complaint.carried_out_by, complaint.carried_out_at = note, actor, timezone.now()
        _move(complaint, S.CARRIED_OUT, actor=actor, kind="carried_out", note=note,
              fields=["carried_out_note", "carried_out_by", "carried_out_at"])
    return complaint


# --- reply, extension, compensation, closure ----------------------------------------------


def reply(*, actor, complaint: Complaint, text: str, publish: bool = False) -> Complaint:
    """R-CMP-3..6: the reply within the clock.  Invalid: the investigation result (R-CMP-4);
    general: the result, published to the customer (R-CMP-5); major: the decisions, also
    told to the people concerned (R-CMP-6)."""
    permissions.require(actor, "complaints.handle")
    text = _require_text(text, "text", _("Write the reply."))
    with transaction.atomic():
        complaint = _locked(complaint)
        invalid = complaint.classification == ComplaintClass.INVALID
        if not (complaint.status == S.CARRIED_OUT or (invalid and complaint.status == S.CLASSIFIED)):
            raise ValidationError(
                _("Complaint %(number)s is “%(status)s”; the reply follows the investigation result (invalid) or the approved handling carried out.")
                % {"number": complaint.number, "status": complaint.get_status_display()}
            )
        now = timezone.now()
        complaint.reply, complaint.replied_by, complaint.replied_on = text, actor, timezone.localdate(now)
        fields = ["reply", "replied_by", "replied_on"]
        if complaint.classification == ComplaintClass.GENERAL or publish:
            complaint.published_at = now
            fields.append("published_at")
        _move(complaint, S.REPLIED, actor=actor, kind="replied", note=text,
              data={"on_time": complaint.replied_on <= complaint.reply_due, "published": bool(complaint.published_at)}, fields=fields)
        major = complaint.classification == ComplaintClass.MAJOR
        with translation.override(settings.LANGUAGE_CODE):  # the complainant reads the lab's language
            _tell(complaint, kind=CorrespondenceKind.DECISION if major else CorrespondenceKind.REPLY, actor=actor,
                  subject=_("Reply to your complaint %(number)s") % {"number": complaint.number}, body=text)
        if major:
            concerned = User.objects.filter(pk__in=list(involvement(complaint)), is_active=True)
            url = reverse("complaints:complaint_detail", args=[complaint.pk])
            notify.notify([notify.Message(p, _("Decision on complaint %(number)s") % {"number": complaint.number}, text, url)
                           for p in concerned])
    return complaint


def extend(*, actor, complaint: Complaint, new_due: dt.date, explanation: str) -> Complaint:
    """A special case (R-CMP-3): a later due date, explained to the complainant."""
    permissions.require(actor, "complaints.handle")
    explanation = _require_text(explanation, "explanation", _("Explain to the complainant why the reply needs longer."))
    if new_due is None:
        raise ValidationError({"new_due": _("Enter the new due date.")})
    with transaction.atomic():
        complaint = _locked(complaint)
        if not complaint.is_open:
            raise ValidationError(_("Only an open complaint waiting for its reply is extended."))
        if new_due <= complaint.reply_due:
            raise ValidationError({"new_due": _("The new due date must be after %(due)s.") % {"due": complaint.reply_due}})
        if not workdays.is_working_day(new_due):
            raise ValidationError({"new_due": _("%(date)s is not a working day.") % {"date": new_due}})
        previous = complaint.reply_due
        Extension.objects.create(complaint=complaint, previous_due=previous, new_due=new_due, explanation=explanation, granted_by=actor)
        complaint.reply_due = new_due
        complaint.due_provisional = not workdays.span_covered(complaint.accepted_on, new_due)
        complaint.save(update_fields=["reply_due", "due_provisional"])
        _event(complaint, actor=actor, kind="extended", before=complaint.status, note=explanation,
               data={"from": previous.isoformat(), "to": new_due.isoformat()})
        with translation.override(settings.LANGUAGE_CODE):  # the complainant reads the lab's language
            _tell(complaint, kind=CorrespondenceKind.EXTENSION, actor=actor,
                  subject=_("Your complaint %(number)s: reply by %(date)s") % {"number": complaint.number, "date": new_due.isoformat()},
                  body=explanation)
    return complaint


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({"amount": _("Enter an amount in yuan, e.g. 350.00.")}) from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("Enter a positive amount with at most two decimals.")})
    return amount


def propose_compensation(*, actor, complaint: Complaint, amount=None, in_kind: str = "", agreement: str = "") -> Compensation:
    """R-CMP-7: a loss the lab caused, settled by negotiation; the lab head approves."""
    permissions.require(actor, "complaints.handle")
    if permissions.can(actor, "complaints.approve_compensation"):
        raise PermissionDenied(_("The lab head decides compensation; the quality lead proposes it."))
    amount = _amount(amount)
    in_kind = (in_kind or "").strip()
    if amount is None and not in_kind:
        raise ValidationError({"amount": _("Enter an amount or what is given in kind.")})
    agreement = _require_text(agreement, "agreement", _("Record what was agreed with the complainant."))
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status in (S.REGISTERED, S.DISMISSED, S.CLOSED):
            raise ValidationError(_("Compensation is agreed while an accepted complaint is open."))
        if complaint.classification == ComplaintClass.INVALID:
            raise ValidationError(_("An invalid complaint found no loss caused by the lab."))
        if complaint.compensations.filter(status=CompensationStatus.PROPOSED).exists():
            raise ValidationError(_("A compensation proposal is already waiting for the lab head."))
        compensation = Compensation.objects.create(
            complaint=complaint, amount=amount, in_kind=in_kind, agreement=agreement, proposed_by=actor
        )
        _event(complaint, actor=actor, kind="compensation_proposed", before=complaint.status, note=agreement,
               data={"amount": str(amount) if amount is not None else "", "in_kind": in_kind})
    return compensation


def decide_compensation(*, actor, compensation: Compensation, approve: bool, note: str = "") -> Compensation:
    permissions.require(actor, "complaints.approve_compensation")
    with transaction.atomic():
        compensation = Compensation.objects.select_for_update().select_related("complaint").get(pk=compensation.pk)
        if compensation.status != CompensationStatus.PROPOSED:
            raise ValidationError(_("This compensation was already decided."))
        if compensation.proposed_by_id == actor.pk:
            raise PermissionDenied(_("You proposed this compensation; someone else approves it."))
        if not approve:
            note = _require_text(note, "note", _("Say why the compensation is refused."))
        compensation.status = CompensationStatus.APPROVED if approve else CompensationStatus.REFUSED
        compensation.decided_by, compensation.decided_at, compensation.decision_note = actor, timezone.now(), note.strip()
        compensation.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        complaint = compensation.complaint
        _event(complaint, actor=actor, kind="compensation_approved" if approve else "compensation_refused",
               before=complaint.status, note=note.strip(), data={"compensation": compensation.pk})
    return compensation


def close(*, actor, complaint: Complaint, feedback: str, feedback_note: str = "") -> Complaint:
    permissions.require(actor, "complaints.handle")
    if feedback not in Feedback.values:
        raise ValidationError({"feedback": _("Record the complainant's feedback (or that there was none).")})
    feedback_note = (feedback_note or "").strip()
    if feedback == Feedback.NOT_SATISFIED and not feedback_note:
        raise ValidationError({"feedback_note": _("Record what the complainant is not satisfied with.")})
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.compensations.filter(status=CompensationStatus.PROPOSED).exists():
            raise ValidationError(_("A compensation proposal is still waiting for the lab head."))
        complaint.feedback, complaint.feedback_note = feedback, feedback_note
        complaint.closed_at, complaint.closed_by = timezone.now(), actor
        _move(complaint, S.CLOSED, actor=actor, kind="closed", note=feedback_note, data={"feedback": feedback},
              fields=["feedback", "feedback_note", "closed_at", "closed_by"])
    return complaint


# --- figures (the quality lead's view; [Audits]' management review) -------------------------


def figures(complaints) -> dict:
    """Counts by class and status, and the reply rates, over a queryset (two queries)."""
    from django.db.models import Count, F

    by_class = dict(complaints.exclude(classification="").values_list("classification").annotate(n=Count("id")).values_list("classification", "n"))
    replied = complaints.filter(replied_on__isnull=False).aggregate(
        n=Count("id"),
        on_time=Count("id", filter=Q(replied_on__lte=F("reply_due"))),
        within_limit=Count("id", filter=Q(replied_on__lte=F("original_due"))),
    )
    n = replied["n"]
    return {
        "by_class": {c: by_class.get(c, 0) for c in ComplaintClass.values},
        "replied": n,
        "on_time": replied["on_time"],
        "within_limit": replied["within_limit"],
        "on_time_rate": (Decimal(replied["on_time"] * 100) / n).quantize(Decimal("0.1")) if n else None,
        "within_limit_rate": (Decimal(replied["within_limit"] * 100) / n).quantize(Decimal("0.1")) if n else None,
    }
