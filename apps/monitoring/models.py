"""Electrical-fire monitoring: devices, their readings, hourly rollups, threshold rules and alarms."""
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import AuditedModel
from apps.core.scope import ScopedManager, ScopedQuerySet

from .choices import (
    CHANNEL_LABELS,
    CHANNEL_NAMES,
    INT_CHANNELS,
    OPEN_ALARM_STATES,
    AlarmState,
    DeadLetterReason,
    DeviceKind,
    RuleChannel,
    Severity,
)


def hash_token(token: str) -> str:
    """Device tokens are random 32-byte secrets, so a plain SHA-256 is a safe, fast digest."""
    return hashlib.sha256(token.encode()).hexdigest()


def default_offline_minutes():
    return getattr(settings, "MONITORING_OFFLINE_MINUTES", 15)


class DeviceQuerySet(ScopedQuerySet):
    def _silence_q(self, now):
        windows = set(Device.objects.values_list("offline_after_minutes", flat=True).distinct()) or {15}
        q = Q(last_seen__isnull=True)
        for minutes in windows:
            q |= Q(offline_after_minutes=minutes, last_seen__lt=now - timedelta(minutes=minutes))
        return q

    def offline(self, now=None):
        """Derived, never stored: active devices silent for longer than their offline window."""
        now = now or timezone.now()
        return self.filter(is_active=True).filter(self._silence_q(now))

    def online(self, now=None):
        now = now or timezone.now()
        return self.filter(is_active=True).exclude(self._silence_q(now))

    def with_last_values(self):
        """Each device's newest reading (by device time) for ``Device.last_values``, as ``last_reading``:
        its time and values in one JSON object, from one look-up on the readings' primary key
        (device, ts) per device row, in the same query: no query per row."""
        newest = Reading.objects.filter(device=OuterRef("pk")).order_by("-ts")
        return self.annotate(last_reading=Subquery(
            newest.values(v=JSONObject(ts="ts", **{c: c for c in CHANNEL_NAMES}))[:1]))


def last_values_of(reading):
    """``{channel: value, "ts": ISO time}`` of a reading given as ``{"ts": …, channel: value, …}`` (a
    ``with_last_values`` row; its channels without a value left out); ``{}`` for none."""
    if isinstance(reading, str):
        reading = json.loads(reading)
    if not reading:
        return {}
    ts = reading["ts"]
    if isinstance(ts, str):  # JSON from the database: ISO on PostgreSQL, "YYYY-MM-DD HH:MM:SS" (UTC) on SQLite
        ts = datetime.fromisoformat(ts)
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
    out = {}
    for name in CHANNEL_NAMES:  # in channel order, measurements as floats (JSON may give 98 for 98.0)
        v = reading.get(name)
        if v is not None:
            out[name] = v if name in INT_CHANNELS else float(v)
    out["ts"] = ts.astimezone(UTC).isoformat()
    return out


