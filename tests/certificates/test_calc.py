"""Data processing of a record on Decimal only (R-REC-5): GB/T 8170 rounding, parsing
what a technician typed, and the result and conformity of one measurement point."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from certificates import calc

D = Decimal


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- rounding (GB/T 8170, round half to even) -------------------------------------------


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        # at 0.1: exactly half rounds to the even neighbour, anything beyond half rounds up
        ("2.25", "0.1", "2.2"),
        ("2.35", "0.1", "2.4"),
        ("-2.25", "0.1", "-2.2"),
        ("-2.35", "0.1", "-2.4"),
        ("2.250", "0.1", "2.2"),
        ("2.2501", "0.1", "2.3"),
        ("2.2499", "0.1", "2.2"),
        ("2.24", "0.1", "2.2"),
        ("2.26", "0.1", "2.3"),
        ("2.2", "0.1", "2.2"),
        # at 0.5: value / 0.5 is rounded half to even, then multiplied back
        ("2.25", "0.5", "2.0"),  # 4.5 -> 4
        ("2.75", "0.5", "3.0"),  # 5.5 -> 6
        ("2.26", "0.5", "2.5"),
        ("2.74", "0.5", "2.5"),
        ("-2.25", "0.5", "-2.0"),
        # at 0.2
        ("2.1", "0.2", "2.0"),  # 10.5 -> 10
        ("2.3", "0.2", "2.4"),  # 11.5 -> 12
        ("2.5", "0.2", "2.4"),  # 12.5 -> 12
        ("2.7", "0.2", "2.8"),  # 13.5 -> 14
        ("2.31", "0.2", "2.4"),
        # at 1
        ("12.5", "1", "12"),
        ("13.5", "1", "14"),
        ("-12.5", "1", "-12"),
        ("12.5001", "1", "13"),
        ("0.5", "1", "0"),
        ("1.5", "1", "2"),
        # at 0.01
        ("26.245", "0.01", "26.24"),
        ("26.255", "0.01", "26.26"),
    ],
)
def test_r_rec_5_round_half_even_table(value, step, expected):
    """R-REC-5: GB/T 8170 — the digit after the last kept one decides; exactly 5 rounds
    to even; the result shows as many decimals as the step."""
    result = calc.round_half_even(D(value), D(step))
    assert result == D(expected)
    assert str(result) == expected


def test_r_rec_5_step_given_with_trailing_zeros_rounds_the_same():
    """A step stored as DecimalField(decimal_places=6) is ``1.000000`` / ``0.100000``."""
    assert str(calc.round_half_even(D("12.5"), D("1.000000"))) == "12"
    assert str(calc.round_half_even(D("2.25"), D("0.100000"))) == "2.2"
    assert str(calc.round_half_even(D("2.25"), D("0.500000"))) == "2.0"


@pytest.mark.parametrize(("value", "step"), [(2.25, D("0.1")), (D("2.25"), 0.1), (2, D("1")), ("2.25", D("0.1"))])
def test_r_rec_5_float_or_other_input_is_refused(value, step):
    """R-REC-5: no binary floating point anywhere in the results."""
    with pytest.raises(TypeError):
        calc.round_half_even(value, step)


@pytest.mark.parametrize("step", ["0", "-0.1"])
def test_rounding_step_must_be_positive(step):
    with pytest.raises(ValueError):
        calc.round_half_even(D("1"), D(step))


# --- parsing what was typed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("101", "101"),
        (" 101.5 ", "101.5"),
        ("101．5", "101.5"),  # full-width point from a Chinese input method
        (".5", "0.5"),
        ("+3", "3"),
        ("−2.5", "-2.5"),  # typographic minus
        ("0", "0"),
        ("300", "300"),
        ("100.50", "100.50"),
    ],
)
def test_r_rec_5_parse_reading_accepts_numbers(text, expected):
    value = calc.parse_reading(text, low=D("-10"), high=D("300"))
    assert isinstance(value, Decimal)
    assert value == D(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [("1,5", "not a comma"), ("1，5", "not a comma"), ("1,234", "not a comma"), ("1_000", "is not a number"), ("1e3", "is not a number")],
)
def test_r_rec_5_ambiguous_notations_are_refused_not_guessed(text, message):
    """"1,234" could be 1.234 or 1234; an exponent or digit grouping is not how an
    instrument shows a value (R-REC-2: recorded as read)."""
    with pytest.raises(ValidationError) as exc:
        calc.parse_reading(text)
    assert message in exc.value.messages[0]


@pytest.mark.parametrize(("text", "message"), [("abc", "is not a number"), ("1.2.3", "is not a number"), ("NaN", "is not a number"), ("Infinity", "is not a number"), ("", "Enter a number"), ("   ", "Enter a number"), (None, "Enter a number")])
def test_r_rec_5_parse_reading_refuses_non_numbers_and_empty(text, message):
    with pytest.raises(ValidationError) as exc:
        calc.parse_reading(text)
    assert message in exc.value.messages[0]


@pytest.mark.parametrize("text", ["300.1", "-0.1", "1000"])
def test_r_rec_5_parse_reading_refuses_values_outside_the_measuring_range(text):
    with pytest.raises(ValidationError) as exc:
        calc.parse_reading(text, low=D("0"), high=D("300"))
    assert "outside the measuring range 0 – 300" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("100.1234567", "too many decimal places (at most 6)"),
        ("100000000", "too large"),
        ("-100000000", "too large"),
    ],
)
def test_r_rec_5_parse_reading_refuses_what_the_record_cannot_hold_exactly(text, message):
    """A reading is stored in DecimalField(14, 6): more decimals would be rounded silently
    on saving (the result computed from another value than the one typed), more digits
    would fail the save."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        calc.parse_reading(text)


