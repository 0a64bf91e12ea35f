from django.core.validators import MinValueValidator
from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.monitoring.ingest import MIN_TS
from apps.monitoring.models import Alarm, Device, ThresholdRule


class DeviceSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    township = serializers.IntegerField(source="institution.township_id", read_only=True)
    offline = serializers.SerializerMethodField()
    open_alarms = serializers.IntegerField(read_only=True)
    last_values = serializers.DictField(
        read_only=True, help_text="The newest reading's values by channel, and its time as \"ts\" ({} before the first).")

    class Meta:
        model = Device
        fields = ["id", "code", "name", "model", "kind", "institution", "institution_name", "township", "building",
                  "location", "circuit", "channels", "thresholds", "installed_on", "offline_after_minutes",
                  "is_active", "last_seen", "last_values", "offline", "open_alarms", "token_rotated_at"]
        read_only_fields = fields

    def get_offline(self, obj) -> bool:
        return obj.is_offline


class AlarmSerializer(serializers.ModelSerializer):
    device_code = serializers.CharField(source="device.code", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Alarm
        fields = ["id", "device", "device_code", "institution", "institution_name", "kind", "channel", "severity",
                  "state", "threshold", "opened_at", "last_at", "count", "first_value", "last_value", "peak",
                  "acknowledged_at", "acknowledged_by", "acknowledge_note", "cleared_at", "cleared_by",
                  "clear_reason", "auto_cleared", "hazard", "url"]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ClearSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    still_over_confirmed = serializers.BooleanField(
        default=False, help_text="Required true to clear while the last reading is still over the threshold.")


class RangeSerializer(serializers.Serializer):
    # No reading is older than the ingest core's earliest time stamp (and before 1901 local times
    # carry a seconds offset that is not RFC 3339).
    start = serializers.DateTimeField(required=False, validators=[MinValueValidator(MIN_TS)])
    end = serializers.DateTimeField(required=False, validators=[MinValueValidator(MIN_TS)])
    channel = serializers.CharField(required=False)


class ThresholdRuleSerializer(serializers.ModelSerializer):
    """An alarm threshold with where it comes from (rules by level): ``administration`` is set by the
    platform to the caller's own administration when a rule is added."""

    administration_name = serializers.SerializerMethodField()

    class Meta:
        model = ThresholdRule
        fields = ["id", "name", "device_kind", "channel", "threshold", "consecutive", "severity",
                  "clear_after_minutes", "hazard_after_minutes", "hazard_after_repeats", "verify_days", "is_active",
                  "overridable", "administration", "administration_name", "version", "updated"]
        read_only_fields = ["administration", "administration_name", "version", "updated"]

    def validate_threshold(self, value):
        import math

        if not math.isfinite(value):
            raise serializers.ValidationError(_("Enter a finite number."))
        return value

    def get_administration_name(self, obj) -> str:
        from apps.orgs.rules import source_label

        return str(source_label(obj))
