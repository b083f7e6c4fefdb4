"""The audit trail: append-only, attributed to request, task or command."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from labqms import audit
from labqms.celery import app as celery_app
from labqms.models import Activity, AuditEvent
from labqms.services import people as services


@celery_app.task(name="tests.grant_verification")
def grant_verification(actor_id, person_id):
    """A task is just another interface to a service (STYLE.md §6)."""
    from labqms.models import User

    services.grant_authorisation(
        actor=User.objects.get(pk=actor_id),
        person=User.objects.get(pk=person_id),
        activity=Activity.PERFORM_VERIFICATION,
        valid_from=dt.date(2026, 1, 1),
        competence_confirmed_on=dt.date(2026, 1, 1),
    )


def test_events_cannot_be_changed_or_deleted(head):
    event = audit.record(actor=head, action="x.done", target=head, changes={"a": [1, 2]})
    event.action = "x.undone"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


@pytest.mark.postgres
def test_database_refuses_update_and_delete_of_events(head):
    """Even raw SQL from the application cannot rewrite history on PostgreSQL."""
    event = audit.record(actor=head, action="x.done", target=head)
    for sql in (
        "UPDATE labqms_auditevent SET action = 'forged' WHERE id = %s",
        "DELETE FROM labqms_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.action == "x.done"


def test_diff_lists_only_changed_fields():
    assert audit.diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}


def test_change_made_in_a_celery_task_is_attributed_to_the_task(head, technician):
    """Not only request-driven changes are audited (the lesson of NetBox's signal log)."""
    grant_verification.apply(args=[head.pk, technician.pk]).get()
    event = AuditEvent.objects.get(action="authorisation.granted")
    assert event.source == "task:tests.grant_verification"
    assert event.actor == head
    assert audit.current_source() == "system"  # reset after the task


def test_change_made_in_a_request_is_attributed_to_the_web(client, qualitylead):
    client.force_login(qualitylead)
    response = client.post(
        "/calendar/overrides/", {"day": "2027-01-01", "is_working_day": "0", "note": "元旦"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="calendar.override_set")
    assert event.source == "web:POST /calendar/overrides/"
    assert event.actor == qualitylead


def test_events_for_an_object(head, technician):
    audit.record(actor=head, action="a", target=technician)
    audit.record(actor=head, action="b", target=head)
    assert [e.action for e in audit.events_for(technician)] == ["a"]


def test_every_action_a_service_writes_has_words():
    """The audit page shows actions in words, so every code in the code base has a label."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    codes = set()
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "node_modules" in path.parts:
            continue
        codes |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert codes, "no action codes found: the scan is broken"
    assert codes <= set(audit.ACTION_LABELS), codes - set(audit.ACTION_LABELS)


def test_changes_are_shown_with_field_names_and_choice_labels(head, technician):
    """Stored as codes; shown in words in the UI language."""
    from django.utils import translation

    from tests.factories import AuthorisationFactory

    authorisation = AuthorisationFactory(person=technician)
    event = audit.record(
        actor=head, action="authorisation.granted", target=authorisation,
        changes={"activity": [None, "perform_verification"], "scope_label": [None, "全部"]},
    )
    assert event.changes["activity"] == [None, "perform_verification"]
    with translation.override("en"):
        assert event.changes_display == [
            ("activity", None, "Perform verification"),
            ("scope_label", None, "全部"),
        ]
