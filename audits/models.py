"""Internal audits and improvement (R-MGT-1..3, R-IMP-1..3, R-PER-7).

- An :class:`AuditProgramme` per year plans :class:`Audit` s that together cover every
  element of the management system (:data:`audits.clauses.CLAUSES`) and every department.
- An audit (scheduled internal, ad hoc — from a major complaint or an impact analysis —,
  or an external assessment) has a checklist per clause and raises :class:`Finding` s.
- Findings also come from complaints, impact analyses, supervision, satisfaction surveys,
  evaluation reports and management reviews.
- A :class:`CorrectiveAction` answers a finding (or a management-review decision); it is
  closed only after someone independent of it verified its effectiveness.
- :class:`ManagementReview` compiles its inputs from live data; :class:`QualityObjective`
  targets are computed from live data; :class:`Survey` invitations are single-use links.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from labqms.models.append_only import AppendOnly

User = settings.AUTH_USER_MODEL


# --- programme and audits --------------------------------------------------------------------


class AuditProgramme(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    objectives = models.TextField(_("objectives of the programme"), blank=True)
    prepared_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("prepared by"))
    prepared_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approved by")
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit programme")
        verbose_name_plural = _("audit programmes")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class AuditKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled internal audit")
    AD_HOC = "ad_hoc", _("Ad-hoc internal audit")
    EXTERNAL = "external", _("External assessment")


class AuditStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    REPORTED = "reported", _("Reported")
    CANCELLED = "cancelled", pgettext_lazy("audit", "Cancelled")


AUDIT_TRANSITIONS: dict[str, frozenset[str]] = {
    AuditStatus.PLANNED: frozenset({AuditStatus.IN_PROGRESS, AuditStatus.CANCELLED}),
    AuditStatus.IN_PROGRESS: frozenset({AuditStatus.REPORTED}),
    AuditStatus.REPORTED: frozenset(),
    AuditStatus.CANCELLED: frozenset(),
}


class Audit(models.Model):
    number = models.CharField(_("audit number"), max_length=30, unique=True)
    programme = models.ForeignKey(
        AuditProgramme, on_delete=models.PROTECT, null=True, blank=True, related_name="audits", verbose_name=_("programme")
    )
    kind = models.CharField(_("kind of audit"), max_length=20, choices=AuditKind.choices)
    title = models.CharField(_("title"), max_length=200)
    clauses = models.JSONField(_("clauses in scope"), default=list)
    areas = models.JSONField(_("areas (departments) in scope"), default=list)
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    lead_auditor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="audits_led", verbose_name=_("lead auditor")
    )
    auditors = models.ManyToManyField(User, blank=True, related_name="audits_joined", verbose_name=_("auditors"))
    external_body = models.CharField(_("assessment body"), max_length=200, blank=True)
    # Where an ad-hoc audit comes from (R-CMP-6, the impact analysis of equipment).
    source_complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="audits",
        verbose_name=_("opened from complaint"),
    )
    source_impact = models.ForeignKey(
        "equipment.ImpactAnalysis", on_delete=models.PROTECT, null=True, blank=True, related_name="audits",
        verbose_name=_("opened from impact analysis"),
    )
    status = models.CharField(_("status"), max_length=20, choices=AuditStatus.choices, default=AuditStatus.PLANNED, db_index=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    conclusions = models.TextField(_("conclusions"), blank=True)
    reported_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("reported by")
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    cancelled_reason = models.CharField(_("why cancelled"), max_length=300, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("planned by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("audit")
        verbose_name_plural = _("audits")
        ordering = ["-planned_start", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ChecklistResult(models.TextChoices):
    NOT_CHECKED = "not_checked", _("Not checked yet")
    CONFORMS = "conforms", _("Conforms")
    NONCONFORMITY = "nonconformity", _("Nonconformity")
    OBSERVATION = "observation", _("Observation")


class ChecklistItem(models.Model):
    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="checklist", verbose_name=_("audit"))
    clause = models.CharField(_("clause"), max_length=20)
    question = models.TextField(_("what to check"))
    evidence = models.TextField(_("evidence seen"), blank=True)
    result = models.CharField(_("result"), max_length=20, choices=ChecklistResult.choices, default=ChecklistResult.NOT_CHECKED)
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("checked by"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.clause} {self.question[:40]}"


# --- findings and corrective actions -----------------------------------------------------------


class FindingGrade(models.TextChoices):
    MAJOR = "major", _("Major nonconformity")
    MINOR = "minor", _("Minor nonconformity")
    OBSERVATION = "observation", _("Observation")


class FindingSource(models.TextChoices):
    AUDIT = "audit", _("Audit")
    COMPLAINT = "complaint", _("Complaint")
    IMPACT = "impact", _("Impact analysis")
    SUPERVISION = "supervision", _("Supervision")
    SURVEY = "survey", _("Satisfaction survey")
    EVALUATION = "evaluation", _("Evaluation report")
    REVIEW = "review", _("Management review")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open: action awaited")
    ACTION = "action", _("Action under way")
    CLOSED = "closed", pgettext_lazy("finding", "Closed")


class Finding(models.Model):
    number = models.CharField(_("finding number"), max_length=30, unique=True)
    grade = models.CharField(_("grade"), max_length=20, choices=FindingGrade.choices)
    source = models.CharField(_("source"), max_length=20, choices=FindingSource.choices)
    clause = models.CharField(_("clause"), max_length=20, blank=True)
    area = models.CharField(_("area (department)"), max_length=100, blank=True)
    description = models.TextField(_("nonconformity / observation"))
    evidence = models.TextField(_("evidence"), blank=True)
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by"))
    raised_on = models.DateField(_("raised on"))
    responsible = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="findings_responsible",
        verbose_name=_("responsible for the action"),
    )
    status = models.CharField(_("status"), max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, null=True, blank=True, related_name="findings", verbose_name=_("audit"))
    checklist_item = models.ForeignKey(
        ChecklistItem, on_delete=models.PROTECT, null=True, blank=True, related_name="findings", verbose_name=_("checklist item")
    )
    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_findings",
        verbose_name=_("complaint"),
    )
    impact = models.ForeignKey(
        "equipment.ImpactAnalysis", on_delete=models.PROTECT, null=True, blank=True, related_name="findings",
        verbose_name=_("impact analysis"),
    )
    supervision = models.ForeignKey(
        "labqms.SupervisionRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="findings",
        verbose_name=_("supervision"),
    )
    survey_response = models.ForeignKey(
        "audits.SurveyResponse", on_delete=models.PROTECT, null=True, blank=True, related_name="findings",
        verbose_name=_("survey response"),
    )
    evaluation = models.ForeignKey(
        "audits.EvaluationReport", on_delete=models.PROTECT, null=True, blank=True, related_name="findings",
        verbose_name=_("evaluation report"),
    )
    review = models.ForeignKey(
        "audits.ManagementReview", on_delete=models.PROTECT, null=True, blank=True, related_name="findings",
        verbose_name=pgettext_lazy("audit", "management review"),
    )

    class Meta:
        verbose_name = pgettext_lazy("audit", "finding")
        verbose_name_plural = pgettext_lazy("audit", "findings")
        ordering = ["-raised_on", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.description[:40]}"

    @property
    def is_nonconformity(self) -> bool:
        return self.grade in (FindingGrade.MAJOR, FindingGrade.MINOR)


class ActionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done, awaiting verification")
    CLOSED = "closed", _("Verified effective, closed")


ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    ActionStatus.PROPOSED: frozenset({ActionStatus.IN_PROGRESS, ActionStatus.PROPOSED}),
    ActionStatus.IN_PROGRESS: frozenset({ActionStatus.DONE}),
    # Not effective → back to work with the verifier's note.
    ActionStatus.DONE: frozenset({ActionStatus.CLOSED, ActionStatus.IN_PROGRESS}),
    ActionStatus.CLOSED: frozenset(),
}


class CorrectiveAction(models.Model):
    """Correction, root cause and corrective action for a finding — or a decision of a
    management review, tracked the same way (R-MGT-1)."""

    finding = models.ForeignKey(
        Finding, on_delete=models.PROTECT, null=True, blank=True, related_name="actions", verbose_name=pgettext_lazy("audit", "finding")
    )
    review = models.ForeignKey(
        "audits.ManagementReview", on_delete=models.PROTECT, null=True, blank=True, related_name="actions",
        verbose_name=pgettext_lazy("audit", "management review"),
    )
    correction = models.TextField(_("correction (immediate fix)"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    action = models.TextField(_("corrective action"))
    responsible = models.ForeignKey(User, on_delete=models.PROTECT, related_name="actions_responsible", verbose_name=_("responsible"))
    due_on = models.DateField(pgettext_lazy("audit", "due on"), db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.PROPOSED, db_index=True)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    accepted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("accepted by"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    done_note = models.TextField(_("what was done (evidence)"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    verified_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("verified by"))
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verification_note = models.TextField(_("effectiveness verification"), blank=True)

    class Meta:
        verbose_name = _("corrective action")
        verbose_name_plural = _("corrective actions")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(finding__isnull=False, review__isnull=True) | models.Q(finding__isnull=True, review__isnull=False),
                name="action_for_a_finding_or_a_review",
            )
        ]

    def __str__(self) -> str:
        return self.action[:60]


class ActionEvent(AppendOnly):
    """Every step of an action (append-only): proposed, accepted, done, verified …"""

    action = models.ForeignKey(CorrectiveAction, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=40)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d}"


class ActionAlert(models.Model):
    """The daily job's memory: an overdue action is notified once per due date."""

    action = models.ForeignKey(CorrectiveAction, on_delete=models.CASCADE, related_name="alerts")
    due = models.DateField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action", "due"], name="action_alert_once")]

    def __str__(self) -> str:
        return f"{self.action_id} {self.due}"


