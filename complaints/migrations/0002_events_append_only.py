"""On PostgreSQL, refuse UPDATE and DELETE of complaint events and extensions at the database level
(every step of a complaint file stays as recorded).  Uses the function of labqms 0002."""

from django.db import migrations

CREATE = """
CREATE TRIGGER complaints_complaintevent_append_only
    BEFORE UPDATE OR DELETE ON complaints_complaintevent
    FOR EACH ROW EXECUTE FUNCTION labqms_refuse_change();
CREATE TRIGGER complaints_extension_append_only
    BEFORE UPDATE OR DELETE ON complaints_extension
    FOR EACH ROW EXECUTE FUNCTION labqms_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS complaints_complaintevent_append_only ON complaints_complaintevent;
DROP TRIGGER IF EXISTS complaints_extension_append_only ON complaints_extension;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial"), ("labqms", "0002_auditevent_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
