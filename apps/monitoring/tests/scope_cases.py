from apps.core.scopecases import ScopeCase

HANDLERS = ("admin", "sec_elderly_user", "town1", "home1", "staff1")


def _device(w):
    from apps.monitoring.models import Device

    return Device.objects.get_or_create(code="SCOPE-1", defaults={"institution": w.inst1, "name": "总配电箱"})[0]


def _alarm(w):
    from django.utils import timezone

    from apps.monitoring.models import Alarm

    device = _device(w)
    now = timezone.now()
    return Alarm.objects.get_or_create(
        device=device, channel="residual_ma", kind="residual_ma",
        defaults={"institution": w.inst1, "opened_at": now, "last_at": now, "last_value": 350, "peak": 350})[0]


CASES = [
    ScopeCase("device-page", lambda w: f"/monitoring/devices/{_device(w).pk}/"),
    ScopeCase("alarm-page", lambda w: f"/monitoring/alarms/{_alarm(w).pk}/"),
    ScopeCase("alarm-acknowledge-post", lambda w: f"/monitoring/alarms/{_alarm(w).pk}/acknowledge/", method="post",
              data=lambda w: {"note": "已到场"}, readers=HANDLERS, ok=(302,)),
    ScopeCase("alarm-clear-post", lambda w: f"/monitoring/alarms/{_alarm(w).pk}/clear/", method="post",
              data=lambda w: {"reason": "误报"}, readers=HANDLERS, ok=(302,)),
    ScopeCase("device-rotate-token-post", lambda w: f"/monitoring/devices/{_device(w).pk}/rotate-token/",
              method="post", readers=("admin", "town1", "home1"), ok=(302,)),
    ScopeCase("device-api", lambda w: f"/api/v1/devices/{_device(w).pk}/", api=True),
    ScopeCase("device-readings-api", lambda w: f"/api/v1/devices/{_device(w).pk}/readings/", api=True),
    ScopeCase("device-rollups-api", lambda w: f"/api/v1/devices/{_device(w).pk}/rollups/", api=True),
    ScopeCase("alarm-api", lambda w: f"/api/v1/alarms/{_alarm(w).pk}/", api=True),
    ScopeCase("alarm-acknowledge-api", lambda w: f"/api/v1/alarms/{_alarm(w).pk}/acknowledge/", method="post",
              data=lambda w: {"note": "收到"}, api=True, readers=("town1",)),
    ScopeCase("alarm-clear-api", lambda w: f"/api/v1/alarms/{_alarm(w).pk}/clear/", method="post",
              data=lambda w: {"reason": "已处理"}, api=True, readers=("home1",)),
]
CASES += [
    ScopeCase("device-edit-page", lambda w: f"/monitoring/devices/{_device(w).pk}/edit/",
              readers=("admin", "sec_elderly_user", "town1", "home1")),
]


def _dead_letter(w):
    from apps.monitoring.models import DeadLetter

    device = _device(w)
    return DeadLetter.objects.get_or_create(
        device_code=device.code, reason="invalid",
        defaults={"device": device, "source": "mqtt", "topic": f"firesafe/devices/{device.code}/readings",
                  "detail": "unknown channel 'volts'", "payload": '{"device": "SCOPE-1"}'})[0]


# Rejected device messages belong to no institution: only the platform's operators see them.
_NOT_OPERATORS = ("leader", "sec_elderly_user", "town1", "home1", "staff1", "sec_social_user", "unit_user", "town2",
                  "home2")
CASES += [
    ScopeCase("dead-letter-page", lambda w: f"/monitoring/dead-letters/{_dead_letter(w).pk}/", readers=("admin",),
              outsiders=_NOT_OPERATORS),
    ScopeCase("dead-letter-list", lambda w: "/monitoring/dead-letters/", readers=("admin",),
              outsiders=_NOT_OPERATORS),
    ScopeCase("dead-letter-replay-post", lambda w: f"/monitoring/dead-letters/{_dead_letter(w).pk}/replay/",
              method="post", readers=("admin",), ok=(302,), outsiders=_NOT_OPERATORS),
    ScopeCase("dead-letter-replay-filtered-post", lambda w: "/monitoring/dead-letters/replay/?reason=invalid",
              method="post", readers=("admin",), ok=(302,), outsiders=_NOT_OPERATORS),
]


# Alarm thresholds by level: a rule of the district is seen by everyone under it (it applies to them)
# and by the levels above; the other district gets 404 (apps/monitoring/tests/test_thresholds_by_level.py,
# where both districts exist). Only the administration's own leaders and administrators edit it.
def _threshold(w):
    from apps.monitoring.models import ThresholdRule

    return ThresholdRule.objects.get_or_create(
        name="范围测试阈值", channel="residual_ma", administration=w.bureau, defaults={"threshold": 250})[0]


_EVERYONE = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1", "sec_social_user", "unit_user",
             "town2", "home2")
CASES += [
    ScopeCase("threshold-list", lambda w: "/monitoring/thresholds/", readers=_EVERYONE, outsiders=()),
    ScopeCase("threshold-api", lambda w: f"/api/v1/thresholds/{_threshold(w).pk}/", api=True, readers=_EVERYONE,
              outsiders=(), extra={"other_district": _EVERYONE[1:]}),
    ScopeCase("threshold-edit-page", lambda w: f"/monitoring/thresholds/{_threshold(w).pk}/edit/",
              readers=("admin",), outsiders=(), extra={"other_district": _EVERYONE[1:]}),
]
