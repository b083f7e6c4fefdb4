"""Backup and restore of everything the lab keeps (R-REC-4): the database and every stored
file, in one archive that says what is in it.

An archive ``labqms-YYYYMMDD-HHMMSS.tar.gz`` holds

* ``database/postgresql.dump`` (``pg_dump --format=custom``) or ``database/sqlite3.db`` (a
  copy made through SQLite's online backup API, never a file copy of a live database);
* ``files/<name>`` for every file in the default storage: issued PDFs, uploads, seal images;
* ``manifest.json``, written last: when, which code (version, git commit), which database
  vendor, the row count of every table *as dumped*, and size and SHA-256 of every member.

``verify_archive`` reads the whole archive against its manifest before anything is touched;
``restore_backup`` then replaces the database in one transaction, writes the files back and
checks the result against the manifest again (row counts, file hashes).  The archive holds
customers' data (R-MGT-3): it is written readable by its owner only.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import posixpath
import sqlite3
import subprocess
import tarfile
import tempfile
import tomllib
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
FILES_PREFIX = "files/"
DATABASE_MEMBERS = {"postgresql": "database/postgresql.dump", "sqlite": "database/sqlite3.db"}
VENDOR_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
CHUNK = 1024 * 1024
PROGRESS_EVERY = 200

Progress = Callable[[str], None]


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


def default_directory() -> Path:
    return Path(settings.VAR_DIR) / "backups"


def stored_files(storage=default_storage) -> list[str]:
    """Every file name in the storage (issued PDFs, uploads, seal images), sorted."""
    found, pending = [], [""]
    while pending:
        folder = pending.pop()
        try:
            folders, files = storage.listdir(folder)
        except FileNotFoundError:  # nothing stored yet
            continue
        found += [posixpath.join(folder, name) for name in files]
        pending += [posixpath.join(folder, name) for name in folders]
    return sorted(found)


# --- backup -------------------------------------------------------------------------------


@dataclass
class Backup:
    path: Path
    manifest: dict


def create_backup(*, directory: Path, progress: Progress) -> Backup:
    """Write one archive into ``directory`` and return its path and manifest.

    The database goes first and the files after it: a file referenced by a dumped row was
    stored before that row was committed, so it is there when the files are read.  Files
    stored meanwhile come along too (harmless).  A half-written archive never keeps the
    final name (``.partial`` until complete)."""
    connection = connections[DEFAULT_DB_ALIAS]
    vendor = _supported_vendor(connection.vendor)
    directory = Path(directory)
    _refuse_inside_storage(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = _new_archive_path(directory)
    partial = path.with_name(path.name + ".partial")
    members: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="labqms-backup-") as scratch:
        dump = Path(scratch) / "database"
        progress(f"Dumping the {VENDOR_NAMES[vendor]} database {database_label(connection)} …")
        if vendor == "postgresql":
            tables = _dump_postgresql(dump)
        else:
            tables = _dump_sqlite(connection, dump)
        progress(f"  {len(tables)} tables, {sum(tables.values())} rows, {size_label(dump.stat().st_size)}")
        names = stored_files()
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                    with open(dump, "rb") as file:
                        members[DATABASE_MEMBERS[vendor]] = _add(
                            tar, DATABASE_MEMBERS[vendor], file, dump.stat().st_size
                        )
                    progress(f"Archiving {len(names)} stored files …")
                    step = _progress_step(len(names))
                    for done, name in enumerate(names, 1):
                        with default_storage.open(name, "rb") as file:
                            members[FILES_PREFIX + name] = _add(
                                tar, FILES_PREFIX + name, file, default_storage.size(name)
                            )
                        if done % step == 0:
                            progress(f"  {done}/{len(names)} files")
                    manifest = _manifest(connection, vendor, tables, members)
                    data = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
                    _add(tar, MANIFEST, io.BytesIO(data), len(data))
                raw.flush()
                os.fsync(raw.fileno())
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, path)
    return Backup(path=path, manifest=manifest)


def _dump_postgresql(target: Path) -> dict[str, int]:
    """``pg_dump`` of the configured database, with the row counts of the very snapshot it
    dumps (``pg_export_snapshot`` shared with ``pg_dump --snapshot``), so the manifest's
    counts are exactly what a restore brings back even while the lab keeps working."""
    snapshot_connection = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with snapshot_connection.cursor() as cursor:
            # Autocommit connection: this BEGIN is the transaction, nothing opened before it.
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            tables = _row_counts(snapshot_connection, cursor)
            settings_dict = snapshot_connection.settings_dict
            _run(
                ["pg_dump", "--format=custom", "--no-password", f"--snapshot={snapshot}",
                 f"--file={target}", f"--dbname={settings_dict['NAME']}"],
                env=_pg_environment(settings_dict),
            )
            cursor.execute("ROLLBACK")
    finally:
        snapshot_connection.close()
    return tables


def _dump_sqlite(connection, target: Path) -> dict[str, int]:
    """A copy through SQLite's online backup API: one consistent snapshot even while the web
    and worker processes write (a plain file copy of a WAL database can be torn)."""
    name = _sqlite_file(connection)
    if not name.is_file():
        raise BackupError(f"The SQLite database {name} does not exist (run manage.py migrate first).")
    source = sqlite3.connect(name, timeout=60)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            # One self-contained file: no -wal file belongs with it.
            copy.execute("PRAGMA journal_mode=DELETE")
            return _sqlite_row_counts(copy)
        finally:
            copy.close()
    finally:
        source.close()


def _manifest(connection, vendor: str, tables: dict[str, int], members: dict[str, dict]) -> dict:
    return {
        "format": FORMAT,
        "created_at": timezone.localtime().isoformat(timespec="seconds"),
        "app": {"name": "labqms", "version": _app_version(), "git_commit": _git_commit()},
        "database": {
            "vendor": vendor,
            "name": database_label(connection),
            "member": DATABASE_MEMBERS[vendor],
            "tables": tables,
        },
        "storage": {
            "backend": f"{default_storage.__class__.__module__}.{default_storage.__class__.__qualname__}",
            "files": sum(1 for name in members if name.startswith(FILES_PREFIX)),
        },
        "members": members,
    }


class _HashingReader:
    """Hands tarfile the bytes it reads and hashes them on the way."""

    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()

    def read(self, size=-1):
        data = self.raw.read(size)
        self.sha256.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, file, size: int) -> dict:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(timezone.now().timestamp())
    reader = _HashingReader(file)
    tar.addfile(info, reader)
    return {"size": size, "sha256": reader.sha256.hexdigest()}


def _new_archive_path(directory: Path) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path, suffix = directory / f"labqms-{stamp}.tar.gz", 2
    while path.exists() or path.with_name(path.name + ".partial").exists():
        path, suffix = directory / f"labqms-{stamp}-{suffix}.tar.gz", suffix + 1
    return path


def _refuse_inside_storage(directory: Path) -> None:
    location = getattr(default_storage, "location", None)
    if location and directory.resolve().is_relative_to(Path(location).resolve()):
        raise BackupError(
            f"{directory} is inside the file storage ({location}): every backup would contain "
            "the ones before it. Choose a folder outside it."
        )


# --- verify -------------------------------------------------------------------------------


def verify_archive(path: Path, *, progress: Progress) -> dict:
    """Read the whole archive and compare every member with the manifest; return the
    manifest.  Raises BackupError for a damaged, incomplete or altered archive."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    found: dict[str, dict] = {}
    manifest = None
    try:
        with _reading(path) as tar:
            for member in tar:
                if not member.isfile():
                    raise BackupError(f"{path.name} is not a labqms backup: {member.name!r} is not a plain file.")
                if member.name in found or (member.name == MANIFEST and manifest is not None):
                    raise BackupError(f"{path.name} is damaged: {member.name!r} appears twice.")
                file = tar.extractfile(member)
                if member.name == MANIFEST:
                    manifest = _parse_manifest(path, file.read())
                    continue
                _check_member_name(path, member.name)
                found[member.name] = {"size": member.size, "sha256": _sha256(file)}
                if len(found) % (PROGRESS_EVERY * 10) == 0:
                    progress(f"  {len(found)} members checked")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path.name} is damaged and cannot be read: {exc}") from exc
    if manifest is None:
        raise BackupError(f"{path.name} has no manifest.json: it is incomplete or not a labqms backup.")
    expected = manifest["members"]
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    altered = sorted(name for name in set(found) & set(expected) if found[name] != expected[name])
    if missing or unexpected or altered:
        problems = [
            f"{label}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
            for label, names in (("missing", missing), ("not in the manifest", unexpected), ("altered", altered))
            if names
        ]
        raise BackupError(f"{path.name} does not match its manifest ({'; '.join(problems)}).")
    if manifest["database"]["member"] not in expected:
        raise BackupError(f"{path.name} holds no database.")
    progress(f"  {len(found)} members match the manifest (SHA-256)")
    return manifest


