"""The original record from first entry to the checker's signature (R-TST-1/2,
R-REC-1..5), corrections after signing (R-REC-3) and disposal after the retention period
(R-REC-4).

Each function checks who may act (``labqms.permissions`` plus "you are this record's
performer/checker"), runs in one transaction and writes an audit event.  Values the
technician typed are validated as a whole: a refused save raises ``ValidationError`` with
the message per field and stores nothing, so the page can show everything again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certificates import calc
from certificates.evaluation import (
    allowed_conclusions,
    decimal_text,
    environment_problems,
    evaluate,
    point_label,
)
from certificates.models import (
    CheckOutcome,
    Conclusion,
    Correction,
    InspectionResult,
    Phase,
    PointUncertainty,
    Reading,
    Record,
    RecordCheck,
    RecordEquipment,
    RecordStatus,
    Task,
    TaskStatus,
)
from certificates.services.tasks import perform_action
from equipment.models import EquipmentUse
from equipment.services import gate
from intake.models import SampleStatus, Service
from intake.services import samples as sample_services
from labqms import audit, permissions
from labqms.notify import Message, notify
from labqms.signing import confirm_password

STOP_WORK = gettext_lazy("Conditions out of limits — stop work (R-TST-2).")


def _locked(record: Record) -> Record:
    """Lock the task, then the record: the same order as ``reassign_task``, so two
    changes of one record queue instead of deadlocking."""
    Task.objects.select_for_update().filter(record__pk=record.pk).first()
    return (
        Record.objects.select_for_update(of=("self",))
        .select_related("task", "template", "method", "sample__item__category", "performer")
        .get(pk=record.pk)
    )


def _as_performer(actor, record: Record) -> None:
    if actor != record.performer:
        raise ValidationError(_("Only the performer of this record, %(person)s, enters its data.") % {"person": record.performer})
    permissions.require(actor, perform_action(record.task.service), record)


def _require_draft(record: Record) -> None:
    if record.status != RecordStatus.DRAFT or record.is_locked:
        raise ValidationError(
            _("Record %(number)s is signed; values change only by a correction entry (R-REC-3).") % {"number": record.number}
        )


def _decimal(text, label: str, field=None) -> Decimal | None:
    """``field``: the model DecimalField the value is stored in; a value it cannot hold
    exactly is refused rather than rounded on saving or failing the save."""
    if text is None or str(text).strip() == "":
        return None
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("%(label)s: “%(text)s” is not a number.") % {"label": label, "text": text}) from None
    if not value.is_finite():
        raise ValidationError(_("%(label)s: “%(text)s” is not a number.") % {"label": label, "text": text})
    if field is not None:
        try:
            calc.check_fits(value, str(text).strip(), max_digits=field.max_digits, decimal_places=field.decimal_places)
        except ValidationError as exc:
            raise ValidationError(_("%(label)s: %(problem)s") % {"label": label, "problem": exc.messages[0]}) from None
    return value


# --- environment (R-TST-2) -----------------------------------------------------------


def save_environment(*, actor, record: Record, temperature, humidity, others: dict | None = None) -> dict[str, str]:
    """Store the conditions as measured, in or out of limits (both are facts to keep).
    Returns the problems; while there are any the record takes no readings and cannot
    be signed: "conditions out of limits — stop work"."""
    others = others or {}
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        _require_draft(record)
        t = _decimal(temperature, _("Temperature"), Record._meta.get_field("temperature"))
        h = _decimal(humidity, _("Relative humidity"), Record._meta.get_field("humidity"))
        parsed = {name: _decimal(value, name) for name, value in others.items()}
        problems = environment_problems(record.template, t, h, parsed)
        old = [decimal_text(record.temperature), decimal_text(record.humidity), dict(record.other_conditions)]
        record.temperature, record.humidity = t, h
        record.other_conditions = {k: decimal_text(v) for k, v in parsed.items() if v is not None}
        record.environment_ok = not problems
        record.environment_at = timezone.now()
        record.save(update_fields=["temperature", "humidity", "other_conditions", "environment_ok", "environment_at"])
        audit.record(
            actor=actor,
            action="record.environment_out_of_limits" if problems else "record.environment_recorded",
            target=record,
            changes={
                "temperature": [old[0], decimal_text(t)],
                "humidity": [old[1], decimal_text(h)],
                "other_conditions": [old[2], record.other_conditions],
            },
            reason="; ".join(problems.values()),
        )
    return problems


def _require_environment(record: Record) -> None:
    if record.environment_at is None:
        raise ValidationError(_("Record the environmental conditions first."))
    if not record.environment_ok:
        raise ValidationError(str(STOP_WORK))


# --- equipment (R-EQP-10, through the equipment gate) --------------------------------


def add_equipment(*, actor, record: Record, equipment) -> RecordEquipment:
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        _require_draft(record)
        if record.equipment_used.filter(equipment=equipment).exists():
            raise ValidationError(_("%(eq)s is already in this record.") % {"eq": equipment})
        use = gate.record_use(equipment=equipment, on=timezone.localdate(), user=actor, record=record, record_label=record.number)
        entry = RecordEquipment.objects.create(record=record, equipment=equipment, use=use, snapshot=use.snapshot, added_by=actor)
        audit.record(actor=actor, action="record.equipment_added", target=record, changes={"equipment": [None, equipment.lab_id]})
    return entry


def remove_equipment(*, actor, record: Record, entry: RecordEquipment) -> None:
    """Before signing, equipment added by mistake comes off (with its usage snapshot)."""
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        _require_draft(record)
        if entry.record_id != record.pk:
            raise ValidationError(_("That equipment is not in this record."))
        if record.readings.exists() and record.equipment_used.count() == 1:
            raise ValidationError(_("Readings were taken with this equipment; add the right equipment before removing it."))
        use_id, lab_id = entry.use_id, entry.snapshot.get("lab_id", "")
        entry.delete()
        EquipmentUse.objects.filter(pk=use_id).delete()
        audit.record(actor=actor, action="record.equipment_removed", target=record, changes={"equipment": [lab_id, None]})


# --- readings (R-REC-2, R-REC-5) ------------------------------------------------------


def slot_key(point_id: int, phase: str, repeat: int) -> str:
    return f"r-{point_id}-{phase}-{repeat}"


def save_readings(*, actor, record: Record, entries: dict[str, str], originals: dict[str, str] | None = None) -> dict[str, str]:
    """``entries``: slot key → text as typed.  Empty text leaves a slot empty (and clears
    it before signing).  All or nothing: any bad value refuses the whole save with the
    message per slot.  Returns warnings (more digits than the instrument resolves).

    ``originals``: slot key → the text the page showed when it was opened.  A slot whose
    text is unchanged on the page is left alone (a stale page does not overwrite or clear
    what was saved since); a changed slot whose stored value moved on in between is
    refused (a tablet and a PC on the same record)."""
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        _require_draft(record)
        _require_environment(record)
        if not record.equipment_used.exists():
            raise ValidationError(_("Add the equipment you measure with before entering readings (R-EQP-10)."))
        template = record.template
        slots = {
            slot_key(p.pk, phase, r): (p, phase, r)
            for p in template.points.all()
            for phase in record.phases
            for r in range(1, template.repeats + 1)
        }
        errors, warnings, parsed = {}, {}, {}
        existing = {slot_key(r.point_id, r.phase, r.repeat): r for r in record.readings.all()}
        if originals is not None:
            entries = dict(entries)
            for key in list(entries):
                if key not in originals:
                    continue
                shown, stored = originals[key].strip(), existing[key].entered_text if key in existing else ""
                if (entries[key] or "").strip() == shown:
                    del entries[key]
                elif stored != shown:
                    errors[key] = _("Saved as “%(now)s” from another page since this one was opened; check it and enter it again.") % {
                        "now": stored or "∅"
                    }
        for key, text in entries.items():
            if key not in slots:
                continue
            text = (text or "").strip()
            if text == "":
                parsed[key] = None
                continue
            try:
                value = calc.parse_reading(text, low=template.range_low, high=template.range_high)
            except ValidationError as exc:
                errors[key] = exc.messages[0]
                continue
            if calc.finer_than(value, template.resolution):
                warnings[key] = _("%(value)s has more digits than the resolution %(step)s; it is kept as typed and results are rounded.") % {
                    "value": text, "step": decimal_text(template.resolution)
                }
            parsed[key] = (value, text)
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        changes, created = {}, []
        for key, entry in parsed.items():
            point, phase, repeat = slots[key]
            reading = existing.get(key)
            if entry is None:
                if reading is not None:
                    changes[key] = [reading.entered_text, None]
                    reading.delete()
                continue
            value, text = entry
            if reading is None:
                created.append(Reading(record=record, point=point, phase=phase, repeat=repeat, value=value, entered_text=text, entered_at=now, entered_by=actor))
            elif reading.value != value or reading.entered_text != text:
                changes[key] = [reading.entered_text, text]
                reading.value, reading.entered_text, reading.entered_at = value, text, now
                reading.save(update_fields=["value", "entered_text", "entered_at"])
        if created and not existing and record.measured_on != timezone.localdate(now):
            record.measured_on = timezone.localdate(now)
            record.save(update_fields=["measured_on"])
        Reading.objects.bulk_create(created)
        if created or changes:
            # Values replaced before signing are logged too: the audit trail keeps them.
            audit.record(
                actor=actor, action="record.readings_saved", target=record,
                changes={**changes, "entered": [None, len(created)]} if changes else {"entered": [None, len(created)]},
            )
    return warnings


def uncertainty_key(point_id: int, phase: str) -> str:
    return f"u-{point_id}-{phase}"


def save_uncertainties(*, actor, record: Record, entries: dict[str, tuple[str, str]]) -> None:
    """``entries``: ``uncertainty_key`` → (U, k) as typed (calibration, R-CRT-3)."""
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        _require_draft(record)
        if record.task.service != Service.CALIBRATION:
            raise ValidationError(_("Uncertainty per point is recorded for calibration."))
        slots = {uncertainty_key(p.pk, phase): (p, phase) for p in record.template.points.all() for phase in record.phases}
        existing = {uncertainty_key(u.point_id, u.phase): u for u in record.uncertainties.all()}
        errors, rows = {}, {}
        for key, (u_text, k_text) in entries.items():
            if key not in slots or (not str(u_text or "").strip() and not str(k_text or "").strip()):
                continue
            try:
                u = _decimal(u_text, "U", PointUncertainty._meta.get_field("expanded_uncertainty"))
                k = _decimal(k_text, "k", PointUncertainty._meta.get_field("coverage_factor")) or record.template.default_coverage_factor or Decimal(2)
            except ValidationError as exc:
                errors[key] = exc.messages[0]
                continue
            if u is None or u <= 0 or k <= 0:
                errors[key] = _("U and k must be positive numbers.")
                continue
            rows[key] = (u, k)
        if errors:
            raise ValidationError(errors)
        for key, (u, k) in rows.items():
            point, phase = slots[key]
            current = existing.get(key)
            if current is None:
                PointUncertainty.objects.create(record=record, point=point, phase=phase, expanded_uncertainty=u, coverage_factor=k)
            elif current.expanded_uncertainty != u or current.coverage_factor != k:
                current.expanded_uncertainty, current.coverage_factor, current.from_template = u, k, False
                current.save(update_fields=["expanded_uncertainty", "coverage_factor", "from_template"])
        audit.record(actor=actor, action="record.uncertainty_saved", target=record, changes={"points": [None, len(rows)]})


def save_inspections(*, actor, record: Record, results: dict[int, tuple[bool | None, str]]) -> None:
    """``results``: inspection position → (meets requirements?, finding)."""
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        _require_draft(record)
        for inspection in record.inspections.all():
            if inspection.position not in results:
                continue
            ok, note = results[inspection.position]
            note = (note or "").strip()
            if ok is False and not note:
                raise ValidationError({f"inspection-{inspection.position}": _("Say what was found for “%(item)s”.") % {"item": inspection.item}})
            if inspection.ok != ok or inspection.note != note:
                inspection.ok, inspection.note = ok, note
                inspection.save(update_fields=["ok", "note"])
        audit.record(actor=actor, action="record.inspections_saved", target=record)


def save_conclusion(*, actor, record: Record, conclusion: str, conclusion_note: str = "", adjusted: bool = False, adjustment_notes: str = "") -> Record:
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        _require_draft(record)
        if conclusion and conclusion not in allowed_conclusions(record.task.service):
            raise ValidationError({"conclusion": _("“%(c)s” is not a conclusion for this service.") % {"c": Conclusion(conclusion).label}})
        if record.adjusted and not adjusted and record.readings.filter(phase=Phase.AS_LEFT).exists():
            raise ValidationError({"adjusted": _("Readings after adjustment are entered; clear them before saying the instrument was not adjusted.")})
        changes = {}
        for key, value in (("conclusion", conclusion), ("conclusion_note", conclusion_note.strip()), ("adjusted", adjusted), ("adjustment_notes", adjustment_notes.strip())):
            if getattr(record, key) != value:
                changes[key] = [getattr(record, key), value]
                setattr(record, key, value)
        if changes:
            record.save(update_fields=list(changes))
            audit.record(actor=actor, action="record.conclusion_saved", target=record, changes=changes)
        if adjusted and record.task.service == Service.CALIBRATION:
            # After-adjustment points start from the template's default budget too.
            existing = set(record.uncertainties.filter(phase=Phase.AS_LEFT).values_list("point_id", flat=True))
            k = record.template.default_coverage_factor or Decimal(2)
            PointUncertainty.objects.bulk_create(
                [
                    PointUncertainty(record=record, point=p, phase=Phase.AS_LEFT, expanded_uncertainty=p.default_uncertainty, coverage_factor=k, from_template=True)
                    for p in record.template.points.all()
                    if p.default_uncertainty is not None and p.pk not in existing
                ]
            )
    return record


# --- signatures (R-TST-1, R-REC-5) -----------------------------------------------------


def keep_until_for(record: Record, signed_on: date) -> date:
    """R-REC-4: two verification periods (or calibration intervals) after signing."""
    months = record.sample.item.category.verification_period_months or settings.RECORDS_DEFAULT_INTERVAL_MONTHS
    return signed_on + relativedelta(months=2 * months)


def _record_url(record: Record) -> str:
    return reverse("certificates:record_detail", args=[record.pk])


def _gate_on_last_reading(record: Record, actor) -> None:
    """The equipment must have been usable on the last day readings were taken, not only
    on the day it was added (R-EQP-10)."""
    last = record.readings.order_by("-entered_at").values_list("entered_at", flat=True).first()
    if last is None:
        return
    on = timezone.localdate(last)
    for entry in record.equipment_used.select_related("equipment"):
        gate.check_usable(entry.equipment, on, actor)


def sign_record(*, actor, record: Record, password: str) -> Record:
    """The performer signs: the record locks and goes to the checker.  A returned record
    is signed again after its corrections."""
    with transaction.atomic():
        record = _locked(record)
        _as_performer(actor, record)
        if record.status not in (RecordStatus.DRAFT, RecordStatus.RETURNED):
            raise ValidationError(_("Record %(number)s is already signed.") % {"number": record.number})
        confirm_password(actor, password)
        missing = evaluate(record).missing()
        if missing:
            raise ValidationError(missing)
        _gate_on_last_reading(record, actor)
        now = timezone.now()
        old = record.status
        record.status = RecordStatus.SIGNED
        record.signed_at = now
        fields = ["status", "signed_at"]
        if record.first_signed_at is None:
            record.first_signed_at = now
            record.keep_until = keep_until_for(record, timezone.localdate(now))
            fields += ["first_signed_at", "keep_until"]
        record.save(update_fields=fields)
        Task.objects.filter(pk=record.task_id).update(status=TaskStatus.AWAITING_CHECK)
        audit.record(actor=actor, action="record.signed", target=record, changes={"status": [old, record.status]})
        notify([Message(record.task.checker, _("Record to check: %(number)s") % {"number": record.number}, record.instrument.get("name", ""), _record_url(record))])
    return record


def _as_checker(actor, record: Record) -> None:
    if actor == record.performer:
        raise ValidationError(_("You performed this work; a different person must check it (R-TST-1)."))
    if actor != record.task.checker:
        raise ValidationError(_("This record is assigned to %(person)s for checking.") % {"person": record.task.checker})
    if (
        record.readings.filter(entered_by=actor).exists()
        or record.equipment_used.filter(added_by=actor).exists()
        or record.corrections.filter(corrected_by=actor).exists()
    ):
        raise ValidationError(
            _("You entered or corrected data in this record; a person who did not take part must check it (R-TST-1).")
        )
    permissions.require(actor, "records.check", record)
    if record.status != RecordStatus.SIGNED:
        raise ValidationError(_("Record %(number)s is not waiting for a check.") % {"number": record.number})


def record_version(record: Record) -> str:
    """What the checker read: the performer's last signature and the newest correction.
    A check or return posted from an older page is refused (a correction may have
    landed in between)."""
    last = record.corrections.order_by("-id").values_list("id", flat=True).first()
    return f"{record.signed_at.isoformat() if record.signed_at else ''}/{last or 0}"


def _require_seen(record: Record, seen: str | None) -> None:
    if seen is not None and seen != record_version(record):
        raise ValidationError(
            _("Record %(number)s changed after you opened it (a correction or a new signature); read it again first.")
            % {"number": record.number}
        )


def check_record(*, actor, record: Record, password: str, seen: str | None = None) -> Record:
    """The checker signs (R-TST-1).  The sample becomes "tested" and the record is ready
    for a certificate.  ``seen``: :func:`record_version` of the page the checker read."""
    with transaction.atomic():
        record = _locked(record)
        _as_checker(actor, record)
        _require_seen(record, seen)
        confirm_password(actor, password)
        missing = evaluate(record).missing()
        if missing:
            raise ValidationError(missing)
        now = timezone.now()
        RecordCheck.objects.create(record=record, checker=actor, outcome=CheckOutcome.CHECKED)
        record.status = RecordStatus.CHECKED
        record.checker = actor
        record.checked_at = now
        record.save(update_fields=["status", "checker", "checked_at"])
        Task.objects.filter(pk=record.task_id).update(status=TaskStatus.CHECKED)
        if record.sample.status == SampleStatus.IN_TEST:
            sample_services.mark_sample_tested(actor=actor, sample=record.sample, note=_("Record %(number)s checked") % {"number": record.number})
        audit.record(actor=actor, action="record.checked", target=record, changes={"status": [RecordStatus.SIGNED, RecordStatus.CHECKED]})
        notify([Message(record.performer, _("Record checked: %(number)s") % {"number": record.number}, "", _record_url(record))])
    return record


def return_record(*, actor, record: Record, comments: str, seen: str | None = None) -> Record:
    comments = (comments or "").strip()
    if not comments:
        raise ValidationError({"comments": _("Say what needs correcting.")})
    with transaction.atomic():
        record = _locked(record)
        _as_checker(actor, record)
        _require_seen(record, seen)
        RecordCheck.objects.create(record=record, checker=actor, outcome=CheckOutcome.RETURNED, comments=comments)
        record.status = RecordStatus.RETURNED
        record.save(update_fields=["status"])
        Task.objects.filter(pk=record.task_id).update(status=TaskStatus.RETURNED)
        audit.record(actor=actor, action="record.returned", target=record, changes={"status": [RecordStatus.SIGNED, RecordStatus.RETURNED]}, reason=comments)
        notify([Message(record.performer, _("Record returned: %(number)s") % {"number": record.number}, comments, _record_url(record))])
    return record


# --- corrections (R-REC-3) ------------------------------------------------------------

YES_NO = {"yes", "no"}


def _correction_target(record: Record, evaluation, field: str):
    """(Value, label, validator) of the value ``field`` names in this record."""
    template = record.template
    if field.startswith("reading:"):
        for rows in evaluation.rows.values():
            for row in rows:
                for slot in row.slots:
                    if slot.value is not None and slot.value.field == field:
                        label = _("%(point)s, reading %(n)s") % {"point": point_label(row), "n": slot.repeat}

                        def validate(text):
                            return decimal_text(calc.parse_reading(text, low=template.range_low, high=template.range_high))

                        return slot.value, label, validate
    elif field.startswith("uncertainty:"):
        for rows in evaluation.rows.values():
            for row in rows:
                for value in (row.U, row.k):
                    if value is not None and value.field == field:
                        label = f"{point_label(row)} {field.rsplit(':', 1)[1]}"

                        def validate(text, label=label):
                            number = _decimal(text, label)
                            if number is None or number <= 0:
                                raise ValidationError(_("U and k must be positive numbers."))
                            return decimal_text(number)

                        return value, label, validate
    elif field.startswith(("inspection:", "inspection_note:")):
        for inspection, ok, note in evaluation.inspections:
            if ok.field == field:
                def validate(text):
                    if text not in YES_NO:
                        raise ValidationError(_("Choose whether the item meets the requirements."))
                    return text

                return ok, inspection.item, validate
            if note.field == field:
                return note, _("%(item)s: finding") % {"item": inspection.item}, lambda text: text.strip()
    elif field in evaluation.environment:
        value = evaluation.environment[field]

        def validate(text):
            number = _decimal(text, field)
            if number is None:
                raise ValidationError(_("Enter a number."))
            # A true value outside the limits is recorded as it was; the record then
            # cannot be checked (evaluation.missing: "stop work", R-TST-2).
            return decimal_text(number)

        labels = {"temperature": _("Temperature"), "humidity": _("Relative humidity")}
        return value, labels.get(field, field.split(":", 1)[-1]), validate
    elif field == "conclusion":
        def validate(text):
            if text not in allowed_conclusions(record.task.service):
                raise ValidationError(_("Choose a conclusion for this service."))
            return text

        return evaluation.conclusion, _("Conclusion"), validate
    elif field == "conclusion_note":
        return evaluation.conclusion_note, _("Conclusion remarks"), lambda text: text.strip()
    raise ValidationError(_("This record has no value “%(field)s”.") % {"field": field})


def may_correct(user, record: Record) -> bool:
    return record.is_locked and (user == record.performer or permissions.can(user, "records.manage_methods"))


def correct_value(*, actor, record: Record, field: str, new_value: str, reason: str) -> Correction:
    """A value of a signed record changes only here: the old value stays, struck through,
    with the new one, who, when and why.  A correction to a checked record sends it back
    to the checker."""
    reason = (reason or "").strip()
    with transaction.atomic():
        record = _locked(record)
        if not record.is_locked:
            raise ValidationError(_("Before the performer signs, change the value in the record itself."))
        if actor == record.performer:
            permissions.require(actor, perform_action(record.task.service), record)
        else:
            permissions.require(actor, "records.manage_methods")
        if not reason:
            raise ValidationError({"reason": _("Say why the value is corrected.")})
        evaluation = evaluate(record)
        value, label, validate = _correction_target(record, evaluation, field)
        try:
            new_text = validate((new_value or "").strip())
        except ValidationError as exc:
            raise ValidationError({"new_value": exc.messages}) from None
        if new_text == value.current:
            raise ValidationError({"new_value": _("The new value is the same as the current one.")})
        correction = Correction.objects.create(
            record=record, field=field, label=str(label)[:200], old_value=value.current, new_value=new_text, reason=reason, corrected_by=actor
        )
        if record.status == RecordStatus.CHECKED:
            record.status = RecordStatus.SIGNED
            record.checker = None
            record.checked_at = None
            record.save(update_fields=["status", "checker", "checked_at"])
            Task.objects.filter(pk=record.task_id).update(status=TaskStatus.AWAITING_CHECK)
            notify([Message(record.task.checker, _("Corrected record to check again: %(number)s") % {"number": record.number}, correction.label, _record_url(record))])
        audit.record(
            actor=actor, action="record.corrected", target=record,
            changes={field: [correction.old_value, correction.new_value]}, reason=reason,
        )
    return correction


# --- retention (R-REC-4) ---------------------------------------------------------------


def dispose_record(*, actor, record: Record, reason: str) -> None:
    """Destroy a record whose retention period has passed; refused before ``keep_until``."""
    permissions.require(actor, "records.dispose")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why and how the record is disposed of.")})
    with transaction.atomic():
        record = _locked(record)
        today = timezone.localdate()
        if record.keep_until is None or record.keep_until >= today:
            raise ValidationError(
                _("Record %(number)s must be kept until %(date)s (R-REC-4).")
                % {"number": record.number, "date": record.keep_until.isoformat() if record.keep_until else _("two periods after signing")}
            )
        audit.record(actor=actor, action="record.disposed", target=record, changes={"number": [record.number, None]}, reason=reason)
        for model in (Correction, RecordCheck, Reading, PointUncertainty, InspectionResult, RecordEquipment):
            model.objects.filter(record=record).delete()
        Record.objects.filter(pk=record.pk).delete()