@pytest.mark.parametrize("text", ["99999999.999999", "-99999999.999999", "100.1000000", "0.000001"])
def test_parse_reading_accepts_what_the_record_holds(text):
    assert calc.parse_reading(text) == D(text)


def test_check_fits_other_columns():
    """Temperature is DecimalField(5, 1); k is DecimalField(4, 2)."""
    assert calc.check_fits(D("21.5"), "21.5", max_digits=5, decimal_places=1) == D("21.5")
    with pytest.raises(ValidationError, match=r"too many decimal places \(at most 1\)"):
        calc.check_fits(D("21.55"), "21.55", max_digits=5, decimal_places=1)
    with pytest.raises(ValidationError, match="too large"):
        calc.check_fits(D("100"), "100", max_digits=4, decimal_places=2)
    assert calc.check_fits(D("99.99"), "99.99", max_digits=4, decimal_places=2) == D("99.99")


def test_parse_reading_with_one_open_range_end():
    assert calc.parse_reading("-5", high=D("300")) == D("-5")
    with pytest.raises(ValidationError, match="outside"):
        calc.parse_reading("5", low=D("10"))


@pytest.mark.parametrize(
    ("value", "step", "finer"),
    [
        ("100.5", "1", True),
        ("100", "1", False),
        ("100.0", "1", False),
        ("2.25", "0.1", True),
        ("2.20", "0.1", False),
        ("2.5", "0.5", False),
        ("2.4", "0.5", True),
        ("2.4", "0.2", False),
        ("2.3", "0.2", True),
    ],
)
def test_r_rec_5_finer_than_resolution(value, step, finer):
    """More digits than the instrument resolves is a warning, not a refusal."""
    assert calc.finer_than(D(value), D(step)) is finer


# --- one point: mean, error, MPE, conformity -----------------------------------------


def _point(readings, nominal="100", step="1", kind="absolute", tolerance="3", repeats=3, range_high=None):
    return calc.point_result(
        nominal=D(nominal),
        readings=[D(r) for r in readings],
        repeats=repeats,
        step=D(step),
        tolerance_kind=kind,
        tolerance=None if tolerance is None else D(tolerance),
        range_high=None if range_high is None else D(range_high),
    )


def test_r_rec_5_point_exactly_at_the_mpe_conforms():
    """|error| == MPE conforms."""
    result = _point(["103", "103", "103"])
    assert result.complete
    assert (result.mean, result.error, result.mpe, result.conforms) == (D("103"), D("3"), D("3"), True)
    below = _point(["97", "97", "97"])
    assert below.error == D("-3") and below.conforms is True


