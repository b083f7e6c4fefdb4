"""Demo equipment for ``manage.py seed_demo``: 22 items of a medical metrology lab across
every status, some overdue and some due soon (dates relative to the day of seeding),
three measurement standards (one certificate expiring), intermediate-check plans and one
failed check with its impact analysis."""

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from equipment.models import (
    CalibrationResult,
    CheckOutPurpose,
    CriterionKind,
    Equipment,
    EquipmentKind,
    EquipmentStatus,
    LogKind,
    StopReason,
)
from equipment.services import calibration, checkout, checks, register, status

K = EquipmentKind
# lab id, name, model, manufacturer, kind, range, accuracy, calibrating body,
# interval months, months since last calibration (None: no calibration needed)
ITEMS = [
    ("BZ-001", "无创血压模拟器", "BP Pump 2", "Fluke Biomedical", K.STANDARD, "0–300 mmHg", "±0.5 mmHg", "省计量院", 12, 3),
    ("BZ-002", "精密数字压力计", "ConST 211", "康斯特", K.STANDARD, "(-0.1–0.25) MPa", "0.02级", "省计量院", 12, 13),
    ("BZ-003", "心电图机检定仪", "CEC-II", "中国计量院", K.STANDARD, "0.05–10 mV", "±1%", "中国计量院", 12, 6),
    ("BZ-004", "多参数监护仪检定仪", "ProSim 8", "Fluke Biomedical", K.STANDARD, "ECG/NIBP/SpO2", "±1%", "省计量院", 12, 11.5),
    ("BZ-005", "医用超声源功率计", "UPM-DT-1AV", "Ohmic", K.STANDARD, "0–15 W", "±5%", "中国计量院", 12, 2),
    ("BZ-006", "X射线多功能质量检测仪", "Piranha 657", "RTI", K.STANDARD, "40–150 kV", "±1.5%", "中国计量院", 12, 8),
    ("BZ-007", "剂量仪", "Unfors Xi", "Unfors", K.STANDARD, "10 nGy–1000 Gy", "±5%", "中国计量院", 12, 12.3),
    ("BZ-008", "输液泵分析仪", "IDA-5", "Fluke Biomedical", K.STANDARD, "0.1–1000 mL/h", "±1%", "省计量院", 12, 4),
    ("BZ-009", "气流分析仪", "VT-650", "Fluke Biomedical", K.STANDARD, "±300 L/min", "±2%", "省计量院", 12, 5),
    ("BZ-010", "除颤器分析仪", "Impulse 7000DP", "Fluke Biomedical", K.STANDARD, "0.1–1000 J", "±1%", "省计量院", 12, 7),
    ("BZ-011", "电刀分析仪", "QA-ES III", "Fluke Biomedical", K.STANDARD, "0–400 W", "±3%", "省计量院", 12, 9),
    ("BZ-012", "婴儿培养箱检测仪", "INCU II", "Fluke Biomedical", K.STANDARD, "20–40 ℃", "±0.05 ℃", "省计量院", 12, 10),
    ("PT-001", "数字多用表", "34465A", "Keysight", K.TEST, "DCV 0–1000 V", "0.0035%", "省计量院", 12, 1),
    ("PT-002", "秒表", "PC396", "上海星钻", K.TEST, "0–10 h", "±0.5 s/d", "市计量所", 12, 14),
    ("PT-003", "电子天平", "XS205", "Mettler Toledo", K.TEST, "0–220 g", "I级", "市计量所", 12, 11.7),
    ("PT-004", "数字温度计", "1524", "Fluke", K.TEST, "-200–420 ℃", "±0.015 ℃", "省计量院", 12, 6),
    ("HJ-001", "温湿度计（收样室）", "TH-20R", "美德时", K.ENVIRONMENT, "-20–60 ℃ / 0–100%RH", "±0.5 ℃ / ±3%RH", "市计量所", 12, 3),
    ("HJ-002", "温湿度计（电学实验室）", "TH-20R", "美德时", K.ENVIRONMENT, "-20–60 ℃ / 0–100%RH", "±0.5 ℃ / ±3%RH", "市计量所", 12, 9),
    ("FZ-001", "恒温箱", "DHP-9052", "一恒", K.AUXILIARY, "室温+5–65 ℃", "±1 ℃", "", None, None),
    ("FZ-002", "隔离变压器", "SG-3000", "正泰", K.AUXILIARY, "3 kVA", "", "", None, None),
    ("RJ-001", "血压计检定数据处理软件", "V2.3", "本中心", K.SOFTWARE, "", "", "", None, None),
    ("PT-005", "旧款示波器", "TDS1012", "Tektronix", K.TEST, "100 MHz", "±3%", "省计量院", 12, 20),
]
# lab id -> (status, reason, note) after registration
STATUSES = {
    "BZ-006": (EquipmentStatus.RESTRICTED, "", "仅用于 40–120 kV；>120 kV 点超差"),
    "PT-004": (EquipmentStatus.RESTRICTED, "", "仅用于 0–100 ℃"),
    "PT-002": (EquipmentStatus.OUT_OF_SERVICE, StopReason.OVERDUE, "超期未检，待送检"),
    "FZ-001": (EquipmentStatus.UNDER_REPAIR, "", ""),
    "PT-005": (EquipmentStatus.RETIRED, "", "老化报废"),
}


