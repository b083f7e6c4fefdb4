"""Data processing of a record, on ``Decimal`` only (R-REC-5).

* :func:`round_half_even` — GB/T 8170 rounding to any step (0.1, 0.5, 0.2, 1 …): the value
  is divided by the step, rounded half to even to a whole number and multiplied back.
* :func:`parse_reading` — what a technician typed → ``Decimal`` with clear refusals.
* :func:`point_result` — mean, error, maximum permissible error and conformity of one
  point.  A point conforms when ``|error| <= MPE`` (exactly at the MPE conforms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HUNDRED = Decimal(100)
# A reading as an instrument shows it: sign, digits, a decimal point (no exponent,
# no digit grouping).
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def round_half_even(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` to a multiple of ``step`` by GB/T 8170 (round half to even)."""
    if not isinstance(value, Decimal) or not isinstance(step, Decimal):
        raise TypeError("Rounding works on Decimal only (R-REC-5).")
    if step <= 0:
        raise ValueError("The rounding step must be positive.")
    units = (value / step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    rounded = units * step
    # Show as many decimals as the step has: 2.2 at 0.1, 2.5 at 0.5, 3 at 1.
    return rounded.quantize(step.normalize()) if step.normalize().as_tuple().exponent < 0 else rounded.quantize(Decimal(1))


def decimals_of(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent)


def parse_reading(text: str, *, low: Decimal | None = None, high: Decimal | None = None) -> Decimal:
    """``text`` as typed → ``Decimal``.  Refuses non-numbers and values outside the
    instrument's measuring range (``low``..``high``)."""
    cleaned = (text or "").strip().replace("．", ".").replace("−", "-").replace("－", "-")
    if not cleaned:
        raise ValidationError(_("Enter a number."))
    if "," in cleaned or "，" in cleaned:
        # "1,234" could be a thousands separator or a decimal comma: refuse, never guess.
        raise ValidationError(_("“%(text)s”: use a decimal point, not a comma.") % {"text": text})
    if not NUMBER.fullmatch(cleaned):
        raise ValidationError(_("“%(text)s” is not a number.") % {"text": text})
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(_("“%(text)s” is not a number.") % {"text": text}) from None
    if not value.is_finite():
        raise ValidationError(_("“%(text)s” is not a number.") % {"text": text})
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationError(
            _("%(value)s is outside the measuring range %(low)s – %(high)s.")
            % {"value": cleaned, "low": _fmt(low), "high": _fmt(high)}
        )
    return check_fits(value, text)


def check_fits(value: Decimal, text: str, *, max_digits: int = 14, decimal_places: int = 6) -> Decimal:
    """Refuse a value its column cannot hold exactly (``Reading.value`` by default): more
    decimals would be rounded silently on saving, more digits would not be stored."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -decimal_places:
        raise ValidationError(
            _("“%(text)s” has too many decimal places (at most %(n)s).") % {"text": text, "n": decimal_places}
        )
    if abs(value) >= Decimal(10) ** (max_digits - decimal_places):
        raise ValidationError(_("“%(text)s” is too large to record.") % {"text": text})
    return value


def finer_than(value: Decimal, step: Decimal) -> bool:
    """True when ``value`` has more digits than the instrument resolves (a warning)."""
    return (value / step) != (value / step).to_integral_value()


def _fmt(value: Decimal | None) -> str:
    return "…" if value is None else format(value.normalize(), "f")


def permissible_error(
    kind: str, tolerance: Decimal | None, *, reading: Decimal, range_high: Decimal | None, range_low: Decimal | None = None
) -> Decimal | None:
    """The MPE as an absolute value for this point, or None when the point has no limit.
    "% of range" is of the span (upper − lower limit; lower 0 when not stated)."""
    if tolerance is None:
        return None
    if kind == "absolute":
        return tolerance
    if kind == "reading":
        return abs(reading) * tolerance / HUNDRED
    if kind == "range":
        if range_high is None:
            # xgettext:no-python-format
            raise ValidationError(_("A tolerance in % of range needs the measuring range."))
        return abs(range_high - (range_low or Decimal(0))) * tolerance / HUNDRED
    raise ValueError(f"Unknown tolerance kind {kind!r}")


@dataclass(frozen=True)
class PointResult:
    nominal: Decimal
    readings: tuple[Decimal, ...]
    complete: bool
    mean: Decimal | None = None
    error: Decimal | None = None
    mpe: Decimal | None = None
    conforms: bool | None = None


def point_result(
    *,
    nominal: Decimal,
    readings: list[Decimal],
    repeats: int,
    step: Decimal,
    tolerance_kind: str,
    tolerance: Decimal | None,
    range_high: Decimal | None = None,
    range_low: Decimal | None = None,
) -> PointResult:
    """Mean of the readings and error (exact mean − nominal), each rounded once to ``step``;
    the MPE (for % of reading: of the rounded mean); conforms when |error| <= MPE."""
    values = tuple(readings)
    if len(values) < repeats:
        return PointResult(nominal=nominal, readings=values, complete=False)
    exact_mean = sum(values, Decimal(0)) / Decimal(len(values))
    mean = round_half_even(exact_mean, step)
    # Rounded once from the exact mean: GB/T 8170 forbids rounding a rounded value again.
    error = round_half_even(exact_mean - nominal, step)
    mpe = permissible_error(tolerance_kind, tolerance, reading=mean, range_high=range_high, range_low=range_low)
    conforms = None if mpe is None else abs(error) <= mpe
    return PointResult(nominal=nominal, readings=values, complete=True, mean=mean, error=error, mpe=mpe, conforms=conforms)
