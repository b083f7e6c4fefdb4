"""Equipment with calibrations, complaints and corrective actions — with the daily jobs'
memory (alert rows) as it stands after yesterday's runs."""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings

from audits.scale.calendar import Calendar, add_months
from audits.scale.reference import MAKERS, Reference, person_name, weighted
from audits.scale.writer import Writer

# --- equipment, complaints, corrective actions -----------------------------------------------

EQUIPMENT_NAMES = [("无创血压模拟器", "standard"), ("精密数字压力计", "standard"), ("心电图机检定仪", "standard"),
                   ("多参数监护仪检定仪", "standard"), ("输液设备分析仪", "standard"), ("电刀分析仪", "standard"),
                   ("除颤器分析仪", "standard"), ("气流分析仪", "test"), ("数字多用表", "test"), ("秒表", "test"),
                   ("温湿度计", "environment"), ("电子天平", "test"), ("稳压电源", "auxiliary"), ("数据采集软件", "software")]
EQUIPMENT_STATUS = [("in_service", 85), ("restricted", 3), ("out_of_service", 2), ("under_repair", 1), ("off_site", 1),
                    ("retired", 8)]
STOPPED = {"out_of_service": "defective", "under_repair": "defective"}


def equipment(writer: Writer, ref: Reference, cal: Calendar, rng: random.Random, count: int, *, batch: int, progress):
    from equipment.models import Calibration, Equipment

    items = writer.sink(Equipment, [
        "id", "lab_id", "name", "model", "manufacturer", "serial_number", "kind", "location", "measuring_range",
        "accuracy", "calibrating_body", "custodian_id", "purchased_on", "commissioned_on", "needs_calibration",
        "calibration_interval_months", "last_calibrated_on", "calibration_due", "last_certificate_no", "status",
        "stop_reason", "status_note", "status_changed_at"])
    calibrations = writer.sink(Calibration, [
        "id", "equipment_id", "provider", "certificate_no", "calibrated_on", "result", "next_due", "recorded_by_id",
        "recorded_at", "confirmation", "confirmed_by_id", "confirmed_at", "approved_by_id", "approved_at"])
    from equipment.models import Alert
    from equipment.services.job import NEVER

    # The daily job has been running: what it would have flagged up to yesterday is in its
    # memory (Alert rows), so today's run meets only what changed today.
    alerts = writer.sink(Alert, ["id", "equipment_id", "state", "due", "created_at"])
    today = cal.local_date(timezone_now())
    yesterday = today - dt.timedelta(days=1)
    window = dt.timedelta(days=settings.EQUIPMENT_DUE_SOON_DAYS)
    alerted_at = dt.datetime(yesterday.year, yesterday.month, yesterday.day, 7, tzinfo=cal.tz)
    pick_status = weighted(rng, EQUIPMENT_STATUS)
    for n in range(count):
        pk = items.next_id()
        name, kind = rng.choice(EQUIPMENT_NAMES)
        status = pick_status()
        needs = kind not in ("auxiliary", "software") or rng.random() < 0.2
        interval = rng.choice((12, 12, 12, 24, 6))
        purchased = today - dt.timedelta(days=rng.randint(200, 4000))
        last = due = None
        certificate_no = ""
        if needs:
            roll = rng.random()
            if status == "retired":
                last = purchased + dt.timedelta(days=rng.randint(0, 150))
            elif roll < 0.002:
                last = None  # needs calibration, none on record: the job flags it
            elif roll < 0.005:
                last = add_months(today, -interval) - dt.timedelta(days=rng.randint(1, 60))  # overdue
            else:
                last = today - dt.timedelta(days=rng.randint(0, interval * 30 - 1))
            if last is not None:
                last = max(last, purchased)
                due = add_months(last, interval)
                certificate_no = f"JZ{last.year}-{rng.randrange(1, 999999):06d}"
                moment = dt.datetime(last.year, last.month, last.day, 10, tzinfo=cal.tz)
                calibrations.add(calibrations.next_id(), pk, "省计量科学研究院", certificate_no, last, "pass", due,
                                 ref.techs[n % len(ref.techs)], moment, "fit", ref.techs[(n + 1) % len(ref.techs)],
                                 moment + dt.timedelta(days=1), ref.leads[0], moment + dt.timedelta(days=2))
        if needs and status != "retired":
            if last is None:
                alerts.add(alerts.next_id(), pk, "overdue", NEVER, alerted_at)
            elif due <= yesterday + window:
                alerts.add(alerts.next_id(), pk, "due_soon", due, alerted_at)
                if due < yesterday:
                    alerts.add(alerts.next_id(), pk, "overdue", due, alerted_at)
        changed = dt.datetime(purchased.year, purchased.month, purchased.day, 9, tzinfo=cal.tz)
        items.add(pk, f"SC{pk:06d}", name, f"M-{rng.randint(100, 999)}", rng.choice(MAKERS), f"{rng.randrange(10**8)}",
                  kind, rng.choice(["电学实验室", "力学实验室", "超声实验室", "放射实验室", "仓库"]), "—", "—",
                  "省计量科学研究院" if needs else "", rng.choice(ref.techs), purchased, purchased + dt.timedelta(days=30),
                  needs, interval if needs else None, last, due, certificate_no, status, STOPPED.get(status, ""),
                  "限用于常规项目" if status == "restricted" else "", changed)
        if (n + 1) % batch == 0 or n == count - 1:
            writer.commit()
            progress(f"equipment {n + 1:,}/{count:,}")


