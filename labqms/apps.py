from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class LabqmsConfig(AppConfig):
    name = "labqms"
    label = "labqms"
    verbose_name = _("Lab and people")

    def ready(self):
        # Connects the Celery hooks that attribute audit events to the running task.
        from labqms import audit  # noqa: F401


class LabAdminConfig(AdminConfig):
    """django.contrib.admin with the site that asks labqms.permissions."""

    default_site = "labqms.admin_site.LabAdminSite"
