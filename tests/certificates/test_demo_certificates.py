"""Demo data for Certificates (issue 6): after ``seed_demo`` each kind of certificate the
demo can produce is issued through the real services, a supplement waits for its check,
the draft of the demo record waits for approval, and seeding again changes nothing
(R-CRT-1, R-CRT-3, R-CRT-6).

Issuing renders real PDFs, so each test seeds as few times as it can."""

import hashlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from certificates.models import (
    AmendmentKind,
    Certificate,
    CertificateStatus,
    CertificateType,
    RecordStatus,
)
from certificates.services import certificates as certificate_services
from intake.models import Sample
from labqms import permissions
from labqms.management.commands.seed_demo import PASSWORD
from labqms.models import User

pytestmark = pytest.mark.django_db


def _seed(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())


def _counts() -> dict[str, int]:
    tables = set(connection.introspection.table_names())
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.db_table in tables}


def _issued(type_):
    return Certificate.objects.filter(type=type_, status=CertificateStatus.ISSUED, amends__isnull=True)


def _user(username):
    return User.objects.get(username=username)


def test_demo_issues_each_kind_leaves_a_supplement_to_check_and_a_draft_and_reseeding_changes_nothing(settings):
    """R-CRT-1: a passed verification (the ECG machine) has an issued certificate, the
    failed blood-pressure meter an issued result notice naming the point out of
    tolerance; R-CRT-6: a supplement prepared by one person waits for a second person's
    check; the demo record's draft still waits for the technical lead.  A second seed
    changes no count of any table."""
    _seed(settings)

    notice = _issued(CertificateType.VERIFICATION_NOTICE).get()
    assert notice.record.conclusion == "fail" and notice.record.status == RecordStatus.CHECKED
    assert notice.content["failed_items"] == ["150 mmHg"]
    assert notice.number.startswith("TZ") and notice.valid_until is None
    assert notice.approved_by == _user("techlead")
    with notice.pdf.open("rb") as file:
        assert hashlib.sha256(file.read()).hexdigest() == notice.sha256
    assert notice.number in notice.record.sample.certificate_numbers

    certificate = _issued(CertificateType.VERIFICATION_CERTIFICATE).get()
    assert certificate.record.sample.item.category.code == "ECG"
    assert certificate.content["conclusion"] == "pass" and certificate.content["failed_items"] == []
    assert certificate.valid_until == certificate.record.measured_on.replace(year=certificate.record.measured_on.year + 1)
    assert certificate.record.performer != certificate.record.checker

    # The received infusion pump of intake's demo is calibrated: a calibration certificate.
    assert _issued(CertificateType.CALIBRATION_CERTIFICATE).count() == 1

    supplement = Certificate.objects.get(amendment_kind=AmendmentKind.SUPPLEMENT)
    assert supplement.amends == certificate and supplement.status == CertificateStatus.DRAFT
    assert supplement.awaits_check and supplement.created_by == _user("tech2") and supplement.checked_by is None
    assert permissions.can(_user("tech1"), "records.check", supplement)

    draft = Certificate.objects.get(status=CertificateStatus.DRAFT, amends__isnull=True)
    assert draft.record.performer == _user("tech2") and draft.record.checker == _user("tech1")
    assert permissions.can(_user("techlead"), "certificates.sign", draft)
    # The draft is the oldest row of the approval queue (the browser test opens the first).
    assert Certificate.objects.filter(status=CertificateStatus.DRAFT).order_by("created_at", "id").first() == draft

    before = _counts()
    _seed(settings)
    assert _counts() == before

    # The check step works on the seeded supplement: a second person with the password.
    checked = certificate_services.check_amendment(actor=_user("tech1"), certificate=supplement, password=PASSWORD)
    assert checked.checked_by == _user("tech1") and not checked.awaits_check


def test_the_demo_pump_gets_an_issued_calibration_certificate_with_u_k_and_conformity(settings):
    """R-CRT-3: the demo's infusion pump (the contract review asked for a statement of
    conformity) is carried to an issued calibration certificate with U and k per point
    and the statement."""
    _seed(settings)
    sample = Sample.objects.get(serial_number="IP5501")
    calibration = _issued(CertificateType.CALIBRATION_CERTIFICATE).get()
    assert calibration.record.sample == sample and calibration.number.startswith("JZ")
    rows = [row for phase in calibration.content["phases"] for row in phase["rows"]]
    # The template's default budget (k = 2), carried into the certificate per point.
    assert [(row["nominal"], row["U"], row["k"], row["conforms"]) for row in rows] == [
        ("5", "0.1", "2", True), ("25", "0.3", "2", True), ("100", "1", "2", True)
    ]
    assert calibration.content["conformity"]["conforms"] is True
    assert calibration.content["conformity"]["decision_rule"].startswith("按 JJF 1259-2018")