# --- management review and quality objectives --------------------------------------------------


class ReviewKind(models.TextChoices):
    ANNUAL = "annual", _("Annual")
    AD_HOC = "ad_hoc", _("Ad hoc")


class ReviewStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held, minutes in draft")
    CLOSED = "closed", _("Minutes approved")


class ManagementReview(models.Model):
    number = models.CharField(_("review number"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ReviewKind.choices)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    planned_on = models.DateField(_("planned for"))
    held_on = models.DateField(_("held on"), null=True, blank=True)
    chair = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("chair"))
    attendees = models.TextField(_("attendees"), blank=True)
    # The inputs as compiled from live data (frozen when the minutes are approved).
    inputs = models.JSONField(_("inputs"), default=dict, blank=True)
    inputs_compiled_at = models.DateTimeField(_("inputs compiled at"), null=True, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.PLANNED)
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    source_complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="reviews",
        verbose_name=_("opened from complaint"),
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("planned by"))

    class Meta:
        verbose_name = pgettext_lazy("audit", "management review")
        verbose_name_plural = _("management reviews")
        ordering = ["-planned_on", "-id"]

    def __str__(self) -> str:
        return self.number


class Measure(models.TextChoices):
    """What an objective measures, each computed from live data over the period."""

    ON_TIME_COMPLETION = "on_time_completion", _("Orders completed on time (%)")
    SATISFACTION = "satisfaction", _("Customer satisfaction (share of top-two scores, %)")
    COMPLAINTS_ON_TIME = "complaints_on_time", _("Complaints replied within 10 working days (%)")
    COMPLAINT_RATE = "complaint_rate", _("Complaints per 1 000 certificates")
    ACTIONS_ON_TIME = "actions_on_time", _("Corrective actions closed by their due date (%)")
    EQUIPMENT_IN_CALIBRATION = "equipment_in_calibration", _("Equipment in calibration (%)")


