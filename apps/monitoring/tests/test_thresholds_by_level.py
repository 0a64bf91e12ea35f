"""Alarm thresholds by level (apps/orgs/rules.py): a city's threshold applies to both its districts,
a district's override only to it, a rule set by law is only made stricter, and the ingest path
evaluates each reading against the threshold in force at its institution."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import api_client, make_tiers, page_client
from apps.monitoring import evaluation
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm, ThresholdRule
from apps.orgs.choices import Role

from .conftest import T0, make_device, series

pytestmark = pytest.mark.django_db

NOW = T0 + timedelta(days=1)


@pytest.fixture(autouse=True)
def fresh_rules():
    evaluation.forget_rules()
    yield
    evaluation.forget_rules()


def _default():
    return ThresholdRule.objects.get(administration=None, channel="residual_ma", device_kind="")


def _override(admin, threshold, **extra):
    base = _default()
    return ThresholdRule.objects.create(
        name=extra.pop("name", f"{admin.name} 剩余电流"), channel="residual_ma", threshold=threshold,
        consecutive=base.consecutive, severity=base.severity, administration=admin, **extra)


def _alarms(device, values, minute=0):
    ingest_batch(series(device, T0 + timedelta(minutes=minute), values), source="mqtt", now=NOW)
    return Alarm.objects.filter(device=device, kind="residual_ma").count()


@pytest.fixture
def tiers():
    return make_tiers(depth=3)


def test_a_city_threshold_applies_to_both_districts_and_a_district_override_only_to_it(tiers):
    t = tiers
    assert _default().threshold == 300
    _override(t.city, 200)
    _override(t.d2.bureau, 100)
    kinds1 = evaluation.rules_by_kind(t.d1.t1.path)["combined"]
    kinds2 = evaluation.rules_by_kind(t.d2.t1.path)["combined"]
    assert kinds1["residual_ma"].threshold == 200
    assert kinds2["residual_ma"].threshold == 100
    # The other channels keep the platform default.
    assert kinds2["temperature"].administration_id is None
    assert evaluation.rules_by_kind("")["combined"]["residual_ma"].threshold == 300


def test_evaluation_of_a_reading_uses_the_threshold_in_force_at_its_institution(tiers):
    t = tiers
    _override(t.city, 200)
    _override(t.d2.bureau, 100)
    d1 = make_device(t.d1.inst1, code="LVL-1")
    d2 = make_device(t.d2.inst1, code="LVL-2")
    # 150 mA: over the second district's 100, under the city's 200 (the first district's).
    assert _alarms(d1, [150, 150, 150, 150]) == 0
    assert _alarms(d2, [150, 150, 150, 150]) == 1
    alarm = Alarm.objects.get(device=d2)
    assert alarm.threshold == 100 and alarm.rule.administration_id == t.d2.bureau.pk
    # 250 mA: over the city's 200 for the first district.
    assert _alarms(d1, [250, 250, 250, 250], minute=10) == 1
    assert Alarm.objects.get(device=d1).threshold == 200


def test_the_ingest_batch_costs_no_more_queries_for_rules_by_level(tiers):
    t = tiers
    devices = [make_device(t.d1.inst1, code="Q-1"), make_device(t.d2.inst1, code="Q-2")]

    def batch(minute):
        items = [p for d in devices for p in series(d, T0 + timedelta(minutes=minute), [10, 11, 12])]
        with CaptureQueriesContext(connection) as ctx:
            ingest_batch(items, source="mqtt", now=NOW)
        return len(ctx)

    batch(0)  # warm: rules and township paths cached
    plain = batch(5)
    _override(t.city, 200)
    _override(t.d2.bureau, 100)
    batch(10)  # the new rules are read once
    assert batch(15) == plain


def test_a_non_overridable_rule_may_be_made_stricter_but_not_looser(tiers):
    t = tiers
    from django.core.exceptions import ValidationError

    from apps.monitoring.services import save_threshold_rule

    city_rule = _override(t.city, 200, overridable=False)
    leader2 = t.d2.leader
    looser = ThresholdRule(name="放宽", channel="residual_ma", threshold=400, consecutive=3, severity="critical")
    with pytest.raises(ValidationError) as exc:
        save_threshold_rule(leader2, looser)
    assert city_rule.administration.name in " ".join(exc.value.messages)
    assert not ThresholdRule.objects.filter(name="放宽").exists()
    stricter = save_threshold_rule(leader2, ThresholdRule(name="从严", channel="residual_ma", threshold=150,
                                                          consecutive=3, severity="critical"))
    assert stricter.administration_id == t.d2.bureau.pk
    assert evaluation.rules_by_kind(t.d2.t1.path)["combined"]["residual_ma"].pk == stricter.pk
    # A looser rule stored before the city locked its own is not applied below it.
    ThresholdRule.objects.filter(pk=stricter.pk).update(threshold=500)
    evaluation.forget_rules()
    assert evaluation.rules_by_kind(t.d2.t1.path)["combined"]["residual_ma"].pk == city_rule.pk


def test_pages_show_the_source_and_a_district_adds_its_own_override(tiers):
    t = tiers
    _override(t.city, 200)
    c = page_client(t.d2.leader)
    page = c.get("/monitoring/thresholds/")
    assert page.status_code == 200
    html = page.content.decode()
    assert t.city.name in html and 'id="threshold-add"' in html
    answer = c.post("/monitoring/thresholds/new/", {
        "name": "临江剩余电流", "device_kind": "", "channel": "residual_ma", "threshold": "120", "consecutive": "3",
        "severity": "critical", "clear_after_minutes": "30", "hazard_after_minutes": "", "hazard_after_repeats": "",
        "verify_days": "3", "overridable": "on", "is_active": "on"})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    rule = ThresholdRule.objects.get(name="临江剩余电流")
    assert rule.administration_id == t.d2.bureau.pk
    # The first district does not see it, nor may it edit it (404); the city sees it.
    assert page_client(t.d1.leader).get(f"/monitoring/thresholds/{rule.pk}/edit/").status_code == 404
    assert "临江剩余电流" not in page_client(t.d1.leader).get("/monitoring/thresholds/").content.decode()
    assert "临江剩余电流" in page_client(t.city_leader).get("/monitoring/thresholds/").content.decode()
    # The city may not edit the district's rule (its own administration only): 403.
    assert page_client(t.city_leader).get(f"/monitoring/thresholds/{rule.pk}/edit/").status_code == 403


def test_a_looser_override_is_refused_on_the_page_with_a_reason(tiers):
    t = tiers
    _override(t.city, 200, overridable=False)
    answer = page_client(t.d2.leader).post("/monitoring/thresholds/new/", {
        "name": "放宽", "device_kind": "", "channel": "residual_ma", "threshold": "900", "consecutive": "3",
        "severity": "critical", "clear_after_minutes": "30", "verify_days": "3", "is_active": "on"})
    assert answer.status_code == 400
    assert "不得" in answer.content.decode() or "may not" in answer.content.decode()
    assert not ThresholdRule.objects.filter(name="放宽").exists()


def test_the_api_lists_the_source_and_checks_the_policy(tiers):
    t = tiers
    city_rule = _override(t.city, 200)
    d1_rule = _override(t.d1.bureau, 150)
    api2 = api_client(t.d2.leader)
    rows = api2.get("/api/v1/thresholds/?page_size=200").json()["results"]
    by_id = {r["id"]: r for r in rows}
    assert by_id[city_rule.pk]["administration"] == t.city.pk
    assert by_id[city_rule.pk]["administration_name"] == t.city.name
    assert d1_rule.pk not in by_id
    assert by_id[_default().pk]["administration"] is None
    assert api2.get(f"/api/v1/thresholds/{d1_rule.pk}/").status_code == 404
    assert api2.patch(f"/api/v1/thresholds/{d1_rule.pk}/", {"threshold": 999}, format="json").status_code == 404
    made = api2.post("/api/v1/thresholds/", {"name": "API 覆盖", "channel": "residual_ma", "threshold": 90},
                     format="json")
    assert made.status_code == 201, made.content
    assert made.json()["administration"] == t.d2.bureau.pk
    # A township officer may not set thresholds (403); nobody sets another administration's.
    assert api_client(t.d2.town1).post("/api/v1/thresholds/", {"name": "x", "channel": "residual_ma",
                                                                "threshold": 1}, format="json").status_code == 403
    assert api2.patch(f"/api/v1/thresholds/{city_rule.pk}/", {"threshold": 1},
                      format="json").status_code == 403
    _override(t.city, 250, name="市级锁定", overridable=False, device_kind="combined")
    refused = api2.post("/api/v1/thresholds/", {"name": "放宽", "channel": "residual_ma", "device_kind": "combined",
                                                "threshold": 900}, format="json")
    assert refused.status_code == 400 and "市级锁定" in refused.content.decode()
    for bad in ("nan", "inf", "-inf", "abc"):
        answer = api2.post("/api/v1/thresholds/", {"name": "坏值", "channel": "residual_ma", "threshold": bad},
                           format="json")
        assert answer.status_code == 400 and "threshold" in answer.json(), (bad, answer.content)
    assert not ThresholdRule.objects.filter(name="坏值").exists()


def test_the_threshold_list_costs_the_same_queries_for_more_rules(tiers):
    t = tiers
    c = page_client(t.city_leader)
    c.get("/monitoring/thresholds/")

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx)

    before = (count("/monitoring/thresholds/"), count("/api/v1/thresholds/"))
    for admin in (t.city, t.d1.bureau, t.d2.bureau):
        _override(admin, 100)
    evaluation.forget_rules()
    c.get("/monitoring/thresholds/")
    assert (count("/monitoring/thresholds/"), count("/api/v1/thresholds/")) == before


def test_roles_without_the_capability_see_no_add_button(tiers):
    t = tiers
    assert t.d2.town1.role == Role.TOWNSHIP
    html = page_client(t.d2.town1).get("/monitoring/thresholds/").content.decode()
    assert 'id="threshold-add"' not in html


def _level_rule(admin, channel, severity, **extra):
    base = ThresholdRule.objects.filter(administration=None, channel=channel, device_kind="").first()
    return ThresholdRule.objects.create(
        name=f"{admin.name} {channel}", channel=channel, threshold=base.threshold if base else 0,
        consecutive=base.consecutive if base else 1, severity=severity, administration=admin, **extra)


def test_device_event_alarms_take_the_severity_in_force_at_the_township(tiers):
    import json

    from .conftest import reading

    t = tiers
    default = ThresholdRule.objects.get(administration=None, channel="device_alarm", device_kind="")
    assert default.severity == "critical"
    _level_rule(t.d2.bureau, "device_alarm", "warning")
    _level_rule(t.city, "faults", "info")
    evaluation.forget_rules()
    d1, d2 = make_device(t.d1.inst1, code="EV-1"), make_device(t.d2.inst1, code="EV-2")
    for device in (d1, d2):
        event = {**reading(device, NOW), "event": "alarm", "event_channel": "residual_ma"}
        del event["values"]
        fault = {**reading(device, NOW + timedelta(seconds=20), residual_ma=20), "event": "fault"}
        ingest_batch([json.dumps(event).encode(), json.dumps(fault).encode()], source="mqtt", now=NOW)
    assert Alarm.objects.get(device=d1, kind="device_alarm").severity == "critical"  # the default
    second = Alarm.objects.get(device=d2, kind="device_alarm")
    assert second.severity == "warning" and second.rule.administration_id == t.d2.bureau.pk
    # The city's fault rule reaches both districts.
    assert {a.severity for a in Alarm.objects.filter(kind="faults")} == {"info"}


def test_offline_alarms_take_the_severity_in_force_at_the_township(tiers):
    from apps.monitoring.models import Device
    from apps.monitoring.services import evaluate_offline

    t = tiers
    default = ThresholdRule.objects.filter(administration=None, channel="offline").order_by("device_kind").first()
    assert default is not None
    other = "info" if default.severity != "info" else "critical"
    _level_rule(t.d2.bureau, "offline", other)
    evaluation.forget_rules()
    d1, d2 = make_device(t.d1.inst1, code="OFF-1"), make_device(t.d2.inst1, code="OFF-2")
    Device.objects.filter(pk__in=[d1.pk, d2.pk]).update(last_seen=NOW - timedelta(hours=2))
    assert evaluate_offline(NOW) == 2
    assert Alarm.objects.get(device=d1, kind="offline").severity == default.severity
    alarm = Alarm.objects.get(device=d2, kind="offline")
    assert alarm.severity == other and alarm.rule.administration_id == t.d2.bureau.pk


def test_rules_read_again_unchanged_keep_the_devices_plans_and_a_change_elsewhere_is_taken(tiers, monkeypatch):
    """Past ``RULES_TTL`` the rules are read again. The same rules keep the same objects, so the plans kept
    with them (and on each device's copy) stay: a live stream's device reports less often than the TTL.
    A rule changed by another process (no signal here) is in force after the TTL."""
    from apps.monitoring import store

    t = tiers
    model = make_device(t.d1.inst1, code="TTL-1")
    device = store.read_devices(["TTL-1"])["TTL-1"]  # the consumer's copy of it
    kinds = evaluation.rules_by_kind()
    plan = store.flat_for(device, evaluation.kinds_resolver([device]))
    clock = [1000.0]
    monkeypatch.setattr(evaluation.time, "monotonic", lambda: clock[0])
    evaluation._rules_cache[1] = clock[0]
    clock[0] += evaluation.RULES_TTL + 1
    with CaptureQueriesContext(connection) as ctx:
        assert evaluation.rules_by_kind() is kinds
    assert len(ctx) == 1  # the rules, read again
    assert store.flat_for(device, evaluation.kinds_resolver([device])) is plan
    ThresholdRule.objects.filter(pk=_default().pk).update(threshold=250)  # as another process would: no signal
    assert evaluation.rules_by_kind() is kinds  # within the TTL
    clock[0] += evaluation.RULES_TTL + 1
    again = evaluation.rules_by_kind()
    assert again is not kinds and again["combined"]["residual_ma"].threshold == 250
    assert (2, 250.0, False) in [(c, th, below) for c, th, below in
                                 store.flat_for(device, evaluation.kinds_resolver([device]))]
    assert _alarms(model, [260] * 5) == 1  # the new threshold, in the ingest
