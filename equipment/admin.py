"""Admin for the lab head: equipment data changes only through ``equipment.services``
(which check permissions and write old → new to the audit trail, R-EQP-9), so every
equipment model is read-only here; the pages of the equipment app are where work happens."""

from django.contrib import admin

from equipment.models import (
    Alert,
    Attachment,
    Calibration,
    CheckOut,
    CheckPlan,
    CorrectionTable,
    Equipment,
    EquipmentUse,
    ImpactAnalysis,
    ImpactItem,
    IntermediateCheck,
    LogEntry,
    MaintenancePlan,
    MeasurementStandard,
)
from labqms.admin import ReadOnlyAdmin


@admin.register(Equipment)
class EquipmentAdmin(ReadOnlyAdmin):
    list_display = ["lab_id", "name", "kind", "status", "calibration_due", "custodian"]
    list_filter = ["kind", "status"]
    search_fields = ["lab_id", "name", "serial_number", "model"]


for model in (
    Alert, Attachment, Calibration, CheckOut, CheckPlan, CorrectionTable, EquipmentUse, ImpactAnalysis,
    ImpactItem, IntermediateCheck, LogEntry, MaintenancePlan, MeasurementStandard,
):
    admin.site.register(model, ReadOnlyAdmin)
