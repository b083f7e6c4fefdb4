"""The original record's pages: entry (one tablet page, a form per section), the read
view, signatures, the checker's check or return, and corrections (R-TST-1, R-TST-2,
R-REC-1..3, R-REC-5, R-ONS-3, R-CRT-2, R-EQP-10)."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.models import Correction, Phase, Reading, RecordEquipment, RecordStatus
from certificates.services import methods as method_services
from certificates.services import records as record_services
from certificates.services import tasks as task_services
from intake.models import SampleStatus
from intake.services import samples as sample_services
from tests.certificates.conftest import BP_DATA, PASSWORD
from tests.intake.conftest import line

D = Decimal


@pytest.fixture
def login(client, settings):
    """Log ``user`` in with the English UI, so that messages can be asserted."""

    def do(user):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return do


def url(name, record, *args):
    return reverse(f"certificates:{name}", args=[record.pk, *args])


def slots(record, phase=Phase.AS_FOUND):
    """Every slot key of ``record`` in table order."""
    return [
        record_services.slot_key(point.pk, phase, repeat)
        for point in record.template.points.all()
        for repeat in range(1, record.template.repeats + 1)
    ]


def typed_value(content: str, key: str) -> str | None:
    match = re.search(rf'name="{re.escape(key)}"[^>]*value="([^"]*)"', content)
    return match.group(1) if match else None


# --- entry page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_entry_page_is_one_tablet_page_with_every_section(login, record, performer):
    """R-ONS-3: large inputs, the decimal keypad, a section bar; no inline script (CSP)."""
    response = login(performer).get(url("record_entry", record))
    assert response.status_code == 200
    content = response.content.decode()
    for section in ("environment", "equipment", "readings", "inspections", "conclusion", "sign"):
        assert f'data-testid="section-{section}"' in content
    assert 'data-testid="section-nav"' in content and "sticky-top" in content
    assert content.count('data-testid="reading-input"') == 9  # 3 points × 3 readings
    assert 'inputmode="decimal"' in content
    assert "certificates/record_entry.js" in content
    assert "<script>" not in content and 'style="' not in content
    assert record.number in content and "JJG 692-2010" in content


@pytest.mark.django_db
def test_entry_redirects_anyone_but_the_performer_to_the_read_view(login, record, checker):
    response = login(checker).get(url("record_entry", record))
    assert response.status_code == 302 and response.url == url("record_detail", record)


@pytest.mark.django_db
def test_environment_out_of_limits_shows_stop_work_and_readings_are_refused(login, record, performer):
    """R-TST-2: the values are stored, the page says stop work, readings are refused."""
    client = login(performer)
    response = client.post(url("record_environment", record), {"temperature": "30", "humidity": "50"}, follow=True)
    content = response.content.decode()
    assert 'data-testid="stop-work"' in content
    assert "Conditions out of limits — stop work" in content
    assert "Temperature 30 ℃ is outside 15 – 25 ℃." in content
    record.refresh_from_db()
    assert record.temperature == D("30") and not record.environment_ok
    assert re.search(r'data-testid="readings-form">.*?<fieldset disabled>', content, re.S)

    entries = dict.fromkeys(slots(record), "101")
    response = client.post(url("record_readings", record), entries)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Conditions out of limits — stop work" in content
    assert typed_value(content, slots(record)[0]) == "101"  # kept although refused
    assert Reading.objects.filter(record=record).count() == 0


@pytest.mark.django_db
def test_environment_with_a_non_number_is_refused_on_the_field(login, record, performer):
    response = login(performer).post(url("record_environment", record), {"temperature": "warm", "humidity": "50"})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="warm"' in content and "Enter a number." in content
    record.refresh_from_db()
    assert record.temperature == D("21.5")


@pytest.mark.django_db
def test_other_conditions_of_the_template_are_asked_with_their_limits(
    login, method, method_lead, received_sample, performer, checker,
):
    """R-TST-2: every condition the method names, with its limits; out of limits stops work."""
    data = dict(BP_DATA, other_conditions=[{"name": "电源电压", "unit": "V", "min": "198", "max": "242"}])
    points = [{"label": "", "nominal": D("100"), "tolerance_kind": "absolute", "tolerance": D("3"), "default_uncertainty": None}]
    template = method_services.save_template(actor=method_lead, method=method, data=data, points=points)
    method_services.approve_template(actor=method_lead, template=template)
    task = task_services.assign_task(actor=method_lead, sample=received_sample, method=method, performer=performer, checker=checker)
    record = task_services.start_task(actor=performer, task=task)
    client = login(performer)
    content = client.get(url("record_entry", record)).content.decode()
    assert "电源电压 (V)" in content and "limits: 198 – 242 V" in content
    response = client.post(url("record_environment", record), {"temperature": "21", "humidity": "50", "other_0": "250"}, follow=True)
    content = response.content.decode()
    assert 'data-testid="stop-work"' in content and "电源电压 250 V is outside 198 – 242 V." in content
    record.refresh_from_db()
    assert record.other_conditions == {"电源电压": "250"} and not record.environment_ok


@pytest.mark.django_db
def test_gate_refusal_for_overdue_equipment_shows_why_and_since_when(login, record, performer, make_equipment):
    """R-EQP-10: the gate's reason is the field's error; nothing is added."""
    overdue = make_equipment("BZ-OLD", months_ago=14, interval=12)
    response = login(performer).post(url("record_equipment_add", record), {"equipment": overdue.pk})
    assert response.status_code == 200
    content = response.content.decode()
    due = overdue.calibration_due.isoformat()
    assert f"was due for calibration on {due}: overdue on {record.measured_on.isoformat()}" in content
    assert re.search(r'id="id_equipment_error"', content)  # on the field, not a page message only
    assert RecordEquipment.objects.filter(record=record).count() == 1


@pytest.mark.django_db
def test_equipment_is_added_with_its_snapshot_and_removed_before_signing(login, record, performer, make_equipment):
    other = make_equipment("BZ-T2")
    client = login(performer)
    response = client.post(url("record_equipment_add", record), {"equipment": other.pk}, follow=True)
    content = response.content.decode()
    assert "BZ-T2" in content and "C-BZ-T2" in content  # lab id and certificate from the snapshot
    entry = RecordEquipment.objects.get(record=record, equipment=other)
    client.post(url("record_equipment_remove", record, entry.pk))
    assert not RecordEquipment.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_readings_with_one_bad_cell_keep_every_typed_value_and_save_nothing(login, record, performer):
    """R-REC-2: all or nothing, and nothing typed is lost."""
    keys = slots(record)
    typed = {key: str(100 + i) for i, key in enumerate(keys)}
    typed[keys[4]] = "1O2"  # a letter O
    response = login(performer).post(url("record_readings", record), typed)
    assert response.status_code == 200
    content = response.content.decode()
    for key, text in typed.items():
        assert typed_value(content, key) == text
    assert "“1O2” is not a number." in content
    assert content.count('data-testid="reading-error"') == 1
    assert Reading.objects.filter(record=record).count() == 0


@pytest.mark.django_db
def test_reading_out_of_range_is_refused_on_its_cell(login, record, performer):
    keys = slots(record)
    typed = dict.fromkeys(keys, "101") | {keys[0]: "350"}
    content = login(performer).post(url("record_readings", record), typed).content.decode()
    assert "350 is outside the measuring range 0 – 300." in content
    assert Reading.objects.filter(record=record).count() == 0


@pytest.mark.django_db
def test_finer_than_resolution_reading_is_saved_with_a_warning(login, record, performer):
    """R-REC-5: more digits than the resolution is a warning, not a refusal."""
    keys = slots(record)
    typed = {key: "101" for key in keys} | {keys[0]: "101.5"}
    client = login(performer)
    response = client.post(url("record_readings", record), typed)
    assert response.status_code == 302
    reading = Reading.objects.get(record=record, entered_text="101.5")
    assert reading.value == D("101.5") and reading.entered_at is not None
    content = client.get(response.url).content.decode()
    assert "101.5 has more digits than the resolution 1" in content  # the message after saving
    assert "More digits than the resolution 1; kept as typed" in content  # the note on the cell
    assert content.count('data-testid="reading-warning"') == 1
    assert 'data-testid="reading-time"' in content
    # The server's results: mean of 101.5, 101, 101 = 101.17 → 101 at resolution 1.
    assert re.search(r'data-testid="result-mean">101<', content)
    assert "Conforms" in content


@pytest.mark.django_db
def test_inspection_not_met_needs_a_finding(login, record, performer):
    response = login(performer).post(url("record_inspections", record), {"inspection-1": "no", "note-1": "", "inspection-2": "yes"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Say what was found for “外观”." in content
    assert re.search(r'value="no"[^>]*checked', content)  # the choice made is kept
    assert not record.inspections.filter(ok__isnull=False).exists()


@pytest.mark.django_db
def test_conclusion_with_adjustment_adds_the_after_adjustment_table(login, record, performer):
    """R-CRT-2: an adjusted instrument has readings before and after adjustment."""
    client = login(performer)
    client.post(url("record_conclusion", record), {"adjusted": "on", "adjustment_notes": "零位调整", "conclusion": "pass"})
    record.refresh_from_db()
    assert record.adjusted and record.conclusion == "pass"
    content = client.get(url("record_entry", record)).content.decode()
    assert "Before adjustment" in content and "After adjustment" in content
    assert content.count('data-testid="reading-input"') == 18


@pytest.mark.django_db
def test_sign_with_a_wrong_password_is_refused_and_nothing_locks(login, record, performer, fill):
    fill(record)
    response = login(performer).post(url("record_sign", record), {"sign-password": "not-it"})
    assert response.status_code == 200
    assert "The password is not correct; nothing was signed." in response.content.decode()
    record.refresh_from_db()
    assert record.status == RecordStatus.DRAFT and not record.is_locked


@pytest.mark.django_db
def test_sign_lists_what_is_missing(login, record, performer):
    response = login(performer).post(url("record_sign", record), {"sign-password": PASSWORD})
    assert response.status_code == 200
    content = response.content.decode()
    assert "0 of 3 readings entered" in content and "No conclusion." in content
    record.refresh_from_db()
    assert record.status == RecordStatus.DRAFT


@pytest.mark.django_db
def test_sign_locks_the_record_and_the_entry_page_sends_to_the_read_view(login, record, performer, fill):
    """R-TST-1, R-REC-3: after the signature the entry page is closed."""
    fill(record)
    client = login(performer)
    response = client.post(url("record_sign", record), {"sign-password": PASSWORD})
    assert response.status_code == 302 and response.url == url("record_detail", record)
    record.refresh_from_db()
    assert record.status == RecordStatus.SIGNED and record.is_locked
    response = client.get(url("record_entry", record))
    assert response.status_code == 302 and response.url == url("record_detail", record)
    response = client.post(url("record_readings", record), dict.fromkeys(slots(record), "150"))
    assert response.status_code == 302
    assert not Reading.objects.filter(record=record, entered_text="150").exists()


@pytest.fixture
def cal_record(make_order, categories, clerk, location, cal_method, cal_template, method_lead, performer, checker, bp_equipment):
    """A started calibration record (infusion pump, 25 and 100 mL/h; U of 25 mL/h from the budget)."""
    order = make_order([line(categories["pump"], "PUMP-1")])
    sample = sample_services.receive_sample(actor=clerk, sample=order.samples.get(), location=location)
    task = task_services.assign_task(actor=method_lead, sample=sample, method=cal_method, performer=performer, checker=checker)
    record = task_services.start_task(actor=performer, task=task)
    record_services.save_environment(actor=performer, record=record, temperature="21", humidity="50")
    record_services.add_equipment(actor=performer, record=record, equipment=bp_equipment)
    record.refresh_from_db()
    return record


@pytest.mark.django_db
def test_calibration_uncertainty_is_prefilled_from_the_budget_and_refusals_keep_the_input(login, cal_record, performer):
    """R-CRT-3: U and k per point, prefilled from the template's budget."""
    points = list(cal_record.template.points.all())
    keys = [record_services.uncertainty_key(p.pk, Phase.AS_FOUND) for p in points]
    client = login(performer)
    content = client.get(url("record_entry", cal_record)).content.decode()
    assert 'data-testid="section-uncertainty"' in content
    assert typed_value(content, f"{keys[0]}-U") == "0.3" and typed_value(content, f"{keys[0]}-k") == "2"
    assert typed_value(content, f"{keys[1]}-U") == ""
    assert 'value="calibrated"' in content and 'value="pass"' not in content  # the service's conclusions

    response = client.post(url("record_uncertainty", cal_record), {f"{keys[0]}-U": "0.3", f"{keys[0]}-k": "2", f"{keys[1]}-U": "zero", f"{keys[1]}-k": "2"})
    assert response.status_code == 200
    content = response.content.decode()
    assert typed_value(content, f"{keys[1]}-U") == "zero" and "“zero” is not a number." in content
    assert not cal_record.uncertainties.filter(point=points[1]).exists()

    response = client.post(url("record_uncertainty", cal_record), {f"{keys[0]}-U": "0.3", f"{keys[0]}-k": "2", f"{keys[1]}-U": "1.2", f"{keys[1]}-k": "2"})
    assert response.status_code == 302
    assert cal_record.uncertainties.get(point=points[1]).expanded_uncertainty == D("1.2")


