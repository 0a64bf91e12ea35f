"""Load a determination rule set from a documented file (JSON or Excel), validated, versioned and in the trail.

    manage.py load_rule_set path/to/set.json [--check]
"""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.hazards import rulebook


class Command(BaseCommand):
    help = "Load a determination rule set from a JSON or Excel file (format: docs/hazards.md)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--check", action="store_true", help="Validate only; change nothing.")

    def handle(self, path, check=False, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            data = rulebook.read(file.read_bytes(), name=file.name)
            if check:
                rulebook.validate(data)
                self.stdout.write(f"{data['code']}: valid, {len(data['elements'])} elements")
                return
            rule_set, changes = rulebook.load(None, data, filename=file.name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{rule_set.code}: revision {rule_set.revision}, "
                          f"{len(changes)} changes{': ' + ', '.join(changes) if changes else ''}")