COMPLAINT_SUBJECTS = ["证书信息有误", "检定结果有异议", "取件等待时间过长", "收费有疑问", "器具返还时有划痕",
                      "服务态度", "未按约定时间完成", "现场检定安排"]


def complaints(writer: Writer, ref: Reference, cal: Calendar, rng: random.Random, count: int, *, years: int, batch: int,
               progress) -> None:
    from complaints.models import Complaint

    names = ["id", "number", "channel", "received_at", "registered_by_id", "complainant_name", "complainant_organisation",
             "complainant_phone", "complainant_email", "customer_id", "subject", "description", "status",
             "dismissed_reason", "accepted_on", "accepted_by_id", "department", "responsible_person_id", "reply_due",
             "due_provisional", "original_due", "findings", "classification", "classified_by_id", "classified_at",
             "substantiated", "reported_to_head_at", "management_review_needed", "opinion", "opinion_by_id", "opinion_at",
             "opinion_approved_by_id", "opinion_approved_at", "carried_out_note", "carried_out_by_id", "carried_out_at",
             "reply", "replied_on", "replied_by_id", "feedback", "feedback_note", "closed_at", "closed_by_id",
             "created_at"]
    from complaints.models import ComplaintAlert

    rows = writer.sink(Complaint, names)
    alerts = writer.sink(ComplaintAlert, ["id", "complaint_id", "state", "due", "at"])
    now = timezone_now()
    yesterday = cal.local_date(now) - dt.timedelta(days=1)
    near = settings.COMPLAINTS_NEAR_DEADLINE_DAYS
    today = cal.at_or_before(cal.local_date(now))
    # At most 9 999 a year keeps the TS2026-0001 format (four digits).
    span = max(years * 245, -(-count // 9000) * 245)
    first = max(today - span, 0)
    quality, head = ref.quality, ref.head
    channels = ["hotline", "suggestion_box", "reception", "online", "portal", "letter"]
    for n in range(count):
        day = first + (n * (today - first + 1)) // count
        received = cal.moment(day, rng.randrange(0, 510))
        if received > now:
            received = now - dt.timedelta(minutes=5)
        customer = ref.customers[rng.randrange(len(ref.customers))] if rng.random() < 0.7 else None
        channel = rng.choice(channels)
        v = {k: None for k in names}
        v.update(id=rows.next_id(), number=writer.number("complaint", cal.local_date(received).year), channel=channel,
                 received_at=received, registered_by_id=None if channel == "online" else quality,
                 complainant_name=person_name(rng), complainant_organisation=customer[1] if customer else "",
                 complainant_phone=f"139{rng.randrange(10**8):08d}", complainant_email="",
                 customer_id=customer[0] if customer else None, subject=rng.choice(COMPLAINT_SUBJECTS),
                 description="来电反映相关问题，要求核实并答复。", status="registered", dismissed_reason="", department="",
                 due_provisional=False, findings="", classification="", substantiated=False, management_review_needed=False,
                 opinion="", carried_out_note="", reply="", feedback="", feedback_note="", created_at=received)

        def step(days, after, day=day):
            moment = cal.moment(day + days, rng.randrange(0, 480))
            return max(moment, after + dt.timedelta(minutes=5))

        accepted = step(rng.randint(0, 1), received)
        if accepted <= now and rng.random() < 0.08:
            v.update(status="dismissed", dismissed_reason="不属于本机构职责范围，已告知投诉人向主管部门反映。")
        elif accepted <= now:
            accepted_on = cal.local_date(accepted)
            due = cal.add(accepted_on, 10)
            v.update(status="accepted", accepted_on=accepted_on, accepted_by_id=quality, department="医学计量室",
                     responsible_person_id=rng.choice(ref.techs), reply_due=due, original_due=due,
                     due_provisional=due > cal.covered_until)
            kind = weighted(rng, [("invalid", 40), ("general", 58), ("major", 2)])()
            t = step(rng.randint(2, 4), accepted)
            ladder = [("classified", t)]
            if kind != "invalid":
                for state in ("proposed", "approved", "carried_out"):
                    t = step(rng.randint(4, 6) if state == "proposed" else rng.randint(5, 7), t)
                    ladder.append((state, t))
            ontime = rng.random() < 0.92
            reply_day = cal.index[due] - rng.randint(0, 1) if ontime else cal.index[due] + rng.randint(1, 3)
            replied = max(cal.moment(reply_day, rng.randrange(0, 480)), t + dt.timedelta(minutes=5))
            ladder.append(("replied", replied))
            ladder.append(("closed", replied + dt.timedelta(days=rng.randint(3, 20))))
            for state, moment in ladder:
                if moment > now:
                    break
                v["status"] = state
                if state == "classified":
                    v.update(findings="经调查核实，情况如下：……", classification=kind, classified_by_id=quality,
                             classified_at=moment, substantiated=kind != "invalid" and rng.random() < 0.5,
                             reported_to_head_at=moment if kind == "major" else None,
                             management_review_needed=kind == "major")
                elif state == "proposed":
                    v.update(opinion="向客户说明情况并免费复检。", opinion_by_id=quality, opinion_at=moment)
                elif state == "approved":
                    v.update(opinion_approved_by_id=head if kind == "major" else v["responsible_person_id"],
                             opinion_approved_at=moment)
                elif state == "carried_out":
                    v.update(carried_out_note="已按处理意见执行。", carried_out_by_id=v["responsible_person_id"],
                             carried_out_at=moment)
                elif state == "replied":
                    v.update(reply="经核实，……特此答复。", replied_on=cal.local_date(moment), replied_by_id=quality)
                else:
                    v.update(feedback=weighted(rng, [("satisfied", 85), ("not_satisfied", 5), ("no_response", 10)])(),
                             closed_at=moment, closed_by_id=quality)
        rows.add(*(v[k] for k in names))
        due = v["reply_due"]
        if v["status"] in ("accepted", "classified", "proposed", "approved", "carried_out") and v["accepted_on"] < yesterday:
            # what yesterday's near-deadline run flagged (the job's memory)
            at = cal.moment(cal.at_or_before(yesterday), 0)
            if due < yesterday:
                alerts.add(alerts.next_id(), v["id"], "overdue", due, at)
            elif cal.index[due] - cal.at_or_before(yesterday) <= near:
                alerts.add(alerts.next_id(), v["id"], "near_deadline", due, at)
        if (n + 1) % batch == 0 or n == count - 1:
            writer.commit()
            progress(f"complaints {n + 1:,}/{count:,}")


def actions(writer: Writer, ref: Reference, cal: Calendar, rng: random.Random, count: int, *, years: int,
            progress) -> None:
    """One scheduled internal audit a year, its findings and one corrective action each."""
    from audits.models import Audit, CorrectiveAction, Finding

    audits = writer.sink(Audit, [
        "id", "number", "kind", "title", "clauses", "areas", "planned_start", "planned_end", "lead_auditor_id", "status",
        "started_on", "conclusions", "reported_by_id", "reported_at", "created_by_id", "created_at"])
    findings = writer.sink(Finding, [
        "id", "number", "grade", "source", "clause", "area", "description", "raised_by_id", "raised_on", "responsible_id",
        "status", "closed_at", "audit_id"])
    rows = writer.sink(CorrectiveAction, [
        "id", "finding_id", "action", "root_cause", "responsible_id", "due_on", "status", "proposed_by_id",
        "proposed_at", "accepted_by_id", "accepted_at", "done_note", "done_at", "verified_by_id", "verified_at",
        "verification_note"])
    from audits.models import ActionAlert

    alerts = writer.sink(ActionAlert, ["id", "action_id", "due", "at"])
    now = timezone_now()
    today = cal.local_date(now)
    yesterday = today - dt.timedelta(days=1)
    quality = ref.quality
    per_year = -(-count // years)
    made = 0
    for year in range(today.year - years + 1, today.year + 1):
        if made >= count:
            break
        start = max(dt.date(year, 3, 10), cal.days[0])
        if start > today:
            start = cal.days[cal.at_or_before(today) - 5]
        audit_id = audits.next_id()
        moment = cal.moment(cal.at_or_before(start), 0)
        audits.add(audit_id, writer.number("audit", year), "scheduled", f"{year} 年度内部审核", ["4", "5", "6", "7", "8"],
                   ["医学计量室", "业务受理室"], start, start + dt.timedelta(days=2), quality, "reported", start,
                   "管理体系运行基本有效。", quality, moment + dt.timedelta(days=3), quality, moment - dt.timedelta(days=30))
        for _n in range(min(per_year, count - made, 999)):
            raised_on = start + dt.timedelta(days=rng.randint(0, 2) + (_n * 300) // per_year)
            if raised_on > today:
                raised_on = today
            responsible = rng.choice(ref.techs)
            proposed = dt.datetime(raised_on.year, raised_on.month, raised_on.day, 10, tzinfo=cal.tz) + dt.timedelta(days=2)
            due = raised_on + dt.timedelta(days=30)
            accepted = proposed + dt.timedelta(days=1)
            done = proposed + dt.timedelta(days=rng.randint(5, 40))
            verified = done + dt.timedelta(days=rng.randint(1, 10))
            status = "proposed"
            for state, moment in (("in_progress", accepted), ("done", done), ("closed", verified)):
                if moment <= now:
                    status = state
            finding_id = findings.next_id()
            findings.add(finding_id, writer.number("finding", year), weighted(rng, [("minor", 70), ("observation", 27),
                                                                                   ("major", 3)])(),
                         "audit", "7.5", "医学计量室", "原始记录信息不完整。", raised_by_id := quality, raised_on, responsible,
                         "closed" if status == "closed" else "action", verified if status == "closed" else None, audit_id)
            action_id = rows.next_id()
            if status != "closed" and due < yesterday:  # notified by an earlier daily run
                alerts.add(alerts.next_id(), action_id, due,
                           dt.datetime(yesterday.year, yesterday.month, yesterday.day, 7, tzinfo=cal.tz))
            rows.add(action_id, finding_id, "修订记录模板并培训相关人员。", "记录模板缺少必填项。", responsible, due,
                     status, responsible, proposed, raised_by_id if status != "proposed" else None,
                     accepted if status != "proposed" else None, "已完成。" if status in ("done", "closed") else "",
                     done if status in ("done", "closed") else None, quality if status == "closed" else None,
                     verified if status == "closed" else None, "措施有效。" if status == "closed" else "")
            made += 1
        writer.commit()
    progress(f"corrective actions {made:,}")


def timezone_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()
