"""The records archive: the record list, the printable record and disposal after the
retention period (R-REC-1, R-REC-3, R-REC-4), and the read-only admin.

Records past ``keep_until`` are made by signing them with the service's clock moved back
three years (``sign_in_the_past``), not by updating ``keep_until`` afterwards: on
PostgreSQL the record trigger refuses any change of ``keep_until`` once a record is signed
(migration 0002), so a test that updates it would pass on SQLite only.
"""

import datetime as dt
import itertools
import shutil
import subprocess
from types import SimpleNamespace

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.models import Correction, Reading, Record, RecordStatus, Task, TaskStatus
from certificates.services import records as record_services
from certificates.services import tasks as task_services
from intake.services import samples as sample_services
from labqms.models import AuditEvent, Role
from tests.certificates.conftest import PASSWORD
from tests.intake.conftest import line

_serials = itertools.count(1)


def sign_in_the_past(record, *, years=3):
    """Sign ``record`` (filled) as if it were ``years`` ago, so its ``keep_until`` (two
    verification periods after signing) has passed today."""
    past = timezone.now() - relativedelta(years=years)
    clock = SimpleNamespace(now=lambda: past, localdate=lambda value=None: timezone.localdate(value or past))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(record_services, "timezone", clock)
        record_services.sign_record(actor=record.performer, record=record, password=PASSWORD)
    record.refresh_from_db()
    assert record.keep_until < timezone.localdate()
    return record


@pytest.fixture
def new_sample(make_order, categories, clerk, location):
    """A received sample of a new one-line order."""

    def make(category="bp", customer=None):
        order = make_order([line(categories[category], f"SN-{next(_serials):04d}")], customer=customer)
        return sample_services.receive_sample(actor=clerk, sample=order.samples.get(), location=location)

    return make


@pytest.fixture
def start_record(assigner, performer, checker, bp_equipment):
    """Task → started record with environment and equipment, through the services."""

    def start(sample, method):
        task = task_services.assign_task(actor=assigner, sample=sample, method=method, performer=performer, checker=checker)
        record = task_services.start_task(actor=performer, task=task)
        record_services.save_environment(actor=performer, record=record, temperature="21.5", humidity="50")
        record_services.add_equipment(actor=performer, record=record, equipment=bp_equipment)
        record.refresh_from_db()
        return record

    return start


@pytest.fixture
def old_record(new_sample, start_record, method, template, fill):
    """A signed record whose retention period ended a year ago."""
    record = fill(start_record(new_sample(), method))
    return sign_in_the_past(record)


@pytest.fixture
def bulk_records(make_order, categories, method, template, performer, checker, assigner):
    """``bulk_records(n, **fields)``: n draft records made directly in the database (the
    list only reads them; the services are exercised elsewhere)."""

    def make(n, **fields):
        serials = ",".join(f"BULK-{next(_serials):05d}" for _ in range(n))
        order = make_order([line(categories["bp"], serials, quantity=n)])
        measured_on = fields.pop("measured_on", timezone.localdate())
        records = []
        for sample in order.samples.order_by("unit_no"):
            task = Task.objects.create(
                sample=sample, service="verification", method=method, performer=performer, checker=checker,
                assigned_by=assigner, status=TaskStatus.IN_PROGRESS,
            )
            records.append(
                Record.objects.create(
                    number=f"JL2099-{next(_serials):06d}", task=task, sample=sample, method=method, template=template,
                    instrument={"name": "血压计", "serial_number": sample.serial_number, "sample_id": sample.sample_id},
                    measured_on=measured_on, place="实验室", performer=performer,
                    **fields,
                )
            )
        return records

    return make


def _english(client, user, settings):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def tech_client(client, performer, settings):
    return _english(client, performer, settings)


@pytest.fixture
def head_client(client, head, settings):
    return _english(client, head, settings)


def _numbers(response) -> list[str]:
    return [r.number for r in response.context["page"]]


LIST = "certificates:record_list"


# --- the list ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_each_record_with_its_columns_R_REC_4(tech_client, signed_record, record):
    response = tech_client.get(reverse(LIST))
    assert response.status_code == 200
    html = response.content.decode()
    assert signed_record.number in html
    sample = signed_record.sample
    for text in (sample.sample_id, "BP-001", "JJG 692-2010", "检定员甲", "核验员乙", signed_record.keep_until.isoformat(),
                 signed_record.measured_on.isoformat(), "Signed, awaiting check"):
        assert text in html, text


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["number", "sample_id", "serial", "order", "customer"])
def test_search_finds_a_record_by_each_key(key, tech_client, record, new_sample, start_record, method, other_hospital):
    other = start_record(new_sample(customer=other_hospital), method)
    sample = record.sample
    q = {
        "number": record.number, "sample_id": sample.sample_id, "serial": sample.serial_number,
        "order": sample.order.number, "customer": "第一人民",
    }[key]
    assert _numbers(tech_client.get(reverse(LIST), {"q": q})) == [record.number]
    assert _numbers(tech_client.get(reverse(LIST), {"q": "第二人民"})) == [other.number]
    assert _numbers(tech_client.get(reverse(LIST), {"q": "nothing-like-this"})) == []


