"""The audit programme and audit pages (R-MGT-1, R-MGT-2, ISO/IEC 17025 8.8): a year's
programme with its coverage of every clause and department, the lab head's approval
(refused while there are gaps), planning audits — scheduled, and ad hoc from a complaint
or an impact analysis — with the independence refusal shown on the form and nothing
created, every step of an audit through its page as the role that takes it, and the
audit report PDF.

Messages are asserted with the English UI (LANGUAGE_COOKIE "en").
"""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.clauses import CLAUSE_CODES
from audits.forms.programme import authorised_auditors
from audits.models import Audit, AuditProgramme, AuditStatus, ChecklistItem, Finding
from audits.services import audits as services
from complaints.models import Channel, Complaint
from complaints.services import complaints as complaint_services
from equipment.models import Equipment, ImpactAnalysis
from labqms import permissions
from labqms.models import Activity, Role
from tests.audits.conftest import COUNTER, LAB, QUALITY
from tests.factories import AuthorisationFactory, DelegationFactory

TODAY = timezone.localdate()


@pytest.fixture
def as_user(client):
    """``as_user(user)``: the test client signed in as ``user`` with the English UI."""

    def sign_in(user):
        client.logout()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def complaint(counter_auditor, auditee):
    """A substantiated major complaint about the lab that requested an ad-hoc audit."""
    item = complaint_services.register(
        actor=counter_auditor, channel=Channel.HOTLINE,
        data={"complainant_name": "王医生", "complainant_phone": "0571-88888888", "subject": "示值偏差",
              "description": "同一台血压计两次送检结论相反。"},
    )
    Complaint.objects.filter(pk=item.pk).update(classification="major", department=LAB, audit_requested_at=timezone.now())
    item.refresh_from_db()
    return item


@pytest.fixture
def impact(ql, auditee):
    equipment = Equipment.objects.create(lab_id="BZ-IA1", name="血压计标准器", kind="standard")
    return ImpactAnalysis.objects.create(
        equipment=equipment, trigger="failed_calibration", trigger_detail="外部校准不合格", found_on=TODAY,
        opened_by=ql, nonconformity="BZ-IA1 校准不合格",
    )


def plan_data(**fields):
    data = {
        "kind": "scheduled", "title": "计量室年度内审", "clauses": ["6.4", "7.5"], "areas": [LAB],
        "planned_start": TODAY.isoformat(), "planned_end": TODAY.isoformat(), "lead_auditor": "", "auditors": [],
        "programme": "", "external_body": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def detail(item):
    return reverse("audits:audit_detail", args=[item.pk])


# --- the programmes ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_quality_lead_opens_a_year_s_programme_R_MGT_1(as_user, ql):
    client = as_user(ql)
    page = client.get(reverse("audits:programme_list"))
    assert page.status_code == 200 and b'data-testid="programme-form"' in page.content
    response = client.post(reverse("audits:programme_create"), {"year": TODAY.year + 1, "objectives": "覆盖全部要素"})
    assert response.status_code == 302 and response["Location"] == reverse("audits:programme_detail", args=[TODAY.year + 1])
    programme = AuditProgramme.objects.get(year=TODAY.year + 1)
    assert programme.prepared_by == ql and programme.objectives == "覆盖全部要素"
    page = client.get(reverse("audits:programme_list"))
    assert f'data-year="{TODAY.year + 1}"'.encode() in page.content


@pytest.mark.django_db
def test_a_second_programme_for_a_year_is_refused_with_the_input_kept_R_MGT_1(as_user, ql, programme):
    response = as_user(ql).post(reverse("audits:programme_create"), {"year": programme.year, "objectives": "再来一个"})
    assert response.status_code == 200
    assert f"There is already a programme for {programme.year}.".encode() in response.content
    assert "再来一个".encode() in response.content
    assert AuditProgramme.objects.count() == 1


@pytest.mark.django_db
def test_only_the_quality_lead_opens_a_programme_R_MGT_2(as_user, lab_auditor, head):
    for user in (lab_auditor, head):
        client = as_user(user)
        assert b'data-testid="programme-form"' not in client.get(reverse("audits:programme_list")).content
        response = client.post(reverse("audits:programme_create"), {"year": TODAY.year})
        assert response.status_code == 302
    assert not AuditProgramme.objects.exists()


@pytest.mark.django_db
def test_an_auditor_sees_their_own_audits_on_the_list_R_MGT_1(as_user, planned, counter_auditor, lab_auditor):
    page = as_user(counter_auditor).get(reverse("audits:programme_list"))
    assert b'data-testid="my-audit"' in page.content and planned.number.encode() in page.content
    assert b'data-testid="my-audit"' not in as_user(lab_auditor).get(reverse("audits:programme_list")).content


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_2_or_8_external_assessments_R_MGT_1(as_user, ql, programme, counter_auditor):
    """Audits outside a programme (external assessments here) are listed with a constant
    number of queries; the signed-in auditor's own audits too."""
    def add(n, start):
        for i in range(start, start + n):
            services.plan_audit(
                actor=ql, kind="external", title=f"CNAS 评审 {i}", clauses=["8.8"], areas=[], planned_start=TODAY,
                planned_end=TODAY, lead_auditor=counter_auditor if i % 2 else None, external_body="CNAS",
            )

    client = as_user(counter_auditor)
    add(2, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("audits:programme_list")).status_code == 200
    add(6, 2)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("audits:programme_list"))
    assert page.content.count(b'data-testid="audit-row"') == 8 and page.content.count(b'data-testid="my-audit"') == 4
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_programme_shows_its_audits_and_the_coverage_gaps_R_MGT_1(as_user, planned, lab_auditor):
    page = as_user(lab_auditor).get(reverse("audits:programme_detail", args=[planned.programme.year]))
    assert page.status_code == 200
    text = page.content.decode()
    assert planned.number in text and "医学计量室内审" in text
    assert 'data-code="6.4"' in text and 'data-code="4.1" class="table-warning" data-gap="1"' in text
    assert f'data-code="{LAB}"' in text and f'data-code="{COUNTER}" class="table-warning" data-gap="1"' in text
    assert "Not covered" in text
    assert b'data-testid="approve-form"' not in page.content  # not the lab head


