"""The customer's complaints in the portal (R-CMP-2 "online", R-CMP-5 result published to
the customer, R-INT-9 customers see only their own organisation's): the list with status,
due and reply dates; a new complaint linked to one of the organisation's own orders or
certificates; one complaint with its reply or published result, the messages the lab
sent and any extension.  Another organisation's complaint and every staff member get
404; a visitor who is not signed in is sent to the login page."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from complaints.models import Channel, Complaint, ComplaintStatus
from complaints.services import complaints as services
from labqms import workdays
from tests.certificates.conftest import (  # noqa: F401
    assigner,
    bp_equipment,
    categories,
    checked_record,
    checker,
    clerk,
    days,
    fill,
    hospital,
    lead,
    line,
    location,
    make_equipment,
    make_order,
    make_technician,
    method,
    method_lead,
    operator,
    other_hospital,
    performer,
    portal_user,
    received_sample,
    record,
    signed_record,
    task,
    template,
    today,
)
from tests.certificates.test_certificate_services import _issue
from tests.certificates.test_certificate_services import signatory as signatory  # noqa: F401
from tests.complaints.conftest import COMPLAINANT

LIST = reverse("complaints:portal_complaints")
NEW = reverse("complaints:portal_complaint_new")


def detail(complaint):
    return reverse("complaints:portal_complaint_detail", args=[complaint.pk])


@pytest.fixture
def portal(client, settings, portal_user):  # noqa: F811
    client.force_login(portal_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def registered(counter, complaint_data, hospital):  # noqa: F811
    """Overrides the shared fixture: the hotline complaint is the portal user's
    organisation's (so accepted … replied below are too)."""
    return services.register(actor=counter, channel=Channel.HOTLINE, data={**complaint_data, "customer": hospital})


@pytest.fixture
def foreign(counter, other_hospital):  # noqa: F811
    return services.register(
        actor=counter, channel=Channel.HOTLINE,
        data={**COMPLAINANT, "subject": "二院的投诉", "customer": other_hospital},
    )


@pytest.fixture
def _fake_pdf(monkeypatch):
    monkeypatch.setattr("labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-1.4 " + str(hash(html)).encode())


def form(**overrides) -> dict:
    data = {
        "complainant_name": "刘洋",
        "complainant_organisation": "市第一人民医院",
        "complainant_phone": "13800000001",
        "complainant_email": "ly@h1.example.cn",
        "complainant_address": "",
        "subject": "证书上的型号有误",
        "description": "证书上的型号与铭牌不一致。",
        "order_number": "",
        "certificate_number": "",
    }
    data.update(overrides)
    return data


def bulk(customer, n, start=0):
    """``n`` complaints of ``customer``, half of them replied and published."""
    now = timezone.now()
    Complaint.objects.bulk_create([
        Complaint(
            number=f"TS2099-{start + i:04d}", channel=Channel.HOTLINE, received_at=now, customer=customer,
            complainant_name="刘洋", complainant_phone="1", subject=f"投诉 {start + i}", description="…",
            status=ComplaintStatus.REPLIED if i % 2 else ComplaintStatus.ACCEPTED,
            reply_due=now.date(), accepted_on=now.date(),
            reply="已处理" if i % 2 else "", replied_on=now.date() if i % 2 else None,
            published_at=now if i % 2 else None,
        )
        for i in range(n)
    ])


@pytest.mark.django_db
def test_r_int_9_the_list_shows_only_the_own_organisations_complaints(portal, registered, foreign):
    response = portal.get(LIST)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('data-testid="portal-complaint-row"') == 1
    assert registered.number in content and registered.subject in content
    assert foreign.number not in content and "二院的投诉" not in content
    assert 'data-testid="portal-tab-complaints"' in content
    assert "set on acceptance" in content


@pytest.mark.django_db
def test_r_int_9_another_organisations_complaint_is_404(portal, foreign):
    assert portal.get(detail(foreign)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["counter", "handler", "head", "technician"])
def test_r_int_9_staff_get_404_on_every_portal_complaint_page(client, request, registered, who):
    client.force_login(request.getfixturevalue(who))
    for url in (LIST, NEW, detail(registered)):
        assert client.get(url).status_code == 404, url
    assert client.post(NEW, form()).status_code == 404
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_r_int_9_a_visitor_is_sent_to_the_login_page(client, registered):
    for url in (LIST, NEW, detail(registered)):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    client.post(NEW, form())
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_r_cmp_2_the_new_complaint_form_is_prefilled_from_the_account(portal, hospital):  # noqa: F811
    content = portal.get(NEW).content.decode()
    assert 'value="刘洋"' in content and 'value="13800000001"' in content and f'value="{hospital.name}"' in content


