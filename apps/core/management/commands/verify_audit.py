from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.anchor import verify


class Command(BaseCommand):
    help = ("Verify the trail: every entry's HMAC and link, the chain head, and every checkpoint in "
            "AUDIT_ANCHOR_FILE; exit non-zero naming what was altered or is missing.")

    def add_arguments(self, parser):
        parser.add_argument("--anchor-file", help="checkpoint file (default: AUDIT_ANCHOR_FILE)")

    def handle(self, *args, **options):
        path = options.get("anchor_file") or settings.AUDIT_ANCHOR_FILE
        result = verify(path)
        if not result.ok:
            raise CommandError(
                f"Audit trail verification FAILED ({result.checked} entries, {result.checkpoints} checkpoints):\n- "
                + "\n- ".join(result.problems))
        if not result.checkpoints:
            self.stderr.write(self.style.WARNING(
                f"No checkpoint in {path}: only the chain itself was checked (run manage.py audit_anchor)."))
        self.stdout.write(self.style.SUCCESS(
            f"Audit trail OK: {result.checked} entries verified against {result.checkpoints} checkpoints"))