# --- check, return ----------------------------------------------------------------------


@pytest.mark.django_db
def test_checker_sees_the_check_forms_and_checking_marks_the_sample_tested(login, signed_record, checker):
    """R-TST-1: a different person checks; the sample becomes tested."""
    client = login(checker)
    content = client.get(url("record_detail", signed_record)).content.decode()
    assert 'data-testid="check-form"' in content and 'data-testid="return-form"' in content
    response = client.post(url("record_check", signed_record), {"check-password": PASSWORD})
    assert response.status_code == 302
    signed_record.refresh_from_db()
    signed_record.sample.refresh_from_db()
    assert signed_record.status == RecordStatus.CHECKED and signed_record.checker == checker
    assert signed_record.sample.status == SampleStatus.TESTED
    content = client.get(url("record_detail", signed_record)).content.decode()
    assert 'data-testid="check-form"' not in content
    assert re.search(r'data-testid="checker-signature">核验员乙 · checked', content)


@pytest.mark.django_db
def test_checker_with_a_wrong_password_is_refused_on_the_form(login, signed_record, checker):
    response = login(checker).post(url("record_check", signed_record), {"check-password": "nope"})
    assert response.status_code == 200
    assert "The password is not correct; nothing was signed." in response.content.decode()
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.SIGNED


