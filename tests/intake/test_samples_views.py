"""Sample pages: receipt inspection (R-SMP-1, R-SMP-3), labels (R-SMP-2), scan to open,
status actions and the integrity check (R-SMP-4, R-INT-6), the counter's queues, and the
release (R-INT-7).  Customers get 404 on every sample page (R-INT-9)."""

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from intake.models import (
    CustodyEvent,
    NoticeKind,
    NoticeStatus,
    Order,
    OrderStatus,
    ReceiptInspection,
    Sample,
    SampleStatus,
    StorageLocation,
)
from intake.qr import qr_svg
from intake.services import orders as order_services
from intake.services import samples as sample_services
from tests.intake.conftest import line


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _row(sample, **overrides) -> dict:
    """POST data of one row of the receive page, as the browser sends it by default."""
    data = {
        "include": "on",
        "packaging_ok": "on",
        "appearance_ok": "on",
        "markings_ok": "on",
        "accessories_ok": "on",
        "accessories_received": "电源线",
        "anomalies": "",
    }
    data.update(overrides)
    return {f"s{sample.pk}-{key}": value for key, value in data.items() if value is not None}


@pytest.fixture
def eager(settings):
    """Celery tasks run in-process, so the completion e-mail goes out on commit."""
    from labqms.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def pumps(make_order, categories):
    """An accepted order with two registered pumps."""
    return make_order([line(categories["pump"], "P-1, P-2", quantity=2, accessories="电源线")])


def _advance_to_tested(sample, clerk, technician):
    sample_services.mark_sample_in_test(actor=technician, sample=sample)
    return sample_services.mark_sample_tested(actor=technician, sample=sample)


# --- receipt inspection ---------------------------------------------------------------


@pytest.mark.django_db
def test_receive_page_receives_and_stores_samples_with_custody_events(client, clerk, pumps, location):
    """R-SMP-1, R-SMP-3: the inspection of every sample is recorded, each sample is
    received and stored, and every move writes a custody event."""
    client.force_login(clerk)
    url = reverse("intake:order_receive", kwargs={"pk": pumps.pk})
    page = client.get(url)
    assert page.status_code == 200
    first, second = pumps.samples.order_by("sample_id")
    assert page.content.decode().count('data-testid="receive-row"') == 2
    assert "电源线" in page.content.decode()  # accessories prefilled from the item

    data = {**_row(first), **_row(second, markings_ok=None, anomalies="铭牌模糊"), "location": location.pk,
            "customer_confirmed_by": "刘洋"}
    response = client.post(url, data)

    assert response.status_code == 302
    assert response.url == reverse("intake:order_detail", kwargs={"pk": pumps.pk})
    for sample in (first, second):
        sample.refresh_from_db()
        assert sample.status == SampleStatus.STORED
        assert sample.location == location
        actions = list(CustodyEvent.objects.filter(sample=sample).values_list("action", flat=True))
        assert actions == ["registered", "received", "stored"]
    inspection = ReceiptInspection.objects.get(sample=second)
    assert inspection.markings_ok is False
    assert inspection.anomalies == "铭牌模糊"
    assert inspection.customer_confirmed_by == "刘洋"
    assert ReceiptInspection.objects.get(sample=first).has_anomalies is False
    [message] = _messages(response)
    assert "2" in message
    assert reverse("intake:order_labels", kwargs={"pk": pumps.pk}) in message


@pytest.mark.django_db
def test_receive_page_leaves_unticked_samples_registered(client, clerk, pumps):
    """R-SMP-1: only the ticked rows are received; without a location they stay received."""
    client.force_login(clerk)
    first, second = pumps.samples.order_by("sample_id")
    data = {**_row(first), **_row(second, include=None)}
    response = client.post(reverse("intake:order_receive", kwargs={"pk": pumps.pk}), data)
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == SampleStatus.RECEIVED
    assert second.status == SampleStatus.REGISTERED


