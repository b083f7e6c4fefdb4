"""Indexes for the lists at scale (issue 9): each list's default order (tasks, records,
certificates, seal uses), and on PostgreSQL trigram indexes behind the "contains"
searches of record and certificate numbers (see intake 0004 for why these are plain SQL
outside the model state)."""

from django.db import migrations, models

TRIGRAM = [
    ("certificates_record", "number"),
    ("certificates_certificate", "number"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, column in TRIGRAM:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS {table}_{column}_trgm ON {table} USING gin (UPPER("{column}") gin_trgm_ops)'
            )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, column in TRIGRAM:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("certificates", "0007_guard_covers_amendment_check"), ("intake", "0004_list_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(fields=["-created_at", "-id"], name="certificate_prepared_idx"),
        ),
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(fields=["-issued_at", "-id"], name="certificate_issued_idx"),
        ),
        migrations.AddIndex(
            model_name="record",
            index=models.Index(fields=["-measured_on", "-number"], name="record_measured_idx"),
        ),
        migrations.AddIndex(
            model_name="sealuse",
            index=models.Index(fields=["-used_at", "-id"], name="sealuse_used_idx"),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(fields=["-assigned_at", "-id"], name="task_assigned_idx"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
