"""Restore a backup made by ``manage.py backup`` (R-REC-4).

``manage.py restore ARCHIVE [--yes]``: checks the whole archive against its manifest first
(a damaged or altered archive is refused before anything changes), asks for confirmation,
replaces the database (``pg_restore --clean`` in one transaction, or SQLite's backup API)
and writes the stored files back, then prints the row counts and checks them and every
restored file's SHA-256 against the manifest.  Stop the web server and the Celery worker
and beat first: they would keep working on the database being replaced.
"""

from pathlib import Path

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from labqms import backup


class Command(BaseCommand):
    help = "Restore the database and the stored files from an archive made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="the .tar.gz written by manage.py backup")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, archive, yes, **options):
        try:
            self._progress(f"Checking {archive} against its manifest …")
            manifest = backup.verify_archive(archive, progress=self._progress)
            backup.check_target(manifest)
            self._describe(manifest)
            if not yes and not self._confirmed():
                raise CommandError("Restore cancelled; nothing was changed.")
            result = backup.restore_backup(archive, manifest, progress=self._progress)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self._report(result)

    def _describe(self, manifest: dict) -> None:
        app, database = manifest["app"], manifest["database"]
        connection = connections[DEFAULT_DB_ALIAS]
        code = " ".join(
            part for part in (app.get("version") and f"version {app['version']}",
                              app.get("git_commit") and f"commit {app['git_commit'][:12]}") if part
        )
        self.stdout.write(
            f"The archive was made {manifest['created_at']} by labqms {code or '(version unknown)'}: "
            f"{sum(database['tables'].values())} rows in {len(database['tables'])} tables, "
            f"{manifest['storage']['files']} files."
        )
        self.stdout.write(
            self.style.WARNING(
                f"Restoring replaces the {backup.VENDOR_NAMES[connection.vendor]} database "
                f"{backup.database_label(connection)} and the stored files in "
                f"{getattr(default_storage, 'location', 'the file storage')}. "
                "Stop the web server and the Celery worker and beat first."
            )
        )

    def _confirmed(self) -> bool:
        try:
            answer = input("Type 'yes' to restore: ")
        except EOFError:
            return False
        return answer.strip().lower() == "yes"

    def _report(self, result: backup.Restored) -> None:
        self.stdout.write("Rows per table after the restore:")
        width = max((len(table) for table in result.tables), default=0)
        for table, count in result.tables.items():
            self.stdout.write(f"  {table:<{width}}  {count:>10}")
        self.stdout.write(f"  {'total':<{width}}  {sum(result.tables.values()):>10}")
        self.stdout.write(
            f"Files: {result.files_written} written, {result.files_unchanged} already in place."
        )
        if result.files_not_in_backup:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.files_not_in_backup)} stored files are not in the backup and were left "
                    f"in place (stored after it, e.g. PDFs issued since): "
                    f"{', '.join(result.files_not_in_backup[:10])}"
                    f"{' …' if len(result.files_not_in_backup) > 10 else ''}"
                )
            )
        if result.unapplied_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"The backup predates {result.unapplied_migrations} migrations of this code: "
                    "run manage.py migrate."
                )
            )
        problems = []
        if result.table_mismatches:
            problems.append(
                "row counts differ from the manifest: "
                + ", ".join(f"{t} {expected} → {actual}" for t, (expected, actual) in result.table_mismatches.items())
            )
        if result.file_mismatches:
            problems.append("files differ from the manifest: " + ", ".join(result.file_mismatches[:10]))
        if problems:
            raise CommandError("Restore finished but " + "; ".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                "Restore complete: row counts and file hashes (SHA-256) match the manifest."
            )
        )

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