def _parse_manifest(path: Path, data: bytes) -> dict:
    try:
        manifest = json.loads(data)
        vendor = manifest["database"]["vendor"]
        valid = (
            manifest["format"] == FORMAT
            and vendor in DATABASE_MEMBERS
            and manifest["database"]["member"] == DATABASE_MEMBERS[vendor]
            and isinstance(manifest["database"]["tables"], dict)
            and all(
                isinstance(meta["size"], int) and isinstance(meta["sha256"], str)
                for meta in manifest["members"].values()
            )
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        valid = False
    if not valid:
        raise BackupError(f"{path.name} has an unreadable manifest: damaged, or not a labqms backup of format {FORMAT}.")
    return manifest


def _check_member_name(path: Path, name: str) -> None:
    parts = name.split("/")
    allowed = name in DATABASE_MEMBERS.values() or (name.startswith(FILES_PREFIX) and len(parts) > 1)
    if not allowed or any(part in ("", ".", "..") for part in parts) or "\\" in name:
        raise BackupError(f"{path.name} is not a labqms backup: unexpected member {name!r}.")


# --- restore ------------------------------------------------------------------------------


def check_target(manifest: dict) -> None:
    """Refuse before anything is changed when the archive cannot go into the configured
    database: a PostgreSQL dump into SQLite or the other way round, or an in-memory one."""
    connection = connections[DEFAULT_DB_ALIAS]
    current = _supported_vendor(connection.vendor)
    archived = manifest["database"]["vendor"]
    if archived != current:
        raise BackupError(
            f"This archive holds a {VENDOR_NAMES[archived]} database but the configured database is "
            f"{VENDOR_NAMES[current]}: a {VENDOR_NAMES[archived]} backup cannot be restored into "
            f"{VENDOR_NAMES[current]}. Point DATABASE_URL at a {VENDOR_NAMES[archived]} database, "
            "or restore a backup made on this one. Nothing was changed."
        )
    if current == "sqlite":
        _sqlite_file(connection)


@dataclass
class Restored:
    tables: dict[str, int]
    # table -> (in the manifest, after the restore); empty when everything came back
    table_mismatches: dict[str, tuple[int | None, int | None]]
    files_written: int = 0
    files_unchanged: int = 0
    file_mismatches: list[str] = field(default_factory=list)
    files_not_in_backup: list[str] = field(default_factory=list)
    unapplied_migrations: int = 0


def restore_backup(path: Path, manifest: dict, *, progress: Progress) -> Restored:
    """Replace the database and the stored files with the archive's (verified beforehand by
    ``verify_archive``) and compare the result with the manifest.

    Files stored after the backup are left in place and listed: they may be PDFs issued
    since, the only trace left of those certificates once the database is rolled back."""
    path = Path(path)
    check_target(manifest)
    connection = connections[DEFAULT_DB_ALIAS]
    vendor = connection.vendor
    member = manifest["database"]["member"]
    with tempfile.TemporaryDirectory(prefix="labqms-restore-") as scratch:
        dump = Path(scratch) / "database"
        progress("Extracting the database …")
        _extract(path, member, dump, manifest["members"][member]["sha256"])
        connection.close()
        if vendor == "postgresql":
            _restore_postgresql(connection, dump, progress)
        else:
            _restore_sqlite(connection, dump, manifest["database"]["tables"], progress)
    connection.close()
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            tables = _row_counts(connection, cursor)
    else:
        tables = _sqlite_row_counts_of(_sqlite_file(connection))
    expected_tables = manifest["database"]["tables"]
    result = Restored(
        tables=tables,
        table_mismatches={
            table: (expected_tables.get(table), tables.get(table))
            for table in sorted(set(expected_tables) | set(tables))
            if expected_tables.get(table) != tables.get(table)
        },
    )
    expected_files = {
        name.removeprefix(FILES_PREFIX): meta
        for name, meta in manifest["members"].items()
        if name.startswith(FILES_PREFIX)
    }
    progress(f"Restoring {len(expected_files)} stored files …")
    result.files_written, result.files_unchanged = _restore_files(path, expected_files, progress)
    progress("Checking the restored files against the manifest …")
    for name, meta in expected_files.items():
        if not default_storage.exists(name) or _stored_sha256(name) != meta["sha256"]:
            result.file_mismatches.append(name)
    result.files_not_in_backup = sorted(set(stored_files()) - set(expected_files))
    executor = MigrationExecutor(connection)
    result.unapplied_migrations = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    return result


def _extract(path: Path, member_name: str, target: Path, sha256: str) -> None:
    reader = None
    with _reading(path, to_the_end=False) as tar:
        for member in tar:
            if member.name == member_name:
                reader = _HashingReader(tar.extractfile(member))
                with open(target, "wb") as out:
                    while chunk := reader.read(CHUNK):
                        out.write(chunk)
                break
    # The archive was verified a moment ago; this catches it changing since.
    if reader is None or reader.sha256.hexdigest() != sha256:
        raise BackupError(f"{path.name} changed while being restored; nothing was changed.")


def _restore_postgresql(connection, dump: Path, progress: Progress) -> None:
    settings_dict = connection.settings_dict
    env = _pg_environment(settings_dict)
    _run(["pg_restore", "--list", str(dump)], env=env)  # a readable dump, before touching the database
    progress(f"Restoring the PostgreSQL database {database_label(connection)} (pg_restore) …")
    # One transaction: a failure leaves the database as it was.  No owners and no grants:
    # the roles of the machine that made the backup need not exist here.
    _run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
         "--exit-on-error", "--no-password", f"--dbname={settings_dict['NAME']}", str(dump)],
        env=env,
    )


