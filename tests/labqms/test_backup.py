"""`manage.py backup` / `manage.py restore` (R-REC-4 records backed up; R-MGT-3 protection of
stored results): the round trip brings back every table's rows and the issued PDFs byte for
byte; a damaged archive, a backup of the other database vendor or a missing confirmation is
refused before anything changes.

Each test runs on the backend of the run.  On PostgreSQL the commands work on the test
database itself, in this process (pg_dump / pg_restore).  On SQLite the test database lives
in memory, so it is copied into a file (SQLite's backup API) and the commands run in a
subprocess with DATABASE_URL pointing at that file.
"""

import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from unittest import mock

import pytest
import segno
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from certificates.models import Seal, SealKind
from intake.models import Customer
from tests.certificates.conftest import (  # noqa: F401 — an issued certificate to back up
    assigner,
    bp_equipment,
    categories,
    checked_record,
    checker,
    clerk,
    days,
    fill,
    hospital,
    lead,
    location,
    make_equipment,
    make_order,
    make_technician,
    method,
    method_lead,
    operator,
    other_hospital,
    performer,
    portal_user,
    received_sample,
    record,
    signed_record,
    task,
    template,
    today,
)
from tests.certificates.test_certificate_services import _issue, signatory  # noqa: F401
from tests.factories import UserFactory

ON_SQLITE = connection.vendor == "sqlite"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PostgresLab:
    """The lab's database is the test database; the commands run in this process."""

    def __init__(self, media: Path):
        self.media = media

    def publish(self):
        """Nothing to do: the commands see the test database directly."""

    def manage(self, *args, answer=None):
        out = io.StringIO()
        # No terminal under pytest: the confirmation reads the given answer, else end of input.
        with mock.patch("builtins.input", side_effect=[answer] if answer is not None else EOFError):
            try:
                call_command(*args, stdout=out, stderr=out)
            except CommandError as exc:
                return False, f"{out.getvalue()}\n{exc}"
        return True, out.getvalue()

    def rows(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def counts(self):
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
            return {table: self.rows(f'SELECT COUNT(*) FROM "{table}"')[0][0] for table in tables}


class SqliteLab:
    """The lab's database is an SQLite file holding a copy of the test database; the
    commands run in a subprocess against it and against the test's media folder."""

    def __init__(self, tmp_path: Path, media: Path):
        self.media = media
        self.file = tmp_path / "lab.sqlite3"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.file}",
            "DJANGO_MEDIA_ROOT": str(media),
            "LABQMS_VAR_DIR": str(tmp_path / "var"),
        }
        self.env.pop("REDIS_URL", None)

    def publish(self):
        """The lab's file now holds exactly what the test database holds."""
        connection.ensure_connection()
        target = sqlite3.connect(self.file)
        try:
            connection.connection.backup(target)
        finally:
            target.close()

    def manage(self, *args, answer=None):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=self.env,
            input=f"{answer}\n" if answer is not None else "", capture_output=True, text=True, timeout=600,
        )
        return result.returncode == 0, result.stdout + result.stderr

    def rows(self, sql):
        db = sqlite3.connect(self.file)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def counts(self):
        tables = self.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
        return {name: self.rows(f'SELECT COUNT(*) FROM "{name}"')[0][0] for (name,) in sorted(tables)}


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.skipif(not ON_SQLITE, reason="SQLite variant; this run's database is PostgreSQL")),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def lab(request, tmp_path, settings):
    media = Path(settings.MEDIA_ROOT)
    return SqliteLab(tmp_path, media) if request.param == "sqlite" else PostgresLab(media)


@pytest.fixture
def issued(checked_record, performer, signatory, method_lead):  # noqa: F811
    """A verification certificate issued with the lab's seal: a PDF and a seal image stored."""
    png = io.BytesIO()
    segno.make("检定专用章").save(png, kind="png", scale=4)
    Seal.objects.create(
        kind=SealKind.VERIFICATION, name="检定专用章", custodian=method_lead,
        image=ContentFile(png.getvalue(), name="verification.png"),
    )
    certificate = _issue(checked_record, performer, signatory)
    certificate.refresh_from_db()
    assert certificate.number and certificate.sha256
    return certificate


def _files(media: Path) -> dict[str, str]:
    return {
        path.relative_to(media).as_posix(): _sha256(path.read_bytes())
        for path in sorted(media.rglob("*"))
        if path.is_file()
    }


def _pdfs(lab) -> dict[str, tuple[str, str | None]]:
    """number → (SHA-256 recorded at issue, SHA-256 of the stored file now)."""
    result = {}
    for number, name, recorded in lab.rows(
        "SELECT number, pdf, sha256 FROM certificates_certificate WHERE pdf <> '' ORDER BY number"
    ):
        path = lab.media / name
        result[number] = (recorded, _sha256(path.read_bytes()) if path.exists() else None)
    return result


def _state(lab):
    return lab.counts(), _files(lab.media)


def _back_up(lab, tmp_path) -> Path:
    ok, out = lab.manage("backup", "--to", str(tmp_path / "backups"))
    assert ok, out
    (archive,) = (tmp_path / "backups").glob("labqms-*.tar.gz")
    assert str(archive) in out
    return archive


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


