"""``manage.py bench_issue`` (issue 9, 4a): issuing a certificate timed against the bare
WeasyPrint render of its HTML.  It prints the figures and leaves the database as it found
it — the draft still waits for approval, no certificate number is used up (R-CRT-1: the
numbers stay gap-free), no seal use is logged and no PDF file is left in storage."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.models import Certificate, CertificateStatus, Seal, SealUse
from certificates.services import certificates as services
from labqms.models import Activity, AuditEvent, NumberSequence
from tests.certificates.conftest import PASSWORD
from tests.factories import AuthorisationFactory


@pytest.fixture
def signatory(method_lead, head):
    AuthorisationFactory(person=method_lead, activity=Activity.SIGN_CERTIFICATES, authorised_by=head)
    return method_lead


@pytest.fixture
def draft(checked_record, performer):
    return services.prepare(actor=performer, record=checked_record)


def _bench(signatory, **options) -> str:
    out = io.StringIO()
    call_command("bench_issue", runs=1, approver=signatory.username, password=PASSWORD, stdout=out, **options)
    return out.getvalue()


def _files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*.pdf")] if root.exists() else []


@pytest.mark.django_db
def test_it_prints_both_medians_and_the_ratio(draft, signatory):
    output = _bench(signatory)
    issue = re.search(r"issue .*median (\d+) ms", output)
    bare = re.search(r"bare WeasyPrint render .*median (\d+) ms", output)
    ratio = re.search(r"ratio issue / bare render: (\d+\.\d\d)x", output)
    assert issue and bare and ratio, output
    assert int(bare.group(1)) > 0
    # The ratio printed is the one of the medians printed (rounding aside).
    assert float(ratio.group(1)) == pytest.approx(int(issue.group(1)) / int(bare.group(1)), abs=0.05)
    assert f"certificate {draft.pk}" in output


@pytest.mark.django_db
def test_r_crt_1_it_leaves_the_draft_waiting_and_uses_up_no_number(draft, signatory, settings):
    Seal.objects.create(kind="verification", name="检定专用章", custodian=signatory)
    sequences = list(NumberSequence.objects.values_list("key", "year", "last_value"))
    events = AuditEvent.objects.count()

    _bench(signatory)

    draft.refresh_from_db()
    assert draft.status == CertificateStatus.DRAFT
    assert not draft.number and not draft.sha256 and not draft.pdf
    assert draft.approved_by is None
    assert not Certificate.objects.filter(status=CertificateStatus.ISSUED).exists()
    assert list(NumberSequence.objects.values_list("key", "year", "last_value")) == sequences
    assert not SealUse.objects.exists()
    assert AuditEvent.objects.count() == events
    assert _files(settings) == []
    draft.record.sample.refresh_from_db()
    assert draft.record.sample.certificate_numbers == []


@pytest.mark.django_db
def test_without_a_draft_it_prepares_one_from_a_checked_record_and_rolls_it_back(checked_record, signatory, settings):
    output = _bench(signatory)
    assert f"draft from record {checked_record.number}" in output
    assert not Certificate.objects.exists()
    assert _files(settings) == []


@pytest.mark.django_db
def test_it_refuses_when_there_is_nothing_to_issue(signatory):
    with pytest.raises(CommandError, match="seed_demo"):
        _bench(signatory)
