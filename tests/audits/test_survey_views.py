"""Satisfaction surveys and evaluation reports through the pages (R-IMP-1, R-IMP-2).

The quality lead creates a survey, invites customers or released orders; the customer
answers through a single-use link (no sign-in) — a second answer is refused and nothing
is stored twice —; a low score becomes a finding; the survey page shows the analysis and
a trend.  Evaluation reports: a third-party report needs its file, the file is downloaded
through a permission check.  The portal lists only the organisation's own open
invitations.  Messages are asserted with the English UI (LANGUAGE_COOKIE "en")."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import (
    EvaluationKind,
    EvaluationReport,
    Finding,
    FindingSource,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)
from audits.services import surveys as services
from audits.views import surveys as views
from intake.models import Customer, CustomerAccount, Order
from labqms.models import Role
from tests.intake.conftest import (  # noqa: F401
    categories,
    clerk,
    hospital,
    line,
    make_order,
    other_hospital,
    portal_user,
)

LIST = reverse("audits:survey_list")
CREATE = reverse("audits:survey_create")
EVALUATIONS = reverse("audits:evaluation_list")
NEW_EVALUATION = reverse("audits:evaluation_create")
PORTAL = reverse("audits:portal_surveys")
THANKS = reverse("audits:survey_thanks")
GOOD = {"reception": "5", "turnaround": "4", "certificates": "5", "price": "4", "overall": "5"}
PDF = b"%PDF-1.4 third-party assessment report\n"


def detail(survey):
    return reverse("audits:survey_detail", args=[survey.pk])


def answer_url(invitation):
    return reverse("audits:survey_answer", args=[invitation.token])


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture(autouse=True)
def _fresh_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lead_client(client, ql):
    client.force_login(ql)
    return client


@pytest.fixture
def survey(ql):
    return services.create_survey(
        actor=ql, title="2026年上半年满意度调查", period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 6, 30)
    )


@pytest.fixture
def invitation(survey, ql, hospital):  # noqa: F811
    return services.invite(actor=ql, survey=survey, customers=[hospital])[0]


@pytest.fixture
def released_order(make_order, categories):  # noqa: F811
    order = make_order([line(categories["bp"], "BP-9")])
    Order.objects.filter(pk=order.pk).update(status="released")
    order.refresh_from_db()
    return order


@pytest.fixture
def other_portal_user(make_user, other_hospital):  # noqa: F811
    user = make_user(Role.CUSTOMER, username="h2_portal")
    CustomerAccount.objects.create(user=user, customer=other_hospital)
    return user


def _customers(n: int, tag: str) -> list[Customer]:
    return [Customer.objects.create(name=f"客户{tag}{i:03d}", email=f"c{tag}{i}@example.cn") for i in range(n)]


def _checked(content: str, name: str, value: str) -> bool:
    """Whether the radio ``name`` = ``value`` comes back chosen."""
    for tag in re.findall(r"<input[^>]*>", content):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return "checked" in tag
    raise AssertionError(f"no radio {name}={value}")


# --- creating and inviting -----------------------------------------------------------------


def test_r_imp_1_quality_lead_creates_a_survey_through_the_page(lead_client):
    response = lead_client.post(CREATE, {"title": "2026年度满意度调查", "period_start": "2026-01-01", "period_end": "2026-12-31"})
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(survey)
    assert survey.period_end == dt.date(2026, 12, 31)
    page = lead_client.get(detail(survey))
    assert page.status_code == 200 and "2026年度满意度调查" in page.content.decode()


def test_r_imp_1_reversed_period_is_refused_with_the_input_kept(lead_client):
    response = lead_client.post(CREATE, {"title": "倒序的调查", "period_start": "2026-06-30", "period_end": "2026-01-01"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "The end is before the start." in content
    assert 'value="倒序的调查"' in content and 'value="2026-06-30"' in content
    assert not Survey.objects.exists()


def test_r_imp_1_only_the_quality_lead_creates_and_invites(client, technician, survey, hospital):  # noqa: F811
    client.force_login(technician)
    assert client.get(LIST).status_code == 200  # every staff member reads the surveys
    assert client.get(detail(survey)).status_code == 200
    assert client.get(CREATE).status_code == 404
    response = client.post(reverse("audits:survey_invite_customers", args=[survey.pk]), {"customers-customers": [hospital.pk]})
    assert response.status_code == 302
    assert not SurveyInvitation.objects.exists()
    assert 'data-testid="customers-form"' not in client.get(detail(survey)).content.decode()


def test_r_imp_1_customers_and_strangers_get_no_staff_page(client, customer, survey):
    urls = [LIST, CREATE, detail(survey), EVALUATIONS, NEW_EVALUATION]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    client.force_login(customer)
    for url in urls:
        assert client.get(url).status_code == 404


def test_r_imp_1_invite_customers_sends_single_use_links(lead_client, survey, hospital, django_capture_on_commit_callbacks):  # noqa: F811
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            reverse("audits:survey_invite_customers", args=[survey.pk]), {"customers-customers": [hospital.pk]}, follow=True
        )
    assert "1 invitation made" in response.content.decode()
    invitation = SurveyInvitation.objects.get()
    assert invitation.customer == hospital and invitation.email == hospital.email and invitation.sent_at is not None
    assert len(mail.outbox) == 1 and invitation.token in mail.outbox[0].body
    # The quality lead sees the link (to pass on by phone); inviting again adds nothing.
    assert invitation.token in response.content.decode()
    again = lead_client.post(
        reverse("audits:survey_invite_customers", args=[survey.pk]), {"customers-customers": [hospital.pk]}, follow=True
    )
    assert "nothing was added" in again.content.decode()
    assert SurveyInvitation.objects.count() == 1


def test_r_imp_1_customers_without_e_mail_are_not_offered(lead_client, survey):
    Customer.objects.create(name="无邮箱单位", email="")
    content = lead_client.get(detail(survey)).content.decode()
    assert "无邮箱单位" not in content


def test_r_imp_1_invite_a_released_order(lead_client, survey, released_order):
    response = lead_client.post(reverse("audits:survey_invite_orders", args=[survey.pk]), {"orders-numbers": released_order.number})
    assert response.status_code == 302
    invitation = SurveyInvitation.objects.get()
    assert invitation.order == released_order and invitation.customer == released_order.customer


def test_r_imp_1_an_unreleased_order_is_refused_with_the_input_kept(lead_client, survey, make_order, categories):  # noqa: F811
    order = make_order([line(categories["bp"], "BP-1")])  # accepted, not released
    response = lead_client.post(reverse("audits:survey_invite_orders", args=[survey.pk]), {"orders-numbers": order.number})
    assert response.status_code == 200
    content = response.content.decode()
    assert f"Order {order.number} is not completed" in content
    assert order.number in re.search(r"<textarea[^>]*>(.*?)</textarea>", content, re.S).group(1)
    assert not SurveyInvitation.objects.exists()


def test_r_imp_1_an_unknown_order_number_is_refused(lead_client, survey):
    response = lead_client.post(reverse("audits:survey_invite_orders", args=[survey.pk]), {"orders-numbers": "WT2099-9999"})
    assert response.status_code == 200
    assert "No order has the number WT2099-9999." in response.content.decode()
    assert not SurveyInvitation.objects.exists()


# --- answering through the link --------------------------------------------------------------


def test_r_imp_1_customer_answers_through_the_link_without_signing_in(client, invitation):
    page = client.get(answer_url(invitation))
    assert page.status_code == 200
    content = page.content.decode()
    assert invitation.survey.title in content and "Overall satisfaction" in content
    response = client.post(answer_url(invitation), {**GOOD, "comments": "服务很好"})
    assert response.status_code == 302 and response["Location"] == THANKS
    stored = SurveyResponse.objects.get()
    assert stored.invitation == invitation and stored.scores["turnaround"] == 4 and stored.comments == "服务很好"
    assert client.get(THANKS).status_code == 200
    assert not Finding.objects.exists()  # no low score


def test_r_imp_1_the_link_works_once(client, invitation):
    """A used link is refused (410 Gone) and the first answer stays as it was."""
    assert client.post(answer_url(invitation), {**GOOD, "comments": "第一次"}).status_code == 302
    second = client.post(answer_url(invitation), {**{k: "1" for k in GOOD}, "comments": "第二次"})
    assert second.status_code == 410
    assert "This survey link was already used" in second.content.decode()
    assert SurveyResponse.objects.count() == 1
    stored = SurveyResponse.objects.get()
    assert stored.comments == "第一次" and stored.scores["overall"] == 5
    assert not Finding.objects.exists()  # the refused 1s raised nothing
    assert client.get(answer_url(invitation)).status_code == 410


def test_r_imp_1_a_link_used_meanwhile_in_another_tab_is_refused(client, invitation):
    page_open = client.get(answer_url(invitation))  # the form was shown …
    assert page_open.status_code == 200
    services.answer(token=invitation.token, scores={k: int(v) for k, v in GOOD.items()})  # … and answered elsewhere
    again = client.post(answer_url(invitation), GOOD)
    assert again.status_code == 410
    assert SurveyResponse.objects.count() == 1


def test_r_imp_2_a_low_score_raises_a_finding_shown_on_the_survey(client, lead_client, invitation):
    client.post(answer_url(invitation), {**GOOD, "turnaround": "2", "comments": "取证书太慢"})
    finding = Finding.objects.get()
    assert finding.source == FindingSource.SURVEY and finding.grade == "observation"
    assert finding.survey_response == SurveyResponse.objects.get()
    content = lead_client.get(detail(invitation.survey)).content.decode()
    assert reverse("audits:finding_detail", args=[finding.pk]) in content
    assert 'data-testid="low-score"' in content and "取证书太慢" in content
    assert re.search(r'data-testid="analysis-low">\s*1\s*<', content)


def test_r_imp_1_bad_scores_are_refused_and_the_choices_kept(client, invitation):
    data = {**GOOD, "turnaround": "7", "comments": "评论保留"}
    del data["price"]
    response = client.post(answer_url(invitation), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("Choose a score from 1 to 5.") == 2
    assert _checked(content, "reception", "5") and _checked(content, "certificates", "5")
    assert not _checked(content, "reception", "4")
    assert "评论保留" in content
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.used_at is None  # still usable
    assert client.post(answer_url(invitation), GOOD).status_code == 302


def test_r_imp_1_an_unknown_link_is_404(client, invitation):
    assert client.get(reverse("audits:survey_answer", args=["not-a-real-token"])).status_code == 404
    assert client.post(reverse("audits:survey_answer", args=["not-a-real-token"]), GOOD).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_r_imp_1_the_answer_page_is_rate_limited_per_address(client, invitation, monkeypatch):
    monkeypatch.setattr(views, "ATTEMPTS", 3)
    for _ in range(3):
        assert client.get(reverse("audits:survey_answer", args=["guess"])).status_code == 404
    limited = client.post(answer_url(invitation), GOOD)
    assert limited.status_code == 429
    assert not SurveyResponse.objects.exists()
    other = client.get(answer_url(invitation), REMOTE_ADDR="10.0.0.9")  # another address is not held up
    assert other.status_code == 200


# --- the analysis and its trend ------------------------------------------------------------


def test_r_imp_2_survey_page_shows_averages_rate_and_trend(lead_client, ql, hospital, other_hospital):  # noqa: F811
    earlier = services.create_survey(actor=ql, title="2025年满意度调查")
    first = services.invite(actor=ql, survey=earlier, customers=[hospital])[0]
    services.answer(token=first.token, scores={"reception": 3, "turnaround": 3, "certificates": 4, "price": 3, "overall": 3})
    current = services.create_survey(actor=ql, title="2026年满意度调查")
    a, _b = services.invite(actor=ql, survey=current, customers=[hospital, other_hospital])
    services.answer(token=a.token, scores={"reception": 5, "turnaround": 4, "certificates": 5, "price": 4, "overall": 5})
    content = lead_client.get(detail(current)).content.decode()
    assert re.search(r'data-testid="analysis-rate">\s*50\.0 %', content)
    trend = content[content.index('data-testid="survey-trend"'):]
    assert "2025年满意度调查" in trend
    rows = re.findall(r'<tr data-testid="trend-row">(.*?)</tr>', trend, re.S)
    assert len(rows) == 5
    assert "3.00" in rows[0] and "5.00" in rows[0]  # reception: earlier 3, now 5


# --- evaluation reports ------------------------------------------------------------------------


def _evaluation(kind="third_party", **extra):
    return {
        "kind": kind, "title": "CNAS 监督评审报告", "evaluator": "CNAS", "period_start": "2026-01-01",
        "period_end": "2026-06-30", "analysis": "提出2项不符合，需要纠正措施", **extra,
    }


def test_r_imp_2_third_party_report_without_file_is_refused(lead_client):
    response = lead_client.post(NEW_EVALUATION, _evaluation())
    assert response.status_code == 200
    content = response.content.decode()
    assert "Attach the third party&#x27;s report." in content
    assert "CNAS 监督评审报告" in content and "提出2项不符合" in content
    assert not EvaluationReport.objects.exists()


def test_r_imp_2_reversed_evaluation_period_is_refused(lead_client):
    response = lead_client.post(NEW_EVALUATION, _evaluation("self", period_start="2026-06-30", period_end="2026-01-01"))
    assert response.status_code == 200
    assert "The end is before the start." in response.content.decode()
    assert not EvaluationReport.objects.exists()


def test_r_imp_2_record_a_third_party_report_and_download_it(lead_client):
    upload = SimpleUploadedFile("cnas.pdf", PDF, content_type="application/pdf")
    response = lead_client.post(NEW_EVALUATION, {**_evaluation(), "file": upload})
    report = EvaluationReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("audits:evaluation_detail", args=[report.pk])
    assert report.kind == EvaluationKind.THIRD_PARTY and report.sha256
    page = lead_client.get(response["Location"]).content.decode()
    assert reverse("audits:evaluation_file", args=[report.pk]) in page
    assert f'{reverse("audits:finding_raise")}?evaluation={report.pk}' in page
    assert "/media/" not in page
    download = lead_client.get(reverse("audits:evaluation_file", args=[report.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_r_imp_2_self_evaluation_needs_no_file(lead_client):
    response = lead_client.post(NEW_EVALUATION, _evaluation("self", evaluator=""))
    assert response.status_code == 302
    report = EvaluationReport.objects.get()
    assert report.kind == EvaluationKind.SELF and not report.file
    assert lead_client.get(reverse("audits:evaluation_file", args=[report.pk])).status_code == 404


def test_r_imp_2_report_file_download_is_permission_checked(client, ql, technician, customer):
    report = services.record_evaluation(
        actor=ql, kind="third_party", title="客户审核报告", evaluator="某医院", period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 3, 31), analysis="无不符合", upload=SimpleUploadedFile("r.pdf", PDF),
    )
    url = reverse("audits:evaluation_file", args=[report.pk])
    assert client.get(url).status_code == 302  # not signed in: to the login page
    client.force_login(customer)
    assert client.get(url).status_code == 404
    assert client.get(reverse("audits:evaluation_detail", args=[report.pk])).status_code == 404
    client.force_login(technician)
    assert client.get(url).status_code == 200
    page = client.get(reverse("audits:evaluation_detail", args=[report.pk])).content.decode()
    assert 'data-testid="raise-finding"' not in page  # only the quality lead raises findings


def test_r_imp_2_evaluation_page_lists_its_findings(lead_client, ql):
    report = services.record_evaluation(
        actor=ql, kind="self", title="年度自查", evaluator="质量部", period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31), analysis="记录控制不足",
    )
    from audits.services.audits import raise_finding

    finding = raise_finding(actor=ql, source="evaluation", origin=report, grade="observation", description="记录归档不及时")
    content = lead_client.get(reverse("audits:evaluation_detail", args=[report.pk])).content.decode()
    assert finding.number in content and reverse("audits:finding_detail", args=[finding.pk]) in content
    assert re.search(r'<td class="text-end">1</td>', lead_client.get(EVALUATIONS).content.decode())


# --- the customer portal -------------------------------------------------------------------------


def test_r_imp_1_portal_shows_only_the_organisations_open_invitations(
    client, ql, survey, hospital, other_hospital, portal_user, other_portal_user  # noqa: F811
):
    own, foreign = services.invite(actor=ql, survey=survey, customers=[hospital, other_hospital])
    later = services.create_survey(actor=ql, title="已答调查")
    done = services.invite(actor=ql, survey=later, customers=[hospital])[0]
    services.answer(token=done.token, scores={k: int(v) for k, v in GOOD.items()})
    client.force_login(portal_user)
    content = client.get(PORTAL).content.decode()
    assert answer_url(own) in content
    assert foreign.token not in content and done.token not in content
    assert "已答调查" in content  # listed as answered, without a link
    assert 'data-testid="portal-tab-surveys"' in content
    # The portal user answers through the same link.
    assert client.post(answer_url(own), GOOD).status_code == 302
    after = client.get(PORTAL).content.decode()
    assert own.token not in after and 'data-testid="portal-survey-none"' in after
    assert 'data-testid="portal-surveys-link"' in client.get(THANKS).content.decode()
    client.force_login(other_portal_user)
    content = client.get(PORTAL).content.decode()
    assert answer_url(foreign) in content and own.token not in content


def test_r_imp_1_staff_get_404_on_the_portal_page(client, ql):
    client.force_login(ql)
    assert client.get(PORTAL).status_code == 404


# --- query counts ------------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_r_imp_1_survey_list_queries_do_not_grow_with_rows(lead_client, ql, hospital):  # noqa: F811
    def make(n):
        for i in range(n):
            s = services.create_survey(actor=ql, title=f"调查{i}")
            services.invite(actor=ql, survey=s, customers=[hospital])

    make(3)
    few = _count(lead_client, LIST)
    make(22)
    assert _count(lead_client, LIST) == few


def test_r_imp_1_survey_page_queries_do_not_grow_with_invitations(lead_client, ql, survey):
    def grow(n, prefix):
        invited = services.invite(actor=ql, survey=survey, customers=_customers(n, prefix))
        for i, inv in enumerate(invited):
            scores = {k: int(v) for k, v in GOOD.items()}
            if i % 2:
                scores["price"] = 1
            services.answer(token=inv.token, scores=scores)

    grow(3, "a")
    few = _count(lead_client, detail(survey))
    grow(22, "b")
    assert _count(lead_client, detail(survey)) == few


def test_r_imp_2_evaluation_list_queries_do_not_grow_with_rows(lead_client, ql):
    def make(n):
        for i in range(n):
            services.record_evaluation(
                actor=ql, kind="self", title=f"自查{i}", evaluator="", period_start=dt.date(2026, 1, 1),
                period_end=dt.date(2026, 6, 30), analysis="分析",
            )

    make(3)
    few = _count(lead_client, EVALUATIONS)
    make(22)
    assert _count(lead_client, EVALUATIONS) == few


def test_r_imp_1_portal_queries_do_not_grow_with_invitations(client, ql, hospital, portal_user):  # noqa: F811
    def make(n):
        for i in range(n):
            s = services.create_survey(actor=ql, title=f"调查{i}")
            inv = services.invite(actor=ql, survey=s, customers=[hospital])[0]
            if i % 2:
                services.answer(token=inv.token, scores={k: int(v) for k, v in GOOD.items()})

    client.force_login(portal_user)
    make(3)
    few = _count(client, PORTAL)
    make(22)
    assert _count(client, PORTAL) == few
