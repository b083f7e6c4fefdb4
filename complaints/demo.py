"""Demo data for Complaints (issue 7), called by ``manage.py seed_demo`` after the
certificates demo: complaints in every state, made through the real services by the
demo users (R-CMP-1..7).

- ``counter`` takes calls, letters and visits; the public online form and the customer
  portal (``hospital1``) register without a member of staff;
- ``qualitylead`` (authorised to handle complaints) accepts, classifies, replies,
  extends, proposes compensation and closes;
- the responsible department — ``tech1`` and ``tech2`` of 医学计量室, ``techdeputy`` of
  技术部 — records findings, proposes the handling opinion and carries it out; the
  responsible person approves a general complaint's opinion, ``head`` decides a major
  incident and compensation.

The reply clock is placed relative to the day of seeding: acceptance is back-dated by
walking back working days (:mod:`labqms.workdays`) from the due date wanted, so some
complaints are near the deadline (≤ 2 working days left), one is overdue, one was saved
by an extension and one was replied late.  Complaints about issued demo certificates
get a responsible person who did not perform, check or approve that work (7.9.6; the
service refuses anyone else).  Each complaint is known by its subject: seeding again
finds it and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from certificates.models import Certificate, CertificateStatus, CertificateType
from complaints.models import Channel, Complaint, ComplaintClass, Feedback
from complaints.services import complaints as services
from intake.models import Customer, Order, Sample
from labqms import workdays

MEDICAL = "医学计量室"
TECHNICAL = "技术部"
# Responsible when every person a spec names was involved in the work complained about.
FALLBACK = ("techdeputy", "qualitylead")


@dataclass
class Spec:
    """One demo complaint: how it came in, what it is about and how far it went."""

    subject: str
    channel: str
    complainant: dict
    description: str
    # Who registers: "counter", "portal" (hospital1), or None (the public online form).
    registered_by: str | None = "counter"
    link: str = ""  # a key of _links(): the certificate, sample or order complained about
    days_left: int | None = None  # working days from today to the reply due date; None: not accepted
    department: str = MEDICAL
    responsible: tuple[str, ...] = ("tech1", "tech2")  # the first one not involved in the work
    findings: str = ""
    classification: str = ""
    substantiated: bool = True
    management_review: bool = False
    opinion: str = ""
    approve: bool = False
    carried_out: str = ""
    extend: tuple[int, str] | None = None  # (working days left after the extension, explanation)
    reply: str = ""
    publish: bool = False
    compensation: dict = field(default_factory=dict)  # amount / in_kind / agreement (+ "approve": note)
    close: tuple[str, str] | None = None  # (feedback, note)
    dismiss: str = ""


def _person(name, organisation="", phone="", email="", address=""):
    return {
        "complainant_name": name, "complainant_organisation": organisation, "complainant_phone": phone,
        "complainant_email": email, "complainant_address": address,
    }


HOSPITAL = _person("刘洋", "市第一人民医院设备科", "13800000001", "liuyang@hospital1.example.cn")
MATERNITY = _person("陈静", "市妇幼保健院医学工程部", "13800000002")
DENTAL = _person("赵敏", "仁和口腔门诊部", "13800000003", "renhe@example.cn")

SPECS = [
    # --- registered, not accepted yet -------------------------------------------------------
    Spec(
        subject="网上预约后一直无人联系",
        channel=Channel.ONLINE, registered_by=None,
        complainant=_person("黄先生", "康宁社区卫生服务中心", "13900000011", "huang@kangning.example.cn"),
        description="上周五通过网站预约了 2 台电子血压计的检定，至今没有人联系确认送检时间，电话也总是占线。",
    ),
    Spec(
        subject="委托单上注射泵数量与实际送检不符",
        channel=Channel.LETTER, link="maternity_order",
        complainant={**MATERNITY, "complainant_address": "市健康路 18 号 医学工程部"},
        description="来函：我院委托单登记注射泵 2 台，实际准备送检 3 台，请更正委托单并说明费用。",
    ),
    # --- not accepted -----------------------------------------------------------------------
    Spec(
        subject="能否上门检定CT机",
        channel=Channel.HOTLINE,
        complainant=_person("吴主任", "城东医院放射科", "0571-86660000"),
        description="来电询问本中心能否上门检定 CT 机，并对之前未能受理表示不满。",
        dismiss="不属于对本中心工作的投诉：系业务咨询。CT 检定不在本中心授权范围内，已由业务受理室电话答复并推荐有资质的机构。",
    ),
    # --- accepted, under investigation --------------------------------------------------------
    Spec(
        subject="取件时器具外包装破损",
        channel=Channel.RECEPTION, link="dental_order",
        complainant=DENTAL,
        description="到接待室取回口腔 X 射线机配件时发现外包装箱一角破损，担心运输中受损。",
        days_left=8, responsible=("tech1", "tech2"),
    ),
    Spec(
        subject="证书领取通知短信未收到",
        channel=Channel.HOTLINE,
        complainant=_person("周女士", "市第二人民医院设备处", "13900000022"),
        description="贵中心称已发送取件通知，但我们一直没有收到短信，导致器具逾期未取。",
        days_left=1, responsible=("tech2", "tech1"),
        findings="核查通知发送记录：通知已按委托单联系人手机号发送，但号码登记时少录一位，属实。",
    ),
    # --- classified general, waiting for the department's opinion ------------------------------
    Spec(
        subject="心电图机证书未注明使用科室",
        channel=Channel.HOTLINE, link="ecg_certificate",
        complainant=HOSPITAL,
        description="心电图机检定证书未注明使用科室，我院资产管理需要科室信息，之前送检时已口头说明。",
        days_left=2, responsible=("tech1", "tech2"),
        findings="委托时客户口头提出注明使用科室，委托单未记录，证书按委托单出具。沟通记录不完整属实。",
        classification=ComplaintClass.GENERAL,
    ),
    # --- general, opinion proposed ---------------------------------------------------------------
    Spec(
        subject="注射泵校准结果出具超过约定时间",
        channel=Channel.HOTLINE,
        complainant=MATERNITY,
        description="约定 7 个工作日出具校准结果，实际已超过 10 个工作日仍未出具。",
        days_left=5, responsible=("tech2", "tech1"),
        findings="标准器送上级计量机构溯源期间未及时调配替代标准器，造成延误，属实。",
        classification=ComplaintClass.GENERAL,
        opinion="向客户书面致歉；优先安排校准并减免本次加急费用；修订标准器送检期间的任务调配规定。",
    ),
    # --- general, opinion approved, overdue ----------------------------------------------------
    Spec(
        subject="检定后血压计袖带遗失",
        channel=Channel.RECEPTION,
        complainant=_person("孙师傅", "市第三人民医院设备科", "13900000033"),
        description="送检 3 台电子血压计，每台配有袖带，取回时少了 1 条袖带。",
        days_left=-2, responsible=("tech1", "tech2"),
        findings="查样品接收记录，附件登记为袖带 3 条；实验室待检区找到遗留袖带 1 条，属实。",
        classification=ComplaintClass.GENERAL,
        opinion="将遗留袖带送还客户并致歉；在样品流转单上增加附件逐项核对栏。",
        approve=True,
    ),
    # --- general, carried out, after an extension ------------------------------------------------
    Spec(
        subject="X射线机现场检定后设备参数未恢复",
        channel=Channel.HOTLINE, link="dental_sample",
        complainant=DENTAL,
        description="检定人员离开后，我们发现 X 射线机的曝光参数仍为检定时的设置，影响当天拍片。",
        days_left=-1, responsible=("tech2", "tech1"),
        findings="检定完成后未按作业指导书恢复客户原设置并请客户确认，属实。",
        classification=ComplaintClass.GENERAL,
        opinion="上门协助恢复设置并致歉；作业指导书增加“检定后恢复设置并请客户签字确认”一步。",
        approve=True,
        extend=(4, "需与设备厂家工程师共同上门核对原设置，厂家工程师最早下周到场，答复时间相应延后。"),
        carried_out="已与厂家工程师上门恢复原设置，客户签字确认；作业指导书修订稿已提交技术负责人。",
    ),
    # --- invalid, replied (the investigation result) ---------------------------------------------
    Spec(
        subject="血压计检定结果不合格有异议",
        channel=Channel.LETTER, link="bp_notice",
        complainant=HOSPITAL,
        description="我院电子血压计日常使用正常，贵中心却出具检定结果通知书判为不合格，请复核。",
        days_left=6, responsible=("tech2", "tech1"),
        findings="复核原始记录与标准器溯源证书：150 mmHg 点三次示值误差 +5、+6、+5 mmHg，超出 JJG 692-2010 "
        "最大允许误差 ±3 mmHg，检定过程与结论正确。",
        classification=ComplaintClass.INVALID,
        reply="经复核原始记录及标准器溯源情况，该血压计 150 mmHg 点示值误差超出 JJG 692-2010 规定的最大允许误差，"
        "检定结论正确。建议送厂家维修后重新送检。",
        publish=True,
    ),
    # --- general, replied and published, compensation approved -----------------------------------
    Spec(
        subject="归还心电图机时缺少一根导联线",
        channel=Channel.PORTAL, registered_by="portal",
        complainant=HOSPITAL,
        description="取回心电图机后清点附件，发现少了一根导联线。",
        days_left=4, responsible=("tech1", "tech2"),
        findings="样品接收时登记导联线 1 套，检定时拆分使用，归还时遗漏 1 根，属实；遗漏的导联线已损坏。",
        classification=ComplaintClass.GENERAL,
        opinion="赔偿同型号导联线一根并致歉；检定结束后按接收登记逐项清点附件。",
        approve=True,
        carried_out="已购置同型号导联线送交客户，客户签收。",
        compensation={"in_kind": "同型号导联线一根", "amount": "180.00",
                      "agreement": "与客户协商：赔偿同型号导联线一根（价值 180.00 元），客户同意。",
                      "approve": "同意，费用由中心承担。"},
        reply="经核查，导联线系检定后归还时遗漏，我们已赔偿同型号导联线一根，并改进了附件清点流程。特此致歉。",
    ),
    # --- closed ---------------------------------------------------------------------------------
    Spec(
        subject="电话预约上门时间多次变更",
        channel=Channel.HOTLINE,
        complainant=DENTAL,
        description="预约上门检定的时间被改了三次，影响诊所排班。",
        days_left=3, responsible=("tech2", "tech1"),
        findings="上门检定排期未考虑检定员外出培训，导致三次改期，属实。",
        classification=ComplaintClass.GENERAL,
        opinion="向客户致歉；上门排期前核对人员培训与请假安排。",
        approve=True,
        carried_out="已致电致歉并按客户方便的时间完成上门检定；排期表增加人员安排核对栏。",
        reply="经核查，改期系我中心排期未统筹人员安排所致，已改进排期流程，特此致歉。",
        close=(Feedback.SATISFIED, "客户表示满意。"),
    ),
    Spec(
        subject="对检定收费标准有异议",
        channel=Channel.LETTER,
        complainant={**MATERNITY, "complainant_address": "市健康路 18 号 医学工程部"},
        description="来函认为心电监护仪检定费用高于周边机构，要求降低收费。",
        days_left=-3, responsible=("tech1", "tech2"),
        findings="收费按物价部门核定的收费标准执行，发票与委托单一致，未多收费用。",
        classification=ComplaintClass.INVALID,
        reply="经核查，本中心按核定标准收费，本次收费无误。收费标准可在本中心网站查阅。",
        close=(Feedback.NOT_SATISFIED, "客户仍认为收费偏高，已告知价格主管部门的咨询渠道。"),
    ),
    # --- major quality incident, decision proposed, compensation waiting ---------------------------
    Spec(
        subject="输液泵校准结果与厂家复测差异大",
        channel=Channel.LETTER, link="pump_certificate",
        complainant={**MATERNITY, "complainant_email": "yxgc@maternity.example.cn"},
        description="来函：贵中心出具的输液泵校准证书流量示值误差很小，但厂家工程师复测发现 25 mL/h 点偏差约 8%，"
        "担心影响临床用药安全。",
        days_left=6, department=TECHNICAL, responsible=("techdeputy",),
        findings="复核发现校准所用流量标准器的温度修正系数录入错误，25 mL/h 与 100 mL/h 点结果偏小，"
        "同期使用该标准器出具的证书均可能受影响，属实。",
        classification=ComplaintClass.MAJOR, management_review=True,
        opinion="收回并作废受影响证书，免费重新校准；追溯同期证书并通知相关客户；开展专项内部审核。",
        compensation={"amount": "150.00", "in_kind": "免费重新校准并上门取送",
                      "agreement": "与客户协商：退还本次校准费 150.00 元，免费重新校准并上门取送。"},
    ),
]


def seed(users: dict) -> None:
    links = _links()
    for spec in SPECS:
        if not Complaint.objects.filter(subject=spec.subject).exists():
            _complaint(users, spec, links)


def _links() -> dict:
    """The demo records complaints name (missing ones are left out, not invented)."""

    def issued(type_, category):
        return (
            Certificate.objects.filter(
                type=type_, status=CertificateStatus.ISSUED, amends__isnull=True, record__sample__item__category__code=category
            ).order_by("pk").first()
        )

    maternity = Customer.objects.filter(name="市妇幼保健院").first()
    dental = Customer.objects.filter(name="仁和口腔门诊部").first()
    dental_sample = Sample.objects.filter(order__customer=dental, item__category__code="XR-DIAG").order_by("pk").first()
    return {
        "bp_notice": {"certificate": issued(CertificateType.VERIFICATION_NOTICE, "BP-NIBP")},
        "ecg_certificate": {"certificate": issued(CertificateType.VERIFICATION_CERTIFICATE, "ECG")},
        "pump_certificate": {"certificate": issued(CertificateType.CALIBRATION_CERTIFICATE, "PUMP-INF")},
        "maternity_order": {"order": Order.objects.filter(customer=maternity, items__category__code="PUMP-SYR").order_by("pk").first()},
        "dental_order": {"order": dental_sample.order if dental_sample else None},
        "dental_sample": {"sample": dental_sample},
    }


def _received_at(day: dt.date):
    """The afternoon before ``day`` (never in the future)."""
    at = timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=1), dt.time(15, 30)))
    return min(at, timezone.now() - dt.timedelta(hours=2))


def _complaint(users: dict, spec: Spec, links: dict) -> Complaint:
    lead, head = users["qualitylead"], users["head"]
    data = {**spec.complainant, "subject": spec.subject, "description": spec.description}
    data.update({k: v for k, v in links.get(spec.link, {}).items() if v is not None})
    today = timezone.localdate()
    accepted_on = due = None
    if spec.days_left is not None:
        due = workdays.add_working_days(today, spec.days_left)
        accepted_on = workdays.add_working_days(due, -services.REPLY_WORKING_DAYS)
    received_at = _received_at(accepted_on) if accepted_on else timezone.now() - dt.timedelta(hours=3)
    actor = {"counter": users["counter"], "portal": users["hospital1"], None: None}[spec.registered_by]
    complaint = services.register(actor=actor, channel=spec.channel, data=data, received_at=received_at)
    if spec.dismiss:
        return services.dismiss(actor=lead, complaint=complaint, reason=spec.dismiss)
    if accepted_on is None:
        return complaint
    involved = services.involvement(complaint)
    responsible = next(users[name] for name in (*spec.responsible, *FALLBACK) if users[name].pk not in involved)
    complaint = services.accept(
        actor=lead, complaint=complaint, department=spec.department, responsible_person=responsible, accepted_on=accepted_on
    )
    # The department's work: the responsible person's colleague where there is one.
    colleague = next(
        (users[name] for name in spec.responsible if users[name] != responsible), responsible
    )
    if spec.findings:
        complaint = services.record_findings(actor=responsible, complaint=complaint, findings=spec.findings)
    if spec.classification:
        complaint = services.classify(
            actor=lead, complaint=complaint, classification=spec.classification, substantiated=spec.substantiated,
            management_review=spec.management_review,
        )
    if spec.opinion:
        complaint = services.propose_opinion(actor=colleague, complaint=complaint, opinion=spec.opinion)
    if spec.approve:
        approver = head if spec.classification == ComplaintClass.MAJOR else responsible
        complaint = services.decide_opinion(actor=approver, complaint=complaint, approve=True)
    if spec.extend:
        days, explanation = spec.extend
        complaint = services.extend(
            actor=lead, complaint=complaint, new_due=workdays.add_working_days(today, days), explanation=explanation
        )
    if spec.carried_out:
        complaint = services.carry_out(actor=colleague, complaint=complaint, note=spec.carried_out)
    if spec.compensation:
        compensation = services.propose_compensation(
            actor=lead, complaint=complaint, amount=spec.compensation.get("amount"),
            in_kind=spec.compensation.get("in_kind", ""), agreement=spec.compensation["agreement"],
        )
        if "approve" in spec.compensation:
            services.decide_compensation(actor=head, compensation=compensation, approve=True, note=spec.compensation["approve"])
    if spec.reply:
        complaint = services.reply(actor=lead, complaint=complaint, text=spec.reply, publish=spec.publish)
    if spec.close:
        feedback, note = spec.close
        complaint = services.close(actor=lead, complaint=complaint, feedback=feedback, feedback_note=note)
    return complaint
