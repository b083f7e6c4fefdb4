"""The public complaint form (R-CMP-2 "online", issue 7 "spam in the public form"):
anyone sends a complaint without signing in and gets its number; a robot is kept out by
a honeypot, a signed time stamp, a link limit and a rate limit per address — without
losing what a person typed, and without storing anything that was refused."""

import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from complaints import forms_public
from complaints.models import Channel, Complaint, ComplaintAttachment, ComplaintEvent
from complaints.views import public
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
    location,
    make_equipment,
    make_order,
    make_technician,
    method,
    method_lead,
    operator,
    performer,
    received_sample,
    record,
    signed_record,
    task,
    template,
    today,
)
from tests.certificates.test_certificate_services import _issue
from tests.certificates.test_certificate_services import signatory as signatory  # noqa: F401

URL = reverse("complaints:public_form")
THANKS = reverse("complaints:public_thanks")


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture(autouse=True)
def _fresh_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def _fake_pdf(monkeypatch):
    """Issuing a certificate renders a PDF; its look is not under test here."""
    monkeypatch.setattr("labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-1.4 " + str(hash(html)).encode())


def token(seconds_ago: int) -> str:
    """The form's hidden time stamp as if the form had been shown ``seconds_ago``."""

    class Then(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - seconds_ago)

    return Then(salt=forms_public.TOKEN_SALT).sign("complaint")


def stamp_on(content: str) -> str:
    """The hidden time stamp a rendered form carries."""
    return content.split('name="token" value="', 1)[1].split('"', 1)[0]


def fields(**overrides) -> dict:
    data = {
        "complainant_name": "张先生",
        "complainant_organisation": "康宁诊所",
        "complainant_phone": "13700000007",
        "complainant_email": "",
        "complainant_address": "",
        "subject": "血压计检定后读数偏高",
        "description": "取回后与另一台血压计比对，读数偏高约 8 mmHg。",
        "certificate_number": "",
        "verification_code": "",
        "order_number": "",
        "homepage": "",
        "token": token(30),
    }
    data.update(overrides)
    return data


def pdf(name="scan.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 a scan", content_type="application/pdf")


def nothing_stored(tmp_path) -> bool:
    media = tmp_path / "media"
    files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    return not Complaint.objects.exists() and not ComplaintAttachment.objects.exists() and not files


@pytest.mark.django_db
def test_r_cmp_2_the_form_is_open_without_signing_in_and_hides_the_honeypot_by_stylesheet(client):
    response = client.get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="public-complaint-form"' in content
    assert 'name="homepage"' in content and 'class="complaint-extra"' in content
    assert "complaints/public.css" in content
    assert "style=" not in content and "<script>" not in content
    assert 'name="csrfmiddlewaretoken"' in content
    signer = signing.TimestampSigner(salt=forms_public.TOKEN_SALT)
    assert signer.unsign(stamp_on(content)) == "complaint"


@pytest.mark.django_db
def test_r_cmp_2_a_complaint_sent_online_is_stored_and_its_number_shown(client, tmp_path):
    response = client.post(URL, fields(complainant_email="zhang@example.com", attachments=[pdf(), pdf("photo.pdf")]))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.channel == Channel.ONLINE
    assert complaint.registered_by is None
    assert complaint.complainant_name == "张先生" and complaint.complainant_email == "zhang@example.com"
    assert complaint.subject == "血压计检定后读数偏高"
    assert complaint.attachments.count() == 2
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="registered", actor=None).exists()
    page = client.get(response["Location"])
    content = page.content.decode()
    assert f'data-testid="public-complaint-number">{complaint.number}<' in content
    assert "tells you when it is accepted" in content


@pytest.mark.django_db
def test_r_cmp_2_the_thanks_page_shows_only_a_number_the_lab_signed(client):
    forged = client.get(THANKS, {"ref": "TS2026-0001"}).content.decode()
    assert 'data-testid="public-complaint-number"' not in forged
    signed = signing.dumps("TS2026-0001", salt=public.THANKS_SALT)
    assert 'data-testid="public-complaint-number">TS2026-0001<' in client.get(THANKS, {"ref": signed}).content.decode()


@pytest.mark.django_db
def test_r_cmp_2_a_filled_honeypot_looks_like_success_but_stores_nothing(client, tmp_path):
    response = client.post(URL, fields(homepage="http://cheap-pills.example", attachments=[pdf()]))
    assert response.status_code == 302 and response["Location"] == THANKS
    assert nothing_stored(tmp_path)
    content = client.get(response["Location"]).content.decode()
    assert "your complaint has been received" in content
    assert 'data-testid="public-complaint-number"' not in content


@pytest.mark.django_db
def test_r_cmp_2_a_form_sent_too_fast_is_refused_with_the_input_kept(client, tmp_path):
    sent = fields(token=token(0))
    response = client.post(URL, sent)
    assert response.status_code == 200
    content = response.content.decode()
    assert "The form was sent too quickly. Please check it and try again" in content
    assert "血压计检定后读数偏高" in content and "13700000007" in content and "读数偏高约 8 mmHg" in content
    assert nothing_stored(tmp_path)
    # The page keeps the time stamp it came with: the wait counts from the first showing.
    assert stamp_on(content) == sent["token"]


