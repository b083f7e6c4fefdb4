"""The certificate pages for staff (R-CRT-1..7, the approval stage of R-REC-5): the
"awaiting approval" queue (oldest first, with due dates), batch approval with one
password and its progress, the list, one certificate (approval, amendment chain, seals,
audit trail), the download of the issued PDF and the request from a checked record.

Most tests swap the PDF renderer for a fast fake (the PDF's content is tested in
test_certificate_services); the download test renders the real PDF.  Messages are
asserted with the English UI.
"""

import datetime as dt
import hashlib
import itertools

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.models import (
    AmendmentKind,
    Certificate,
    CertificateStatus,
    CertificateType,
    Record,
    RecordStatus,
)
from certificates.services import certificates as services
from certificates.services import records as record_services
from intake.models import Order
from labqms.models import Activity, AuditEvent, Role
from tests.certificates.conftest import PASSWORD
from tests.certificates.test_archive_views import bulk_records as bulk_records  # noqa: F401
from tests.certificates.test_archive_views import new_sample as new_sample  # noqa: F401
from tests.certificates.test_archive_views import start_record as start_record  # noqa: F401
from tests.factories import AuthorisationFactory

QUEUE = "certificates:certificate_queue"
LIST = "certificates:certificate_list"
BATCH = "certificates:certificate_batch"
BATCH_STATUS = "certificates:certificate_batch_status"
BATCH_APPROVE = "certificates:certificate_batch_approve"
_fake_pdfs = itertools.count(1)


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Issued PDFs go to a temporary MEDIA_ROOT, not the project's var/media."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def real_pdf():
    """Ask for this fixture to render real PDFs (WeasyPrint) instead of the fake."""


@pytest.fixture(autouse=True)
def _fast_pdf(request, monkeypatch):
    if "real_pdf" in request.fixturenames:
        return
    # Distinct bytes per certificate, so each hash is its own.
    monkeypatch.setattr("labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-1.4 fake " + str(next(_fake_pdfs)).encode())


@pytest.fixture
def signatory(method_lead, head):
    """The technical lead, authorised to sign certificates in general."""
    AuthorisationFactory(person=method_lead, activity=Activity.SIGN_CERTIFICATES, authorised_by=head)
    return method_lead


@pytest.fixture
def login(client, settings):
    """Log ``user`` in with the English UI, so that messages can be asserted."""

    def do(user):
        client.logout()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return do


@pytest.fixture
def checked(new_sample, start_record, method, template, fill, performer, checker):
    """``checked()``: one more checked bp record, through the services."""

    def make():
        record = fill(start_record(new_sample(), method))
        record_services.sign_record(actor=performer, record=record, password=PASSWORD)
        record_services.check_record(actor=checker, record=record, password=PASSWORD)
        record.refresh_from_db()
        return record

    return make


@pytest.fixture
def draft(checked_record, performer):
    return services.prepare(actor=performer, record=checked_record)


@pytest.fixture
def issued(draft, signatory):
    return services.approve(actor=signatory, certificate=draft, password=PASSWORD)


@pytest.fixture
def bulk_drafts(bulk_records, performer):
    """``bulk_drafts(n)``: n drafts on records made directly in the database (the queue
    and the list only read them)."""

    def make(n, **fields):
        return [
            Certificate.objects.create(
                record=record, type=CertificateType.VERIFICATION_CERTIFICATE, verification_code="ABCDEFGH",
                created_by=performer, **fields,
            )
            for record in bulk_records(n, status=RecordStatus.CHECKED)
        ]

    return make


def url(name, obj=None):
    return reverse(name, args=[obj.pk] if obj is not None else [])


