"""The lab's seals and their usage log (R-CRT-7): the technical lead registers seals with
their custodian and a PNG image (at most 1 MB, checked on the bytes); staff who read
records see the seals, their images (served after a permission check, never /media)
and the log of who applied which seal to which certificate, when.  Also the demo data of
[Certificates]: two seals and one draft certificate, however often seed_demo runs."""

import io
import struct
import zlib
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.demo import ring_png
from certificates.models import (
    Certificate,
    CertificateStatus,
    CertificateType,
    Seal,
    SealKind,
    SealUse,
)
from certificates.services import seals as seal_services
from labqms import permissions
from labqms.models import AuditEvent, User
from tests.certificates.test_certificate_services import _issue
from tests.certificates.test_certificate_services import signatory as signatory  # noqa: F401

PNG = ring_png(size=24, width=3)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # The certificate's layout is tested elsewhere; here only the seal log matters.
    monkeypatch.setattr("labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-1.4 fake")


def _english(client, settings, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def upload(data=PNG, name="seal.png"):
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture
def lead_client(client, settings, method_lead):
    return _english(client, settings, method_lead)


@pytest.fixture
def seal(method_lead):
    return seal_services.create_seal(
        actor=method_lead, kind=SealKind.VERIFICATION, name="检定专用章", custodian=method_lead, image=upload()
    )


def _form(**overrides):
    return {"kind": SealKind.VERIFICATION, "name": "检定专用章", "is_active": "on", **overrides}


# --- registering seals ----------------------------------------------------------------


@pytest.mark.django_db
def test_r_crt_7_the_technical_lead_registers_a_seal_with_custodian_and_png(lead_client, method_lead, performer):
    response = lead_client.post(
        reverse("certificates:seal_create"), _form(custodian=performer.pk, image=upload())
    )
    assert response.status_code == 302
    seal = Seal.objects.get()
    assert (seal.kind, seal.name, seal.custodian, seal.is_active) == (SealKind.VERIFICATION, "检定专用章", performer, True)
    with seal.image.open("rb") as file:
        assert file.read() == PNG
    event = AuditEvent.objects.get(action="seal.created")
    assert event.actor == method_lead and event.changes["name"] == [None, "检定专用章"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"GIF89a" + b"\x00" * 40, "seal.png", "must be a PNG"),  # named .png, is not
        (b"%PDF-1.4 not an image", "seal.pdf", "must be a PNG"),
        (PNG[:-12], "seal.png", "must be a PNG"),  # truncated: no IEND
        (PNG + b"\x00" * (1024 * 1024), "seal.png", "larger than 1 MB"),
    ],
    ids=["gif-named-png", "pdf", "truncated", "too-large"],
)
def test_r_crt_7_a_seal_image_must_be_a_png_of_at_most_1_mb(lead_client, method_lead, data, name, message):
    response = lead_client.post(
        reverse("certificates:seal_create"), _form(name="校准专用章X", custodian=method_lead.pk, image=upload(data, name))
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert 'value="校准专用章X"' in content  # what was typed is kept
    assert not Seal.objects.exists() and not AuditEvent.objects.filter(action__startswith="seal.").exists()


@pytest.mark.django_db
def test_a_png_of_exactly_1_mb_is_accepted(method_lead):
    # A valid PNG padded with an ancillary chunk up to the limit.
    body = b"teXt" + b"x" * (1024 * 1024 - len(PNG) - 12)
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    data = PNG[:-12] + chunk + PNG[-12:]
    assert len(data) == 1024 * 1024
    seal = seal_services.create_seal(
        actor=method_lead, kind=SealKind.CALIBRATION, name="校准专用章", custodian=method_lead, image=upload(data)
    )
    assert seal.image.size == 1024 * 1024


@pytest.mark.django_db
def test_a_seal_in_use_needs_an_image_and_only_one_of_each_kind_is_in_use(lead_client, seal, method_lead):
    response = lead_client.post(reverse("certificates:seal_create"), _form(name="第二枚检定章", custodian=method_lead.pk))
    assert "needs its image" in response.content.decode()
    response = lead_client.post(
        reverse("certificates:seal_create"), _form(name="第二枚检定章", custodian=method_lead.pk, image=upload())
    )
    assert "is the Verification seal in use" in response.content.decode()
    assert Seal.objects.count() == 1
    # Out of use, a second one may be kept on record without an image.
    response = lead_client.post(
        reverse("certificates:seal_create"), {"kind": SealKind.VERIFICATION, "name": "旧检定章", "custodian": method_lead.pk}
    )
    assert response.status_code == 302
    assert Seal.objects.get(name="旧检定章").is_active is False


@pytest.mark.django_db
def test_the_custodian_is_a_member_of_staff(seal, method_lead, portal_user):
    with pytest.raises(ValidationError) as error:
        seal_services.update_seal(
            actor=method_lead, seal=seal, kind=seal.kind, name=seal.name, custodian=portal_user, is_active=True
        )
    assert "custodian" in error.value.message_dict
    seal.refresh_from_db()
    assert seal.custodian == method_lead


@pytest.mark.django_db
def test_editing_a_seal_keeps_the_image_unless_a_new_one_is_uploaded_and_is_audited(lead_client, seal, performer):
    old_image = seal.image.name
    response = lead_client.post(reverse("certificates:seal_edit", args=[seal.pk]), _form(name="检定专用章（新）", custodian=performer.pk))
    assert response.status_code == 302
    seal.refresh_from_db()
    assert seal.name == "检定专用章（新）" and seal.custodian == performer and seal.image.name == old_image
    event = AuditEvent.objects.get(action="seal.updated")
    assert set(event.changes) == {"name", "custodian"}
    # Nothing changed: nothing logged.
    lead_client.post(reverse("certificates:seal_edit", args=[seal.pk]), _form(name="检定专用章（新）", custodian=performer.pk))
    assert AuditEvent.objects.filter(action="seal.updated").count() == 1


@pytest.mark.django_db
def test_only_the_technical_lead_manages_seals(client, settings, seal, performer, method_lead):
    """Technicians read the seals but are refused the form; the service refuses too."""
    _english(client, settings, performer)
    assert client.get(reverse("certificates:seal_list")).status_code == 200
    response = client.post(reverse("certificates:seal_create"), _form(name="X", custodian=performer.pk, image=upload()))
    assert response.status_code == 302 and Seal.objects.count() == 1
    response = client.get(reverse("certificates:seal_edit", args=[seal.pk]))
    assert response.status_code == 302
    with pytest.raises(PermissionDenied):
        seal_services.update_seal(actor=performer, seal=seal, kind=seal.kind, name="X", custodian=performer, is_active=True)
    seal.refresh_from_db()
    assert seal.name == "检定专用章"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["counter", "customer", "portal_user"])
