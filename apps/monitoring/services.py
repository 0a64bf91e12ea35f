"""Actions on devices and alarms. Every change of an alarm's state goes through a function here."""
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import acting_as, record_action
from apps.core.notifications import notify

from .choices import (
    BELOW_IS_ABNORMAL,
    CHANNEL_LABELS,
    OPEN_ALARM_STATES,
    RULE_COLUMNS,
    AlarmState,
    RuleChannel,
    Severity,
)
from .models import Alarm, Device, HourlyRollup, ThresholdRule

NOTIFY_VERB = "monitoring.alarm"


def _recipients(institution):
    from apps.orgs.services import institution_users, supervisors_of

    return list(institution_users(institution)) + list(supervisors_of(institution))


def open_alarm(device, rule, channel, value, threshold, ts, peak=None):
    """Create the one open alarm of a device channel and notify the institution and its supervisors."""
    with acting_as(None):
        alarm = Alarm(device=device, institution_id=device.institution_id, rule=rule, kind=rule.channel,
                      channel=channel, severity=rule.severity, threshold=threshold, opened_at=ts, last_at=ts,
                      first_value=value, last_value=value, peak=value if peak is None else peak)
        alarm.save()
    _notify_alarm(alarm, device)
    return alarm


def device_events(events):
    """A device's own alarm and fault events become alarms at once (GB 31252 §4.3.1: within 30 s).

    ``events``: ``[(device row, Normalized, ts)]`` in arrival order. ``alarm`` opens (or repeats) the
    device-alarm alarm of the event's channel (``device`` when it names none), ``fault`` the fault
    alarm, ``restore`` clears the device's open event alarms of that channel. No duration rule
    applies: the device has already applied its own. Severity and hazard escalation come from the
    rule of that kind (``device_alarm``, ``faults``) in force at the device's township (rules by level,
    as for readings: the nearest administration's, a rule for the device's kind before one for every
    kind, else the platform default) when there is one.
    """
    from .evaluation import kinds_resolver

    kinds_for = kinds_resolver([_with_township(row) for row, _record, _ts in events])
    opened = []
    for row, record, ts in events:
        channel = record.event_channel or Alarm.OFFLINE_CHANNEL
        kind = RuleChannel.DEVICE_ALARM if record.event == "alarm" else RuleChannel.FAULT
        value = record.values.get(channel) if record.event_channel else None
        open_alarms = Alarm.objects.filter(device_id=row.pk, state__in=OPEN_ALARM_STATES, channel=channel)
        if record.event == "restore":
            for alarm in open_alarms.filter(kind__in=[RuleChannel.DEVICE_ALARM, RuleChannel.FAULT]):
                auto_clear(alarm, ts, "device reported restore")
            continue
        alarm = open_alarms.filter(kind=kind).first()
        rule = kinds_for(_with_township(row)).get(row.kind, {}).get(kind)
        if alarm is not None:
            with acting_as(None):
                alarm.count += 1
                alarm.last_at, alarm.last_value = ts, value if value is not None else alarm.last_value
                alarm.save()
        else:
            device = row.model if hasattr(row, "model") and not isinstance(row, Device) else row
            with acting_as(None):
                alarm = Alarm(device=device, institution_id=device.institution_id, rule=rule, kind=kind,
                              channel=channel, severity=rule.severity if rule else Severity.CRITICAL,
                              threshold=None, opened_at=ts, last_at=ts, first_value=value, last_value=value,
                              peak=value)
                alarm.save()
            _notify_alarm(alarm, device)
            opened.append(alarm)
        if rule is not None and should_open_hazard(alarm, rule, ts):
            open_hazard(alarm)
    return opened


class _Placed:
    """A device as the rules by level need it: its kind and its institution's township."""

    __slots__ = ("kind", "township_id")

    def __init__(self, kind, township_id):
        self.kind, self.township_id = kind, township_id


