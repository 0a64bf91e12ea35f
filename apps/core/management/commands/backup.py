from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = ("Write one dated archive (firesafe-backup-YYYYMMDD-HHMM.tar.gz) with the database, the media "
            "files and a manifest (row counts, SHA-256 of every member). The last line printed is the "
            "archive's path.")

    def add_arguments(self, parser):
        parser.add_argument("--output", default=None,
                            help="directory for the archive (default: BACKUP_DIR, i.e. $FIRESAFE_VAR_DIR/backups)")

    def handle(self, *args, **options):
        output = Path(options["output"] or settings.BACKUP_DIR)
        try:
            result = create_backup(output)
        except BackupError as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        manifest = result.manifest
        if options["verbosity"] >= 1:
            rows = sum(n or 0 for n in manifest["counts"].values())
            media = sum(1 for name in manifest["files"] if name.startswith("media/"))
            self.stdout.write(
                f"{manifest['engine']} database, {rows} rows in {len(manifest['counts'])} tables, "
                f"{media} media files, {result.path.stat().st_size} bytes")
        self.stdout.write(str(result.path))
