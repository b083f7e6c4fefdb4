"""The issued-certificate guard also covers who checked an amendment (R-CRT-6)."""

from django.db import migrations

GUARD = """
CREATE OR REPLACE FUNCTION certificates_certificate_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('issued', 'void') THEN
            RAISE EXCEPTION 'labqms: issued certificate % is kept forever (R-CRT-6)', OLD.number;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IN ('issued', 'void') AND (
        ROW(NEW.number, NEW.record_id, NEW.type, NEW.verification_code, NEW.amends_id, NEW.amendment_kind,
            NEW.amendment_text, NEW.remarks, NEW.approved_by_id, NEW.approved_as_deputy_of_id, NEW.approved_at,
            NEW.issued_at, NEW.valid_until, NEW.content::text, NEW.pdf, NEW.sha256, NEW.created_by_id, NEW.created_at,
            NEW.checked_by_id, NEW.checked_at)
        IS DISTINCT FROM
        ROW(OLD.number, OLD.record_id, OLD.type, OLD.verification_code, OLD.amends_id, OLD.amendment_kind,
            OLD.amendment_text, OLD.remarks, OLD.approved_by_id, OLD.approved_as_deputy_of_id, OLD.approved_at,
            OLD.issued_at, OLD.valid_until, OLD.content::text, OLD.pdf, OLD.sha256, OLD.created_by_id, OLD.created_at,
            OLD.checked_by_id, OLD.checked_at)
        OR (OLD.status = 'void' AND NEW.status IS DISTINCT FROM 'void')
        OR (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'void'))
        OR (OLD.status = 'void' AND (NEW.void_reason IS DISTINCT FROM OLD.void_reason OR NEW.voided_at IS DISTINCT FROM OLD.voided_at))
    ) THEN
        RAISE EXCEPTION 'labqms: issued certificate % does not change; amend it by supplement or replacement (R-CRT-6)', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

OLD_GUARD = """
CREATE OR REPLACE FUNCTION certificates_certificate_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('issued', 'void') THEN
            RAISE EXCEPTION 'labqms: issued certificate % is kept forever (R-CRT-6)', OLD.number;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IN ('issued', 'void') AND (
        ROW(NEW.number, NEW.record_id, NEW.type, NEW.verification_code, NEW.amends_id, NEW.amendment_kind,
            NEW.amendment_text, NEW.remarks, NEW.approved_by_id, NEW.approved_as_deputy_of_id, NEW.approved_at,
            NEW.issued_at, NEW.valid_until, NEW.content::text, NEW.pdf, NEW.sha256, NEW.created_by_id, NEW.created_at)
        IS DISTINCT FROM
        ROW(OLD.number, OLD.record_id, OLD.type, OLD.verification_code, OLD.amends_id, OLD.amendment_kind,
            OLD.amendment_text, OLD.remarks, OLD.approved_by_id, OLD.approved_as_deputy_of_id, OLD.approved_at,
            OLD.issued_at, OLD.valid_until, OLD.content::text, OLD.pdf, OLD.sha256, OLD.created_by_id, OLD.created_at)
        OR (OLD.status = 'void' AND NEW.status IS DISTINCT FROM 'void')
        OR (OLD.status = 'issued' AND NEW.status NOT IN ('issued', 'void'))
        OR (OLD.status = 'void' AND (NEW.void_reason IS DISTINCT FROM OLD.void_reason OR NEW.voided_at IS DISTINCT FROM OLD.voided_at))
    ) THEN
        RAISE EXCEPTION 'labqms: issued certificate % does not change; amend it by supplement or replacement (R-CRT-6)', OLD.number;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_GUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("certificates", "0006_certificate_amendment_check")]
    operations = [migrations.RunPython(forwards, backwards)]
