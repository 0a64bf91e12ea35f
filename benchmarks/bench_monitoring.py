"""Monitoring ingest benchmarks (PostgreSQL + Mosquitto), baseline and ours alternately, medians.

Run: DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_perf_bench .venv/bin/python -m benchmarks monitoring

1. full ingest path (decode, validate, COPY+insert-or-ignore, rollups, thresholds, alarms) vs a raw
   psycopg COPY of the same rows into the same table — target ≥ 0.5× (ratio = baseline time / ours);
2. the MQTT consumer draining a pre-filled queue vs a count-only paho subscriber on the same broker
   and payloads — target ≥ 0.8×;
3. readings per CPU-second of the whole stack (this process + its PostgreSQL backend).
"""
import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

N_DEVICES = 50
N_READINGS = 20000
BATCH = 1000
ROUNDS = 5
MQTT_MESSAGES = 900  # Mosquitto queues at most 1000 messages per offline session by default


def _ensure_database():
    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("bench_monitoring needs PostgreSQL: set DATABASE_URL")
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres",
                         autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
    connection.close()
    call_command("migrate", verbosity=0)


def _devices():
    from apps.ledger.models import Institution
    from apps.monitoring.models import Device
    from apps.orgs.models import Organization

    town, _ = Organization.objects.get_or_create(name="基准测试街道", kind="township")
    inst, _ = Institution.objects.get_or_create(name="基准测试养老院", defaults={"township": town, "kind": "elderly_care",
                                                                          "nature": "private", "address": "-"})
    devices, tokens = [], {}
    for i in range(N_DEVICES):
        d, _ = Device.objects.get_or_create(code=f"BENCH-{i:03d}", defaults={"institution": inst, "name": f"B{i}"})
        tokens[d.code] = d.rotate_token()
        d.save()
        devices.append(d)
    return devices, tokens