@pytest.mark.django_db
def test_performer_checking_their_own_record_is_refused(login, signed_record, performer):
    """R-TST-1: self-checking is refused by the service, whatever the page shows."""
    client = login(performer)
    assert 'data-testid="check-form"' not in client.get(url("record_detail", signed_record)).content.decode()
    response = client.post(url("record_check", signed_record), {"check-password": PASSWORD}, follow=True)
    assert "You performed this work; a different person must check it (R-TST-1)." in response.content.decode()
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.SIGNED and signed_record.checker is None


@pytest.mark.django_db
def test_return_with_comments_shows_them_to_the_performer_who_signs_again(login, signed_record, checker, performer):
    comments = "150 mmHg: the second reading looks transposed."
    response = login(checker).post(url("record_return", signed_record), {"return-comments": comments})
    assert response.status_code == 302
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.RETURNED

    client = login(performer)
    content = client.get(url("record_detail", signed_record)).content.decode()
    assert re.search(r'data-testid="return-comments">.*150 mmHg: the second reading looks transposed\.', content, re.S)
    assert 'data-testid="sign-again"' in content and 'data-testid="correct-link"' in content
    response = client.post(url("record_sign", signed_record), {"sign-password": PASSWORD})
    assert response.status_code == 302
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.SIGNED


