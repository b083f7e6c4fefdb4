"""Monitoring pages: status labels (R-EQP-5), the due / overdue page (R-EQP-10 and the
daily job's view) and impact analysis with the technical lead's decisions (R-EQP-4,
R-EQP-7).  The lab's boundary rule: equipment is usable ON its due date and overdue from
the day after."""

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from equipment.models import (
    CalibrationResult,
    CheckPlan,
    CriterionKind,
    Equipment,
    EquipmentKind,
    EquipmentStatus,
    EquipmentUse,
    ImpactAnalysis,
    ImpactDecision,
    ImpactItem,
    ImpactStatus,
    ImpactTrigger,
    MeasurementStandard,
    StopReason,
)
from equipment.services import calibration, checks, status
from equipment.views.monitoring import label_context
from labqms.pdf import render_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture(autouse=True)
def _window(settings):
    settings.EQUIPMENT_DUE_SOON_DAYS = 30


def _pdf_text(content: bytes) -> str | None:
    if not shutil.which("pdftotext"):
        return None
    return subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def _label_html(equipment_list) -> str:
    request = RequestFactory().get("/")
    with translation.override("en"):
        return render_to_string("pdf/equipment/labels.html", label_context(request, equipment_list))


def _bulk_equipment(prefix: str, n: int, due: dt.date, custodian) -> list[Equipment]:
    """Many items at once for the query-count tests (the register services are not under test)."""
    return Equipment.objects.bulk_create(
        Equipment(
            lab_id=f"{prefix}-{i:03d}",
            name=f"设备 {prefix}-{i}",
            kind=EquipmentKind.TEST,
            custodian=custodian,
            calibration_interval_months=12,
            last_calibrated_on=due - relativedelta(months=12),
            calibration_due=due,
            last_certificate_no=f"C-{prefix}-{i}",
        )
        for i in range(n)
    )


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- labels (R-EQP-5) ---------------------------------------------------------------