def _payloads(devices, tokens, n, start):
    import random

    rng = random.Random(1)
    out = []
    for k in range(n):
        d = devices[k % len(devices)]
        ts = start + timedelta(seconds=60 * (k // len(devices)))
        values = {"residual_ma": round(rng.uniform(80, 200), 1), "t1": round(rng.uniform(25, 45), 1),
                  "t2": round(rng.uniform(25, 45), 1), "ia": round(rng.uniform(5, 30), 2),
                  "ua": round(rng.uniform(215, 225), 1), "arc_count": 0, "faults": 0}
        out.append((d, ts, values, json.dumps({"device": d.code, "ts": ts.isoformat(), "token": tokens[d.code],
                                               "values": values}).encode()))
    return out


def _reset(devices):
    from django.db import connection

    from apps.monitoring.models import Alarm, Device

    with connection.cursor() as c:
        c.execute("TRUNCATE monitoring_reading, monitoring_hourlyrollup")
    Alarm.objects.all().delete()
    Device.objects.filter(pk__in=[d.pk for d in devices]).update(eval_state={}, last_seen=None, last_values={},
                                                                   newest_reading=None)


def _backend_cpu(pid=None):
    """CPU seconds used so far by a PostgreSQL backend (Django's connection by default; same machine)."""
    from django.db import connection

    if pid is None:
        with connection.cursor() as c:
            c.execute("SELECT pg_backend_pid()")
            pid = c.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def bench_ingest(devices, items, batch=BATCH):
    import psycopg
    from django.conf import settings

    from apps.monitoring.choices import CHANNEL_NAMES
    from apps.monitoring.ingest import COLUMNS, ingest_batch

    payloads = [p for _d, _ts, _v, p in items]
    rows = [(d.pk, ts, *(v.get(c) for c in CHANNEL_NAMES)) for d, ts, v, _p in items]
    db = settings.DATABASES["default"]
    raw = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"])

    base_cpu = []

    def baseline():
        c0, b0 = time.process_time(), _backend_cpu(raw.info.backend_pid)
        with raw.cursor() as cur, cur.copy(f"COPY monitoring_reading ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
        base_cpu.append(time.process_time() - c0 + _backend_cpu(raw.info.backend_pid) - b0)

    def baseline_batched():
        # Context only (not the target's baseline): the same raw COPY, committed per batch as any
        # consumer that acknowledges after commit must do.
        with raw.cursor() as cur:
            for i in range(0, len(rows), batch):
                with cur.copy(f"COPY monitoring_reading ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows[i:i + batch]:
                        copy.write_row(row)
                raw.commit()

    cpu = []

    def ours():
        c0, b0 = time.process_time(), _backend_cpu()
        for i in range(0, len(payloads), batch):
            ingest_batch(payloads[i:i + batch], source="mqtt")
        cpu.append(time.process_time() - c0 + _backend_cpu() - b0)

    b_times, s_times, bb_times = [], [], []
    for _ in range(ROUNDS):
        _reset(devices)
        t = time.perf_counter()
        baseline()
        b_times.append(time.perf_counter() - t)
        _reset(devices)
        t = time.perf_counter()
        baseline_batched()
        bb_times.append(time.perf_counter() - t)
        _reset(devices)
        t = time.perf_counter()
        ours()
        s_times.append(time.perf_counter() - t)
    raw.close()
    from apps.monitoring.models import Reading

    assert Reading.objects.count() == len(rows)
    b, s = statistics.median(b_times), statistics.median(s_times)
    return {"bench": "ingest_vs_raw_copy", "readings": len(rows), "batch": batch, "ours_median_s": round(s, 4),
            "raw_copy_median_s": round(b, 4), "ratio": round(b / s, 3), "target": 0.5,
            "ours_readings_per_s": round(len(rows) / s), "readings_per_cpu_s": round(len(rows) / statistics.median(cpu)),
            "ours_cpu_s": round(statistics.median(cpu), 4), "raw_copy_cpu_s": round(statistics.median(base_cpu), 4),
            "cpu_ratio": round(statistics.median(base_cpu) / statistics.median(cpu), 3),
            "raw_copy_committed_per_batch_median_s": round(statistics.median(bb_times), 4),
            "ratio_vs_copy_per_batch": round(statistics.median(bb_times) / s, 3)}


def _publish_all(prefix, messages):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from apps.monitoring.mqtt import readings_topic

    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", 1883)
    pub.loop_start()
    infos = [pub.publish(readings_topic(prefix, code), payload, qos=1) for code, payload in messages]
    for info in infos:
        info.wait_for_publish(30)
    pub.disconnect()
    pub.loop_stop()


def _count_only(prefix, group, client_id, expected):
    """A paho subscriber that only counts (auto-ack), same session settings as the consumer."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from apps.monitoring.mqtt import readings_topic

    count = [0]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 600
    props.ReceiveMaximum = 1000
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"$share/{group}/{readings_topic(prefix)}", qos=1)
    client.on_message = lambda c, u, m: count.__setitem__(0, count[0] + 1)
    client.connect("127.0.0.1", 1883, clean_start=False, properties=props)
    client.loop_start()
    return client, count


def bench_mqtt(devices, items):
    from apps.monitoring.mqtt import Consumer

    messages = [(d.code, p) for d, _ts, _v, p in items[:MQTT_MESSAGES]]
    b_times, s_times, cpu, b_cpu = [], [], [], []
    for _ in range(ROUNDS):
        tag = uuid.uuid4().hex[:8]
        # Baseline: register the session, disconnect, pre-fill, then time the drain.
        client, count = _count_only(f"bench-b-{tag}", f"gb-{tag}", f"bench-count-{tag}", len(messages))
        time.sleep(0.3)
        client.disconnect()
        client.loop_stop()
        _publish_all(f"bench-b-{tag}", messages)
        c0 = time.process_time()
        t = time.perf_counter()
        client, count = _count_only(f"bench-b-{tag}", f"gb-{tag}", f"bench-count-{tag}", len(messages))
        while count[0] < len(messages) and time.perf_counter() - t < 60:
            time.sleep(0.001)
        b_times.append(time.perf_counter() - t)
        b_cpu.append(time.process_time() - c0)
        client.disconnect()
        client.loop_stop()

        _reset(devices)
        consumer = Consumer(prefix=f"bench-s-{tag}", group=f"gs-{tag}", client_id=f"bench-ingest-{tag}",
                            batch_size=1000, session_expiry=600)
        consumer.start()
        consumer.stop()
        _publish_all(f"bench-s-{tag}", messages)
        consumer = Consumer(prefix=f"bench-s-{tag}", group=f"gs-{tag}", client_id=f"bench-ingest-{tag}",
                            batch_size=1000, session_expiry=600)
        c0, b0 = time.process_time(), _backend_cpu()
        t = time.perf_counter()
        consumer.start()
        consumer.run(until=lambda c=consumer, t0=t: c.stats["messages"] >= len(messages) or time.perf_counter() - t0 > 60,
                     poll=0.01)
        s_times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c0 + _backend_cpu() - b0)
        consumer.stop()
        assert consumer.stats["stored"] == len(messages), consumer.stats
    b, s = statistics.median(b_times), statistics.median(s_times)
    return {"bench": "mqtt_drain_vs_count_only", "messages": len(messages), "ours_median_s": round(s, 4),
            "count_only_median_s": round(b, 4), "ratio": round(b / s, 3), "target": 0.8,
            "ours_cpu_s": round(statistics.median(cpu), 4), "count_only_cpu_s": round(statistics.median(b_cpu), 4),
            "cpu_ratio": round(statistics.median(b_cpu) / statistics.median(cpu), 3),
            "readings_per_cpu_s": round(len(messages) / statistics.median(cpu))}


def run():
    _ensure_database()
    devices, tokens = _devices()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    items = _payloads(devices, tokens, N_READINGS, start)
    return [bench_ingest(devices, items), bench_ingest(devices, items, batch=5000), bench_mqtt(devices, items)]
