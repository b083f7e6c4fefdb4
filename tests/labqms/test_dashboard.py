"""Role dashboards on the home page (R-MGT-4): counts equal direct queries, every count's
link lists exactly that many rows with the filter shown, the page's query count does not
grow with the data, and a queue shows only to whoever may open its list.

The data are ``seed_demo``'s (every role has work), seeded once for the module inside a
transaction that is rolled back afterwards, plus rows copied from them so that every
queue has something in it (``grow``)."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models.base import ModelState
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from audits.models import (
    ActionStatus,
    CorrectiveAction,
    Finding,
    FindingStatus,
    QualityObjective,
    Survey,
    SurveyResponse,
)
from audits.services.review import measure_value
from certificates.models import (
    Certificate,
    CertificateStatus,
    Method,
    MethodStatus,
    Task,
    TaskStatus,
)
from complaints.models import OPEN_STATES, Complaint, ComplaintStatus
from complaints.services.job import days_left
from equipment.models import Equipment, EquipmentStatus, ImpactAnalysis, ImpactStatus
from intake.models import OnlineRequest, Order, OrderStatus, RequestStatus, Sample, SampleStatus
from intake.models.samples import DONE_STATUSES
from labqms import dashboard, workdays
from labqms.context_processors import NAV_GROUPS
from labqms.dashboard import FIGURE, Queue
from labqms.models import Activity, Authorisation, Role, User
from tests.factories import AuthorisationFactory

DEMO_ROLES = ("counter", "tech1", "techlead", "qualitylead", "head")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """seed_demo once for this module; everything is rolled back after its last test."""
    media = tmp_path_factory.mktemp("media")
    from labqms.celery import app

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        try:
            with override_settings(
                DEBUG=True,
                MEDIA_ROOT=media,
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            ):
                call_command("seed_demo", stdout=io.StringIO())
            yield
        finally:
            app.conf.task_always_eager = eager
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def people(demo, db):
    return {user.username: user for user in User.objects.filter(username__in=[*DEMO_ROLES, "tech2", "hospital1"])}


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def board(client, user) -> dict[str, Queue]:
    rows = home(client, user).context["dashboard"]
    return {row.key: row for row in rows.queues + rows.figures}


# --- more rows in every queue: copies of demo rows in the wanted state -------------------


def clone(obj, n: int, **fields) -> list:
    """``n`` saved copies of ``obj``; a callable field value is called with the index."""
    copies = []
    for i in range(n):
        twin = copy.copy(obj)
        twin.pk = twin.id = None
        twin._state = ModelState()
        for name, value in fields.items():
            setattr(twin, name, value(i) if callable(value) else value)
        copies.append(twin)
    return type(obj).objects.bulk_create(copies)


def grow(n: int, today: dt.date, people: dict) -> None:
    """``n`` more rows in every queue of every demo role (a tag keeps unique fields unique)."""
    tag = f"G{Order.objects.count()}-"
    order = Order.objects.filter(status=OrderStatus.ACCEPTED).first()
    sample = Sample.objects.filter(order=order).first()
    tech1, tech2 = people["tech1"], people["tech2"]

    # Counter: draft orders, registered samples, online requests, ready and at-risk orders.
    clone(order, n, number=lambda i: f"{tag}D{i}", status=OrderStatus.DRAFT)
    clone(sample, n, sample_id=lambda i: f"{tag}R{i}", status=SampleStatus.REGISTERED)
    request = OnlineRequest.objects.first()
    if request is None:
        request = OnlineRequest(
            customer=order.customer, submitted_by=people["hospital1"], contact_name="刘洋", contact_phone="1",
        )
    clone(request, n, status=RequestStatus.SUBMITTED, order=None)
    ready = clone(order, n, number=lambda i: f"{tag}Y{i}")
    clone(sample, n, sample_id=lambda i: f"{tag}Y{i}", order=lambda i: ready[i], status=SampleStatus.READY)
    risky = clone(order, n, number=lambda i: f"{tag}K{i}", due_date=today)
    clone(sample, n, sample_id=lambda i: f"{tag}K{i}", order=lambda i: risky[i], status=SampleStatus.STORED)

    # Technician: tasks to do, records to check, records returned (one open task per sample).
    task = Task.objects.first()
    for code, performer, checker, status in (
        ("T", tech1, tech2, TaskStatus.ASSIGNED),
        ("C", tech2, tech1, TaskStatus.AWAITING_CHECK),
        ("B", tech1, tech2, TaskStatus.RETURNED),
    ):
        samples = clone(sample, n, sample_id=lambda i, c=code: f"{tag}{c}{i}", status=SampleStatus.IN_TEST)
        clone(task, n, sample=lambda i, s=samples: s[i], performer=performer, checker=checker, status=status)

    # Technical lead: draft certificates, draft method editions, equipment due, open analyses.
    clone(Certificate.objects.filter(status=CertificateStatus.DRAFT).first(), n)
    clone(Method.objects.first(), n, edition=lambda i: f"{tag}{i}", status=MethodStatus.DRAFT, superseded_by=None)
    equipment = Equipment.objects.exclude(status=EquipmentStatus.RETIRED).first()
    for code, due in (("O", today - dt.timedelta(days=3)), ("S", today + dt.timedelta(days=3))):
        clone(equipment, n, lab_id=lambda i, c=code: f"{tag}{c}{i}", needs_calibration=True,
              status=EquipmentStatus.IN_SERVICE, calibration_due=due)
    clone(ImpactAnalysis.objects.first(), n, status=ImpactStatus.OPEN)

    # Quality lead: complaints in every band and to accept, findings and actions overdue.
    complaint = Complaint.objects.filter(status__in=OPEN_STATES).first()
    for code, due in (
        ("O", today - dt.timedelta(days=1)), ("N", today), ("L", today + dt.timedelta(days=30)),
    ):
        clone(complaint, n, number=lambda i, c=code: f"{tag}{c}{i}", status=ComplaintStatus.ACCEPTED, reply_due=due)
    clone(complaint, n, number=lambda i: f"{tag}A{i}", status=ComplaintStatus.REGISTERED, reply_due=None)
    finding = Finding.objects.first()
    clone(finding, n, number=lambda i: f"{tag}F{i}", status=FindingStatus.OPEN)
    late = clone(finding, n, number=lambda i: f"{tag}X{i}", status=FindingStatus.ACTION)
    clone(CorrectiveAction.objects.filter(finding__isnull=False).first(), n, finding=lambda i: late[i], review=None,
          status=ActionStatus.IN_PROGRESS, due_on=today - dt.timedelta(days=5))
    response = SurveyResponse.objects.select_related("invitation").first()
    invitations = clone(response.invitation, n, token=lambda i: f"{tag}{i}", order=None)
    clone(response, n, invitation=lambda i: invitations[i])


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def grown(people, today):
    grow(3, today, people)


# --- what the counts must be, by direct queries --------------------------------------------


def expected(user, today: dt.date) -> dict[str, int]:
    """Every queue's count worked out from the models directly (not through the lists)."""
    horizon = workdays.add_working_days(today, 2)
    open_complaints = list(Complaint.objects.filter(status__in=OPEN_STATES, reply_due__isnull=False))
    left = days_left(open_complaints, today)
    latest_survey = Survey.objects.filter(invitations__response__isnull=False).order_by("-created_at", "-id").first()
    soon = today + dt.timedelta(days=settings.EQUIPMENT_DUE_SOON_DAYS)
    calibrated = [
        e for e in Equipment.objects.all() if e.needs_calibration and e.status != EquipmentStatus.RETIRED
    ]
    to_do = (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.RETURNED)
    return {
        "intake.orders_to_review": Order.objects.filter(status=OrderStatus.DRAFT).count(),
        "intake.requests_waiting": OnlineRequest.objects.filter(status=RequestStatus.SUBMITTED).count(),
        "intake.samples_to_receive": Sample.objects.filter(status=SampleStatus.REGISTERED).count(),
        "intake.ready_for_release": Order.objects.filter(samples__status=SampleStatus.READY).distinct().count(),
        "intake.at_risk": sum(
            1
            for order in Order.objects.filter(status=OrderStatus.ACCEPTED, due_date__lte=horizon)
            if any(s.status not in DONE_STATUSES for s in order.samples.all())
        ),
        "certificates.my_tasks": Task.objects.filter(performer=user, status__in=to_do).count(),
        "certificates.to_check": Task.objects.filter(checker=user, status=TaskStatus.AWAITING_CHECK).count(),
        "certificates.returned": Task.objects.filter(performer=user, status=TaskStatus.RETURNED).count(),
        "certificates.awaiting_approval": Certificate.objects.filter(status=CertificateStatus.DRAFT).count(),
        "certificates.methods_to_approve": Method.objects.filter(status=MethodStatus.DRAFT).count(),
        "equipment.overdue": sum(1 for e in calibrated if e.calibration_due is None or e.calibration_due < today),
        "equipment.due_soon": sum(1 for e in calibrated if e.calibration_due and today <= e.calibration_due <= soon),
        "equipment.impact_open": ImpactAnalysis.objects.filter(status=ImpactStatus.OPEN).count(),
        "complaints.overdue": sum(1 for c in open_complaints if c.reply_due < today),
        "complaints.near": sum(1 for c in open_complaints if c.reply_due >= today and left[c.pk] <= 2),
        "complaints.later": sum(1 for c in open_complaints if c.reply_due >= today and left[c.pk] > 2),
        "complaints.to_accept": Complaint.objects.filter(status=ComplaintStatus.REGISTERED).count(),
        "audits.findings_open": Finding.objects.filter(status=FindingStatus.OPEN).count(),
        "audits.findings_overdue": Finding.objects.filter(
            actions__due_on__lt=today, actions__status__in=[s for s in ActionStatus.values if s != ActionStatus.CLOSED]
        ).distinct().count(),
        "audits.actions_overdue": CorrectiveAction.objects.filter(due_on__lt=today)
        .exclude(status=ActionStatus.CLOSED)
        .count(),
        "audits.survey": SurveyResponse.objects.filter(invitation__survey=latest_survey).count(),
    }