def _restore_sqlite(connection, dump: Path, tables: dict[str, int], progress: Progress) -> None:
    """Replaces the database file's content atomically: SQLite's backup API writes it in one
    transaction, so every process sees the old database or the restored one, never a mix.
    (Renaming a file over a live WAL database would pair the new file with the old -wal.)"""
    name = _sqlite_file(connection)
    source = sqlite3.connect(dump)
    try:
        if source.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("The database in the archive fails SQLite's integrity check; nothing was changed.")
        if _sqlite_row_counts(source) != tables:
            raise BackupError("The database in the archive does not have the manifest's row counts; nothing was changed.")
        progress(f"Restoring the SQLite database {name} …")
        name.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(name, timeout=60)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _restore_files(path: Path, expected: dict[str, dict], progress: Progress) -> tuple[int, int]:
    written = unchanged = 0
    step = _progress_step(len(expected))
    with _reading(path) as tar:
        for member in tar:
            name = member.name.removeprefix(FILES_PREFIX)
            if not member.name.startswith(FILES_PREFIX) or name not in expected:
                continue
            if default_storage.exists(name):
                if _stored_sha256(name) == expected[name]["sha256"]:
                    unchanged += 1
                    continue
                default_storage.delete(name)
            saved = default_storage.save(name, File(tar.extractfile(member), name=posixpath.basename(name)))
            if saved != name:
                raise BackupError(f"The storage saved {name} as {saved}; restore stopped.")
            written += 1
            if (written + unchanged) % step == 0:
                progress(f"  {written + unchanged}/{len(expected)} files")
    return written, unchanged