@pytest.mark.django_db
def test_filters_by_status_performer_checker_method_category_and_dates(
    tech_client, signed_record, bulk_records, make_technician, checker, performer, method, categories, cal_method
):
    draft = bulk_records(1)[0]
    other = make_technician("other_t")
    long_ago = timezone.localdate() - dt.timedelta(days=400)
    old = bulk_records(1, measured_on=long_ago)[0]
    Task.objects.filter(pk=old.task_id).update(checker=other)
    url = reverse(LIST)

    def numbers(**params):
        return sorted(_numbers(tech_client.get(url, params)))

    everything = sorted([signed_record.number, draft.number, old.number])
    assert numbers() == everything
    assert numbers(status=RecordStatus.SIGNED) == [signed_record.number]
    assert numbers(status=RecordStatus.DRAFT) == sorted([draft.number, old.number])
    assert numbers(performer=performer.pk) == everything
    assert numbers(checker=other.pk) == [old.number]
    assert numbers(checker=checker.pk) == sorted([signed_record.number, draft.number])
    assert numbers(method="JJG 692") == everything
    assert numbers(method="JJF 1259") == []
    assert numbers(category=categories["bp"].pk) == everything
    assert numbers(category=categories["pump"].pk) == []
    day = long_ago.isoformat()
    assert numbers(measured_to=(long_ago + dt.timedelta(days=1)).isoformat()) == [old.number]
    assert numbers(measured_from=day, measured_to=day) == [old.number]
    assert numbers(measured_from=(long_ago + dt.timedelta(days=1)).isoformat()) == sorted([signed_record.number, draft.number])


