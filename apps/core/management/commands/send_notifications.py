from django.core.management.base import BaseCommand

from apps.core.notifications import run_scheduled


class Command(BaseCommand):
    help = "Run the periodic notifications (deadline reminders, overdue digests). Idempotent; cron-friendly."

    def handle(self, *args, **options):
        for name, result in run_scheduled().items():
            self.stdout.write(f"{name}: {result}")
