"""The customer's certificates in the portal (R-INT-9: customers see only their own
organisation's certificates; issue 6 "Delivery", R-INT-7): issued and void certificates
of the organisation's orders, with "replaced by …" on a void one, search by number or
serial number, and the stored PDF for download once the order's fees are settled (paid
in full or credit approved; before that the row says so and the download is a 403).
Another organisation's certificate, a draft, and every staff member get 404."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.models import AmendmentKind, Certificate, CertificateStatus, CertificateType
from certificates.services import certificates as services
from certificates.services import records as record_services
from intake.models import CustomerAccount, Order
from intake.services import orders as order_services
from labqms.models import Role
from tests.certificates.conftest import PASSWORD
from tests.certificates.test_archive_views import bulk_records as bulk_records  # noqa: F401
from tests.certificates.test_archive_views import new_sample as new_sample  # noqa: F401
from tests.certificates.test_archive_views import start_record as start_record  # noqa: F401
from tests.certificates.test_certificate_services import _issue
from tests.certificates.test_certificate_services import signatory as signatory  # noqa: F401


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # Each PDF names its certificate, so a download can be told from another one.
    monkeypatch.setattr(
        "labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-1.4 " + str(hash(html)).encode()
    )


@pytest.fixture
def portal(client, settings, portal_user):
    client.force_login(portal_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


_receipts = iter(range(1, 10_000))


def pay(order, clerk, amount=None):
    """Record a payment at the counter: by default the whole fee (settles the order)."""
    order = Order.objects.get(pk=order.pk)
    amount = order.fee_total() if amount is None else Decimal(amount)
    return order_services.record_payment(
        actor=clerk, order=order, amount=amount, method="cash", receipt_no=f"R-PORTAL-{next(_receipts):05d}"
    )


@pytest.fixture
def unpaid(checked_record, performer, signatory):  # noqa: F811
    """An issued certificate of the portal user's organisation (市第一人民医院), its order
    not paid and without credit."""
    return _issue(checked_record, performer, signatory)


@pytest.fixture
def own(unpaid, clerk):
    """The same certificate once the order is paid in full (R-INT-7)."""
    pay(unpaid.record.sample.order, clerk)
    return unpaid


@pytest.fixture
def others(new_sample, start_record, method, template, fill, performer, checker, signatory, other_hospital, head):  # noqa: F811
    """An issued certificate of another organisation, released on approved credit."""
    record = fill(start_record(new_sample(customer=other_hospital), method))
    record_services.sign_record(actor=performer, record=record, password=PASSWORD)
    record_services.check_record(actor=checker, record=record, password=PASSWORD)
    order_services.approve_credit(actor=head, order=record.sample.order, reason="月结客户")
    return _issue(record, performer, signatory)


def _rows(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_r_int_9_the_portal_lists_only_the_own_organisations_issued_certificates(
    portal, own, others, new_sample, start_record, method, fill, performer, checker  # noqa: F811
):
    record = fill(start_record(new_sample(), method))
    record_services.sign_record(actor=performer, record=record, password=PASSWORD)
    record_services.check_record(actor=checker, record=record, password=PASSWORD)
    draft = services.prepare(actor=performer, record=record)  # own organisation, not issued
    response = portal.get(reverse("certificates:portal_certificates"))
    assert response.status_code == 200
    content = _rows(response)
    assert content.count('data-testid="portal-certificate-row"') == 1
    assert own.number in content and others.number not in content
    assert own.record.instrument["serial_number"] in content
    assert own.get_type_display() in content and timezone.localtime(own.issued_at).strftime("%Y-%m-%d") in content
    assert reverse("certificates:portal_certificate_download", args=[own.pk]) in content
    assert reverse("certificates:portal_certificate_download", args=[draft.pk]) not in content
    assert "/media/" not in content


@pytest.mark.django_db
def test_a_void_certificate_says_which_certificate_replaced_it(portal, own, performer, checker, signatory):  # noqa: F811
    replacement = services.prepare_amendment(actor=performer, original=own, kind=AmendmentKind.REPLACEMENT, text="型号更正")
    replacement = services.check_amendment(actor=checker, certificate=replacement, password=PASSWORD)
    replacement = services.approve(actor=signatory, certificate=replacement, password=PASSWORD)
    own.refresh_from_db()
    assert own.status == CertificateStatus.VOID
    content = _rows(portal.get(reverse("certificates:portal_certificates")))
    assert content.count('data-testid="portal-certificate-row"') == 2
    assert f"replaced by {replacement.number}" in content
    assert f"replaces {own.number}" in content
    assert f'data-number="{own.number}" data-status="void"' in content


@pytest.mark.django_db
def test_the_portal_searches_by_certificate_number_and_serial_number(portal, own, new_sample, start_record, method, fill, performer, checker, signatory):  # noqa: F811
    record = fill(start_record(new_sample(), method))
    record_services.sign_record(actor=performer, record=record, password=PASSWORD)
    record_services.check_record(actor=checker, record=record, password=PASSWORD)
    second = _issue(record, performer, signatory)
    url = reverse("certificates:portal_certificates")

    def numbers(q):
        content = _rows(portal.get(url, {"q": q}))
        return {c.number for c in (own, second) if f'data-number="{c.number}"' in content}

    assert numbers("") == {own.number, second.number}
    assert numbers(second.number) == {second.number}
    assert numbers(own.record.sample.serial_number) == {own.number}
    assert numbers("no-such-thing") == set()


@pytest.mark.django_db
def test_the_customer_downloads_the_pdf_as_issued(portal, own):
    response = portal.get(reverse("certificates:portal_certificate_download", args=[own.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{own.number}.pdf"'
    with own.pdf.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


@pytest.mark.django_db
def test_r_int_9_another_organisations_certificate_or_a_draft_is_404(portal, own, others, performer, new_sample, start_record, method, fill, checker):  # noqa: F811
    record = fill(start_record(new_sample(), method))
    record_services.sign_record(actor=performer, record=record, password=PASSWORD)
    record_services.check_record(actor=checker, record=record, password=PASSWORD)
    draft = services.prepare(actor=performer, record=record)
    for certificate in (others, draft):
        url = reverse("certificates:portal_certificate_download", args=[certificate.pk])
        assert portal.get(url).status_code == 404, certificate
    assert portal.get(reverse("certificates:portal_certificate_download", args=[own.pk])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["method_lead", "performer", "counter", "head", "qualitylead"])
def test_staff_are_not_customers_and_get_404(client, request, own, role):
    """Staff read certificates on the staff pages; the portal is for customer accounts."""
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("certificates:portal_certificates")).status_code == 404
    assert client.get(reverse("certificates:portal_certificate_download", args=[own.pk])).status_code == 404


@pytest.mark.django_db
def test_a_customer_account_without_an_organisation_gets_404_and_anonymous_signs_in(client, customer, own):
    client.force_login(customer)  # a customer role but no CustomerAccount
    assert client.get(reverse("certificates:portal_certificates")).status_code == 404
    assert client.get(reverse("certificates:portal_certificate_download", args=[own.pk])).status_code == 404
    client.logout()
    for url in (
        reverse("certificates:portal_certificates"),
        reverse("certificates:portal_certificate_download", args=[own.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_the_other_organisation_sees_its_own_certificate_only(client, make_user, own, others, other_hospital):
    user = make_user(Role.CUSTOMER, username="h2_portal")
    CustomerAccount.objects.create(user=user, customer=other_hospital, contact=other_hospital.contacts.first())
    client.force_login(user)
    content = _rows(client.get(reverse("certificates:portal_certificates")))
    assert others.number in content and own.number not in content
    assert client.get(reverse("certificates:portal_certificate_download", args=[own.pk])).status_code == 404
    assert client.get(reverse("certificates:portal_certificate_download", args=[others.pk])).status_code == 200


@pytest.mark.django_db
def test_the_portal_home_links_to_the_certificates(portal, hospital):
    content = _rows(portal.get(reverse("portal:home")))
    assert f'href="{reverse("certificates:portal_certificates")}"' in content


def _bulk(record, user, count, start):
    """Issued certificates written directly (the issue itself is tested elsewhere); every
    other one void and replaced, so the "replaced by" lookup is exercised."""
    now = timezone.now()
    for i in range(start, start + count):
        original = Certificate.objects.create(
            record=record, type=CertificateType.VERIFICATION_CERTIFICATE, status=CertificateStatus.ISSUED,
            number=f"JD2025-{i:06d}", verification_code="ABCDEFGH", created_by=user, issued_at=now,
        )
        if i % 2:
            Certificate.objects.create(
                record=record, type=CertificateType.VERIFICATION_CERTIFICATE, status=CertificateStatus.ISSUED,
                number=f"JD2025-{i + 500:06d}", verification_code="ABCDEFGH", created_by=user, issued_at=now,
                amends=original, amendment_kind=AmendmentKind.REPLACEMENT, amendment_text="更正",
            )
            Certificate.objects.filter(pk=original.pk).update(status=CertificateStatus.VOID, voided_at=now)


@pytest.mark.django_db
def test_the_list_pages_by_25_in_a_constant_number_of_queries(portal, checked_record, performer):
    url = reverse("certificates:portal_certificates")
    _bulk(checked_record, performer, 2, start=1)  # 3 rows
    with CaptureQueriesContext(connection) as few:
        assert portal.get(url).status_code == 200
    _bulk(checked_record, performer, 30, start=3)
    with CaptureQueriesContext(connection) as many:
        content = _rows(portal.get(url))
    assert content.count('data-testid="portal-certificate-row"') == 25
    assert "replaced by JD2025-" in content
    assert len(many) == len(few)


# --- Downloads against settled fees (R-INT-7, R-INT-9) --------------------------------------


@pytest.mark.django_db
def test_r_int_7_an_unsettled_orders_certificate_is_listed_without_a_download(portal, unpaid):
    content = _rows(portal.get(reverse("certificates:portal_certificates")))
    assert f'data-number="{unpaid.number}"' in content
    assert "available after the fees are settled" in content
    assert reverse("certificates:portal_certificate_download", args=[unpaid.pk]) not in content


@pytest.mark.django_db
def test_r_int_7_the_download_is_refused_until_the_fees_are_paid_in_full(portal, unpaid, clerk):
    url = reverse("certificates:portal_certificate_download", args=[unpaid.pk])
    order = unpaid.record.sample.order
    response = portal.get(url)
    # The customer's own, listed certificate: refused (403) with the reason, not hidden.
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert f"Certificate {unpaid.number} is available after the fees are settled" in content
    assert order.number in content
    assert b"%PDF" not in response.content
    pay(order, clerk, amount=Decimal("0.01"))  # part payment: still not settled
    assert portal.get(url).status_code == 403
    pay(order, clerk, amount=Order.objects.get(pk=order.pk).fee_total() - Decimal("0.01"))
    response = portal.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    content = _rows(portal.get(reverse("certificates:portal_certificates")))
    assert url in content and "available after the fees are settled" not in content


@pytest.mark.django_db
def test_r_int_7_approved_credit_allows_the_download_before_payment(portal, unpaid, head):
    url = reverse("certificates:portal_certificate_download", args=[unpaid.pk])
    assert portal.get(url).status_code == 403
    order_services.approve_credit(actor=head, order=unpaid.record.sample.order, reason="月结客户")
    assert portal.get(url).status_code == 200


@pytest.mark.django_db
def test_r_int_9_another_organisations_unsettled_certificate_is_still_a_404(
    client, make_user, unpaid, other_hospital
):
    """Settlement never reveals what is not the customer's: 404 before 403."""
    user = make_user(Role.CUSTOMER, username="h2_portal_b")
    CustomerAccount.objects.create(user=user, customer=other_hospital, contact=other_hospital.contacts.first())
    client.force_login(user)
    assert client.get(reverse("certificates:portal_certificate_download", args=[unpaid.pk])).status_code == 404


