"""People: staff, roles, qualifications, authorisations, training, supervision, deputies.

Roles are Django groups (one per ``Role`` value).  What a person may *do* is answered by
``labqms.permissions`` from role + valid authorisation + valid qualification + active
delegation; these models only hold the facts with their dates (R-PER-1..7).
"""

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    """A job role; each value is the name of the Django group that carries it."""

    COUNTER_STAFF = "counter_staff", _("Counter staff")
    TECHNICIAN = "technician", _("Technician")
    TECHNICAL_LEAD = "technical_lead", _("Technical lead")
    QUALITY_LEAD = "quality_lead", _("Quality lead")
    LAB_HEAD = "lab_head", _("Lab head")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = frozenset(
    {Role.COUNTER_STAFF, Role.TECHNICIAN, Role.TECHNICAL_LEAD, Role.QUALITY_LEAD, Role.LAB_HEAD}
)
# Roles that can be handed to a deputy for a time (R-PER-6).
DELEGABLE_ROLES = (Role.TECHNICAL_LEAD, Role.QUALITY_LEAD)


class Activity(models.TextChoices):
    """A kind of work a person can be authorised for (R-PER-3)."""

    RECEIVE_ORDERS = "receive_orders", _("Receive orders")
    PERFORM_VERIFICATION = "perform_verification", _("Perform verification")
    PERFORM_CALIBRATION = "perform_calibration", _("Perform calibration")
    PERFORM_TESTING = "perform_testing", _("Perform testing")
    CHECK_RECORDS = "check_records", _("Check records")
    SIGN_CERTIFICATES = "sign_certificates", _("Approve and sign certificates")
    GIVE_OPINIONS = "give_opinions", _("Give opinions and interpretations")
    OPERATE_EQUIPMENT = "operate_equipment", _("Operate equipment")
    HANDLE_COMPLAINTS = "handle_complaints", _("Handle complaints")
    AUDIT = "audit", _("Internal audit")


class Education(models.TextChoices):
    SECONDARY = "secondary", _("Secondary school")
    VOCATIONAL = "vocational", _("Vocational college")
    BACHELOR = "bachelor", _("Bachelor's degree")
    MASTER = "master", _("Master's degree")
    DOCTORATE = "doctorate", _("Doctorate")


class User(AbstractUser):
    """A person who signs in: staff member or customer contact.

    ``full_name`` holds the name as written (Chinese names are one string, not first +
    last); it is what every record and certificate shows.
    """

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name() or self.username

    def __str__(self) -> str:
        return self.get_full_name()

    @property
    def role_names(self) -> set[str]:
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_lab_staff(self) -> bool:
        return bool(self.role_names & STAFF_ROLES)


class StaffProfile(models.Model):
    """Employment facts about a staff member (R-PER-4)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="profile", verbose_name=_("person")
    )
    employee_no = models.CharField(_("employee number"), max_length=30, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    education = models.CharField(
        _("education"), max_length=20, choices=Education.choices, blank=True
    )
    speciality = models.CharField(_("speciality"), max_length=100, blank=True)
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    experience = models.TextField(_("skills and experience"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)


class DatedQuerySet(models.QuerySet):
    """Rows with ``valid_from`` / ``valid_until`` (inclusive; empty until = open-ended)."""

    def valid_on(self, day: date):
        qs = self.filter(valid_from__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )
        if any(f.name == "revoked_at" for f in self.model._meta.get_fields()):
            qs = qs.filter(revoked_at__isnull=True)
        return qs


class DatedMixin(models.Model):
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        abstract = True

    def is_valid_on(self, day: date) -> bool:
        if getattr(self, "revoked_at", None):
            return False
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def expires_within(self, day: date, days: int) -> bool:
        """Valid on ``day`` but ending within ``days`` days (shown as a warning)."""
        return (
            self.is_valid_on(day)
            and self.valid_until is not None
            and (self.valid_until - day).days < days
        )


class QualificationKind(models.TextChoices):
    VERIFIER_CERTIFICATE = "verifier_certificate", _("Verifier certificate")
    REGISTERED_METROLOGIST = "registered_metrologist", _("Registered metrology engineer")
    RADIATION_SAFETY = "radiation_safety", _("Radiation safety training certificate")
    OTHER = "other", _("Other")


class Qualification(DatedMixin):
    """A qualification certificate a person holds, e.g. a verifier certificate (R-PER-5)."""

    person = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="qualifications", verbose_name=_("person")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=QualificationKind.choices)
    number = models.CharField(_("certificate number"), max_length=60)
    issued_by = models.CharField(_("issued by"), max_length=120, blank=True)
    scope = models.TextField(_("scope"), blank=True, help_text=_("Instrument kinds covered."))
    history = HistoricalRecords()

    objects = DatedQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualification certificate")
        verbose_name_plural = _("qualification certificates")
        ordering = ["person", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="qualification_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Authorisation(DatedMixin):
    """The lab authorises a named person for an activity, optionally within a scope.

    The scope is any object (an instrument category, a piece of equipment …) through a
    generic relation, so this kernel needs no import of the apps that define them; an
    empty scope means the activity in general.  Revoking keeps the row (R-PER-4).
    """

    person = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="authorisations", verbose_name=_("person")
    )
    activity = models.CharField(_("activity"), max_length=30, choices=Activity.choices)
    scope_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("scope type"),
    )
    scope_id = models.PositiveBigIntegerField(_("scope id"), null=True, blank=True)
    scope = GenericForeignKey("scope_type", "scope_id")
    authorised_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="authorisations_granted",
        verbose_name=_("authorised by"),
    )
    competence_confirmed_on = models.DateField(_("competence confirmed on"))
    note = models.TextField(_("note"), blank=True)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)
    history = HistoricalRecords()

    objects = DatedQuerySet.as_manager()

    class Meta:
        verbose_name = _("authorisation")
        verbose_name_plural = _("authorisations")
        ordering = ["person", "activity", "-valid_from"]
        indexes = [models.Index(fields=["person", "activity"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="authorisation_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(scope_type__isnull=True, scope_id__isnull=True)
                | Q(scope_type__isnull=False, scope_id__isnull=False),
                name="authorisation_scope_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_activity_display()} · {self.scope_label}"

    @property
    def scope_label(self) -> str:
        if self.scope_type_id is None:
            return str(_("all"))
        obj = self.scope
        return str(obj) if obj is not None else f"{self.scope_type} #{self.scope_id}"

    def covers(self, scope_obj) -> bool:
        """True when this authorisation's scope includes ``scope_obj`` (None = general)."""
        if self.scope_type_id is None:
            return True
        if scope_obj is None:
            return False
        ct = ContentType.objects.get_for_model(scope_obj)
        return ct.pk == self.scope_type_id and scope_obj.pk == self.scope_id


