"""python manage.py ingest_mqtt — consume device readings from MQTT (see docs/ingest.md)."""
import logging
import os
import signal
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.monitoring.mqtt import DEFAULT_GROUP, DEFAULT_PREFIX, Consumer

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Consume device readings from MQTT (shared subscription, QoS 1, ack after commit)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("MQTT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("MQTT_PORT", "1883")))
        parser.add_argument("--prefix", default=os.environ.get("MQTT_TOPIC_PREFIX", DEFAULT_PREFIX))
        parser.add_argument("--group", default=os.environ.get("MQTT_SHARE_GROUP", DEFAULT_GROUP))
        parser.add_argument("--client-id", default=os.environ.get("MQTT_CLIENT_ID") or f"firesafe-ingest-{socket.gethostname()}",
                            help="Fixed per consumer process: the persistent session is bound to it.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--batch-wait", type=float, default=0.2, help="Most seconds to wait to fill a batch.")
        parser.add_argument("--batch-gap", type=float, default=0.005,
                            help="A batch closes when no message came for this many seconds.")
        parser.add_argument("--offline-check", type=float, default=60.0,
                            help="Seconds between checks for silent devices and persisting alarms (0: never).")
        parser.add_argument("--rollup-every", type=float, default=300.0,
                            help="Seconds between runs of the rollup job (0: never; the scheduled job does it). Each "
                                 "run recomputes the touched device-hours whole: less often is cheaper.")
        parser.add_argument("--idle-exit", type=float, default=None, help="Exit after this many idle seconds.")

    def handle(self, *args, **opts):
        from apps.monitoring.partitions import ensure_partitions
        from apps.monitoring.rollups import roll_up_hours
        from apps.monitoring.services import escalate_persistent_alarms, evaluate_offline
        from apps.monitoring.store import flush_before_offline_check, flush_device_state

        consumer = Consumer(host=opts["host"], port=opts["port"], prefix=opts["prefix"], group=opts["group"],
                            client_id=opts["client_id"], batch_size=opts["batch_size"], batch_wait=opts["batch_wait"],
                            batch_gap=opts["batch_gap"], username=settings.MQTT_USERNAME or None,
                            password=settings.MQTT_PASSWORD or None)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *a: stopping.append(True))
        signal.signal(signal.SIGINT, lambda *a: stopping.append(True))
        consumer.stopping = lambda: bool(stopping)
        if not consumer.start():
            self.stderr.write("could not subscribe")
            return
        self.stdout.write(f"consuming {' '.join(consumer.filters)} as {opts['client_id']}", ending="\n")
        self.stdout.flush()
        last_check = last_rollup = 0.0

        def housekeeping(*jobs):
            """The periodic jobs; a database that is away fails them until the next turn, it does not
            end the consumer (the readings' own retry handles the outage)."""
            from django.db import DatabaseError, connection

            try:
                for job in jobs:
                    job()
            except DatabaseError as exc:
                log.warning("periodic job skipped, the database is not reachable: %s", exc)
                connection.close()

        def until():
            nonlocal last_check, last_rollup
            if opts["rollup_every"] and time.monotonic() - last_rollup >= opts["rollup_every"]:
                last_rollup = time.monotonic()
                housekeeping(roll_up_hours, ensure_partitions)
            if opts["offline_check"] and time.monotonic() - last_check >= opts["offline_check"]:
                last_check = time.monotonic()
                # the last-seen times this process kept that the offline check would miss, before it
                housekeeping(lambda: flush_before_offline_check(period=timedelta(seconds=opts["offline_check"])),
                             evaluate_offline, escalate_persistent_alarms)
            return bool(stopping)

        try:
            consumer.run(until=until, idle_exit=opts["idle_exit"])
        finally:
            consumer.stop()
            housekeeping(flush_device_state)
            self.stdout.write(f"stopped: {consumer.stats}")