@pytest.mark.django_db
def test_return_without_comments_is_refused(login, signed_record, checker):
    response = login(checker).post(url("record_return", signed_record), {"return-comments": " "})
    assert response.status_code == 200
    assert "Say what needs correcting." in response.content.decode()
    signed_record.refresh_from_db()
    assert signed_record.status == RecordStatus.SIGNED


# --- corrections ------------------------------------------------------------------------


@pytest.mark.django_db
def test_correction_shows_the_old_value_struck_through_beside_the_new(login, signed_record, performer):
    """R-REC-3: the old value stays visible inside <del>, with who, when and why."""
    reading = signed_record.readings.order_by("id").first()
    field = f"reading:{reading.pk}"
    client = login(performer)
    page = client.get(url("record_correct", signed_record), {"field": field})
    assert page.status_code == 200
    assert re.search(r'data-testid="correct-current">.*?data-testid="current-value">101<', page.content.decode(), re.S)

    response = client.post(url("record_correct", signed_record), {"field": field, "new_value": "102", "reason": "transcription error"})
    assert response.status_code == 302
    assert response.url == url("record_detail", signed_record) + "#corrections"
    content = client.get(url("record_detail", signed_record)).content.decode()
    cell = re.search(rf'data-field="{field}">(.*?)</span></span>', content, re.S).group(1)
    assert re.search(r"<del[^>]*>101</del>", cell)
    assert 'data-testid="current-value">102<' in cell
    assert "transcription error" in content and 'data-testid="correction-row"' in content
    reading.refresh_from_db()
    assert reading.value == D("101")  # the original row never changes