# Which queues each demo role sees (a technical lead is technical staff too).
TECHNICIAN = {"certificates.my_tasks", "certificates.to_check", "certificates.returned"}
COMPLAINTS = {"complaints.overdue", "complaints.near", "complaints.later", "complaints.to_accept"}
SEES = {
    "counter": {
        "intake.orders_to_review", "intake.requests_waiting", "intake.samples_to_receive",
        "intake.ready_for_release", "intake.at_risk",
    },
    "tech1": TECHNICIAN,
    "techlead": TECHNICIAN | {
        "certificates.awaiting_approval", "certificates.methods_to_approve",
        "equipment.overdue", "equipment.due_soon", "equipment.impact_open",
    },
    "qualitylead": COMPLAINTS | {
        "audits.findings_open", "audits.findings_overdue", "audits.actions_overdue", "audits.survey",
    },
    # The demo lab head handles complaints (authorised) and judges the objectives.
    "head": COMPLAINTS,
}


@pytest.mark.parametrize("username", DEMO_ROLES)
def test_counts_equal_direct_queries(client, people, grown, today, username):
    """R-MGT-4: each role's counts are the numbers the data hold, and only its queues show."""
    user = people[username]
    shown = board(client, user)
    queues = {key: row for key, row in shown.items() if not key.startswith("audits.objective.")}
    assert set(queues) == SEES[username]
    want = expected(user, today)
    assert {key: row.count for key, row in queues.items()} == {key: want[key] for key in queues}
    # grow() put rows in every queue (the technicians' tasks are tech1's and tech2's): no
    # count here is trivially zero.
    mine = {key: row for key, row in queues.items() if username != "techlead" or key not in TECHNICIAN}
    assert all(row.count > 0 for row in mine.values()), mine


