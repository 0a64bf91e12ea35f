"""python manage.py mosquitto_acl --acl FILE [--passwd FILE] — Mosquitto's ACL and password file from the devices."""
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.monitoring.broker import acl_text, password_text
from apps.monitoring.models import Device
from apps.monitoring.mqtt import DEFAULT_PREFIX


def _write(path, text):
    path = Path(path)
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as fh:
            fh.write(text)
        os.chmod(fh.name, 0o640)
        os.replace(fh.name, path)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from exc


class Command(BaseCommand):
    help = ("Write a Mosquitto acl_file (each device in service, its device id as MQTT user name, may publish "
            "only to its own topics; the consumer user may read them all) and, with --passwd, the password "
            "file (each device's password is its device token). Reload Mosquitto afterwards "
            "(systemctl reload mosquitto).")

    def add_arguments(self, parser):
        parser.add_argument("--acl", required=True, help="the acl_file to write (replaced atomically)")
        parser.add_argument("--passwd", help="the password_file to write (replaced atomically)")
        parser.add_argument("--consumer-user", default=settings.MQTT_USERNAME or "firesafe-ingest",
                            help="the MQTT user of ingest_mqtt (default: MQTT_USERNAME, else firesafe-ingest)")
        parser.add_argument("--prefix", default=os.environ.get("MQTT_TOPIC_PREFIX", DEFAULT_PREFIX))

    def handle(self, *args, acl, passwd, consumer_user, prefix, **options):
        devices = list(Device.objects.filter(is_active=True).values_list("code", "mqtt_password_hash"))
        codes = [code for code, _hash in devices]
        if consumer_user in codes:
            raise CommandError(f"the consumer user {consumer_user!r} is also a device id: choose another")
        text, skipped = acl_text(codes, consumer_user=consumer_user, prefix=prefix)
        _write(acl, text)
        for code in skipped:
            self.stderr.write(f"left out device {code!r}: its id contains +, #, /, :, a space or starts with $")
        self.stdout.write(f"{acl}: {len(set(codes)) - len(skipped)} devices and the consumer {consumer_user!r}")
        if passwd:
            if not settings.MQTT_PASSWORD:
                raise CommandError("set MQTT_PASSWORD (the consumer's broker password) to write the password file")
            text, no_password = password_text(devices, consumer_user=consumer_user,
                                              consumer_password=settings.MQTT_PASSWORD)
            _write(passwd, text)
            for code in set(no_password) - set(skipped):
                self.stderr.write(f"device {code!r} has no broker password yet: issue it a new token")
            self.stdout.write(f"{passwd}: {len(devices) - len(no_password)} devices and the consumer")
