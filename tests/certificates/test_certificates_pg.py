"""PostgreSQL only: an issued certificate does not change in the database (R-CRT-6), and
32 certificates issued at the same moment get 32 different, gap-free numbers."""

import threading

import pytest
from django.db import DatabaseError, close_old_connections, connection, transaction

from certificates.models import Certificate, CertificateStatus
from certificates.services import certificates as services
from tests.certificates.test_certificate_services import _issue, signatory  # noqa: F401


def _refused(sql, params):
    with pytest.raises(DatabaseError, match="R-CRT-6"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_refuses_changing_an_issued_certificate(checked_record, performer, signatory):  # noqa: F811
    certificate = _issue(checked_record, performer, signatory)
    _refused("UPDATE certificates_certificate SET sha256 = 'x' WHERE id = %s", [certificate.pk])
    _refused("UPDATE certificates_certificate SET number = 'JD2026-999999' WHERE id = %s", [certificate.pk])
    _refused("UPDATE certificates_certificate SET content = '{}' WHERE id = %s", [certificate.pk])
    _refused("UPDATE certificates_certificate SET status = 'draft' WHERE id = %s", [certificate.pk])
    _refused("DELETE FROM certificates_certificate WHERE id = %s", [certificate.pk])
    # becoming void (with its reason) is the one change left
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE certificates_certificate SET status = 'void', void_reason = 'r', voided_at = now() WHERE id = %s",
            [certificate.pk],
        )
    _refused("UPDATE certificates_certificate SET status = 'issued' WHERE id = %s", [certificate.pk])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_32_concurrent_issuances_get_distinct_gap_free_numbers(checked_record, performer, signatory):  # noqa: F811
    template = services.prepare(actor=performer, record=checked_record)
    rows = [
        Certificate(
            record=checked_record, type=template.type, status=CertificateStatus.ISSUING,
            verification_code=services.new_verification_code(), created_by=performer, approved_by=signatory,
        )
        for _ in range(32)
    ]
    ids = [c.pk for c in Certificate.objects.bulk_create(rows)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(ids))

    def work(pk):
        try:
            barrier.wait()
            services.issue(pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=work, args=(pk,)) for pk in ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    numbers = sorted(Certificate.objects.filter(pk__in=ids).values_list("number", flat=True))
    year = numbers[0][2:6]
    assert numbers == [f"JD{year}-{n:06d}" for n in range(1, 33)]
    assert Certificate.objects.filter(pk__in=ids, status=CertificateStatus.ISSUED).count() == 32