def _with_township(device):
    """``device`` (an ingest ``DeviceRow`` carries ``township_id``; a ``Device`` reads it from its
    institution) with ``kind`` and ``township_id``."""
    if isinstance(device, Device):
        return _Placed(device.kind, device.institution.township_id if device.institution_id else None)
    return device


def _notify_alarm(alarm, device):
    title = _("Electrical-fire alarm: %(device)s %(channel)s %(value)s") % {
        "device": device.name or device.code, "channel": CHANNEL_LABELS.get(alarm.channel, alarm.channel),
        "value": "" if alarm.last_value is None else f"{alarm.last_value:g}"}
    notify(_recipients(device.institution), NOTIFY_VERB, title, url=alarm.get_absolute_url(),
           body=str(device.institution), target=alarm, dedup_key=f"{NOTIFY_VERB}:{alarm.pk}")


def auto_clear(alarm, ts, reason):
    with acting_as(None):
        alarm.state = AlarmState.CLEARED
        alarm.cleared_at = ts
        alarm.auto_cleared = True
        alarm.clear_reason = reason
        alarm.save()


def acknowledge(alarm, user, note=""):
    from apps.core import services as core

    core.check(user, "alarm.handle", alarm)
    if alarm.state != AlarmState.ACTIVE:
        raise ValidationError(_("Only an active alarm can be acknowledged."))
    with transaction.atomic(), acting_as(user):
        alarm.state = AlarmState.ACKNOWLEDGED
        alarm.acknowledged_at = timezone.now()
        alarm.acknowledged_by = user
        alarm.acknowledge_note = (note or "")[:300]
        alarm.save()
        record_action(alarm, "monitoring.alarm.acknowledge", actor=user, note=alarm.acknowledge_note)
    return alarm


class StillOverThreshold(ValidationError):
    """Clearing by hand refused: the last reading is still beyond the threshold (a 409 in the API)."""


def reading_still_abnormal(alarm):
    """``(value, threshold)`` when the device's last reading of the alarm's channel is still beyond the
    alarm's threshold; None when it is back to normal (or there is nothing to compare)."""
    from .evaluation import is_abnormal
    from .models import Reading

    if alarm.threshold is None or alarm.channel not in {f.name for f in Reading._meta.concrete_fields}:
        return None
    value = (Reading.objects.filter(device_id=alarm.device_id).order_by("-ts")
             .values_list(alarm.channel, flat=True).first())
    if value is None:
        return None

    class _Rule:
        channel = alarm.kind

    return (value, alarm.threshold) if is_abnormal(_Rule, value, alarm.threshold) else None