@pytest.mark.django_db
def test_correction_without_a_reason_is_refused_and_keeps_the_new_value(login, signed_record, performer):
    reading = signed_record.readings.order_by("id").first()
    field = f"reading:{reading.pk}"
    response = login(performer).post(url("record_correct", signed_record), {"field": field, "new_value": "102", "reason": ""})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Say why the value is corrected." in content and 'value="102"' in content
    assert not Correction.objects.exists()


@pytest.mark.django_db
def test_correction_of_a_draft_or_by_someone_else_is_not_offered(login, record, signed_record, checker):
    client = login(checker)
    response = client.get(url("record_correct", signed_record), {"field": "conclusion"})
    assert response.status_code == 302 and response.url == url("record_detail", signed_record)
    assert 'data-testid="correct-link"' not in client.get(url("record_detail", signed_record)).content.decode()


@pytest.mark.django_db
def test_correction_of_an_unknown_value_is_404(login, signed_record, performer):
    response = login(performer).get(url("record_correct", signed_record), {"field": "reading:999999"})
    assert response.status_code == 404


@pytest.mark.django_db
def test_inspection_correction_offers_the_choice_and_shows_labels(login, signed_record, performer):
    inspection = signed_record.inspections.get(position=1)
    client = login(performer)
    client.post(url("record_correct", signed_record), {"field": f"inspection:{inspection.pk}", "new_value": "no", "reason": "scratch seen later"})
    content = client.get(url("record_detail", signed_record)).content.decode()
    assert re.search(r"<del[^>]*>Meets</del>", content)
    assert "Does not meet" in content


# --- who may see ------------------------------------------------------------------------

RECORD_URLS = [
    "record_detail", "record_entry", "record_environment", "record_equipment_add", "record_readings",
    "record_uncertainty", "record_inspections", "record_conclusion", "record_sign", "record_check",
    "record_return", "record_correct",
]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["counter", "portal_user"])
@pytest.mark.parametrize("name", RECORD_URLS)
def test_counter_staff_and_customers_get_404(request, login, record, name, who):
    """R-REC-4: records are confidential; outsiders learn nothing, not even that it exists."""
    client = login(request.getfixturevalue(who))
    assert client.post(url(name, record)).status_code == 404
    if name in ("record_detail", "record_entry", "record_correct"):
        assert client.get(url(name, record)).status_code == 404


@pytest.mark.django_db
def test_equipment_remove_is_404_for_outsiders_and_anonymous_must_sign_in(client, login, record, counter):
    entry = record.equipment_used.get()
    assert client.get(url("record_detail", record)).status_code == 302  # to the login page
    assert login(counter).post(url("record_equipment_remove", record, entry.pk)).status_code == 404
    assert RecordEquipment.objects.filter(pk=entry.pk).exists()


# --- read view --------------------------------------------------------------------------


@pytest.mark.django_db
def test_read_view_shows_the_whole_record(login, signed_record, checker):
    """R-REC-1: header, equipment snapshot, environment, readings with results,
    inspections, conclusion, signatures, audit trail and the PDF link."""
    content = login(checker).get(url("record_detail", signed_record)).content.decode()
    assert signed_record.number in content and "BZ-T1" in content and "C-BZ-T1" in content
    assert "21.5" in content and "15 – 25 ℃" in content
    assert content.count('data-testid="reading-row"') == 3
    assert "外观" in content and "Pass" in content
    assert re.search(r'data-testid="performer-signature">检定员甲 · signed', content)
    assert url("record_pdf", signed_record) in content
    assert 'data-testid="audit-row"' in content


