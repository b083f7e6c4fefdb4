import pytest
from django.core.exceptions import ValidationError

from equipment.services import gate


@pytest.mark.django_db
def test_fixture_equipment_is_usable_and_overdue_one_is_refused(make_equipment, operator, today):
    """R-EQP-10: usable on its due date, refused the day after (the lab's boundary rule)."""
    fresh = make_equipment("EQ-1", months_ago=3)
    assert gate.check_usable(fresh, today, operator).snapshot["lab_id"] == "EQ-1"
    due = fresh.calibration_due
    gate.check_usable(fresh, due, operator)
    with pytest.raises(ValidationError):
        gate.check_usable(fresh, due + __import__("datetime").timedelta(days=1), operator)
