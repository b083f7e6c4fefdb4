"""Kernel Celery tasks."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils import timezone

from labqms.models import Notification


@shared_task
def email_notifications(ids: list[int] | None) -> int:
    """E-mail notifications not yet e-mailed (to recipients that have an address)."""
    rows = Notification.objects.filter(emailed_at__isnull=True).select_related("recipient")
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    rows = list(rows)
    messages = [
        (n.subject, f"{n.body}\n\n{n.url}".strip(), settings.DEFAULT_FROM_EMAIL, [n.recipient.email])
        for n in rows
        if n.recipient.email
    ]
    if messages:
        send_mass_mail(messages, fail_silently=False)
    Notification.objects.filter(pk__in=[n.pk for n in rows]).update(emailed_at=timezone.now())
    return len(messages)