# --- shared -------------------------------------------------------------------------------


@contextmanager
def _reading(path: Path, *, to_the_end: bool = True) -> Iterator[tarfile.TarFile]:
    """The archive's members in order, read once.  Leaving the block reads on to the end of
    the gzip stream, where gzip checks its CRC-32: tarfile's own stream reader never does,
    and the manifest has no hash of its own."""
    with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
        with tarfile.open(fileobj=unzipped, mode="r|") as tar:
            yield tar
        while to_the_end and unzipped.read(CHUNK):
            pass


def _progress_step(total: int) -> int:
    """Report every few hundred items, and at most about twenty times."""
    return max(PROGRESS_EVERY, total // 20)


def _supported_vendor(vendor: str) -> str:
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"Backup and restore support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def database_label(connection) -> str:
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(settings_dict["NAME"])
    host = settings_dict.get("HOST") or "local socket"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{settings_dict['NAME']} on {host}{port}"


def _sqlite_file(connection) -> Path:
    if connection.is_in_memory_db():
        raise BackupError("The SQLite database is in memory: there is no file to back up or restore.")
    return Path(connection.settings_dict["NAME"])


def _row_counts(connection, cursor) -> dict[str, int]:
    quote = connection.ops.quote_name
    counts = {}
    for table in connection.introspection.table_names(cursor):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _sqlite_row_counts(db: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )
    ]
    return {
        table: db.execute(f'SELECT COUNT(*) FROM "{table.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
        for table in sorted(tables)
    }


def _sqlite_row_counts_of(name: Path) -> dict[str, int]:
    db = sqlite3.connect(name, timeout=60)
    try:
        return _sqlite_row_counts(db)
    finally:
        db.close()


def _pg_environment(settings_dict: dict) -> dict[str, str]:
    """libpq's environment for pg_dump/pg_restore: the password never on a command line."""
    env = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"), ("passfile", "PGPASSFILE"), ("service", "PGSERVICE"),
    ):
        if options.get(option):
            env[variable] = str(options[option])
    return env


def _run(command: list[str], *, env: dict[str, str]) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(
            f"{command[0]} is not installed. Install the PostgreSQL client tools of the server's "
            "version or newer (Debian: postgresql-client)."
        ) from exc
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed (exit {result.returncode}): {result.stderr.strip()}")


def _sha256(file) -> str:
    digest = hashlib.sha256()
    while chunk := file.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _stored_sha256(name: str) -> str:
    with default_storage.open(name, "rb") as file:
        return _sha256(file)


def _app_version() -> str | None:
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as file:
            return tomllib.load(file)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def size_label(size: float) -> str:
    units = ["B", "KB", "MB", "GB", "TB"]
    while size >= 1024 and len(units) > 1:
        size /= 1024
        units.pop(0)
    return f"{size:.0f} B" if units[0] == "B" else f"{size:.1f} {units[0]}"
