"""On PostgreSQL, refuse UPDATE and DELETE on the audit trail at the database level."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION labqms_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'labqms: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER labqms_auditevent_append_only
    BEFORE UPDATE OR DELETE ON labqms_auditevent
    FOR EACH ROW EXECUTE FUNCTION labqms_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS labqms_auditevent_append_only ON labqms_auditevent;
DROP FUNCTION IF EXISTS labqms_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("labqms", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
