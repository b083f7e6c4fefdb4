"""Equipment: the register and measurement standards, calibration history with
confirmation and correction factors, status, intermediate checks, maintenance and
incidents, check-out/return, usage snapshots, impact analysis and the daily job's alerts."""

from equipment.models.history import (
    Calibration,
    CalibrationResult,
    CheckOut,
    CheckOutPurpose,
    CheckPlan,
    ConfirmationConclusion,
    CorrectionTable,
    CriterionKind,
    IntermediateCheck,
    LogEntry,
    LogKind,
    MaintenancePlan,
)
from equipment.models.impact import (
    Alert,
    AlertState,
    EquipmentUse,
    ImpactAnalysis,
    ImpactDecision,
    ImpactItem,
    ImpactStatus,
    ImpactTrigger,
)
from equipment.models.register import (
    Attachment,
    Equipment,
    EquipmentKind,
    EquipmentStatus,
    MeasurementStandard,
    StopReason,
)

__all__ = [
    "Alert",
    "AlertState",
    "Attachment",
    "Calibration",
    "CalibrationResult",
    "CheckOut",
    "CheckOutPurpose",
    "CheckPlan",
    "ConfirmationConclusion",
    "CorrectionTable",
    "CriterionKind",
    "Equipment",
    "EquipmentKind",
    "EquipmentStatus",
    "EquipmentUse",
    "ImpactAnalysis",
    "ImpactDecision",
    "ImpactItem",
    "ImpactStatus",
    "ImpactTrigger",
    "IntermediateCheck",
    "LogEntry",
    "LogKind",
    "MaintenancePlan",
    "MeasurementStandard",
    "StopReason",
]
