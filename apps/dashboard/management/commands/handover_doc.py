"""Regenerate the field mapping of the handover package in docs/handover.md (``manage.py handover_doc``)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.dashboard.handover import write_doc


class Command(BaseCommand):
    help = "Write the handover package's file and field mapping (Chinese and English names) into docs/handover.md."

    def add_arguments(self, parser):
        parser.add_argument("--path", default=str(Path(settings.BASE_DIR) / "docs" / "handover.md"))

    def handle(self, *args, **opts):
        path = Path(opts["path"])
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(write_doc(text), encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"wrote {path}"))