def flashed(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def _ids(response) -> list[int]:
    return [c.pk for c in response.context["page"]]


# --- the queue ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_lists_drafts_oldest_first_with_due_dates(login, bulk_drafts, issued, signatory):
    """R-CRT queues / R-REC-5: the technical lead's list, oldest first, overdue marked."""
    drafts = [bulk_drafts(1)[0] for _ in range(3)]  # three orders
    now = timezone.now()
    for age, certificate in zip((1, 5, 3), drafts, strict=True):
        Certificate.objects.filter(pk=certificate.pk).update(created_at=now - dt.timedelta(days=age))
    overdue = drafts[1].record.sample.order
    Order.objects.filter(pk=overdue.pk).update(due_date=timezone.localdate() - dt.timedelta(days=2))
    response = login(signatory).get(reverse(QUEUE))
    assert response.status_code == 200
    assert _ids(response) == [drafts[1].pk, drafts[2].pk, drafts[0].pk]
    assert issued.pk not in _ids(response)  # issued certificates wait for nobody
    html = response.content.decode()
    assert html.count('data-testid="overdue"') == 1
    record = drafts[0].record
    for text in (record.number, record.sample.sample_id, record.sample.serial_number, "Verification certificate",
                 record.sample.order.customer.name, url("certificates:certificate_detail", drafts[0])):
        assert text in html, text
    assert 'data-testid="batch-form"' in html and html.count('data-testid="queue-tick"') == 3


@pytest.mark.django_db
def test_queue_shows_what_an_amendment_amends(login, issued, performer, signatory):
    supplement = services.prepare_amendment(actor=performer, original=issued, kind=AmendmentKind.SUPPLEMENT, text="补充地址")
    html = login(signatory).get(reverse(QUEUE)).content.decode()
    assert 'data-kind="supplement"' in html and issued.number in html
    assert url("certificates:certificate_detail", supplement) in html


@pytest.mark.django_db
def test_queue_queries_do_not_grow_with_rows(login, bulk_drafts, signatory):
    client = login(signatory)
    bulk_drafts(3)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(QUEUE)).status_code == 200
        return len(queries)

    few = count()
    bulk_drafts(22)
    assert count() == few


# --- approval of one certificate ------------------------------------------------------------