def test_counter_staff_and_customers_see_nothing_of_the_seals(client, request, seal, role):
    client.force_login(request.getfixturevalue(role))
    for url in (
        reverse("certificates:seal_list"), reverse("certificates:seal_uses"), reverse("certificates:seal_create"),
        reverse("certificates:seal_edit", args=[seal.pk]), reverse("certificates:seal_image", args=[seal.pk]),
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_r_crt_7_an_applied_seal_keeps_its_kind_and_name(lead_client, checked_record, performer, signatory, seal, method_lead):  # noqa: F811
    _issue(checked_record, performer, signatory)
    response = lead_client.post(reverse("certificates:seal_edit", args=[seal.pk]), _form(name="改名", custodian=method_lead.pk))
    assert response.status_code == 200 and "has been applied to certificates" in response.content.decode()
    seal.refresh_from_db()
    assert seal.name == "检定专用章"
    # Its custodian and image may still change, and it may be taken out of use.
    response = lead_client.post(
        reverse("certificates:seal_edit", args=[seal.pk]), {"kind": seal.kind, "name": seal.name, "custodian": performer.pk}
    )
    assert response.status_code == 302
    seal.refresh_from_db()
    assert seal.custodian == performer and not seal.is_active


# --- the list and the image --------------------------------------------------------------


@pytest.mark.django_db
def test_the_seal_list_shows_kind_name_custodian_use_and_a_thumbnail_from_the_checked_view(client, settings, seal, performer):
    _english(client, settings, performer)
    response = client.get(reverse("certificates:seal_list"))
    content = response.content.decode()
    assert "检定专用章" in content and "Verification seal" in content and "in use" in content
    assert seal.custodian.full_name in content
    image_url = reverse("certificates:seal_image", args=[seal.pk])
    assert f'src="{image_url}"' in content and "/media/" not in content
    assert "seal-create" not in content  # the technician may not register seals
    image = client.get(image_url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == PNG
    client.logout()
    assert client.get(image_url).status_code == 302  # to the sign-in page


@pytest.mark.django_db
def test_a_seal_without_an_image_has_no_image_url(client, method_lead, performer):
    seal = Seal.objects.create(kind=SealKind.TESTING, name="检测专用章", custodian=method_lead, is_active=False)
    client.force_login(performer)
    assert client.get(reverse("certificates:seal_image", args=[seal.pk])).status_code == 404


# --- the usage log ----------------------------------------------------------------------


@pytest.mark.django_db
def test_r_crt_7_the_usage_log_lists_the_seal_applied_at_issue(client, settings, checked_record, performer, signatory, seal):  # noqa: F811
    certificate = _issue(checked_record, performer, signatory)
    use = SealUse.objects.get()
    assert (use.seal, use.certificate, use.used_by) == (seal, certificate, signatory)
    _english(client, settings, performer)
    response = client.get(reverse("certificates:seal_uses"))
    content = response.content.decode()
    assert content.count('data-testid="seal-use-row"') == 1
    assert certificate.number in content and seal.name in content and signatory.full_name in content
    assert f'href="{reverse("certificates:certificate_detail", args=[certificate.pk])}"' in content
    assert timezone.localtime(use.used_at).strftime("%Y-%m-%d %H:%M") in content


def _bulk_uses(record, seals, user, count, start=0):
    now = timezone.now()
    for i in range(start, count):
        certificate = Certificate.objects.create(
            record=record, type=CertificateType.VERIFICATION_CERTIFICATE, status=CertificateStatus.ISSUED,
            number=f"JD2026-{i + 1:06d}", verification_code="ABCDEFGH", created_by=user, issued_at=now,
        )
        SealUse.objects.create(seal=seals[i % len(seals)], certificate=certificate, used_by=user)


@pytest.mark.django_db
def test_the_usage_log_filters_by_seal_date_and_number(client, checked_record, seal, method_lead, performer):
    other = Seal.objects.create(kind=SealKind.CALIBRATION, name="校准专用章", custodian=method_lead)
    last_week = timezone.now() - timezone.timedelta(days=7)
    # The first seal use is logged a week ago (the log is append-only, also in the
    # database: the clock is moved instead of the row).
    with mock.patch("django.utils.timezone.now", return_value=last_week):
        _bulk_uses(checked_record, [seal, other], performer, 1)
    _bulk_uses(checked_record, [seal, other], performer, 6, start=1)
    client.force_login(performer)
    url = reverse("certificates:seal_uses")

    def rows(query):
        return client.get(url, query).content.decode().count('data-testid="seal-use-row"')

    assert rows({}) == 6
    assert rows({"seal": other.pk}) == 3
    today = timezone.localdate().isoformat()
    assert rows({"date_from": today}) == 5
    assert rows({"date_to": (timezone.localdate() - timezone.timedelta(days=1)).isoformat()}) == 1
    assert rows({"q": "000002"}) == 1
    assert rows({"seal": seal.pk, "date_from": today, "date_to": today}) == 2


@pytest.mark.django_db
def test_the_usage_log_pages_by_25_in_a_constant_number_of_queries(client, checked_record, seal, method_lead, performer):
    other = Seal.objects.create(kind=SealKind.CALIBRATION, name="校准专用章", custodian=method_lead)
    client.force_login(performer)
    url = reverse("certificates:seal_uses")
    _bulk_uses(checked_record, [seal, other], performer, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(3, 30):
        certificate = Certificate.objects.create(
            record=checked_record, type=CertificateType.CALIBRATION_CERTIFICATE, status=CertificateStatus.ISSUED,
            number=f"JJ2026-{i:06d}", verification_code="ABCDEFGH", created_by=performer, issued_at=timezone.now(),
        )
        SealUse.objects.create(seal=other, certificate=certificate, used_by=method_lead)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    content = response.content.decode()
    assert content.count('data-testid="seal-use-row"') == 25
    assert len(many) == len(few)
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count('data-testid="seal-use-row"') == 30 - 25


@pytest.mark.django_db
def test_the_seal_list_uses_a_constant_number_of_queries(client, method_lead, performer):
    client.force_login(performer)
    url = reverse("certificates:seal_list")
    for i in range(2):
        Seal.objects.create(kind=SealKind.TESTING, name=f"章{i}", custodian=method_lead, is_active=False)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(2, 20):
        Seal.objects.create(kind=SealKind.TESTING, name=f"章{i}", custodian=method_lead, is_active=False)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('data-testid="seal-row"') == 20
    assert len(many) == len(few)


# --- demo data ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_twice_leaves_two_seals_and_exactly_one_draft_original_certificate(settings):
    """``techlead`` finds the demo record's certificate in the approval queue; the seals
    carry a real PNG (R-CRT-7)."""
    settings.DEBUG = True
    for _ in range(2):
        call_command("seed_demo", stdout=io.StringIO())
    drafts = Certificate.objects.filter(status=CertificateStatus.DRAFT, amends__isnull=True)
    assert drafts.count() == 1
    draft = drafts.get()
    assert draft.record.performer.username == "tech2" and draft.record.checker.username == "tech1"
    techlead = User.objects.get(username="techlead")
    assert permissions.can(techlead, "certificates.sign", draft)
    seals = {s.kind: s for s in Seal.objects.all()}
    assert set(seals) == {SealKind.VERIFICATION, SealKind.CALIBRATION}
    assert {s.name for s in seals.values()} == {"检定专用章", "校准专用章"}
    for seal in seals.values():
        assert seal.custodian == techlead and seal.is_active
        with seal.image.open("rb") as file:
            seal_services.check_png(ContentFile(file.read()))  # a valid PNG of at most 1 MB