@pytest.mark.django_db
def test_approval_is_refused_while_clauses_or_departments_are_missing_R_MGT_1(as_user, planned, head):
    client = as_user(head)
    url = reverse("audits:programme_detail", args=[planned.programme.year])
    assert b'data-testid="approve-blocked"' in client.get(url).content
    response = client.post(reverse("audits:programme_approve", args=[planned.programme.year]))
    assert response.status_code == 200
    assert b'data-testid="approve-error"' in response.content
    assert b"does not cover every element and department yet" in response.content
    assert COUNTER.encode() in response.content and b"4.1" in response.content
    planned.programme.refresh_from_db()
    assert planned.programme.approved_at is None


@pytest.mark.django_db
def test_the_lab_head_approves_a_programme_that_covers_everything_R_MGT_1(
    as_user, planned, ql, head, lab_auditor, counter_auditor
):
    """Two more audits cover every clause and every department; the approval then goes through."""
    services.plan_audit(
        actor=ql, kind="scheduled", title="质量与业务受理内审", clauses=CLAUSE_CODES, areas=[COUNTER, QUALITY],
        planned_start=TODAY, planned_end=TODAY, lead_auditor=lab_auditor, programme=planned.programme,
    )
    services.plan_audit(
        actor=ql, kind="scheduled", title="医学计量室全要素", clauses=CLAUSE_CODES, areas=[LAB],
        planned_start=TODAY, planned_end=TODAY, lead_auditor=counter_auditor, programme=planned.programme,
    )
    client = as_user(head)
    url = reverse("audits:programme_detail", args=[planned.programme.year])
    page = client.get(url)
    assert b'data-testid="coverage-complete"' in page.content and b'data-gap="1"' not in page.content
    response = client.post(reverse("audits:programme_approve", args=[planned.programme.year]))
    assert response.status_code == 302
    planned.programme.refresh_from_db()
    assert planned.programme.approved_by == head and planned.programme.approved_at is not None
    page = client.get(url)
    assert b'data-testid="programme-approved"' in page.content and b'data-testid="approve-form"' not in page.content


@pytest.mark.django_db
def test_the_quality_lead_cannot_approve_the_programme_R_MGT_1(as_user, planned, ql):
    response = as_user(ql).post(reverse("audits:programme_approve", args=[planned.programme.year]))
    assert response.status_code == 302
    planned.programme.refresh_from_db()
    assert planned.programme.approved_at is None


