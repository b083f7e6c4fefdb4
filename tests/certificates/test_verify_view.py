"""The public verification page (R-CRT-6 chain): every status, wrong code = wrong
number, rate limit."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from certificates.models import AmendmentKind
from certificates.services import certificates as services
from certificates.views import public
from tests.certificates.conftest import PASSWORD
from tests.certificates.test_certificate_services import _issue, signatory  # noqa: F401

URL = reverse("certificates:verify")


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture(autouse=True)
def _fresh_limit():
    cache.clear()
    yield
    cache.clear()


def _get(client, certificate, code=None):
    return client.get(URL, {"number": certificate.number, "code": code or certificate.verification_code})


@pytest.mark.django_db
def test_valid_then_supplemented_then_replaced(client, checked_record, performer, checker, signatory):  # noqa: F811
    original = _issue(checked_record, performer, signatory)
    text = _get(client, original).content.decode()
    assert 'data-status="issued"' in text and original.sha256 in text
    supplement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.SUPPLEMENT, text="补充地址")
    supplement = services.check_amendment(actor=checker, certificate=supplement, password=PASSWORD)
    supplement = services.approve(actor=signatory, certificate=supplement, password=PASSWORD)
    assert f"supplemented by {supplement.number}" in _get(client, original).content.decode()
    replacement = services.prepare_amendment(actor=performer, original=original, kind=AmendmentKind.REPLACEMENT, text="型号错误")
    replacement = services.check_amendment(actor=checker, certificate=replacement, password=PASSWORD)
    replacement = services.approve(actor=signatory, certificate=replacement, password=PASSWORD)
    text = _get(client, original).content.decode()
    assert 'data-status="void"' in text and f"replaced by {replacement.number}" in text
    assert 'data-status="issued"' in _get(client, replacement).content.decode()


@pytest.mark.django_db
def test_a_wrong_code_looks_like_a_wrong_number(client, checked_record, performer, signatory):  # noqa: F811
    certificate = _issue(checked_record, performer, signatory)
    wrong_code = _get(client, certificate, code="AAAAAAAA")
    wrong_number = client.get(URL, {"number": "JD1999-000001", "code": certificate.verification_code})
    assert wrong_code.status_code == wrong_number.status_code == 200
    assert 'data-testid="verify-not-found"' in wrong_code.content.decode()
    assert wrong_code.content.decode().replace("AAAAAAAA", "X").count("verify-not-found") == 1
    assert certificate.sha256 not in wrong_code.content.decode()


@pytest.mark.django_db
def test_guessing_is_rate_limited(client, monkeypatch):
    monkeypatch.setattr(public, "ATTEMPTS", 3)
    codes = [client.get(URL, {"number": "JD2026-000001", "code": f"GUESS{i}"}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
