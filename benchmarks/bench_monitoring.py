"""Monitoring ingest benchmarks in the shape of the field (PostgreSQL + a private Mosquitto).

Run: DEBUG=0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_bench .venv/bin/python -m benchmarks monitoring

A live stream: every device reports once a minute, so a batch of 1,000 messages holds one reading of
1,000 devices (50 devices: 20 readings of each). Device mixes of 50, 5,000 and 50,000 devices.

1. ingest (decode, validate, binary COPY, rollup marks, threshold screen, lazy device state,
   commit per batch) vs a raw binary ``COPY`` of the same rows into the same table committed per
   batch: CPU of this process + its PostgreSQL backend, ratio = baseline / ours (target ≥ 0.5×),
   alternating runs after one uncounted warm-up round of each; the rollup job's CPU for the same readings is reported beside it;
2. a sustained MQTT drain of 20,000 queued messages (5,000 devices) by the consumer vs a count-only
   paho subscriber on the same private broker (started here, on a free port, with the queue and
   in-flight settings of ``deploy/mosquitto/firesafe.conf``): wall-clock ratio (target ≥ 0.8×), the
   CPU ratio (count-only subscriber + broker vs this process + its PostgreSQL backend + broker: on a
   shared machine the wall clock is the scheduler's) and readings per CPU-second of the whole stack.
   The same ratios against a count-only subscriber on the consumer's own client (``mqtt._Client``:
   the buffered socket, the read burst, the whole-PUBLISH path; ``*_vs_buffered``): the consumer
   receives through it, so stock paho alone would flatter the ingest.
"""
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIXES = (50, 5000, 50000)
READINGS = {50: 20000, 5000: 20000, 50000: 50000}
BATCH = 1000
ROUNDS = 3
# The ingest bench: one round of each side first, not counted (a running consumer has its devices'
# threshold screens, its statement caches and its type adapters already; so has the COPY's client),
# then INGEST_ROUNDS counted rounds, alternating.
INGEST_WARMUP = 1
INGEST_ROUNDS = 5
MQTT_DEVICES = 5000
MQTT_MESSAGES = 20000
TOKEN = "bench-token"
LATENCY = timedelta(seconds=2)