def test_lab_head_sees_each_objective_against_its_target(client, people, today):
    """R-IMP-3: value, target and met / not met of every objective of the year."""
    shown = board(client, people["head"])
    objectives = QualityObjective.objects.filter(year=today.year)
    assert objectives.exists()
    for objective in objectives:
        figure = shown[f"audits.objective.{objective.measure}"]
        value = measure_value(objective.measure, today.year)
        assert figure.kind == FIGURE
        assert figure.value == ("—" if value is None else str(value))
        assert format(objective.target.normalize(), "f") in figure.hint  # 100.00 reads "100"
        met = None if value is None else (value >= objective.target if objective.comparison == "gte" else value <= objective.target)
        assert figure.level == {None: "secondary", True: "success", False: "danger"}[met]
        assert figure.url == f"{reverse('audits:objective_list')}?year={today.year}"


def _filter_shown(html: str, name: str, value: str) -> bool:
    """The list's filter form shows ``name`` = ``value`` (selected, checked or filled in)."""
    if m := re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S):
        return re.search(rf'<option value="{re.escape(value)}"[^>]*\sselected', m.group(1)) is not None
    for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', html):
        if 'type="checkbox"' in tag:
            return " checked" in tag
        if f'value="{value}"' in tag:
            return True
    return False


@pytest.mark.parametrize("username", DEMO_ROLES)
def test_each_link_lists_exactly_its_count(client, people, grown, username):
    """R-MGT-4: the list behind a count shows that many rows, with the filter in its form."""
    shown = board(client, people[username])
    for row in shown.values():
        response = client.get(row.url)
        assert response.status_code == 200, row.url
        context = response.context
        if row.key == "audits.survey":
            assert context["analysis"]["responses"] == row.count
            continue
        if row.key.startswith("audits.objective."):
            measures = {r["measure"]: r for r in context["rows"]}
            assert str(measures[row.key.rsplit(".", 1)[1]]["value"] or "—") == row.value
            continue
        assert context["page"].paginator.count == row.count, row.url
        html = response.content.decode()
        for name, value in parse_qsl(urlsplit(row.url).query):
            if name != "sort":
                assert _filter_shown(html, name, value), (row.url, name)


