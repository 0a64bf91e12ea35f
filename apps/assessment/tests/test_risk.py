import datetime
import sys
import types

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.assessment.models import InstitutionRisk, RiskFactor, RiskModel, RiskSnapshot
from apps.assessment.risk import score_institutions
from apps.core.testing import make_institution
from apps.hazards.services import report_hazard
from apps.ledger.models import Building


def _contribution(result, key):
    return next(f for f in result.factors if f.key == key).contribution


def test_the_default_model_is_seeded_as_data_with_five_groups(db):
    model = RiskModel.objects.get(is_active=True)
    groups = set(model.factors.values_list("group", flat=True))
    assert groups == {"building", "people", "management", "hazards", "sensors"}
    assert float(sum(model.factors.values_list("weight", flat=True))) == 100


def test_an_open_major_hazard_makes_the_institution_red_and_names_the_rule(world):
    before = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(before, "open_major") == 0 and before.level != "red" and not before.lifted_by
    report_hazard(world.home1, world.inst1, category="evacuation", description="安全出口锁闭", level="major")
    after = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(after, "open_major") == 12
    assert after.score == pytest.approx(before.score + 12)
    assert after.score < 60 and after.band != "red"  # the score alone is not red ...
    assert after.level == "red"  # ... the rule lifts it
    assert [f.key for f in after.lifted_by] == ["open_major"]
    assert "直接判定为重大风险" in after.lifted_by[0].lift_rule
    # The stored current risk followed the hazard (signal), and today's snapshot too.
    stored = InstitutionRisk.objects.get(institution=world.inst1)
    assert float(stored.score) == after.score and stored.level == after.level
    assert RiskSnapshot.objects.filter(institution=world.inst1).count() == 1


def test_general_and_overdue_hazards_count_by_their_thresholds(world):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    from apps.hazards.models import Hazard

    for n in range(3):  # deadlines that have passed since they were set
        report_hazard(world.home1, world.inst1, category="electrical", description=f"插线板串接{n}",
                      deadline=datetime.date.today())
    Hazard.objects.filter(institution=world.inst1).update(deadline=yesterday)
    r = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(r, "open_general") == pytest.approx(5 * 3 / 5)
    assert _contribution(r, "overdue") == 5  # 3 overdue = full weight
    assert _contribution(r, "open_major") == 0


def test_building_factors_read_the_ledger(world):
    base = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(base, "no_sprinklers") == 5 and _contribution(base, "colour_steel") == 0
    Building.objects.create(institution=world.inst1, name="主楼", colour_steel="combustible", year_built=1980)
    world.inst1.has_sprinklers = True
    world.inst1.save()
    r = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(r, "no_sprinklers") == 0
    assert _contribution(r, "colour_steel") == 8
    assert _contribution(r, "building_age") == 3  # older than 40 years
    assert r.level == "orange" and [f.key for f in r.lifted_by] == ["colour_steel"]


def _factor(result, key):
    return next(f for f in result.factors if f.key == key)


def test_kind_aware_factors_a_funeral_home_has_no_night_staffing_or_facility_requirement(world):
    funeral = make_institution(world.t1, "殡仪服务站", kind="funeral", beds=0, residents=8,
                               residents_disabled=0, residents_bedridden=0, night_staff_count=0)
    home = make_institution(world.t1, "敬老院", residents=80, night_staff_count=1)
    results = score_institutions([funeral.pk, home.pk])
    night = _factor(results[funeral.pk], "night_staff")
    assert night.applicable is False and night.contribution == 0
    assert _factor(results[home.pk], "night_staff").contribution == 5  # 80 residents to one night staff
    for key in ("no_sprinklers", "no_auto_alarm"):
        f = _factor(results[funeral.pk], key)
        assert f.present is False and f.contribution == 0 and "不要求" in f.note
        g = _factor(results[home.pk], key)
        assert g.present is True and g.contribution == 5 and "GB 50016" in g.note


def test_the_facility_requirement_table_is_data_and_size_matters(world):
    from apps.assessment.models import FacilityRequirement

    alarm = next(r for r in FacilityRequirement.objects.filter(facility="auto_alarm")
                 if "elderly_care" in r.institution_kinds)
    assert alarm.source.startswith("GB 50016") and alarm.clause and alarm.verified
    small = make_institution(world.t1, "小型敬老院", has_smoke_alarms=True)
    Building.objects.create(institution=small, name="平房", area_m2=300)
    big = make_institution(world.t1, "大型敬老院", has_smoke_alarms=True)
    Building.objects.create(institution=big, name="主楼", area_m2=2400)
    results = score_institutions([small.pk, big.pk])
    assert _factor(results[small.pk], "no_auto_alarm").present is False  # smoke alarms suffice below 500 m²
    assert _factor(results[big.pk], "no_auto_alarm").present is True
    # The bureau edits the table: requiring sprinklers only from 100 beds frees the 60-bed home.
    FacilityRequirement.objects.filter(facility="sprinklers").update(min_beds=100)
    assert _factor(score_institutions([small.pk])[small.pk], "no_sprinklers").present is False


