"""Excel export and rows per page on every audits staff list (R-MGT-4, R-MGT-1, R-IMP-1,
R-IMP-2): findings register, corrective actions, satisfaction surveys, evaluation
reports, management reviews and the internal audits page."""

import datetime as dt
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.models import CorrectiveAction, ManagementReview
from audits.services import audits as services
from audits.services import surveys as survey_services
from tests.audits.conftest import COUNTER, LAB
from tests.labqms.test_export import (
    assert_export_is_the_list,
    assert_header_translated,
    assert_paging_and_export_queries_are_constant,
    column,
    english,
    get_xlsx,
    rows_of,
)

TODAY = timezone.localdate()
LATER = TODAY + dt.timedelta(days=30)
_n = itertools.count(1)


@pytest.fixture
def staff(client, ql):
    client.force_login(ql)
    return english(client)


@pytest.fixture
def findings(in_progress, counter_auditor, auditee):
    def make(n, grade="observation", area=LAB):
        return [
            services.raise_finding(
                actor=counter_auditor, source="audit", origin=in_progress, grade=grade, area=area, clause="7.8",
                description=f"发现 {next(_n)}", evidence="证据", responsible=auditee,
            )
            for _ in range(n)
        ]

    return make


@pytest.fixture
def actions(nonconformity, auditee):
    def make(n, due_on=LATER):
        made = [
            services.propose_action(actor=auditee, finding=nonconformity, root_cause="因", action=f"措施 {next(_n)}", due_on=LATER)
            for _ in range(n)
        ]
        CorrectiveAction.objects.filter(pk__in=[a.pk for a in made]).update(due_on=due_on)  # the past is refused
        return made

    return make


@pytest.fixture
def surveys(ql):
    def make(n, title="调查"):
        return [survey_services.create_survey(actor=ql, title=f"{title} {next(_n)}") for _ in range(n)]

    return make


@pytest.fixture
def evaluations(ql):
    def make(n, title="自查"):
        return [
            survey_services.record_evaluation(
                actor=ql, kind="self", title=f"{title} {next(_n)}", evaluator="",
                period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 6, 30), analysis="分析",
            )
            for _ in range(n)
        ]

    return make


def bulk_reviews(n, chair, creator, status="planned"):
    reviews = ManagementReview.objects.bulk_create(
        ManagementReview(
            number=f"PSX-{next(_n):04d}", kind="annual", period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31),
            planned_on=dt.date(2026, 1, 10) + dt.timedelta(days=next(_n) % 300), chair=chair, created_by=creator, status=status,
        )
        for _ in range(n)
    )
    for review in ManagementReview.objects.filter(number__in=[r.number for r in reviews]):
        CorrectiveAction.objects.create(
            review=review, action="决定", responsible=creator, due_on=LATER, proposed_by=creator, status="in_progress"
        )
    return reviews


@pytest.fixture
def external_audits(ql, counter_auditor):
    def make(n):
        return [
            services.plan_audit(
                actor=ql, kind="external", title=f"CNAS 评审 {next(_n)}", clauses=["8.8"], areas=[], planned_start=TODAY,
                planned_end=TODAY, lead_auditor=counter_auditor, external_body="CNAS",
            )
            for _ in range(n)
        ]

    return make


# --- the export holds the filtered list -----------------------------------------------------


@pytest.mark.django_db
def test_finding_export_is_the_filtered_register_R_MGT_1(staff, findings):
    major = findings(2, grade="major", area=COUNTER)
    findings(3)
    url = reverse("audits:finding_list")
    assert len(assert_export_is_the_list(staff, url, {}, lambda f: f.number, "Finding number")) == 5
    shown = assert_export_is_the_list(staff, url, {"grade": "major"}, lambda f: f.number, "Finding number")
    assert sorted(shown) == sorted(f.number for f in major)
    assert column(get_xlsx(staff, url, {"grade": "major"}), "Area") == [COUNTER, COUNTER]


@pytest.mark.django_db
def test_action_export_is_the_list_with_its_scope_R_MGT_1(staff, actions, auditee, client):
    actions(2)
    late = actions(2, due_on=TODAY - dt.timedelta(days=2))
    url = reverse("audits:action_list")
    shown = assert_export_is_the_list(
        staff, url, {"scope": "all"}, lambda a: a.action, "Corrective action", page_rows=lambda p: p.object_list
    )
    assert shown[:2] == [a.action for a in late]  # overdue first
    assert column(get_xlsx(staff, url), "Overdue")[:2] == ["Overdue by 2 days"] * 2
    # The quality lead's own actions: none of these.
    assert column(get_xlsx(staff, url, {"scope": "mine"}), "Corrective action") == []
    mine = english(client.__class__())
    mine.force_login(auditee)
    assert len(column(get_xlsx(mine, url), "Corrective action")) == 4


