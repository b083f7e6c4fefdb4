"""Celery tasks of audits: thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from audits.models import SurveyInvitation
from audits.services import job, surveys
from labqms import audit


@shared_task
def actions_due_job() -> dict:
    """Daily (Celery beat): overdue corrective actions and review decisions."""
    with audit.source("task:audits.actions_due_job"):
        result = job.run(timezone.localdate())
    return result.__dict__


@shared_task(bind=True, max_retries=3, default_retry_delay=60)
def send_survey_invitations(self, ids: list[int]) -> int:
    sent = 0
    for invitation in SurveyInvitation.objects.filter(pk__in=ids, sent_at__isnull=True).select_related("survey"):
        try:
            surveys.send_invitation(invitation)
        except Exception as error:  # noqa: BLE001 — SMTP errors vary; retry the rest later
            raise self.retry(exc=error) from error
        sent += 1
    return sent