@pytest.mark.django_db
def test_approval_with_a_wrong_password_is_refused_and_issues_nothing(login, draft, signatory):
    """R-REC-5 approval stage: the password is typed again; a wrong one changes nothing."""
    client = login(signatory)
    page = client.get(url("certificates:certificate_detail", draft)).content.decode()
    assert 'data-testid="approve-form"' in page
    events = AuditEvent.objects.count()
    response = client.post(url("certificates:certificate_approve", draft), {"approve-password": "wrong"})
    assert response.status_code == 200
    assert "The password is not correct; nothing was signed." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.DRAFT and draft.number is None and not draft.sha256
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_approval_with_the_password_issues_and_the_page_shows_the_signature(login, draft, signatory):
    """R-CRT e-signature: printed name, date/time and the meaning 批准; number and hash."""
    client = login(signatory)
    response = client.post(url("certificates:certificate_approve", draft), {"approve-password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == url("certificates:certificate_detail", draft)
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.ISSUED and draft.number and draft.approved_by == signatory
    assert "approved and issued" in flashed(response)
    html = client.get(response["Location"]).content.decode()
    for text in (draft.number, draft.sha256, "Approved (批准)", str(signatory), draft.valid_until.isoformat(),
                 url("certificates:certificate_download", draft), "Certificate approved (批准)", "Certificate issued"):
        assert text in html, text
    assert 'data-testid="approve-form"' not in html


@pytest.mark.django_db
def test_a_technician_without_sign_authorisation_sees_no_approve_form_and_a_forged_post_is_refused(
    login, draft, performer, bulk_drafts
):
    """Approval by someone not authorised: refused with a clear message; nothing changes."""
    client = login(performer)
    html = client.get(url("certificates:certificate_detail", draft)).content.decode()
    assert 'data-testid="approve-form"' not in html
    assert 'data-testid="approve-not-allowed"' in html and "You may not approve this certificate:" in html
    queue = client.get(reverse(QUEUE)).content.decode()
    assert 'data-testid="batch-form"' not in queue and 'data-testid="queue-tick"' not in queue
    events = AuditEvent.objects.count()
    response = client.post(url("certificates:certificate_approve", draft), {"approve-password": PASSWORD})
    assert response.status_code == 302
    assert "You hold no valid authorisation" in flashed(response)
    response = client.post(reverse(BATCH_APPROVE), {"certificate": [draft.pk], "password": PASSWORD})
    assert response.status_code == 302 and "Nothing was approved" in flashed(response)
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.DRAFT and draft.approved_by is None
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_draft_is_not_approved_twice(login, issued, signatory):
    response = login(signatory).post(url("certificates:certificate_approve", issued), {"approve-password": PASSWORD})
    assert response.status_code == 302 and "is not waiting for approval" in flashed(response)


# --- batch approval -------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_approval_issues_every_ticked_certificate_and_the_status_reports_them(
    login, checked, performer, signatory, django_capture_on_commit_callbacks
):
    """One password for a set; each is approved and logged on its own, issued after commit."""
    drafts = [services.prepare(actor=performer, record=checked()) for _ in range(2)]
    client = login(signatory)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(BATCH_APPROVE), {"certificate": [d.pk for d in drafts], "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse(BATCH)
    assert "2 certificates approved" in flashed(response)
    for d in drafts:
        d.refresh_from_db()
        assert d.status == CertificateStatus.ISSUED and d.number and d.approved_by == signatory
        assert AuditEvent.objects.filter(action="certificate.approved", target_id=str(d.pk)).count() == 1
    status = client.get(reverse(BATCH_STATUS)).json()
    assert status["total"] == 2 and status["issued"] == 2
    assert sorted((i["id"], i["number"], i["status"]) for i in status["items"]) == sorted(
        (d.pk, d.number, "issued") for d in drafts
    )
    page = client.get(reverse(BATCH))
    html = page.content.decode()
    assert page.context["issued"] == page.context["total"] == 2
    assert 'max="2" value="2"' in html and all(d.number in html for d in drafts)
    # Works without JS: a plain link reloads the page; the script is a file (CSP).
    assert f'href="{reverse(BATCH)}" data-testid="batch-refresh"' in html
    assert "certificates/batch_progress.js" in html and "<script>" not in html
    assert "http-equiv" not in html


@pytest.mark.django_db
def test_batch_status_before_the_worker_has_issued(login, checked, performer, signatory):
    """Without the on-commit callbacks the worker has not run: the bar shows 0 of 2."""
    drafts = [services.prepare(actor=performer, record=checked()) for _ in range(2)]
    client = login(signatory)
    client.post(reverse(BATCH_APPROVE), {"certificate": [d.pk for d in drafts], "password": PASSWORD})
    status = client.get(reverse(BATCH_STATUS)).json()
    assert (status["total"], status["issued"]) == (2, 0)
    assert {i["status"] for i in status["items"]} == {"issuing"} and {i["number"] for i in status["items"]} == {""}


@pytest.mark.django_db
def test_batch_with_a_wrong_password_or_without_ticks_changes_nothing(login, draft, signatory):
    client = login(signatory)
    response = client.post(reverse(BATCH_APPROVE), {"certificate": [draft.pk], "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The password is not correct; nothing was signed." in html
    assert f'value="{draft.pk}" id="tick-{draft.pk}" aria-label' in html and "checked" in html  # the ticks are kept
    response = client.post(reverse(BATCH_APPROVE), {"password": PASSWORD})
    assert "Tick the certificates to approve." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.DRAFT


@pytest.mark.django_db
def test_batch_is_all_or_nothing(login, draft, issued_other, signatory):
    """One refused certificate refuses the whole batch, naming why; nothing is approved."""
    response = login(signatory).post(
        reverse(BATCH_APPROVE), {"certificate": [draft.pk, issued_other.pk], "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "is not waiting for approval" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.DRAFT and draft.approved_by is None


@pytest.fixture
def issued_other(checked, performer, signatory):
    return services.approve(actor=signatory, certificate=services.prepare(actor=performer, record=checked()), password=PASSWORD)


@pytest.mark.django_db
def test_batch_names_the_certificates_a_scoped_signatory_may_not_sign(login, draft, make_technician, categories):
    """A signatory authorised for infusion pumps only sees the controls, but a blood-pressure
    certificate in the batch is refused with the reason; nothing is approved."""
    pumps_only = make_technician("pump_signer", activities=(Activity.SIGN_CERTIFICATES,), scope=categories["pump"])
    client = login(pumps_only)
    assert 'data-testid="batch-form"' in client.get(reverse(QUEUE)).content.decode()
    response = client.post(reverse(BATCH_APPROVE), {"certificate": [draft.pk], "password": PASSWORD})
    html = response.content.decode()
    assert response.status_code == 200
    assert draft.record.number in html and "You hold no valid authorisation" in html
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.DRAFT


@pytest.mark.django_db
def test_batch_page_without_a_batch(login, signatory):
    client = login(signatory)
    assert 'data-testid="batch-empty"' in client.get(reverse(BATCH)).content.decode()
    assert client.get(reverse(BATCH_STATUS)).json() == {"total": 0, "issued": 0, "items": []}


# --- download -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_download_returns_the_stored_pdf_whose_hash_is_the_certificates(login, real_pdf, issued, performer):
    """The issued PDF never changes: the file served is the one hashed at issue."""
    response = login(performer).get(url("certificates:certificate_download", issued))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{issued.number}.pdf"'
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF") and hashlib.sha256(body).hexdigest() == issued.sha256


@pytest.mark.django_db
def test_a_draft_has_no_download(login, draft, performer):
    assert login(performer).get(url("certificates:certificate_download", draft)).status_code == 404


# --- amendments -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_supplement_needs_its_text_and_is_checked_and_approved_again(login, issued, performer, checker, signatory):
    """R-CRT-6 (a): a supplement with its own number; it passes check (a second person)
    and approval again; the original stays valid."""
    client = login(performer)
    page = client.get(url("certificates:certificate_detail", issued)).content.decode()
    assert 'data-testid="supplement-form"' in page and 'data-testid="replace-form"' in page
    response = client.post(url("certificates:certificate_supplement", issued), {"supplement-text": "  "})
    assert response.status_code == 200
    assert "Say what the amendment changes and why." in response.content.decode()
    assert issued.amendments.count() == 0
    response = client.post(url("certificates:certificate_supplement", issued), {"supplement-text": "补充送检单位地址"})
    supplement = issued.amendments.get()
    assert response.status_code == 302 and response["Location"] == url("certificates:certificate_detail", supplement)
    assert supplement.amendment_kind == AmendmentKind.SUPPLEMENT and supplement.status == CertificateStatus.DRAFT
    waiting = client.get(url("certificates:certificate_detail", issued)).content.decode()
    assert 'data-testid="amendment-pending"' in waiting and 'data-testid="certificate-supplemented"' not in waiting
    assert 'data-testid="supplement-form"' not in waiting  # one amendment at a time
    services.check_amendment(actor=checker, certificate=supplement, password=PASSWORD)
    services.approve(actor=signatory, certificate=supplement, password=PASSWORD)
    supplement.refresh_from_db()
    issued.refresh_from_db()
    assert issued.status == CertificateStatus.ISSUED
    html = client.get(url("certificates:certificate_detail", issued)).content.decode()
    assert 'data-testid="certificate-supplemented"' in html and supplement.number in html
    assert html.count('data-testid="chain-row"') == 2


@pytest.mark.django_db
def test_a_replacement_voids_the_original_and_replacing_twice_is_refused(login, issued, performer, checker, signatory):
    """R-CRT-6 (b): new number; the original void after the replacement's check and
    approval; a certificate is replaced once; a void one is not amended."""
    client = login(performer)
    response = client.post(url("certificates:certificate_replace", issued), {"replacement-text": ""})
    assert response.status_code == 200 and "Say what the amendment changes and why." in response.content.decode()
    response = client.post(url("certificates:certificate_replace", issued), {"replacement-text": "型号填写错误"})
    replacement = issued.amendments.get()
    assert response["Location"] == url("certificates:certificate_detail", replacement)
    # While the replacement waits for approval: no second one.
    page = client.get(url("certificates:certificate_detail", issued)).content.decode()
    assert 'data-testid="replace-form"' not in page and 'data-testid="certificate-being-replaced"' in page
    response = client.post(url("certificates:certificate_replace", issued), {"replacement-text": "再次替代"})
    assert response.status_code == 302 and f"{issued.number} is already being replaced." in flashed(response)
    assert issued.amendments.count() == 1
    # A second person checks the replacement, then the signatory approves it, on its page.
    checked = login(checker).post(url("certificates:certificate_check", replacement), {"check-password": PASSWORD})
    assert checked.status_code == 302
    approve = login(signatory).post(url("certificates:certificate_approve", replacement), {"approve-password": PASSWORD})
    assert approve.status_code == 302
    issued.refresh_from_db()
    replacement.refresh_from_db()
    assert issued.status == CertificateStatus.VOID and replacement.number in issued.void_reason
    client = login(performer)
    html = client.get(url("certificates:certificate_detail", issued)).content.decode()
    assert 'data-testid="certificate-void"' in html and replacement.number in html
    assert 'data-testid="replace-form"' not in html and 'data-testid="supplement-form"' not in html
    chain = client.get(url("certificates:certificate_detail", replacement)).content.decode()
    assert chain.count('data-testid="chain-row"') == 2 and issued.number in chain
    response = client.post(url("certificates:certificate_replace", issued), {"replacement-text": "第三次"})
    assert response.status_code == 302 and "Only an issued, valid certificate is amended" in flashed(response)
    assert issued.amendments.count() == 1


# --- the check (核验) of an amendment (R-CRT-6: "pass check and approval again") ---------------


@pytest.fixture
def supplement(issued, performer):
    """A supplement prepared by ``performer``, awaiting its check."""
    return services.prepare_amendment(actor=performer, original=issued, kind=AmendmentKind.SUPPLEMENT, text="补充送检单位地址")


@pytest.mark.django_db
def test_r_crt_6_the_check_form_is_offered_only_to_a_second_person_who_may_check(login, supplement, performer, checker, signatory):
    """The amendment awaits a check: the checker (authorised, not the preparer) gets the
    form; the preparer and the technical lead (no authorisation to check) do not; nobody
    is offered the approval yet."""
    detail = url("certificates:certificate_detail", supplement)
    html = login(checker).get(detail).content.decode()
    assert 'data-testid="check-form"' in html and "Check this amendment (核验)" in html
    assert f'action="{url("certificates:certificate_check", supplement)}"' in html
    assert 'data-testid="awaits-check-notice"' in html and 'data-testid="approve-form"' not in html
    html = login(performer).get(detail).content.decode()
    assert 'data-testid="check-form"' not in html and 'data-testid="approve-form"' not in html
    assert "You prepared this amendment; a second person checks it." in html
    html = login(signatory).get(detail).content.decode()
    assert 'data-testid="check-form"' not in html and 'data-testid="approve-form"' not in html
    assert 'data-testid="awaits-check-notice"' in html and "a second person" in html
    assert "You may not check this amendment:" in html and "You hold no valid authorisation" in html


@pytest.mark.django_db
def test_r_crt_6_the_preparer_is_refused_as_checker(login, supplement, performer):
    events = AuditEvent.objects.count()
    response = login(performer).post(url("certificates:certificate_check", supplement), {"check-password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == url("certificates:certificate_detail", supplement)
    assert "You prepared this amendment; a second person checks it." in flashed(response)
    supplement.refresh_from_db()
    assert supplement.checked_by is None and supplement.checked_at is None
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_r_crt_6_a_check_with_a_wrong_password_is_refused_and_changes_nothing(login, supplement, checker):
    events = AuditEvent.objects.count()
    response = login(checker).post(url("certificates:certificate_check", supplement), {"check-password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="check-form"' in html and "The password is not correct; nothing was signed." in html
    assert "Nothing was changed; see the form below." in flashed(response)
    response = login(checker).post(url("certificates:certificate_check", supplement), {"check-password": ""})
    assert "Enter your password to sign." in response.content.decode()
    supplement.refresh_from_db()
    assert supplement.checked_by is None and supplement.status == CertificateStatus.DRAFT
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_r_crt_6_approval_before_the_check_is_refused_on_the_page(login, supplement, signatory):
    client = login(signatory)
    response = client.post(url("certificates:certificate_approve", supplement), {"approve-password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == url("certificates:certificate_detail", supplement)
    assert "not yet checked; a second person checks it before approval" in flashed(response)
    supplement.refresh_from_db()
    assert supplement.status == CertificateStatus.DRAFT and supplement.approved_by is None and supplement.number is None
    # Nor in a batch (the queue offers no tick box; a forged one is refused whole).
    response = client.post(reverse(BATCH_APPROVE), {"certificate": [supplement.pk], "password": PASSWORD})
    assert response.status_code == 200 and "not yet checked" in response.content.decode()
    supplement.refresh_from_db()
    assert supplement.status == CertificateStatus.DRAFT


@pytest.mark.django_db
def test_r_crt_6_the_checked_amendment_shows_its_checker_and_is_then_approved(login, supplement, checker, signatory):
    response = login(checker).post(url("certificates:certificate_check", supplement), {"check-password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == url("certificates:certificate_detail", supplement)
    assert "Amendment checked (核验)" in flashed(response)
    supplement.refresh_from_db()
    assert supplement.checked_by == checker and supplement.checked_at is not None
    assert AuditEvent.objects.filter(action="certificate.amendment_checked", target_id=str(supplement.pk)).count() == 1
    client = login(signatory)
    html = client.get(url("certificates:certificate_detail", supplement)).content.decode()
    when = timezone.localtime(supplement.checked_at).strftime("%Y-%m-%d %H:%M")
    assert f"Amendment checked by {checker} at {when}." in html
    assert 'data-testid="check-form"' not in html and 'data-testid="awaits-check-notice"' not in html
    assert 'data-testid="approve-form"' in html
    approve = client.post(url("certificates:certificate_approve", supplement), {"approve-password": PASSWORD})
    assert approve.status_code == 302 and "approved and issued" in flashed(approve)
    supplement.refresh_from_db()
    assert supplement.status == CertificateStatus.ISSUED and supplement.number
    html = client.get(url("certificates:certificate_detail", supplement)).content.decode()
    assert f"Amendment checked by {checker} at {when}." in html and str(signatory) in html


@pytest.mark.django_db
def test_r_crt_6_the_queue_marks_amendments_awaiting_check_without_a_tick_box(login, supplement, draft_other, checker, signatory):
    client = login(signatory)
    html = client.get(reverse(QUEUE)).content.decode()
    assert html.count('data-testid="awaits-check"') == 1 and html.count('data-testid="queue-tick"') == 1
    assert f'value="{draft_other.pk}" id="tick-{draft_other.pk}"' in html
    assert f'id="tick-{supplement.pk}"' not in html
    services.check_amendment(actor=checker, certificate=supplement, password=PASSWORD)
    html = client.get(reverse(QUEUE)).content.decode()
    assert 'data-testid="awaits-check"' not in html and f'id="tick-{supplement.pk}"' in html
    assert f"checked by {checker}" in html


# --- the PDF cannot be rendered at approval --------------------------------------------------


@pytest.mark.django_db
def test_approval_stands_when_the_pdf_cannot_be_rendered_and_the_page_says_it_is_issued_later(
    login, draft, signatory, monkeypatch
):
    """The approval is committed; the certificate stays "being issued" without a number
    (issue() is one transaction) and issue_pending (every 10 minutes) issues it."""

    def broken(*args, **kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr("certificates.services.certificates.render_pdf", broken)
    client = login(signatory)
    response = client.post(url("certificates:certificate_approve", draft), {"approve-password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == url("certificates:certificate_detail", draft)
    message = flashed(response)
    assert "approved" in message and "could not be rendered now" in message and "within 10 minutes" in message
    assert "approved and issued" not in message
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.ISSUING and draft.approved_by == signatory
    assert draft.number is None and not draft.sha256 and not draft.pdf
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="certificate-issuing"' in html and "within 10 minutes" in html
    assert 'data-testid="certificate-download"' not in html
    # No number was used up: the retry takes the first one of the year.
    monkeypatch.undo()
    monkeypatch.setattr("labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-1.4 fake retry")
    assert services.issue_pending() == 1
    draft.refresh_from_db()
    assert draft.status == CertificateStatus.ISSUED and draft.number.endswith("000001")


# --- from the record --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_certificate_is_prepared_from_a_checked_record_once(login, checked_record, record_of_other, performer):
    client = login(performer)
    response = client.post(url("certificates:certificate_prepare", checked_record), {"remarks": "客户自带附件"})
    certificate = checked_record.certificates.get()
    assert response.status_code == 302 and response["Location"] == url("certificates:certificate_detail", certificate)
    assert certificate.status == CertificateStatus.DRAFT and certificate.remarks == "客户自带附件"
    again = client.post(url("certificates:certificate_prepare", checked_record), {})
    assert again["Location"] == url("certificates:record_detail", checked_record)
    assert "already has a certificate" in flashed(again)
    refused = client.post(url("certificates:certificate_prepare", record_of_other), {})
    assert "is not checked" in flashed(refused) and not record_of_other.certificates.exists()


@pytest.fixture
def record_of_other(new_sample, start_record, method, template):
    return start_record(new_sample(), method)


@pytest.mark.django_db
def test_leads_who_are_not_technical_staff_read_but_do_not_prepare(login, checked_record, qualitylead):
    client = login(qualitylead)
    response = client.post(url("certificates:certificate_prepare", checked_record), {})
    assert response.status_code == 302 and not checked_record.certificates.exists()
    assert "Your role does not allow this." in flashed(response)


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["number", "sample_id", "serial", "customer", "record"])
def test_search_finds_a_certificate_by_each_key(key, login, issued, performer, bulk_drafts):
    others = bulk_drafts(2)
    record = issued.record
    q = {
        "number": issued.number, "sample_id": record.sample.sample_id, "serial": record.sample.serial_number,
        "customer": "第一人民", "record": record.number,
    }[key]
    client = login(performer)
    found = _ids(client.get(reverse(LIST), {"q": q}))
    assert issued.pk in found and (key == "customer" or found == [issued.pk])
    assert _ids(client.get(reverse(LIST), {"q": others[0].record.number})) == [others[0].pk]
    assert _ids(client.get(reverse(LIST), {"q": "nothing-like-this"})) == []


@pytest.mark.django_db
def test_list_filters_by_type_status_and_issue_dates(login, issued, bulk_drafts, performer):
    drafts = bulk_drafts(2)
    Certificate.objects.filter(pk=drafts[1].pk).update(type=CertificateType.CALIBRATION_CERTIFICATE)
    client = login(performer)

    def ids(**params):
        return sorted(_ids(client.get(reverse(LIST), params)))

    everything = sorted([issued.pk, drafts[0].pk, drafts[1].pk])
    assert ids() == everything
    assert ids(status=CertificateStatus.ISSUED) == [issued.pk]
    assert ids(status=CertificateStatus.DRAFT) == sorted([drafts[0].pk, drafts[1].pk])
    assert ids(type=CertificateType.CALIBRATION_CERTIFICATE) == [drafts[1].pk]
    today = timezone.localdate(issued.issued_at)
    assert ids(issued_from=today.isoformat(), issued_to=today.isoformat()) == [issued.pk]
    assert ids(issued_from=(today + dt.timedelta(days=1)).isoformat()) == []
    assert ids(issued_to=(today - dt.timedelta(days=1)).isoformat()) == []
    reversed_range = client.get(reverse(LIST), {"issued_from": "2026-05-01", "issued_to": "2026-04-01"})
    assert "is before the start date" in reversed_range.content.decode()
    assert sorted(_ids(reversed_range)) == everything


@pytest.mark.django_db
def test_list_pages_by_25_with_constant_queries(login, bulk_drafts, performer):
    client = login(performer)
    bulk_drafts(3)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(LIST)).status_code == 200
        return len(queries)

    few = count()
    bulk_drafts(24)
    assert count() == few
    first, second = client.get(reverse(LIST)), client.get(reverse(LIST), {"page": 2})
    assert len(first.context["page"]) == 25 and len(second.context["page"]) == 2
    assert not set(_ids(first)) & set(_ids(second))


# --- who gets in --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_customers_get_404_everywhere(login, issued, draft_other, customer):
    """Customers download their certificates in the portal (R-INT-9), never here."""
    record = issued.record
    gets = [
        reverse(QUEUE), reverse(LIST), reverse(BATCH), reverse(BATCH_STATUS),
        url("certificates:certificate_detail", issued), url("certificates:certificate_download", issued),
        url("certificates:certificate_detail", draft_other),
    ]
    before = sorted(Certificate.objects.values_list("pk", "status"))
    client = login(customer)
    for target in gets:
        assert client.get(target).status_code == 404, target
    for target, data in _action_posts(issued, draft_other, record):
        assert client.post(target, data).status_code == 404, target
    assert sorted(Certificate.objects.values_list("pk", "status")) == before


def _action_posts(issued, draft, record):
    return [
        (reverse(BATCH_APPROVE), {"certificate": [draft.pk], "password": PASSWORD}),
        (url("certificates:certificate_approve", draft), {"approve-password": PASSWORD}),
        (url("certificates:certificate_check", draft), {"check-password": PASSWORD}),
        (url("certificates:certificate_supplement", issued), {"supplement-text": "x"}),
        (url("certificates:certificate_replace", issued), {"replacement-text": "x"}),
        (url("certificates:certificate_prepare", record), {}),
    ]


@pytest.mark.django_db
def test_counter_staff_read_issued_certificates_but_not_drafts_or_records(login, issued, draft_other, counter):
    """The counter hands certificates over (R-INT-7), so every staff member reads issued
    ones (certificates.view); drafts, the queue and the record behind a certificate stay
    confidential (R-REC-4): 404 on a draft, no record link, no audit trail, no actions."""
    client = login(counter)
    listed = client.get(reverse(LIST))
    assert listed.status_code == 200 and _ids(listed) == [issued.pk]
    html = listed.content.decode()
    assert issued.number in html and url("certificates:certificate_download", issued) in html
    assert url("certificates:record_detail", issued.record) not in html and 'data-testid="queue-link"' not in html
    assert [v for v, _label in listed.context["form"].fields["status"].choices] == ["", "issued", "void"]
    assert _ids(client.get(reverse(LIST), {"status": CertificateStatus.DRAFT})) == [issued.pk]  # ignored, not shown
    # The certificate page: what is printed on the certificate, nothing of the record.
    page = client.get(url("certificates:certificate_detail", issued))
    assert page.status_code == 200
    html = page.content.decode()
    for text in (issued.number, issued.sha256, issued.record.number, 'data-testid="certificate-download"'):
        assert text in html, text
    for hidden in (url("certificates:record_detail", issued.record), 'data-testid="certificate-audit"',
                   'data-testid="certificate-amend"', 'data-testid="certificate-seals"', "Audit trail"):
        assert hidden not in html, hidden
    # The download works; a draft, the queue and the batch pages answer 404.
    download = client.get(url("certificates:certificate_download", issued))
    assert download.status_code == 200 and download["Content-Disposition"] == f'attachment; filename="{issued.number}.pdf"'
    for target in (url("certificates:certificate_detail", draft_other), url("certificates:certificate_download", draft_other),
                   reverse(QUEUE), reverse(BATCH), reverse(BATCH_STATUS)):
        assert client.get(target).status_code == 404, target
    before = sorted(Certificate.objects.values_list("pk", "status", "checked_by"))
    events = AuditEvent.objects.count()
    for target, data in _action_posts(issued, draft_other, issued.record):
        assert client.post(target, data).status_code == 404, target
    assert sorted(Certificate.objects.values_list("pk", "status", "checked_by")) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_counter_staff_see_the_certificates_entry_in_the_menu(login, counter):
    home = login(counter).get(reverse(LIST))
    assert reverse(LIST) in [item["url"] for item in home.context["nav_items"]]
    assert reverse("certificates:record_list") not in [item["url"] for item in home.context["nav_items"]]


@pytest.mark.django_db
def test_counter_staff_see_a_void_certificate_and_its_issued_replacement_but_not_a_pending_one(
    login, issued, performer, checker, signatory, counter
):
    """R-CRT-6 chain as the counter sees it: a pending replacement is a draft (hidden);
    once issued, the void original links to it."""
    replacement = services.prepare_amendment(actor=performer, original=issued, kind=AmendmentKind.REPLACEMENT, text="型号填写错误")
    client = login(counter)
    html = client.get(url("certificates:certificate_detail", issued)).content.decode()
    assert html.count('data-testid="chain-row"') == 1 and 'data-testid="certificate-being-replaced"' not in html
    assert url("certificates:certificate_detail", replacement) not in html
    services.check_amendment(actor=checker, certificate=replacement, password=PASSWORD)
    services.approve(actor=signatory, certificate=replacement, password=PASSWORD)
    replacement.refresh_from_db()
    html = client.get(url("certificates:certificate_detail", issued)).content.decode()
    assert 'data-testid="certificate-void"' in html and replacement.number in html
    assert html.count('data-testid="chain-row"') == 2
    assert client.get(url("certificates:certificate_detail", replacement)).status_code == 200


@pytest.fixture
def draft_other(checked, performer):
    return services.prepare(actor=performer, record=checked())


@pytest.mark.django_db
def test_the_roles_in_these_tests_are_what_they_assume(performer, signatory, counter, customer):
    from labqms import permissions

    assert permissions.can(signatory, "certificates.sign") and signatory.has_role(Role.TECHNICAL_LEAD)
    assert not permissions.can(performer, "certificates.sign") and permissions.can(performer, "certificates.prepare")
    assert not permissions.can(counter, "records.view") and not permissions.can(customer, "records.view")
    assert Record.objects.count() == 0
