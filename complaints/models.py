"""Complaints (R-CMP-1..7): registered from any channel, accepted (the 10-working-day
clock starts), investigated and classified, handled by class, replied to within the
clock (or an explained extension), compensated where the lab caused a loss, and closed
with the complainant's feedback.

Every step is a :class:`ComplaintEvent` row (append-only; a PostgreSQL trigger refuses
UPDATE/DELETE), every message to the complainant a :class:`Correspondence` row.  The
status table :data:`TRANSITIONS` is the only way a status changes (services).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from labqms.models.append_only import AppendOnly


class Channel(models.TextChoices):
    """R-CMP-2: open channels."""

    HOTLINE = "hotline", _("Hotline")
    SUGGESTION_BOX = "suggestion_box", _("Suggestion box")
    RECEPTION = "reception", _("Reception room")
    ONLINE = "online", _("Online form")
    PORTAL = "portal", _("Customer portal")
    LETTER = "letter", _("Letter or e-mail")


class ComplaintClass(models.TextChoices):
    INVALID = "invalid", pgettext_lazy("complaint class", "Invalid")
    GENERAL = "general", pgettext_lazy("complaint class", "General")
    MAJOR = "major", _("Major quality incident")


class ComplaintStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered, not accepted yet")
    DISMISSED = "dismissed", _("Not accepted")
    ACCEPTED = "accepted", _("Accepted, under investigation")
    CLASSIFIED = "classified", _("Classified")
    PROPOSED = "proposed", _("Handling opinion proposed")
    APPROVED = "approved", _("Handling opinion approved")
    CARRIED_OUT = "carried_out", _("Handling carried out")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", pgettext_lazy("complaint", "Closed")


S = ComplaintStatus
# from -> allowed targets
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.ACCEPTED, S.DISMISSED}),
    S.ACCEPTED: frozenset({S.CLASSIFIED}),
    # invalid: the reply carries the investigation result (R-CMP-4); general and major
    # go through an opinion / decision first (R-CMP-5, R-CMP-6).
    S.CLASSIFIED: frozenset({S.PROPOSED, S.REPLIED}),
    S.PROPOSED: frozenset({S.APPROVED, S.CLASSIFIED}),  # approved, or sent back
    S.APPROVED: frozenset({S.CARRIED_OUT}),
    S.CARRIED_OUT: frozenset({S.REPLIED}),
    S.REPLIED: frozenset({S.CLOSED}),
    S.DISMISSED: frozenset(),
    S.CLOSED: frozenset(),
}
# The reply clock runs in these states.
OPEN_STATES = frozenset({S.ACCEPTED, S.CLASSIFIED, S.PROPOSED, S.APPROVED, S.CARRIED_OUT})


class Feedback(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    NOT_SATISFIED = "not_satisfied", _("Not satisfied")
    NO_RESPONSE = "no_response", _("No response from the complainant")


class Complaint(models.Model):
    number = models.CharField(_("complaint number"), max_length=30, unique=True)
    channel = models.CharField(pgettext_lazy("complaint", "channel"), max_length=20, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("registered by"),
    )
    # The complainant (R-CMP-3: the reply needs a way back).
    complainant_name = models.CharField(_("complainant"), max_length=100)
    complainant_organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    complainant_phone = models.CharField(_("phone"), max_length=50, blank=True)
    complainant_email = models.EmailField(_("e-mail"), blank=True)
    complainant_address = models.CharField(_("postal address"), max_length=300, blank=True)
    customer = models.ForeignKey(
        "intake.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="complaints",
        verbose_name=_("customer"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    # What the complaint is about (optional; searchable when registering).
    order = models.ForeignKey(
        "intake.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="complaints", verbose_name=_("order")
    )
    sample = models.ForeignKey(
        "intake.Sample", on_delete=models.PROTECT, null=True, blank=True, related_name="complaints", verbose_name=_("sample")
    )
    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.PROTECT, null=True, blank=True, related_name="complaints",
        verbose_name=_("certificate"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ComplaintStatus.choices, default=ComplaintStatus.REGISTERED, db_index=True
    )
    dismissed_reason = models.TextField(_("why not accepted"), blank=True)
    # Acceptance starts the clock (R-CMP-3).
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("accepted by")
    )
    department = models.CharField(_("responsible department"), max_length=100, blank=True)
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints_responsible",
        verbose_name=_("responsible person"),
    )
    reply_due = models.DateField(_("reply due"), null=True, blank=True, db_index=True)
    # The due date rests on the Monday–Friday guess where the official calendar is not published yet.
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    original_due = models.DateField(_("due 10 working days after acceptance"), null=True, blank=True)
    # Investigation and classification (R-CMP-4..6).
    findings = models.TextField(_("findings"), blank=True)
    classification = models.CharField(_("class"), max_length=20, choices=ComplaintClass.choices, blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("classified by")
    )
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    substantiated = models.BooleanField(_("substantiated"), default=False)
    # Major: reported to the lab head, an ad-hoc audit requested, maybe a management review (R-CMP-6).
    reported_to_head_at = models.DateTimeField(_("reported to the lab head at"), null=True, blank=True)
    audit_requested_at = models.DateTimeField(_("ad-hoc internal audit requested at"), null=True, blank=True)
    management_review_needed = models.BooleanField(_("management review item"), default=False)
    # Handling opinion (general) or decision (major).
    opinion = models.TextField(_("handling opinion"), blank=True)
    opinion_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("proposed by")
    )
    opinion_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    opinion_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approved by")
    )
    opinion_approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    carried_out_note = models.TextField(_("what was done"), blank=True)
    carried_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("carried out by")
    )
    carried_out_at = models.DateTimeField(_("carried out at"), null=True, blank=True)
    # Reply (R-CMP-3) and publication of the result (R-CMP-5).
    reply = models.TextField(_("reply"), blank=True)
    replied_on = models.DateField(_("replied on"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("replied by")
    )
    published_at = models.DateTimeField(_("result published at"), null=True, blank=True)
    # Closure with the complainant's feedback.
    feedback = models.CharField(_("complainant's feedback"), max_length=20, choices=Feedback.choices, blank=True)
    feedback_note = models.TextField(_("feedback in their words"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("closed by")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "reply_due"]),
            # Statistics: complaints received per period (R-MGT-4).
            models.Index(fields=["received_at"], name="complaint_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def replied_on_time(self) -> bool | None:
        """Replied by the due date in force (an explained extension counts)."""
        if self.replied_on is None or self.reply_due is None:
            return None
        return self.replied_on <= self.reply_due

    @property
    def replied_within_limit(self) -> bool | None:
        """Replied within 10 working days of acceptance, extensions not counted (R-CMP-3)."""
        if self.replied_on is None or self.original_due is None:
            return None
        return self.replied_on <= self.original_due


class Extension(models.Model):
    """A special case (R-CMP-3): a later due date with the explanation sent to the complainant."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="extensions", verbose_name=_("complaint"))
    previous_due = models.DateField(_("due before"))
    new_due = models.DateField(_("new due date"))
    explanation = models.TextField(_("explanation to the complainant"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    granted_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["granted_at", "id"]

    def __str__(self) -> str:
        return f"{self.previous_due} → {self.new_due}"


class CompensationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", pgettext_lazy("compensation", "Approved")
    REFUSED = "refused", pgettext_lazy("compensation", "Refused")


class Compensation(models.Model):
    """R-CMP-7: a loss the lab caused, settled by negotiation (money or in kind)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="compensations", verbose_name=_("complaint"))
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    in_kind = models.CharField(_("in kind"), max_length=300, blank=True)
    agreement = models.TextField(_("what was agreed with the complainant"))
    status = models.CharField(_("status"), max_length=20, choices=CompensationStatus.choices, default=CompensationStatus.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        ordering = ["proposed_at", "id"]

    def __str__(self) -> str:
        return f"{self.amount or self.in_kind} ({self.get_status_display()})"


class CorrespondenceKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement of acceptance")
    NOT_ACCEPTED = "not_accepted", _("Not accepted")
    EXTENSION = "extension", _("Extension with explanation")
    REPLY = "reply", _("Reply")
    DECISION = "decision", _("Decision on a major incident")


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("E-mail queued")
    SENT = "sent", _("E-mail sent")
    FAILED = "failed", _("E-mail failed")
    NOT_EMAILED = "not_emailed", _("No e-mail address: tell by phone or letter")


class Correspondence(models.Model):
    """What the lab told the complainant, when, and whether the e-mail went out."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="correspondence", verbose_name=_("complaint"))
    kind = models.CharField(_("kind"), max_length=20, choices=CorrespondenceKind.choices)
    recipient = models.CharField(_("to"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("sent by")
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    email_status = models.CharField(_("e-mail"), max_length=20, choices=EmailStatus.choices)
    email_error = models.CharField(_("e-mail error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("message to the complainant")
        verbose_name_plural = _("messages to the complainant")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.subject


ATTACHMENT_LIMIT = 5  # files per complaint from the public form


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("complaint"))
    file = models.FileField(_("file"), upload_to="complaints/%Y/")
    name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class ComplaintEvent(AppendOnly):
    """Every step, append-only: who, when, what (the complaint file for an assessor)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events", verbose_name=_("complaint"))
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    kind = models.CharField(_("step"), max_length=40)
    status_before = models.CharField(_("status before"), max_length=20, blank=True)
    status_after = models.CharField(_("status after"), max_length=20, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class AlertState(models.TextChoices):
    NEAR_DEADLINE = "near_deadline", _("Reply due soon")
    OVERDUE = "overdue", _("Reply overdue")


class ComplaintAlert(models.Model):
    """The near-deadline job's memory: one row per complaint, state and due date, so each
    state is notified once (an extension gives a new due date, and a new warning)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="alerts")
    state = models.CharField(max_length=20, choices=AlertState.choices)
    due = models.DateField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["complaint", "state", "due"], name="complaint_alert_once")]

    def __str__(self) -> str:
        return f"{self.state} {self.due}"
