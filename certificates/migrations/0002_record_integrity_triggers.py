"""On PostgreSQL the database itself keeps signed records as signed (R-REC-3, R-REC-4):

* corrections and check rounds: never updated; deleted only with their record once its
  retention period has passed;
* readings, uncertainties, inspection results, equipment used: changeable while the
  record is a draft; after the performer's first signature never updated, and deleted
  only once the retention period has passed;
* the record: after the first signature its data columns never change; it is deleted
  only after ``keep_until``.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION certificates_record_row_guard() RETURNS trigger AS $$
DECLARE
    rec certificates_record%ROWTYPE;
BEGIN
    SELECT * INTO rec FROM certificates_record WHERE id = OLD.record_id;
    IF TG_OP = 'DELETE' AND rec.keep_until IS NOT NULL AND rec.keep_until < current_date THEN
        RETURN OLD;
    END IF;
    IF TG_ARGV[0] = 'append_only' OR rec.first_signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'labqms: % on % of signed record % is not allowed (R-REC-3)', TG_OP, TG_TABLE_NAME, rec.number;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION certificates_record_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.keep_until IS NULL OR OLD.keep_until >= current_date THEN
            RAISE EXCEPTION 'labqms: record % must be kept until % (R-REC-4)', OLD.number, OLD.keep_until;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.first_signed_at IS NOT NULL AND (
        NEW.number IS DISTINCT FROM OLD.number
        OR NEW.task_id IS DISTINCT FROM OLD.task_id
        OR NEW.sample_id IS DISTINCT FROM OLD.sample_id
        OR NEW.method_id IS DISTINCT FROM OLD.method_id
        OR NEW.template_id IS DISTINCT FROM OLD.template_id
        OR NEW.instrument::text IS DISTINCT FROM OLD.instrument::text
        OR NEW.measured_on IS DISTINCT FROM OLD.measured_on
        OR NEW.place IS DISTINCT FROM OLD.place
        OR NEW.temperature IS DISTINCT FROM OLD.temperature
        OR NEW.humidity IS DISTINCT FROM OLD.humidity
        OR NEW.other_conditions::text IS DISTINCT FROM OLD.other_conditions::text
        OR NEW.environment_ok IS DISTINCT FROM OLD.environment_ok
        OR NEW.adjusted IS DISTINCT FROM OLD.adjusted
        OR NEW.adjustment_notes IS DISTINCT FROM OLD.adjustment_notes
        OR NEW.conclusion IS DISTINCT FROM OLD.conclusion
        OR NEW.conclusion_note IS DISTINCT FROM OLD.conclusion_note
        OR NEW.performer_id IS DISTINCT FROM OLD.performer_id
        OR NEW.first_signed_at IS DISTINCT FROM OLD.first_signed_at
        OR NEW.keep_until IS DISTINCT FROM OLD.keep_until
    ) THEN
        RAISE EXCEPTION 'labqms: signed record % changes only by a correction entry (R-REC-3)', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER certificates_record_guard BEFORE UPDATE OR DELETE ON certificates_record
    FOR EACH ROW EXECUTE FUNCTION certificates_record_guard();
CREATE TRIGGER certificates_correction_guard BEFORE UPDATE OR DELETE ON certificates_correction
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('append_only');
CREATE TRIGGER certificates_recordcheck_guard BEFORE UPDATE OR DELETE ON certificates_recordcheck
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('append_only');
CREATE TRIGGER certificates_reading_guard BEFORE UPDATE OR DELETE ON certificates_reading
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
CREATE TRIGGER certificates_pointuncertainty_guard BEFORE UPDATE OR DELETE ON certificates_pointuncertainty
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
CREATE TRIGGER certificates_inspectionresult_guard BEFORE UPDATE OR DELETE ON certificates_inspectionresult
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
CREATE TRIGGER certificates_recordequipment_guard BEFORE UPDATE OR DELETE ON certificates_recordequipment
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
"""

TABLES = ["record", "correction", "recordcheck", "reading", "pointuncertainty", "inspectionresult", "recordequipment"]
DROP = "".join(
    f"DROP TRIGGER IF EXISTS certificates_{t}_guard ON certificates_{t};\n" for t in TABLES
) + "DROP FUNCTION IF EXISTS certificates_record_row_guard();\nDROP FUNCTION IF EXISTS certificates_record_guard();\n"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
