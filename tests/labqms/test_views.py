"""Every labqms URL × role: staff see people pages, leads manage, outsiders get 404
(R-PER-4 "easy to find"; R-INT-9 role-based access)."""

import datetime as dt

import pytest
from django.urls import reverse

from labqms.models import Activity, AuditEvent, Authorisation, Role, WorkdayOverride
from tests.factories import (
    AuthorisationFactory,
    DelegationFactory,
    QualificationFactory,
    UserFactory,
)

ROLES = [
    "anonymous",
    Role.CUSTOMER,
    Role.COUNTER_STAFF,
    Role.TECHNICIAN,
    Role.TECHNICAL_LEAD,
    Role.QUALITY_LEAD,
    Role.LAB_HEAD,
]
STAFF = {Role.COUNTER_STAFF, Role.TECHNICIAN, Role.TECHNICAL_LEAD, Role.QUALITY_LEAD, Role.LAB_HEAD}
LEADS = {Role.TECHNICAL_LEAD, Role.QUALITY_LEAD, Role.LAB_HEAD}


@pytest.fixture
def world(db):
    subject = UserFactory(roles=[Role.TECHNICIAN], full_name="赵磊")
    authorisation = AuthorisationFactory(person=subject)
    delegation = DelegationFactory(
        lead=UserFactory(roles=[Role.TECHNICAL_LEAD]),
        deputy=subject,
        valid_from=dt.date(2030, 1, 1),
        valid_until=dt.date(2030, 1, 9),
    )
    override = WorkdayOverride.objects.create(
        date=dt.date(2027, 1, 1), is_working_day=False, note="元旦", updated_by=subject
    )
    return {
        "subject": subject,
        "authorisation": authorisation,
        "delegation": delegation,
        "override": override,
    }


def _client_for(client, role):
    if role != "anonymous":
        client.force_login(UserFactory(roles=[role]))
    return client


GET_PAGES = [
    # (url name, kwargs key, roles that get 200)
    ("home", None, STAFF | {Role.CUSTOMER}),
    ("people:person_list", None, STAFF),
    ("people:person_detail", "subject", STAFF),
    ("people:person_roles", "subject", {Role.LAB_HEAD}),
    ("people:person_record_pdf", "subject", STAFF),
    ("people:authorisation_grant", "subject", {Role.TECHNICAL_LEAD, Role.LAB_HEAD}),
    ("people:qualification_add", "subject", LEADS),
    ("people:training_add", "subject", LEADS),
    ("people:supervision_add", "subject", LEADS),
    ("people:delegation_add", "subject", {Role.LAB_HEAD}),
    ("people:role_list", None, STAFF),
    ("people:training_plan", None, STAFF),
    ("people:audit_list", None, LEADS),
    ("calendar:calendar_year", None, STAFF),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "obj", "allowed"), GET_PAGES)
def test_get_matrix(client, world, name, obj, allowed, role):
    url = reverse(name, kwargs={"pk": world[obj].pk} if obj else None)
    response = _client_for(client, role).get(url)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if role in allowed else 404), (name, role)


POST_ACTIONS = [
    (
        "people:authorisation_revoke",
        "authorisation",
        {"reason": "调岗"},
        {Role.TECHNICAL_LEAD, Role.LAB_HEAD},
    ),
    ("people:delegation_end", "delegation", {"reason": "取消"}, {Role.LAB_HEAD}),
    (
        "calendar:override_set",
        None,
        {"day": "2027-02-06", "is_working_day": "1", "note": "调休"},
        LEADS,
    ),
    ("calendar:override_remove", "override", {"reason": "录错"}, LEADS),
    ("calendar:year_confirm", None, {"year": "2027", "source": "国办通知"}, LEADS),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "obj", "data", "allowed"), POST_ACTIONS)
def test_post_matrix(client, world, name, obj, data, allowed, role):
    url = reverse(name, kwargs={"pk": world[obj].pk} if obj else None)
    events_before = AuditEvent.objects.count()
    response = _client_for(client, role).post(url, data)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in allowed:
        assert response.status_code == 302
        assert AuditEvent.objects.count() == events_before + 1, (name, role)
    else:
        assert response.status_code == 404
        assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize("name", ["people:authorisation_revoke", "calendar:override_set"])
def test_state_changes_are_post_only(client, world, name):
    client.force_login(UserFactory(roles=[Role.LAB_HEAD]))
    kwargs = {"pk": world["authorisation"].pk} if "revoke" in name else None
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 405


def test_grant_form_creates_authorisation_and_shows_service_errors(client, world):
    client.force_login(UserFactory(roles=[Role.LAB_HEAD]))
    subject = world["subject"]
    url = reverse("people:authorisation_grant", kwargs={"pk": subject.pk})
    bad = client.post(
        url,
        {
            "activity": Activity.CHECK_RECORDS,
            "valid_from": "2026-01-01",
            "competence_confirmed_on": "2026-02-01",
        },
    )
    assert bad.status_code == 200
    assert "competence_confirmed_on" in bad.context["form"].errors
    good = client.post(
        url,
        {
            "activity": Activity.CHECK_RECORDS,
            "valid_from": "2026-01-01",
            "competence_confirmed_on": "2025-12-01",
        },
    )
    assert good.status_code == 302
    assert Authorisation.objects.filter(person=subject, activity=Activity.CHECK_RECORDS).exists()


