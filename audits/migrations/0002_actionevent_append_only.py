"""On PostgreSQL, refuse UPDATE and DELETE of corrective-action events at the database level
(every step of an action stays as recorded).  Uses the function of labqms 0002."""

from django.db import migrations

CREATE = """
CREATE TRIGGER audits_actionevent_append_only
    BEFORE UPDATE OR DELETE ON audits_actionevent
    FOR EACH ROW EXECUTE FUNCTION labqms_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS audits_actionevent_append_only ON audits_actionevent;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audits", "0001_initial"), ("labqms", "0002_auditevent_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