class Comparison(models.TextChoices):
    AT_LEAST = "gte", "≥"
    AT_MOST = "lte", "≤"


class QualityObjective(models.Model):
    year = models.PositiveSmallIntegerField(_("year"), db_index=True)
    measure = models.CharField(_("measure"), max_length=40, choices=Measure.choices)
    comparison = models.CharField(_("comparison"), max_length=3, choices=Comparison.choices, default=Comparison.AT_LEAST)
    target = models.DecimalField(_("target"), max_digits=8, decimal_places=2)
    statement = models.CharField(_("objective as stated in the quality manual"), max_length=300, blank=True)
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("set by"))

    class Meta:
        verbose_name = _("quality objective")
        verbose_name_plural = _("quality objectives")
        ordering = ["-year", "measure"]
        constraints = [models.UniqueConstraint(fields=["year", "measure"], name="objective_once_per_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.get_measure_display()} {self.get_comparison_display()} {self.target}"


# --- satisfaction surveys and evaluation reports (R-IMP-1, R-IMP-2) ------------------------------

QUESTIONS = [
    ("reception", _("Reception and service attitude")),
    ("turnaround", _("Turnaround time")),
    ("certificates", _("Certificates and reports")),
    ("price", _("Fees")),
    ("overall", _("Overall satisfaction")),
]
LOW_SCORE = 2  # scores 1–5; a score at or below this becomes a finding (R-IMP-2)


class Survey(models.Model):
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class SurveyInvitation(models.Model):
    """A single-use link for one customer (optionally about one released order)."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations", verbose_name=_("survey"))
    customer = models.ForeignKey("intake.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    order = models.ForeignKey("intake.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("order"))
    email = models.EmailField(_("e-mail"), blank=True)
    token = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    used_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "order"], condition=models.Q(order__isnull=False), name="survey_once_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.customer}"


class SurveyResponse(models.Model):
    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.PROTECT, related_name="response", verbose_name=_("invitation"))
    scores = models.JSONField(_("scores (1–5)"))
    comments = models.TextField(_("comments"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.invitation} {self.submitted_at:%Y-%m-%d}"


class EvaluationKind(models.TextChoices):
    SELF = "self", _("Self-evaluation")
    THIRD_PARTY = "third_party", _("Third-party evaluation")


class EvaluationReport(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=EvaluationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    evaluator = models.CharField(_("evaluated by"), max_length=200, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    file = models.FileField(_("report file"), upload_to="evaluations/%Y/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    analysis = models.TextField(_("analysis"))
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    uploaded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evaluation report")
        verbose_name_plural = _("evaluation reports")
        ordering = ["-period_end", "-id"]

    def __str__(self) -> str:
        return self.title
