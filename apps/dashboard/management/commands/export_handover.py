"""Write the handover package for a period: ``manage.py export_handover --since 2026-01-01 --until 2026-06-30 -o x.zip``."""
import datetime

from django.core.management.base import BaseCommand, CommandError

from apps.dashboard.handover import HandoverError, export_package


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Export the data handover package (ledger, hazards with rectification, supervisions, enforcement)."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True)
        parser.add_argument("--until", required=True)
        parser.add_argument("-o", "--output", required=True)

    def handle(self, *args, **opts):
        try:
            data = export_package(_date(opts["since"]), _date(opts["until"]), generated_by="export_handover")
        except HandoverError as exc:
            raise CommandError(str(exc)) from exc
        with open(opts["output"], "wb") as fh:
            fh.write(data)
        self.stdout.write(self.style.SUCCESS(f"wrote {opts['output']} ({len(data)} bytes)"))
