"""Celery tasks of equipment: thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from equipment.services import job
from labqms import audit


@shared_task
def recalibration_job() -> dict:
    """Daily (Celery beat): overdue / due-soon equipment and expiring standard certificates."""
    with audit.source("task:equipment.recalibration_job"):
        result = job.run(timezone.localdate())
    return result.__dict__