def test_person_page_flags_expired_items(client, world):
    """R-PER-4: expired authorisations and qualifications are visibly flagged."""
    subject = world["subject"]
    AuthorisationFactory(
        person=subject,
        activity=Activity.CHECK_RECORDS,
        valid_from=dt.date(2020, 1, 1),
        valid_until=dt.date(2021, 1, 1),
    )
    QualificationFactory(
        person=subject, valid_from=dt.date(2015, 1, 1), valid_until=dt.date(2020, 1, 1)
    )
    client.force_login(UserFactory(roles=[Role.TECHNICIAN]))
    html = client.get(reverse("people:person_detail", kwargs={"pk": subject.pk})).content.decode()
    assert html.count('class="status-expired"') == 2
    assert html.count('class="status-valid"') == 1


def test_person_search_and_filters(client, world, head):
    client.force_login(head)
    other = UserFactory(roles=[Role.COUNTER_STAFF], full_name="陈静")
    url = reverse("people:person_list")
    names = lambda r: [str(p) for p in r.context["page"]]  # noqa: E731
    assert names(client.get(url, {"q": "赵磊"})) == ["赵磊"]
    assert names(client.get(url, {"role": Role.COUNTER_STAFF})) == [str(other)]
    assert names(client.get(url, {"activity": Activity.PERFORM_VERIFICATION})) == ["赵磊"]


def test_person_list_paginates(client, head):
    for _ in range(30):
        UserFactory(roles=[Role.TECHNICIAN])
    client.force_login(head)
    response = client.get(reverse("people:person_list"), {"page": 2})
    assert response.context["page"].number == 2
    assert len(response.context["page"]) == 31 - 25


def test_customer_home_shows_no_staff_navigation(client, customer):
    client.force_login(customer)
    html = client.get(reverse("home")).content.decode()
    assert reverse("people:person_list") not in html


def test_calendar_calculator_marks_unknown_years_provisional(client, technician):
    client.force_login(technician)
    response = client.get(
        reverse("calendar:calendar_year"), {"year": 2027, "start": "2026-12-24", "days": 10}
    )
    assert response.context["result"] == {"due": dt.date(2027, 1, 7), "provisional": True}


def test_healthz(client, db):
    assert client.get("/healthz").content == b"ok"


@pytest.mark.parametrize(
    ("roles", "superuser", "status"),
    [([Role.LAB_HEAD], False, 200), ([Role.TECHNICAL_LEAD], False, 302), ([], True, 302)],
)
def test_admin_site_asks_labqms_permissions(client, db, roles, superuser, status):
    """Only the lab head maintains master data in the admin; a bare IT superuser does not."""
    user = UserFactory(roles=roles, is_staff=True, is_superuser=superuser)
    client.force_login(user)
    assert client.get("/admin/").status_code == status


def test_roles_page_shows_each_roles_duties(client, technician):
    """R-PER-1: roles have defined duties, knowledge, qualifications and training needs."""
    from labqms.models import RoleDescription

    RoleDescription.objects.create(
        role=Role.TECHNICAL_LEAD, duties="批准签发证书", training_needs="评审准则"
    )
    client.force_login(technician)
    response = client.get(reverse("people:role_list"))
    html = response.content.decode()
    assert "批准签发证书" in html and "评审准则" in html
    assert html.count('data-testid="role-card"') == len(Role)


def test_ui_is_chinese_whatever_the_browser_asks_until_switched(client, db):
    """zh-hans is the default even for an English browser; the switch sets English."""
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in response.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="en">' in response.content.decode()


def test_customer_home_shows_no_staff_sections(client, customer):
    client.force_login(customer)
    html = client.get(reverse("home")).content.decode()
    assert 'id="authorisations"' not in html


def test_training_plan_shows_items_with_attendance(client, technician, qualitylead):
    """R-PER-2: the year's training plan and the records against it."""
    from labqms.models import TrainingPlan, TrainingRecord

    item = TrainingPlan.objects.create(year=2026, title="JJG 692 宣贯", audience="检定员")
    TrainingPlan.objects.create(year=2025, title="旧计划")
    TrainingRecord.objects.create(
        person=technician,
        plan=item,
        title=item.title,
        started_on=dt.date(2026, 3, 1),
        result=TrainingRecord.Result.PASSED,
    )
    client.force_login(qualitylead)
    html = client.get(reverse("people:training_plan"), {"year": 2026}).content.decode()
    assert "JJG 692 宣贯" in html and "旧计划" not in html
    assert str(technician) in html


def test_calendar_year_page_does_not_query_per_day(
    client, technician, django_assert_max_num_queries
):
    """The year grid is answered from one override query, not one per day."""
    for day, working in (
        (dt.date(2027, 1, 1), False),
        (dt.date(2027, 2, 6), False),
        (dt.date(2027, 10, 4), True),
    ):
        WorkdayOverride.objects.create(
            date=day, is_working_day=working, note="x", updated_by=technician
        )
    client.force_login(technician)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("calendar:calendar_year"), {"year": 2027})
    cells = {c["day"]: c for m in response.context["months"] for w in m["weeks"] for c in w if c}
    assert len(cells) == 365
    assert cells[dt.date(2027, 1, 1)]["working"] is False  # override: day off
    assert cells[dt.date(2027, 2, 6)]["working"] is False  # Saturday, override says off
    assert cells[dt.date(2027, 10, 4)]["working"] is True  # override: working Monday
    assert cells[dt.date(2027, 3, 6)]["working"] is False  # plain Saturday (fallback)
