"""Celery runs for real: a task queued on the configured broker (Redis in CI, kombu's
filesystem transport in the embedded default) is picked up by a worker, which calls the
service; the change is audited as made by that task."""

import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import OperationalError, transaction
from kombu import pools

from labqms.celery import app as celery_app
from labqms.models import AuditEvent
from tests.labqms.test_audit import grant_verification


@pytest.fixture
def broker(tmp_path):
    """A private queue folder for the filesystem broker, so tests never touch var/."""
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    _forget_connections()
    options = celery_app.conf.broker_transport_options
    saved = dict(options)
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out"):
            options[key] = str(tmp_path / "queue")
        options["processed_folder"] = str(tmp_path / "processed")
        options["control_folder"] = str(tmp_path / "control")
        for folder in ("queue", "processed", "control"):
            (tmp_path / folder).mkdir()
    yield settings.CELERY_BROKER_URL
    options.clear()
    options.update(saved)
    _forget_connections()


def _forget_connections():
    """Connections and producers are pooled with the broker options they were made with;
    drop them so the worker and the producer both use this test's folders."""
    celery_app.amqp._producer_pool = None
    celery_app._pool = None
    pools.reset()


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_after_commit_is_run_by_a_worker(broker, head, technician):
    assert not celery_app.conf.task_always_eager
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            transaction.on_commit(lambda: grant_verification.delay(head.pk, technician.pk))
        deadline = time.monotonic() + 30
        event = None
        while time.monotonic() < deadline:
            try:
                event = AuditEvent.objects.filter(action="authorisation.granted").first()
            except OperationalError:
                # SQLite's in-memory test database (shared cache) locks the table while the
                # worker thread writes; ask again.
                event = None
            if event:
                break
            time.sleep(0.2)
    assert event is not None, f"no worker ran the task on {broker}"
    assert event.source == "task:tests.grant_verification"
    # The filesystem broker keeps every file under its configured folders, none in the
    # working directory (kombu's default ./control would end up in the repository).
    assert not (Path(settings.BASE_DIR) / "control").exists()
