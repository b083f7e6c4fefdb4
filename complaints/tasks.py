"""Celery tasks of complaints: thin wrappers around services."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from complaints.models import Correspondence, EmailStatus
from complaints.services import job
from labqms import audit


@shared_task
def near_deadline_job() -> dict:
    """Daily (Celery beat): complaints near their reply deadline or overdue."""
    with audit.source("task:complaints.near_deadline_job"):
        result = job.run(timezone.localdate())
    return result.__dict__


@shared_task(bind=True, max_retries=3, default_retry_delay=60)
def send_correspondence(self, message_id: int) -> str:
    """E-mail one message to the complainant; the outcome is recorded on it."""
    message = Correspondence.objects.get(pk=message_id)
    if message.email_status != EmailStatus.PENDING:
        return message.email_status
    try:
        send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient])
    except Exception as error:  # noqa: BLE001 — SMTP errors vary; record and retry.
        Correspondence.objects.filter(pk=message.pk).update(email_error=str(error)[:300])
        if self.request.retries >= self.max_retries:
            Correspondence.objects.filter(pk=message.pk).update(email_status=EmailStatus.FAILED)
            return EmailStatus.FAILED
        raise self.retry(exc=error) from error
    Correspondence.objects.filter(pk=message.pk).update(email_status=EmailStatus.SENT, email_error="")
    return EmailStatus.SENT