@pytest.mark.django_db
def test_r_cmp_2_a_complaint_through_the_portal_is_linked_to_the_own_certificate(portal, portal_user, hospital, handler, _fake_pdf, checked_record, performer, signatory):  # noqa: F811
    certificate = _issue(checked_record, performer, signatory)
    order = certificate.record.sample.order
    attachment = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n....", content_type="image/png")
    response = portal.post(NEW, form(certificate_number=certificate.number.lower(), order_number=order.number,
                                     attachments=[attachment]))
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(complaint)
    assert complaint.channel == Channel.PORTAL
    assert complaint.registered_by == portal_user
    assert complaint.customer == hospital
    assert complaint.certificate == certificate and complaint.order == order
    assert complaint.sample == certificate.record.sample
    assert complaint.attachments.get().name == "photo.png"
    page = portal.get(response["Location"]).content.decode()
    assert complaint.number in page and certificate.number in page and "photo.png" in page
    assert f"Complaint {complaint.number} sent" in page
    assert portal.get(LIST).content.decode().count('data-testid="portal-complaint-row"') == 1


@pytest.mark.django_db
def test_r_int_9_a_link_to_another_organisations_order_is_refused(portal, make_order, categories, other_hospital):  # noqa: F811
    theirs = make_order([line(categories["bp"], "BP-X1")], stage="draft", customer=other_hospital)
    response = portal.post(NEW, form(order_number=theirs.number))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-for="order_number"' in content
    assert "None of your organisation&#x27;s orders has this number." in content
    assert "证书上的型号有误" in content  # the input is kept
    assert not Complaint.objects.exists()
    unknown = portal.post(NEW, form(order_number="WT1999-9999")).content.decode()
    # A number that does not exist gets the very same answer: nothing leaks.
    assert "None of your organisation&#x27;s orders has this number." in unknown


@pytest.mark.django_db
def test_r_int_9_the_service_refuses_another_organisations_order_too(portal_user, make_order, categories, other_hospital):  # noqa: F811
    theirs = make_order([line(categories["bp"], "BP-X2")], stage="draft", customer=other_hospital)
    with pytest.raises(ValidationError):
        services.register(actor=portal_user, channel=Channel.PORTAL, data={**form(), "order": theirs})


@pytest.mark.django_db
def test_r_cmp_2_a_portal_complaint_without_a_way_back_is_refused_with_the_input_kept(portal):
    response = portal.post(NEW, form(complainant_phone="", complainant_email=""))
    content = response.content.decode()
    assert 'data-error-for="complainant_phone"' in content and "证书上的型号有误" in content
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_r_cmp_5_the_published_result_and_the_messages_are_shown(portal, replied):
    assert replied.published_at is not None
    content = portal.get(detail(replied)).content.decode()
    assert 'data-testid="portal-complaint-result"' in content
    assert "Result, published on" in content and replied.reply in content
    assert content.count('data-testid="portal-complaint-message"') == replied.correspondence.count() >= 2
    for message in replied.correspondence.all():
        assert message.subject in content
    # What the lab found and decided inside stays inside.
    assert replied.findings not in content and replied.opinion not in content
    listed = portal.get(LIST).content.decode()
    assert "published result" in listed and replied.reply[:20] in listed
    assert f'data-status="{ComplaintStatus.REPLIED}"' in listed


@pytest.mark.django_db
def test_r_cmp_3_an_extension_is_shown_with_its_explanation(portal, accepted, handler):
    new_due = workdays.add_working_days(accepted.reply_due, 3)
    services.extend(actor=handler, complaint=accepted, new_due=new_due, explanation="需外送比对，延期答复。")
    content = portal.get(detail(accepted)).content.decode()
    assert 'data-testid="portal-complaint-extensions"' in content
    assert "需外送比对，延期答复。" in content
    assert f"From {accepted.reply_due:%Y-%m-%d} to {new_due:%Y-%m-%d}" in content
    assert f'data-testid="portal-complaint-due">{new_due:%Y-%m-%d}' in content


@pytest.mark.django_db
def test_r_int_9_the_list_pages_and_searches(portal, hospital, other_hospital):  # noqa: F811
    bulk(hospital, 30)
    bulk(other_hospital, 3, start=100)
    first = portal.get(LIST).content.decode()
    assert first.count('data-testid="portal-complaint-row"') == 25
    assert portal.get(LIST, {"page": 2}).content.decode().count('data-testid="portal-complaint-row"') == 5
    found = portal.get(LIST, {"q": "TS2099-0007"}).content.decode()
    assert found.count('data-testid="portal-complaint-row"') == 1
    assert portal.get(LIST, {"q": "TS2099-0101"}).content.decode().count('data-testid="portal-complaint-row"') == 0


@pytest.mark.django_db
def test_r_int_9_the_list_issues_the_same_number_of_queries_for_3_or_25_rows(portal, hospital):  # noqa: F811
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert portal.get(LIST).status_code == 200
        return len(queries)

    bulk(hospital, 3)
    few = count()
    bulk(hospital, 22, start=3)
    assert count() == few


@pytest.mark.django_db
def test_r_cmp_3_a_provisional_due_date_is_marked(portal, registered, handler, responsible):
    services.accept(actor=handler, complaint=registered, department="医学计量室", responsible_person=responsible,
                    accepted_on=timezone.localdate())
    Complaint.objects.filter(pk=registered.pk).update(due_provisional=True, reply_due=dt.date(2099, 1, 5))
    content = portal.get(LIST).content.decode()
    assert "2099-01-05" in content and "provisional" in content
