"""The ingest core: decode → validate → persist → rollups → thresholds → alarms, as HTTP and MQTT use it."""
import json
from datetime import timedelta

import pytest
import time_machine

from apps.monitoring.choices import AlarmState
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm, DeadLetter, HourlyRollup, Reading
from apps.monitoring.rollups import roll_up_hours

from .conftest import T0, make_device, payload, series

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(days=1)


def ingest(items, **kw):
    return ingest_batch(items, source="mqtt", now=kw.pop("now", NOW), **kw)


def test_valid_readings_are_stored_with_hourly_rollups(device):
    result = ingest(series(device, T0, [100, 200, 150]))
    assert result.stored == 3
    assert Reading.objects.filter(device=device).count() == 3
    roll_up_hours()  # the rollup job
    roll = HourlyRollup.objects.get(device=device, channel="residual_ma")
    assert (roll.min, roll.max, roll.count, roll.avg) == (100, 200, 3, 150)
    device.refresh_from_db()
    # Last seen is the platform's receive time; the last values carry the device's time.
    assert device.last_seen == NOW
    assert device.last_values["ts"] == (T0 + timedelta(minutes=2)).isoformat()


def test_a_reading_sent_twice_is_stored_once_and_counted_once_in_the_rollup(device):
    first = ingest(series(device, T0, [100, 200]))
    again = ingest(series(device, T0, [100, 200]) + [payload(device, T0, residual_ma=100)])
    assert first.stored == 2 and again.stored == 0 and again.duplicates == 3
    assert Reading.objects.count() == 2
    roll_up_hours()
    assert HourlyRollup.objects.get(channel="residual_ma").count == 2


def test_bad_payloads_are_dead_lettered_with_a_reason_and_the_rest_is_stored(device, device2):
    bad = [
        b"{not json",
        json.dumps({"device": "NOPE", "ts": T0.isoformat(), "values": {"residual_ma": 1}}).encode(),
        json.dumps({"device": device.code, "ts": T0.isoformat(), "token": "wrong",
                    "values": {"residual_ma": 1}}).encode(),
        payload(device, T0 + timedelta(seconds=1), residual_ma=99999),
        payload(device, NOW + timedelta(days=2), residual_ma=10),
        payload(device, T0 + timedelta(seconds=2), volts=3),
    ]
    result = ingest(bad + [payload(device, T0, residual_ma=50)])
    # A time stamp two days ahead is a wrong clock, not a reason to lose the reading: stored at receive time.
    assert result.stored == 2 and result.rejected == 5
    assert Reading.objects.filter(device=device, ts__gte=NOW, ts__lt=NOW + timedelta(seconds=1)).exists()
    reasons = list(DeadLetter.objects.order_by("id").values_list("reason", flat=True))
    assert reasons == ["malformed", "unknown_device", "bad_token", "out_of_range", "invalid"]
    assert DeadLetter.objects.get(reason="malformed").payload == "{not json"


def test_one_spike_does_not_alarm_but_a_sustained_crossing_raises_one_alarm(device):
    ingest(series(device, T0, [100, 450, 100, 100]))
    assert not Alarm.objects.exists()
    ingest(series(device, T0 + timedelta(minutes=10), [320, 350, 400, 380, 390]))
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.channel, alarm.state, alarm.count) == ("residual_ma", "residual_ma", "active", 1)
    assert alarm.first_value == 400 and alarm.peak == 400 and alarm.last_value == 390
    assert alarm.threshold == 300 and alarm.severity == "critical"


def test_a_repeat_updates_the_open_alarm_instead_of_opening_another(device):
    ingest(series(device, T0, [400, 400, 400, 100, 500, 520, 510]))
    alarm = Alarm.objects.get()
    assert alarm.count == 2 and alarm.peak == 520 and alarm.last_value == 510


def test_per_device_override_beats_the_kind_default(device):
    device.thresholds = {"residual_ma": 500}
    device.save()
    ingest(series(device, T0, [400, 400, 400, 400]))
    assert not Alarm.objects.exists()