class Device(AuditedModel):
    """An electrical-fire monitoring detector installed at an institution."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="monitoring_devices")
    building = models.ForeignKey("ledger.Building", verbose_name=_("building"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="monitoring_devices")
    code = models.CharField(_("device id"), max_length=64, unique=True,
                            help_text=_("The id the device sends in its readings."))
    name = models.CharField(_("name"), max_length=100)
    model = models.CharField(_("model"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DeviceKind.choices, default=DeviceKind.COMBINED)
    location = models.CharField(_("place"), max_length=200, blank=True)
    circuit = models.CharField(_("circuit"), max_length=100, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True,
                                help_text=_("Reading channels the device reports, e.g. [\"residual_ma\", \"t1\"]."))
    thresholds = models.JSONField(_("threshold overrides"), default=dict, blank=True,
                                  help_text=_("Per-device thresholds by rule channel, e.g. {\"residual_ma\": 400}."))
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    offline_after_minutes = models.PositiveIntegerField(_("offline after (minutes)"),
                                                        default=default_offline_minutes)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    token_rotated_at = models.DateTimeField(_("token issued at"), null=True, blank=True, editable=False)
    # The token's Mosquitto password hash (the broker's password file is generated from it).
    mqtt_password_hash = models.CharField(_("broker password hash"), max_length=200, blank=True, editable=False)
    is_active = models.BooleanField(_("in service"), default=True)
    # Written by every ingest batch: not indexed, so those updates stay HOT (no index entries to add);
    # the offline filter scans the devices of a scope, which is cheap even at 10^4 devices.
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    # Evaluation state of the threshold rules (streaks, normal-since), owned by the ingest core.
    eval_state = models.JSONField(default=dict, blank=True, editable=False)
    # The newest reading stored through the ingest core (its high-water mark). Readings of a batch newer
    # than it cannot be duplicates, so only older ones are looked up; it is also where evaluation stopped.
    newest_reading = models.DateTimeField(null=True, blank=True, editable=False)

    # Clock and sequence bookkeeping (apps.monitoring.clock): written only when they change.
    # Device time minus receive time of its newest reading, kept while it is beyond the allowed skew.
    clock_offset_seconds = models.IntegerField(_("clock offset (seconds)"), null=True, blank=True, editable=False)
    clock_checked_at = models.DateTimeField(_("clock checked at"), null=True, blank=True, editable=False)
    # {"last": the highest sequence number seen, "missing": [[first, last], ...] not received (yet)}
    seq_state = models.JSONField(_("sequence numbers seen"), default=dict, blank=True, editable=False)
    seq_missing = models.PositiveIntegerField(_("missing messages"), default=0, editable=False)

    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ScopedManager.from_queryset(DeviceQuerySet)()

    class Meta:
        ordering = ["institution", "code"]
        verbose_name = _("monitoring device")
        verbose_name_plural = _("monitoring devices")

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("monitoring:device_detail", args=[self.pk])

    def rotate_token(self):
        """Issue a new token (the old one stops working at once); returns the token, shown only now."""
        from .broker import mosquitto_password_hash

        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.mqtt_password_hash = mosquitto_password_hash(token)
        self.token_rotated_at = timezone.now()
        return token

    def check_token(self, token) -> bool:
        return bool(self.token_hash) and isinstance(token, str) and secrets.compare_digest(
            self.token_hash, hash_token(token))

    @property
    def last_values(self):
        """The values of the device's newest reading (``{channel: value, "ts": ISO time}``, ``{}`` before the
        first). Derived from the readings, never stored: from ``with_last_values()`` when the queryset
        has it, else one query."""
        if "last_reading" in self.__dict__:
            return last_values_of(self.last_reading)
        row = Reading.objects.filter(device=self).order_by("-ts").values_list("ts", *CHANNEL_NAMES).first()
        return last_values_of(dict(zip(("ts", *CHANNEL_NAMES), row, strict=True))) if row else {}

    def is_offline_at(self, now=None):
        now = now or timezone.now()
        if not self.is_active:
            return False
        return self.last_seen is None or self.last_seen < now - timedelta(minutes=self.offline_after_minutes)

    @property
    def is_offline(self):
        return self.is_offline_at()

    @property
    def declared_channels(self):
        """The channels evaluated for this device: its own list, else its kind's (every channel if none)."""
        from .choices import CHANNEL_NAMES, KIND_CHANNELS

        return tuple(self.channels or KIND_CHANNELS.get(self.kind, CHANNEL_NAMES))

    @property
    def clock_is_wrong(self):
        return self.clock_offset_seconds is not None

    @property
    def seq_missing_ranges(self):
        return [tuple(r) for r in (self.seq_state or {}).get("missing", [])]


class Reading(models.Model):
    """One report of a device. The primary key (device, ts) is the time-range index and the dedup."""

    pk = models.CompositePrimaryKey("device_id", "ts")
    # No index of its own: the primary key (device, ts) serves every look-up by device.
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings", db_constraint=False,
                               db_index=False)
    ts = models.DateTimeField()
    residual_ma = models.FloatField(null=True)
    t1 = models.FloatField(null=True)
    t2 = models.FloatField(null=True)
    t3 = models.FloatField(null=True)
    t4 = models.FloatField(null=True)
    ia = models.FloatField(null=True)
    ib = models.FloatField(null=True)
    ic = models.FloatField(null=True)
    ua = models.FloatField(null=True)
    ub = models.FloatField(null=True)
    uc = models.FloatField(null=True)
    arc_count = models.IntegerField(null=True)
    faults = models.IntegerField(null=True)
    # When the platform received it (device clocks drift); null for readings stored before the column.
    received_at = models.DateTimeField(null=True)
    seq = models.BigIntegerField(null=True)  # the device's sequence number, where it sends one
    clock_skewed = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        indexes = [models.Index(fields=["ts"], name="monitoring_reading_ts")]  # for retention

    def __str__(self):
        return f"{self.device_id} {self.ts:%Y-%m-%d %H:%M:%S}"


