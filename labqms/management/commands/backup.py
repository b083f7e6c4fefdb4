"""Back up the database and every stored file into one archive (R-REC-4).

``manage.py backup`` writes ``var/backups/labqms-YYYYMMDD-HHMMSS.tar.gz`` (``--to`` picks
another folder): a ``pg_dump`` or an SQLite online-backup copy, the stored files (issued
PDFs, uploads, seal images) and a manifest with row counts and SHA-256 hashes.  Safe while
the lab works: the database is one snapshot.  ``manage.py restore`` brings it back.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from labqms import backup


class Command(BaseCommand):
    help = "Back up the database and every stored file into one .tar.gz archive with a manifest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--to", type=Path, default=None, metavar="DIR",
            help=f"folder for the archive (default: {backup.default_directory()})",
        )

    def handle(self, *args, to, **options):
        directory = to or backup.default_directory()
        try:
            result = backup.create_backup(directory=directory, progress=self._progress)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written: {result.path} ({backup.size_label(result.path.stat().st_size)}; "
                f"{sum(manifest['database']['tables'].values())} rows in "
                f"{len(manifest['database']['tables'])} tables, {manifest['storage']['files']} files)"
            )
        )
        self.stdout.write(f"Restore it with: manage.py restore {result.path}")

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
