"""Rows that are written once and never changed or deleted through the ORM (event logs,
corrections, seal uses).  On PostgreSQL a trigger (``labqms_refuse_change``) enforces
the same in the database."""

from django.db import models


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} rows are append-only.")
