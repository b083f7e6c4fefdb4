"""labqms.permissions: role × authorisation × qualification × delegation × date
(R-PER-3, R-PER-5, R-PER-6, R-TST-4)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from labqms import permissions
from labqms.models import Activity, Role
from tests.factories import (
    AuthorisationFactory,
    DelegationFactory,
    QualificationFactory,
    UserFactory,
)

D = dt.date
ON = D(2026, 11, 21)
VERIFY = "records.perform_verification"


def _tech(role=Role.TECHNICIAN, *, auth=None, qual=None, active=True):
    """A person with role, an optional verification authorisation and qualification."""
    person = UserFactory(roles=[role], is_active=active)
    if auth:
        valid_from, valid_until, revoked = auth
        AuthorisationFactory(
            person=person,
            activity=Activity.PERFORM_VERIFICATION,
            valid_from=valid_from,
            valid_until=valid_until,
            competence_confirmed_on=valid_from,
            revoked_at=timezone.now() if revoked else None,
        )
    if qual:
        QualificationFactory(person=person, valid_from=qual[0], valid_until=qual[1])
    return person


VALID = (D(2025, 1, 1), D(2027, 12, 31), False)
QUAL_OK = (D(2024, 1, 1), D(2028, 12, 31))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "kwargs", "allowed"),
    [
        ("authorised and qualified", dict(auth=VALID, qual=QUAL_OK), True),
        ("open-ended authorisation", dict(auth=(D(2025, 1, 1), None, False), qual=QUAL_OK), True),
        (
            "authorisation ends today (inclusive)",
            dict(auth=(D(2025, 1, 1), ON, False), qual=QUAL_OK),
            True,
        ),
        ("no authorisation", dict(qual=QUAL_OK), False),
        (
            "authorisation expired yesterday",
            dict(auth=(D(2025, 1, 1), ON - dt.timedelta(days=1), False), qual=QUAL_OK),
            False,
        ),
        (
            "authorisation starts tomorrow",
            dict(auth=(ON + dt.timedelta(days=1), None, False), qual=QUAL_OK),
            False,
        ),
        ("authorisation revoked", dict(auth=(D(2025, 1, 1), None, True), qual=QUAL_OK), False),
        (
            "qualification expired (R-PER-5)",
            dict(auth=VALID, qual=(D(2020, 1, 1), D(2025, 12, 31))),
            False,
        ),
        ("no qualification (R-PER-5)", dict(auth=VALID), False),
        ("deactivated account", dict(auth=VALID, qual=QUAL_OK, active=False), False),
        (
            "wrong role: counter staff",
            dict(role=Role.COUNTER_STAFF, auth=VALID, qual=QUAL_OK),
            False,
        ),
        ("wrong role: customer", dict(role=Role.CUSTOMER, auth=VALID, qual=QUAL_OK), False),
        (
            "technical lead authorised",
            dict(role=Role.TECHNICAL_LEAD, auth=VALID, qual=QUAL_OK),
            True,
        ),
    ],
)
def test_verification_matrix(case, kwargs, allowed):
    """R-PER-3/R-PER-5/R-TST-4: only authorised, qualified technical staff verify."""
    person = _tech(**kwargs)
    decision = permissions.check(person, VERIFY, on=ON)
    assert decision.allowed is allowed, (case, decision.reason)
    if not allowed:
        assert decision.reason


@pytest.mark.django_db
def test_the_date_of_the_act_decides():
    """R-PER-3: an authorisation valid in 2025 allows 2025 work, not 2028 work."""
    person = _tech(auth=(D(2025, 1, 1), D(2025, 12, 31), False), qual=QUAL_OK)
    assert permissions.can(person, VERIFY, on=D(2025, 6, 1))
    assert not permissions.can(person, VERIFY, on=D(2026, 6, 1))


@pytest.mark.django_db
def test_checking_records_needs_no_verifier_certificate_but_an_authorisation():
    person = UserFactory(roles=[Role.TECHNICIAN])
    assert not permissions.can(person, "records.check", on=ON)
    AuthorisationFactory(person=person, activity=Activity.CHECK_RECORDS)
    assert permissions.can(person, "records.check", on=ON)


@pytest.mark.django_db
def test_scoped_authorisation_covers_its_scope_only():
    """R-PER-3: authorised for one instrument category (any model serves as scope)."""
    bp, ecg = Group.objects.create(name="血压计"), Group.objects.create(name="心电图机")
    person = _tech(qual=QUAL_OK)
    AuthorisationFactory(person=person, activity=Activity.PERFORM_VERIFICATION, scope=bp)
    assert permissions.can(person, VERIFY, on=ON, scope=bp)
    assert not permissions.can(person, VERIFY, on=ON, scope=ecg)
    assert not permissions.can(person, VERIFY, on=ON)  # general work needs a general authorisation


@pytest.mark.django_db
def test_scope_comes_from_the_object():
    bp = Group.objects.create(name="血压计")
    person = _tech(qual=QUAL_OK)
    AuthorisationFactory(person=person, activity=Activity.PERFORM_VERIFICATION, scope=bp)

    class Task:
        def get_permission_scope(self):
            return bp

    assert permissions.can(person, VERIFY, Task(), on=ON)


@pytest.mark.django_db
def test_general_authorisation_covers_every_scope():
    person = _tech(auth=VALID, qual=QUAL_OK)
    assert permissions.can(person, VERIFY, on=ON, scope=Group.objects.create(name="输液泵"))


# --- Delegation (R-PER-6) ---------------------------------------------------------------


@pytest.fixture
def lead_and_deputy(db):
    lead = UserFactory(roles=[Role.TECHNICAL_LEAD], full_name="李明")
    AuthorisationFactory(person=lead, activity=Activity.SIGN_CERTIFICATES)
    deputy = UserFactory(roles=[Role.TECHNICIAN], full_name="周强")
    delegation = DelegationFactory(
        lead=lead, deputy=deputy, valid_from=D(2026, 11, 16), valid_until=D(2026, 11, 27)
    )
    return lead, deputy, delegation


@pytest.mark.parametrize(
    ("on", "allowed"),
    [
        (D(2026, 11, 15), False),
        (D(2026, 11, 16), True),
        (D(2026, 11, 27), True),
        (D(2026, 11, 28), False),
    ],
)
def test_deputy_signs_only_inside_the_delegation_window(lead_and_deputy, on, allowed):
    """R-PER-6: the deputy holds the lead's signing power only while delegated, and the
    decision says "as deputy of" the lead."""
    lead, deputy, _ = lead_and_deputy
    decision = permissions.check(deputy, "certificates.sign", on=on)
    assert decision.allowed is allowed
    if allowed:
        assert decision.as_deputy_of == lead
        assert decision.authorisation.person == lead


def test_deputy_holds_the_leads_role_while_delegated(lead_and_deputy):
    lead, deputy, _ = lead_and_deputy
    assert not permissions.can(deputy, "people.manage_authorisations", on=D(2026, 11, 1))
    decision = permissions.check(deputy, "people.manage_authorisations", on=ON)
    assert decision.allowed and decision.as_deputy_of == lead
    assert permissions.effective_roles(deputy, ON) == {
        Role.TECHNICIAN: None,
        Role.TECHNICAL_LEAD: lead,
    }


def test_ended_delegation_gives_nothing(lead_and_deputy):
    _, deputy, delegation = lead_and_deputy
    delegation.revoked_at = timezone.now()
    delegation.save()
    assert not permissions.can(deputy, "certificates.sign", on=ON)
    assert not permissions.can(deputy, "people.manage_authorisations", on=ON)


def test_deputy_cannot_borrow_what_the_lead_lacks(lead_and_deputy):
    lead, deputy, _ = lead_and_deputy
    lead.authorisations.update(valid_until=D(2026, 11, 1))
    assert not permissions.can(deputy, "certificates.sign", on=ON)


def test_deputy_does_not_borrow_activities_outside_the_delegated_role(lead_and_deputy):
    """Delegating the technical lead role does not lend the lead's hands-on verification."""
    lead, deputy, _ = lead_and_deputy
    AuthorisationFactory(person=lead, activity=Activity.PERFORM_VERIFICATION)
    QualificationFactory(person=deputy)
    assert not permissions.can(deputy, VERIFY, on=ON)