@pytest.mark.django_db
def test_anomalies_without_the_customers_name_receive_nothing(client, clerk, pumps):
    """R-SMP-1: one row with anomalies and no customer confirmation → no sample of the
    batch is received, the error names the sample, and what was typed is kept."""
    client.force_login(clerk)
    first, second = pumps.samples.order_by("sample_id")
    data = {**_row(first, accessories_received="电源线 ×1"), **_row(second, packaging_ok=None, anomalies="外包装破损")}
    response = client.post(reverse("intake:order_receive", kwargs={"pk": pumps.pk}), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="receive-errors"' in html
    assert second.sample_id in html.split('data-testid="receive-errors"')[1].split("</div>")[0]
    assert "外包装破损" in html and "电源线 ×1" in html
    assert not ReceiptInspection.objects.exists()
    assert set(pumps.samples.values_list("status", flat=True)) == {SampleStatus.REGISTERED}
    assert not CustodyEvent.objects.filter(action="received").exists()


@pytest.mark.django_db
def test_anomaly_on_the_first_row_without_a_name_is_an_error_not_a_crash(client, clerk, pumps):
    """R-SMP-1: the batch's name error used to drop the field for the next rows (500)."""
    client.force_login(clerk)
    first, second = pumps.samples.order_by("sample_id")
    data = {**_row(first, appearance_ok=None, anomalies="外壳有裂纹"), **_row(second)}
    response = client.post(reverse("intake:order_receive", kwargs={"pk": pumps.pk}), data)

    assert response.status_code == 200
    assert first.sample_id in response.content.decode().split('data-testid="receive-errors"')[1]
    assert set(pumps.samples.values_list("status", flat=True)) == {SampleStatus.REGISTERED}


@pytest.mark.django_db
def test_receive_page_needs_the_receive_authorisation(client, technician, pumps):
    client.force_login(technician)
    assert client.get(reverse("intake:order_receive", kwargs={"pk": pumps.pk})).status_code == 404


# --- labels ---------------------------------------------------------------------------


def _pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "labels.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.django_db
def test_order_labels_pdf_holds_every_sample_id(client, clerk, pumps, tmp_path):
    """R-SMP-2: one 50 × 30 mm label per sample, with the sample ID as text and QR code."""
    client.force_login(clerk)
    ids = list(pumps.samples.order_by("sample_id").values_list("sample_id", flat=True))
    response = client.get(reverse("intake:order_labels", kwargs={"pk": pumps.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response.content.startswith(b"%PDF")

    samples = list(Sample.objects.filter(order=pumps).select_related("order__customer", "item__category"))
    html = render_to_string(
        "pdf/intake/labels.html", {"labels": [{"sample": s, "qr": qr_svg(s.sample_id, scale=3)} for s in samples]}
    )
    assert "size: 50mm 30mm" in html
    for sample_id in ids:
        assert sample_id in html
    assert "一院" in html  # the customer's short name
    if shutil.which("pdftotext"):
        text = _pdf_text(response.content, tmp_path)
        for sample_id in ids:
            assert sample_id in text
        assert text.count("\f") == len(ids)  # one page per label


@pytest.mark.django_db
def test_label_subset_and_single_label(client, clerk, pumps, tmp_path):
    """R-SMP-2: ?samples= prints only the chosen labels; a sample prints its own."""
    client.force_login(clerk)
    first, second = pumps.samples.order_by("sample_id")
    subset = client.get(reverse("intake:order_labels", kwargs={"pk": pumps.pk}) + f"?samples={second.pk}")
    single = client.get(reverse("intake:sample_label", kwargs={"pk": first.pk}))
    assert subset.status_code == single.status_code == 200
    assert single["Content-Type"] == "application/pdf"
    if shutil.which("pdftotext"):
        subset_text = _pdf_text(subset.content, tmp_path)
        assert second.sample_id in subset_text and first.sample_id not in subset_text
        single_text = _pdf_text(single.content, tmp_path)
        assert first.sample_id in single_text and second.sample_id not in single_text
    else:
        assert subset.content.startswith(b"%PDF") and single.content.startswith(b"%PDF")
    other = client.get(reverse("intake:order_labels", kwargs={"pk": pumps.pk}) + "?samples=999999")
    assert other.status_code == 404


# --- scan to open ---------------------------------------------------------------------


@pytest.mark.django_db
def test_scan_opens_the_sample_ignoring_case_and_whitespace(client, clerk, received_sample):
    client.force_login(clerk)
    code = f"  {received_sample.sample_id.lower()}\n"
    response = client.get(reverse("intake:sample_scan"), {"code": code})
    assert response.status_code == 302
    assert response.url == reverse("intake:sample_detail", kwargs={"pk": received_sample.pk})


@pytest.mark.django_db
def test_scan_of_an_order_number_opens_the_order(client, clerk, received_sample):
    client.force_login(clerk)
    response = client.get(reverse("intake:sample_scan"), {"code": received_sample.order.number})
    assert response.url == reverse("intake:order_detail", kwargs={"pk": received_sample.order_id})


@pytest.mark.django_db
def test_scan_of_an_unknown_code_searches_the_list_with_a_warning(client, clerk, received_sample):
    client.force_login(clerk)
    response = client.get(reverse("intake:sample_scan"), {"code": "WT1999-9"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("intake:sample_list") + "?q=WT1999-9"
    html = response.content.decode()
    assert "WT1999-9" in html
    assert any("WT1999-9" in m for m in (str(m) for m in response.context["messages"]))
    assert 'data-testid="scan-input"' in html


# --- sample page and actions ----------------------------------------------------------


@pytest.mark.django_db
def test_sample_page_shows_inspection_and_custody_trail(client, clerk, technician, received_sample):
    """R-SMP-3: the custody trail lists who moved the sample from which status, where."""
    client.force_login(clerk)
    response = client.get(reverse("intake:sample_detail", kwargs={"pk": received_sample.pk}))
    assert response.status_code == 200
    html = response.content.decode()
    assert received_sample.sample_id in html
    assert html.count('data-testid="custody-row"') == 3
    assert "收样室" in html  # the storage location
    assert reverse("intake:sample_label", kwargs={"pk": received_sample.pk}) in html
    # The counter moves it; starting work is for technical staff only.
    assert 'data-testid="form-in-test"' not in html and 'data-testid="form-store"' in html
    assert 'data-testid="form-integrity"' not in html
    client.force_login(technician)
    html = client.get(reverse("intake:sample_detail", kwargs={"pk": received_sample.pk})).content.decode()
    assert 'data-testid="form-in-test"' in html


@pytest.mark.django_db
def test_integrity_check_makes_the_sample_ready_and_completes_the_order(
    client, clerk, technician, received_sample, eager, django_capture_on_commit_callbacks
):
    """R-SMP-4, R-INT-6: in test → tested → intact → ready; the last sample ready completes
    the order and the completion notice is e-mailed after commit and recorded as sent."""
    client.force_login(technician)
    pk = received_sample.pk
    assert client.post(reverse("intake:sample_in_test", kwargs={"pk": pk}), {"in_test-note": ""}).status_code == 302
    assert client.post(reverse("intake:sample_tested", kwargs={"pk": pk}), {"tested-note": "OK"}).status_code == 302
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.TESTED
    page = client.get(reverse("intake:sample_detail", kwargs={"pk": pk})).content.decode()
    assert 'data-testid="form-integrity"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("intake:sample_integrity", kwargs={"pk": pk}),
            {"integrity-intact": "yes", "integrity-notes": "", "integrity-location": ""},
        )
    assert response.status_code == 302
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.READY
    assert CustodyEvent.objects.filter(sample=received_sample, action="integrity_ok").exists()
    order = received_sample.order
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    notice = order.notices.get(kind=NoticeKind.COMPLETION)
    assert notice.status == NoticeStatus.SENT
    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject


@pytest.mark.django_db
def test_damaged_without_notes_is_refused_and_keeps_the_choice(client, technician, clerk, received_sample):
    """R-SMP-4: "not intact" needs a description; the page shows the service's error."""
    _advance_to_tested(received_sample, clerk, technician)
    client.force_login(technician)
    response = client.post(
        reverse("intake:sample_integrity", kwargs={"pk": received_sample.pk}),
        {"integrity-intact": "no", "integrity-notes": "  "},
    )
    assert response.status_code == 200
    form = response.context["forms"]["integrity"]
    assert "notes" in form.errors
    assert form["intact"].value() == "no"
    assert "Describe the damage" in str(form.errors["notes"]) or "描述" in str(form.errors["notes"])
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.TESTED


@pytest.mark.django_db
def test_refused_transition_shows_the_message_not_an_error_page(client, technician, received_sample):
    """A stored sample cannot be marked tested: the service's sentence is shown."""
    client.force_login(technician)
    response = client.post(reverse("intake:sample_tested", kwargs={"pk": received_sample.pk}), {"tested-note": ""})
    assert response.status_code == 302
    [message] = _messages(response)
    assert received_sample.sample_id in message
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.STORED


@pytest.mark.django_db
def test_hold_and_resume_write_custody_events(client, clerk, received_sample):
    client.force_login(clerk)
    pk = received_sample.pk
    client.post(reverse("intake:sample_hold", kwargs={"pk": pk}), {"hold-reason": "客户要求暂停"})
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.ON_HOLD
    client.post(reverse("intake:sample_resume", kwargs={"pk": pk}), {"resume-note": "客户确认继续"})
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.STORED
    notes = list(CustodyEvent.objects.filter(sample=received_sample).values_list("action", "note"))
    assert notes[-2:] == [("held", "客户要求暂停"), ("resumed", "客户确认继续")]


@pytest.mark.django_db
def test_move_and_return_untested(client, clerk, received_sample):
    shelf = StorageLocation.objects.create(code="R2", name="待检架")
    client.force_login(clerk)
    pk = received_sample.pk
    client.post(reverse("intake:sample_store", kwargs={"pk": pk}), {"store-location": shelf.pk, "store-note": ""})
    received_sample.refresh_from_db()
    assert received_sample.location == shelf
    assert CustodyEvent.objects.filter(sample=received_sample, action="moved").exists()
    # Moving it where it already is: the form comes back with the error and the note kept.
    again = client.post(
        reverse("intake:sample_store", kwargs={"pk": pk}), {"store-location": shelf.pk, "store-note": "再放一次"}
    )
    assert again.status_code == 200
    assert "location" in again.context["forms"]["store"].errors
    assert "再放一次" in again.content.decode()
    client.post(reverse("intake:sample_return", kwargs={"pk": pk}), {"return-reason": "客户撤回"})
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.RETURNED


# --- queues ---------------------------------------------------------------------------


def _make_ready(sample, clerk, technician):
    _advance_to_tested(sample, clerk, technician)
    return sample_services.check_integrity(actor=clerk, sample=sample, intact=True)


@pytest.mark.django_db
def test_ready_queue_lists_orders_with_ready_samples(client, clerk, technician, make_order, categories, location):
    """R-INT-6/7: the counter sees which orders can be collected, and whether they are paid."""
    ready_order = make_order([line(categories["pump"], "P-1, P-2", quantity=2)])
    waiting_order = make_order([line(categories["bp"], "BP-9")])
    first, _second = ready_order.samples.order_by("sample_id")
    for sample in (first, waiting_order.samples.get()):
        sample_services.receive_sample(actor=clerk, sample=sample, location=location)
    _make_ready(first, clerk, technician)

    client.force_login(clerk)
    response = client.get(reverse("intake:ready_queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-order="{ready_order.number}"' in html
    assert f'data-order="{waiting_order.number}"' not in html
    row = html.split(f'data-order="{ready_order.number}"')[1].split("</tr>")[0]
    assert "1 / 2" in row
    assert 'data-testid="unsettled"' in row
    assert "13800000001" in row  # the contact's phone
    assert reverse("intake:order_release", kwargs={"pk": ready_order.pk}) in row
    assert 'data-testid="scan-input"' in html


@pytest.mark.django_db
def test_at_risk_queue_lists_unfinished_orders_due_soon_or_overdue(client, clerk, make_order, categories):
    """Due within two working days or overdue, and not every sample done → at risk."""
    today = timezone.localdate()
    due_today = make_order([line(categories["bp"], "A-1")])
    overdue = make_order([line(categories["bp"], "B-1")])
    later = make_order([line(categories["bp"], "C-1")])
    Order.objects.filter(pk=due_today.pk).update(due_date=today)
    Order.objects.filter(pk=overdue.pk).update(due_date=today - dt.timedelta(days=10))
    Order.objects.filter(pk=later.pk).update(due_date=today + dt.timedelta(days=30))
    done = make_order([line(categories["bp"], "D-1")])
    Order.objects.filter(pk=done.pk).update(due_date=today)
    sample_services.return_untested(actor=clerk, sample=done.samples.get(), reason="客户撤回")

    client.force_login(clerk)
    response = client.get(reverse("intake:at_risk_queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-order="{due_today.number}"' in html
    assert f'data-order="{overdue.number}"' in html
    assert f'data-order="{later.number}"' not in html
    assert f'data-order="{done.number}"' not in html
    # Soonest due first, overdue in red.
    assert html.index(overdue.number) < html.index(due_today.number)
    overdue_row = html.split(f'data-order="{overdue.number}"')[0].rsplit("<tr", 1)[1] + html.split(
        f'data-order="{overdue.number}"'
    )[1].split("</tr>")[0]
    assert "table-danger" in overdue_row and 'data-testid="overdue"' in overdue_row
    orders = {o.number: o for o in response.context["page"]}
    assert orders[due_today.number].working_days_left == 0
    assert orders[overdue.number].working_days_left < 0


@pytest.mark.django_db
def test_queue_query_counts_do_not_grow(client, clerk, make_order, categories, django_assert_max_num_queries):
    """Constant queries per page for both queues (2 orders vs 8)."""
    today = timezone.localdate()
    client.force_login(clerk)

    def add_orders(n):
        for i in range(n):
            order = make_order([line(categories["pump"], f"Q{i}-1, Q{i}-2", quantity=2)])
            Order.objects.filter(pk=order.pk).update(due_date=today)
            order.samples.filter(unit_no=1).update(status=SampleStatus.READY)
            order_services.record_payment(
                actor=clerk, order=order, amount="10", method="cash", receipt_no=f"R-{order.pk}"
            )

    add_orders(2)
    counts = {}
    for name in ("intake:ready_queue", "intake:at_risk_queue"):
        with django_assert_max_num_queries(50) as captured:
            assert client.get(reverse(name)).status_code == 200
        counts[name] = len(captured)
    add_orders(6)
    for name in ("intake:ready_queue", "intake:at_risk_queue"):
        with django_assert_max_num_queries(counts[name]):
            response = client.get(reverse(name))
        assert len(response.context["page"]) == 8


# --- release --------------------------------------------------------------------------


@pytest.mark.django_db
def test_release_is_refused_unpaid_then_allowed_after_payment_and_never_twice(
    client, clerk, technician, received_sample
):
    """R-INT-7: unpaid without credit → refused with the reason, input kept; after a payment
    the hand-over is recorded; the same sample cannot be released again."""
    _make_ready(received_sample, clerk, technician)
    order = received_sample.order
    client.force_login(clerk)
    url = reverse("intake:order_release", kwargs={"pk": order.pk})
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="unpaid-hint"' in html
    assert reverse("intake:order_detail", kwargs={"pk": order.pk}) in html
    assert "instruments + certificates" in html or "器具" in html  # prefilled hand-over

    data = {
        "samples": [received_sample.pk],
        "receiver_name": "张三",
        "receiver_id_document": "身份证 1234",
        "handed_over": "血压计 + 证书",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert 'data-testid="release-errors"' in html
    assert "80.00" in html  # the message says what is owed
    assert "张三" in html and "身份证 1234" in html
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.READY

    order_services.record_payment(actor=clerk, order=order, amount=Decimal("80.00"), method="cash", receipt_no="SJ-1")
    allowed = client.post(url, data)
    assert allowed.status_code == 302
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.RELEASED
    assert received_sample.release.receiver_name == "张三"
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED

    again = client.post(url, {**data, "receiver_name": "李四"})
    assert again.status_code == 200
    html = again.content.decode()
    assert received_sample.sample_id in html.split('data-testid="release-errors"')[1].split("</div>")[0]
    assert "李四" in html
    assert Sample.objects.get(pk=received_sample.pk).release.receiver_name == "张三"


# --- list, query counts, permissions ---------------------------------------------------


@pytest.mark.django_db
def test_sample_list_searches_and_filters(client, clerk, make_order, categories, location):
    order = make_order([line(categories["pump"], "PX-77, PX-78", quantity=2), line(categories["bp"], "BP-5")])
    pump1 = order.samples.get(serial_number="PX-77")
    sample_services.receive_sample(actor=clerk, sample=pump1, location=location)
    client.force_login(clerk)
    url = reverse("intake:sample_list")

    def ids(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {s.sample_id for s in response.context["page"]}

    everything = set(order.samples.values_list("sample_id", flat=True))
    assert ids() == everything
    assert ids(q="px-77") == {pump1.sample_id}
    assert ids(q=order.number) == everything
    assert ids(q="第一人民") == everything
    assert ids(status=SampleStatus.STORED) == {pump1.sample_id}
    assert ids(location=location.pk) == {pump1.sample_id}
    assert ids(category=categories["bp"].pk) == {order.samples.get(serial_number="BP-5").sample_id}
    assert ids(overdue="on") == set()
    Order.objects.filter(pk=order.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    assert ids(overdue="on") == everything
    ordered = [s.sample_id for s in client.get(url, {"sort": "-id"}).context["page"]]
    assert ordered == sorted(everything, reverse=True)
    scan_input = client.get(url).content.decode().split('data-testid="scan-input"')[1].split(">")[0]
    assert "autofocus" in scan_input


@pytest.mark.django_db
def test_sample_list_query_count_is_constant(client, clerk, make_order, categories, django_assert_max_num_queries):
    """Lists: the queries per page do not grow with the rows.  The baseline is a page of
    2 rows, so a query per row would show at 25 rows (a full page) and at 100 rows."""
    client.force_login(clerk)
    url = reverse("intake:sample_list")

    def add(n, prefix):
        serials = ", ".join(f"{prefix}{i}" for i in range(n))
        order = make_order([line(categories["pump"], serials, quantity=n)])
        sample_services.receive_sample(actor=clerk, sample=order.samples.first(), location=location_)

    location_ = StorageLocation.objects.create(code="Q1", name="架")
    add(2, "A")
    with django_assert_max_num_queries(50) as captured:
        response = client.get(url)
    assert len(response.context["page"]) == 2
    baseline = len(captured)
    add(23, "B")
    with django_assert_max_num_queries(baseline):
        response = client.get(url)
    assert response.context["page"].paginator.count == 25
    for prefix in "CDE":
        add(25, prefix)
    with django_assert_max_num_queries(baseline):
        response = client.get(url, {"sort": "due"})
    assert len(response.context["page"]) == 25
    assert response.context["page"].paginator.count == 100


@pytest.mark.django_db
def test_customer_gets_404_on_every_sample_page(client, customer, received_sample):
    """R-INT-9: outsiders learn nothing, not even that a sample exists."""
    client.force_login(customer)
    sample, order = received_sample.pk, received_sample.order_id
    gets = [
        reverse("intake:sample_list"),
        reverse("intake:sample_detail", kwargs={"pk": sample}),
        reverse("intake:sample_scan") + "?code=" + received_sample.sample_id,
        reverse("intake:order_receive", kwargs={"pk": order}),
        reverse("intake:order_labels", kwargs={"pk": order}),
        reverse("intake:sample_label", kwargs={"pk": sample}),
        reverse("intake:ready_queue"),
        reverse("intake:at_risk_queue"),
        reverse("intake:order_release", kwargs={"pk": order}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for name in ("sample_store", "sample_hold", "sample_resume", "sample_return", "sample_in_test",
                 "sample_tested", "sample_integrity"):
        assert client.post(reverse(f"intake:{name}", kwargs={"pk": sample}), {}).status_code == 404, name
    assert client.post(reverse("intake:order_receive", kwargs={"pk": order}), {}).status_code == 404
    assert client.post(reverse("intake:order_release", kwargs={"pk": order}), {}).status_code == 404
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.STORED


@pytest.mark.django_db
def test_technician_sees_sample_pages_but_not_the_counters_forms(client, technician, received_sample):
    client.force_login(technician)
    detail = client.get(reverse("intake:sample_detail", kwargs={"pk": received_sample.pk}))
    assert detail.status_code == 200
    assert 'data-testid="form-in-test"' in detail.content.decode()
    assert 'data-testid="form-return"' not in detail.content.decode()
    for name in ("intake:ready_queue", "intake:at_risk_queue", "intake:sample_list"):
        assert client.get(reverse(name)).status_code == 200
    assert client.get(reverse("intake:order_release", kwargs={"pk": received_sample.order_id})).status_code == 404


@pytest.mark.django_db
def test_the_counter_cannot_make_a_sample_tested(clerk, received_sample):
    """R-SMP-3/R-TST-1: only technical staff start and finish work on a sample; a clerk
    cannot take it to "tested" (and so to release) without a technician."""
    from django.core.exceptions import PermissionDenied

    from intake.services import samples as sample_services

    with pytest.raises(PermissionDenied):
        sample_services.mark_sample_in_test(actor=clerk, sample=received_sample)
    received_sample.refresh_from_db()
    assert received_sample.status == SampleStatus.STORED
