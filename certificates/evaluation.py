"""The record as it stands: every value with the corrections made to it, and the
results computed from the current values (R-REC-3, R-REC-5).

Original rows never change after the performer's signature; a correction names the
value it replaces (``field``), so the current value is the newest correction's new value,
and the page/PDF show each older value struck through beside it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from certificates import calc
from certificates.models import Conclusion, Phase, Reading, Record, ToleranceKind


def reading_field(reading) -> str:
    return f"reading:{reading.pk}"


@dataclass
class Value:
    """One value of the record: what it was first, what it is now, the corrections."""

    field: str
    original: str
    corrections: list = field(default_factory=list)

    @property
    def current(self) -> str:
        return self.corrections[-1].new_value if self.corrections else self.original

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)


@dataclass
class Slot:
    repeat: int
    reading: Reading | None
    value: Value | None

    @property
    def decimal(self) -> Decimal | None:
        return Decimal(self.value.current) if self.value is not None and self.value.current != "" else None


@dataclass
class PointRow:
    point: object
    phase: str
    slots: list[Slot]
    result: calc.PointResult
    uncertainty: object | None = None
    U: Value | None = None
    k: Value | None = None
    adjusted: bool = False


@dataclass
class Evaluation:
    record: Record
    rows: dict[str, list[PointRow]]
    inspections: list[tuple[object, Value, Value]]
    environment: dict[str, Value]
    conclusion: Value
    conclusion_note: Value
    corrections: list

    @property
    def judged_phase(self) -> str:
        """Conformity is judged on the instrument as handed back (after adjustment)."""
        return Phase.AS_LEFT if self.record.adjusted else Phase.AS_FOUND

    def judged_rows(self) -> list[PointRow]:
        return self.rows.get(self.judged_phase, [])

    @property
    def complete(self) -> bool:
        return all(row.result.complete for rows in self.rows.values() for row in rows)

    @property
    def conforms(self) -> bool | None:
        """All judged points within their MPE and all inspection items met; None while
        incomplete or when no point has a limit."""
        rows = self.judged_rows()
        if not rows or not all(r.result.complete for r in rows):
            return None
        verdicts = [r.result.conforms for r in rows if r.result.conforms is not None]
        inspections = [v.current for _i, v, _n in self.inspections]
        if "no" in inspections:
            return False
        if not verdicts:
            return None
        return all(verdicts)

    def environment_problems(self) -> dict[str, str]:
        """The conditions as they now stand (corrections included) against the limits."""

        def number(key):
            value = self.environment.get(key)
            return Decimal(value.current) if value is not None and value.current != "" else None

        others = {key.split(":", 1)[1]: number(key) for key in self.environment if key.startswith("other:")}
        return environment_problems(self.record.template, number("temperature"), number("humidity"), others)

    def missing(self) -> list[str]:
        """What stands between the record and the performer's signature."""
        record = self.record
        problems = []
        if record.environment_at is None:
            problems.append(_("The environmental conditions are not recorded."))
        else:
            out = self.environment_problems()
            if out:
                problems.append(_("Conditions out of limits — stop work (R-TST-2)."))
                problems.extend(out.values())
        if not record.equipment_used.exists():
            problems.append(_("No equipment is recorded."))
        for rows in self.rows.values():
            for row in rows:
                if not row.result.complete:
                    problems.append(
                        _("%(point)s: %(n)s of %(total)s readings entered.")
                        % {"point": point_label(row), "n": len(row.result.readings), "total": record.template.repeats}
                    )
                if record.task.service == "calibration" and row.U is None:
                    problems.append(_("%(point)s: no expanded uncertainty U.") % {"point": point_label(row)})
        for inspection, ok, _note in self.inspections:
            if ok.current not in ("yes", "no"):
                problems.append(_("Inspection item “%(item)s” is not answered.") % {"item": inspection.item})
        conclusion = self.conclusion.current
        if not conclusion:
            problems.append(_("No conclusion."))
        elif conclusion not in allowed_conclusions(record.task.service):
            problems.append(_("“%(c)s” is not a conclusion for this service.") % {"c": Conclusion(conclusion).label})
        elif conclusion == Conclusion.PASS and self.conforms is False:
            problems.append(_("The conclusion says pass, but a point or an inspection item does not meet the requirements."))
        elif conclusion == Conclusion.FAIL and self.conforms is True:
            problems.append(_("The conclusion says fail, but every point and inspection item meets the requirements."))
        if record.adjusted and not record.adjustment_notes.strip():
            problems.append(_("Describe the adjustment or repair."))
        return problems


def point_label(row: PointRow) -> str:
    """"100 mmHg", or "100 mmHg (after adjustment)" when the record has two phases."""
    if row.phase == Phase.AS_FOUND and not row.adjusted:
        return str(row.point)
    return f"{row.point} ({Phase(row.phase).label})"