def test_temperature_alarm_is_per_terminal_channel(device):
    ingest(series(device, T0, [80, 81, 82], channel="t3"))
    assert Alarm.objects.get().channel == "t3"


def test_alarm_clears_itself_after_values_are_normal_for_the_set_time(device):
    ingest(series(device, T0, [400, 400, 400]))
    ingest(series(device, T0 + timedelta(minutes=5), [100] * 20))
    assert Alarm.objects.get().state == AlarmState.ACTIVE  # 19 minutes normal < 30
    ingest(series(device, T0 + timedelta(minutes=25), [100] * 15))
    alarm = Alarm.objects.get()
    assert alarm.state == AlarmState.CLEARED and alarm.auto_cleared


def test_redelivered_batch_does_not_count_a_repeat_twice(device):
    batch = series(device, T0, [400, 400, 400, 100, 400, 400, 400])
    ingest(batch)
    ingest(batch)
    assert Alarm.objects.get().count == 2


def test_silent_device_is_offline_derived_and_an_offline_alarm_is_materialised(device):
    from apps.monitoring.models import Device
    from apps.monitoring.services import evaluate_offline

    ingest(series(device, T0, [100]), now=T0)
    assert Device.objects.offline(T0 + timedelta(minutes=5)).count() == 0
    assert list(Device.objects.offline(T0 + timedelta(minutes=20))) == [device]
    assert evaluate_offline(T0 + timedelta(minutes=20)) == 1
    assert evaluate_offline(T0 + timedelta(minutes=25)) == 0
    alarm = Alarm.objects.get(kind="offline")
    ingest(series(device, T0 + timedelta(minutes=30), [100]), now=T0 + timedelta(minutes=30))
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED


def test_new_alarm_notifies_the_institution_and_its_township(world, device):
    from apps.core.models import Notification

    ingest(series(device, T0, [400, 400, 400]))
    recipients = set(Notification.objects.filter(verb="monitoring.alarm").values_list("recipient__username", flat=True))
    assert {"t_home1", "t_town1"} <= recipients
    assert "t_town2" not in recipients


def test_ingest_uses_a_constant_number_of_queries(device, django_assert_max_num_queries, world):
    other = make_device(world.inst1, code="DEV-9")
    ingest(series(device, T0, [100]) + series(other, T0, [100]))
    batch = series(device, T0 + timedelta(hours=1), list(range(100, 300))) + series(
        other, T0 + timedelta(hours=1), list(range(100, 300)))
    with django_assert_max_num_queries(12):
        assert ingest(batch).stored == 400


@time_machine.travel(NOW, tick=False)
def test_timestamps_accept_epoch_seconds_and_iso(device):
    data = {"device": device.code, "ts": T0.timestamp(), "token": device.token, "values": {"ua": 220}}
    assert ingest([json.dumps(data).encode()]).stored == 1


