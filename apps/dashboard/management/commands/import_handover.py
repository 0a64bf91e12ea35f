"""Load a handover package into this (empty) database: ``manage.py import_handover x.zip``."""
from django.core.management.base import BaseCommand, CommandError

from apps.dashboard.handover import HandoverError, import_package


class Command(BaseCommand):
    help = "Import a data handover package into an empty database (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("package")

    def handle(self, *args, **opts):
        try:
            with open(opts["package"], "rb") as fh:
                counts = import_package(fh.read())
            from apps.dashboard.cache import bump_all_months

            bump_all_months()
        except (OSError, HandoverError) as exc:
            raise CommandError(str(exc)) from exc
        for label, n in counts.items():
            self.stdout.write(f"  {label}: {n}")
        self.stdout.write(self.style.SUCCESS("imported"))
