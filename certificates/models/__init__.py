"""Methods with editions, record templates, tasks and original records ([Records]);
certificates follow in [Certificates]."""

from certificates.models.methods import (
    KIND_SERVICE,
    Method,
    MethodKind,
    MethodStatus,
    RecordTemplate,
    TemplatePoint,
    TemplateStatus,
    ToleranceKind,
)
from certificates.models.records import (
    OPEN_TASK_STATUSES,
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

__all__ = [
    "KIND_SERVICE",
    "OPEN_TASK_STATUSES",
    "CheckOutcome",
    "Conclusion",
    "Correction",
    "InspectionResult",
    "Method",
    "MethodKind",
    "MethodStatus",
    "Phase",
    "PointUncertainty",
    "Reading",
    "Record",
    "RecordCheck",
    "RecordEquipment",
    "RecordStatus",
    "RecordTemplate",
    "Task",
    "TaskStatus",
    "TemplatePoint",
    "TemplateStatus",
    "ToleranceKind",
]
