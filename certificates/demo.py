"""Demo data for records, called by ``manage.py seed_demo`` after intake and equipment.

Methods: the current edition of each demo category's regulation/specification (codes and
editions as the intake categories carry them), earlier editions marked superseded, and
record templates for the sphygmomanometers, the ECG machine and the infusion pump.
Effective dates are approximate (1 July of the year after publication); the lab enters
the date printed on its copy.  Work: the received blood-pressure meters of the demo
order get tasks — one waiting for ``tech1`` to start (the path a visitor can follow in
the browser), one recorded by ``tech2`` and checked by ``tech1``, with a correction.

Certificates: the verification and calibration seals (custodian ``techlead``; the image
is a plain red ring drawn here, a stand-in for the scanned seal) and a draft certificate
for the checked record, waiting in ``techlead``'s approval queue.  Then, from other
received samples of the demo orders (see ``ISSUED``), work carried through to an issued
certificate with the real services, so each kind can be opened in the browser: a failed
blood-pressure meter → verification result notice naming the failed point; the ECG
machine → verification certificate with a supplement prepared by ``tech2`` and not yet
checked; an infusion or syringe pump, when intake's demo has one received → calibration
certificate with U and k.  Each piece is done once (a later seed finds its task) and only
on a sample that has no task yet, so a second seed changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import zlib
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db.models import Exists, OuterRef

from certificates.models import (
    AmendmentKind,
    Certificate,
    Conclusion,
    Method,
    MethodKind,
    MethodStatus,
    Record,
    RecordStatus,
    Seal,
    SealKind,
    Task,
)
from certificates.services import certificates as certificate_services
from certificates.services import methods as method_services
from certificates.services import records as record_services
from certificates.services import seals as seal_services
from certificates.services import tasks as task_services
from equipment.models import Equipment
from intake.models import InstrumentCategory, OrderStatus, Sample, SampleStatus
from labqms.management.commands.seed_demo import PASSWORD

D = Decimal
# code, superseded editions (oldest first)
EARLIER_EDITIONS = {
    "JJG 692": ["1999"],
    "JJG 270": ["1995"],
    "JJG 543": ["1996"],
    "JJF 1259": ["2010"],
    "JJF 1234": ["2010"],
    "JJF 1149": ["2006"],
}

TEMPLATES = {
    # JJG 692-2010 无创自动测量血压计: static pressure indication, MPE ±0.4 kPa (±3 mmHg).
    "JJG 692": {
        "data": {
            "name": "无创自动测量血压计检定原始记录", "quantity": "静态压力示值", "unit": "mmHg", "repeats": 3,
            "resolution": D("1"), "range_low": D("0"), "range_high": D("300"),
            "temperature_min": D("15"), "temperature_max": D("25"), "humidity_min": None, "humidity_max": D("85"),
            "other_conditions": [],
            "inspection_items": ["外观及标志", "气密性（压力泄漏）", "过压保护"],
            "default_coverage_factor": None, "notes": "",
        },
        "points": [(n, "absolute", D("3")) for n in (50, 100, 150, 200, 250)],
    },
    # JJG 270-2008 血压计和血压表: MPE ±0.5 kPa (±3.75 mmHg).
    "JJG 270": {
        "data": {
            "name": "血压计和血压表检定原始记录", "quantity": "示值", "unit": "mmHg", "repeats": 2,
            "resolution": D("0.5"), "range_low": D("0"), "range_high": D("300"),
            "temperature_min": D("15"), "temperature_max": D("25"), "humidity_min": None, "humidity_max": D("85"),
            "other_conditions": [],
            "inspection_items": ["外观", "零位", "气密性"],
            "default_coverage_factor": None, "notes": "",
        },
        "points": [(n, "absolute", D("3.75")) for n in (0, 50, 100, 150, 200, 250, 300)],
    },
    # JJG 543-2008 心电图机: voltage measurement, ±5 % of reading.
    "JJG 543": {
        "data": {
            "name": "心电图机检定原始记录", "quantity": "电压测量", "unit": "mV", "repeats": 3,
            "resolution": D("0.01"), "range_low": D("0"), "range_high": D("10"),
            "temperature_min": D("15"), "temperature_max": D("30"), "humidity_min": None, "humidity_max": D("80"),
            "other_conditions": [{"name": "电源电压", "unit": "V", "min": "198", "max": "242"}],
            "inspection_items": ["外观及标志", "定标电压", "走纸速度"],
            "default_coverage_factor": None, "notes": "",
        },
        "points": [(n, "reading", D("5")) for n in (D("0.5"), D("1.0"), D("2.0"), D("5.0"))],
    },
    # JJF 1259-2018 医用注射泵和输液泵: flow rate, expanded uncertainty per point.
    "JJF 1259": {
        "data": {
            "name": "输液泵流量校准原始记录", "quantity": "流量", "unit": "mL/h", "repeats": 3,
            "resolution": D("0.01"), "range_low": D("0"), "range_high": D("1200"),
            "temperature_min": D("18"), "temperature_max": D("28"), "humidity_min": None, "humidity_max": D("80"),
            "other_conditions": [],
            "inspection_items": ["外观", "阻塞报警功能"],
            "default_coverage_factor": D("2"), "notes": "",
        },
        "points": [(n, "reading", D("5"), u) for n, u in ((D("5"), D("0.10")), (D("25"), D("0.30")), (D("100"), D("1.0")))],
    },
}


def _effective(year: str) -> dt.date:
    return dt.date(int(year) + 1, 7, 1)


def seed(users: dict) -> None:
    _methods_and_work(users)
    _seals(users)
    _draft_certificate(users)
    # After the draft above, so it stays the oldest row of the approval queue.
    for spec in ISSUED:
        _issued_certificate(users, spec)


def _methods_and_work(users: dict) -> None:
    if Method.objects.exists():
        return
    lead = users["techlead"]
    categories_by_method: dict[str, list] = {}
    for category in InstrumentCategory.objects.exclude(method_code=""):
        categories_by_method.setdefault((category.method_code, category.method_title, category.default_service), []).append(category)
    current = {}
    for (full_code, title, service), categories in sorted(categories_by_method.items()):
        code, edition = full_code.rsplit("-", 1)
        kind = MethodKind(service)
        for old in EARLIER_EDITIONS.get(code, []):
            method = method_services.save_method(
                actor=lead, categories=categories,
                data={"code": code, "edition": old, "title": title, "kind": kind, "effective_on": _effective(old), "notes": ""},
            )
            method_services.approve_method(actor=lead, method=method)
        method = method_services.save_method(
            actor=lead, categories=categories,
            data={"code": code, "edition": edition, "title": title, "kind": kind, "effective_on": _effective(edition), "notes": ""},
        )
        current[code] = method_services.approve_method(actor=lead, method=method)
    for code, spec in TEMPLATES.items():
        points = []
        for row in spec["points"]:
            nominal, kind, tolerance = row[:3]
            points.append({
                "label": "", "nominal": D(nominal), "tolerance_kind": kind, "tolerance": tolerance,
                "default_uncertainty": row[3] if len(row) > 3 else None,
            })
        template = method_services.save_template(actor=lead, method=current[code], data=spec["data"], points=points)
        method_services.approve_template(actor=lead, template=template)
    _demo_work(users, current["JJG 692"])


def _demo_work(users: dict, method: Method) -> None:
    tech1, tech2 = users["tech1"], users["tech2"]
    samples = list(
        Sample.objects.filter(item__category__code="BP-NIBP", status__in=[SampleStatus.RECEIVED, SampleStatus.STORED]).order_by("sample_id")
    )
    if len(samples) < 2 or Task.objects.exists():
        return
    # 1. Waiting for tech1 to start (performed by tech1, checked by tech2).
    task_services.assign_task(actor=users["techlead"], sample=samples[0], method=method, performer=tech1, checker=tech2)
    # 2. Recorded by tech2, checked by tech1, then corrected (and checked again).
    task = task_services.assign_task(actor=users["techlead"], sample=samples[-1], method=method, performer=tech2, checker=tech1)
    record = task_services.start_task(actor=tech2, task=task)
    record_services.save_environment(actor=tech2, record=record, temperature="21.5", humidity="48")
    for lab_id in ("BZ-001", "HJ-002"):
        record_services.add_equipment(actor=tech2, record=record, equipment=Equipment.objects.get(lab_id=lab_id))
    readings = {50: ("51", "50", "51"), 100: ("101", "101", "100"), 150: ("152", "151", "151"), 200: ("201", "202", "201"), 250: ("252", "251", "251")}
    entries = {}
    for point in record.template.points.all():
        for repeat, text in enumerate(readings[int(point.nominal)], start=1):
            entries[record_services.slot_key(point.pk, "as_found", repeat)] = text
    record_services.save_readings(actor=tech2, record=record, entries=entries)
    record_services.save_inspections(actor=tech2, record=record, results={i: (True, "") for i in range(1, 4)})
    record_services.save_conclusion(actor=tech2, record=record, conclusion="pass")
    record_services.sign_record(actor=tech2, record=record, password=PASSWORD)
    record_services.check_record(actor=tech1, record=record, password=PASSWORD)
    reading = record.readings.get(point__nominal=200, repeat=2)
    record_services.correct_value(
        actor=tech2, record=record, field=f"reading:{reading.pk}", new_value="201", reason="誊写错误，按标准器显示值更正"
    )
    record_services.check_record(actor=tech1, record=record, password=PASSWORD)


# --- seals and the certificate waiting for approval --------------------------------------

SEALS = [(SealKind.VERIFICATION, "检定专用章"), (SealKind.CALIBRATION, "校准专用章")]


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    """A minimal RGBA PNG (no Pillow): signature, IHDR, one zlib IDAT, IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 per scanline
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ring_png(size: int = 160, width: float = 9.0) -> bytes:
    """A red ring on a transparent ground, the shape of a round official seal."""
    centre, outer = (size - 1) / 2, size / 2 - 3
    red, clear = bytes((200, 16, 16, 230)), bytes(4)
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            distance = math.hypot(x - centre, y - centre)
            row += red if outer - width <= distance <= outer else clear
        rows.append(bytes(row))
    return _png(size, size, rows)