def _programme_queries(client, year):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("audits:programme_detail", args=[year])).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_programme_page_costs_the_same_queries_for_2_or_8_audits_R_MGT_1(as_user, programme, ql, counter_auditor, lab_auditor):
    def add(n):
        for i in range(n):
            item = services.plan_audit(
                actor=ql, kind="scheduled", title=f"内审 {i}", clauses=CLAUSE_CODES[i % 5: i % 5 + 4], areas=[LAB],
                planned_start=TODAY, planned_end=TODAY, lead_auditor=counter_auditor, auditors=[ql], programme=programme,
            )
            if i % 3 == 0:
                services.start_audit(actor=counter_auditor, audit_item=item)

    client = as_user(lab_auditor)
    add(2)
    few = _programme_queries(client, programme.year)
    add(6)
    assert Audit.objects.filter(programme=programme).count() == 8
    assert _programme_queries(client, programme.year) == few


# --- planning an audit -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_plan_form_offers_the_people_authorised_to_audit_R_MGT_1(as_user, ql, lab_auditor, counter_auditor, auditee):
    page = as_user(ql).get(reverse("audits:audit_plan"))
    assert page.status_code == 200
    auditors = page.context["form"].fields["auditors"].queryset
    assert set(auditors) == {ql, lab_auditor, counter_auditor}
    assert LAB.encode() in page.content and COUNTER.encode() in page.content  # the departments as areas


@pytest.mark.django_db
def test_authorised_auditors_are_whom_the_permissions_allow_in_one_query_R_MGT_1(
    make_user, head, ql, lab_auditor, counter_auditor, auditee, django_assert_num_queries
):
    """Own valid general authorisations, a deputy borrowing the quality lead's; not an
    expired or revoked authorisation, a scoped one, an inactive account or a customer."""
    deputy = make_user(Role.TECHNICIAN, username="deputy_a")
    DelegationFactory(lead=ql, deputy=deputy, role=Role.QUALITY_LEAD, valid_from=TODAY - dt.timedelta(days=1),
                      valid_until=TODAY + dt.timedelta(days=5), created_by=head)
    expired = make_user(Role.TECHNICIAN, username="expired_a")
    AuthorisationFactory(person=expired, activity=Activity.AUDIT, valid_until=TODAY - dt.timedelta(days=1))
    revoked = make_user(Role.TECHNICIAN, username="revoked_a")
    AuthorisationFactory(person=revoked, activity=Activity.AUDIT, revoked_at=timezone.now())
    inactive = make_user(Role.TECHNICIAN, username="inactive_a", is_active=False)
    AuthorisationFactory(person=inactive, activity=Activity.AUDIT)
    scoped = make_user(Role.TECHNICIAN, username="scoped_a")
    AuthorisationFactory(person=scoped, activity=Activity.AUDIT, scope_type=ContentType.objects.get_for_model(Equipment), scope_id=1)
    outsider = make_user(Role.CUSTOMER, username="customer_a")
    AuthorisationFactory(person=outsider, activity=Activity.AUDIT)
    everyone = [head, ql, lab_auditor, counter_auditor, auditee, deputy, expired, revoked, inactive, scoped, outsider]
    with django_assert_num_queries(1):
        listed = set(authorised_auditors())
    assert listed == {u for u in everyone if permissions.can(u, "audits.audit")}
    assert listed == {ql, lab_auditor, counter_auditor, deputy}


@pytest.mark.django_db
def test_the_quality_lead_plans_an_audit_and_the_checklist_follows_its_clauses_R_MGT_1(
    as_user, ql, programme, counter_auditor, auditee
):
    response = as_user(ql).post(reverse("audits:audit_plan"), plan_data(
        programme=programme.pk, lead_auditor=counter_auditor.pk, auditors=[ql.pk], clauses=["7.8", "6.4"],
    ))
    item = Audit.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(item)
    assert item.clauses == ["6.4", "7.8"] and item.areas == [LAB] and item.programme == programme
    assert item.lead_auditor == counter_auditor and list(item.auditors.all()) == [ql]
    assert list(item.checklist.values_list("clause", flat=True)) == ["6.4", "7.8"]


