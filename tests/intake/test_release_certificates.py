"""Delivery at the counter (issue 6): certificates on the release form, the sample and
order pages and the ready-for-release queue.

R-INT-6: the order is complete when the work is done AND every certificate due is
issued — until then the order page says how many certificates it waits for.
R-INT-7: release hands back the instruments with their certificates; the release form
lists each ready sample's certificate numbers (and warns when one is not issued yet),
and the hand-over record keeps the numbers handed over.
R-INT-9: staff access is role-based — the numbers link to the staff certificate list.

The flow is real: tasks, records and certificates go through the services
(tests/certificates/conftest.py); only the list and query-count tests write sample
fields directly.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.services import records as record_services
from certificates.services import tasks as task_services
from intake.models import Order, OrderStatus, Release, Sample, SampleStatus
from intake.services import orders as order_services
from intake.services import samples as sample_services
from tests.certificates.conftest import PASSWORD
from tests.certificates.conftest import assigner as assigner  # noqa: F401
from tests.certificates.conftest import bp_equipment as bp_equipment  # noqa: F401
from tests.certificates.conftest import checked_record as checked_record  # noqa: F401
from tests.certificates.conftest import checker as checker  # noqa: F401
from tests.certificates.conftest import days as days  # noqa: F401
from tests.certificates.conftest import fill as fill  # noqa: F401
from tests.certificates.conftest import lead as lead  # noqa: F401
from tests.certificates.conftest import make_equipment as make_equipment  # noqa: F401
from tests.certificates.conftest import make_technician as make_technician  # noqa: F401
from tests.certificates.conftest import method as method  # noqa: F401
from tests.certificates.conftest import method_lead as method_lead  # noqa: F401
from tests.certificates.conftest import operator as operator  # noqa: F401
from tests.certificates.conftest import performer as performer  # noqa: F401
from tests.certificates.conftest import record as record  # noqa: F401
from tests.certificates.conftest import signed_record as signed_record  # noqa: F401
from tests.certificates.conftest import task as task  # noqa: F401
from tests.certificates.conftest import template as template  # noqa: F401
from tests.certificates.conftest import today as today  # noqa: F401
from tests.certificates.test_certificate_services import _issue
from tests.certificates.test_certificate_services import signatory as signatory  # noqa: F401
from tests.intake.conftest import line

AWAITS = "certificate not issued yet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr("labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-1.4 test")


@pytest.fixture
def counter_client(client, clerk, settings):
    client.force_login(clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def ready_awaiting(checked_record, clerk):  # noqa: F811
    """The checked record's sample, intact and ready for release, its certificate not issued."""
    sample = sample_services.check_integrity(actor=clerk, sample=checked_record.sample, intact=True)
    sample.refresh_from_db()
    assert sample.status == SampleStatus.READY and sample.awaits_certificate
    return sample


@pytest.fixture
def issued(ready_awaiting, checked_record, performer, signatory):  # noqa: F811
    """The certificate of ``ready_awaiting``, issued: the order completes (R-INT-6)."""
    return _issue(checked_record, performer, signatory)


def settle(order, clerk):
    order = Order.objects.get(pk=order.pk)
    order_services.record_payment(actor=clerk, order=order, amount=order.fee_total(), method="cash", receipt_no=f"R-{order.number}")


def list_link(number) -> str:
    return f'href="{reverse("certificates:certificate_list")}?q={number}"'


def _page(client, name, pk=None) -> str:
    response = client.get(reverse(name, args=[pk] if pk is not None else []))
    assert response.status_code == 200
    return response.content.decode()


# --- release form (R-INT-7) -------------------------------------------------------------------


@pytest.mark.django_db
def test_r_int_7_the_release_form_lists_each_ready_samples_certificates_with_links(counter_client, issued, ready_awaiting):
    content = _page(counter_client, "intake:order_release", ready_awaiting.order_id)
    assert issued.number in content
    assert list_link(issued.number) in content
    assert AWAITS not in content
    assert 'data-testid="release-awaiting-certificates"' not in content


@pytest.mark.django_db
def test_r_int_7_the_release_form_warns_about_a_sample_whose_certificate_is_not_issued(counter_client, ready_awaiting):
    content = _page(counter_client, "intake:order_release", ready_awaiting.order_id)
    assert AWAITS in content
    assert "1 ready sample has no certificate issued yet" in content
    assert list_link("") not in content