def _queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("home")).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("username", DEMO_ROLES)
def test_query_count_does_not_grow_with_the_data(client, people, today, username):
    """R-MGT-4: the dashboard costs the same with 3 or 30 rows in each queue."""
    user = people[username]
    grow(3, today, people)
    _queries(client, user)  # warm the per-process caches (content types, calendar years)
    few = _queries(client, user)
    grow(27, today, people)
    assert _queries(client, user) == few


def test_the_customer_sees_no_dashboard(client, people):
    response = home(client, people["hospital1"])
    assert response.context["dashboard"] is None
    assert 'data-testid="dashboard-queue"' not in response.content.decode()


def test_a_technical_lead_without_signing_authorisation_sees_no_approval_queue(client, demo, make_user):
    """A queue shows only with the permission behind its list (certificates.sign)."""
    lead = make_user(Role.TECHNICAL_LEAD)
    shown = board(client, lead)
    assert "certificates.awaiting_approval" not in shown
    assert {"certificates.methods_to_approve", "equipment.overdue"} <= set(shown)
    AuthorisationFactory(person=lead, activity=Activity.SIGN_CERTIFICATES)
    assert "certificates.awaiting_approval" in board(client, lead)


def test_a_quality_lead_without_complaint_authorisation_sees_no_complaint_queue(client, people):
    ql = people["qualitylead"]
    Authorisation.objects.filter(person=ql, activity=Activity.HANDLE_COMPLAINTS).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    shown = board(client, ql)
    assert not COMPLAINTS & set(shown)
    assert "audits.actions_overdue" in shown


def test_counter_staff_see_no_technical_or_quality_queue(client, people):
    shown = board(client, people["counter"])
    assert not any(key.split(".")[0] in {"certificates", "equipment", "complaints", "audits"} for key in shown)


def test_queues_come_most_urgent_first_and_empty_ones_last(client, people, grown):
    rows = home(client, people["qualitylead"]).context["dashboard"].queues
    ranks = [row.rank for row in rows]
    assert ranks == sorted(ranks)
    Complaint.objects.filter(reply_due__lt=timezone.localdate(), status__in=OPEN_STATES).update(
        status=ComplaintStatus.CLOSED
    )
    rows = home(client, people["qualitylead"]).context["dashboard"].queues
    assert rows[-1].shown_level == "secondary" or all(r.count for r in rows)
    overdue = next(r for r in rows if r.key == "complaints.overdue")
    assert overdue.count == 0 and overdue.shown_level == "secondary"


