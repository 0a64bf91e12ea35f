from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.anchor import AnchorDeliveryError, AnchorError, anchor


class Command(BaseCommand):
    help = ("Append a signed checkpoint of the trail (count, last id, last hash, time) to AUDIT_ANCHOR_FILE "
            "(and syslog when AUDIT_ANCHOR_SYSLOG is set, the webhook when AUDIT_ANCHOR_WEBHOOK is set), after verifying what is new since the last one.")

    def add_arguments(self, parser):
        parser.add_argument("--anchor-file", help="checkpoint file (default: AUDIT_ANCHOR_FILE)")

    def handle(self, *args, **options):
        path = options.get("anchor_file") or settings.AUDIT_ANCHOR_FILE
        try:
            cp = anchor(path)
        except AnchorError as exc:
            raise CommandError(f"Not anchored, the trail does not verify: {exc}")
        except AnchorDeliveryError as exc:
            cp = exc.checkpoint
            raise CommandError(f"Anchored {cp['count']} entries up to entry {cp['last_id']} in {path}, but {exc}")
        self.stdout.write(self.style.SUCCESS(
            f"Anchored {cp['count']} entries up to entry {cp['last_id']} ({cp['last_hash'][:12]}…) in {path}"))