@pytest.mark.django_db
def test_r_int_7_the_release_records_and_shows_the_certificates_handed_over(counter_client, clerk, issued, ready_awaiting):
    order = ready_awaiting.order
    settle(order, clerk)
    response = counter_client.post(
        reverse("intake:order_release", args=[order.pk]),
        {"samples": [ready_awaiting.pk], "receiver_name": "张三", "receiver_id_document": "身份证 1234", "handed_over": "血压计一台及证书"},
    )
    assert response.status_code == 302
    release = Release.objects.get(order=order)
    assert release.certificate_numbers == [issued.number]
    # The order page's releases section, the sample page and the release form's history.
    order_page = _page(counter_client, "intake:order_detail", order.pk)
    section = order_page.split('data-testid="releases"')[1]
    assert issued.number in section and list_link(issued.number) in section
    sample_page = _page(counter_client, "intake:sample_detail", ready_awaiting.pk)
    assert "Certificates handed over" in sample_page
    assert issued.number in sample_page.split('data-testid="release"')[1]
    release_page = _page(counter_client, "intake:order_release", order.pk)
    assert issued.number in release_page.split('data-testid="already-released"')[1]


@pytest.mark.django_db
def test_r_int_7_a_release_without_certificates_says_none_were_handed_over(counter_client, clerk, ready_awaiting):
    order = ready_awaiting.order
    settle(order, clerk)
    sample_services.release_samples(
        actor=clerk, order=order, samples=[ready_awaiting], receiver_name="张三", receiver_id_document="ID 1", handed_over="血压计一台"
    )
    order_page = _page(counter_client, "intake:order_detail", order.pk)
    cell = order_page.split('data-testid="releases"')[1].split('data-testid="release-certificates"')[1]
    assert cell.split("</td>")[0].endswith("none")


# --- sample page (R-INT-6) --------------------------------------------------------------------


@pytest.mark.django_db
def test_r_int_6_the_sample_page_shows_the_certificate_due_then_its_number(
    counter_client, ready_awaiting, checked_record, performer, signatory  # noqa: F811
):
    content = _page(counter_client, "intake:sample_detail", ready_awaiting.pk)
    certificates = content.split('data-testid="sample-certificates"')[1].split("</section>")[0]
    assert "certificate due, not issued yet" in certificates
    certificate = _issue(checked_record, performer, signatory)
    content = _page(counter_client, "intake:sample_detail", ready_awaiting.pk)
    certificates = content.split('data-testid="sample-certificates"')[1].split("</section>")[0]
    assert "certificate due, not issued yet" not in certificates
    assert certificate.number in certificates and list_link(certificate.number) in certificates


@pytest.mark.django_db
def test_r_int_6_a_sample_without_certificate_work_shows_none(counter_client, received_sample):
    content = _page(counter_client, "intake:sample_detail", received_sample.pk)
    certificates = content.split('data-testid="sample-certificates"')[1].split("</section>")[0]
    assert "None yet." in certificates and "not issued" not in certificates


# --- order page (R-INT-6) ---------------------------------------------------------------------


def _checked_records(order, location, method, assigner, performer, checker, bp_equipment, fill):  # noqa: F811
    """Every sample of ``order`` received, tested through the services and checked."""
    records = []
    for sample in order.samples.order_by("sample_id"):
        sample = sample_services.receive_sample(actor=order.created_by, sample=sample, location=location)
        assigned = task_services.assign_task(actor=assigner, sample=sample, method=method, performer=performer, checker=checker)
        started = task_services.start_task(actor=performer, task=assigned)
        record_services.save_environment(actor=performer, record=started, temperature="21.5", humidity="50")
        record_services.add_equipment(actor=performer, record=started, equipment=bp_equipment)
        started = fill(started)
        record_services.sign_record(actor=performer, record=started, password=PASSWORD)
        record_services.check_record(actor=checker, record=started, password=PASSWORD)
        started.refresh_from_db()
        records.append(started)
    return records