@pytest.mark.django_db
def test_an_auditor_may_not_audit_their_own_area_refused_with_nothing_created_R_MGT_1(
    as_user, ql, programme, lab_auditor, counter_auditor
):
    """Issue 8 bad input: the lab's own auditor on an audit of the lab — refused, the form
    comes back with every input kept, no audit, no checklist, no number used."""
    response = as_user(ql).post(reverse("audits:audit_plan"), plan_data(
        title="医学计量室不独立的审核", programme=programme.pk, lead_auditor=counter_auditor.pk, auditors=[lab_auditor.pk],
    ))
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="auditors-error"' in text
    assert f"belongs to {LAB} and may not audit their own area" in text
    assert "医学计量室不独立的审核" in text
    form = response.context["form"]
    assert form.data.getlist("clauses") == ["6.4", "7.5"] and form.data.getlist("auditors") == [str(lab_auditor.pk)]
    assert not Audit.objects.exists() and not ChecklistItem.objects.exists()
    # The same person as lead auditor is refused the same way.
    response = as_user(ql).post(reverse("audits:audit_plan"), plan_data(programme=programme.pk, lead_auditor=lab_auditor.pk))
    assert response.status_code == 200 and "may not audit their own area" in response.content.decode()
    assert not Audit.objects.exists()


@pytest.mark.django_db
def test_a_plan_with_missing_input_is_refused_field_by_field_R_MGT_1(as_user, ql, counter_auditor, auditee):
    response = as_user(ql).post(reverse("audits:audit_plan"), plan_data(
        title="", clauses=[], planned_end=(TODAY - dt.timedelta(days=3)).isoformat(), lead_auditor=counter_auditor.pk,
    ))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "title" in errors and "clauses" in errors and "planned_end" in errors and "programme" in errors
    assert not Audit.objects.exists()


@pytest.mark.django_db
def test_only_the_quality_lead_plans_audits_R_MGT_2(client, lab_auditor, head):
    for user in (lab_auditor, head):
        client.force_login(user)
        assert client.get(reverse("audits:audit_plan")).status_code == 404
        assert client.post(reverse("audits:audit_plan"), plan_data()).status_code == 404
    assert not Audit.objects.exists()


@pytest.mark.django_db
def test_an_ad_hoc_audit_is_opened_from_a_complaint_that_requested_one_R_MGT_1(as_user, ql, complaint, counter_auditor, lab_auditor):
    """R-CMP-6: the complaint page leads the quality lead to the plan form, pre-filled."""
    client = as_user(ql)
    page = client.get(reverse("complaints:complaint_detail", args=[complaint.pk]))
    link = f'{reverse("audits:audit_plan")}?complaint={complaint.pk}'
    assert b'data-testid="open-ad-hoc-audit"' in page.content and link.encode() in page.content
    assert b'data-testid="open-ad-hoc-audit"' not in as_user(lab_auditor).get(
        reverse("complaints:complaint_detail", args=[complaint.pk])).content
    client = as_user(ql)
    form_page = client.get(link)
    form = form_page.context["form"]
    assert form.initial["complaint"] == complaint.pk and form.initial["areas"] == [LAB]
    assert complaint.number in form.initial["title"] and form.fields["kind"].disabled
    assert b'data-testid="source-complaint"' in form_page.content
    response = client.post(reverse("audits:audit_plan"), plan_data(
        kind="", title=form.initial["title"], clauses=form.initial["clauses"], complaint=complaint.pk,
        lead_auditor=counter_auditor.pk,
    ))
    item = Audit.objects.get()
    assert response.status_code == 302
    assert item.kind == "ad_hoc" and item.source_complaint == complaint and item.programme is None
    page = client.get(detail(item))
    assert b'data-testid="source-complaint"' in page.content and complaint.number.encode() in page.content


@pytest.mark.django_db
def test_a_complaint_that_requested_no_audit_opens_none_R_MGT_1(as_user, ql, complaint, counter_auditor):
    Complaint.objects.filter(pk=complaint.pk).update(audit_requested_at=None)
    client = as_user(ql)
    assert b'data-testid="open-ad-hoc-audit"' not in client.get(reverse("complaints:complaint_detail", args=[complaint.pk])).content
    response = client.post(reverse("audits:audit_plan"), plan_data(complaint=complaint.pk, lead_auditor=counter_auditor.pk))
    assert response.status_code == 200 and b"did not request an audit" in response.content
    assert not Audit.objects.exists()


