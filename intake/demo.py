"""Demo data for intake, called by ``manage.py seed_demo``: real medical instrument
categories, the authorised scope, storage locations, three hospitals, a portal account
for ``hospital1`` and orders in several states so every queue has something in it.

Compulsory flags follow the national catalogue of instruments under compulsory
management (实施强制管理的计量器具目录, SAMR announcement 2019 No. 48): blood-pressure
meters, ECG/EEG machines (心、脑电图仪), medical ultrasound sources, medical radiation
sources (diagnostic X-ray, CT), medical laser sources and tonometers are compulsory;
infusion/syringe pumps, ventilators, defibrillators, monitors, electrosurgical units,
incubators and the analysers are calibrated or verified at the user's request.
"""

import datetime as dt
from decimal import Decimal

from intake.models import (
    AuthorisedScope,
    Contact,
    Customer,
    CustomerAccount,
    InstrumentCategory,
    Order,
    SampleStatus,
    Service,
    StorageLocation,
)
from intake.services import orders as order_services
from intake.services import samples as sample_services
from labqms.models import User

V, C = Service.VERIFICATION, Service.CALIBRATION
# code, 中文名, English name, compulsory, catalogue entry, service, method code, method title,
# period (months), turnaround (working days), fee
CATEGORIES = [
    ("BP-NIBP", "无创自动测量血压计", "Automated non-invasive sphygmomanometer", True, "血压计（表）", V, "JJG 692-2010", "无创自动测量血压计", 12, 5, "80.00"),
    ("BP-MAN", "血压计和血压表", "Mercury and aneroid sphygmomanometer", True, "血压计（表）", V, "JJG 270-2008", "血压计和血压表", 12, 5, "40.00"),
    ("ECG", "心电图机", "Electrocardiograph", True, "心、脑电图仪", V, "JJG 543-2008", "心电图机", 12, 7, "200.00"),
    ("EEG", "脑电图机", "Electroencephalograph", True, "心、脑电图仪", V, "JJG 954-2019", "数字脑电图仪及脑电地形图仪", 12, 7, "260.00"),
    ("US", "医用超声诊断仪超声源", "Medical diagnostic ultrasound source", True, "医用超声源", V, "JJG 639-1998", "医用超声诊断仪超声源", 12, 10, "600.00"),
    ("XR-DIAG", "医用诊断X射线辐射源", "Diagnostic X-ray radiation source", True, "医用辐射源", V, "JJG 744-2004", "医用诊断X射线辐射源", 12, 10, "800.00"),
    ("XR-CT", "X射线计算机断层摄影装置", "X-ray computed tomography scanner", True, "医用辐射源", V, "JJG 961-2017", "医用诊断螺旋计算机断层摄影装置(CT)X射线辐射源", 12, 10, "1500.00"),
    ("LASER", "医用激光源", "Medical laser source", True, "医用激光源", V, "JJG 581-1999", "医用激光源", 12, 10, "500.00"),
    ("TONO", "眼压计", "Tonometer", True, "眼压计", V, "JJG 574-2004", "压陷式眼压计", 12, 5, "120.00"),
    ("MON-ECG", "心电监护仪", "ECG patient monitor", False, "", V, "JJG 760-2003", "心电监护仪", 12, 7, "220.00"),
    ("PUMP-INF", "输液泵", "Infusion pump", False, "", C, "JJF 1259-2018", "医用注射泵和输液泵校准规范", None, 7, "150.00"),
    ("PUMP-SYR", "注射泵", "Syringe pump", False, "", C, "JJF 1259-2018", "医用注射泵和输液泵校准规范", None, 7, "150.00"),
    ("VENT", "呼吸机", "Ventilator", False, "", C, "JJF 1234-2018", "呼吸机校准规范", None, 10, "450.00"),
    ("DEFIB", "心脏除颤器", "Defibrillator", False, "", C, "JJF 1149-2014", "心脏除颤器校准规范", None, 7, "300.00"),
    ("ESU", "高频电刀", "Electrosurgical unit", False, "", C, "JJF 1217-2009", "高频电刀校准规范", None, 7, "300.00"),
    ("INCUB", "婴儿培养箱", "Infant incubator", False, "", C, "JJF 1260-2010", "婴儿培养箱校准规范", None, 10, "350.00"),
    ("HEMA", "血细胞分析仪", "Haematology analyser", False, "", V, "JJG 714-2012", "血细胞分析仪", 12, 10, "400.00"),
    ("ELISA", "酶标分析仪", "Microplate reader", False, "", V, "JJG 861-2007", "酶标分析仪", 12, 10, "300.00"),
]
# Not authorised: CT scanners and laser sources (the lab has no standard for them), so the
# demo has something out of scope to refuse or subcontract.
NOT_AUTHORISED = {"XR-CT", "LASER"}
SCOPE_CERTIFICATE = "(苏)法计(2024)32001号"

CUSTOMERS = [
    ("市第一人民医院", "一院", "12320000466000001X", "市中山路 1 号", "设备科", "025-83001001", "sbk@hospital1.example.cn", ("刘洋", "13800000001", "liuyang@hospital1.example.cn")),
    ("市妇幼保健院", "妇幼", "", "市健康路 18 号", "医学工程部", "025-83002002", "", ("陈静", "13800000002", "")),
    ("仁和口腔门诊部", "仁和口腔", "", "市北京东路 66 号", "", "025-83003003", "renhe@example.cn", ("赵敏", "13800000003", "renhe@example.cn")),
]
LOCATIONS = [("R1-A", "收样室 A 架"), ("R1-B", "收样室 B 架"), ("L2-01", "电学实验室待检区"), ("OUT", "待取区")]