def test_label_pdf_of_one_item_shows_lab_id_dates_and_qr_R_EQP_5(client, lead, make_equipment):
    equipment = make_equipment("EQ-LBL-1", months_ago=3)
    client.force_login(lead)
    response = client.get(reverse("equipment:label_pdf", args=[equipment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    if text is not None:
        assert "EQ-LBL-1" in text
        assert equipment.calibration_due.isoformat() in text
        assert equipment.last_calibrated_on.isoformat() in text
    html = _label_html([equipment])
    assert "<svg" in html  # the QR code
    assert "EQ-LBL-1" in html and equipment.calibration_due.isoformat() in html


def test_label_qr_encodes_the_absolute_equipment_url_R_EQP_5(make_equipment, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "lab.example.cn"]
    equipment = make_equipment("EQ-QR")
    request = RequestFactory().get("/", HTTP_HOST="lab.example.cn")
    label = label_context(request, [equipment])["labels"][0]
    assert label["url"] == f"http://lab.example.cn/equipment/{equipment.pk}/"
    assert label["qr"].startswith("<svg")


def test_labels_batch_by_ids_and_all_not_retired_one_per_page_R_EQP_5(client, lead, make_equipment):
    a = make_equipment("EQ-B1")
    b = make_equipment("EQ-B2", months_ago=6)
    c = make_equipment("EQ-B3")
    retired = make_equipment("EQ-B9")
    status.change_status(actor=lead, equipment=retired, status=EquipmentStatus.RETIRED)
    client.force_login(lead)

    response = client.get(reverse("equipment:labels_pdf"), {"ids": f"{a.pk},{b.pk}"})
    assert response.status_code == 200
    text = _pdf_text(response.content)
    if text is not None:
        assert "EQ-B1" in text and "EQ-B2" in text and "EQ-B3" not in text
        assert b.calibration_due.isoformat() in text

    response = client.get(reverse("equipment:labels_pdf"))
    assert response.status_code == 200
    text = _pdf_text(response.content)
    if text is not None:
        assert all(lab_id in text for lab_id in ("EQ-B1", "EQ-B2", "EQ-B3"))
        assert "EQ-B9" not in text  # retired equipment gets no label in the batch
    assert len(render_document(_label_html([a, b, c])).pages) == 3  # one label per page

    assert client.get(reverse("equipment:labels_pdf"), {"ids": "999999,abc"}).status_code == 404


def test_label_colour_and_word_follow_the_status_R_EQP_5(lead, make_equipment):
    green = make_equipment("EQ-GREEN")
    yellow = status.change_status(
        actor=lead,
        equipment=make_equipment("EQ-YELLOW"),
        status=EquipmentStatus.RESTRICTED,
        note="仅限 0–100 mmHg",
    )
    red = status.change_status(
        actor=lead,
        equipment=make_equipment("EQ-RED"),
        status=EquipmentStatus.OUT_OF_SERVICE,
        reason=StopReason.DEFECTIVE,
        note="显示故障",
    )
    labels = {
        label["equipment"].lab_id: label
        for label in label_context(RequestFactory().get("/"), [green, yellow, red])["labels"]
    }
    assert [labels[k]["colour"] for k in ("EQ-GREEN", "EQ-YELLOW", "EQ-RED")] == [
        "green",
        "yellow",
        "red",
    ]
    html = _label_html([green, yellow, red])
    assert 'class="label label-green" data-colour="green" data-lab-id="EQ-GREEN"' in html
    assert 'class="label label-yellow" data-colour="yellow" data-lab-id="EQ-YELLOW"' in html
    assert 'class="label label-red" data-colour="red" data-lab-id="EQ-RED"' in html
    blocks = {
        lab_id: html.split(f'data-lab-id="{lab_id}"', 1)[1].split('class="label ', 1)[0]
        for lab_id in labels
    }
    assert '<span class="word">In service</span>' in blocks["EQ-GREEN"]
    assert '<span class="word">Restricted</span>' in blocks["EQ-YELLOW"]
    assert "仅限 0–100 mmHg" in blocks["EQ-YELLOW"]  # the limitation of restricted use
    assert '<span class="word">Out of service</span>' in blocks["EQ-RED"]


def test_label_of_equipment_needing_no_calibration_says_so_R_EQP_5(client, lead, make_equipment):
    auxiliary = make_equipment(
        "EQ-AUX", months_ago=None, interval=None, kind=EquipmentKind.AUXILIARY
    )
    html = _label_html([auxiliary])
    assert "No calibration needed" in html and "Next due" not in html
    client.force_login(lead)
    assert client.get(reverse("equipment:label_pdf", args=[auxiliary.pk])).status_code == 200


def test_labels_batch_query_count_does_not_grow_R_EQP_5(client, lead, operator, today):
    client.force_login(lead)
    few = _bulk_equipment("FEW", 3, today + dt.timedelta(days=100), operator)
    many = _bulk_equipment("MANY", 20, today + dt.timedelta(days=100), operator)
    url = reverse("equipment:labels_pdf")
    n_few = _count_queries(client, f"{url}?ids={','.join(str(e.pk) for e in few)}")
    n_many = _count_queries(client, f"{url}?ids={','.join(str(e.pk) for e in many)}")
    assert n_few == n_many


# --- due / overdue ------------------------------------------------------------------


def test_due_list_shows_overdue_and_due_soon_but_not_fresh_R_EQP_10(
    client, qualitylead, make_equipment, today
):
    make_equipment("EQ-OLD", months_ago=13)  # due a month ago
    make_equipment(
        "EQ-SOON", calibrated_on=today - relativedelta(months=11) - dt.timedelta(days=15)
    )  # ≈ 2 weeks left
    make_equipment("EQ-FRESH", months_ago=1)
    client.force_login(qualitylead)
    response = client.get(reverse("equipment:due_list"))
    assert response.status_code == 200
    overdue = [e.lab_id for e in response.context["overdue"]]
    soon = [e.lab_id for e in response.context["due_soon"]]
    assert overdue == ["EQ-OLD"]
    assert soon == ["EQ-SOON"]
    html = response.content.decode()
    assert 'data-testid="overdue-row" data-lab-id="EQ-OLD"' in html
    assert 'data-testid="due-soon-row" data-lab-id="EQ-SOON"' in html
    assert "EQ-FRESH" not in html



def test_due_list_shows_the_most_urgent_rows_and_the_totals_R_EQP_10(
    client, qualitylead, make_equipment, today, monkeypatch
):
    """A big register: each section shows its most urgent rows, the badge the total, and
    the Excel export every row (bounded page time at 100 k equipment items)."""
    from equipment.views import monitoring

    monkeypatch.setattr(monitoring, "DUE_SECTION_ROWS", 2)
    for n, months in enumerate((13, 14, 15)):
        make_equipment(f"EQ-OLD{n}", months_ago=months)
    client.force_login(qualitylead)
    response = client.get(reverse("equipment:due_list"))
    assert [e.lab_id for e in response.context["overdue"]] == ["EQ-OLD2", "EQ-OLD1"]  # most overdue first
    html = response.content.decode()
    assert 'data-testid="overdue-count">3<' in html
    assert 'data-testid="overdue-more"' in html and 'data-testid="due-soon-more"' not in html
    assert "EQ-OLD0" not in html
    export = client.get(reverse("equipment:due_list"), {"format": "xlsx"})
    import io

    from openpyxl import load_workbook

    cells = [str(c.value) for row in load_workbook(io.BytesIO(export.content)).active.iter_rows() for c in row]
    assert {"EQ-OLD0", "EQ-OLD1", "EQ-OLD2"} <= set(cells)

def test_due_list_boundary_due_today_is_due_soon_yesterday_overdue_R_EQP_10(
    client, lead, operator, make_equipment, today
):
    # The provider states the due dates (independent of month lengths, e.g. on 29 February).
    year_ago = today - dt.timedelta(days=365)
    for lab_id, due in (("EQ-TODAY", today), ("EQ-YDAY", today - dt.timedelta(days=1))):
        equipment = make_equipment(lab_id, months_ago=None)
        calibration.record_calibration(
            actor=operator,
            equipment=equipment,
            provider="省计量院",
            certificate_no=f"C-{lab_id}",
            calibrated_on=year_ago,
            result=CalibrationResult.PASS,
            next_due=due,
        )
        equipment.refresh_from_db()
        assert equipment.calibration_due == due
    client.force_login(lead)
    response = client.get(reverse("equipment:due_list"))
    assert [e.lab_id for e in response.context["overdue"]] == ["EQ-YDAY"]
    assert [e.lab_id for e in response.context["due_soon"]] == ["EQ-TODAY"]
    assert response.context["overdue"][0].days_overdue == 1


def test_due_list_window_parameter_is_bounded(client, lead, make_equipment, today):
    make_equipment(
        "EQ-SOON", calibrated_on=today - relativedelta(months=11) - dt.timedelta(days=15)
    )
    client.force_login(lead)
    url = reverse("equipment:due_list")
    assert client.get(url, {"days": "5"}).context["due_soon"] == []
    assert client.get(url, {"days": "5"}).context["days"] == 5
    assert client.get(url, {"days": "9999"}).context["days"] == 365
    assert client.get(url, {"days": "0"}).context["days"] == 1
    assert client.get(url, {"days": "abc"}).context["days"] == 30
    assert [e.lab_id for e in client.get(url, {"days": "60"}).context["due_soon"]] == ["EQ-SOON"]


def test_due_list_excludes_retired_and_lists_standards_and_overdue_checks_R_EQP_7_R_EQP_10(
    client, lead, make_equipment, today
):
    retired = make_equipment("EQ-RET", months_ago=14)
    status.change_status(actor=lead, equipment=retired, status=EquipmentStatus.RETIRED)
    member = make_equipment("EQ-STD", months_ago=2)
    expiring = MeasurementStandard.objects.create(
        name="血压计检定装置",
        certificate_no="[2021]国量标证字第 0001 号",
        valid_from=today - relativedelta(years=4),
        valid_until=today + dt.timedelta(days=10),
    )
    expiring.members.add(member)
    MeasurementStandard.objects.create(
        name="已过期装置",
        certificate_no="OLD-1",
        valid_from=today - relativedelta(years=5),
        valid_until=today - dt.timedelta(days=3),
    )
    MeasurementStandard.objects.create(
        name="有效装置",
        certificate_no="OK-1",
        valid_from=today - relativedelta(years=1),
        valid_until=today + relativedelta(years=2),
    )
    checked = make_equipment("EQ-CHK", months_ago=2)
    checks.save_check_plan(
        actor=lead,
        equipment=checked,
        interval_months=3,
        method="比对",
        criterion=CriterionKind.TOLERANCE,
        tolerance=Decimal("0.5"),
        unit="mmHg",
        first_due=today - dt.timedelta(days=5),
    )
    checks.save_check_plan(
        actor=lead,
        equipment=member,
        interval_months=3,
        method="比对",
        criterion=CriterionKind.TOLERANCE,
        tolerance=Decimal("0.5"),
        unit="mmHg",
        first_due=today + dt.timedelta(days=5),
    )
    client.force_login(lead)
    response = client.get(reverse("equipment:due_list"))
    assert "EQ-RET" not in response.content.decode()
    assert [s.certificate_no for s in response.context["standards"]] == [
        "OLD-1",
        "[2021]国量标证字第 0001 号",
    ]
    assert [p.equipment.lab_id for p in response.context["checks"]] == ["EQ-CHK"]
    assert response.context["checks"][0].days_overdue == 5


def test_due_list_query_count_does_not_grow(client, lead, operator, today):
    client.force_login(lead)
    url = reverse("equipment:due_list")

    def add(prefix, n):
        for k, due in enumerate((today - dt.timedelta(days=20), today + dt.timedelta(days=10))):
            items = _bulk_equipment(f"{prefix}{k}", n, due, operator)
            CheckPlan.objects.bulk_create(
                CheckPlan(
                    equipment=e,
                    interval_months=3,
                    method="m",
                    criterion=CriterionKind.EN,
                    next_due=today - dt.timedelta(days=1),
                )
                for e in items
            )
        for i in range(n):
            standard = MeasurementStandard.objects.create(
                name=f"{prefix} {i}",
                certificate_no=f"{prefix}-{i}",
                valid_from=today - relativedelta(years=4),
                valid_until=today + dt.timedelta(days=5),
            )
            standard.members.add(Equipment.objects.filter(lab_id__startswith=prefix).first())

    add("A", 3)
    n3 = _count_queries(client, url)
    add("B", 22)
    n25 = _count_queries(client, url)
    add("C", 75)
    n100 = _count_queries(client, url)
    assert n3 == n25 == n100


# --- impact analysis ----------------------------------------------------------------


def _use(equipment, on, label, user):
    return EquipmentUse.objects.create(
        equipment=equipment,
        used_on=on,
        used_by=user,
        record_type=ContentType.objects.get_for_model(equipment),
        record_id=str(equipment.pk),
        record_label=label,
        certificate_label=f"CERT-{label}",
        snapshot={
            "status": equipment.status,
            "calibration_due": str(equipment.calibration_due),
            "certificate_no": equipment.last_certificate_no,
        },
    )


def _tolerance_plan(lead, equipment):
    return checks.save_check_plan(
        actor=lead,
        equipment=equipment,
        interval_months=3,
        method="与参考血压计比对",
        criterion=CriterionKind.TOLERANCE,
        tolerance=Decimal("0.5"),
        unit="mmHg",
    )


@pytest.fixture
def failed(lead, operator, make_equipment, today):
    """EQ-IMP calibrated 6 months ago, used before/at/after that, failed a check 10 days ago."""
    equipment = make_equipment("EQ-IMP", months_ago=6)
    other = make_equipment("EQ-OTHER", months_ago=6)
    calibrated = equipment.last_calibrated_on
    fail_on = today - dt.timedelta(days=10)
    _use(equipment, calibrated - dt.timedelta(days=10), "R-BEFORE", operator)
    _use(equipment, calibrated, "R-AT-CALIBRATION", operator)
    _use(equipment, today - relativedelta(months=3), "R-MIDDLE", operator)
    _use(equipment, fail_on, "R-AT-FAILURE", operator)
    _use(equipment, fail_on + dt.timedelta(days=3), "R-AFTER", operator)
    _use(other, today - relativedelta(months=3), "R-OTHER-EQUIPMENT", operator)
    plan = _tolerance_plan(lead, equipment)
    checks.record_check(
        actor=operator, plan=plan, checked_on=fail_on, measured="101.2", reference="100.0"
    )
    return ImpactAnalysis.objects.get(equipment=equipment)


def test_impact_analysis_lists_exactly_the_right_items_R_EQP_7(client, lead, failed):
    """Uses from the last good calibration up to the failure date, both inclusive; not
    before, not after, not other equipment."""
    assert failed.trigger == ImpactTrigger.FAILED_CHECK
    assert failed.since == failed.equipment.last_calibrated_on
    failed.equipment.refresh_from_db()
    assert failed.equipment.status == EquipmentStatus.OUT_OF_SERVICE
    client.force_login(lead)
    response = client.get(reverse("equipment:impact_detail", args=[failed.pk]))
    assert response.status_code == 200
    labels = [item.use.record_label for item in response.context["items"]]
    assert labels == ["R-AT-CALIBRATION", "R-MIDDLE", "R-AT-FAILURE"]
    html = response.content.decode()
    assert "R-BEFORE" not in html and "R-AFTER" not in html and "R-OTHER-EQUIPMENT" not in html
    assert html.count('data-testid="impact-decide-form"') == 3
    assert failed.nonconformity[:20] in html


def test_impact_analysis_starts_at_the_last_passed_check_R_EQP_7(
    lead, operator, make_equipment, today
):
    equipment = make_equipment("EQ-CHK2", months_ago=6)
    plan = _tolerance_plan(lead, equipment)
    passed_on = today - relativedelta(months=2)
    _use(equipment, passed_on - dt.timedelta(days=1), "R-BEFORE-CHECK", operator)
    _use(equipment, passed_on, "R-ON-CHECK", operator)
    _use(equipment, today - dt.timedelta(days=20), "R-AFTER-CHECK", operator)
    checks.record_check(
        actor=operator, plan=plan, checked_on=passed_on, measured="100.2", reference="100.0"
    )
    checks.record_check(
        actor=operator,
        plan=plan,
        checked_on=today - dt.timedelta(days=1),
        measured="99.0",
        reference="100.0",
    )
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert analysis.since == passed_on
    assert [i.use.record_label for i in analysis.items.select_related("use")] == [
        "R-ON-CHECK",
        "R-AFTER-CHECK",
    ]


def test_impact_list_shows_counts_open_first_and_filters(
    client, technician, lead, failed, make_equipment, operator, today
):
    decided_eq = make_equipment("EQ-DONE")
    decided = ImpactAnalysis.objects.create(
        equipment=decided_eq,
        trigger=ImpactTrigger.SUSPECT,
        trigger_detail="可疑",
        found_on=today,
        opened_by=lead,
        nonconformity="NC",
        status=ImpactStatus.DECIDED,
        conclusion="无影响",
    )
    client.force_login(technician)
    response = client.get(reverse("equipment:impact_list"))
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert [a.pk for a in rows] == [failed.pk, decided.pk]  # open first
    assert (rows[0].n_items, rows[0].n_pending) == (3, 3)
    only_decided = client.get(reverse("equipment:impact_list"), {"status": "decided"}).context[
        "page"
    ]
    assert [a.pk for a in only_decided] == [decided.pk]
    assert [
        a.pk for a in client.get(reverse("equipment:impact_list"), {"q": "EQ-IMP"}).context["page"]
    ] == [failed.pk]


def test_impact_list_query_count_does_not_grow(client, lead, operator, today):
    client.force_login(lead)

    def add(prefix, n):
        for e in _bulk_equipment(prefix, n, today - dt.timedelta(days=3), operator):
            analysis = ImpactAnalysis.objects.create(
                equipment=e,
                trigger=ImpactTrigger.FAILED_CHECK,
                trigger_detail="x",
                found_on=today,
                opened_by=lead,
                nonconformity="NC",
            )
            ImpactItem.objects.create(
                analysis=analysis, use=_use(e, today, f"R-{e.lab_id}", operator)
            )

    url = reverse("equipment:impact_list")
    add("A", 3)
    n3 = _count_queries(client, url)
    add("B", 22)
    n25 = _count_queries(client, url)
    add("C", 75)
    n100 = _count_queries(client, url)
    assert n3 == n25 == n100


def test_impact_detail_query_count_does_not_grow(client, lead, operator, make_equipment, today):
    client.force_login(lead)
    equipment = make_equipment("EQ-Q")
    analysis = ImpactAnalysis.objects.create(
        equipment=equipment,
        trigger=ImpactTrigger.FAILED_CHECK,
        trigger_detail="x",
        found_on=today,
        opened_by=lead,
        nonconformity="NC",
    )

    def add(n):
        for i in range(n):
            ImpactItem.objects.create(
                analysis=analysis, use=_use(equipment, today, f"R-{i}-{n}", operator)
            )

    url = reverse("equipment:impact_detail", args=[analysis.pk])
    add(3)
    n3 = _count_queries(client, url)
    add(22)
    n25 = _count_queries(client, url)
    assert n3 == n25


def _decide(client, item, decision, note=""):
    prefix = f"item-{item.pk}"
    return client.post(
        reverse("equipment:impact_decide", args=[item.pk]),
        {f"{prefix}-decision": decision, f"{prefix}-note": note},
    )


def test_lead_decides_items_and_concludes_only_when_none_is_pending_R_EQP_7(english, lead, failed):
    client = english
    client.force_login(lead)
    items = list(failed.items.order_by("use__used_on"))
    detail = reverse("equipment:impact_detail", args=[failed.pk])

    response = _decide(client, items[0], ImpactDecision.RETEST, "")  # a re-test needs a note
    assert response.status_code == 200
    assert "Say what is to be done." in response.content.decode()
    items[0].refresh_from_db()
    assert items[0].decision == ImpactDecision.PENDING

    response = _decide(client, items[0], ImpactDecision.RETEST, "用 EQ-2 复测")
    assert response.status_code == 302 and response["Location"] == detail
    items[0].refresh_from_db()
    assert (items[0].decision, items[0].note, items[0].decided_by) == (
        ImpactDecision.RETEST,
        "用 EQ-2 复测",
        lead,
    )

    conclude = reverse("equipment:impact_conclude", args=[failed.pk])
    response = client.post(conclude, {"conclusion": "已处理"})
    assert response.status_code == 200
    assert "Decide every affected record first." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == ImpactStatus.OPEN

    assert _decide(client, items[1], ImpactDecision.NO_EFFECT).status_code == 302
    assert _decide(client, items[2], ImpactDecision.RECALL, "召回证书").status_code == 302
    response = client.post(conclude, {"conclusion": "一份证书召回，一份复测。"})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.decided_by) == (ImpactStatus.DECIDED, lead)
    page = client.get(detail).content.decode()
    assert (
        'data-testid="impact-decide-form"' not in page
        and 'data-testid="impact-conclude-form"' not in page
    )


def test_technician_sees_the_analysis_but_cannot_decide_R_EQP_7(
    client, technician, qualitylead, failed
):
    item = failed.items.first()
    client.force_login(technician)
    page = client.get(reverse("equipment:impact_detail", args=[failed.pk]))
    assert page.status_code == 200
    assert 'data-testid="impact-decide-form"' not in page.content.decode()
    response = _decide(client, item, ImpactDecision.NO_EFFECT)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == ImpactDecision.PENDING and item.decided_by is None
    client.post(reverse("equipment:impact_conclude", args=[failed.pk]), {"conclusion": "x"})
    failed.refresh_from_db()
    assert failed.status == ImpactStatus.OPEN

    client.force_login(qualitylead)  # the quality lead reads the nonconformity
    page = client.get(reverse("equipment:impact_detail", args=[failed.pk])).content.decode()
    assert (
        'data-testid="impact-nonconformity"' in page
        and 'data-testid="impact-decide-form"' not in page
    )


def test_customer_gets_404_on_every_monitoring_page(client, customer, failed):
    item = failed.items.first()
    client.force_login(customer)
    for url in (
        reverse("equipment:labels_pdf"),
        reverse("equipment:label_pdf", args=[failed.equipment_id]),
        reverse("equipment:due_list"),
        reverse("equipment:impact_list"),
        reverse("equipment:impact_detail", args=[failed.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert _decide(client, item, ImpactDecision.NO_EFFECT).status_code == 404
    assert (
        client.post(
            reverse("equipment:impact_conclude", args=[failed.pk]), {"conclusion": "x"}
        ).status_code
        == 404
    )
    item.refresh_from_db()
    assert item.decision == ImpactDecision.PENDING


def test_anonymous_is_sent_to_sign_in(client, failed):
    response = client.get(reverse("equipment:due_list"))
    assert response.status_code == 302 and "login" in response["Location"]