@pytest.mark.django_db
def test_reversed_date_range_is_a_form_error_and_filters_nothing(tech_client, record):
    response = tech_client.get(reverse(LIST), {"measured_from": "2026-05-01", "measured_to": "2026-04-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["measured_to"] == ["The end date 2026-04-01 is before the start date 2026-05-01."]
    html = response.content.decode()
    assert 'data-testid="record-search-errors"' in html and "is before the start date" in html
    assert _numbers(response) == [record.number]  # neither half of the range is applied
    # What was typed stays in the form.
    assert 'value="2026-05-01"' in html and 'value="2026-04-01"' in html


@pytest.mark.django_db
def test_sorting(tech_client, bulk_records):
    records = bulk_records(3)
    by_number = sorted(r.number for r in records)
    assert _numbers(tech_client.get(reverse(LIST), {"sort": "number"})) == by_number
    assert _numbers(tech_client.get(reverse(LIST), {"sort": "-number"})) == by_number[::-1]


@pytest.mark.django_db
def test_list_pages_by_25(tech_client, bulk_records):
    bulk_records(27)
    first = tech_client.get(reverse(LIST), {"sort": "number"})
    second = tech_client.get(reverse(LIST), {"sort": "number", "page": 2})
    assert len(first.context["page"]) == 25 and len(second.context["page"]) == 2
    assert not set(_numbers(first)) & set(_numbers(second))
    assert "?sort=number&page=2" in first.content.decode()


@pytest.mark.django_db
def test_list_queries_do_not_grow_with_rows(tech_client, bulk_records):
    bulk_records(3)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert tech_client.get(reverse(LIST)).status_code == 200
        return len(queries)

    few = count()
    bulk_records(22)
    assert count() == few


@pytest.mark.django_db
def test_outsiders_get_404(client, record, counter, customer):
    for user in (counter, customer):
        client.force_login(user)
        assert client.get(reverse(LIST)).status_code == 404
        assert client.get(reverse("certificates:record_pdf", args=[record.pk])).status_code == 404


# --- the printable record (R-REC-1, R-REC-3) -----------------------------------------------


@pytest.fixture
def captured_html(monkeypatch):
    """The HTML the PDF is made from (checked without a PDF reader)."""
    captured = {}

    def fake_render(template_name, context, *, request=None):
        from django.template.loader import render_to_string

        captured["html"] = render_to_string(template_name, context, request=request)
        return b"%PDF-fake"

    monkeypatch.setattr("certificates.views.archive.pdf.render_pdf", fake_render)
    return captured


def _correct_first_reading(record, new_value="102"):
    reading = Reading.objects.filter(record=record).order_by("point__position", "repeat").first()
    return record_services.correct_value(
        actor=record.performer, record=record, field=f"reading:{reading.pk}", new_value=new_value, reason="抄写错误"
    )


@pytest.mark.django_db
def test_pdf_is_a_pdf_named_after_the_record(tech_client, signed_record):
    response = tech_client.get(reverse("certificates:record_pdf", args=[signed_record.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert signed_record.number in response["Content-Disposition"]


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_text_has_the_record_number_the_chinese_title_and_both_values(tech_client, signed_record, tmp_path):
    _correct_first_reading(signed_record)
    response = tech_client.get(reverse("certificates:record_pdf", args=[signed_record.pk]))
    path = tmp_path / "record.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert signed_record.number in text
    assert "无创自动测量血压计" in text and "检定员甲" in text  # Chinese renders (embedded CJK font)
    assert "抄写错误" in text and "102" in text


@pytest.mark.django_db
def test_pdf_prints_the_whole_record_with_corrections_struck_through_R_REC_3(tech_client, signed_record, captured_html):
    correction = _correct_first_reading(signed_record)
    response = tech_client.get(reverse("certificates:record_pdf", args=[signed_record.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    html = captured_html["html"]
    for text in (
        signed_record.number, "示范市医疗器械计量检测中心", signed_record.sample.sample_id, "BP-001", "市第一人民医院",
        "JJG 692-2010", "无创自动测量血压计", "version 1", "21.5", "50", "BZ-T1", "C-BZ-T1", "外观", "气密性",
        "检定员甲", "核验员乙", signed_record.keep_until.strftime("%Y-%m-%d"), "Pass",
    ):
        assert text in html, text
    # The corrected reading: the old value struck through beside the new one, in the table...
    assert '<del class="old">101</del> <span class="new">102</span>' in html
    # ...and in the corrections table with who, when and why.
    assert '<del class="old">101</del>' in html.split('data-testid="corrections"')[1]
    assert correction.reason in html and correction.label in html
    # Results come from the current values: mean of 102, 101, 101 rounded to 1 is 101.
    assert "DRAFT" not in html
    assert "not checked yet" in html


@pytest.mark.django_db
def test_pdf_of_a_draft_carries_the_draft_watermark(tech_client, record, captured_html):
    tech_client.get(reverse("certificates:record_pdf", args=[record.pk]))
    html = captured_html["html"]
    assert 'data-testid="draft-watermark"' in html and "DRAFT — not signed" in html
    assert record.number in html


@pytest.mark.django_db
def test_pdf_prints_before_and_after_adjustment_R_CRT_2(tech_client, record, fill, performer, captured_html):
    record_services.save_conclusion(actor=performer, record=record, conclusion="", adjusted=True, adjustment_notes="调零")
    record.refresh_from_db()
    fill(record)
    tech_client.get(reverse("certificates:record_pdf", args=[record.pk]))
    html = captured_html["html"]
    assert "Before adjustment" in html and "After adjustment" in html and "调零" in html
    assert html.count('data-testid="readings"') == 2


@pytest.mark.django_db
def test_pdf_prints_U_and_k_for_calibration(tech_client, new_sample, start_record, cal_method, cal_template, captured_html):
    record = start_record(new_sample("pump"), cal_method)
    tech_client.get(reverse("certificates:record_pdf", args=[record.pk]))
    html = captured_html["html"]
    assert "JJF 1259-2018" in html
    assert '<th class="num">U</th>' in html
    assert '<td class="num">0.3</td><td class="num">2</td>' in html  # the template's default budget


# --- disposal (R-REC-4) ----------------------------------------------------------------------


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.django_db
def test_dispose_before_keep_until_is_refused_and_nothing_is_deleted(head_client, signed_record):
    response = head_client.post(
        reverse("certificates:record_dispose", args=[signed_record.pk]), {"reason": "到期销毁"}, follow=True
    )
    assert response.status_code == 200
    expected = f"Record {signed_record.number} must be kept until {signed_record.keep_until.isoformat()} (R-REC-4)."
    assert expected in _messages(response)
    assert Record.objects.filter(pk=signed_record.pk).exists()
    assert Reading.objects.filter(record=signed_record).count() == 9
    assert not AuditEvent.objects.filter(action="record.disposed").exists()


@pytest.mark.django_db
def test_dispose_after_keep_until_deletes_the_record_with_an_audit_event(head_client, head, old_record):
    _correct_first_reading(old_record)
    number = old_record.number
    response = head_client.post(
        reverse("certificates:record_dispose", args=[old_record.pk]), {"reason": "保存期满，碎纸销毁"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(LIST)
    assert f"Record {number} was disposed of." in _messages(response)
    assert not Record.objects.filter(number=number).exists()
    assert not Correction.objects.filter(record_id=old_record.pk).exists()
    event = AuditEvent.objects.get(action="record.disposed")
    assert event.actor == head and event.reason == "保存期满，碎纸销毁" and event.changes["number"] == [number, None]


@pytest.mark.django_db
def test_dispose_needs_a_reason(head_client, old_record):
    response = head_client.post(reverse("certificates:record_dispose", args=[old_record.pk]), {"reason": " "}, follow=True)
    assert "Say why and how the record is disposed of." in _messages(response)
    assert Record.objects.filter(pk=old_record.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["performer", "techlead", "qualitylead"])
def test_only_the_lab_head_disposes(role, client, settings, old_record, performer, make_user):
    user = performer if role == "performer" else make_user(
        Role.TECHNICAL_LEAD if role == "techlead" else Role.QUALITY_LEAD, username=f"{role}_x"
    )
    _english(client, user, settings)
    response = client.post(reverse("certificates:record_dispose", args=[old_record.pk]), {"reason": "销毁"}, follow=True)
    assert response.status_code == 200
    assert _messages(response)  # the reason is shown
    assert Record.objects.filter(pk=old_record.pk).exists()
    assert not AuditEvent.objects.filter(action="record.disposed").exists()


@pytest.mark.django_db
def test_dispose_is_post_only(head_client, old_record):
    assert head_client.get(reverse("certificates:record_dispose", args=[old_record.pk])).status_code == 405
    assert Record.objects.filter(pk=old_record.pk).exists()


@pytest.mark.django_db
def test_dispose_form_is_offered_to_the_lab_head_for_records_past_retention_only(
    head_client, old_record, signed_record
):
    html = head_client.get(reverse(LIST)).content.decode()
    assert html.count('data-testid="record-dispose-form"') == 1
    assert reverse("certificates:record_dispose", args=[old_record.pk]) in html
    assert reverse("certificates:record_dispose", args=[signed_record.pk]) not in html
    past = head_client.get(reverse(LIST), {"past_retention": "on"})
    assert _numbers(past) == [old_record.number]
    head_client.force_login(old_record.performer)
    html = head_client.get(reverse(LIST)).content.decode()
    assert old_record.number in html and 'data-testid="record-dispose-form"' not in html


# --- admin: read-only for everyone --------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(Role.LAB_HEAD, username="head_admin", is_staff=True, is_superuser=True))
    return client


@pytest.mark.django_db
def test_admin_lists_every_records_model_without_add_or_delete(admin_client, signed_record):
    correction = _correct_first_reading(signed_record)
    objects = {
        "method": signed_record.method, "recordtemplate": signed_record.template, "task": signed_record.task,
        "record": signed_record, "correction": correction,
    }
    for model, obj in objects.items():
        changelist = admin_client.get(reverse(f"admin:certificates_{model}_changelist"))
        assert changelist.status_code == 200, model
        assert reverse(f"admin:certificates_{model}_add") not in changelist.content.decode(), model
        assert admin_client.get(reverse(f"admin:certificates_{model}_add")).status_code == 403, model
        assert admin_client.get(reverse(f"admin:certificates_{model}_delete", args=[obj.pk])).status_code == 403, model
        assert admin_client.post(reverse(f"admin:certificates_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403


@pytest.mark.django_db
def test_admin_change_forms_are_read_only(admin_client, signed_record):
    correction = _correct_first_reading(signed_record)
    url = reverse("admin:certificates_record_change", args=[signed_record.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html and 'name="place"' not in html
    assert "抄写错误" in html and "BZ-T1" in html  # the inlines show corrections and equipment
    assert 'name="readings-0-entered_text"' not in html and 'name="corrections-0-new_value"' not in html
    admin_client.post(url, {"place": "改过的地点", "conclusion": "fail"})
    signed_record.refresh_from_db()
    assert signed_record.place != "改过的地点" and signed_record.conclusion == "pass"

    url = reverse("admin:certificates_correction_change", args=[correction.pk])
    html = admin_client.get(url).content.decode()
    assert 'name="_save"' not in html and 'name="new_value"' not in html
    admin_client.post(url, {"new_value": "999", "reason": "x"})
    correction.refresh_from_db()
    assert correction.new_value == "102"

    url = reverse("admin:certificates_recordtemplate_change", args=[signed_record.template.pk])
    html = admin_client.get(url).content.decode()
    assert 'name="_save"' not in html and 'name="points-0-nominal"' not in html and "mmHg" in html


@pytest.mark.django_db
def test_admin_is_for_the_lab_head_only(client, make_user, record):
    lead = make_user(Role.TECHNICAL_LEAD, username="lead_admin", is_staff=True, is_superuser=True)
    client.force_login(lead)
    response = client.get(reverse("admin:certificates_record_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]
