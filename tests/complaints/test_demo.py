"""Demo data for Complaints (issue 7 "the demo holds complaints in every state, some near
the deadline"): after ``seed_demo`` every status of the complaint table appears, made by
the real services as the demo roles; some complaints have ≤ 2 working days left and one
is overdue (R-CMP-3, counted like the near-deadline job does); the complaints about issued
demo certificates have a responsible person not involved in that work (ISO/IEC 17025
7.9.6); a second seed changes no count of any table.

Seeding issues certificates (real PDFs), so each test seeds as few times as it can."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from complaints import demo
from complaints.models import (
    OPEN_STATES,
    Channel,
    CompensationStatus,
    Complaint,
    ComplaintClass,
    ComplaintStatus,
)
from complaints.services import complaints as services
from complaints.services import job
from labqms.models import User

pytestmark = pytest.mark.django_db
S = ComplaintStatus


def _seed(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())


def _counts() -> dict[str, int]:
    tables = set(connection.introspection.table_names())
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.db_table in tables}


def _demo(subject) -> Complaint:
    return Complaint.objects.get(subject=subject)


def test_r_cmp_every_state_some_near_the_deadline_one_overdue_and_reseeding_changes_nothing(settings):
    _seed(settings)
    complaints = list(Complaint.objects.all())
    assert len(complaints) == len(demo.SPECS)
    assert {c.status for c in complaints} == set(S.values)  # every state of the complaint table

    # R-CMP-3: the clock, counted as the near-deadline job counts it.
    today = timezone.localdate()
    open_ = [c for c in complaints if c.status in OPEN_STATES]
    left = job.days_left(open_, today)
    threshold = settings.COMPLAINTS_NEAR_DEADLINE_DAYS
    near = [c for c in open_ if c.reply_due >= today and left[c.pk] <= threshold]
    overdue = [c for c in open_ if c.reply_due < today]
    assert len(near) >= 2 and all(0 < left[c.pk] <= 2 for c in near)
    assert len(overdue) == 1 and left[overdue[0].pk] == -2
    assert any(left[c.pk] > threshold for c in open_)  # and some on track
    # What the job would flag on the day of seeding (it is not run by seeding).
    assert not Complaint.objects.filter(alerts__isnull=False).exists()

    counts = _counts()
    _seed(settings)
    assert _counts() == counts


def test_r_cmp_the_demo_complaints_went_through_each_step_as_their_roles(settings):
    _seed(settings)
    users = {u.username: u for u in User.objects.all()}
    lead, head, counter = users["qualitylead"], users["head"], users["counter"]

    # R-CMP-2: from the public online form without staff, and from the customer portal.
    online = Complaint.objects.get(channel=Channel.ONLINE)
    assert online.status == S.REGISTERED and online.registered_by is None
    portal = Complaint.objects.get(channel=Channel.PORTAL)
    assert portal.registered_by == users["hospital1"] and portal.customer.name == "市第一人民医院"
    assert Complaint.objects.get(status=S.DISMISSED).dismissed_reason

    # R-CMP-3: accepted by the quality lead with a due date 10 working days later.
    for c in Complaint.objects.exclude(accepted_on=None):
        assert c.accepted_by == lead and c.original_due == services.due_for(c.accepted_on)[0]
        assert timezone.localdate(c.received_at) <= c.accepted_on <= timezone.localdate()

    # R-CMP-5: general, published; the responsible person approved a colleague's opinion.
    published = portal
    assert published.status == S.REPLIED and published.classification == ComplaintClass.GENERAL
    assert published.published_at is not None and published.replied_on_time
    for c in Complaint.objects.exclude(opinion_approved_by=None):
        assert c.opinion_approved_by == c.responsible_person != c.opinion_by

    # R-CMP-4: invalid complaints replied with the investigation result, one late, one closed unsatisfied.
    invalid = Complaint.objects.filter(classification=ComplaintClass.INVALID)
    assert invalid.count() == 2 and all(c.replied_on for c in invalid)
    assert {c.status for c in invalid} == {S.REPLIED, S.CLOSED}
    assert Complaint.objects.filter(status=S.CLOSED, feedback="satisfied").exists()
    figures = services.figures(Complaint.objects.all())
    assert figures["replied"] == 4 and figures["on_time"] == 3  # one reply was late

    # R-CMP-6: the major incident, substantiated: reported to the lab head, audit requested.
    major = Complaint.objects.get(classification=ComplaintClass.MAJOR)
    assert major.substantiated and major.reported_to_head_at and major.audit_requested_at and major.management_review_needed
    assert major.status == S.PROPOSED  # the lab head decides
    assert {"reported_to_head", "audit_requested", "management_review_item"} <= set(major.events.values_list("kind", flat=True))

    # R-CMP-3 special case: an extension with its explanation, sent to the complainant.
    extended = Complaint.objects.get(extensions__isnull=False)
    assert extended.reply_due > extended.original_due and extended.status == S.CARRIED_OUT
    assert extended.correspondence.filter(kind="extension").exists()

    # R-CMP-7: one compensation waiting for the lab head, one approved by the lab head.
    assert major.compensations.get().status == CompensationStatus.PROPOSED
    approved = portal.compensations.get()
    assert approved.status == CompensationStatus.APPROVED and approved.decided_by == head and approved.proposed_by == lead

    # Linked to demo work; the responsible person was not involved in it (7.9.6).
    linked = Complaint.objects.exclude(certificate=None)
    assert linked.count() == 3
    for c in Complaint.objects.exclude(responsible_person=None):
        assert c.responsible_person_id not in services.involvement(c), c.subject
    assert Complaint.objects.filter(order__isnull=False, certificate=None).exists()
    assert Complaint.objects.filter(registered_by=counter).exists()