@pytest.mark.django_db
def test_survey_export_is_the_filtered_list_R_IMP_1(staff, surveys):
    customers = surveys(2, title="客户满意度")
    surveys(3)
    url = reverse("audits:survey_list")
    assert len(assert_export_is_the_list(staff, url, {"year": TODAY.year}, lambda s: s.title, "Title")) == 5
    shown = assert_export_is_the_list(staff, url, {"q": "客户"}, lambda s: s.title, "Title")
    assert sorted(shown) == sorted(s.title for s in customers)
    assert assert_export_is_the_list(staff, url, {"year": TODAY.year - 1}, lambda s: s.title, "Title") == []


@pytest.mark.django_db
def test_evaluation_export_is_the_filtered_list_R_IMP_2(staff, evaluations):
    yearly = evaluations(2, title="年度自查")
    evaluations(3)
    url = reverse("audits:evaluation_list")
    assert len(assert_export_is_the_list(staff, url, {"kind": "self"}, lambda r: r.title, "Title")) == 5
    shown = assert_export_is_the_list(staff, url, {"q": "年度"}, lambda r: r.title, "Title")
    assert sorted(shown) == sorted(r.title for r in yearly)
    assert assert_export_is_the_list(staff, url, {"kind": "third_party"}, lambda r: r.title, "Title") == []


@pytest.mark.django_db
def test_review_export_is_the_filtered_list_R_MGT_1(staff, ql, head):
    held = bulk_reviews(2, head, ql, status="held")
    bulk_reviews(3, head, ql)
    url = reverse("audits:review_list")
    shown = assert_export_is_the_list(staff, url, {"status": "held"}, lambda r: r.number, "Review number")
    assert sorted(shown) == sorted(r.number for r in held)
    assert column(get_xlsx(staff, url, {"status": "held"}), "Decisions (open)") == [1, 1]


@pytest.mark.django_db
def test_audit_export_holds_the_programmes_audits_and_those_outside_R_MGT_1(staff, planned, external_audits):
    outside = external_audits(3)
    url = reverse("audits:programme_list")
    page = staff.get(url, {"per_page": 100}).context["outside_page"]
    header, rows = rows_of(get_xlsx(staff, url))
    numbers = [row[header.index("Audit number")] for row in rows]
    assert numbers[0] == planned.number and rows[0][0] == planned.programme.year
    assert numbers[1:] == [a.number for a in page.object_list]
    assert sorted(numbers[1:]) == sorted(a.number for a in outside)
    assert [row[0] for row in rows[1:]] == [None] * 3


# --- language, permissions ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_header_is_in_the_active_language(client, ql, findings):
    findings(1)
    client.force_login(ql)
    url = reverse("audits:finding_list")
    assert_header_translated(client, url, 0, "Finding number")


LISTS = [
    "audits:finding_list", "audits:action_list", "audits:survey_list", "audits:evaluation_list",
    "audits:review_list", "audits:programme_list",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", LISTS)
def test_customers_get_404_for_the_export_as_for_the_list(client, name, customer, findings):
    findings(1)
    url = reverse(name)
    assert get_xlsx(client, url).status_code == 302
    client.force_login(customer)
    assert client.get(url).status_code == 404
    assert get_xlsx(client, url).status_code == 404


# --- constant queries, rows per page -------------------------------------------------------


@pytest.mark.django_db
def test_finding_list_queries_R_MGT_4(staff, findings):
    assert_paging_and_export_queries_are_constant(staff, reverse("audits:finding_list"), findings)


@pytest.mark.django_db
def test_action_list_queries_R_MGT_4(staff, actions):
    assert_paging_and_export_queries_are_constant(staff, reverse("audits:action_list"), actions)


@pytest.mark.django_db
def test_survey_list_queries_R_MGT_4(staff, surveys):
    assert_paging_and_export_queries_are_constant(staff, reverse("audits:survey_list"), surveys)


@pytest.mark.django_db
def test_evaluation_list_queries_R_MGT_4(staff, evaluations):
    assert_paging_and_export_queries_are_constant(staff, reverse("audits:evaluation_list"), evaluations)


@pytest.mark.django_db
def test_review_list_queries_R_MGT_4(staff, ql, head):
    assert_paging_and_export_queries_are_constant(
        staff, reverse("audits:review_list"), lambda n: bulk_reviews(n, head, ql)
    )


@pytest.mark.django_db
def test_programme_list_queries_R_MGT_4(staff, external_audits):
    assert_paging_and_export_queries_are_constant(
        staff, reverse("audits:programme_list"), external_audits,
        page_len=lambda response: len(response.context["outside_page"].object_list),
    )