def _record_with(points: int, serial: str, *, method, method_lead, make_order, categories, clerk, location,
                 performer, checker, bp_equipment, fill, signed=True):
    nominal = [D(20 * (i + 1)) for i in range(points)]
    template = method_services.save_template(
        actor=method_lead, method=method, data=dict(BP_DATA),
        points=[{"label": "", "nominal": n, "tolerance_kind": "absolute", "tolerance": D("3"), "default_uncertainty": None} for n in nominal],
    )
    method_services.approve_template(actor=method_lead, template=template)
    order = make_order([line(categories["bp"], serial)])
    sample = sample_services.receive_sample(actor=clerk, sample=order.samples.get(), location=location)
    task = task_services.assign_task(actor=method_lead, sample=sample, method=method, performer=performer, checker=checker)
    record = task_services.start_task(actor=performer, task=task)
    record_services.save_environment(actor=performer, record=record, temperature="21", humidity="50")
    record_services.add_equipment(actor=performer, record=record, equipment=bp_equipment)
    record.refresh_from_db()
    fill(record)
    if signed:
        record_services.sign_record(actor=performer, record=record, password=PASSWORD)
        reading = record.readings.order_by("id").first()
        record_services.correct_value(actor=performer, record=record, field=f"reading:{reading.pk}", new_value="22", reason="typo")
    return record


@pytest.mark.django_db
def test_read_view_queries_do_not_grow_with_the_readings(
    login, method, method_lead, make_order, categories, clerk, location, performer, checker, bp_equipment, fill,
):
    kwargs = dict(method=method, method_lead=method_lead, make_order=make_order, categories=categories, clerk=clerk,
                  location=location, performer=performer, checker=checker, bp_equipment=bp_equipment, fill=fill)
    few = _record_with(3, "BP-Q3", **kwargs)
    many = _record_with(10, "BP-Q10", **kwargs)
    client = login(performer)
    client.get(url("record_detail", few))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("record_detail", few)).status_code == 200
    with CaptureQueriesContext(connection) as large:
        response = client.get(url("record_detail", many))
    assert response.content.decode().count('data-testid="reading-row"') == 10
    assert len(large) == len(small), (len(small), len(large))


@pytest.mark.django_db
def test_entry_page_queries_do_not_grow_with_the_readings(
    login, method, method_lead, make_order, categories, clerk, location, performer, checker, bp_equipment, fill,
):
    kwargs = dict(method=method, method_lead=method_lead, make_order=make_order, categories=categories, clerk=clerk,
                  location=location, performer=performer, checker=checker, bp_equipment=bp_equipment, fill=fill)
    few = _record_with(3, "BP-E3", signed=False, **kwargs)
    many = _record_with(10, "BP-E10", signed=False, **kwargs)
    client = login(performer)
    client.get(url("record_entry", few))
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("record_entry", few)).status_code == 200
    with CaptureQueriesContext(connection) as large:
        response = client.get(url("record_entry", many))
    assert response.content.decode().count('data-testid="reading-input"') == 30
    assert len(large) == len(small), (len(small), len(large))


@pytest.mark.django_db
def test_the_checker_sees_why_a_corrected_record_cannot_be_checked(login, signed_record, performer, checker):
    """A correction that makes a point fail while the conclusion still says pass is shown
    on the record page, before the checker tries to sign (R-REC-3, R-TST-1)."""
    reading = signed_record.readings.order_by("point__position", "repeat").first()
    record_services.correct_value(actor=performer, record=signed_record, field=f"reading:{reading.pk}", new_value="110", reason="复测")
    text = login(checker).get(url("record_detail", signed_record)).content.decode()
    assert 'data-testid="record-problems"' in text
    assert "The conclusion says pass, but a point or an inspection item does not meet the requirements." in text
    assert "A point or an inspection item does not meet the requirements." in text
