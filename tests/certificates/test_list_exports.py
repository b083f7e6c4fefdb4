"""Excel export and rows per page on every certificates staff list (R-MGT-4): tasks, my
tasks, samples waiting for a task, original records, certificates, the approval queue,
methods, seals and the seal usage log.  An export answers to the same permission as its
list, and holds the rows that list shows that user (counter staff: issued certificates
only, R-REC-4)."""

import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates.models import (
    Certificate,
    CertificateStatus,
    CertificateType,
    Method,
    MethodStatus,
    Record,
    RecordStatus,
    Seal,
    SealKind,
    SealUse,
    Task,
    TaskStatus,
)
from intake.models import SampleStatus
from tests.intake.conftest import line
from tests.labqms.test_export import (
    assert_export_is_the_list,
    assert_header_translated,
    assert_paging_and_export_queries_are_constant,
    column,
    english,
    get_xlsx,
    queries,
    rows_of,
)

_n = itertools.count(1)


@pytest.fixture
def staff(client, performer):
    client.force_login(performer)
    return english(client)


@pytest.fixture
def bulk_samples(make_order, categories):
    """``bulk_samples(n)``: n stored samples of one accepted bp order."""

    def make(n):
        serials = ",".join(f"EXP-{next(_n):05d}" for _ in range(n))
        order = make_order([line(categories["bp"], serials, quantity=n)])
        order.samples.update(status=SampleStatus.STORED)
        return list(order.samples.order_by("unit_no"))

    return make


@pytest.fixture
def bulk_tasks(bulk_samples, method, template, performer, checker, assigner):
    def make(n, status=TaskStatus.IN_PROGRESS, performer_=None, checker_=None):
        return [
            Task.objects.create(
                sample=sample, service="verification", method=method, performer=performer_ or performer,
                checker=checker_ or checker, assigned_by=assigner, status=status,
            )
            for sample in bulk_samples(n)
        ]

    return make


@pytest.fixture
def bulk_records(bulk_tasks, method, template, performer):
    """``bulk_records(n, status=…)``: records made directly in the database (the lists
    only read them; the services are exercised in their own tests)."""

    def make(n, status=RecordStatus.DRAFT):
        return [
            Record.objects.create(
                number=f"JLX-{next(_n):06d}", task=task, sample=task.sample, method=method, template=template,
                instrument={"name": "血压计", "serial_number": task.sample.serial_number}, measured_on=timezone.localdate(),
                place="实验室", performer=performer, status=status,
            )
            for task in bulk_tasks(n)
        ]

    return make


@pytest.fixture
def bulk_certificates(bulk_records, performer):
    def make(n, status=CertificateStatus.DRAFT):
        issued = status in (CertificateStatus.ISSUED, CertificateStatus.VOID)
        return [
            Certificate.objects.create(
                record=record, type=CertificateType.VERIFICATION_CERTIFICATE, verification_code="ABCDEFGH",
                created_by=performer, status=status, number=f"JDX-{next(_n):06d}" if issued else None,
                issued_at=timezone.now() if issued else None,
            )
            for record in bulk_records(n, status=RecordStatus.CHECKED)
        ]

    return make


def bulk_methods(n, user, status=MethodStatus.CURRENT):
    return Method.objects.bulk_create(
        Method(code=f"JJG {next(_n)}", edition="2020", title="方法", kind="verification", effective_on="2020-01-01",
               status=status, created_by=user)
        for _ in range(n)
    )


def bulk_seals(n, custodian, kind=SealKind.TESTING):
    return Seal.objects.bulk_create(Seal(kind=kind, name=f"章 {next(_n)}", custodian=custodian) for _ in range(n))


def bulk_uses(n, seal, certificates_of, user):
    return [SealUse.objects.create(seal=seal, certificate=c, used_by=user) for c in certificates_of(n, CertificateStatus.ISSUED)]


# --- the export holds the filtered list -----------------------------------------------------


@pytest.mark.django_db
def test_task_export_is_the_filtered_list_R_MGT_4(staff, bulk_tasks):
    returned = bulk_tasks(2, status=TaskStatus.RETURNED)
    bulk_tasks(3)
    url = reverse("certificates:task_list")
    shown = assert_export_is_the_list(staff, url, {"status": TaskStatus.RETURNED}, lambda t: t.sample.sample_id, "Sample ID")
    assert sorted(shown) == sorted(t.sample.sample_id for t in returned)
    assert len(assert_export_is_the_list(staff, url, {"sort": "-id"}, lambda t: t.sample.sample_id, "Sample ID")) == 5