class RollupFigures(models.Model):
    """min / max / sum / count of one channel over a period: what every rollup keeps."""

    channel = models.CharField(max_length=16)
    min = models.FloatField()
    max = models.FloatField()
    sum = models.FloatField()
    count = models.IntegerField()

    class Meta:
        abstract = True

    @property
    def avg(self):
        return self.sum / self.count if self.count else None


class HourlyRollup(RollupFigures):
    """min/max/sum/count of one channel of one device over one hour (UTC), kept up to date by ingest."""

    # No index of its own: the unique key (device, channel, hour) serves every look-up by device.
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="rollups", db_constraint=False,
                               db_index=False)
    hour = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "channel", "hour"], name="monitoring_rollup_key")]
        verbose_name = _("hourly rollup")
        verbose_name_plural = _("hourly rollups")

    def __str__(self):
        return f"{self.device_id} {self.channel} {self.hour:%Y-%m-%d %H}"


class DailyRollup(RollupFigures):
    """min/max/sum/count of one channel of one device over one whole local day, derived from the
    hourly rollups once the day is over (``daily.roll_up_days``, run with the periodic checks):
    what charts over months read, a point per day. Today's point comes from the hourly rollups."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                               db_index=False)
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "channel", "day"], name="monitoring_daily_rollup_key")]
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")

    def __str__(self):
        return f"{self.device_id} {self.channel} {self.day}"


class AreaHourlyRollup(RollupFigures):
    """The same figures over all devices of a township for one hour (UTC): what province- and
    township-wide charts read, a few rows per hour instead of one per device. Kept up to date by
    ingest from the same per-batch rollups as ``HourlyRollup`` (the township is the device's
    institution's at the time the readings arrive)."""

    township = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False, db_index=False)
    hour = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["township", "channel", "hour"], name="monitoring_area_rollup_key")]
        verbose_name = _("township hourly rollup")
        verbose_name_plural = _("township hourly rollups")

    def __str__(self):
        return f"{self.township_id} {self.channel} {self.hour:%Y-%m-%d %H}"


class RollupMark(models.Model):
    """An hour that received readings since the rollup job last ran, and the devices that did.

    Ingest appends one row per hour a batch touched (never updates one: no contention between
    consumers); ``rollups.roll_up_hours`` consumes them. Until then the charts read that hour from
    the raw readings, so they stay exact.
    """

    hour = models.DateTimeField(db_index=True)
    # The devices whose rollups of the hour are out of date; null: every device with readings in it
    # (a live stream's batch touches most devices of the current hour: no list of thousands to write).
    devices = models.JSONField(default=list, null=True)

    class Meta:
        verbose_name = _("pending rollup hour")
        verbose_name_plural = _("pending rollup hours")

    def __str__(self):
        return f"{self.hour:%Y-%m-%d %H}"


