from django.core.management.base import BaseCommand, CommandError

from apps.core.audit import sign_legacy


class Command(BaseCommand):
    help = ("Once, after upgrading to the keyed trail: verify the entries written before it (plain SHA-256) "
            "the old way, then sign the whole chain with AUDIT_HMAC_KEY. The re-signing is itself recorded "
            "in the trail with the old head; run audit_anchor right after.")

    def handle(self, *args, **options):
        try:
            outcome = sign_legacy()
        except ValueError as exc:
            raise CommandError(str(exc))
        if not outcome["legacy"]:
            self.stdout.write("Nothing to do: every entry is signed with a key.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Re-signed {outcome['entries']} entries ({outcome['legacy']} with the old digest); old head "
            f"{outcome['old_last_hash']}. Now run: manage.py audit_anchor"))
