"""python manage.py simulate_devices — publish realistic readings for the demo devices (MQTT or HTTP).

The simulator issues a fresh token to each simulated device (only devices whose id starts
with --code-prefix, the demo devices) and sends readings with it. Scenarios: the first device
has leakage creeping up past 300 mA, the second a hot terminal (t2), the third goes silent
(an offline alarm follows), the rest report normal values.
"""
import json
import random
import time
import urllib.request
import uuid

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.monitoring.mqtt import DEFAULT_PREFIX, readings_topic
from apps.monitoring.simulator import is_silent, scenario_for, values_at


class Command(BaseCommand):
    help = "Publish realistic readings for the demo devices over MQTT or HTTP."

    def add_arguments(self, parser):
        parser.add_argument("--via", choices=["mqtt", "http"], default="mqtt")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1883)
        parser.add_argument("--prefix", default=DEFAULT_PREFIX)
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--code-prefix", default="DEMO-")
        parser.add_argument("--limit", type=int, default=12, help="How many devices to simulate.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between rounds.")
        parser.add_argument("--ticks", type=int, default=0, help="Rounds to send (0: until interrupted).")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **opts):
        from apps.monitoring.models import Device

        rng = random.Random(opts["seed"])
        devices = list(Device.objects.filter(code__startswith=opts["code_prefix"], is_active=True)
                       .order_by("code")[: opts["limit"]])
        if not devices:
            self.stderr.write("no demo devices (run seed_demo first)")
            return
        tokens = {}
        with transaction.atomic():
            for d in devices:
                tokens[d.pk] = d.rotate_token()
                d.save(update_fields=["token_hash", "token_rotated_at", "mqtt_password_hash"])
        send = self._mqtt(opts) if opts["via"] == "mqtt" else self._http(opts)
        tick = 0
        try:
            while not opts["ticks"] or tick < opts["ticks"]:
                now = timezone.now()
                for i, d in enumerate(devices):
                    scenario = scenario_for(i)
                    if is_silent(scenario, tick):
                        continue
                    send(d, {"device": d.code, "ts": now.isoformat(), "token": tokens[d.pk],
                             "values": values_at(scenario, tick, rng)}, tokens[d.pk])
                tick += 1
                self.stdout.write(f"round {tick}: {len(devices)} devices")
                if not opts["ticks"] or tick < opts["ticks"]:
                    time.sleep(opts["interval"])
        except KeyboardInterrupt:
            pass

    def _mqtt(self, opts):
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"firesafe-sim-{uuid.uuid4().hex[:8]}",
                             protocol=mqtt.MQTTv5)
        client.connect(opts["host"], opts["port"])
        client.loop_start()

        def send(device, reading, token):
            client.publish(readings_topic(opts["prefix"], device.code), json.dumps(reading), qos=1).wait_for_publish(10)

        return send

    def _http(self, opts):
        url = opts["base_url"].rstrip("/") + "/api/v1/ingest/readings/"

        def send(device, reading, token):
            body = json.dumps({"readings": [{k: v for k, v in reading.items() if k != "token"}]}).encode()
            req = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "Authorization": f"Device {token}"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - local URL from the operator
                    resp.read()
            except OSError as exc:
                self.stderr.write(f"{device.code}: {exc}")

        return send