def clear(alarm, user, reason, still_over_confirmed=False):
    """Clear an alarm by hand, with a reason. While the last reading is still beyond the threshold the
    person must say so (``still_over_confirmed``) and the reason is kept with the reading in the trail."""
    from apps.core import services as core

    core.check(user, "alarm.handle", alarm)
    if not alarm.is_open:
        raise ValidationError(_("The alarm is already cleared."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for clearing the alarm.")})
    abnormal = reading_still_abnormal(alarm)
    if abnormal and not still_over_confirmed:
        raise StillOverThreshold(_(
            "The last reading (%(value)s) is still beyond the threshold (%(threshold)s): confirm that you clear "
            "the alarm anyway, with the reason.") % {"value": f"{abnormal[0]:g}", "threshold": f"{abnormal[1]:g}"})
    with transaction.atomic(), acting_as(user):
        alarm.state = AlarmState.CLEARED
        alarm.cleared_at = timezone.now()
        alarm.cleared_by = user
        alarm.clear_reason = reason.strip()[:300]
        alarm.auto_cleared = False
        alarm.save()
        record_action(alarm, "monitoring.alarm.clear", actor=user, reason=alarm.clear_reason,
                      **({"still_over": abnormal[0], "threshold": abnormal[1]} if abnormal else {}))
    return alarm


def should_open_hazard(alarm, rule, now):
    if alarm.hazard_id is not None or rule is None:
        return False
    if rule.hazard_after_repeats and alarm.count >= rule.hazard_after_repeats:
        return True
    return rule.hazard_after_minutes is not None and now - alarm.opened_at >= timedelta(
        minutes=rule.hazard_after_minutes)


def open_hazard(alarm):
    """Open the electrical hazard for an alarm that persists or repeats (linked, not typed twice)."""
    from apps.hazards.services import report_hazard

    device = alarm.device
    description = _(
        "Electrical-fire monitoring: %(device)s (%(place)s) reported %(channel)s up to %(peak)s "
        "(threshold %(threshold)s) %(count)s time(s) since %(opened)s."
    ) % {"device": device.name or device.code, "place": device.location or device.circuit or "-",
         "channel": CHANNEL_LABELS.get(alarm.channel, alarm.channel),
         "peak": "-" if alarm.peak is None else f"{alarm.peak:g}",
         "threshold": "-" if alarm.threshold is None else f"{alarm.threshold:g}", "count": alarm.count,
         "opened": timezone.localtime(alarm.opened_at).strftime("%Y-%m-%d %H:%M")}
    hazard = report_hazard(None, device.institution, category="electrical", source="sensor",
                           source_object=alarm, requires_sensor_verification=True, description=description,
                           building=device.building, location=(device.location or "")[:200])
    with acting_as(None):
        alarm.hazard = hazard
        alarm.save()
    return hazard


def evaluate_offline(now=None):
    """Materialise an offline alarm for each device whose silence is detected (state stays derived)."""
    from .evaluation import _active_rules, kinds_resolver

    now = now or timezone.now()
    if not any(r.channel == RuleChannel.OFFLINE for r in _active_rules()[0]):
        return 0
    have = set(Alarm.objects.filter(kind=RuleChannel.OFFLINE, state__in=OPEN_ALARM_STATES)
               .values_list("device_id", flat=True))
    devices = list(Device.objects.offline(now).exclude(pk__in=have).select_related("institution"))
    # The offline rule in force at each device's township (rules by level): its severity and escalation.
    kinds_for = kinds_resolver([_with_township(d) for d in devices])
    opened = 0
    for device in devices:
        rule = kinds_for(_with_township(device)).get(device.kind, {}).get(RuleChannel.OFFLINE)
        if rule is None:
            continue
        with transaction.atomic():
            alarm = open_alarm(device, rule, Alarm.OFFLINE_CHANNEL, None, float(device.offline_after_minutes),
                               device.last_seen or now)
            alarm.opened_at = now
            alarm.last_at = now
            alarm.save(update_fields=["opened_at", "last_at"])
        opened += 1
    return opened


def escalate_persistent_alarms(now=None):
    """Open hazards for alarms that have lasted past their rule even without new readings."""
    now = now or timezone.now()
    opened = 0
    for alarm in Alarm.objects.open().filter(hazard__isnull=True, rule__isnull=False).select_related(
            "rule", "device__institution"):
        if should_open_hazard(alarm, alarm.rule, now):
            with transaction.atomic():
                open_hazard(alarm)
            opened += 1
    return opened


# ---------------------------------------------------------------- sensor-verified closure


def hazard_alarms(hazard):
    return list(Alarm.objects.filter(hazard=hazard).select_related("device", "rule").order_by("opened_at"))


def sensor_evidence(hazard, now=None):
    """What the sensors say since the rectification: per day, the worst value and the reading count."""
    now = now or timezone.now()
    alarms = hazard_alarms(hazard)
    ev = {"alarms": alarms, "rectified_at": hazard.rectified_at, "days": [], "verify_days": None,
          "normal_days": 0, "blocker": None}
    if not alarms:
        return ev
    alarm = alarms[0]
    rule = alarm.rule
    verify_days = rule.verify_days if rule else 3
    ev["verify_days"] = verify_days
    ev["device"] = alarm.device
    if hazard.rectified_at is None:
        ev["blocker"] = _("The rectification is not reported yet; the device must then report normal values "
                          "for %(days)s days.") % {"days": verify_days}
        return ev
    channels = sorted({a.channel for a in alarms})
    start = hazard.rectified_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    rows = (HourlyRollup.objects.filter(device_id__in={a.device_id for a in alarms}, channel__in=channels,
                                        hour__gte=start, hour__lt=now)
            .values("hour__date").annotate(lo=Min("min"), hi=Max("max"), n=Sum("count")).order_by("hour__date"))
    below = rule is not None and rule.channel in BELOW_IS_ABNORMAL
    threshold = alarm.threshold if alarm.threshold is not None else (rule.threshold if rule else None)
    normal_days = 0
    for row in rows:
        worst = row["lo"] if below else row["hi"]
        ok = threshold is None or (worst >= threshold if below else worst < threshold)
        ev["days"].append({"date": row["hour__date"], "worst": worst, "count": row["n"], "ok": ok})
    open_now = any(a.is_open for a in Alarm.objects.filter(device_id__in={a.device_id for a in alarms},
                                                            channel__in=channels, state__in=OPEN_ALARM_STATES))
    bad = [d for d in ev["days"] if not d["ok"]]
    # Consecutive normal days, counted back from the most recent day with readings.
    for day in reversed(ev["days"]):
        if not day["ok"]:
            break
        normal_days += 1
    ev["normal_days"] = normal_days
    elapsed = now - hazard.rectified_at
    if bad and normal_days < verify_days:
        ev["blocker"] = _("After the rectification the device still reported abnormal values (worst %(worst)s "
                          "on %(date)s).") % {"worst": f"{bad[-1]['worst']:g}", "date": bad[-1]["date"]}
    elif open_now:
        ev["blocker"] = _("An alarm of the device is still open.")
    elif elapsed < timedelta(days=verify_days) or normal_days < verify_days:
        ev["blocker"] = _("Sensor verification: the device has reported normal values for %(done)s of the "
                          "%(days)s days needed since the rectification.") % {"done": min(normal_days, verify_days),
                                                                              "days": verify_days}
    return ev


def sensor_close_guard(hazard):
    """Registered with the hazards app: a reason while sensor verification is not met, else None."""
    if not getattr(hazard, "requires_sensor_verification", False):
        return None
    if not Alarm.objects.filter(hazard=hazard).exists():
        return None
    return sensor_evidence(hazard)["blocker"]


def all_rule_columns():
    return RULE_COLUMNS


def save_device(user, device):
    """Register a device or change one; a new device gets its first token, returned once
    (``(device, token)``, the token ``None`` for a change)."""
    from apps.core import services as core

    core.check(user, "device.manage", device.institution if device.institution_id else None)
    token = device.rotate_token() if device.pk is None else None
    core.write(user, "device.manage", device)
    return device, token


def rotate_device_token(user, device):
    """A new token for ``device`` (the old one stops working); returned once."""
    from apps.core import services as core

    core.check(user, "device.manage", device)
    with transaction.atomic(), acting_as(user):
        token = device.rotate_token()
        device.save(update_fields=["token_hash", "token_rotated_at", "mqtt_password_hash"])
        record_action(device, "monitoring.device.rotate_token", actor=user)
    return token


# ---------------------------------------------------------------- thresholds by level


def save_threshold_rule(user, rule):
    """Add or change an alarm threshold of an administration (rules by level, ``apps.orgs.rules``).

    A new rule belongs to the user's own administration (a superuser's may stay the platform
    default when they have no administration). Refused with a reason when it loosens a rule a higher level marked not overridable.
    """
    from django.core.exceptions import ValidationError

    from apps.core.services import write
    from apps.orgs.rules import refusal

    if rule.pk is None and rule.administration_id is None:
        rule.administration = user.administration
    if rule.pk is None:
        target = rule
    else:
        target = ThresholdRule.objects.select_related("administration").get(pk=rule.pk)
    held = ThresholdRule.objects.filter(channel=rule.channel, is_active=True).select_related("administration")
    reason = refusal(rule, held, looser=ThresholdRule.looser)
    if reason:
        raise ValidationError(reason)
    return write(user, "threshold.override", rule, target=target)