def test_readings_the_fast_decoder_does_not_take_get_the_same_answer_as_before(device):
    base = {"device": device.code, "token": device.token}
    messages = [
        json.dumps({**base, "ts": T0.isoformat(), "values": {"arc_count": 1.0, "t1": 30}}).encode(),  # float count
        json.dumps({**base, "ts": (T0 + timedelta(minutes=1)).isoformat(), "values": {"t1": None, "t2": 31}}).encode(),
        b'{"device": "%s", "ts": "%s", "token": "%s", "values": {"t1": NaN}}' % (
            device.code.encode(), (T0 + timedelta(minutes=2)).isoformat().encode(), device.token.encode()),
        json.dumps({**base, "ts": (T0 + timedelta(minutes=3)).isoformat(), "values": {"t1": None}}).encode(),
        json.dumps({**base, "ts": (T0 + timedelta(minutes=4)).isoformat(), "values": {"t1": True}}).encode(),
        json.dumps([{**base, "ts": (T0 + timedelta(minutes=5)).isoformat(), "values": {"t1": 32}},
                    {**base, "ts": (T0 + timedelta(minutes=6)).isoformat(), "values": {"t1": 999}}]).encode(),
    ]
    result = ingest(messages)
    assert [it.status for it in result.items] == [
        "stored", "stored", "rejected", "rejected", "rejected", "stored", "rejected"]
    first = Reading.objects.get(ts=T0)
    assert first.arc_count == 1 and isinstance(first.arc_count, int) and first.t1 == 30.0
    assert Reading.objects.get(ts=T0 + timedelta(minutes=1)).t2 == 31.0
    dead = list(DeadLetter.objects.order_by("id").values_list("reason", "detail"))
    assert dead == [("invalid", "t1 must be a number"), ("invalid", "no values"), ("invalid", "t1 must be a number"),
                    ("out_of_range", "t1=999 outside -40.0..300.0")]
    assert json.loads(DeadLetter.objects.get(reason="out_of_range").payload)["values"] == {"t1": 999}


def test_a_reading_stored_by_another_writer_meanwhile_is_still_stored_once(device, monkeypatch):
    from django.db import connection

    from apps.monitoring import ingest as core

    ingest(series(device, T0, [100, 200]))
    if connection.vendor == "postgresql":
        # Hide the stored readings from the look-up, as a writer racing the batch would: the COPY then
        # hits the primary key and the batch runs again through the staging table.
        monkeypatch.setattr(core, "EXISTING_SQL", "SELECT NULL::bigint, NULL::timestamptz WHERE %s::text IS NULL")
    again = ingest(series(device, T0, [100, 200, 300]))
    assert (again.stored, again.duplicates) == (1, 2)
    assert Reading.objects.count() == 3
    roll_up_hours()
    assert HourlyRollup.objects.get(channel="residual_ma").count == 3


def test_rollups_of_a_batch_split_a_device_s_readings_by_utc_hour():
    from datetime import timezone as tz

    from apps.monitoring.choices import CHANNEL_NAMES
    from apps.monitoring.ingest import rollups_of

    def row(device_id, ts, residual):
        return (device_id, ts, residual, *([None] * (len(CHANNEL_NAMES) - 1)))

    plus8 = tz(timedelta(hours=8))
    rows = [row(1, T0 + timedelta(minutes=50), 100.0), row(1, T0 + timedelta(minutes=70), 300.0),
            row(1, (T0 + timedelta(minutes=55)).astimezone(plus8), 200.0), row(2, T0, 5.0)]
    hour = int(T0.timestamp())
    assert rollups_of(rows) == [(1, "residual_ma", hour, 100.0, 200.0, 300.0, 2),
                                (1, "residual_ma", hour + 3600, 300.0, 300.0, 300.0, 1),
                                (2, "residual_ma", hour, 5.0, 5.0, 5.0, 1)]


def test_the_same_gateway_message_twice_in_a_batch_is_judged_element_by_element(device):
    base = {"device": device.code, "token": device.token}
    message = json.dumps([{**base, "ts": T0.isoformat(), "values": {"t1": 32}},
                          {**base, "ts": (T0 + timedelta(minutes=1)).isoformat(), "values": {"t1": 999}}]).encode()
    result = ingest([message, message])
    assert [it.status for it in result.items] == ["stored", "rejected", "duplicate", "rejected"]
    assert list(DeadLetter.objects.values_list("reason", flat=True)) == ["out_of_range", "out_of_range"]


def _area_from_device_rollups():
    from collections import defaultdict

    out = defaultdict(lambda: [None, None, 0.0, 0])
    for r in HourlyRollup.objects.select_related("device__institution"):
        a = out[(r.device.institution.township_id, r.channel, r.hour)]
        a[0] = r.min if a[0] is None else min(a[0], r.min)
        a[1] = r.max if a[1] is None else max(a[1], r.max)
        a[2] += r.sum
        a[3] += r.count
    return {k: (v[0], v[1], round(v[2], 6), v[3]) for k, v in out.items()}