def environment_problems(template, temperature: Decimal | None, humidity: Decimal | None, others: dict) -> dict[str, str]:
    """Field → what is wrong, for values missing or outside the template's limits."""
    problems = {}

    def check(key, value, low, high, label, unit):
        if low is None and high is None:
            return
        if value is None:
            problems[key] = _("%(label)s is required by the method.") % {"label": label}
        elif (low is not None and value < low) or (high is not None and value > high):
            problems[key] = _("%(label)s %(value)s %(unit)s is outside %(low)s – %(high)s %(unit)s.") % {
                "label": label, "value": decimal_text(value), "unit": unit,
                "low": decimal_text(low) or "…", "high": decimal_text(high) or "…",
            }

    check("temperature", temperature, template.temperature_min, template.temperature_max, _("Temperature"), "℃")
    check("humidity", humidity, template.humidity_min, template.humidity_max, _("Relative humidity"), "%")
    for condition in template.other_conditions:
        name = condition.get("name", "")
        low = _limit(condition.get("min"))
        high = _limit(condition.get("max"))
        check(f"other:{name}", others.get(name), low, high, name, condition.get("unit", ""))
    return problems


def _limit(value) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    return Decimal(str(value).strip())


def allowed_conclusions(service: str) -> list[str]:
    if service == "verification":
        return [Conclusion.PASS, Conclusion.FAIL]
    if service == "calibration":
        return [Conclusion.CALIBRATED]
    return [Conclusion.TESTED, Conclusion.PASS, Conclusion.FAIL]


def decimal_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def evaluate(record: Record) -> Evaluation:
    """Load the record's rows (a fixed number of queries) and compute its results."""
    template = record.template
    points = list(template.points.all())
    corrections = list(record.corrections.select_related("corrected_by").order_by("corrected_at", "id"))
    by_field = defaultdict(list)
    for correction in corrections:
        by_field[correction.field].append(correction)

    readings = defaultdict(dict)
    for reading in record.readings.all():
        readings[(reading.point_id, reading.phase)][reading.repeat] = reading
    uncertainties = {(u.point_id, u.phase): u for u in record.uncertainties.all()}

    rows: dict[str, list[PointRow]] = {}
    for phase in record.phases:
        phase_rows = []
        for point in points:
            slots = []
            for repeat in range(1, template.repeats + 1):
                reading = readings[(point.pk, phase)].get(repeat)
                value = None
                if reading is not None:
                    f = reading_field(reading)
                    value = Value(f, decimal_text(reading.value), by_field.get(f, []))
                slots.append(Slot(repeat, reading, value))
            values = [s.decimal for s in slots if s.decimal is not None]
            result = calc.point_result(
                nominal=point.nominal,
                readings=values,
                repeats=template.repeats,
                step=template.resolution,
                tolerance_kind=point.tolerance_kind or ToleranceKind.ABSOLUTE,
                tolerance=point.tolerance,
                range_high=template.range_high,
                range_low=template.range_low,
            )
            row = PointRow(point=point, phase=phase, slots=slots, result=result, adjusted=record.adjusted)
            u = uncertainties.get((point.pk, phase))
            if u is not None:
                row.uncertainty = u
                row.U = Value(f"uncertainty:{u.pk}:U", decimal_text(u.expanded_uncertainty), by_field.get(f"uncertainty:{u.pk}:U", []))
                row.k = Value(f"uncertainty:{u.pk}:k", decimal_text(u.coverage_factor), by_field.get(f"uncertainty:{u.pk}:k", []))
            phase_rows.append(row)
        rows[phase] = phase_rows

    inspections = []
    for inspection in record.inspections.all():
        ok_field, note_field = f"inspection:{inspection.pk}", f"inspection_note:{inspection.pk}"
        original = "" if inspection.ok is None else ("yes" if inspection.ok else "no")
        inspections.append(
            (inspection, Value(ok_field, original, by_field.get(ok_field, [])), Value(note_field, inspection.note, by_field.get(note_field, [])))
        )
    environment = {
        "temperature": Value("temperature", decimal_text(record.temperature), by_field.get("temperature", [])),
        "humidity": Value("humidity", decimal_text(record.humidity), by_field.get("humidity", [])),
    }
    for condition in template.other_conditions:
        name = condition.get("name", "")
        key = f"other:{name}"
        environment[key] = Value(key, str(record.other_conditions.get(name, "")), by_field.get(key, []))
    return Evaluation(
        record=record,
        rows=rows,
        inspections=inspections,
        environment=environment,
        conclusion=Value("conclusion", record.conclusion, by_field.get("conclusion", [])),
        conclusion_note=Value("conclusion_note", record.conclusion_note, by_field.get("conclusion_note", [])),
        corrections=corrections,
    )
