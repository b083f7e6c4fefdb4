"""Reassigning an open complaint on its page (R-CMP-1, R-CMP-3, R-CMP-5; ISO/IEC 17025
7.9.6): the quality lead authorised to handle complaints names another responsible
department or person while the complaint is open; the reply clock does not restart; the
step is an event with its reason; a refusal (no reason, the same person again, someone
involved in the work complained about) is shown on the form with the input kept and
nothing changed; nobody else is offered the step, and a POST from them changes nothing.

Messages are asserted with the English UI (LANGUAGE_COOKIE "en").
"""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate, CertificateStatus, CertificateType
from complaints.models import Channel, Complaint, ComplaintEvent, ComplaintStatus
from complaints.services import complaints as services
from labqms.models import Notification, Role

# Fixtures of the records tests (a checked record), requested by name.
from tests.certificates.conftest import assigner as assigner  # noqa: F401
from tests.certificates.conftest import bp_equipment as bp_equipment  # noqa: F401
from tests.certificates.conftest import categories as categories  # noqa: F401
from tests.certificates.conftest import checked_record as checked_record  # noqa: F401
from tests.certificates.conftest import checker as checker  # noqa: F401
from tests.certificates.conftest import clerk as clerk  # noqa: F401
from tests.certificates.conftest import fill as fill  # noqa: F401
from tests.certificates.conftest import hospital as hospital  # noqa: F401
from tests.certificates.conftest import lead as lead  # noqa: F401
from tests.certificates.conftest import location as location  # noqa: F401
from tests.certificates.conftest import make_equipment as make_equipment  # noqa: F401
from tests.certificates.conftest import make_order as make_order  # noqa: F401
from tests.certificates.conftest import make_technician as make_technician  # noqa: F401
from tests.certificates.conftest import method as method  # noqa: F401
from tests.certificates.conftest import method_lead as method_lead  # noqa: F401
from tests.certificates.conftest import operator as operator  # noqa: F401
from tests.certificates.conftest import performer as performer  # noqa: F401
from tests.certificates.conftest import received_sample as received_sample  # noqa: F401
from tests.certificates.conftest import record as record  # noqa: F401
from tests.certificates.conftest import signed_record as signed_record  # noqa: F401
from tests.certificates.conftest import task as task  # noqa: F401
from tests.certificates.conftest import template as template  # noqa: F401
from tests.complaints.conftest import COMPLAINANT, DEPARTMENT
from tests.factories import StaffProfileFactory

S = ComplaintStatus
OTHER_DEPARTMENT = "电学计量室"


def detail(c):
    return reverse("complaints:complaint_detail", args=[c.pk])


def reassign_url(c):
    return reverse("complaints:complaint_reassign", args=[c.pk])


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
def substitute(make_user):
    """A member of staff of another department who takes over."""
    user = make_user(Role.TECHNICIAN, username="subst_c", full_name="检定员丁")
    StaffProfileFactory(user=user, department=OTHER_DEPARTMENT)
    return user


def text(response) -> str:
    return response.content.decode()


def state(c):
    """Everything reassigning could change (or must not)."""
    c = Complaint.objects.get(pk=c.pk)
    return (
        c.status, c.department, c.responsible_person_id, c.accepted_on, c.reply_due, c.original_due,
        ComplaintEvent.objects.filter(complaint=c).count(), Notification.objects.count(),
    )


def post(client, c, **data):
    return client.post(reassign_url(c), {f"reassign-{k}": v for k, v in data.items()})


@pytest.mark.django_db
def test_r_cmp_1_only_the_quality_lead_is_offered_reassignment_while_the_complaint_is_open(
    as_user, accepted, handler, responsible, colleague, counter, head
):
    page = text(as_user(handler).get(detail(accepted)))
    assert 'data-testid="reassign-form"' in page
    assert f'<option value="{DEPARTMENT}">' in page  # the departments' datalist, as for acceptance
    assert f'value="{DEPARTMENT}"' in page.split('data-testid="reassign-form"')[1]  # the current department prefilled
    for user in (responsible, colleague, counter, head):
        assert 'data-testid="reassign-form"' not in text(as_user(user).get(detail(accepted))), user