def _area_rows():
    from apps.monitoring.models import AreaHourlyRollup

    return {(r.township_id, r.channel, r.hour): (r.min, r.max, round(r.sum, 6), r.count)
            for r in AreaHourlyRollup.objects.all()}


def test_township_rollups_are_kept_with_the_device_rollups_and_equal_their_sum(world, device, device2):
    from apps.monitoring.areas import rebuild_area_rollups

    inst1b_device = make_device(world.inst1b, code="DEV-1B")
    ingest(series(device, T0, [100, 200, 150]) + series(inst1b_device, T0 + timedelta(minutes=50), [300, 10, 20]))
    # A second batch of the same hour, a duplicate and a reading of another township.
    ingest(series(device, T0 + timedelta(minutes=3), [400]) + series(device, T0, [100])
           + series(device2, T0, [50, 60], step=timedelta(minutes=40)))
    roll_up_hours()
    area = _area_rows()
    assert area == _area_from_device_rollups()
    t1_hour = area[(world.t1.pk, "residual_ma", T0)]
    assert t1_hour == (10.0, 400.0, 1180.0, 7)  # 100+200+150+400 of one device, 300+10+20 of the other
    assert area[(world.t2.pk, "residual_ma", T0)] == (50.0, 60.0, 110.0, 2)
    # The rebuild from the device rollups gives the same rows.
    rebuild_area_rollups()
    assert _area_rows() == area


def test_the_garbage_collector_runs_again_after_a_batch_even_one_that_failed(device, monkeypatch):
    import gc

    from apps.monitoring import ingest

    assert gc.isenabled()
    seen = []
    real = ingest.write_prepared

    def spy(prep):
        seen.append(gc.isenabled())
        return real(prep)

    monkeypatch.setattr(ingest, "write_prepared", spy)
    ingest_batch([payload(device, T0, residual_ma=10)], source="mqtt")
    assert seen == [False] and gc.isenabled()

    def boom(prep):
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest, "write_prepared", boom)
    with pytest.raises(RuntimeError):
        ingest_batch([payload(device, T0 + timedelta(minutes=1), residual_ma=10)], source="mqtt")
    assert gc.isenabled()
    # and it is left alone when the caller had turned it off
    gc.disable()
    try:
        monkeypatch.setattr(ingest, "write_prepared", real)
        ingest_batch([payload(device, T0 + timedelta(minutes=2), residual_ma=10)], source="mqtt")
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert Reading.objects.filter(device=device).count() == 2


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_batch_over_several_hours_rolls_up_each_hour_from_its_own_readings(device, shuffled):
    import random

    from django.db.models import Count, Max, Min, Sum
    from django.db.models.functions import TruncHour

    # 7-minute steps from 02:00 over four hours and one more reading on 03:00 exactly
    readings = [(T0 + i * timedelta(minutes=7), 100 + (i * 37) % 250) for i in range(36)]
    readings.append((T0 + timedelta(hours=1), 999))  # exactly on an hour's edge: the later hour's
    readings.sort()
    items = [payload(device, ts, residual_ma=v) for ts, v in readings]
    if shuffled:
        random.Random(5).shuffle(items)
    assert ingest(items).stored == 37
    expected = {
        (row["hour"], row["mn"], row["mx"], row["sm"], row["n"])
        for row in Reading.objects.filter(device=device).annotate(hour=TruncHour("ts")).values("hour")
        .annotate(mn=Min("residual_ma"), mx=Max("residual_ma"), sm=Sum("residual_ma"), n=Count("residual_ma"))
    }
    roll_up_hours()
    got = {(r.hour, r.min, r.max, r.sum, r.count) for r in HourlyRollup.objects.filter(device=device,
                                                                                   channel="residual_ma")}
    assert len(got) == 5 and got == expected