def test_past_fires_count(world):
    from django.utils import timezone

    from apps.assessment.models import FireIncident

    before = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(before, "fires_3y") == 0
    FireIncident.objects.create(institution=world.inst1, occurred_at=timezone.now() - datetime.timedelta(days=100),
                                place="厨房", handling="扑灭")
    after = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(after, "fires_3y") == 3 and after.score == pytest.approx(before.score + 3)


def test_a_provider_that_is_not_installed_is_reported_unavailable_and_counts_nothing(world):
    model = RiskModel.objects.get(is_active=True)
    RiskFactor.objects.create(model=model, key="ghost", label="幽灵", group="sensors",
                              provider="apps.nowhere.metrics.stats", metric="x", weight=50)
    r = score_institutions([world.inst1.pk])[world.inst1.pk]
    ghost = next(f for f in r.factors if f.key == "ghost")
    assert ghost.available is False and ghost.contribution == 0


def test_a_fake_provider_feeds_a_factor_and_is_called_once_for_many_institutions(world, monkeypatch):
    calls = []
    module = types.ModuleType("fake_metrics")

    def institution_device_stats(institution_ids, now):
        calls.append(list(institution_ids))
        return {i: {"alarms_30d": 5 if i == world.inst1.pk else 0, "offline_devices": 3} for i in institution_ids}

    module.institution_device_stats = institution_device_stats
    monkeypatch.setitem(sys.modules, "fake_metrics", module)
    RiskFactor.objects.filter(group="sensors").update(provider="fake_metrics.institution_device_stats")
    ids = [world.inst1.pk, world.inst1b.pk, world.inst2.pk]
    results = score_institutions(ids)
    assert len(calls) == 1 and sorted(calls[0]) == sorted(ids)
    assert _contribution(results[world.inst1.pk], "alarms_30d") == 2.5
    assert _contribution(results[world.inst2.pk], "alarms_30d") == 0
    assert _contribution(results[world.inst2.pk], "offline_devices") == 5


def test_scoring_many_institutions_takes_a_constant_number_of_queries(world):
    few = [world.inst1.pk, world.inst2.pk]
    with CaptureQueriesContext(connection) as small:
        score_institutions(few)
    many = few + [make_institution(world.t1, f"批量院{i}").pk for i in range(30)]
    with CaptureQueriesContext(connection) as large:
        score_institutions(many)
    assert len(small.captured_queries) == len(large.captured_queries)


def test_band_thresholds_come_from_the_model(world):
    model = RiskModel.objects.get(is_active=True)
    r = score_institutions([world.inst1.pk])[world.inst1.pk]
    model.yellow_from, model.orange_from, model.red_from = 0, 1, r.score - 0.01 if r.score > 2 else 1.5
    model.save()
    assert score_institutions([world.inst1.pk])[world.inst1.pk].level == "red"


def test_the_daily_snapshot_is_idempotent_per_day_and_keeps_history(world, time_machine):
    from apps.assessment.risk import refresh_risk

    RiskSnapshot.objects.all().delete()
    time_machine.move_to(datetime.datetime(2026, 3, 1, 10, 0))
    refresh_risk([world.inst1.pk])
    refresh_risk([world.inst1.pk])
    assert RiskSnapshot.objects.filter(institution=world.inst1).count() == 1
    time_machine.move_to(datetime.datetime(2026, 3, 2, 10, 0))
    refresh_risk([world.inst1.pk])
    assert list(RiskSnapshot.objects.filter(institution=world.inst1).order_by("day").values_list("day", flat=True)) == [
        datetime.date(2026, 3, 1), datetime.date(2026, 3, 2)]


def _hourly_patrols(institution, start, end, skip=()):
    from apps.inspections.models import PatrolRound

    rows, t = [], start
    while t < end:
        if not any(a <= t < b for a, b in skip):
            rows.append(PatrolRound(institution=institution, patroller_name="夜班", started_at=t))
        t += datetime.timedelta(hours=1)
    PatrolRound.objects.bulk_create(rows)


