"""Against the real Mosquitto and PostgreSQL: the MQTT consumer stores, alarms, dedups, dead-letters, loses nothing."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.db import connection
from paho.mqtt.enums import CallbackAPIVersion

from apps.monitoring.models import Alarm, DeadLetter, Reading
from apps.monitoring.mqtt import Consumer, readings_topic

from .conftest import make_device, reading

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[3]


def publisher():
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:12]}",
                         protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    return client


def publish(client, topic, payload):
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(10)


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def names():
    assert connection.vendor == "postgresql", "service tests run on PostgreSQL: set DATABASE_URL"
    tag = uuid.uuid4().hex[:12]
    return {"prefix": f"test-hotpath-{tag}", "group": f"g-hotpath-{tag}", "client_id": f"test-hotpath-{tag}"}


def test_readings_over_mqtt_are_stored_alarm_once_dedup_and_bad_ones_are_dead_lettered(world, names):
    from django.utils import timezone

    device = make_device(world.inst1, code=f"M-{names['prefix']}")
    consumer = Consumer(prefix=names["prefix"], group=names["group"], client_id=names["client_id"],
                        batch_size=50, batch_wait=0.05)
    assert consumer.start()
    pub = publisher()
    topic = readings_topic(names["prefix"], device.code)
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    values = [120, 130, 125, 400, 420, 410, 415, 140]
    messages = [json.dumps(reading(device, t0 + timedelta(minutes=i), residual_ma=v)) for i, v in enumerate(values)]
    messages.insert(2, messages[0])  # the same reading again
    messages.insert(5, "{this is not json")
    messages.append(json.dumps(reading(device, t0 + timedelta(minutes=30), residual_ma=100)))
    try:
        for m in messages:
            publish(pub, topic, m)
        deadline = time.monotonic() + 20
        consumer.run(until=lambda: consumer.stats["messages"] >= len(messages) or time.monotonic() > deadline,
                     poll=0.1)
    finally:
        consumer.stop()
        pub.disconnect()
    assert consumer.stats["messages"] == len(messages)
    assert Reading.objects.filter(device=device).count() == len(values) + 1
    assert consumer.stats["duplicates"] == 1
    alarm = Alarm.objects.get(device=device)
    assert (alarm.channel, alarm.peak, alarm.count) == ("residual_ma", 420, 1)
    dead = DeadLetter.objects.get(topic=topic)
    assert dead.reason == "malformed" and dead.payload == "{this is not json"


def _consumer_process(names, db_url):
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "firesafe.test_settings",
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "ingest_mqtt", "--prefix", names["prefix"], "--group", names["group"],
         "--client-id", names["client_id"], "--batch-size", "40", "--batch-wait", "0.05", "--offline-check", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    assert "consuming" in line, line + proc.stdout.read() if proc.poll() is not None else line
    return proc


def test_nothing_is_lost_when_the_consumer_is_killed_mid_stream_and_restarted(world, names):
    from django.utils import timezone

    settings = connection.settings_dict
    db_url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    devices = [make_device(world.inst1, code=f"K{i}-{names['prefix']}") for i in range(3)]
    total_per_device = 200
    t0 = timezone.now().replace(microsecond=0) - timedelta(days=1)
    proc = _consumer_process(names, db_url)
    pub = publisher()
    published = []

    def stream():
        for i in range(total_per_device):
            for d in devices:
                ts = t0 + timedelta(seconds=30 * i)
                publish(pub, readings_topic(names["prefix"], d.code),
                        json.dumps(reading(d, ts, residual_ma=100 + i % 50, t1=30.0)))
                published.append((d.pk, ts))
            time.sleep(0.004)

    thread = threading.Thread(target=stream)
    thread.start()
    try:
        assert wait_for(lambda: Reading.objects.filter(device__in=devices).count() >= 120, 30)
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream, possibly mid-batch
        proc.wait(10)
        stored_at_kill = Reading.objects.filter(device__in=devices).count()
        time.sleep(1.0)
        proc = _consumer_process(names, db_url)
        thread.join(60)
        expected = total_per_device * len(devices)
        assert stored_at_kill < expected  # the kill really happened mid-stream
        assert wait_for(lambda: Reading.objects.filter(device__in=devices).count() >= expected, 60)
    finally:
        thread.join(60)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        pub.disconnect()
    stored = set(Reading.objects.filter(device__in=devices).values_list("device_id", "ts"))
    assert len(published) == expected
    assert stored == set(published)
    assert Reading.objects.filter(device__in=devices).count() == expected  # exactly once


def test_two_consumers_in_the_shared_group_split_the_load_and_store_each_reading_once(world, names):
    from django.utils import timezone

    device = make_device(world.inst1, code=f"S-{names['prefix']}")
    consumers = [Consumer(prefix=names["prefix"], group=names["group"], client_id=f"{names['client_id']}-{i}",
                          batch_size=20, batch_wait=0.02) for i in range(2)]
    for c in consumers:
        assert c.start()
    pub = publisher()
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    total = 120
    try:
        for i in range(total):
            publish(pub, readings_topic(names["prefix"], device.code),
                    json.dumps(reading(device, t0 + timedelta(seconds=30 * i), residual_ma=100)))
        deadline = time.monotonic() + 20
        while sum(c.stats["messages"] for c in consumers) < total and time.monotonic() < deadline:
            for c in consumers:  # one thread drives both, batch by batch
                batch = c._take_batch(0.05)
                if batch:
                    c.process(batch)
    finally:
        for c in consumers:
            c.stop()
        pub.disconnect()
    assert all(c.stats["messages"] > 0 for c in consumers)  # the broker split the messages
    assert sum(c.stats["stored"] for c in consumers) == total
    assert Reading.objects.filter(device=device).count() == total


def test_the_simulator_publishes_readings_the_consumer_stores(world, names):
    from django.core.management import call_command

    from apps.monitoring.models import Device

    for i in range(4):
        make_device(world.inst1, code=f"DEMO-{names['prefix']}-{i}")
    consumer = Consumer(prefix=names["prefix"], group=names["group"], client_id=names["client_id"],
                        batch_size=50, batch_wait=0.05)
    assert consumer.start()
    try:
        call_command("simulate_devices", "--prefix", names["prefix"], "--code-prefix", f"DEMO-{names['prefix']}",
                     "--ticks", "3", "--interval", "1.1")
        deadline = time.monotonic() + 20
        consumer.run(until=lambda: consumer.stats["messages"] >= 12 or time.monotonic() > deadline, poll=0.1)
    finally:
        consumer.stop()
    devices = Device.objects.filter(code__startswith=f"DEMO-{names['prefix']}")
    assert consumer.stats["rejected"] == 0
    assert Reading.objects.filter(device__in=devices).count() == 12


def test_a_committed_batch_is_acknowledged_so_the_session_redelivers_nothing(world, names):
    """The batch's PUBACKs (sent joined in one write) are taken by the broker: reconnecting the same
    persistent session brings none of its messages back, while a message published meanwhile comes."""
    from django.utils import timezone

    device = make_device(world.inst1, code=f"A-{names['prefix']}")
    topic = readings_topic(names["prefix"], device.code)
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)

    def consumer():
        return Consumer(prefix=names["prefix"], group=names["group"], client_id=names["client_id"],
                        batch_size=500, batch_wait=0.2)

    first = consumer()
    assert first.start()
    pub = publisher()
    try:
        for i in range(120):
            publish(pub, topic, json.dumps(reading(device, t0 + timedelta(seconds=30 * i), residual_ma=100)))
        deadline = time.monotonic() + 20
        first.run(until=lambda: first.stats["messages"] >= 120 or time.monotonic() > deadline, poll=0.05)
        assert first.stats["messages"] == 120 and first.stats["stored"] == 120
        assert first.stats["batches"] < 120  # acknowledged batch by batch, not message by message
        time.sleep(0.5)  # let the network thread write the acknowledgements out
        first.stop()
        publish(pub, topic, json.dumps(reading(device, t0 + timedelta(hours=1), residual_ma=100)))
        again = consumer()
        assert again.start()
        again.run(idle_exit=1.5, poll=0.1)
        again.stop()
    finally:
        pub.disconnect()
    assert again.stats["messages"] == 1 and again.stats["stored"] == 1 and again.stats["duplicates"] == 0
    assert Reading.objects.filter(device=device).count() == 121