def test_the_page_shows_each_count_linked_to_its_list(client, people, grown):
    with translation.override("en"):
        response = home(client, people["techlead"])
    html = response.content.decode()
    for row in response.context["dashboard"].queues:
        url = row.url.replace("&", "&amp;")
        assert re.search(rf'href="{re.escape(url)}"[^>]*data-key="{re.escape(row.key)}" data-count="{row.count}"', html)
    # The person's own records stay on the page, below the queues.
    assert html.index('data-testid="dashboard-queues"') < html.index('id="authorisations"')


def test_register_rejects_unknown_actions_and_ignores_a_second_registration():
    before = dashboard.providers()
    with pytest.raises(ValueError):
        dashboard.register(lambda user, today, allowed: [], actions=["no.such_action"])
    dashboard.register(before[0].queues, actions=before[0].actions)
    assert dashboard.providers() == before


# --- the navigation bar -------------------------------------------------------------------


def test_the_quality_lead_menu_is_grouped_into_a_few_dropdowns(client, people):
    client.force_login(people["qualitylead"])
    response = client.get(reverse("home"))
    groups = response.context["nav_groups"]
    assert len(groups) <= 7
    with translation.override("en"):
        labels = [str(g["label"]) for g in groups if g["dropdown"]]
        assert labels == ["Intake", "Lab work", "Equipment", "Quality", "Administration"]
        quality = next(g for g in groups if str(g["label"]) == "Quality")
        assert [str(i["label"]) for i in quality["items"]][:2] == ["Complaints", "Audits"]
    html = response.content.decode()
    assert html.count('data-bs-toggle="dropdown"') == len(labels)
    # Every entry the flat list holds is on the page once.
    for item in response.context["nav_items"]:
        assert f'href="{item["url"]}"' in html


def test_a_group_with_one_entry_is_a_plain_link(client, people):
    """Counter staff see one "Lab work" entry (certificates): no dropdown for it."""
    client.force_login(people["counter"])
    groups = client.get(reverse("home")).context["nav_groups"]
    certificates = next(g for g in groups if any(i["url"] == reverse("certificates:certificate_list") for i in g["items"]))
    assert not certificates["dropdown"] and len(certificates["items"]) == 1


def test_statistics_show_in_the_menu_only_when_the_page_exists(client, people):
    entries = [name for _group, items in NAV_GROUPS for _label, name, _action in items]
    assert "audits:statistics" in entries
    client.force_login(people["head"])
    urls = [item["url"] for item in client.get(reverse("home")).context["nav_items"]]
    try:
        statistics = reverse("audits:statistics")
    except Exception:  # another part of the system may not have the page yet
        statistics = None
    assert (statistics in urls) if statistics else all("statistics" not in url for url in urls)


def test_complaint_bands_agree_with_the_daily_job_on_every_day_around_today(people, today):
    """R-CMP-3: the list's deadline filter sorts each due date as ``job.days_left`` does,
    over weekends and holidays alike (two weeks of due dates, one complaint each)."""
    from complaints.forms import ComplaintFilterForm as Bands
    from complaints.services.job import deadline_conditions

    complaint = Complaint.objects.filter(status__in=OPEN_STATES).first()
    Complaint.objects.filter(status__in=OPEN_STATES).update(status=ComplaintStatus.CLOSED)
    dues = [today + dt.timedelta(days=n) for n in range(-3, 12)]
    made = clone(complaint, len(dues), number=lambda i: f"B{i}", status=ComplaintStatus.ACCEPTED,
                 reply_due=lambda i: dues[i])
    left = days_left(made, today)
    want = {
        Bands.OVERDUE: {c.pk for c in made if c.reply_due < today},
        Bands.NEAR: {c.pk for c in made if c.reply_due >= today and left[c.pk] <= settings.COMPLAINTS_NEAR_DEADLINE_DAYS},
        Bands.LATER: {c.pk for c in made if c.reply_due >= today and left[c.pk] > settings.COMPLAINTS_NEAR_DEADLINE_DAYS},
    }
    got = {band: set(Complaint.objects.filter(q).values_list("pk", flat=True)) for band, q in deadline_conditions(today).items()}
    assert got == want
    assert all(want.values())