def test_a_missed_night_patrol_raises_the_score(world, time_machine):
    from django.utils import timezone

    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 15, 10, 0)))
    now = timezone.now()
    start = now - datetime.timedelta(days=32)
    from apps.ledger.models import Institution

    # entered on the platform before the month asked about (nothing is missed before that)
    Institution.objects.update(created=now - datetime.timedelta(days=400))
    _hourly_patrols(world.inst1, start, now)
    _hourly_patrols(world.inst2, start, now, skip=[(now - datetime.timedelta(hours=32),
                                                    now - datetime.timedelta(hours=27))])
    results = score_institutions([world.inst1.pk, world.inst2.pk])
    kept, missed = results[world.inst1.pk], results[world.inst2.pk]
    assert _contribution(kept, "patrol") == 0 and _contribution(kept, "missed_patrols") == 0
    assert _contribution(missed, "patrol") == 4
    assert _contribution(missed, "missed_patrols") > 0
    # Same ledger facts otherwise: the difference is the patrol alone.
    assert missed.score - kept.score == pytest.approx(_contribution(missed, "patrol")
                                                      + _contribution(missed, "missed_patrols"))


def test_recording_a_drill_lowers_the_score_and_is_picked_up_at_once(world):
    from django.utils import timezone

    from apps.training.models import Drill

    before = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(before, "drill") == 5  # never drilled
    Drill.objects.create(institution=world.inst1, date=timezone.localdate(), participants=10)
    after = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(after, "drill") == 0
    assert after.score == pytest.approx(before.score - 5)
    # The stored current risk followed the drill (signal on the drill's save).
    assert float(InstitutionRisk.objects.get(institution=world.inst1).score) == after.score


def test_a_drill_more_than_the_allowed_interval_ago_counts_as_missing(world):
    from django.utils import timezone

    from apps.training.models import Drill

    Drill.objects.create(institution=world.inst1, date=timezone.localdate() - datetime.timedelta(days=400))
    assert _contribution(score_institutions([world.inst1.pk])[world.inst1.pk], "drill") == 5


def test_sensor_alarms_and_offline_devices_raise_the_score(world):
    from django.utils import timezone

    from apps.monitoring.models import Alarm, Device

    before = score_institutions([world.inst1.pk])[world.inst1.pk]
    device = Device.objects.create(institution=world.inst1, code="T-001", name="配电箱",
                                   last_seen=timezone.now() - datetime.timedelta(days=2))
    now = timezone.now()
    for n in range(4):  # one still active, three cleared (one open alarm per device and channel)
        Alarm.objects.create(device=device, institution=world.inst1, kind="residual_ma", channel="residual_ma",
                             opened_at=now, last_at=now, state="active" if n == 3 else "cleared", cleared_at=now)
    after = score_institutions([world.inst1.pk])[world.inst1.pk]
    assert _contribution(after, "alarms_30d") == 2  # 4 of 10 → 0.4 × 5
    assert _contribution(after, "offline_devices") == pytest.approx(5 / 3, abs=0.01)  # 1 of 3
    assert after.score == pytest.approx(before.score + 2 + 5 / 3, abs=0.02)


def test_an_institution_without_staff_on_record_has_no_staffing_ratio_not_the_worst(world):
    """Imported today with its residents but no staff entered: the ratio is unknown ("—", 无数据),
    not 999, and it counts nothing; with staff on record but nobody at night it is the worst."""
    imported = make_institution(world.t1, "新导入敬老院", residents=40, residents_disabled=0, residents_bedridden=0,
                                staff_count=0, night_staff_count=0)
    empty = make_institution(world.t1, "未入住敬老院", residents=0, residents_disabled=0, residents_bedridden=0,
                             staff_count=5, night_staff_count=1)
    no_night = make_institution(world.t1, "无夜班敬老院", residents=40, residents_disabled=0, residents_bedridden=0,
                                staff_count=6, night_staff_count=0)
    results = score_institutions([imported.pk, empty.pk, no_night.pk])
    for inst in (imported, empty):
        night = _factor(results[inst.pk], "night_staff")
        assert night.value is None and night.contribution == 0 and night.available, inst
        assert results[inst.pk].metric("residents_per_night_staff") is None
    assert "无数据" in _factor(results[imported.pk], "night_staff").note
    assert _factor(results[no_night.pk], "night_staff").contribution == 5
    from apps.core.testing import page_client

    body = page_client(world.admin).get(f"/ledger/{imported.pk}/").content.decode()
    assert "999" not in body and "无数据" in body
