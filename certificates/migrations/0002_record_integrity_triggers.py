"""On PostgreSQL the database itself keeps signed records as signed (R-REC-3, R-REC-4):

* corrections and check rounds: never updated; deleted only with their record once its
  retention period has passed;
* readings, uncertainties, inspection results, equipment used: changeable while the
  record is a draft; after the performer's first signature never updated, and deleted
  only once the retention period has passed;
* the record: after the first signature its data columns never change; it becomes
  "checked" only together with its checker's check round; it is deleted only after
  ``keep_until`` (a local date in the lab's time zone);
* nothing is added to a signed record except corrections and check rounds (a check
  round only for a signed record, by someone other than the performer);
* a record template version in use, and its points, never change (results are computed
  from them).
"""

from django.conf import settings
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION certificates_record_row_guard() RETURNS trigger AS $$
DECLARE
    rec certificates_record%ROWTYPE;
    today date := (now() AT TIME ZONE '{tz}')::date;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO rec FROM certificates_record WHERE id = NEW.record_id;
        -- After the first signature rows are only appended as corrections and checks.
        IF rec.first_signed_at IS NOT NULL AND TG_ARGV[0] <> 'append_only' THEN
            RAISE EXCEPTION 'labqms: INSERT into % of signed record % is not allowed (R-REC-3)', TG_TABLE_NAME, rec.number;
        END IF;
        IF TG_TABLE_NAME = 'certificates_recordcheck' THEN
            -- (nested: NEW.checker_id exists only on this table)
            IF rec.status <> 'signed' OR NEW.checker_id = rec.performer_id THEN
                RAISE EXCEPTION 'labqms: a check of record % needs a signed record and a checker other than the performer (R-TST-1)', rec.number;
            END IF;
        END IF;
        RETURN NEW;
    END IF;
    SELECT * INTO rec FROM certificates_record WHERE id = OLD.record_id;
    IF TG_OP = 'DELETE' AND rec.keep_until IS NOT NULL AND rec.keep_until < today THEN
        RETURN OLD;
    END IF;
    IF TG_ARGV[0] = 'append_only' OR rec.first_signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'labqms: % on % of signed record % is not allowed (R-REC-3)', TG_OP, TG_TABLE_NAME, rec.number;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.record_id IS DISTINCT FROM OLD.record_id THEN
        RAISE EXCEPTION 'labqms: a row of record % cannot move to another record (R-REC-3)', rec.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION certificates_record_guard() RETURNS trigger AS $$
DECLARE
    today date := (now() AT TIME ZONE '{tz}')::date;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.keep_until IS NULL OR OLD.keep_until >= today THEN
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
        OR NEW.environment_at IS DISTINCT FROM OLD.environment_at
        OR NEW.created_at IS DISTINCT FROM OLD.created_at
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
    -- The checker's signature exists only with its check round (R-TST-1).
    IF NEW.status = 'checked' AND OLD.status IS DISTINCT FROM 'checked' AND NOT EXISTS (
        SELECT 1 FROM certificates_recordcheck c
        WHERE c.record_id = NEW.id AND c.checker_id = NEW.checker_id AND c.outcome = 'checked'
    ) THEN
        RAISE EXCEPTION 'labqms: record % is marked checked without a check by its checker (R-TST-1)', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION certificates_template_guard() RETURNS trigger AS $$
BEGIN
    -- A template version in use (or replaced) never changes: signed results are
    -- computed from it.  Only its status moves on (active -> retired).
    IF OLD.status <> 'draft' AND (TG_OP = 'DELETE' OR (
        ROW(NEW.method_id, NEW.version, NEW.name, NEW.quantity, NEW.unit, NEW.repeats, NEW.resolution,
            NEW.range_low, NEW.range_high, NEW.temperature_min, NEW.temperature_max, NEW.humidity_min,
            NEW.humidity_max, NEW.other_conditions::text, NEW.inspection_items::text, NEW.default_coverage_factor)
        IS DISTINCT FROM
        ROW(OLD.method_id, OLD.version, OLD.name, OLD.quantity, OLD.unit, OLD.repeats, OLD.resolution,
            OLD.range_low, OLD.range_high, OLD.temperature_min, OLD.temperature_max, OLD.humidity_min,
            OLD.humidity_max, OLD.other_conditions::text, OLD.inspection_items::text, OLD.default_coverage_factor)
    )) THEN
        RAISE EXCEPTION 'labqms: template version % is in use and does not change', OLD.version;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION certificates_templatepoint_guard() RETURNS trigger AS $$
DECLARE
    template_status text;
BEGIN
    SELECT status INTO template_status FROM certificates_recordtemplate
        WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.template_id ELSE OLD.template_id END;
    IF template_status IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION 'labqms: the points of a template version in use do not change';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER certificates_recordtemplate_guard BEFORE UPDATE OR DELETE ON certificates_recordtemplate
    FOR EACH ROW EXECUTE FUNCTION certificates_template_guard();
CREATE TRIGGER certificates_templatepoint_guard BEFORE INSERT OR UPDATE OR DELETE ON certificates_templatepoint
    FOR EACH ROW EXECUTE FUNCTION certificates_templatepoint_guard();
CREATE TRIGGER certificates_record_guard BEFORE UPDATE OR DELETE ON certificates_record
    FOR EACH ROW EXECUTE FUNCTION certificates_record_guard();
CREATE TRIGGER certificates_correction_guard BEFORE INSERT OR UPDATE OR DELETE ON certificates_correction
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('append_only');
CREATE TRIGGER certificates_recordcheck_guard BEFORE INSERT OR UPDATE OR DELETE ON certificates_recordcheck
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('append_only');
CREATE TRIGGER certificates_reading_guard BEFORE INSERT OR UPDATE OR DELETE ON certificates_reading
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
CREATE TRIGGER certificates_pointuncertainty_guard BEFORE INSERT OR UPDATE OR DELETE ON certificates_pointuncertainty
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
CREATE TRIGGER certificates_inspectionresult_guard BEFORE INSERT OR UPDATE OR DELETE ON certificates_inspectionresult
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
CREATE TRIGGER certificates_recordequipment_guard BEFORE INSERT OR UPDATE OR DELETE ON certificates_recordequipment
    FOR EACH ROW EXECUTE FUNCTION certificates_record_row_guard('draft_only');
"""

TABLES = [
    "record", "correction", "recordcheck", "reading", "pointuncertainty", "inspectionresult", "recordequipment",
    "recordtemplate", "templatepoint",
]
DROP = "".join(
    f"DROP TRIGGER IF EXISTS certificates_{t}_guard ON certificates_{t};\n" for t in TABLES
) + (
    "DROP FUNCTION IF EXISTS certificates_record_row_guard();\nDROP FUNCTION IF EXISTS certificates_record_guard();\n"
    "DROP FUNCTION IF EXISTS certificates_template_guard();\nDROP FUNCTION IF EXISTS certificates_templatepoint_guard();\n"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Retention dates are the lab's local dates (the service's timezone.localdate),
        # not the database session's UTC date.
        schema_editor.execute(CREATE.replace("{tz}", settings.TIME_ZONE), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("certificates", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