@pytest.mark.django_db
def test_my_tasks_export_is_my_queues_in_order_R_MGT_4(staff, bulk_tasks, checker, performer):
    bulk_tasks(2, status=TaskStatus.RETURNED)
    bulk_tasks(2)
    bulk_tasks(2, performer_=checker, checker_=performer)  # someone else's work, not mine to check yet
    context = staff.get(reverse("certificates:my_tasks")).context
    mine = [t.sample.sample_id for t in context["to_do"] + context["to_check"]]
    header, rows = rows_of(get_xlsx(staff, reverse("certificates:my_tasks")))
    assert [row[header.index("Sample ID")] for row in rows] == mine
    assert len(mine) == 4
    assert [row[header.index("Queue")] for row in rows] == ["To do"] * 4


@pytest.mark.django_db
def test_unassigned_export_is_the_filtered_list_R_MGT_4(staff, bulk_samples, make_order, categories):
    bulk_samples(3)
    pump = make_order([line(categories["pump"], "P-1, P-2", quantity=2)])
    pump.samples.update(status=SampleStatus.RECEIVED)
    url = reverse("certificates:unassigned")
    assert len(assert_export_is_the_list(staff, url, {}, lambda s: s.sample_id, "Sample ID")) == 5
    shown = assert_export_is_the_list(staff, url, {"category": categories["pump"].pk}, lambda s: s.sample_id, "Sample ID")
    assert sorted(shown) == sorted(pump.samples.values_list("sample_id", flat=True))


@pytest.mark.django_db
def test_record_export_is_the_filtered_list_R_MGT_4(staff, bulk_records):
    signed = bulk_records(2, status=RecordStatus.SIGNED)
    bulk_records(3)
    url = reverse("certificates:record_list")
    shown = assert_export_is_the_list(staff, url, {"status": RecordStatus.SIGNED}, lambda r: r.number, "Record number")
    assert sorted(shown) == sorted(r.number for r in signed)


@pytest.mark.django_db
def test_certificate_export_is_the_filtered_list_and_counter_staff_get_issued_ones_only(
    staff, bulk_certificates, client, clerk
):
    """R-REC-4: counter staff read issued certificates, not drafts — in the export too."""
    issued = bulk_certificates(2, CertificateStatus.ISSUED)
    bulk_certificates(3)
    url = reverse("certificates:certificate_list")
    shown = assert_export_is_the_list(staff, url, {"status": CertificateStatus.ISSUED}, lambda c: c.number, "Certificate number")
    assert sorted(shown) == sorted(c.number for c in issued)
    assert len(column(get_xlsx(staff, url), "Certificate number")) == 5
    counter = english(client.__class__())
    counter.force_login(clerk)
    assert sorted(column(get_xlsx(counter, url), "Certificate number")) == sorted(c.number for c in issued)


@pytest.mark.django_db
def test_queue_export_is_the_filtered_queue_R_MGT_4(staff, bulk_certificates):
    drafts = bulk_certificates(3)
    bulk_certificates(2, CertificateStatus.ISSUED)
    url = reverse("certificates:certificate_queue")
    shown = assert_export_is_the_list(staff, url, {}, lambda c: c.record.sample.sample_id, "Sample")
    assert shown == [c.record.sample.sample_id for c in drafts]
    one = drafts[1].record.sample.sample_id
    assert assert_export_is_the_list(staff, url, {"q": one}, lambda c: c.record.sample.sample_id, "Sample") == [one]


@pytest.mark.django_db
def test_method_export_is_the_filtered_list_R_MGT_4(staff, method_lead):
    bulk_methods(2, method_lead, status=MethodStatus.WITHDRAWN)
    bulk_methods(3, method_lead)
    url = reverse("certificates:method_list")
    shown = assert_export_is_the_list(staff, url, {"status": MethodStatus.WITHDRAWN}, lambda m: m.full_code, "Method")
    assert len(shown) == 2
    assert column(get_xlsx(staff, url, {"status": MethodStatus.WITHDRAWN}), "Edition status") == ["Withdrawn"] * 2


@pytest.mark.django_db
def test_seal_export_is_the_list_R_MGT_4(staff, method_lead):
    bulk_seals(2, method_lead, SealKind.VERIFICATION)
    bulk_seals(2, method_lead)
    assert len(assert_export_is_the_list(staff, reverse("certificates:seal_list"), {}, lambda s: s.name, "Seal name")) == 4


