"""Write the policy table (every action and field rule per role) into docs/architecture.md."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core import policy


class Command(BaseCommand):
    help = "Write the policy registry as a table into docs/architecture.md (between markers); --check only compares."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(Path(settings.BASE_DIR) / "docs" / "architecture.md"))
        parser.add_argument("--check", action="store_true", help="exit non-zero when the document is out of date")

    def handle(self, *args, path, check, **options):
        doc = Path(path)
        text = doc.read_text(encoding="utf-8")
        new = policy.write_doc(text)
        if check:
            if new != text:
                raise CommandError(f"{doc} is out of date: run `manage.py policy_table`")
            self.stdout.write("policy table up to date")
            return
        doc.write_text(new, encoding="utf-8")
        self.stdout.write(f"wrote the policy table into {doc}")