def test_r_rec_5_point_one_resolution_step_beyond_the_mpe_does_not_conform():
    assert _point(["104", "104", "104"]).conforms is False
    assert _point(["96", "96", "96"]).conforms is False
    fine = _point(["103.0", "103.0", "103.0"], step="0.1")
    assert fine.conforms is True
    beyond = _point(["103.1", "103.1", "103.1"], step="0.1")
    assert beyond.error == D("3.1") and beyond.conforms is False


def test_r_rec_5_mean_and_error_are_rounded_half_even_before_judging():
    """100 + 101 → 100.5 → 100 (even); 101 + 102 → 101.5 → 102 (even)."""
    low = _point(["100", "101"], repeats=2)
    assert low.mean == D("100") and low.error == D("0")
    high = _point(["101", "102"], repeats=2)
    assert high.mean == D("102") and high.error == D("2")
    # 103.4, 103.6, 103.5 → 103.5 → 104 → error 4: the rounded error is judged.
    assert _point(["103.4", "103.6", "103.5"]).conforms is False
    # 102.4, 102.6, 102.5 → 102.5 → 102 → error 2.
    assert _point(["102.4", "102.6", "102.5"]).error == D("2")


def test_r_rec_5_mpe_in_percent_of_reading():
    """± 5 % of reading: MPE is 5 % of the rounded mean."""
    at = _point(["100.00"] * 3, nominal="95", step="0.01", kind="reading", tolerance="5")
    assert at.mpe == D("5") and at.error == D("5") and at.conforms is True
    beyond = _point(["100.01"] * 3, nominal="95", step="0.01", kind="reading", tolerance="5")
    assert beyond.mpe == D("5.0005") and beyond.error == D("5.01") and beyond.conforms is False
    negative = _point(["-10.5"] * 3, nominal="-10", step="0.1", kind="reading", tolerance="5")
    assert negative.mpe == D("0.525") and negative.conforms is True


def test_r_rec_5_mpe_in_percent_of_range():
    """± 1 % of a 0–300 range is ± 3 at every point."""
    at = _point(["53"] * 3, nominal="50", kind="range", tolerance="1", range_high="300")
    assert at.mpe == D("3") and at.conforms is True
    beyond = _point(["53.1"] * 3, nominal="50", step="0.1", kind="range", tolerance="1", range_high="300")
    assert beyond.conforms is False
    with pytest.raises(ValidationError, match="measuring range"):
        _point(["53"] * 3, nominal="50", kind="range", tolerance="1", range_high=None)


def test_point_without_a_limit_has_no_verdict():
    result = _point(["101"] * 3, tolerance=None)
    assert result.complete and result.mean == D("101") and result.mpe is None and result.conforms is None


@pytest.mark.parametrize("readings", [[], ["101"], ["101", "101"]])
def test_r_rec_5_incomplete_readings_give_no_result(readings):
    result = _point(readings)
    assert result.complete is False
    assert result.mean is None and result.error is None and result.conforms is None
    assert result.readings == tuple(D(r) for r in readings)


def test_results_are_decimal():
    result = _point(["100.1", "100.2", "100.2"], step="0.1")
    assert all(isinstance(v, Decimal) for v in (result.mean, result.error, result.mpe))
    # exact mean 100.1666… → 100.2
    assert result.mean == D("100.2") and result.error == D("0.2")


def test_unknown_tolerance_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        _point(["100"] * 3, kind="bogus")



def test_r_rec_5_error_is_rounded_once_from_the_exact_mean():
    """GB/T 8170: no successive rounding.  Mean 2.25 → 2.2 shown, but the error against
    0.3 is 1.95 → 2.0 (not 2.2 − 0.3 = 1.9), which exceeds an MPE of 1.9."""
    result = calc.point_result(
        nominal=D("0.3"), readings=[D("2.2"), D("2.3")], repeats=2, step=D("0.1"), tolerance_kind="absolute", tolerance=D("1.9")
    )
    assert result.mean == D("2.2")
    assert result.error == D("2.0")
    assert result.conforms is False


def test_percent_of_range_is_of_the_span():
    """−40 … 60 ℃ has a span of 100: 1 % of range is 1 ℃."""
    assert calc.permissible_error("range", D("1"), reading=D("20"), range_high=D("60"), range_low=D("-40")) == D("1")
