from django.core.management.base import BaseCommand, CommandError

from apps.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; exit non-zero naming the first bad entry."

    def handle(self, *args, **options):
        ok, checked, message, _bad = verify_chain()
        if not ok:
            raise CommandError(f"Audit trail verification FAILED after {checked} good entries: {message}")
        self.stdout.write(self.style.SUCCESS(f"Audit trail OK: {message}"))
