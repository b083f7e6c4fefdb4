"""The happy path through the services: task → record → sign → check (R-TST-1, R-REC-1)."""

import pytest

from certificates.models import RecordStatus, TaskStatus
from intake.models import SampleStatus


@pytest.mark.django_db
def test_task_to_checked_record_marks_sample_tested(checked_record):
    checked_record.sample.refresh_from_db()
    checked_record.task.refresh_from_db()
    assert checked_record.status == RecordStatus.CHECKED
    assert checked_record.task.status == TaskStatus.CHECKED
    assert checked_record.sample.status == SampleStatus.TESTED
    assert checked_record.keep_until is not None