def _wipe_certificates():
    """What a bad day does: the certificates table emptied behind the application's back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE certificates_certificate CASCADE")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("DELETE FROM certificates_sealuse")
            cursor.execute("DELETE FROM certificates_certificate")
            cursor.execute("PRAGMA foreign_keys = ON")


def _change_after_backup(lab, certificate):
    """Rows added, changed and deleted; the issued PDF lost, the seal image overwritten."""
    UserFactory(username="after_backup")
    Customer.objects.update(name="改名后的客户")
    _wipe_certificates()
    (lab.media / certificate.pdf.name).unlink()
    (lab.media / "seals" / "verification.png").write_bytes(b"not a png")
    lab.publish()


def _repack(archive: Path, target: Path, change) -> Path:
    """A well-formed archive (valid gzip and tar) with members changed by ``change``."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            result = change(member.name, source.extractfile(member).read())
            if result is None:
                continue
            name, data = result
            member.name, member.size = name, len(data)
            out.addfile(member, io.BytesIO(data))
    return target


@pytest.mark.django_db(transaction=True)
def test_r_rec_4_round_trip_restores_every_tables_rows_and_the_issued_pdfs(lab, issued, tmp_path, hospital):  # noqa: F811
    """Back up, lose and change data and files, restore: row counts per table and the issued
    PDF's SHA-256 equal those before; files stored after the backup stay and are listed."""
    lab.publish()
    rows_before, files_before = _state(lab)
    pdfs_before = _pdfs(lab)
    assert pdfs_before == {issued.number: (issued.sha256, issued.sha256)}
    assert {issued.pdf.name, "seals/verification.png"} <= set(files_before)

    archive = _back_up(lab, tmp_path)
    assert os.stat(archive).st_mode & 0o077 == 0, "customers' data: readable by its owner only (R-MGT-3)"
    manifest = _manifest(archive)
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["tables"] == rows_before
    assert {
        name.removeprefix("files/"): meta["sha256"]
        for name, meta in manifest["members"].items()
        if name.startswith("files/")
    } == files_before
    assert manifest["app"]["version"] and "git_commit" in manifest["app"] and manifest["created_at"]

    _change_after_backup(lab, issued)
    (lab.media / "certificates" / "issued-later.pdf").write_bytes(b"%PDF-1.7 issued after the backup")
    assert lab.counts() != rows_before
    assert _pdfs(lab) == {}

    ok, out = lab.manage("restore", str(archive), "--yes")
    assert ok, out
    assert "match the manifest" in out
    assert re.search(r"certificates_certificate +1\n", out), out
    assert lab.counts() == rows_before
    assert _pdfs(lab) == pdfs_before
    files_after = _files(lab.media)
    assert {name: files_after.get(name) for name in files_before} == files_before
    assert files_after["certificates/issued-later.pdf"] == _sha256(b"%PDF-1.7 issued after the backup")
    assert "certificates/issued-later.pdf" in out
    assert lab.rows(f"SELECT name FROM intake_customer WHERE id = {hospital.pk}") == [(hospital.name,)]


@pytest.mark.django_db(transaction=True)
def test_r_rec_4_restore_refuses_damage_the_other_vendor_or_no_confirmation_and_changes_nothing(lab, issued, tmp_path):
    """A damaged, truncated, altered or incomplete archive, a backup of the other database
    vendor, and a restore not confirmed: each is refused and the data and files stay as
    they are (a restore that went through would bring back the backup's state)."""
    lab.publish()
    archive = _back_up(lab, tmp_path)
    _change_after_backup(lab, issued)
    before = _state(lab)
    data = archive.read_bytes()

    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0xFF]) + data[len(data) // 2 + 1 :])
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    forged_pdf = _repack(
        archive, tmp_path / "forged.tar.gz",
        lambda name, content: (name, b"%PDF-1.7 forged" if name.endswith(f"{issued.number}.pdf") else content),
    )
    no_manifest = _repack(
        archive, tmp_path / "no-manifest.tar.gz", lambda name, content: None if name == "manifest.json" else (name, content)
    )
    other_vendor = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    other_member = {"postgresql": "database/postgresql.dump", "sqlite": "database/sqlite3.db"}

    def relabel(name, content):
        if name == "manifest.json":
            manifest = json.loads(content)
            manifest["database"].update(vendor=other_vendor, member=other_member[other_vendor])
            manifest["members"][other_member[other_vendor]] = manifest["members"].pop(other_member[connection.vendor])
            return name, json.dumps(manifest).encode()
        return (other_member[other_vendor] if name.startswith("database/") else name), content

    wrong_vendor = _repack(archive, tmp_path / "other-vendor.tar.gz", relabel)

    refusals = [
        (flipped, ["--yes"], "is damaged"),
        (truncated, ["--yes"], "is damaged"),
        (forged_pdf, ["--yes"], f"does not match its manifest (altered: files/{issued.pdf.name})"),
        (no_manifest, ["--yes"], "has no manifest.json"),
        (wrong_vendor, ["--yes"], "cannot be restored into"),
        (archive, [], "Restore cancelled; nothing was changed."),
    ]
    for path, options, message in refusals:
        ok, out = lab.manage("restore", str(path), *options, answer=None if options else "no")
        assert not ok, (path.name, out)
        assert message in out, (path.name, out)
        assert _state(lab) == before, path.name

    ok, out = lab.manage("restore", str(archive), "--yes")
    assert ok, out
    assert _state(lab) != before


def test_make_restore_refuses_without_an_archive():
    result = subprocess.run(
        ["make", "--no-print-directory", "restore"], cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={key: value for key, value in os.environ.items() if key != "ARCHIVE"}, timeout=60,
    )
    assert result.returncode != 0
    assert "Usage: make restore ARCHIVE=" in result.stderr