def seed(users: dict) -> None:
    # The demo's own items decide, not "any equipment": a database filled by
    # `manage.py scale_data` still gets the demo (and its users' journeys) on top.
    if Equipment.objects.filter(lab_id__in=[row[0] for row in ITEMS]).exists():
        return
    lead, tech = users["techlead"], users["tech1"]
    today = timezone.localdate()
    items = {}
    for lab_id, name, model, maker, kind, rng, acc, body, interval, ago in ITEMS:
        items[lab_id] = register.save_equipment(
            actor=lead,
            data={
                "lab_id": lab_id, "name": name, "model": model, "manufacturer": maker, "kind": kind,
                "serial_number": f"SN{lab_id.replace('-', '')}2021", "location": "电学实验室" if kind != K.ENVIRONMENT else "",
                "manual_location": "设备档案柜 A", "measuring_range": rng, "accuracy": acc, "calibrating_body": body,
                "acceptance_criteria": "校准结果满足检定规程对标准器的要求" if kind == K.STANDARD else "",
                "custodian": tech if lab_id.startswith(("BZ", "PT")) else users["tech2"],
                "purchased_on": dt.date(2021, 3, 1), "commissioned_on": dt.date(2021, 4, 1),
                "needs_calibration": interval is not None, "calibration_interval_months": interval,
            },
        )
        if ago is not None:
            months, fraction = int(ago), ago - int(ago)
            calibrated_on = today - relativedelta(months=months) - dt.timedelta(days=round(fraction * 30))
            calibration.record_calibration(
                actor=tech, equipment=items[lab_id], provider=body, certificate_no=f"JZ{calibrated_on:%Y}-{lab_id}",
                calibrated_on=calibrated_on, result=CalibrationResult.PASS,
            )
    for lab_id, (target, reason, note) in STATUSES.items():
        actor = lead if target in (EquipmentStatus.RESTRICTED, EquipmentStatus.RETIRED) else tech
        status.change_status(actor=actor, equipment=items[lab_id], status=target, reason=reason, note=note)
    # Confirmations: a technician confirms, the technical lead approves.
    for lab_id in ("BZ-001", "BZ-003", "BZ-005"):
        cal = items[lab_id].calibrations.first()
        calibration.confirm_calibration(actor=tech, calibration=cal, conclusion="fit")
        calibration.approve_confirmation(actor=lead, calibration=cal)
    calibration.set_corrections(
        actor=tech, calibration=items["BZ-002"].calibrations.first(), unit="kPa",
        points=[{"nominal": "0", "correction": "0.002"}, {"nominal": "100", "correction": "-0.004"},
                {"nominal": "250", "correction": "-0.010"}],
    )
    # Off site for external calibration.
    checkout.check_out(actor=tech, equipment=items["BZ-009"], purpose=CheckOutPurpose.CALIBRATION,
                       destination="省计量院", condition_ok=True, packed_ok=True)
    # Measurement standards (计量标准), one certificate expiring within the month.
    register.save_standard(actor=lead, data={"name": "血压计检定装置", "certificate_no": "[2022]苏量标证字第0101号",
                           "measurand": "压力 0–40 kPa", "valid_from": dt.date(2022, 6, 1), "valid_until": dt.date(2027, 5, 31)},
                           members=[items["BZ-001"], items["BZ-002"]])
    register.save_standard(actor=lead, data={"name": "心电图机检定装置", "certificate_no": "[2021]苏量标证字第0102号",
                           "measurand": "电压 0.05–10 mV", "valid_from": today - relativedelta(years=4),
                           "valid_until": today + dt.timedelta(days=20)},
                           members=[items["BZ-003"], items["BZ-004"]])
    register.save_standard(actor=lead, data={"name": "医用诊断X射线辐射源检定装置", "certificate_no": "[2023]苏量标证字第0103号",
                           "measurand": "管电压 40–150 kV", "valid_from": dt.date(2023, 9, 1), "valid_until": dt.date(2028, 8, 31)},
                           members=[items["BZ-006"], items["BZ-007"]])
    _demo_uses(items["BZ-007"], tech, today)
    # Intermediate checks: a plan per standard; the dose meter's last check failed.
    for lab_id in ("BZ-001", "BZ-003", "BZ-007"):
        plan = checks.save_check_plan(actor=lead, equipment=items[lab_id], interval_months=6,
                                      method="用核查标准比对，计算 En 值", criterion=CriterionKind.EN)
        if lab_id == "BZ-007":
            checks.record_check(actor=tech, plan=plan, checked_on=today - dt.timedelta(days=2), measured="1.062",
                                reference="1.000", u_measured="0.03", u_reference="0.02", notes="En 超出 1，停用并评估影响")
        else:
            checks.record_check(actor=tech, plan=plan, checked_on=today - dt.timedelta(days=30), measured="100.02",
                                reference="100.00", u_measured="0.05", u_reference="0.03")
    checks.log_event(actor=tech, equipment=items["FZ-001"], kind=LogKind.MALFUNCTION, occurred_on=today - dt.timedelta(days=5),
                     description="温控失灵，升温不止", action_taken="断电，报修厂家")
    checks.log_event(actor=tech, equipment=items["BZ-001"], kind=LogKind.MAINTENANCE, occurred_on=today - dt.timedelta(days=20),
                     description="清洁气路，检查袖带接头", action_taken="正常")


def _demo_uses(equipment, user, today):
    """Until [Records] writes usage snapshots, the demo links the dose meter to the X-ray
    samples of the demo orders, so its impact analysis has something to decide."""
    from django.contrib.contenttypes.models import ContentType

    from equipment.models import EquipmentUse
    from intake.models import Sample

    samples = list(Sample.objects.filter(item__category__code="XR-DIAG")[:3])
    for offset, sample in enumerate(samples):
        used_on = today - dt.timedelta(days=20 - offset)
        EquipmentUse.objects.create(
            equipment=equipment,
            used_on=used_on,
            used_by=user,
            record_type=ContentType.objects.get_for_model(Sample),
            record_id=str(sample.pk),
            record_label=f"{sample.sample_id}（演示）",
            snapshot={
                "lab_id": equipment.lab_id,
                "status": equipment.status,
                "calibration_due": equipment.calibration_due.isoformat() if equipment.calibration_due else None,
                "certificate_no": equipment.last_certificate_no,
            },
        )