def _seals(users: dict) -> None:
    for kind, name in SEALS:
        if Seal.objects.filter(kind=kind).exists():
            continue
        seal_services.create_seal(
            actor=users["techlead"], kind=kind, name=name, custodian=users["techlead"],
            image=ContentFile(ring_png(), name=f"{kind}.png"),
        )


def _draft_certificate(users: dict) -> None:
    """The checked demo record (recorded by tech2, checked by tech1) gets its draft."""
    record = (
        Record.objects.filter(performer=users["tech2"], checker=users["tech1"], status=RecordStatus.CHECKED)
        .order_by("pk")
        .first()
    )
    if record is None or record.certificates.exists():
        return
    certificate_services.prepare(actor=users["tech2"], record=record)


# --- issued certificates of each kind ----------------------------------------------------

# One entry per demo certificate: the categories a received sample may come from (the
# first without a task is taken), who performs and who checks (authorised for the
# category and activity in seed_demo; the pair is not used by other demo work on these
# categories, and once it has a task there the entry is done), the equipment (a standard that passes the gate on
# the day of seeding, and the laboratory's thermo-hygrometer), the conditions, the
# readings per nominal value (one per repeat), the conclusion and, optionally, the
# supplement left waiting for its check.  ``techlead`` approves; the performer prepares.
ISSUED = [
    {
        # JJG 692: MPE ±3 mmHg; 150 mmHg reads +5 mmHg → fail → verification result notice.
        "categories": ("BP-NIBP",),
        "performer": "tech1", "checker": "techdeputy",
        "equipment": ("BZ-001", "HJ-002"),
        "environment": ("22.0", "52", {}),
        "readings": {
            50: ("51", "50", "51"), 100: ("101", "102", "101"), 150: ("155", "156", "155"),
            200: ("202", "201", "202"), 250: ("252", "252", "251"),
        },
        "conclusion": Conclusion.FAIL,
        "conclusion_note": "150 mmHg 点示值误差 +5 mmHg，超出最大允许误差 ±3 mmHg",
    },
    {
        # JJG 543: ±5 % of reading, all within → verification certificate, then a supplement.
        "categories": ("ECG",),
        "performer": "tech2", "checker": "techdeputy",
        "equipment": ("BZ-003", "HJ-002"),
        "environment": ("23.0", "45", {"电源电压": "220"}),
        "readings": {
            D("0.5"): ("0.50", "0.51", "0.50"), D("1.0"): ("1.01", "1.00", "1.01"),
            D("2.0"): ("2.02", "2.01", "2.01"), D("5.0"): ("5.04", "5.03", "5.05"),
        },
        "conclusion": Conclusion.PASS,
        "supplement": "应送检单位来函补充：本器具为心内科使用，资产编号 XN-2019-031。其余内容不变。",
    },
    {
        # JJF 1259: flow rate with U (k = 2) from the template's default budget.
        "categories": ("PUMP-INF", "PUMP-SYR"),
        "performer": "tech1", "checker": "tech2",
        "equipment": ("BZ-008", "HJ-002"),
        "environment": ("22.5", "50", {}),
        "readings": {
            5: ("5.04", "5.02", "5.05"), 25: ("25.21", "25.18", "25.24"), 100: ("100.62", "100.55", "100.70"),
        },
        "conclusion": Conclusion.CALIBRATED,
    },
]


