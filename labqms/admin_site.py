"""The admin site asks labqms.permissions too: only the lab head (with a staff account)
maintains master data there; IT superusers get no way around the lab's rules."""

from django.contrib import admin


class LabAdminSite(admin.AdminSite):
    site_header = "labqms"
    site_title = "labqms"

    def has_permission(self, request):
        from labqms import permissions

        return super().has_permission(request) and permissions.can(request.user, "admin.access")
