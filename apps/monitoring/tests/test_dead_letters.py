"""The operators' page of rejected device messages: reason, payload preview, replay after a fix (issue 17)."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import DeadLetter, PayloadProfile, Reading

from .conftest import reading

pytestmark = pytest.mark.django_db

BINARY_FRAME = b"\x40\x40\x01\x00\x00\x00\x23\x23"


def _client(user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


def test_operators_see_the_reason_and_a_preview_and_others_get_404(world, device):
    ingest_batch([BINARY_FRAME], source="mqtt", topics=[f"firesafe/devices/{device.code}/readings"])
    letter = DeadLetter.objects.get()
    admin = _client(world.admin)
    html = admin.get(f"/monitoring/dead-letters/{letter.pk}/").content.decode()
    assert "40 40 01 00 00 00 23 23" in html  # bytes as a hex dump
    listing = admin.get("/monitoring/dead-letters/?state=open").content.decode()
    assert f"/monitoring/dead-letters/{letter.pk}/" in listing
    for user in (world.town1, world.home1, world.leader):
        assert _client(user).get(f"/monitoring/dead-letters/{letter.pk}/").status_code == 404
        assert _client(user).get("/monitoring/dead-letters/").status_code == 404


def test_the_list_costs_a_fixed_number_of_queries(world, device, django_assert_max_num_queries):
    ingest_batch([b"{bad"] * 30, source="mqtt")
    admin = _client(world.admin)
    admin.get("/monitoring/dead-letters/")
    with django_assert_max_num_queries(12):
        assert admin.get("/monitoring/dead-letters/").status_code == 200


def test_replay_after_the_profile_is_fixed_stores_the_message_once(world, device, settings):
    settings.MQTT_TOPIC_AUTHENTICATED = True
    now = timezone.now().replace(microsecond=0)
    body = {"deviceId": device.code, "properties": [{"key": "漏电流（mA）", "value": 88, "timestamp": now.isoformat()}]}
    topic = f"firesafe/devices/{device.code}/properties"
    ingest_batch([json.dumps(body, ensure_ascii=False).encode()], source="mqtt", topics=[topic])
    letter = DeadLetter.objects.get()
    assert letter.reason == "invalid"  # the profile does not know this vendor's key
    admin = _client(world.admin)
    response = admin.post(f"/monitoring/dead-letters/{letter.pk}/replay/", follow=True)
    assert "漏电流" in response.content.decode() or response.status_code == 200
    letter.refresh_from_db()
    assert letter.replay_result.startswith("rejected") and DeadLetter.objects.count() == 1  # no second letter
    profile = PayloadProfile.objects.get(code="property-array")
    profile.channels = {**profile.channels, "漏电流（mA）": "residual_ma"}
    profile.save()
    admin.post("/monitoring/dead-letters/replay/?reason=invalid")
    letter.refresh_from_db()
    assert letter.replay_result == "stored"
    assert Reading.objects.get(device=device).residual_ma == 88
    admin.post(f"/monitoring/dead-letters/{letter.pk}/replay/")
    letter.refresh_from_db()
    assert letter.replay_result == "duplicate" and Reading.objects.count() == 1


def test_replaying_an_unknown_device_after_registering_it(world):
    from .conftest import make_device

    class Pending:
        code, token = "LATE-1", "x"

    ts = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    ingest_batch([json.dumps({**reading(Pending, ts), "token": "t"}).encode()], source="mqtt")
    letter = DeadLetter.objects.get(reason="unknown_device")
    device = make_device(world.inst1, code="LATE-1")
    letter.payload = json.dumps({**json.loads(letter.payload), "token": device.token})  # as the device would send
    letter.save()
    _client(world.admin).post(f"/monitoring/dead-letters/{letter.pk}/replay/")
    assert Reading.objects.filter(device=device, ts=ts).exists()


def test_the_admin_test_box_shows_what_a_sample_becomes(world):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    profile = PayloadProfile.objects.get(code="property-array")
    sample = json.dumps({"deviceId": 7, "properties": [{"key": "A相电流", "value": 1500, "unit": "mA",
                                                         "timestamp": 1764504000000}]}, ensure_ascii=False)
    response = _client(world.admin).post(f"/admin/monitoring/payloadprofile/{profile.pk}/test/", {"sample": sample})
    html = response.content.decode()
    assert response.status_code == 200 and "&quot;ia&quot;: 1.5" in html and "2025-11-30T12:00:00+00:00" in html
    response = _client(world.admin).post(f"/admin/monitoring/payloadprofile/{profile.pk}/test/", {"sample": "{x"})
    assert "malformed" in response.content.decode()


def test_the_device_form_edits_channels_as_named_fields(world, device):
    client = _client(world.town1)
    html = client.get(f"/monitoring/devices/{device.pk}/edit/").content.decode()
    assert 'name="channels" value="residual_ma"' in html and "<textarea" in html  # thresholds only
    data = {"institution": world.inst1.pk, "code": device.code, "name": device.name, "kind": "residual",
            "offline_after_minutes": 15, "channels": ["residual_ma", "faults"], "thresholds": "{}", "is_active": "on"}
    assert client.post(f"/monitoring/devices/{device.pk}/edit/", data).status_code == 302
    device.refresh_from_db()
    assert device.channels == ["residual_ma", "faults"]
    page = client.get(f"/monitoring/devices/{device.pk}/").content.decode()
    assert 'id="device-channel-list"' in page


def test_the_device_page_says_its_clock_is_wrong_and_shows_missing_messages(world, device):
    device.clock_offset_seconds = -1200
    device.seq_state, device.seq_missing = {"last": 10, "missing": [[4, 5]]}, 2
    device.save()
    html = _client(world.home1).get(f"/monitoring/devices/{device.pk}/").content.decode()
    assert 'id="clock-wrong"' in html and 'id="seq-missing"' in html and "4–5" in html
