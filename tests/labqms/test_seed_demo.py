"""`seed_demo`: one user per role, idempotent, refused unless DEBUG."""

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from labqms import permissions
from labqms.models import AuditEvent, Role, User

USERNAMES = [
    "counter",
    "tech1",
    "tech2",
    "techlead",
    "qualitylead",
    "head",
    "techdeputy",
    "hospital1",
]


def _counts():
    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label in {"labqms", "auth"}
    }


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))


def test_creates_every_demo_login_with_the_demo_password(seeded):
    for username in USERNAMES:
        user = User.objects.get(username=username)
        assert user.check_password("labqms-demo"), username


def test_running_twice_changes_nothing(seeded):
    before = _counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert _counts() == before


def test_demo_authorisations_make_the_workflows_possible(seeded):
    """The later issues' flows need these people able to act today (R-PER-3, R-PER-5)."""
    u = {name: User.objects.get(username=name) for name in USERNAMES}
    assert permissions.can(u["counter"], "intake.receive_order")
    for name in ("tech1", "tech2"):
        assert permissions.can(u[name], "records.perform_verification")
        assert permissions.can(u[name], "records.check")
        assert permissions.can(u[name], "equipment.operate")
    assert permissions.can(u["techlead"], "certificates.sign")
    assert permissions.can(u["qualitylead"], "complaints.handle")
    assert permissions.can(u["qualitylead"], "audits.audit")
    deputy = permissions.check(u["techdeputy"], "certificates.sign")
    assert deputy.allowed and deputy.as_deputy_of == u["techlead"]
    assert not permissions.can(u["hospital1"], "people.view")
    assert u["hospital1"].has_role(Role.CUSTOMER)


def test_changes_are_attributed_to_the_command(seeded):
    sources = set(AuditEvent.objects.values_list("source", flat=True))
    assert sources == {"command:seed_demo"}


def test_refused_unless_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_texts_stored_by_the_command_are_in_the_labs_language(seeded):
    """Audit snapshots written by seed_demo read in Chinese, whatever the shell's locale."""
    event = AuditEvent.objects.get(action="delegation.started")
    assert "技术负责人" in event.target_repr
