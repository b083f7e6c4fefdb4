"""R-MGT-3: customer confidentiality and protection of electronically stored and
transmitted results — stored files are never served from a public URL, and a
production configuration transmits only over HTTPS with secure, HTTP-only cookies."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_r_mgt_3_stored_files_have_no_public_url(client, admin_user):
    """An issued certificate or an uploaded attachment exists under MEDIA_ROOT, yet
    /media/… answers 404 even to a signed-in administrator: files are only served by
    views that check permissions."""
    name = default_storage.save("certificates/2026/JD2026-000001.pdf", ContentFile(b"%PDF-1.7 confidential"))
    client.force_login(admin_user)
    assert client.get("/media/" + name).status_code == 404
    assert client.get("/" + name).status_code == 404


def test_r_mgt_3_production_settings_protect_data_in_transit():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "lab.example.cn",
        "DJANGO_SETTINGS_MODULE": "labqms.settings",
    }
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_HSTS_SECONDS", "DJANGO_BEHIND_TLS_PROXY"):
        env.pop(name, None)
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'X_FRAME_OPTIONS', 'DEBUG')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    values = json.loads(out.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] and values["X_FRAME_OPTIONS"] == "DENY"


def test_r_mgt_3_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "labqms.settings"}
    env.pop("DJANGO_SECRET_KEY", None)
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.DEBUG"], env=env, cwd=ROOT,
        capture_output=True, text=True,
    )
    assert out.returncode != 0 and "DJANGO_SECRET_KEY must be set" in out.stderr