@pytest.mark.django_db
def test_an_ad_hoc_audit_is_opened_from_an_impact_analysis_R_MGT_1(as_user, ql, impact, counter_auditor):
    client = as_user(ql)
    page = client.get(reverse("equipment:impact_detail", args=[impact.pk]))
    link = f'{reverse("audits:audit_plan")}?impact={impact.pk}'
    assert link.encode() in page.content
    form = client.get(link).context["form"]
    assert form.initial["impact"] == impact.pk and "BZ-IA1" in form.initial["title"]
    response = client.post(reverse("audits:audit_plan"), plan_data(
        kind="scheduled", title=form.initial["title"], clauses=form.initial["clauses"], impact=impact.pk,
        lead_auditor=counter_auditor.pk,
    ))
    item = Audit.objects.get()
    assert response.status_code == 302 and item.kind == "ad_hoc" and item.source_impact == impact  # kind fixed
    assert b'data-testid="source-impact"' in client.get(detail(item)).content


# --- an audit's steps --------------------------------------------------------------------------


def _check(client, item, result, evidence="记录齐全"):
    return client.post(reverse("audits:checklist_check", args=[item.pk]), {
        f"check-{item.pk}-evidence": evidence, f"check-{item.pk}-result": result,
    })


@pytest.mark.django_db
def test_an_audit_from_start_to_report_through_its_page_R_MGT_1(as_user, planned, counter_auditor, auditee, ql):
    client = as_user(counter_auditor)
    page = client.get(detail(planned))
    assert b'data-testid="start-form"' in page.content and b'data-testid="report-form"' not in page.content
    response = client.post(reverse("audits:audit_start", args=[planned.pk]))
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.status == AuditStatus.IN_PROGRESS and planned.started_on == timezone.localdate()

    items = {i.clause: i for i in planned.checklist.all()}
    page = client.get(detail(planned))
    assert page.content.count(b'data-testid="check-form"') == 3 and b'data-testid="report-form"' in page.content
    assert _check(client, items["6.4"], "nonconformity", "BZ-001 校准过期仍在用").status_code == 302
    item = items["6.4"]
    item.refresh_from_db()
    assert item.result == "nonconformity" and item.evidence == "BZ-001 校准过期仍在用" and item.checked_by == counter_auditor

    # Report refused: two clauses not checked yet — the conclusions typed are kept.
    response = client.post(reverse("audits:audit_report", args=[planned.pk]), {"report-conclusions": "体系运行基本有效"})
    assert response.status_code == 200
    assert b"These clauses are not checked yet: 7.5, 7.8." in response.content
    assert "体系运行基本有效".encode() in response.content
    planned.refresh_from_db()
    assert planned.status == AuditStatus.IN_PROGRESS

    assert _check(client, items["7.5"], "conforms").status_code == 302
    assert _check(client, items["7.8"], "observation", "报告格式可改进").status_code == 302
    # Still refused: the nonconformity has no finding yet.
    response = client.post(reverse("audits:audit_report", args=[planned.pk]), {"report-conclusions": "体系运行基本有效"})
    assert response.status_code == 200 and b"Raise a finding for each nonconformity first: 6.4." in response.content

    response = client.post(reverse("audits:checklist_finding", args=[item.pk]), {
        f"finding-{item.pk}-grade": "minor", f"finding-{item.pk}-description": "设备超期未校准仍在使用",
        f"finding-{item.pk}-evidence": "BZ-001 校准有效期至上月", f"finding-{item.pk}-responsible": auditee.pk,
        f"finding-{item.pk}-area": LAB,
    })
    assert response.status_code == 302
    finding = Finding.objects.get()
    assert (finding.audit, finding.checklist_item, finding.clause, finding.area, finding.responsible, finding.raised_by) == (
        planned, item, "6.4", LAB, auditee, counter_auditor)
    page = client.get(detail(planned))
    assert reverse("audits:finding_detail", args=[finding.pk]).encode() in page.content

    response = client.post(reverse("audits:audit_report", args=[planned.pk]), {"report-conclusions": "体系运行基本有效"})
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.status == AuditStatus.REPORTED and planned.conclusions == "体系运行基本有效"
    assert planned.reported_by == counter_auditor
    page = client.get(detail(planned))
    assert b'data-testid="check-form"' not in page.content and b'data-testid="audit-conclusions"' in page.content