class ThresholdRule(AuditedModel):
    """A threshold as data: per device kind (blank = every kind); devices may override the value.

    Rules by level (``apps.orgs.rules``): a rule of an administration applies to the devices of the
    institutions under it and replaces the one of a higher level (or the platform default) for its
    kind and channel; one marked not overridable may only be made stricter below.
    """

    name = models.CharField(_("name"), max_length=100)
    device_kind = models.CharField(_("device kind"), max_length=16, choices=DeviceKind.choices, blank=True,
                                   help_text=_("Empty for every kind. A rule for the kind beats a rule for all."))
    channel = models.CharField(_("channel"), max_length=16, choices=RuleChannel.choices)
    threshold = models.FloatField(_("threshold"))
    consecutive = models.PositiveIntegerField(
        _("consecutive readings"), default=3,
        help_text=_("Readings beyond the threshold in a row before an alarm (one spike does not alarm)."))
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.WARNING)
    clear_after_minutes = models.PositiveIntegerField(
        _("auto-clear after normal for (minutes)"), default=30)
    hazard_after_minutes = models.PositiveIntegerField(
        _("open a hazard after the alarm lasts (minutes)"), null=True, blank=True, default=24 * 60)
    hazard_after_repeats = models.PositiveIntegerField(
        _("open a hazard after repeats"), null=True, blank=True, default=3)
    verify_days = models.PositiveIntegerField(
        _("normal days needed to close the hazard"), default=3,
        help_text=_("Days of normal readings after rectification before a sensor hazard may be closed."))
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    # Rules by level (apps/orgs/rules.py): empty = the platform default, applying everywhere.
    administration = models.ForeignKey(
        "orgs.Organization", verbose_name=_("rule source"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind__in": ("province", "city", "bureau")},
        help_text=_("The administration whose institutions this rule applies to; empty: the whole platform."))
    overridable = models.BooleanField(
        _("lower levels may loosen it"), default=True,
        help_text=_("Unticked (a limit set by law): a lower administration may only make it stricter."))

    class Meta:
        ordering = ["channel", "device_kind"]
        verbose_name = _("threshold rule")
        verbose_name_plural = _("threshold rules")

    def __str__(self):
        return f"{self.name} ({self.get_channel_display()} {self.threshold:g})"

    def save(self, *args, **kwargs):
        if self.pk:
            self.version = (self.version or 0) + 1
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.administration_id:  # rules by level: never looser than a limit set by law above
            from apps.orgs.rules import check

            check(self, looser=ThresholdRule.looser)

    def same_key(self, other):
        """Two rules that may replace one another: the same channel, the same kind or one for all."""
        return self.channel == other.channel and (not other.device_kind or other.device_kind == self.device_kind)

    def looser_than(self, other) -> bool:
        """Whether this rule alarms later than ``other`` (a higher limit, or a lower one for the
        channels where a low value is abnormal; more readings in a row; a slower auto-clear)."""
        from .choices import BELOW_IS_ABNORMAL

        if not self.is_active and other.is_active:
            return True
        below = self.channel in BELOW_IS_ABNORMAL
        if (self.threshold < other.threshold) if below else (self.threshold > other.threshold):
            return True
        return self.consecutive > other.consecutive

    def get_absolute_url(self):
        return reverse("monitoring:threshold_list")

    @classmethod
    def scope_q(cls, user):
        """The default, the rules of the administrations above the user and, for bureau roles, under it."""
        from apps.orgs.rules import visible_q

        return visible_q(user)

    @property
    def scope_institution_id(self):
        return None

    @staticmethod
    def looser(new, held):
        return new.same_key(held) and new.looser_than(held)

    @property
    def source_label(self):
        from apps.orgs.rules import source_label

        return source_label(self)


class AlarmQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(state__in=OPEN_ALARM_STATES)


class Alarm(AuditedModel):
    """One alarm of a device channel; a repeat updates the open alarm rather than opening another."""

    OFFLINE_CHANNEL = "device"

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="alarms")
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="+")
    rule = models.ForeignKey(ThresholdRule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    kind = models.CharField(_("type"), max_length=16, choices=RuleChannel.choices)
    channel = models.CharField(_("channel"), max_length=16)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.WARNING,
                                db_index=True)
    state = models.CharField(_("state"), max_length=16, choices=AlarmState.choices, default=AlarmState.ACTIVE,
                             db_index=True)
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    last_at = models.DateTimeField(_("last at"))
    count = models.PositiveIntegerField(_("repeats"), default=1)
    first_value = models.FloatField(_("first value"), null=True, blank=True)
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    peak = models.FloatField(_("peak"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledge_note = models.CharField(_("note"), max_length=300, blank=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("cleared by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    clear_reason = models.CharField(_("reason"), max_length=300, blank=True)
    auto_cleared = models.BooleanField(_("cleared automatically"), default=False)
    hazard = models.ForeignKey("hazards.Hazard", verbose_name=_("hazard"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager.from_queryset(AlarmQuerySet)()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        indexes = [models.Index(fields=["institution", "state"]), models.Index(fields=["device", "state"])]
        constraints = [
            models.UniqueConstraint(fields=["device", "channel", "kind"], condition=~Q(state=AlarmState.CLEARED),
                                    name="monitoring_one_open_alarm"),
        ]

    def __str__(self):
        return f"{self.device.code} {self.get_kind_display()} {self.channel_label}"

    def get_absolute_url(self):
        return reverse("monitoring:alarm_detail", args=[self.pk])

    @property
    def channel_label(self):
        return CHANNEL_LABELS.get(self.channel, self.channel)

    @property
    def is_open(self):
        return self.state in OPEN_ALARM_STATES


class PayloadProfile(models.Model):
    """How a vendor's payload maps onto the platform's channels (apps.monitoring.adapters.Profile)."""

    TIME_FORMATS = [("auto", _("Automatic (epoch seconds or milliseconds, ISO 8601 with zone)")),
                    ("s", _("Epoch seconds")), ("ms", _("Epoch milliseconds")),
                    ("iso", _("ISO 8601 with time zone")), ("local", _("Local time without zone"))]
    UNKNOWN_KEYS = [("reject", _("Reject the reading")), ("ignore", _("Ignore the key"))]

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    priority = models.PositiveIntegerField(_("priority"), default=100,
                                           help_text=_("Profiles are tried by topic in this order (lowest first)."))
    topic = models.CharField(_("topic"), max_length=200, help_text=_(
        "MQTT topic; {prefix} is the consumer's prefix, {device} the device id (\"me\": the MQTT user name)."))
    records = models.CharField(_("records path"), max_length=100, blank=True,
                               help_text=_("Path to the reading or array of readings; empty: the message."))
    device = models.CharField(_("device id path"), max_length=100, blank=True)
    time = models.CharField(_("time path"), max_length=100, blank=True)
    time_format = models.CharField(_("time format"), max_length=8, choices=TIME_FORMATS, default="auto")
    values = models.CharField(_("values path"), max_length=100, blank=True)
    flat_fallback = models.BooleanField(_("flat readings"), default=False, help_text=_(
        "A reading without the values object is itself the object of values (ThingsBoard)."))
    properties = models.CharField(_("property array path"), max_length=100, blank=True)
    property_key = models.CharField(_("property key field"), max_length=40, default="key")
    property_value = models.CharField(_("property value field"), max_length=40, default="value")
    property_unit = models.CharField(_("property unit field"), max_length=40, default="unit")
    property_time = models.CharField(_("property time field"), max_length=40, default="timestamp")
    channels = models.JSONField(_("channel mapping"), default=dict, blank=True, help_text=_(
        "Source key → channel code, or @alarm / @fault for a device event flag."))
    scale = models.JSONField(_("unit factors"), default=dict, blank=True,
                             help_text=_("Source key → factor the value is multiplied by."))
    placeholders = models.JSONField(_("placeholder values"), default=list, blank=True,
                                    help_text=_("Values that mean \"no value\" and are dropped, e.g. [-9999, 65535]."))
    unknown_keys = models.CharField(_("unknown keys"), max_length=8, choices=UNKNOWN_KEYS, default="reject")
    seq = models.CharField(_("sequence number path"), max_length=100, blank=True)
    token = models.CharField(_("token path"), max_length=100, blank=True)
    event = models.CharField(_("event path"), max_length=100, blank=True)
    event_channel = models.CharField(_("event channel path"), max_length=100, blank=True)
    user_is_token = models.BooleanField(_("MQTT user name is the token"), default=False)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["priority", "code"]
        verbose_name = _("payload profile")
        verbose_name_plural = _("payload profiles")

    def __str__(self):
        return self.name

    def as_profile(self):
        from .adapters import Profile

        return Profile.from_model(self)


class DeadLetter(models.Model):
    """A rejected message, kept with the reason for inspection; never blocks the consumer."""

    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    source = models.CharField(_("source"), max_length=8)  # mqtt | http
    topic = models.CharField(_("topic"), max_length=300, blank=True)
    device_code = models.CharField(_("device id"), max_length=64, blank=True, db_index=True)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               db_constraint=False)
    reason = models.CharField(_("reason"), max_length=16, choices=DeadLetterReason.choices, db_index=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    payload = models.TextField(_("payload"), blank=True)
    payload_encoding = models.CharField(_("payload encoding"), max_length=8, default="text",
                                        help_text=_("text, or base64 for bytes that are not text"))
    replayed_at = models.DateTimeField(_("replayed at"), null=True, blank=True)
    replay_result = models.CharField(_("replay result"), max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")

    def __str__(self):
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.reason} {self.device_code}"

    @property
    def payload_bytes(self) -> bytes:
        """The payload as it arrived (for replay and download)."""
        import base64

        if self.payload_encoding == "base64":
            return base64.b64decode(self.payload)
        return self.payload.encode("utf-8")
