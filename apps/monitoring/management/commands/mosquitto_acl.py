"""python manage.py mosquitto_acl --acl FILE — write Mosquitto's ACL from the devices in service."""
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.monitoring.broker import acl_text
from apps.monitoring.models import Device
from apps.monitoring.mqtt import DEFAULT_PREFIX


class Command(BaseCommand):
    help = ("Write a Mosquitto acl_file: each device in service (its device id is its MQTT user name) may "
            "publish only to its own readings topic, the consumer user may read all readings. Reload "
            "Mosquitto afterwards (systemctl reload mosquitto).")

    def add_arguments(self, parser):
        parser.add_argument("--acl", required=True, help="the acl_file to write (replaced atomically)")
        parser.add_argument("--consumer-user", default=settings.MQTT_USERNAME or "firesafe-ingest",
                            help="the MQTT user of ingest_mqtt (default: MQTT_USERNAME, else firesafe-ingest)")
        parser.add_argument("--prefix", default=os.environ.get("MQTT_TOPIC_PREFIX", DEFAULT_PREFIX))

    def handle(self, *args, acl, consumer_user, prefix, **options):
        codes = list(Device.objects.filter(is_active=True).values_list("code", flat=True))
        text, skipped = acl_text(codes, consumer_user=consumer_user, prefix=prefix)
        if consumer_user in codes:
            raise CommandError(f"the consumer user {consumer_user!r} is also a device id: choose another")
        path = Path(acl)
        try:
            with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as fh:
                fh.write(text)
            os.chmod(fh.name, 0o640)
            os.replace(fh.name, path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        for code in skipped:
            self.stderr.write(f"left out device {code!r}: its id contains +, #, /, a space or starts with $")
        self.stdout.write(f"{path}: {len(set(codes)) - len(skipped)} devices and the consumer {consumer_user!r}")
