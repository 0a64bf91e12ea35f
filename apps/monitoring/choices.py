from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DeviceKind(models.TextChoices):
    RESIDUAL = "residual", _("Residual current")
    TEMPERATURE = "temperature", _("Temperature")
    COMBINED = "combined", _("Combined")
    ARC = "arc", _("Arc fault")
    SMART = "smart", _("Smart socket / breaker")


class RuleChannel(models.TextChoices):
    """What a threshold rule watches; each maps to one or more reading columns."""

    RESIDUAL = "residual_ma", _("Residual current (mA)")
    TEMPERATURE = "temperature", _("Temperature (°C)")
    CURRENT = "current", _("Phase current (A)")
    OVERVOLTAGE = "overvoltage", _("Over-voltage (V)")
    UNDERVOLTAGE = "undervoltage", _("Under-voltage (V)")
    ARC = "arc_count", _("Arc faults")
    FAULT = "faults", _("Fault flags")
    OFFLINE = "offline", _("Offline (minutes of silence)")
    # The device's own alarm event (it alarmed on its own set value; GB 31252 §4.3.1: within 30 s).
    DEVICE_ALARM = "device_alarm", _("Device alarm event")


# rule channel -> reading columns it watches, and whether a value BELOW the threshold is abnormal.
RULE_COLUMNS = {
    RuleChannel.RESIDUAL: ("residual_ma",),
    RuleChannel.TEMPERATURE: ("t1", "t2", "t3", "t4"),
    RuleChannel.CURRENT: ("ia", "ib", "ic"),
    RuleChannel.OVERVOLTAGE: ("ua", "ub", "uc"),
    RuleChannel.UNDERVOLTAGE: ("ua", "ub", "uc"),
    RuleChannel.ARC: ("arc_count",),
    RuleChannel.FAULT: ("faults",),
    RuleChannel.OFFLINE: (),
    RuleChannel.DEVICE_ALARM: (),
}
BELOW_IS_ABNORMAL = {RuleChannel.UNDERVOLTAGE}


class Severity(models.TextChoices):
    INFO = "info", _("Notice")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class AlarmState(models.TextChoices):
    ACTIVE = "active", _("Active")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("alarm state", "Acknowledged")
    CLEARED = "cleared", _("Cleared")


OPEN_ALARM_STATES = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)

# Reading columns with their physical range (values outside are rejected as impossible).
# These are properties of the sensors, not rules: the rules live in ThresholdRule rows.
CHANNELS = {
    "residual_ma": (0.0, 5000.0),
    "t1": (-40.0, 300.0), "t2": (-40.0, 300.0), "t3": (-40.0, 300.0), "t4": (-40.0, 300.0),
    "ia": (0.0, 2000.0), "ib": (0.0, 2000.0), "ic": (0.0, 2000.0),
    "ua": (0.0, 500.0), "ub": (0.0, 500.0), "uc": (0.0, 500.0),
    "arc_count": (0, 1_000_000),
    "faults": (0, 65535),
}
CHANNEL_NAMES = tuple(CHANNELS)
INT_CHANNELS = frozenset({"arc_count", "faults"})  # counters; every other channel is a measurement (float)
ROLLUP_CHANNELS = tuple(c for c in CHANNEL_NAMES if c != "faults")
CHANNEL_LABELS = {
    "residual_ma": _("Residual current (mA)"),
    "t1": _("Temperature 1 (°C)"), "t2": _("Temperature 2 (°C)"), "t3": _("Temperature 3 (°C)"),
    "t4": _("Temperature 4 (°C)"),
    "ia": _("Current A (A)"), "ib": _("Current B (A)"), "ic": _("Current C (A)"),
    "ua": _("Voltage A (V)"), "ub": _("Voltage B (V)"), "uc": _("Voltage C (V)"),
    "arc_count": _("Arc faults"), "faults": _("Fault flags"), "device": _("Device"),
}


class DeadLetterReason(models.TextChoices):
    MALFORMED = "malformed", _("Malformed JSON")
    INVALID = "invalid", _("Invalid payload")
    UNKNOWN_DEVICE = "unknown_device", _("Unknown device")
    BAD_TOKEN = "bad_token", _("Wrong token")
    OTHER_DEVICE = "other_device", _("Token of another device")
    OUT_OF_RANGE = "out_of_range", _("Value out of physical range")
    FUTURE = "future", _("Timestamp in the future")
    UNKNOWN_TOPIC = "unknown_topic", _("Unknown topic")


# The channels a device of each kind has when its own list is empty (only these are evaluated).
KIND_CHANNELS = {
    DeviceKind.RESIDUAL: ("residual_ma", "faults"),
    DeviceKind.TEMPERATURE: ("t1", "t2", "t3", "t4", "faults"),
    DeviceKind.ARC: ("arc_count", "faults"),
}
