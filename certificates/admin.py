"""Admin for the lab head (the site itself requires "admin.access"): methods, templates,
tasks and original records change only through ``certificates.services`` — they check
who may act, keep signed records locked and write the audit trail (R-REC-3, R-TST-3) —
so every model is read-only here, corrections and check rounds included."""

from django.contrib import admin

from certificates.models import (
    Correction,
    InspectionResult,
    Method,
    PointUncertainty,
    Reading,
    Record,
    RecordCheck,
    RecordEquipment,
    RecordTemplate,
    Task,
    TemplatePoint,
)
from labqms.admin import ReadOnlyAdmin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        # Non-editable columns (auto timestamps) may only be shown as read-only fields.
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Method)
class MethodAdmin(ReadOnlyAdmin):
    list_display = ["code", "edition", "title", "kind", "status", "effective_on", "approved_by"]
    list_filter = ["kind", "status"]
    search_fields = ["code", "title"]


class TemplatePointInline(ReadOnlyInline):
    model = TemplatePoint
    fields = ["position", "label", "nominal", "tolerance_kind", "tolerance", "default_uncertainty"]


@admin.register(RecordTemplate)
class RecordTemplateAdmin(ReadOnlyAdmin):
    list_display = ["method", "version", "name", "status", "approved_by", "approved_at"]
    list_filter = ["status"]
    search_fields = ["method__code", "name"]
    list_select_related = ["method", "approved_by"]
    inlines = [TemplatePointInline]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["sample", "service", "method", "performer", "checker", "status", "assigned_at"]
    list_filter = ["service", "status"]
    search_fields = ["sample__sample_id", "method__code", "performer__username", "checker__username"]
    list_select_related = ["sample", "method", "performer", "checker"]


class ReadingInline(ReadOnlyInline):
    model = Reading
    fields = ["point", "phase", "repeat", "entered_text", "value", "entered_at", "entered_by"]


class UncertaintyInline(ReadOnlyInline):
    model = PointUncertainty
    fields = ["point", "phase", "expanded_uncertainty", "coverage_factor", "from_template"]


class InspectionInline(ReadOnlyInline):
    model = InspectionResult
    fields = ["position", "item", "ok", "note"]


class EquipmentUsedInline(ReadOnlyInline):
    model = RecordEquipment
    fields = ["equipment", "snapshot", "added_by", "added_at"]


class CorrectionInline(ReadOnlyInline):
    model = Correction
    fields = ["label", "field", "old_value", "new_value", "reason", "corrected_by", "corrected_at"]


class RecordCheckInline(ReadOnlyInline):
    model = RecordCheck
    fields = ["at", "checker", "outcome", "comments"]


@admin.register(Record)
class RecordAdmin(ReadOnlyAdmin):
    list_display = ["number", "sample", "method", "performer", "checker", "status", "measured_on", "keep_until"]
    list_filter = ["status", "on_site"]
    search_fields = ["number", "sample__sample_id", "sample__serial_number"]
    list_select_related = ["sample", "method", "performer", "checker"]
    inlines = [
        EquipmentUsedInline, ReadingInline, UncertaintyInline, InspectionInline, CorrectionInline, RecordCheckInline,
    ]


@admin.register(Correction)
class CorrectionAdmin(ReadOnlyAdmin):
    list_display = ["record", "label", "old_value", "new_value", "reason", "corrected_by", "corrected_at"]
    search_fields = ["record__number", "label", "reason"]
    list_select_related = ["record", "corrected_by"]