@pytest.mark.django_db
def test_r_int_7_settlement_of_many_orders_costs_a_constant_number_of_queries(
    portal, bulk_records, performer, clerk, head  # noqa: F811
):
    """One certificate per order; every third order paid, every third on credit, the rest
    unpaid: the page's settlement is worked out in bulk, not per row."""
    url = reverse("certificates:portal_certificates")
    now = timezone.now()
    made = iter(range(1, 1000))

    def certificates_on_new_orders(count):
        for _ in range(count):
            (record,) = bulk_records(1)
            i = next(made)
            Certificate.objects.create(
                record=record, type=CertificateType.VERIFICATION_CERTIFICATE, status=CertificateStatus.ISSUED,
                number=f"JD2025-{i:06d}", verification_code="ABCDEFGH", created_by=performer, issued_at=now,
            )
            if i % 3 == 1:
                pay(record.sample.order, clerk)
            elif i % 3 == 2:
                order_services.approve_credit(actor=head, order=record.sample.order, reason="月结")

    certificates_on_new_orders(3)
    with CaptureQueriesContext(connection) as few:
        content = _rows(portal.get(url))
    assert content.count('data-testid="portal-certificate-download"') == 2
    assert content.count('data-testid="portal-certificate-unsettled"') == 1
    certificates_on_new_orders(27)
    with CaptureQueriesContext(connection) as many:
        content = _rows(portal.get(url))
    assert content.count('data-testid="portal-certificate-row"') == 25
    downloads = content.count('data-testid="portal-certificate-download"')
    refused = content.count('data-testid="portal-certificate-unsettled"')
    assert downloads + refused == 25 and downloads > refused > 0
    assert len(many) == len(few)