@pytest.mark.django_db
def test_r_cmp_1_no_reassignment_before_acceptance(as_user, handler, registered):
    assert 'data-testid="reassign-form"' not in text(as_user(handler).get(detail(registered)))


@pytest.mark.django_db
def test_r_cmp_1_no_reassignment_once_replied(as_user, handler, replied):
    client = as_user(handler)
    assert 'data-testid="reassign-form"' not in text(client.get(detail(replied)))
    before = state(replied)
    response = post(client, replied, department=OTHER_DEPARTMENT, responsible_person=replied.responsible_person_id,
                     reason="人员调整。")
    assert response.status_code == 302 and response["Location"].startswith(detail(replied))
    assert "Only an open complaint changes hands." in text(client.get(response["Location"]))
    assert state(replied) == before


@pytest.mark.django_db
def test_r_cmp_3_reassigning_keeps_the_clock_records_the_reason_and_tells_the_new_person(
    as_user, accepted, handler, substitute
):
    before = state(accepted)
    client = as_user(handler)
    response = post(client, accepted, department=OTHER_DEPARTMENT, responsible_person=substitute.pk,
                    reason="原负责人休假。")
    assert response.status_code == 302 and response["Location"].endswith("#clock")
    after = state(accepted)
    assert after[1:3] == (OTHER_DEPARTMENT, substitute.pk)
    assert (after[0], *after[3:6]) == (before[0], *before[3:6])  # status, acceptance and due dates unchanged
    event = ComplaintEvent.objects.filter(complaint=accepted).latest("pk")
    assert event.kind == "reassigned" and event.actor == handler and event.note == "原负责人休假。"
    assert event.data["to"] == {"department": OTHER_DEPARTMENT, "responsible": str(substitute.full_name)}
    assert Notification.objects.filter(recipient=substitute, url=detail(accepted)).exists()
    page = text(client.get(response["Location"]))
    assert f"Responsibility for complaint {accepted.number} changed" in page
    assert "Responsibility for the complaint changed" in page and "原负责人休假。" in page  # the step in the log
    assert OTHER_DEPARTMENT in page.split('data-testid="responsible"')[1].split("</dd>")[0]


@pytest.mark.django_db
def test_r_cmp_3_reassigning_without_a_reason_is_refused_and_the_input_kept(as_user, accepted, handler, substitute):
    before = state(accepted)
    response = post(as_user(handler), accepted, department=OTHER_DEPARTMENT, responsible_person=substitute.pk, reason=" ")
    page = text(response)
    assert response.status_code == 200 and "Say why the responsibility changes." in page
    form = page.split('data-testid="reassign-form"')[1].split("</form>")[0]
    assert f'value="{OTHER_DEPARTMENT}"' in form and f'<option value="{substitute.pk}" selected>' in form
    assert 'data-testid="reassign-section" open' in page
    assert state(accepted) == before


@pytest.mark.django_db
def test_r_cmp_3_reassigning_to_whoever_is_responsible_already_is_refused(as_user, accepted, handler, responsible):
    before = state(accepted)
    response = post(as_user(handler), accepted, department=DEPARTMENT, responsible_person=responsible.pk, reason="确认。")
    assert response.status_code == 200 and "That is who is responsible already." in text(response)
    assert state(accepted) == before


@pytest.mark.django_db
def test_r_cmp_3_reassigning_without_a_person_or_department_is_refused(as_user, accepted, handler, substitute):
    before = state(accepted)
    client = as_user(handler)
    response = post(client, accepted, department=OTHER_DEPARTMENT, responsible_person="", reason="人员调整。")
    assert response.status_code == 200 and "Choose an active member of staff as the responsible person." in text(response)
    response = post(client, accepted, department="", responsible_person=substitute.pk, reason="人员调整。")
    assert response.status_code == 200 and "Name the responsible department." in text(response)
    assert state(accepted) == before