@pytest.mark.django_db
@pytest.mark.parametrize("stamp", [token(2 * 60 * 60 + 60), "complaint:1abc:forged", ""])
def test_r_cmp_2_a_stale_or_forged_time_stamp_is_refused(client, tmp_path, stamp):
    response = client.post(URL, fields(token=stamp))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Please try again" in content and 'data-testid="form-error"' in content
    assert "血压计检定后读数偏高" in content
    assert nothing_stored(tmp_path)
    # A fresh time stamp comes back with the form.
    fresh = stamp_on(content)
    assert fresh != stamp
    assert signing.TimestampSigner(salt=forms_public.TOKEN_SALT).unsign(fresh, max_age=60) == "complaint"


@pytest.mark.django_db
def test_r_cmp_2_more_than_three_links_are_refused(client, tmp_path):
    spam = "看这里 http://a.example https://b.example www.c.example http://d.example"
    response = client.post(URL, fields(description=spam))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-for="description"' in content and "at most 3 web links" in content
    assert nothing_stored(tmp_path)
    three = "见 http://a.example https://b.example www.c.example"
    assert client.post(URL, fields(description=three)).status_code == 302
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_r_cmp_2_too_many_submissions_from_one_address_get_429(client, monkeypatch):
    monkeypatch.setattr(public, "SUBMISSIONS", 2)
    codes = [client.post(URL, fields(subject=f"投诉 {i}")).status_code for i in range(3)]
    assert codes == [302, 302, 429]
    limited = client.post(URL, fields(subject="第四次"))
    assert limited.status_code == 429
    content = limited.content.decode()
    assert 'data-testid="public-limited"' in content and "Please try again later" in content
    assert "第四次" in content  # nothing typed is lost
    assert Complaint.objects.count() == 2
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(URL, fields(subject="另一个地址")).status_code == 302


@pytest.mark.django_db
def test_r_cmp_2_no_way_to_reach_the_complainant_is_refused_with_the_input_kept(client, tmp_path):
    response = client.post(URL, fields(complainant_phone=""))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-for="complainant_phone"' in content
    assert "Enter a phone number, an e-mail or a postal address" in content
    assert "张先生" in content and "康宁诊所" in content and "读数偏高约 8 mmHg" in content
    assert nothing_stored(tmp_path)
    # Corrected and sent straight back, it is not "too fast": the form kept its time stamp.
    corrected = client.post(URL, fields(complainant_email="zhang@example.com", complainant_phone="", token=stamp_on(content)))
    assert corrected.status_code == 302
    assert Complaint.objects.get().complainant_email == "zhang@example.com"


@pytest.mark.django_db
@pytest.mark.parametrize("upload", [
    SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/octet-stream"),
    SimpleUploadedFile("fake.pdf", b"<html>not a pdf</html>", content_type="application/pdf"),
], ids=["type", "content"])
def test_r_cmp_2_a_bad_attachment_is_refused_and_nothing_is_stored(client, tmp_path, upload):
    response = client.post(URL, fields(attachments=[pdf(), upload]))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-for="attachments"' in content
    assert 'data-testid="files-dropped"' in content
    assert "血压计检定后读数偏高" in content
    assert nothing_stored(tmp_path)


@pytest.mark.django_db
def test_r_cmp_2_more_than_five_attachments_are_refused(client, tmp_path):
    response = client.post(URL, fields(attachments=[pdf(f"p{i}.pdf") for i in range(6)]))
    assert "Attach at most 5 files." in response.content.decode()
    assert nothing_stored(tmp_path)


@pytest.mark.django_db
def test_r_cmp_2_the_form_keeps_csrf_protection(tmp_path):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, fields()).status_code == 403
    assert nothing_stored(tmp_path)


@pytest.mark.django_db
def test_r_cmp_2_a_certificate_is_linked_only_when_number_and_code_match(client, _fake_pdf, checked_record, performer, signatory):  # noqa: F811
    certificate = _issue(checked_record, performer, signatory)
    wrong = client.post(URL, fields(subject="码不对", certificate_number=certificate.number, verification_code="WRONG123",
                                    order_number="WT-ANY-1"))
    right = client.post(URL, fields(subject="码正确", certificate_number=certificate.number.lower(),
                                    verification_code=certificate.verification_code))
    # The answer is the same either way: whether the number exists is not told.
    assert wrong.status_code == right.status_code == 302
    guessed = Complaint.objects.get(subject="码不对")
    assert guessed.certificate is None and guessed.customer is None
    assert certificate.number in guessed.description and "WT-ANY-1" in guessed.description
    matched = Complaint.objects.get(subject="码正确")
    assert matched.certificate == certificate
    assert matched.order == certificate.record.sample.order
    # Naming someone's certificate does not make an anonymous complainant that customer:
    # the complaint and the replies stay out of that organisation's portal.
    assert matched.customer is None


@pytest.mark.django_db
def test_r_cmp_2_numbers_without_a_description_do_not_count_as_one(client, tmp_path):
    response = client.post(URL, fields(description="", order_number="WT2026-0001"))
    assert 'data-error-for="description"' in response.content.decode()
    assert nothing_stored(tmp_path)
