"""Background issue of batch-approved certificates (rendering takes a while each)."""

from celery import shared_task

from certificates.services import certificates as services


@shared_task(acks_late=True)
def issue_certificates(ids: list[int]) -> int:
    """Issue each approved certificate in its own transaction.  ``acks_late``: a worker
    killed mid-batch leaves the message unacknowledged and it is delivered again; issued
    certificates are skipped, so none is issued twice."""
    for pk in ids:
        services.issue(pk)
    return len(ids)


@shared_task
def issue_pending_certificates() -> int:
    """Safety net: approved certificates still waiting to be issued (beat, every 10 min)."""
    return services.issue_pending()
