"""Celery tasks of intake: thin wrappers that call services."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from intake.models import CustomerNotice, NoticeStatus


@shared_task(bind=True, max_retries=3, default_retry_delay=60)
def send_customer_notice(self, notice_id: int) -> str:
    """E-mail a notice and record the outcome on it (R-INT-6, R-INT-8)."""
    notice = CustomerNotice.objects.select_related("order").get(pk=notice_id)
    if notice.status != NoticeStatus.PENDING:
        return notice.status
    try:
        send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [notice.recipient])
    except Exception as error:  # noqa: BLE001 — SMTP errors vary; record and retry.
        CustomerNotice.objects.filter(pk=notice.pk).update(error=str(error)[:300])
        if self.request.retries >= self.max_retries:
            CustomerNotice.objects.filter(pk=notice.pk).update(status=NoticeStatus.FAILED)
            return NoticeStatus.FAILED
        raise self.retry(exc=error) from error
    CustomerNotice.objects.filter(pk=notice.pk).update(
        status=NoticeStatus.SENT, sent_at=timezone.now(), error=""
    )
    return NoticeStatus.SENT