@pytest.mark.django_db
def test_r_int_6_the_order_page_says_how_many_certificates_it_waits_for(
    counter_client, clerk, make_order, categories, location, method, template, assigner, performer, checker,  # noqa: F811
    bp_equipment, fill, signatory,  # noqa: F811
):
    order = make_order([line(categories["bp"], "WAIT-1,WAIT-2", quantity=2)])
    first, second = _checked_records(order, location, method, assigner, performer, checker, bp_equipment, fill)
    # Tested but not yet checked for integrity: the work is not done, nothing to wait for.
    content = _page(counter_client, "intake:order_detail", order.pk)
    assert 'data-testid="waiting-certificates"' not in content
    for checked in (first, second):
        sample_services.check_integrity(actor=clerk, sample=checked.sample, intact=True)
    content = _page(counter_client, "intake:order_detail", order.pk)
    assert "Waiting for 2 certificates before the order is complete." in content
    assert content.count('data-testid="awaits-certificate"') == 2
    certificate = _issue(first, performer, signatory)
    content = _page(counter_client, "intake:order_detail", order.pk)
    assert "Waiting for 1 certificate before the order is complete." in content
    samples_table = content.split('data-testid="order-samples"')[1].split("</table>")[0]
    assert list_link(certificate.number) in samples_table
    _issue(second, performer, signatory)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    content = _page(counter_client, "intake:order_detail", order.pk)
    assert 'data-testid="waiting-certificates"' not in content


@pytest.mark.django_db
def test_r_int_6_the_order_page_query_count_does_not_grow_with_awaited_certificates(counter_client, make_order, categories):
    def order_with(n):
        order = make_order([line(categories["bp"], ",".join(f"Q{n}-{i}" for i in range(n)), quantity=n)])
        samples = list(order.samples.order_by("sample_id"))
        Sample.objects.filter(pk__in=[s.pk for s in samples]).update(status=SampleStatus.READY, expects_certificate=True)
        Sample.objects.filter(pk=samples[0].pk).update(certificate_numbers=[f"JD2025-{n:06d}"])
        return order

    few, many = order_with(2), order_with(12)
    url = "intake:order_detail"
    with CaptureQueriesContext(connection) as few_queries:
        assert "Waiting for 1 certificate before" in _page(counter_client, url, few.pk)
    with CaptureQueriesContext(connection) as many_queries:
        assert "Waiting for 11 certificates before" in _page(counter_client, url, many.pk)
    assert len(many_queries) == len(few_queries)


# --- ready-for-release queue (R-INT-6, R-INT-7) -----------------------------------------------


def _ready_orders(make_order, categories, count, start):
    """``count`` accepted orders with two ready samples each: the first holds two certificate
    numbers, the second awaits its certificate (fields written directly: the queue only reads)."""
    orders = []
    for i in range(start, start + count):
        order = make_order([line(categories["bp"], f"RQ{i}-A,RQ{i}-B", quantity=2)])
        first, second = order.samples.order_by("sample_id")
        Sample.objects.filter(pk__in=[first.pk, second.pk]).update(status=SampleStatus.READY, expects_certificate=True)
        Sample.objects.filter(pk=first.pk).update(certificate_numbers=[f"JD2025-{i:06d}", f"JD2025-{i + 500:06d}"])
        orders.append(order)
    return orders


@pytest.mark.django_db
def test_r_int_7_the_ready_queue_shows_certificates_and_the_awaiting_flag(counter_client, make_order, categories, issued, ready_awaiting):
    (order,) = _ready_orders(make_order, categories, 1, start=1)
    content = _page(counter_client, "intake:ready_queue")
    row = content.split(f'data-order="{order.number}"')[1].split("</tr>")[0]
    assert 'data-certificates="2" data-awaiting="1"' in row
    assert "2 certificates" in row and "1 awaiting certificate" in row
    done = content.split(f'data-order="{ready_awaiting.order.number}"')[1].split("</tr>")[0]
    assert 'data-certificates="1" data-awaiting="0"' in done
    assert "1 certificate" in done and 'data-testid="awaiting-certificate"' not in done


@pytest.mark.django_db
def test_r_int_7_the_ready_queue_certificate_column_costs_no_query_per_row(counter_client, make_order, categories):
    _ready_orders(make_order, categories, 3, start=1)
    with CaptureQueriesContext(connection) as few:
        content = _page(counter_client, "intake:ready_queue")
    assert content.count('data-testid="awaiting-certificate"') == 3
    _ready_orders(make_order, categories, 10, start=10)
    with CaptureQueriesContext(connection) as many:
        content = _page(counter_client, "intake:ready_queue")
    assert content.count('data-testid="awaiting-certificate"') == 13
    assert len(many) == len(few)


# --- R-INT-9: the one-way dependency -----------------------------------------------------------


def test_r_int_9_intake_code_never_imports_the_certificates_app():
    """DESIGN.md: dependencies point one way (intake ← certificates); intake only links
    to certificates URLs from templates."""
    root = Path(django_settings.BASE_DIR) / "intake"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path}: {name}" for name in names if name.split(".")[0] == "certificates"]
    assert offenders == []