def seed(users: dict) -> None:
    categories = {}
    for code, zh, en, compulsory, entry, service, m_code, m_title, period, days, fee in CATEGORIES:
        categories[code], _ = InstrumentCategory.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "compulsory": compulsory,
                "catalogue_entry": entry,
                "default_service": service,
                "method_code": m_code,
                "method_title": m_title,
                "verification_period_months": period,
                "turnaround_days": days,
                "standard_fee": Decimal(fee),
            },
        )
        if code not in NOT_AUTHORISED:
            AuthorisedScope.objects.get_or_create(
                category=categories[code],
                service=service,
                defaults={"certificate_no": SCOPE_CERTIFICATE, "valid_from": dt.date(2024, 3, 1), "valid_until": dt.date(2029, 2, 28)},
            )
    for code, name in LOCATIONS:
        StorageLocation.objects.get_or_create(code=code, defaults={"name": name})
    customers = []
    counter = users["counter"]
    for name, short, credit, address, dept, phone, email, contact in CUSTOMERS:
        customer, _ = Customer.objects.get_or_create(
            name=name,
            department=dept,
            defaults={"short_name": short, "credit_code": credit, "address": address, "phone": phone, "email": email, "created_by": counter},
        )
        Contact.objects.get_or_create(customer=customer, name=contact[0], defaults={"phone": contact[1], "email": contact[2]})
        customers.append(customer)
    CustomerAccount.objects.get_or_create(
        user=users["hospital1"], defaults={"customer": customers[0], "contact": customers[0].contacts.first()}
    )
    if Order.objects.filter(customer__in=customers).exists():
        return
    _demo_orders(counter, customers, categories)


def _line(category, name, model, serials, manufacturer, quantity=1, **extra):
    return {
        "instrument_name": name,
        "category": category,
        "model": model,
        "serial_number": serials,
        "manufacturer": manufacturer,
        "quantity": quantity,
        **extra,
    }


def _accepted(counter, order):
    order_services.review_order(
        actor=counter, order=order, decision="accept", lawful=True, requirements_clear=True, competent=True, terms_agreed=True
    )
    order_services.record_confirmation(actor=counter, order=order, signer_name=order.contact.name if order.contact else "客户")
    return order_services.accept_order(actor=counter, order=order)


def _demo_orders(counter, customers, c):
    hospital, maternity, dental = customers
    location = StorageLocation.objects.get(code="R1-A")
    # 1. A draft order still being typed in.
    order_services.create_order(
        actor=counter,
        customer=maternity,
        contact=maternity.contacts.first(),
        channel="phone",
        lines=[_line(c["PUMP-SYR"], "注射泵", "SP-500", "SY2301, SY2302", "深圳某医疗", quantity=2)],
    )
    # 2. Accepted, samples received and stored: in the lab's hands.
    order = order_services.create_order(
        actor=counter,
        customer=hospital,
        contact=hospital.contacts.first(),
        lines=[
            _line(c["BP-NIBP"], "电子血压计", "HBP-1300", "A1001, A1002, A1003", "欧姆龙", quantity=3, accessories="袖带×3"),
            _line(c["ECG"], "心电图机", "ECG-1250", "E7781", "光电", accessories="导联线"),
        ],
    )
    order = _accepted(counter, order)
    for sample in order.samples.all():
        sample_services.receive_sample(actor=counter, sample=sample, location=location)
    # 3. Work done, integrity checked: ready for release (completion notice sent).
    order = order_services.create_order(
        actor=counter,
        customer=dental,
        contact=dental.contacts.first(),
        lines=[_line(c["XR-DIAG"], "口腔X射线机", "CS 2100", "DX9001", "锐珂")],
    )
    order = _accepted(counter, order)
    tech = order.samples.first()
    sample_services.receive_sample(actor=counter, sample=tech, location=location)
    technician = User.objects.get(username="tech1")
    sample_services.mark_sample_in_test(actor=technician, sample=tech)
    sample_services.mark_sample_tested(actor=technician, sample=tech)
    sample_services.check_integrity(actor=counter, sample=tech, intact=True)
    assert order.samples.filter(status=SampleStatus.READY).exists()
    # 4. An infusion pump to calibrate; the customer asked for a statement of conformity
    # ([Certificates] demo calibrates it and issues the calibration certificate).
    order = order_services.create_order(
        actor=counter,
        customer=maternity,
        contact=maternity.contacts.first(),
        lines=[_line(c["PUMP-INF"], "输液泵", "VP-30", "IP5501", "深圳某医疗")],
    )
    order_services.review_order(
        actor=counter, order=order, decision="accept", lawful=True, requirements_clear=True, competent=True,
        terms_agreed=True, conformity_statement_requested=True, decision_rule="按 JJF 1259-2018 最大允许误差判定（简单接受）",
    )
    order_services.record_confirmation(actor=counter, order=order, signer_name=order.contact.name if order.contact else "客户")
    order = order_services.accept_order(actor=counter, order=order)
    for sample in order.samples.all():
        sample_services.receive_sample(actor=counter, sample=sample, location=location)
