"""Technical work queues on the home page (R-MGT-4): a technician's tasks, the records
waiting for their check and the records sent back to them; for the technical lead (and
any authorised signatory) the certificates awaiting approval and the method editions
awaiting approval.

The technician's three counts are one query over tasks, with the conditions the task
list applies for the link's query string (``certificates.selectors.to_do`` /
``to_check`` read the same rows); see ``labqms.dashboard``."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from certificates.forms.tasks import TO_DO
from certificates.models import (
    Certificate,
    CertificateStatus,
    Method,
    MethodStatus,
    Task,
    TaskStatus,
)
from certificates.selectors import TO_DO_STATUSES
from labqms.dashboard import Queue, link

ACTIONS = ("records.view", "records.assign", "certificates.sign", "records.manage_methods")


def queues(user, today: date, *, allowed) -> list[Queue]:
    if not allowed["records.view"]:
        return []
    rows: list[Queue] = []
    if allowed["records.assign"]:
        rows += _technician_queues(user)
    if allowed["certificates.sign"]:
        drafts = Certificate.objects.filter(status=CertificateStatus.DRAFT).count()
        rows.append(
            Queue(
                key="certificates.awaiting_approval",
                label=_("Certificates awaiting approval"),
                count=drafts,
                url=link("certificates:certificate_queue"),
                level="warning",
            )
        )
    if allowed["records.manage_methods"]:
        editions = Method.objects.filter(status=MethodStatus.DRAFT).count()
        rows.append(
            Queue(
                key="certificates.methods_to_approve",
                label=_("Method editions to approve"),
                count=editions,
                url=link("certificates:method_list", status=MethodStatus.DRAFT),
                level="info",
            )
        )
    return rows


def _technician_queues(user) -> list[Queue]:
    counts = Task.objects.aggregate(
        to_do=Count("pk", filter=Q(performer=user, status__in=TO_DO_STATUSES)),
        to_check=Count("pk", filter=Q(checker=user, status=TaskStatus.AWAITING_CHECK)),
        returned=Count("pk", filter=Q(performer=user, status=TaskStatus.RETURNED)),
    )
    return [
        Queue(
            key="certificates.returned",
            label=_("My returned records"),
            count=counts["returned"],
            url=link("certificates:task_list", performer=user.pk, status=TaskStatus.RETURNED),
            level="danger",
            hint=_("Sent back by the checker for correction"),
        ),
        Queue(
            key="certificates.to_check",
            label=_("Records to check"),
            count=counts["to_check"],
            url=link("certificates:task_list", checker=user.pk, status=TaskStatus.AWAITING_CHECK),
            level="warning",
            hint=_("Signed by their performer, waiting for your check"),
        ),
        Queue(
            key="certificates.my_tasks",
            label=_("My tasks"),
            count=counts["to_do"],
            url=link("certificates:task_list", performer=user.pk, status=TO_DO),
            level="info",
            hint=_("Assigned, in progress or returned, with you as performer"),
        ),
    ]