def _ensure_database():
    from django.conf import settings
    from django.core.management import call_command

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("bench_monitoring needs PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)


def _devices(n):
    from apps.ledger.models import Institution
    from apps.monitoring.models import Device
    from apps.orgs.models import Organization

    town, _ = Organization.objects.get_or_create(name="基准测试街道", kind="township")
    inst, _ = Institution.objects.get_or_create(name="基准测试养老院", defaults={"township": town, "kind": "elderly_care",
                                                                          "nature": "private", "address": "-"})
    token_hash = hashlib.sha256(TOKEN.encode()).hexdigest()
    have = set(Device.objects.filter(code__startswith="BENCH-").values_list("code", flat=True))
    Device.objects.bulk_create([Device(institution=inst, code=f"BENCH-{i:05d}", name=f"B{i}", token_hash=token_hash)
                                for i in range(n) if f"BENCH-{i:05d}" not in have], batch_size=5000)
    return list(Device.objects.filter(code__in=[f"BENCH-{i:05d}" for i in range(n)]).order_by("pk"))


def _stream(devices, n, start):
    """``n`` readings, each device once a minute, in arrival order: (device, ts, values, payload)."""
    rng = random.Random(1)
    out = []
    for k in range(n):
        d = devices[k % len(devices)]
        ts = start + timedelta(seconds=60 * (k // len(devices)))
        values = {"residual_ma": round(rng.uniform(80, 200), 1), "t1": round(rng.uniform(25, 45), 1),
                  "t2": round(rng.uniform(25, 45), 1), "ia": round(rng.uniform(5, 30), 2),
                  "ua": round(rng.uniform(215, 225), 1), "arc_count": 0, "faults": 0}
        out.append((d, ts, values, json.dumps({"device": d.code, "ts": ts.isoformat(), "token": TOKEN,
                                               "values": values}).encode()))
    return out


def _reset(start):
    """Every round from the same state: the steady state of a stream that has been running up to
    ``start``. Each device reported a minute before it, and its last-seen time was last written at a
    point spread evenly over the device-state interval (so the round writes the share of devices a
    running stream writes in that time, not every device at once). The consumer has been running:
    its copy of the devices is kept, set to the same state (read once, before the first round)."""
    from django.conf import settings
    from django.db import connection

    from apps.monitoring import store

    interval = getattr(settings, "MONITORING_DEVICE_STATE_SECONDS", 300)
    newest = start - timedelta(minutes=1)
    with connection.cursor() as c:
        c.execute("TRUNCATE monitoring_reading, monitoring_hourlyrollup, monitoring_areahourlyrollup, "
                  "monitoring_rollupmark, monitoring_alarm CASCADE")
        c.execute("UPDATE monitoring_device SET eval_state = '{}', "
                  "last_seen = %s - make_interval(secs => id %% %s), newest_reading = %s, "
                  "clock_offset_seconds = NULL, clock_checked_at = NULL, seq_state = '{}', seq_missing = 0 "
                  "WHERE code LIKE 'BENCH-%%'", [start, interval, newest])
        c.execute("ANALYZE monitoring_reading, monitoring_alarm")
        # The rounds rewrite every device row: without this the table bloats from round to round (in
        # service, autovacuum keeps up with one write per device per interval). Analysed, as autovacuum
        # keeps a table in service: unanalysed, the per-batch look for devices with a streak in
        # progress reads the whole device table instead of its partial index (0.5 ms a batch at
        # 5,000 devices, 5 ms at 50,000).
        c.execute("VACUUM ANALYZE monitoring_device")
    store._pending.clear()
    store._pending_clock.clear()
    for d in store._directory.values():
        d.last_seen = start - timedelta(seconds=d.pk % interval)
        d.newest, d.eval_state, d.clock_offset, d.seq_state, d.has_open = newest, {}, None, {}, False


def _prime(devices):
    """The consumer's copy of the devices, as a running consumer has it (read once)."""
    from apps.monitoring import store

    store.forget_devices()
    store.fresh_directory(_directory_version())
    store.read_into_directory([d.code for d in devices])


def _directory_version():
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT version FROM monitoring_directory_version WHERE id = 1")
        return c.fetchone()[0]


def _cpu(pid):
    """CPU seconds used so far by a process of this machine (utime + stime from /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def _backend_pid():
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        return c.fetchone()[0]


def bench_ingest(n_devices):
    import psycopg
    from django.conf import settings

    from apps.monitoring.choices import CHANNEL_NAMES
    from apps.monitoring.ingest import COPY_SQL, COPY_TYPES, ingest_batch, max_skew
    from apps.monitoring.rollups import roll_up_hours

    devices = _devices(n_devices)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=2)
    items = _stream(devices, READINGS[n_devices], start)
    payloads = [p for *_x, p in items]
    # A live stream: each reading arrives LATENCY after it was measured (the replay gives every message
    # that receive time, so device state, clock checks and the lazy writes follow the stream's clock).
    received = [ts + LATENCY for _d, ts, _v, _p in items]
    skew = max_skew()  # the same rows as ours: a reading behind by more than the skew is flagged
    rows = [(d.pk, ts, *(float(v[c]) if c in v and c not in ("arc_count", "faults") else v.get(c)
                         for c in CHANNEL_NAMES), rec, None, rec - ts > skew)
            for (d, ts, v, _p), rec in zip(items, received, strict=True)]
    db = settings.DATABASES["default"]
    raw = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"])
    raw_pid, pid = raw.info.backend_pid, _backend_pid()

    def baseline():
        with raw.cursor() as cur:
            for i in range(0, len(rows), BATCH):
                with cur.copy(COPY_SQL) as copy:
                    copy.set_types(COPY_TYPES)
                    for row in rows[i:i + BATCH]:
                        copy.write_row(row)
                raw.commit()

    def ours():
        for i in range(0, len(payloads), BATCH):
            batch_received = received[i:i + BATCH]
            ingest_batch(payloads[i:i + BATCH], source="mqtt", received=batch_received, now=batch_received[-1])

    b_cpu, s_cpu, b_wall, s_wall, job_cpu = [], [], [], [], []
    _reset(start)
    _prime(devices)
    for _ in range(INGEST_WARMUP):
        _reset(start)
        baseline()
        _reset(start)
        ours()
        roll_up_hours()
    for _ in range(INGEST_ROUNDS):
        _reset(start)
        c0, p0, t0 = time.process_time(), _cpu(raw_pid), time.perf_counter()
        baseline()
        b_wall.append(time.perf_counter() - t0)
        b_cpu.append(time.process_time() - c0 + _cpu(raw_pid) - p0)
        _reset(start)
        c0, p0, t0 = time.process_time(), _cpu(pid), time.perf_counter()
        ours()
        s_wall.append(time.perf_counter() - t0)
        s_cpu.append(time.process_time() - c0 + _cpu(pid) - p0)
        c0, p0 = time.process_time(), _cpu(pid)
        roll_up_hours()
        job_cpu.append(time.process_time() - c0 + _cpu(pid) - p0)
    raw.close()
    from apps.monitoring.models import HourlyRollup, Reading

    assert Reading.objects.count() == len(rows) and HourlyRollup.objects.exists()
    b, s, j = statistics.median(b_cpu), statistics.median(s_cpu), statistics.median(job_cpu)
    return {"bench": "ingest_vs_binary_copy_per_batch", "devices": n_devices, "readings": len(rows), "batch": BATCH,
            "runs": INGEST_ROUNDS, "warmup_runs": INGEST_WARMUP, "ours_cpu_s": round(s, 3), "copy_cpu_s": round(b, 3),
            "cpu_ratio": round(b / s, 3), "cpu_ratios": "/".join(f"{x / y:.2f}" for x, y in zip(b_cpu, s_cpu, strict=True)),
            "target": 0.5, "wall_ratio": round(statistics.median(b_wall) / statistics.median(s_wall), 3),
            "readings_per_cpu_s": round(len(rows) / s), "rollup_job_cpu_s": round(j, 3),
            "readings_per_cpu_s_with_job": round(len(rows) / (s + j)), "lane": _lane_build()}


def _lane_build():
    """Which express lane ran: its Cython build (``scripts/build_lane.py``) or lane.py as plain Python."""
    from apps.monitoring import fastlane, lane

    return "python" if fastlane.current() is lane else "cython"


# ---------------------------------------------------------------- MQTT


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _broker():
    """A private Mosquitto with the shipped queue settings, on a free port; returns (process, port)."""
    shipped = (ROOT / "deploy" / "mosquitto" / "firesafe.conf").read_text().splitlines()
    keep = ("max_queued_messages", "max_queued_bytes", "max_inflight_messages", "queue_qos0_messages",
            "max_packet_size", "persistent_client_expiration")
    port = _free_port()
    conf = [line for line in shipped if line.split(" ", 1)[0] in keep]
    conf += ["persistence false", "allow_anonymous true", f"listener {port} 127.0.0.1", "log_dest none"]
    path = Path(tempfile.mkdtemp(prefix="bench-hotpath-")) / "mosquitto.conf"
    path.write_text("\n".join(conf) + "\n")
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def _client(client_id, buffered=False, **kw):
    """A paho client (MQTT 3.1.1); ``buffered``: the consumer's own client (``mqtt._Client``)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from apps.monitoring.mqtt import _Client

    cls = _Client if buffered else mqtt.Client
    return cls(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, **kw)


def _publish_all(port, prefix, messages):
    from apps.monitoring.mqtt import readings_topic

    pub = _client(f"bench-pub-{uuid.uuid4().hex[:8]}")
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    infos = [pub.publish(readings_topic(prefix, code), payload, qos=1) for code, payload in messages]
    for info in infos:
        info.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()


def _count_only(port, prefix, group, client_id, buffered=False):
    """A paho subscriber (MQTT 3.1.1, persistent session, auto-ack) that only counts; ``buffered``: on the
    consumer's own buffered socket, so the ingest is compared with the same receive path."""
    from apps.monitoring.mqtt import readings_topic

    count = [0]
    client = _client(client_id, buffered=buffered, clean_session=False)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"$share/{group}/{readings_topic(prefix)}", qos=1)
    client.on_message = lambda c, u, m: count.__setitem__(0, count[0] + 1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client, count


def bench_mqtt():
    from apps.monitoring.mqtt import Consumer

    devices = _devices(MQTT_DEVICES)
    # The last minutes of a live stream: measured up to now, received as the broker delivers them.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=MQTT_MESSAGES // MQTT_DEVICES)
    items = _stream(devices, MQTT_MESSAGES, start)
    messages = [(d.code, p) for d, _ts, _v, p in items]
    broker, port = _broker()
    from django.db import connection

    # The consumer closes its connection past CONN_MAX_AGE (close_old_connections per batch): a new
    # PostgreSQL backend whose CPU this bench would not see. Here one persistent connection, checked.
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = None
    pid = _backend_pid()
    _reset(start)
    _prime(devices)
    b_wall, s_wall, s_cpu, b_cpu, f_wall, f_cpu = [], [], [], [], [], []
    try:
        for _ in range(ROUNDS):
            tag = uuid.uuid4().hex[:8]
            # Baselines: register the session, go away, queue the stream, then time the drain. Stock paho,
            # and paho on the consumer's buffered socket (the same receive path as the consumer's).
            for buffered, wall, cpu in ((False, b_wall, b_cpu), (True, f_wall, f_cpu)):
                prefix, group, cid = f"bench-hotpath-b-{tag}-{buffered:d}", f"gb-{tag}-{buffered:d}", f"bench-count-{tag}-{buffered:d}"
                client, count = _count_only(port, prefix, group, cid, buffered)
                time.sleep(0.3)
                client.disconnect()
                client.loop_stop()
                _publish_all(port, prefix, messages)
                c0, k0, t0 = time.process_time(), _cpu(broker.pid), time.perf_counter()
                client, count = _count_only(port, prefix, group, cid, buffered)
                while count[0] < len(messages) and time.perf_counter() - t0 < 120:
                    time.sleep(0.002)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0 + _cpu(broker.pid) - k0)
                assert count[0] == len(messages), count
                client.disconnect()
                client.loop_stop()

            _reset(start)
            prefix, group, cid = f"bench-hotpath-s-{tag}", f"gs-{tag}", f"bench-ingest-{tag}"
            consumer = Consumer(port=port, prefix=prefix, group=group, client_id=cid, batch_size=BATCH)
            consumer.start()
            time.sleep(0.3)
            consumer.stop()
            _publish_all(port, prefix, messages)
            consumer = Consumer(port=port, prefix=prefix, group=group, client_id=cid, batch_size=BATCH)
            c0, p0, k0, t0 = time.process_time(), _cpu(pid), _cpu(broker.pid), time.perf_counter()
            consumer.start()
            consumer.run(until=lambda c=consumer, t=t0: c.stats["messages"] >= len(messages)
                         or time.perf_counter() - t > 120, poll=0.01)
            s_wall.append(time.perf_counter() - t0)
            s_cpu.append(time.process_time() - c0 + _cpu(pid) - p0 + _cpu(broker.pid) - k0)
            consumer.stop()
            assert consumer.stats["stored"] == len(messages), consumer.stats
            assert _backend_pid() == pid, "the consumer's PostgreSQL backend changed: its CPU is not counted"
    finally:
        broker.terminate()
        broker.wait(10)
    b, s = statistics.median(b_wall), statistics.median(s_wall)
    return {"bench": "mqtt_drain_vs_count_only", "devices": MQTT_DEVICES, "messages": len(messages), "runs": ROUNDS,
            "ours_s": round(s, 3), "count_only_s": round(b, 3), "ratio": round(b / s, 3),
            "ratios": "/".join(f"{x / y:.2f}" for x, y in zip(b_wall, s_wall, strict=True)), "target": 0.8,
            "cpu_ratio": round(statistics.median(b_cpu) / statistics.median(s_cpu), 3),
            "cpu_ratios": "/".join(f"{x / y:.2f}" for x, y in zip(b_cpu, s_cpu, strict=True)),
            "ours_cpu_s_whole_stack": round(statistics.median(s_cpu), 3),
            "count_only_cpu_s_with_broker": round(statistics.median(b_cpu), 3),
            "readings_per_cpu_s_whole_stack": round(len(messages) / statistics.median(s_cpu)), "target_per_cpu_s": 20000,
            # The same against paho on the buffered socket the consumer reads from.
            "count_only_buffered_s": round(statistics.median(f_wall), 3),
            "ratio_vs_buffered": round(statistics.median(f_wall) / s, 3),
            "ratios_vs_buffered": "/".join(f"{x / y:.2f}" for x, y in zip(f_wall, s_wall, strict=True)),
            "cpu_ratio_vs_buffered": round(statistics.median(f_cpu) / statistics.median(s_cpu), 3),
            "count_only_buffered_cpu_s_with_broker": round(statistics.median(f_cpu), 3), "lane": _lane_build()}


def run():
    _ensure_database()
    mixes = [int(x) for x in os.environ.get("BENCH_DEVICES", ",".join(map(str, MIXES))).split(",")]
    out = [bench_ingest(n) for n in mixes]
    if os.environ.get("BENCH_MQTT", "1") != "0":
        out.append(bench_mqtt())
    return out
