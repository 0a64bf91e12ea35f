"""Issue 17 against the real Mosquitto and PostgreSQL: vendor payloads, clocks, channels, events over MQTT;
nothing lost across a consumer outage or a slow consumer with the shipped broker configuration; SIGTERM
during a database retry."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from apps.monitoring.models import Alarm, DeadLetter, Device, PayloadProfile, Reading
from apps.monitoring.mqtt import Consumer, readings_topic

from .conftest import make_device, reading
from .test_broker_acl import _free_port, _private_conf, _write_acl
from .test_mqtt_services import ROOT, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BINARY_FRAME = b"\x40\x40\x01\x00\x00\x00\x23\x23"


@pytest.fixture
def names():
    assert connection.vendor == "postgresql", "service tests run on PostgreSQL: set DATABASE_URL"
    tag = uuid.uuid4().hex[:10]
    return {"prefix": f"adapters-{tag}", "group": f"adapters-g-{tag}", "client_id": f"adapters-ingest-{tag}"}


def _publisher(port=1883, user=None, password=None, inflight=1000):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"adapters-pub-{uuid.uuid4().hex[:10]}",
                         protocol=mqtt.MQTTv5)
    if user:
        client.username_pw_set(user, password)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _publish_all(client, messages, timeout=60):
    infos = [client.publish(topic, body, qos=1) for topic, body in messages]
    deadline = time.monotonic() + timeout
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.monotonic()))
    assert all(info.is_published() for info in infos)


@override_settings(MQTT_TOPIC_AUTHENTICATED=True)
def test_vendor_payloads_clocks_channels_and_events_over_mqtt(world, names):
    prefix = names["prefix"]
    # ThingsBoard telemetry under this test's prefix (the shipped profile listens on v1/devices/+/telemetry,
    # shared by everyone on this broker).
    tb = PayloadProfile.objects.get(code="thingsboard")
    tb.pk, tb.code, tb.topic, tb.priority = None, "tb-test", "{prefix}/v1/devices/{device}/telemetry", 1
    tb.save()
    from apps.monitoring.ingest import forget_profiles

    forget_profiles()
    own = make_device(world.inst1, code=f"OWN-{prefix}")
    tbdev = make_device(world.inst1, code=f"TB-{prefix}")
    vendor = make_device(world.inst1, code=f"88{uuid.uuid4().int % 10**8:08d}")
    slow = make_device(world.inst1, code=f"SLOW-{prefix}")
    rc = make_device(world.inst1, code=f"RC-{prefix}", kind="residual", channels=["residual_ma"])
    now = timezone.now().replace(microsecond=0)
    ms = int((now - timedelta(seconds=30)).timestamp() * 1000)
    own_topic = readings_topic(prefix, own.code)
    messages = [
        (own_topic, BINARY_FRAME),  # the NUL frame: a dead letter, and the batch goes on
        (own_topic, b"\xef\xbb\xbf" + json.dumps({**reading(own, now), "ts": ms}).encode()),  # BOM + ms
        (f"{prefix}/v1/devices/{tbdev.code}/telemetry", json.dumps({"ts": ms, "values": {"t1": 30}}).encode()),
        (f"{prefix}/v1/devices/{tbdev.code}/telemetry",
         json.dumps([{"ts": ms + 1000, "values": {"t1": 31}}, {"ts": ms + 2000, "values": {"t1": 32}}]).encode()),
        (f"{prefix}/devices/{vendor.code}/properties", json.dumps({"deviceId": int(vendor.code), "properties": [
            {"key": "剩余电流", "value": 0.05, "unit": "A", "timestamp": ms},
            {"key": "A相温度", "value": 28.5, "unit": "℃", "timestamp": ms}]}, ensure_ascii=False).encode()),
        (f"{prefix}/device/{own.code}/reading", json.dumps(reading(own, now)).encode()),  # mistyped topic
        *[(readings_topic(prefix, rc.code), json.dumps(reading(rc, now - timedelta(minutes=3 - i), residual_ma=40,
                                                               t1=95)).encode()) for i in range(3)],
        (own_topic, json.dumps({"device": own.code, "token": own.token, "ts": now.isoformat(), "event": "alarm",
                                "event_channel": "residual_ma"}).encode()),
        # A clock 20 minutes slow, reporting every second.
        *[(readings_topic(prefix, slow.code), json.dumps(reading(slow, now - timedelta(minutes=20, seconds=-i),
                                                                 residual_ma=60)).encode()) for i in range(5)],
    ]
    consumer = Consumer(prefix=prefix, group=names["group"], client_id=names["client_id"], batch_size=100,
                        batch_wait=0.05)
    assert consumer.start()
    pub = _publisher()
    try:
        _publish_all(pub, messages)
        deadline = time.monotonic() + 30
        consumer.run(until=lambda: consumer.stats["messages"] >= len(messages) or time.monotonic() > deadline,
                     poll=0.1)
    finally:
        consumer.stop()
        pub.disconnect()
    assert consumer.stats["messages"] == len(messages)
    frame = DeadLetter.objects.get(topic=own_topic)
    assert frame.payload_encoding == "base64" and frame.payload_bytes == BINARY_FRAME
    assert DeadLetter.objects.get(topic=f"{prefix}/device/{own.code}/reading").reason == "unknown_topic"
    assert Reading.objects.get(device=own).ts == now - timedelta(seconds=30)  # BOM and milliseconds
    assert Reading.objects.filter(device=tbdev).count() == 3  # single object and array
    row = Reading.objects.get(device=vendor)
    assert (row.residual_ma, row.t1) == (50.0, 28.5)
    assert Reading.objects.filter(device=rc).count() == 3 and not Alarm.objects.filter(device=rc).exists()
    event = Alarm.objects.get(device=own)  # the device's own alarm, at once
    assert (event.kind, event.channel, event.state) == ("device_alarm", "residual_ma", "active")
    slow.refresh_from_db()
    assert not slow.is_offline and slow.clock_is_wrong and -1210 < slow.clock_offset_seconds < -1190
    assert not Alarm.objects.filter(device=slow).exists()


# --- A private Mosquitto with the shipped configuration (deploy/mosquitto/firesafe.conf) ------------------


@pytest.fixture
def broker(world, tmp_path, names):
    """Mosquitto on a free port with the shipped config, the ACL and password file from the platform."""
    assert shutil.which("mosquitto"), "service tests need Mosquitto (apt-get install mosquitto)"
    device = make_device(world.inst1, code=f"OUT-{names['prefix']}")
    with override_settings(MQTT_PASSWORD="consumer-pass"):
        _write_acl(tmp_path / "acl", consumer_user="ingest", prefix=names["prefix"], passwd=str(tmp_path / "passwd"))
    port = _free_port()
    (tmp_path / "mosquitto.conf").write_text(_private_conf(tmp_path, port))
    proc = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    assert proc.poll() is None, proc.stdout.read().decode()
    yield {"port": port, "device": device, "proc": proc}
    proc.terminate()
    proc.wait(10)


def _consumer(names, broker, **kw):
    return Consumer(port=broker["port"], prefix=names["prefix"], group=names["group"],
                    client_id=names["client_id"], username="ingest", password="consumer-pass",
                    **kw)


def _stream(names, device, n, start):
    topic = readings_topic(names["prefix"], device.code)
    return [(topic, json.dumps({**reading(device, start + timedelta(seconds=i), residual_ma=100 + i % 7),
                                "seq": i + 1}).encode()) for i in range(n)]


@override_settings(MQTT_TOPIC_AUTHENTICATED=True)
def test_a_consumer_outage_of_5000_messages_loses_nothing_with_the_shipped_broker_config(names, broker):
    device = broker["device"]
    first = _consumer(names, broker)
    assert first.start()  # the persistent session and its shared subscription exist
    time.sleep(0.3)
    first.stop()  # the consumer is down
    n = 5000
    start = timezone.now().replace(microsecond=0) - timedelta(seconds=n + 60)
    pub = _publisher(broker["port"], device.code, device.token)
    try:
        _publish_all(pub, _stream(names, device, n, start))
    finally:
        pub.disconnect()
    again = _consumer(names, broker, batch_size=1000)
    assert again.start()
    try:
        deadline = time.monotonic() + 120
        again.run(until=lambda: again.stats["messages"] >= n or time.monotonic() > deadline, poll=0.1)
    finally:
        again.stop()
    assert Reading.objects.filter(device=device).count() == n
    device.refresh_from_db()
    assert device.seq_missing == 0 and device.seq_state["last"] == n


@override_settings(MQTT_TOPIC_AUTHENTICATED=True)
def test_a_slow_consumer_under_load_loses_nothing_with_the_shipped_broker_config(names, broker):
    """Connected but falling behind: the broker queues past the in-flight window instead of dropping."""
    device = broker["device"]
    consumer = _consumer(names, broker, batch_size=200)
    real = consumer._process

    def slow(batch):
        time.sleep(0.3)  # a database far slower than the stream
        return real(batch)

    consumer._process = slow
    assert consumer.start()
    n = 5000
    start = timezone.now().replace(microsecond=0) - timedelta(seconds=n + 60)
    pub = _publisher(broker["port"], device.code, device.token)
    import threading

    sender = threading.Thread(target=_publish_all, args=(pub, _stream(names, device, n, start)))
    sender.start()
    try:
        deadline = time.monotonic() + 180
        consumer.run(until=lambda: consumer.stats["messages"] >= n or time.monotonic() > deadline, poll=0.1)
    finally:
        sender.join(60)
        consumer.stop()
        pub.disconnect()
    assert Reading.objects.filter(device=device).count() == n
    device.refresh_from_db()
    assert device.seq_missing == 0


def _ingest_process(names, db_url, port=1883):
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "firesafe.test_settings",
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "ingest_mqtt", "--prefix", names["prefix"], "--group", names["group"],
         "--client-id", names["client_id"], "--batch-size", "10", "--batch-wait", "0.05", "--offline-check", "0",
         "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    assert "consuming" in line, line + (proc.stdout.read() if proc.poll() is not None else "")
    return proc


def test_sigterm_during_a_database_retry_ends_the_consumer_and_the_message_comes_again(world, names):
    device = make_device(world.inst1, code=f"RETRY-{names['prefix']}")
    db = connection.settings_dict
    good = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    down = f"postgres://{db['USER']}@127.0.0.1:{_free_port()}/{db['NAME']}"  # nothing listens there
    proc = _ingest_process(names, down)
    pub = _publisher()
    ts = timezone.now().replace(microsecond=0) - timedelta(seconds=5)
    try:
        _publish_all(pub, [(readings_topic(names["prefix"], device.code), json.dumps(reading(device, ts)).encode())])
        time.sleep(2.5)  # received; the database is away: retrying with back-off
        assert proc.poll() is None
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        assert time.monotonic() - started < 3
        assert not Reading.objects.filter(device=device).exists()
        proc = _ingest_process(names, good)  # the same session: the message was never acknowledged
        assert wait_for(lambda: Reading.objects.filter(device=device, ts=ts).exists(), 20)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        pub.disconnect()
    assert Device.objects.get(pk=device.pk).last_seen is not None
