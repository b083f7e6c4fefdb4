from .audit import AuditEvent
from .calendar import CalendarYear, WorkdayOverride
from .notify import Notification
from .numbering import NumberSequence
from .people import (
    Activity,
    Authorisation,
    Delegation,
    Education,
    Qualification,
    QualificationKind,
    Role,
    RoleDescription,
    StaffProfile,
    SupervisionRecord,
    TrainingPlan,
    TrainingRecord,
    User,
)

__all__ = [
    "Activity",
    "AuditEvent",
    "Authorisation",
    "CalendarYear",
    "Delegation",
    "Education",
    "Notification",
    "NumberSequence",
    "Qualification",
    "QualificationKind",
    "Role",
    "RoleDescription",
    "StaffProfile",
    "SupervisionRecord",
    "TrainingPlan",
    "TrainingRecord",
    "User",
    "WorkdayOverride",
]
