"""Load a handover package into this (freshly migrated) installation: ``manage.py import_handover x.zip``."""
from django.core.management.base import BaseCommand, CommandError

from apps.dashboard.handover import HandoverError
from apps.dashboard.handover_import import ImportFailed, import_package


class Command(BaseCommand):
    help = "Import a handover package (checked against its schemas and checksums; all or nothing; new ids)."

    def add_arguments(self, parser):
        parser.add_argument("package")
        parser.add_argument("--check", action="store_true", help="check and roll back: nothing is kept")

    def handle(self, *args, **opts):
        try:
            with open(opts["package"], "rb") as fh:
                result = import_package(fh, dry_run=opts["check"])
        except ImportFailed as exc:
            for err in exc.errors:
                self.stderr.write(str(err))
            raise CommandError(f"{len(exc.errors)} error(s); nothing was imported") from exc
        except (OSError, HandoverError) as exc:
            raise CommandError(str(exc)) from exc
        for label, n in result.counts.items():
            if n:
                self.stdout.write(f"  {label}: {n} (added {result.added.get(label, 0)}, "
                                  f"matched {result.matched.get(label, 0)})")
        self.stdout.write(f"  files: {result.files}")
        self.stdout.write(self.style.SUCCESS("checked, nothing kept" if opts["check"] else "imported"))
