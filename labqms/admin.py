"""Admin: master data editing with field history; workflow rows are read-only here
because their changes must go through services (which check permission and audit)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from labqms.models import (
    AuditEvent,
    Authorisation,
    CalendarYear,
    Delegation,
    NumberSequence,
    Qualification,
    RoleDescription,
    StaffProfile,
    SupervisionRecord,
    TrainingPlan,
    TrainingRecord,
    User,
    WorkdayOverride,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False


@admin.register(User)
class LabUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "full_name", "email", "is_active", "last_login"]
    search_fields = ["username", "full_name", "email"]
    fieldsets = UserAdmin.fieldsets + ((_("Lab"), {"fields": ["full_name", "phone"]}),)

    def get_readonly_fields(self, request, obj=None):
        # Roles change through the people page (audited), not here.
        return [*super().get_readonly_fields(request, obj), "groups", "user_permissions"]


@admin.register(TrainingPlan, TrainingRecord, RoleDescription)
class HistoryAdmin(SimpleHistoryAdmin):
    pass


@admin.register(Authorisation)
class AuthorisationAdmin(ReadOnlyAdmin):
    list_display = [
        "person",
        "activity",
        "valid_from",
        "valid_until",
        "authorised_by",
        "revoked_at",
    ]
    list_filter = ["activity"]
    search_fields = ["person__username", "person__full_name"]


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdmin):
    list_display = ["person", "kind", "number", "valid_from", "valid_until"]
    search_fields = ["person__username", "person__full_name", "number"]


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ["lead", "deputy", "role", "valid_from", "valid_until", "revoked_at"]


@admin.register(SupervisionRecord)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = ["supervisee", "supervisor", "supervised_on", "conclusion"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "target_repr", "source"]
    list_filter = ["action"]
    search_fields = ["target_repr", "action", "actor__username"]


@admin.register(WorkdayOverride, CalendarYear, NumberSequence)
class CalendarAdmin(ReadOnlyAdmin):
    pass
