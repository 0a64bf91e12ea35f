import tempfile

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.core import backup


class Command(BaseCommand):
    help = ("Restore an archive written by `backup` into an EMPTY installation (the configured database "
            "and MEDIA_ROOT), then verify the audit trail and compare every table's row count with the "
            "manifest. Exits non-zero on a refused archive, a count mismatch or a broken trail.")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="path of a firesafe-backup-*.tar.gz")
        parser.add_argument("--force", action="store_true",
                            help="replace an installation that already holds users, audit entries or files")

    def handle(self, *args, archive, force, **options):
        in_use = backup.installation_in_use()
        if in_use and not force:
            raise CommandError(
                f"Refused: the target installation is not empty ({in_use}). Restore into a new database "
                f"and an empty MEDIA_ROOT, or pass --force to replace what is there.")
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        try:
            with tempfile.TemporaryDirectory(dir=settings.VAR_DIR, prefix=".restore-") as workdir:
                manifest = backup.read_archive(archive, workdir)
                backup.restore_database(manifest, workdir)
                media = backup.restore_media(workdir)
        except backup.BackupError as exc:
            raise CommandError(f"Restore failed: {exc}") from exc
        self.stdout.write(f"Restored the {manifest['engine']} database of {manifest['created']} "
                          f"(version {manifest['version']}) and {media} media files.")
        mismatches = self.report_counts(manifest, options["verbosity"])
        trail_ok = self.verify_trail()
        if mismatches or not trail_ok:
            raise CommandError(f"Restore NOT verified: {mismatches} tables with other row counts than the "
                               f"archive, audit trail {'intact' if trail_ok else 'BROKEN'}.")
        self.stdout.write(self.style.SUCCESS("Restore verified: row counts equal, audit trail intact."))

    def report_counts(self, manifest, verbosity):
        rows = backup.compare_counts(manifest)
        width = max(len(label) for label, _, _ in rows)
        self.stdout.write(f"{'table':<{width}}  {'archive':>10}  {'restored':>10}")
        mismatches = 0
        for label, expected, found in rows:
            same = expected == found
            mismatches += not same
            if verbosity >= 1 or not same:
                self.stdout.write(f"{label:<{width}}  {_n(expected):>10}  {_n(found):>10}"
                                  + ("" if same else "  MISMATCH"))
        return mismatches

    def verify_trail(self):
        try:
            call_command("verify_audit", stdout=self.stdout, stderr=self.stderr)
        except CommandError as exc:
            self.stderr.write(str(exc))
            return False
        return True


def _n(value):
    return "-" if value is None else str(value)
