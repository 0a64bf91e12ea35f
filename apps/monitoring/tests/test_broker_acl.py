"""mosquitto_acl: each device may publish only its own readings; checked in text and on a real Mosquitto."""
import getpass
import io
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from paho.mqtt.enums import CallbackAPIVersion

from apps.monitoring.mqtt import readings_topic

from .conftest import make_device

DEPLOY_CONF = Path(settings.BASE_DIR) / "deploy" / "mosquitto" / "firesafe.conf"


def _write_acl(path, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("mosquitto_acl", "--acl", str(path), stdout=out, stderr=err, **options)
    return path.read_text(), err.getvalue()


def _blocks(text):
    """{user: [topic lines]} of an ACL file."""
    blocks, user = {}, None
    for line in text.splitlines():
        if line.startswith("user "):
            user = line[5:]
            blocks[user] = []
        elif line.startswith("topic ") and user is not None:
            blocks[user].append(line)
    return blocks


def test_each_device_in_service_may_publish_only_its_own_readings(world, tmp_path):
    make_device(world.inst1, code="DEV-A")
    make_device(world.inst2, code="DEV-B")
    make_device(world.inst2, code="DEV-OLD", is_active=False)
    text, _ = _write_acl(tmp_path / "firesafe.acl", consumer_user="ingest")
    # One topic per payload profile for each device; the consumer reads everything under the prefix (a
    # mistyped topic reaches it and becomes a dead letter) and ThingsBoard's telemetry.
    assert _blocks(text) == {
        "ingest": ["topic read firesafe/#", "topic read v1/devices/+/telemetry"],
        "DEV-A": ["topic write firesafe/devices/DEV-A/readings", "topic write v1/devices/DEV-A/telemetry",
                  "topic write firesafe/devices/DEV-A/properties"],
        "DEV-B": ["topic write firesafe/devices/DEV-B/readings", "topic write v1/devices/DEV-B/telemetry",
                  "topic write firesafe/devices/DEV-B/properties"],
    }
    assert (tmp_path / "firesafe.acl").stat().st_mode & 0o777 == 0o640


def test_a_device_id_that_would_be_a_wildcard_is_left_out_and_named(world, tmp_path):
    make_device(world.inst1, code="DEV-A")
    make_device(world.inst1, code="DEV/+")
    make_device(world.inst1, code="#ALL")
    text, err = _write_acl(tmp_path / "acl", consumer_user="ingest", prefix="site9")
    assert set(_blocks(text)) == {"ingest", "DEV-A"}
    assert "topic write site9/devices/DEV-A/readings" in text
    assert "'DEV/+'" in err and "'#ALL'" in err


def test_the_consumer_user_cannot_be_a_device_id(world, tmp_path):
    make_device(world.inst1, code="ingest")
    with pytest.raises(CommandError, match="also a device id"):
        _write_acl(tmp_path / "acl", consumer_user="ingest")


# --- On a real Mosquitto started with deploy/mosquitto/firesafe.conf (paths and port adapted) ------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _private_conf(directory, port):
    conf = DEPLOY_CONF.read_text()
    for old, new in [("/run/mosquitto/mosquitto.pid", directory / "mosquitto.pid"),
                     ("/var/log/mosquitto/mosquitto.log", directory / "mosquitto.log"),
                     ("/var/lib/mosquitto/", f"{directory}/"),
                     ("/etc/mosquitto/firesafe.passwd", directory / "passwd"),
                     ("/etc/mosquitto/firesafe.acl", directory / "acl"),
                     ("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")]:
        assert old in conf, old
        conf = conf.replace(old, str(new))
    # Run as the test's user (as root Mosquitto would switch to its own user, who cannot read tmp_path);
    # no certificate here, so the local listener only.
    return f"user {getpass.getuser()}\n" + conf[:conf.index("# Devices over TLS")]


def _client(port, user, password, on_message=None):
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-{uuid.uuid4().hex[:10]}",
                         protocol=mqtt.MQTTv5)
    client.username_pw_set(user, password)
    results = {}
    client.on_connect = lambda c, u, f, rc, p: results.setdefault("connect", rc)
    client.on_publish = lambda c, u, mid, rc, p: results.__setitem__(mid, rc)
    if on_message:
        client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while "connect" not in results and time.monotonic() < deadline:
        time.sleep(0.05)
    return client, results


def _publish(client, results, topic, payload):
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(5)
    deadline = time.monotonic() + 5
    while info.mid not in results and time.monotonic() < deadline:
        time.sleep(0.05)
    return results[info.mid]


@pytest.mark.services
def test_the_deployed_broker_config_enforces_the_generated_acl(world, tmp_path):
    assert shutil.which("mosquitto"), "service tests need Mosquitto (apt-get install mosquitto)"
    dev_a = make_device(world.inst1, code="DEV-A")
    dev_b = make_device(world.inst2, code="DEV-B")
    # The ACL and the password file both generated by the platform: a device's password is its token.
    from django.test import override_settings

    with override_settings(MQTT_PASSWORD="consumer-pass"):
        _write_acl(tmp_path / "acl", consumer_user="ingest", passwd=str(tmp_path / "passwd"))
    passwords = {"ingest": "consumer-pass", "DEV-A": dev_a.token, "DEV-B": dev_b.token}
    port = _free_port()
    (tmp_path / "mosquitto.conf").write_text(_private_conf(tmp_path, port))
    broker = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    clients = []
    try:
        time.sleep(0.5)
        assert broker.poll() is None, broker.stdout.read().decode()
        received, subscribed = [], threading.Event()
        consumer, _ = _client(port, "ingest", passwords["ingest"],
                              on_message=lambda c, u, msg: received.append((msg.topic, msg.payload)))
        consumer.on_subscribe = lambda *a: subscribed.set()
        consumer.subscribe(f"$share/firesafe-ingest/{readings_topic()}", qos=1)
        assert subscribed.wait(5)
        device_a, results = _client(port, "DEV-A", passwords["DEV-A"])
        clients += [consumer, device_a]

        assert _publish(device_a, results, readings_topic(device="DEV-A"), b"own").is_failure is False
        assert _publish(device_a, results, readings_topic(device="DEV-B"), b"forged").is_failure is True
        time.sleep(0.5)
        assert received == [(readings_topic(device="DEV-A"), b"own")]

        intruder, intruder_results = _client(port, "DEV-A", "wrong-password")
        clients.append(intruder)
        assert intruder_results["connect"].is_failure
    finally:
        for client in clients:
            client.loop_stop()
            client.disconnect()
        broker.terminate()
        broker.wait(10)
