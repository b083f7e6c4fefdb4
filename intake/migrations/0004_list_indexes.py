"""Indexes for the lists at scale (issue 9): the sample list's default order, and on
PostgreSQL trigram indexes behind the "contains" searches of numbers and serial numbers
(``UPPER(col) LIKE '%…%'`` is what Django's ``icontains`` sends, so the index is on that
expression).  The trigram indexes are plain SQL run only on PostgreSQL and unknown to the
model state on purpose: SQLite has no GIN, and a model-level index would be re-created
whenever SQLite rebuilds the table."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

TRIGRAM = [
    ("intake_order", "number"),
    ("intake_sample", "sample_id"),
    ("intake_sample", "serial_number"),
    ("intake_orderitem", "serial_number"),
    ("intake_customer", "name"),
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
    dependencies = [("intake", "0003_sample_certificates")]

    operations = [
        migrations.AddIndex(
            model_name="sample",
            index=models.Index(fields=["-updated_at", "sample_id"], name="sample_changed_idx"),
        ),
        TrigramExtension(),  # nothing on other databases
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