@pytest.mark.django_db
def test_seal_use_export_is_the_filtered_log_R_MGT_4(staff, method_lead, bulk_certificates, performer):
    seal, other = bulk_seals(2, method_lead)
    mine = bulk_uses(2, seal, bulk_certificates, performer)
    bulk_uses(3, other, bulk_certificates, performer)
    url = reverse("certificates:seal_uses")
    shown = assert_export_is_the_list(staff, url, {"seal": seal.pk}, lambda u: u.certificate.number, "Certificate")
    assert sorted(shown) == sorted(u.certificate.number for u in mine)


# --- language, permissions ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_header_is_in_the_active_language(client, performer, bulk_records):
    bulk_records(1)
    client.force_login(performer)
    url = reverse("certificates:record_list")
    assert_header_translated(client, url, 0, "Record number")


RECORDS_VIEW = [
    "certificates:task_list", "certificates:my_tasks", "certificates:unassigned", "certificates:record_list",
    "certificates:certificate_queue", "certificates:method_list", "certificates:seal_list", "certificates:seal_uses",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", RECORDS_VIEW + ["certificates:certificate_list"])
def test_the_export_answers_like_the_list(client, name, portal_user, clerk, bulk_certificates):
    """Customers get 404 on every staff list and its export; counter staff get 404
    where records are behind the list (R-REC-4); anonymous visitors sign in first."""
    bulk_certificates(1, CertificateStatus.ISSUED)
    url = reverse(name)
    assert get_xlsx(client, url).status_code == 302
    client.force_login(portal_user)
    assert client.get(url).status_code == 404
    assert get_xlsx(client, url).status_code == 404
    client.force_login(clerk)
    expected = 404 if name in RECORDS_VIEW else 200
    assert client.get(url).status_code == expected
    assert get_xlsx(client, url).status_code == expected


# --- constant queries, rows per page -------------------------------------------------------


@pytest.mark.django_db
def test_task_list_queries_R_MGT_4(staff, bulk_records):
    assert_paging_and_export_queries_are_constant(staff, reverse("certificates:task_list"), lambda n: bulk_records(n))


@pytest.mark.django_db
def test_unassigned_queries_R_MGT_4(staff, bulk_samples):
    assert_paging_and_export_queries_are_constant(staff, reverse("certificates:unassigned"), bulk_samples)


@pytest.mark.django_db
def test_record_list_queries_R_MGT_4(staff, bulk_records):
    assert_paging_and_export_queries_are_constant(staff, reverse("certificates:record_list"), bulk_records)


@pytest.mark.django_db
def test_certificate_list_queries_R_MGT_4(staff, bulk_certificates):
    assert_paging_and_export_queries_are_constant(
        staff, reverse("certificates:certificate_list"), lambda n: bulk_certificates(n, CertificateStatus.ISSUED)
    )


@pytest.mark.django_db
def test_queue_queries_R_MGT_4(staff, bulk_certificates):
    assert_paging_and_export_queries_are_constant(staff, reverse("certificates:certificate_queue"), bulk_certificates)


@pytest.mark.django_db
def test_method_list_queries_R_MGT_4(staff, method_lead, categories):
    def add(n):
        for method in bulk_methods(n, method_lead):
            method.categories.add(categories["bp"])

    assert_paging_and_export_queries_are_constant(staff, reverse("certificates:method_list"), add)


@pytest.mark.django_db
def test_seal_list_queries_R_MGT_4(staff, method_lead):
    assert_paging_and_export_queries_are_constant(
        staff, reverse("certificates:seal_list"), lambda n: bulk_seals(n, method_lead)
    )


@pytest.mark.django_db
def test_seal_use_queries_R_MGT_4(staff, method_lead, bulk_certificates, performer):
    seal = bulk_seals(1, method_lead)[0]
    assert_paging_and_export_queries_are_constant(
        staff, reverse("certificates:seal_uses"), lambda n: bulk_uses(n, seal, bulk_certificates, performer)
    )


@pytest.mark.django_db
def test_my_tasks_export_queries_do_not_grow_R_MGT_4(staff, bulk_tasks):
    url = reverse("certificates:my_tasks")
    bulk_tasks(3)
    few = queries(staff, url, {"format": "xlsx"})
    bulk_tasks(27, status=TaskStatus.RETURNED)
    assert queries(staff, url, {"format": "xlsx"}) == few
    assert len(rows_of(get_xlsx(staff, url))[1]) == 30
