"""On PostgreSQL, refuse UPDATE and DELETE of custody events at the database level
(R-SMP-3: who, where, when must stay as recorded).  Uses the function of labqms 0002."""

from django.db import migrations

CREATE = """
CREATE TRIGGER intake_custodyevent_append_only
    BEFORE UPDATE OR DELETE ON intake_custodyevent
    FOR EACH ROW EXECUTE FUNCTION labqms_refuse_change();
"""
DROP = "DROP TRIGGER IF EXISTS intake_custodyevent_append_only ON intake_custodyevent;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial"), ("labqms", "0002_auditevent_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