class Delegation(models.Model):
    """A lead hands their role to a named deputy for a period (R-PER-6).

    Inside ``[valid_from, valid_until]`` the deputy holds the lead's role and the lead's
    authorisations for it; every act then says "as deputy of …".  Ending early keeps the
    row with who ended it and why.
    """

    lead = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="delegations_given", verbose_name=_("lead")
    )
    deputy = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="delegations_received",
        verbose_name=_("deputy"),
    )
    role = models.CharField(
        _("role"), max_length=30, choices=[(r.value, r.label) for r in DELEGABLE_ROLES]
    )
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("ended early at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    revoke_reason = models.TextField(_("reason for ending early"), blank=True)

    objects = DatedQuerySet.as_manager()

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="delegation_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(lead=models.F("deputy")), name="delegation_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead} → {self.deputy} ({self.get_role_display()})"

    def is_valid_on(self, day: date) -> bool:
        return self.revoked_at is None and self.valid_from <= day <= self.valid_until


class TrainingPlan(models.Model):
    """A planned training item of the yearly training plan (R-PER-2)."""

    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    audience = models.CharField(_("audience"), max_length=200, blank=True)
    planned_on = models.DateField(_("planned date"), null=True, blank=True)
    responsible = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible"),
    )
    note = models.TextField(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("training plan item")
        verbose_name_plural = _("training plan")
        ordering = ["-year", "planned_on", "title"]

    def __str__(self) -> str:
        return f"{self.year} {self.title}"


class TrainingRecord(models.Model):
    """One person attended one training, with the assessment result (R-PER-2)."""

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")
        ATTENDED = "attended", _("Attended (no assessment)")

    person = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="trainings", verbose_name=_("person")
    )
    plan = models.ForeignKey(
        TrainingPlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        verbose_name=_("plan item"),
    )
    title = models.CharField(_("title"), max_length=200)
    provider = models.CharField(_("provider"), max_length=120, blank=True)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1, null=True, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices)
    certificate_no = models.CharField(_("certificate number"), max_length=60, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["person", "-started_on"]

    def __str__(self) -> str:
        return f"{self.person} · {self.title}"


class SupervisionRecord(models.Model):
    """A supervisor observed a staff member's work (R-PER-7)."""

    class Conclusion(models.TextChoices):
        SATISFACTORY = "satisfactory", _("Satisfactory")
        NEEDS_IMPROVEMENT = "needs_improvement", _("Needs improvement")
        UNSATISFACTORY = "unsatisfactory", _("Unsatisfactory")

    supervisor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="supervisions_done",
        verbose_name=_("supervisor"),
    )
    supervisee = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="supervisions", verbose_name=_("supervisee")
    )
    supervised_on = models.DateField(_("date"))
    subject = models.CharField(_("work observed"), max_length=200)
    observations = models.TextField(_("observations"))
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=Conclusion.choices)
    follow_up = models.TextField(_("follow-up"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supervision record")
        verbose_name_plural = _("supervision records")
        ordering = ["-supervised_on"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(supervisor=models.F("supervisee")), name="supervision_not_self"
            )
        ]

    def __str__(self) -> str:
        return f"{self.supervisee} · {self.subject} · {self.supervised_on}"


class RoleDescription(models.Model):
    """What a role is for: duties, knowledge, qualifications and training needs (R-PER-1).

    Maintained by the lab head (admin, with field history); shown on the roles page and
    beside each person's roles.
    """

    role = models.CharField(_("role"), max_length=30, choices=Role.choices, unique=True)
    duties = models.TextField(_("duties"))
    knowledge = models.TextField(_("required knowledge"), blank=True)
    qualifications = models.TextField(_("required qualifications"), blank=True)
    training_needs = models.TextField(_("training needs"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role description")
        verbose_name_plural = _("role descriptions")
        ordering = ["role"]

    def __str__(self) -> str:
        return str(self.get_role_display())
