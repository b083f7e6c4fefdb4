from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class LabqmsConfig(AppConfig):
    name = "labqms"
    label = "labqms"
    verbose_name = _("Lab and people")

    def ready(self):
        from django.db.backends.signals import connection_created

        # Connects the Celery hooks that attribute audit events to the running task.
        from labqms import audit  # noqa: F401

        connection_created.connect(_sqlite_query_params)


def _sqlite_query_params(sender, connection, **kwargs):
    """Django 5.2 assumes SQLite's old limit of 999 bound parameters and splits bulk
    inserts into ever more statements; ask the library for its real limit (250 000 in
    current builds) so a bulk insert stays one query, as on PostgreSQL."""
    if connection.vendor != "sqlite":
        return
    import sqlite3

    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    connection.features.max_query_params = limit


class LabAdminConfig(AdminConfig):
    """django.contrib.admin with the site that asks labqms.permissions."""

    default_site = "labqms.admin_site.LabAdminSite"