def test_own_authorisation_is_used_before_a_borrowed_one(lead_and_deputy):
    _, deputy, _ = lead_and_deputy
    own = AuthorisationFactory(person=deputy, activity=Activity.SIGN_CERTIFICATES)
    decision = permissions.check(deputy, "certificates.sign", on=ON)
    # An authorised signatory in their own right signs as themselves, not as deputy.
    assert decision.authorisation == own
    assert decision.as_deputy_of is None


@pytest.mark.django_db
def test_quality_lead_deputy_handles_complaints():
    lead = UserFactory(roles=[Role.QUALITY_LEAD])
    AuthorisationFactory(person=lead, activity=Activity.HANDLE_COMPLAINTS)
    deputy = UserFactory(roles=[Role.TECHNICIAN])
    assert not permissions.can(deputy, "complaints.handle", on=ON)
    DelegationFactory(lead=lead, deputy=deputy, role=Role.QUALITY_LEAD)
    decision = permissions.check(deputy, "complaints.handle", on=ON)
    assert decision.allowed and decision.as_deputy_of == lead


# --- API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_require_raises_permission_denied_with_the_reason():
    person = UserFactory(roles=[Role.TECHNICIAN])
    with pytest.raises(PermissionDenied) as info:
        permissions.require(person, VERIFY, on=ON)
    assert str(info.value)


def test_unknown_action_is_a_programming_error(db):
    with pytest.raises(ValueError):
        permissions.check(UserFactory(), "nonsense.action")


def test_anonymous_may_do_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert not permissions.can(AnonymousUser(), "people.view")


@pytest.mark.django_db
def test_superuser_gets_no_business_powers():
    """An IT administrator account is not a verifier or signatory."""
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert not permissions.can(admin, "certificates.sign", on=ON)
    assert not permissions.can(admin, "people.view", on=ON)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "check_authorisation", "allowed"),
    [
        (Role.QUALITY_LEAD, False, True),
        (Role.TECHNICIAN, True, True),
        (Role.TECHNICIAN, False, False),
        (Role.COUNTER_STAFF, False, False),
    ],
)
def test_supervision_by_a_lead_or_an_authorised_checker(role, check_authorisation, allowed):
    """R-PER-7: supervisors are leads or people authorised to check the work."""
    person = UserFactory(roles=[role])
    if check_authorisation:
        AuthorisationFactory(person=person, activity=Activity.CHECK_RECORDS)
    assert permissions.can(person, "people.record_supervision", on=ON) is allowed


@pytest.mark.django_db
def test_can_many_agrees_with_can_for_every_rule(make_user, head):
    """The menu's bulk answer is the same as asking each rule on its own."""
    from labqms import permissions
    from labqms.models import Activity, Role
    from tests.factories import AuthorisationFactory

    users = [make_user(role, username=f"cm_{role}") for role in Role]
    AuthorisationFactory(person=users[1], activity=Activity.CHECK_RECORDS, authorised_by=head)
    actions = list(permissions.RULES) + list(permissions.ANY_OF)
    for user in users:
        assert permissions.can_many(user, actions) == {a: permissions.can(user, a) for a in actions}
