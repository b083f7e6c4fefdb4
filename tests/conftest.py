import os

import pytest
from django.db import connection

from labqms.models import Role
from tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """Browser tests run last (see tests/e2e/conftest.py).  Tests marked `postgres` need
    PostgreSQL: on SQLite they are skipped with a reason; in CI
    (LABQMS_REQUIRE_POSTGRES=1) a non-PostgreSQL run is an error instead."""
    items.sort(key=lambda item: "e2e" in item.keywords)
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        return
    if os.environ.get("LABQMS_REQUIRE_POSTGRES"):
        raise pytest.UsageError("LABQMS_REQUIRE_POSTGRES is set but the database is not PostgreSQL")
    skip = pytest.mark.skipif(True, reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks queued by services run in-process, so no test leaves messages in the
    development broker's folders; tests/labqms/test_celery.py turns this off to run a
    real worker."""
    from labqms.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def _fast_test_settings(settings, tmp_path):
    # Uploaded and issued files (certificates, seals, attachments) stay out of var/media.
    settings.MEDIA_ROOT = tmp_path / "media"
    # Hashing cost is not under test; PBKDF2 would make every factory user take ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests render pages without running collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def make_user(db):
    def make(*roles, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def head(make_user):
    return make_user(Role.LAB_HEAD, username="head_t")


@pytest.fixture
def techlead(make_user):
    return make_user(Role.TECHNICAL_LEAD, username="techlead_t")


@pytest.fixture
def qualitylead(make_user):
    return make_user(Role.QUALITY_LEAD, username="qualitylead_t")


@pytest.fixture
def technician(make_user):
    return make_user(Role.TECHNICIAN, username="tech_t")


@pytest.fixture
def counter(make_user):
    return make_user(Role.COUNTER_STAFF, username="counter_t")


@pytest.fixture
def customer(make_user):
    return make_user(Role.CUSTOMER, username="customer_t")
