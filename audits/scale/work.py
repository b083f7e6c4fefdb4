"""Orders and everything that follows from them — samples, tasks, records with their
check rounds, certificates, seal uses, payments, releases, completion notices — one
timeline per sample, cut at *now*."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

from django.conf import settings
from django.db import connection

from audits.scale.calendar import Calendar, add_months
from audits.scale.reference import MAKERS, Reference, person_name, weighted
from audits.scale.writer import RawJSON, Writer
from labqms.pdf import lab_name

CHANNELS = [("counter", 60), ("phone", 15), ("online", 15), ("on_site", 10)]
LINES = [(1, 55), (2, 30), (3, 15)]
QUANTITY = [(1, 60), (2, 20), (3, 10), (4, 6), (6, 4)]
# "late": the customer pays weeks after completion, and collects only then.
PAYMENT = [("prepaid", 40), ("at_release", 52), ("credit", 5), ("late", 3)]
PAY_METHODS = ["transfer", "transfer", "card", "mobile", "cash"]
ONE_MINUTE = dt.timedelta(minutes=1)


class Work:
    """Orders and everything that follows from them, generated day by day."""

    def __init__(self, writer: Writer, ref: Reference, cal: Calendar, rng: random.Random, *, now: dt.datetime,
                 first_day: int, samples: int, certificates: int, pdf: tuple[str, str]):
        from certificates.models import Certificate, Record, RecordCheck, SealUse, Task
        from intake.models import (
            ContractReview,
            CustomerNotice,
            Order,
            OrderItem,
            Payment,
            Release,
            Sample,
        )

        self.w, self.ref, self.cal, self.rng, self.now = writer, ref, cal, rng, now
        self.first_day, self.today = first_day, cal.at_or_before(cal.local_date(now))
        self.samples_left, self.certs_left = samples, certificates
        self.pdf_name, self.pdf_hash = pdf
        self.counts = {"orders": 0, "samples": 0, "certificates": 0, "issued": 0}
        self.orders = writer.sink(Order, [
            "id", "number", "channel", "work_location", "customer_id", "contact_id", "status", "sample_disposal",
            "created_at", "created_by_id", "confirmed_by_name", "confirmed_at", "confirmation_method",
            "confirmation_recorded_by_id", "accepted_on", "accepted_by_id", "due_date", "due_date_provisional",
            "completed_at", "released_at", "credit_approved_by_id", "credit_approved_at", "credit_reason"])
        self.items = writer.sink(OrderItem, [
            "id", "order_id", "line_no", "instrument_name", "category_id", "model", "serial_number", "manufacturer",
            "quantity", "service", "in_scope", "disposition", "disposition_reason", "unit_fee"])
        self.reviews = writer.sink(ContractReview, [
            "id", "order_id", "reviewer_id", "reviewed_at", "lawful", "requirements_clear", "competent", "terms_agreed",
            "decision", "deviations", "fee_total"])
        self.payments = writer.sink(Payment, ["id", "order_id", "amount", "method", "receipt_no", "paid_at", "recorded_by_id"])
        self.releases = writer.sink(Release, [
            "id", "order_id", "receiver_name", "receiver_id_document", "handed_over", "certificate_numbers", "released_at",
            "released_by_id"])
        self.notices = writer.sink(CustomerNotice, [
            "id", "order_id", "kind", "recipient", "subject", "body", "status", "created_at", "created_by_id", "sent_at",
            "error"])
        self.samples = writer.sink(Sample, [
            "id", "sample_id", "order_id", "item_id", "unit_no", "serial_number", "status", "location_id", "release_id",
            "expects_certificate", "certificate_numbers", "updated_at"])
        self.tasks = writer.sink(Task, [
            "id", "sample_id", "service", "method_id", "performer_id", "checker_id", "status", "assigned_by_id",
            "assigned_at"])
        self.records = writer.sink(Record, [
            "id", "number", "task_id", "sample_id", "method_id", "template_id", "instrument", "measured_on", "place",
            "on_site", "temperature", "humidity", "environment_ok", "environment_at", "conclusion", "status",
            "performer_id", "created_at", "first_signed_at", "signed_at", "checker_id", "checked_at", "keep_until"])
        self.checks = writer.sink(RecordCheck, ["id", "record_id", "checker_id", "outcome", "at"])
        self.certificates = writer.sink(Certificate, [
            "id", "record_id", "type", "status", "number", "verification_code", "created_by_id", "created_at",
            "approved_by_id", "approved_at", "issued_at", "valid_until", "content", "pdf", "sha256"])
        self.seal_uses = writer.sink(SealUse, ["id", "seal_id", "certificate_id", "used_by_id", "used_at"])
        self.to_check: list[int] = []  # records inserted signed, to be marked checked after their check round
        self.pick_channel = weighted(rng, CHANNELS)
        self.pick_lines = weighted(rng, LINES)
        self.pick_quantity = weighted(rng, QUANTITY)
        self.pick_payment = weighted(rng, PAYMENT)
        weights = {"BP-NIBP": 30, "BP-MAN": 12, "MON-ECG": 10, "PUMP-INF": 10, "PUMP-SYR": 8, "ECG": 8}
        self.pick_category = weighted(rng, [(c, weights.get(c.code, 3)) for c in ref.categories])
        self.expected_per_order = (sum(v * w for v, w in LINES) / 100) * (sum(v * w for v, w in QUANTITY) / 100)
        self._texts()
        self._content_parts = {}

    def ri(self, a: int, b: int) -> int:
        """``random.randint`` without its checks (called millions of times)."""
        return a + int(self.rng.random() * (b - a + 1))

    def pick(self, values):
        return values[int(self.rng.random() * len(values))]

    def _texts(self) -> None:
        from django.utils import translation
        from django.utils.translation import gettext

        with translation.override(settings.LANGUAGE_CODE):
            self.t_subject = gettext("Order %(number)s is ready for collection")
            self.t_body = gettext(
                "The work on order %(number)s is complete. Please collect the instruments and "
                "certificates at the counter; bring this order number and an ID document."
            )
            self.t_no_email = gettext("No e-mail address on file; call the customer.")
            self.t_credit = "长期合作单位，月结"
            self.lab_name = lab_name()
        self.lab_address = settings.LABQMS_LAB_ADDRESS

    # -- pacing ------------------------------------------------------------------------------

    def run(self, *, batch: int, progress) -> None:
        days = self.today - self.first_day + 1
        # The work grows a little over the years; today's share of what is left is
        # recomputed every day, so the sample total lands on the target.
        weights = [0.8 + 0.4 * i / max(days - 1, 1) for i in range(days)]
        left = [0.0] * (days + 1)
        for i in range(days - 1, -1, -1):
            left[i] = left[i + 1] + weights[i]
        per_order = self.expected_per_order * 0.96  # declined, cancelled, drafts and refused lines have none
        carry, pending = 0.0, 0
        for i, weight in enumerate(weights):
            carry += max(self.samples_left, 0) / per_order * weight / left[i]
            count, carry = int(carry), carry - int(carry)
            day = self.first_day + i
            for minute in sorted(self.ri(0, 509) for _ in range(count)):
                if self.samples_left <= 0:
                    break
                pending += self.order(day, minute)
            if pending >= batch or i == days - 1:
                pending = 0
                self.flush()
                progress(self)

    def flush(self) -> None:
        ids, self.to_check = self.to_check, []
        if ids:
            if connection.vendor == "postgresql":
                self.w.after.append(("UPDATE certificates_record SET status = 'checked' WHERE id = ANY(%s)", [ids]))
            else:
                for i in range(0, len(ids), 500):
                    part = ids[i:i + 500]
                    self.w.after.append((
                        f"UPDATE certificates_record SET status = 'checked' WHERE id IN ({', '.join(['%s'] * len(part))})",
                        part))
        self.w.commit()

    # -- one order ---------------------------------------------------------------------------

    def order(self, day: int, minute: int) -> int:
        ri, pick = self.ri, self.pick
        rng, cal, ref, now = self.rng, self.cal, self.ref, self.now
        date = cal.days[day]
        created = cal.moment(day, minute)
        order_id = self.orders.next_id()
        number = self.w.number("order", date.year)
        customer_id, customer_name, _address, email, contact_id = ref.pick_customer()
        channel = self.pick_channel()
        on_site = channel == "on_site"
        counter = pick(ref.counter)
        reviewed_at = created + dt.timedelta(minutes=ri(5, 60))
        accepted_at = reviewed_at + dt.timedelta(minutes=ri(2, 30))
        fate = rng.random()
        declined, cancelled = fate < 0.01, 0.01 <= fate < 0.025
        # lines
        lines, fee_total, turnaround = [], Decimal("0"), 1
        for line_no in range(1, self.pick_lines() + 1):
            refused = rng.random() < 0.01 and ref.out_of_scope
            category = pick(ref.out_of_scope) if refused else self.pick_category()
            quantity = self.pick_quantity()
            maker = pick(MAKERS)
            serials = [f"{maker[:1]}{ri(10**7, 10**8 - 1)}" for _ in range(quantity)]
            item_id = self.items.next_id()
            service = category.proposed_service()
            fee = Decimal("0") if refused else category.standard_fee
            self.items.add(item_id, order_id, line_no, category.name_zh, category.pk, f"{maker[:2]}-{ri(100, 9999)}",
                           ", ".join(serials), maker, quantity, service, not refused,
                           "refuse" if refused else "accept", "超出本机构授权范围" if refused else "", fee)
            fee_total += fee * quantity
            if not refused:
                turnaround = max(turnaround, category.turnaround_days)
                lines.append((item_id, category, quantity, serials, service))
        declined = declined or not lines  # every line out of scope: the review declines the order
        status = "draft"
        review = reviewed_at <= now and not cancelled
        if review:
            status = "declined" if declined else ("reviewed" if accepted_at > now else "accepted")
        elif cancelled and reviewed_at <= now:
            status = "cancelled"
        if review:
            self.reviews.add(self.reviews.next_id(), order_id, counter, reviewed_at, True, True, not declined, True,
                             "decline" if declined else "accept", "本机构无相应测量能力" if declined else "", fee_total)
        accepted = status == "accepted"
        confirmed = review and not declined
        due = cal.add(date, turnaround) if accepted else None
        row = dict(completed=None, released=None, credit_by=None, credit_at=None)
        if accepted:
            status = self._work(order_id, number, day, accepted_at, lines, on_site, turnaround, fee_total, email, counter, row,
                                customer_name)
        self.orders.add(
            order_id, number, channel, "on_site" if on_site else "lab", customer_id, contact_id, status,
            "客户自取" if rng.random() < 0.9 else "邮寄返还", created, counter,
            person_name(rng) if confirmed else "", accepted_at - ONE_MINUTE if confirmed else None,
            ("portal" if channel == "online" else "paper") if confirmed else "", counter if confirmed else None,
            date if accepted else None, counter if accepted else None, due,
            bool(due and due > cal.covered_until), row["completed"], row["released"], row["credit_by"], row["credit_at"],
            self.t_credit if row["credit_at"] else "")
        self.counts["orders"] += 1
        return sum(q for _i, _c, q, _s, _v in lines) if accepted else 0

    def _work(self, order_id, number, day, accepted_at, lines, on_site, turnaround, fee_total, email, counter, row,
              customer_name) -> str:
        ri, pick = self.ri, self.pick
        """The samples of an accepted order and the order's status at *now*."""
        rng, now, cal = self.rng, self.now, self.cal
        late = rng.random() < 0.12
        unit, finished, done_at, samples = 0, True, accepted_at, []
        for item_id, category, quantity, serials, service in lines:
            for index in range(quantity):
                unit += 1
                sample = self._sample(f"{number}-{unit:02d}", item_id, index, category, serials[index], service,
                                      day, accepted_at, on_site, turnaround, late, customer_name)
                samples.append(sample)
                if sample["done_at"] is None or sample["done_at"] > now:
                    finished = False
                elif sample["done_at"] > done_at:
                    done_at = sample["done_at"]
        payment = self.pick_payment()
        if payment == "prepaid":
            self.payments.add(self.payments.next_id(), order_id, fee_total, pick(PAY_METHODS),
                              f"SJ{order_id:09d}", accepted_at + ONE_MINUTE, counter)
        status, release_id = "accepted", None
        if finished:
            status, row["completed"] = "completed", done_at
            self._notice(order_id, number, email, done_at)
            handed = [s for s in samples if s["status"] != "returned"]
            if not handed:
                status, row["released"] = "released", done_at
            else:
                wait = ri(20, 60) if payment == "late" else ri(0, 10)
                collect = cal.moment(cal.at_or_before(cal.local_date(done_at)) + wait, ri(0, 479))
                collect = max(collect, done_at + dt.timedelta(minutes=30))
                if payment == "credit":
                    row["credit_by"], row["credit_at"] = self.ref.head, done_at + dt.timedelta(minutes=10)
                if payment in ("at_release", "late") and collect <= now:
                    self.payments.add(self.payments.next_id(), order_id, fee_total, pick(PAY_METHODS),
                                      f"SJ{order_id:09d}", collect - ONE_MINUTE, counter)
                if collect <= now:
                    status, row["released"] = "released", collect
                    release_id = self.releases.next_id()
                    numbers = [n for s in handed for n in s["numbers"]]
                    self.releases.add(release_id, order_id, person_name(rng), f"身份证 ****{ri(1000, 9998)}",
                                      f"器具 {len(handed)} 台，证书 {len(numbers)} 份", numbers, collect, counter)
        for s in samples:
            state, updated = s["status"], s["updated"]
            if release_id and state == "ready":
                state, updated = "released", row["released"]
            self.samples.add(s["id"], s["sample_id"], order_id, s["item_id"], s["unit"], s["serial"], state,
                             s["location"], release_id if state == "released" else None, s["expects"], s["numbers"], updated)
        return status

    def _notice(self, order_id, number, email, at) -> None:
        values = {"number": number}
        self.notices.add(self.notices.next_id(), order_id, "completion", email, self.t_subject % values,
                         self.t_body % values, "sent" if email else "failed", at, self.ref.counter[0],
                         at + ONE_MINUTE if email else None, "" if email else self.t_no_email)

    def _sample(self, sample_id, item_id, index, category, serial, service, day, accepted_at, on_site,
                turnaround, late, customer_name) -> dict:
        ri, pick = self.ri, self.pick
        rng, now, cal, ref = self.rng, self.now, self.cal, self.ref
        pk = self.samples.next_id()
        self.counts["samples"] += 1
        received = None if on_site else accepted_at + dt.timedelta(minutes=ri(1, 20))
        location = None if on_site else pick(ref.locations)
        p_cert = self.certs_left / self.samples_left if self.samples_left > 0 else 0.0
        self.samples_left -= 1
        sample = {"id": pk, "sample_id": sample_id, "item_id": item_id, "unit": index + 1, "serial": serial,
                  "location": location, "expects": False, "numbers": [], "done_at": None}
        if rng.random() >= p_cert:  # returned untested (customer withdrew, cannot be tested …)
            back = cal.moment(day + ri(0, 2), ri(0, 479))
            back = max(back, accepted_at + dt.timedelta(minutes=30))
            if back <= now:
                sample.update(status="returned", updated=back, done_at=back)
            elif received and received <= now:
                sample.update(status="received", updated=received)
            else:
                sample.update(status="registered", updated=accepted_at)
            return sample
        self.certs_left -= 1
        # the working days the work takes, on time or late
        start_day = day + (ri(0, max(turnaround - 2, 0)) if not late else turnaround + ri(0, 3))
        assign = max(cal.moment(max(start_day - 1, day), ri(0, 479)), accepted_at + dt.timedelta(minutes=25))
        start = max(cal.moment(start_day, ri(0, 299)), assign + dt.timedelta(minutes=5))
        signed = start + dt.timedelta(minutes=ri(30, 180))
        check_day = start_day + (1 if rng.random() < 0.3 else 0)
        checked = max(cal.moment(check_day, ri(0, 479)), signed + dt.timedelta(minutes=10))
        issue_day = check_day + (1 if rng.random() < 0.4 else 0)
        issued = max(cal.moment(issue_day, ri(0, 479)), checked + dt.timedelta(minutes=10))
        ready = issued + dt.timedelta(minutes=ri(20, 240))
        if received is not None and now < received:
            sample.update(status="registered", updated=accepted_at)
            return sample
        if now < assign:
            sample.update(status="received" if received else "registered", updated=received or accepted_at)
            return sample
        techs = ref.techs
        first = ri(0, len(techs) - 1)
        performer, checker = techs[first], techs[(first + ri(1, len(techs) - 1)) % len(techs)]
        lead = pick(ref.leads)
        method_id, template_id, method, template, points = ref.method_of[category.pk]
        task_id = self.tasks.next_id()
        task_status = ("assigned" if now < start else "in_progress" if now < signed
                       else "awaiting_check" if now < checked else "checked")
        self.tasks.add(task_id, pk, service, method_id, performer, checker, task_status, lead, assign)
        if now < start:
            sample.update(status="received" if received else "registered", updated=received or accepted_at)
            return sample
        # the record
        record_id = self.records.next_id()
        record_number = self.w.number("record", cal.local_date(start).year)
        measured_on = cal.local_date(start)
        if service == "verification":
            conclusion = "fail" if rng.random() < 0.04 else "pass"
        else:
            conclusion = "calibrated" if service == "calibration" else "tested"
        state = "draft" if now < signed else "signed"
        months = category.verification_period_months or settings.RECORDS_DEFAULT_INTERVAL_MONTHS
        instrument = {"name": category.name_zh, "model": "", "serial_number": serial, "manufacturer": "", "asset_number": "",
                      "accessories": "", "category": category.code, "category_name": category.name_zh,
                      "customer": customer_name, "order": sample_id.rsplit("-", 1)[0], "sample_id": sample_id}
        temperature = Decimal(ri(190, 250)) / 10
        humidity = Decimal(ri(350, 650)) / 10
        is_checked = now >= checked
        self.records.add(
            record_id, record_number, task_id, pk, method_id, template_id, instrument, measured_on,
            self.lab_address if not on_site else "客户现场", on_site, temperature, humidity, True,
            start + dt.timedelta(minutes=3), conclusion if state == "signed" else "", state, performer, start,
            signed if state == "signed" else None, signed if state == "signed" else None,
            checker if is_checked else None, checked if is_checked else None,
            add_months(cal.local_date(signed), 2 * months) if state == "signed" else None)
        sample["expects"] = True
        if not is_checked:
            sample.update(status="in_test", updated=start)
            return sample
        self.checks.add(self.checks.next_id(), record_id, checker, "checked", checked)
        self.to_check.append(record_id)
        # the certificate
        cert_type = {"calibration": "calibration_certificate", "testing": "test_report"}.get(
            service, "verification_certificate" if conclusion == "pass" else "verification_notice")
        cert_id = self.certificates.next_id()
        self.counts["certificates"] += 1
        code = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=8))
        if now < issued:
            self.certificates.add(cert_id, record_id, cert_type, "draft", None, code, performer, checked + ONE_MINUTE,
                                  None, None, None, None, {}, "", "")
            sample.update(status="tested", updated=checked)
            return sample
        issued_on = cal.local_date(issued)
        cert_number = self.w.number(_NUMBER_KEYS[cert_type], issued_on.year)
        valid_until = add_months(measured_on, months) if cert_type == "verification_certificate" and \
            category.verification_period_months else None
        content = self._content(cert_type, cert_number, code, category, instrument, record_number, measured_on,
                                temperature, humidity, conclusion, performer, checker, lead, issued, valid_until, service,
                                template, points)
        self.certificates.add(cert_id, record_id, cert_type, "issued", cert_number, code, performer, checked + ONE_MINUTE,
                              lead, issued - ONE_MINUTE, issued, valid_until, content, self.pdf_name, self.pdf_hash)
        self.seal_uses.add(self.seal_uses.next_id(), ref.seal_of[_SEAL_KIND[cert_type]], cert_id, lead, issued)
        self.counts["issued"] += 1
        sample["numbers"] = [cert_number]
        if now < ready:
            sample.update(status="tested", updated=issued)
        else:
            sample.update(status="ready", updated=ready, done_at=ready)
        return sample

    def _content(self, cert_type, number, code, category, instrument, record_number, measured_on, temperature, humidity,
                 conclusion, performer, checker, lead, issued, valid_until, service, template, points) -> RawJSON:
        """What the certificate printed, with the keys ``build_content`` writes; the parts
        shared by every certificate of a category are serialised once."""
        key = (category.pk, cert_type)
        shared = self._content_parts.get(key)
        if shared is None:
            method = self.ref.method_of[category.pk][2]
            rows = [{"point": f"{p.nominal.normalize():f} {template.unit}", "nominal": f"{p.nominal.normalize():f}",
                     "mean": f"{p.nominal.normalize():f}", "error": "0", "mpe": f"{(p.tolerance or 0):f}".rstrip("0").rstrip("."),
                     "conforms": cert_type != "verification_notice" or i > 0, "U": f"{p.default_uncertainty or ''}",
                     "k": "2" if p.default_uncertainty else ""} for i, p in enumerate(points)]
            shared_dict = {
                "type": cert_type, "lab": {"name": self.lab_name, "address": self.lab_address, "phone": "", "authorisation": ""},
                "method": {"code": method.full_code, "title": method.title, "edition": method.edition},
                "standards": [], "unit": template.unit, "quantity": template.quantity,
                "phases": [{"phase": "as_found", "label": "", "rows": rows}], "adjusted": False, "adjustment_notes": "",
                "inspections": [{"item": i, "ok": "yes", "note": ""} for i in template.inspection_items],
                "failed_items": [rows[0]["point"]] if cert_type == "verification_notice" and rows else [],
                "conformity": None, "interval_months": None, "service": service, "amendment_checker": "",
                "approver_deputy_of": "", "amendment": None, "remarks": "", "seal": "",
            }
            shared = self._content_parts[key] = json.dumps(shared_dict, ensure_ascii=False, separators=(",", ":"))[1:]
        names = self.ref.names
        own = {
            "number": number, "verification_code": code,
            "verify_path": f"/verify/?number={number}&code={code}",
            "customer": instrument.get("customer", ""), "customer_address": "", "instrument": instrument,
            "environment": {"temperature": str(temperature), "humidity": str(humidity)}, "place": self.lab_address,
            "measured_on": measured_on.isoformat(), "conclusion": conclusion,
            "valid_until": valid_until.isoformat() if valid_until else "", "record_number": record_number,
            "performer": names[performer], "checker": names[checker], "approver": names[lead],
            "approved_at": (issued - ONE_MINUTE).astimezone(self.cal.tz).strftime("%Y-%m-%d %H:%M"),
            "issued_on": self.cal.local_date(issued).isoformat(),
        }
        return RawJSON(json.dumps(own, ensure_ascii=False, separators=(",", ":"))[:-1] + "," + shared)


_NUMBER_KEYS = {"verification_certificate": "cert_verification", "verification_notice": "cert_notice",
                "calibration_certificate": "cert_calibration", "test_report": "cert_test"}
_SEAL_KIND = {"verification_certificate": "verification", "verification_notice": "verification",
              "calibration_certificate": "calibration", "test_report": "testing"}