@pytest.mark.django_db
def test_a_finding_without_evidence_or_responsible_is_refused_with_input_kept_R_MGT_1(as_user, in_progress, counter_auditor):
    item = in_progress.checklist.get(clause="7.5")
    response = as_user(counter_auditor).post(reverse("audits:checklist_finding", args=[item.pk]), {
        f"finding-{item.pk}-grade": "major", f"finding-{item.pk}-description": "原始记录缺失",
    })
    assert response.status_code == 200
    form = response.context["checklist"][1].finding_form
    assert "evidence" in form.errors and "responsible" in form.errors
    assert "原始记录缺失".encode() in response.content
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_a_check_without_evidence_is_refused_R_MGT_1(as_user, in_progress, counter_auditor):
    item = in_progress.checklist.get(clause="7.5")
    response = _check(as_user(counter_auditor), item, "conforms", evidence="")
    assert response.status_code == 200 and b"Note the evidence seen." in response.content
    item.refresh_from_db()
    assert item.result == "not_checked"


@pytest.mark.django_db
def test_someone_outside_the_audit_team_takes_no_step_R_MGT_1(as_user, planned, lab_auditor, ql):
    """Not on the team: no step offered; a posted step is refused with a message and
    nothing changes.  The quality lead plans but does not audit this one."""
    for user in (lab_auditor, ql):
        client = as_user(user)
        page = client.get(detail(planned))
        assert page.status_code == 200 and b'data-testid="start-form"' not in page.content
        response = client.post(reverse("audits:audit_start", args=[planned.pk]))
        assert response.status_code == 302 and response["Location"].startswith(detail(planned))
    planned.refresh_from_db()
    assert planned.status == AuditStatus.PLANNED


@pytest.mark.django_db
def test_only_the_lead_auditor_reports_R_MGT_1(as_user, in_progress, ql, counter_auditor):
    in_progress.auditors.add(ql)
    client = as_user(ql)
    assert b'data-testid="report-form"' not in client.get(detail(in_progress)).content
    assert b'data-testid="check-form"' in client.get(detail(in_progress)).content  # on the team
    response = client.post(reverse("audits:audit_report", args=[in_progress.pk]), {"report-conclusions": "x"})
    assert response.status_code == 302
    in_progress.refresh_from_db()
    assert in_progress.status == AuditStatus.IN_PROGRESS


@pytest.mark.django_db
def test_the_quality_lead_cancels_a_planned_audit_with_a_reason_R_MGT_1(as_user, planned, ql):
    client = as_user(ql)
    response = client.post(reverse("audits:audit_cancel", args=[planned.pk]), {"cancel-reason": ""})
    assert response.status_code == 200 and b"Say why the audit is cancelled." in response.content
    planned.refresh_from_db()
    assert planned.status == AuditStatus.PLANNED
    response = client.post(reverse("audits:audit_cancel", args=[planned.pk]), {"cancel-reason": "与外部评审合并"})
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.status == AuditStatus.CANCELLED and planned.cancelled_reason == "与外部评审合并"
    page = client.get(reverse("audits:programme_detail", args=[planned.programme.year]))
    assert b'data-testid="clause-row" data-code="6.4" class="table-warning"' in page.content  # no longer counts


@pytest.mark.django_db
def test_the_audit_page_costs_the_same_queries_for_3_or_26_clauses_R_MGT_1(as_user, programme, ql, counter_auditor):
    def audit_with(clauses):
        item = services.plan_audit(
            actor=ql, kind="scheduled", title="内审", clauses=clauses, areas=[LAB], planned_start=TODAY, planned_end=TODAY,
            lead_auditor=counter_auditor, programme=programme,
        )
        return services.start_audit(actor=counter_auditor, audit_item=item)

    client = as_user(counter_auditor)
    counts = []
    for clauses in (["6.4", "7.5", "7.8"], CLAUSE_CODES):
        item = audit_with(clauses)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(detail(item))
        assert page.content.count(b'data-testid="check-form"') == len(clauses)
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the report PDF ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_audit_report_pdf_carries_the_number_findings_and_conclusions_R_MGT_1(
    as_user, nonconformity, counter_auditor, lab_auditor
):
    from pypdf import PdfReader

    audit_item = nonconformity.audit
    for item in audit_item.checklist.exclude(clause="6.4"):
        services.record_check(actor=counter_auditor, item=item, evidence="符合", result="conforms")
    services.report_audit(actor=counter_auditor, audit_item=audit_item, conclusions="Conclusions: effective")
    response = as_user(lab_auditor).get(reverse("audits:audit_report_pdf", args=[audit_item.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert audit_item.number in text and nonconformity.number in text and "effective" in text