def _free_sample(categories) -> Sample | None:
    """A received sample of one of ``categories`` on an accepted order, never given a task."""
    return (
        Sample.objects.filter(
            item__category__code__in=categories,
            status__in=[SampleStatus.RECEIVED, SampleStatus.STORED],
            order__status=OrderStatus.ACCEPTED,
        )
        .exclude(Exists(Task.objects.filter(sample=OuterRef("pk"))))
        .select_related("item__category")
        .order_by("sample_id")
        .first()
    )


def _issued_certificate(users: dict, spec: dict) -> Certificate | None:
    performer, checker, lead = users[spec["performer"]], users[spec["checker"]], users["techlead"]
    done = Task.objects.filter(sample__item__category__code__in=spec["categories"], performer=performer, checker=checker)
    sample = None if done.exists() else _free_sample(spec["categories"])
    if sample is None:
        return None
    method = (
        Method.objects.filter(status=MethodStatus.CURRENT, kind=sample.item.service, categories=sample.item.category)
        .order_by("pk")
        .first()
    )
    if method is None or method.active_template() is None:
        return None
    task = task_services.assign_task(actor=lead, sample=sample, method=method, performer=performer, checker=checker)
    record = task_services.start_task(actor=performer, task=task)
    temperature, humidity, others = spec["environment"]
    record_services.save_environment(actor=performer, record=record, temperature=temperature, humidity=humidity, others=others)
    for lab_id in spec["equipment"]:
        record_services.add_equipment(actor=performer, record=record, equipment=Equipment.objects.get(lab_id=lab_id))
    entries = {}
    for point in record.template.points.all():
        for repeat, text in enumerate(spec["readings"][point.nominal], start=1):
            entries[record_services.slot_key(point.pk, "as_found", repeat)] = text
    record_services.save_readings(actor=performer, record=record, entries=entries)
    record_services.save_inspections(
        actor=performer, record=record, results={i.position: (True, "") for i in record.inspections.all()}
    )
    record_services.save_conclusion(
        actor=performer, record=record, conclusion=spec["conclusion"], conclusion_note=spec.get("conclusion_note", "")
    )
    record_services.sign_record(actor=performer, record=record, password=PASSWORD)
    record_services.check_record(actor=checker, record=record, password=PASSWORD)
    certificate = certificate_services.prepare(actor=performer, record=record)
    certificate = certificate_services.approve(actor=lead, certificate=certificate, password=PASSWORD)
    if spec.get("supplement"):
        certificate_services.prepare_amendment(
            actor=performer, original=certificate, kind=AmendmentKind.SUPPLEMENT, text=spec["supplement"]
        )
    return certificate