@pytest.fixture
def certificate_complaint(checked_record, performer, method_lead, counter, handler, responsible):
    """An accepted complaint about an issued certificate of a record performed by
    ``performer`` and checked by ``checker``; ``responsible`` was not involved."""
    certificate = Certificate.objects.create(
        record=checked_record, type=CertificateType.VERIFICATION_CERTIFICATE, status=CertificateStatus.ISSUED,
        number="JD2026-000077", verification_code="ABCD7777", created_by=performer, approved_by=method_lead,
        issued_at=timezone.now(),
    )
    complaint = services.register(actor=counter, channel=Channel.HOTLINE, data={**COMPLAINANT, "certificate": certificate})
    return services.accept(actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=responsible)


@pytest.mark.django_db
def test_independence_someone_involved_in_the_work_is_not_made_responsible(
    as_user, certificate_complaint, handler, checker, performer, method_lead
):
    """ISO/IEC 17025 7.9.6: the checker of the record, its performer and the approver of
    the certificate complained about are refused as the new responsible person."""
    complaint = certificate_complaint
    record_number = complaint.certificate.record.number
    before = state(complaint)
    client = as_user(handler)
    for person, what in ((checker, f"checked record {record_number}"), (performer, f"performed record {record_number}"),
                         (method_lead, "approved certificate JD2026-000077")):
        response = post(client, complaint, department=DEPARTMENT, responsible_person=person.pk, reason="人员调整。")
        page = text(response)
        assert response.status_code == 200, person
        assert what in page and "ISO/IEC 17025 7.9.6" in page, person
        assert f'<option value="{person.pk}" selected>' in page
        assert state(complaint) == before


@pytest.mark.django_db
def test_r_cmp_5_the_new_responsible_person_approves_the_opinion(as_user, proposed, handler, responsible, substitute):
    """A proposed opinion waits for the responsible person: after reassignment the new
    one is offered the approval, the former one no longer."""
    client = as_user(handler)
    assert post(client, proposed, department=OTHER_DEPARTMENT, responsible_person=substitute.pk,
                reason="原负责人出差。").status_code == 302
    assert 'data-testid="decide-form"' not in text(as_user(responsible).get(detail(proposed)))
    assert 'data-testid="decide-form"' in text(as_user(substitute).get(detail(proposed)))
    response = as_user(substitute).post(
        reverse("complaints:complaint_decide_opinion", args=[proposed.pk]), {"decide-decision": "approve"}
    )
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == S.APPROVED and proposed.opinion_approved_by == substitute


@pytest.mark.django_db
def test_others_are_not_offered_the_step_and_change_nothing(as_user, client, accepted, responsible, counter, head, substitute, customer):
    before = state(accepted)
    for user in (responsible, counter, head):
        response = post(as_user(user), accepted, department=OTHER_DEPARTMENT, responsible_person=substitute.pk,
                        reason="人员调整。")
        assert response.status_code == 302 and response["Location"].startswith(detail(accepted)), user
        assert 'class="alert alert-danger alert-dismissible"' in text(client.get(response["Location"])), user  # the refusal
    assert post(as_user(customer), accepted, department=OTHER_DEPARTMENT, responsible_person=substitute.pk,
                reason="人员调整。").status_code == 404
    client.logout()
    response = post(client, accepted, department=OTHER_DEPARTMENT, responsible_person=substitute.pk, reason="人员调整。")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert state(accepted) == before


@pytest.mark.django_db
def test_reassigning_is_post_only(as_user, accepted, handler):
    before = state(accepted)
    assert as_user(handler).get(reassign_url(accepted)).status_code == 405
    assert state(accepted) == before
