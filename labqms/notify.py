"""Notifications: one in-app row per recipient, e-mailed after commit by a Celery task.

:func:`notify` takes many (recipient, subject, body, url) messages at once and writes them
with one bulk insert, so a job that warns about a thousand items still runs a constant
number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from labqms.models import Notification


@dataclass(frozen=True)
class Message:
    recipient: object
    subject: str
    body: str = ""
    url: str = ""


def notify(messages: list[Message], *, email: bool = True) -> list[Notification]:
    rows = Notification.objects.bulk_create(
        [
            Notification(recipient=m.recipient, subject=str(m.subject)[:200], body=str(m.body), url=m.url)
            for m in messages
            if m.recipient is not None
        ]
    )
    if email and rows:
        from labqms.tasks import email_notifications

        ids = [row.pk for row in rows if row.pk is not None]
        if ids:
            transaction.on_commit(lambda: email_notifications.delay(ids))
        else:  # backends that do not return primary keys from bulk inserts
            transaction.on_commit(lambda: email_notifications.delay(None))
    return rows
