"""The one place that answers "may this user do X (to this object, on this date)?".

An answer combines four facts, each with its dates:

* **role** — the Django group (``Role``), held directly or through an active
  ``Delegation`` (the deputy then acts "as deputy of" the lead, R-PER-6);
* **authorisation** — a valid, unrevoked ``Authorisation`` for the rule's activity whose
  scope covers the object's scope (R-PER-3).  A deputy may also use the lead's
  authorisations for the activities that belong to the delegated role;
* **qualification** — for hands-on verification/calibration work, a valid verifier
  certificate (持证上岗, R-PER-5);
* **active account** — a deactivated user may do nothing.

Services call :func:`require`; views, templates (``{% can %}``) and the admin call
:func:`check` or :func:`can`.  Rules are data in ``RULES``; later apps add their actions
there so every rule stays in this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from labqms.models import (
    Activity,
    Authorisation,
    Delegation,
    Qualification,
    QualificationKind,
    Role,
)
from labqms.models.people import STAFF_ROLES

LEADS = frozenset({Role.TECHNICAL_LEAD, Role.QUALITY_LEAD, Role.LAB_HEAD})
TECHNICAL_STAFF = frozenset({Role.TECHNICIAN, Role.TECHNICAL_LEAD})

# The activities whose authorisations a deputy may borrow from the lead (R-PER-6).
ROLE_ACTIVITIES: dict[str, frozenset[str]] = {
    Role.TECHNICAL_LEAD: frozenset({Activity.SIGN_CERTIFICATES, Activity.GIVE_OPINIONS}),
    Role.QUALITY_LEAD: frozenset({Activity.HANDLE_COMPLAINTS, Activity.AUDIT}),
}


@dataclass(frozen=True)
class Rule:
    """Who may perform an action: any of ``roles``, plus the activity/qualification gates."""

    roles: frozenset[str]
    activity: str | None = None
    qualification: bool = False
    description: str = ""


RULES: dict[str, Rule] = {
    # People, calendar and audit trail (this issue).
    "people.view": Rule(STAFF_ROLES),
    "people.manage_roles": Rule(frozenset({Role.LAB_HEAD})),
    "people.manage_authorisations": Rule(frozenset({Role.TECHNICAL_LEAD, Role.LAB_HEAD})),
    "people.manage_records": Rule(LEADS),
    "people.manage_delegations": Rule(frozenset({Role.LAB_HEAD})),
    "calendar.view": Rule(STAFF_ROLES),
    "calendar.manage": Rule(LEADS),
    "audit.view": Rule(LEADS),
    "admin.access": Rule(frozenset({Role.LAB_HEAD})),
    # Work gated by authorisation (used by later apps; tested here as a matrix).
    "intake.receive_order": Rule(frozenset({Role.COUNTER_STAFF}), activity=Activity.RECEIVE_ORDERS),
    # Intake (issue 3): everyone on the staff may look; counter staff do the work.
    "intake.view": Rule(STAFF_ROLES),
    "intake.manage_catalogue": Rule(frozenset({Role.TECHNICAL_LEAD, Role.LAB_HEAD})),
    "intake.approve_credit": Rule(frozenset({Role.LAB_HEAD})),
    "intake.technical_work": Rule(TECHNICAL_STAFF),
    "portal.use": Rule(frozenset({Role.CUSTOMER})),
    "records.perform_verification": Rule(
        TECHNICAL_STAFF, activity=Activity.PERFORM_VERIFICATION, qualification=True
    ),
    "records.perform_calibration": Rule(
        TECHNICAL_STAFF, activity=Activity.PERFORM_CALIBRATION, qualification=True
    ),
    "records.perform_testing": Rule(TECHNICAL_STAFF, activity=Activity.PERFORM_TESTING),
    "records.check": Rule(TECHNICAL_STAFF, activity=Activity.CHECK_RECORDS),
    # Records (issue 5): technical staff and the leads who answer to assessors may read
    # records (R-REC-4: confidential); the technical lead approves methods and templates.
    "records.view": Rule(TECHNICAL_STAFF | {Role.QUALITY_LEAD, Role.LAB_HEAD}),
    "records.assign": Rule(TECHNICAL_STAFF),
    "records.manage_methods": Rule(frozenset({Role.TECHNICAL_LEAD})),
    "records.dispose": Rule(frozenset({Role.LAB_HEAD})),
    "certificates.prepare": Rule(TECHNICAL_STAFF),
    # Issued certificates are read by all staff (the counter releases them); drafts and
    # the records behind them stay with records.view (R-REC-4).
    "certificates.view": Rule(STAFF_ROLES),
    "certificates.sign": Rule(TECHNICAL_STAFF, activity=Activity.SIGN_CERTIFICATES),
    "equipment.operate": Rule(TECHNICAL_STAFF, activity=Activity.OPERATE_EQUIPMENT),
    # Equipment (issue 4): all staff may look; technicians record; the technical lead decides.
    "equipment.view": Rule(STAFF_ROLES),
    "equipment.maintain": Rule(TECHNICAL_STAFF),
    "equipment.manage": Rule(frozenset({Role.TECHNICAL_LEAD})),
    "complaints.handle": Rule(
        frozenset({Role.QUALITY_LEAD, Role.LAB_HEAD}), activity=Activity.HANDLE_COMPLAINTS
    ),
    # Complaints (issue 7): whoever takes the call registers; the quality lead owns the
    # process (complaints.handle); the lab head decides major cases and compensation.
    "complaints.view": Rule(STAFF_ROLES),
    "complaints.register": Rule(STAFF_ROLES),
    "complaints.approve_major": Rule(frozenset({Role.LAB_HEAD})),
    "complaints.approve_compensation": Rule(frozenset({Role.LAB_HEAD})),
    "audits.audit": Rule(STAFF_ROLES, activity=Activity.AUDIT),
    # Audits and improvement (issue 8): all staff see findings and their actions; the
    # quality lead plans and verifies; the lab head approves the programme and chairs
    # the management review.
    "audits.view": Rule(STAFF_ROLES),
    "audits.manage": Rule(frozenset({Role.QUALITY_LEAD})),
    "audits.approve": Rule(frozenset({Role.LAB_HEAD})),
    # Operations (issue 9): business statistics are for the leads (R-MGT-4); a deputy
    # sees them while acting for a lead.
    "statistics.view": Rule(LEADS),
}


# Actions allowed when any one of several rules allows them (checked in this order).
ANY_OF: dict[str, tuple[str, ...]] = {
    # R-PER-7: supervised by a lead, or by someone authorised to check that work.
    "people.record_supervision": ("people.manage_records", "records.check"),
    # R-INT-4: the counter reviews routine orders; the technical lead may review any.
    "intake.review_order": ("intake.receive_order", "intake.manage_catalogue"),
    # Moving samples: the counter, and technicians taking them into and out of test.
    "intake.handle_samples": ("intake.receive_order", "intake.technical_work"),
}


@dataclass(frozen=True)
class Decision:
    """The answer, with the reason a refusal can show and the deputy relation if any."""

    allowed: bool
    reason: str = ""
    as_deputy_of: object | None = None
    authorisation: Authorisation | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        return self.allowed


def _today() -> date:
    return timezone.localdate()


def active_delegations(user, on: date):
    """Delegations under which ``user`` acts as deputy on ``on``."""
    return Delegation.objects.valid_on(on).filter(deputy=user).select_related("lead")


def effective_roles(user, on: date | None = None) -> dict[str, object | None]:
    """``{role: lead}`` for every role the user holds on ``on``; lead is None when own."""
    on = on or _today()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    roles: dict[str, object | None] = {name: None for name in user.role_names}
    for delegation in active_delegations(user, on):
        if delegation.role not in roles and delegation.lead.has_role(delegation.role):
            roles[delegation.role] = delegation.lead
    return roles


def _scope_of(obj, scope):
    if scope is not None:
        return scope
    getter = getattr(obj, "get_permission_scope", None)
    return getter() if getter else None


def _covering_authorisation(person, activity: str, scope, on: date) -> Authorisation | None:
    for authorisation in Authorisation.objects.valid_on(on).filter(
        person=person, activity=activity
    ):
        if authorisation.covers(scope):
            return authorisation
    return None


def has_valid_qualification(person, on: date) -> bool:
    return (
        Qualification.objects.valid_on(on)
        .filter(person=person, kind=QualificationKind.VERIFIER_CERTIFICATE)
        .exists()
    )


def check(user, action: str, obj=None, *, on: date | None = None, scope=None) -> Decision:
    """May ``user`` perform ``action`` (on ``obj``, within ``scope``) on date ``on``?"""
    if action in ANY_OF:
        decision = Decision(False)
        for alternative in ANY_OF[action]:
            decision = check(user, alternative, obj, on=on, scope=scope)
            if decision:
                break
        return decision
    try:
        rule = RULES[action]
    except KeyError:
        raise ValueError(f"Unknown permission action {action!r}") from None
    on = on or _today()
    if not getattr(user, "is_authenticated", False):
        return Decision(False, _("You need to sign in."))
    if not user.is_active:
        return Decision(False, _("This account is deactivated."))

    roles = effective_roles(user, on)
    via_role = [role for role in rule.roles if role in roles]
    if not via_role:
        return Decision(False, _("Your role does not allow this."))
    # Prefer a role held in one's own right over one held as deputy.
    own = [role for role in via_role if roles[role] is None]
    role_lead = None if own else roles[via_role[0]]

    authorisation = None
    deputy_of = role_lead
    if rule.activity:
        target_scope = _scope_of(obj, scope)
        authorisation = _covering_authorisation(user, rule.activity, target_scope, on)
        if authorisation is None:
            # A deputy may act on the lead's authorisation for the delegated role.
            for delegation in active_delegations(user, on):
                if rule.activity in ROLE_ACTIVITIES.get(delegation.role, ()):
                    borrowed = _covering_authorisation(
                        delegation.lead, rule.activity, target_scope, on
                    )
                    if borrowed is not None and delegation.lead.has_role(delegation.role):
                        authorisation, deputy_of = borrowed, delegation.lead
                        break
        if authorisation is None:
            return Decision(
                False,
                _("You hold no valid authorisation for “%(activity)s” on %(date)s.")
                % {"activity": Activity(rule.activity).label, "date": on.isoformat()},
            )
    if rule.qualification and not has_valid_qualification(user, on):
        return Decision(
            False,
            _("You hold no valid verifier certificate on %(date)s.") % {"date": on.isoformat()},
        )
    return Decision(True, as_deputy_of=deputy_of, authorisation=authorisation)


def can_many(user, actions, *, on: date | None = None) -> dict[str, bool]:
    """``{action: allowed}`` for general (object-less) questions, e.g. which menu entries
    to show.  The roles are looked up once; only rules that need an authorisation or a
    qualification ask further."""
    on = on or _today()
    roles = effective_roles(user, on)
    answers: dict[str, bool] = {}

    def allowed(action: str) -> bool:
        if action not in answers:
            if action in ANY_OF:
                answers[action] = any(allowed(alternative) for alternative in ANY_OF[action])
            else:
                rule = RULES[action]
                if not any(role in roles for role in rule.roles):
                    answers[action] = False
                elif rule.activity or rule.qualification:
                    answers[action] = check(user, action, on=on).allowed
                else:
                    answers[action] = True
        return answers[action]

    return {action: allowed(action) for action in actions}


def can(user, action: str, obj=None, *, on: date | None = None, scope=None) -> bool:
    return check(user, action, obj, on=on, scope=scope).allowed


def require(user, action: str, obj=None, *, on: date | None = None, scope=None) -> Decision:
    """Like :func:`check` but raises ``PermissionDenied`` with the reason when refused."""
    decision = check(user, action, obj, on=on, scope=scope)
    if not decision:
        raise PermissionDenied(decision.reason)
    return decision


def require_or_404(user, action: str, obj=None, **kwargs) -> Decision:
    """For views: outsiders learn nothing, not even that the object exists."""
    decision = check(user, action, obj, **kwargs)
    if not decision:
        raise Http404
    return decision
