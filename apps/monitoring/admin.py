from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Alarm, DeadLetter, Device, ThresholdRule


@admin.register(ThresholdRule)
class ThresholdRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "device_kind", "channel", "threshold", "consecutive", "severity", "clear_after_minutes",
                    "hazard_after_minutes", "hazard_after_repeats", "verify_days", "is_active", "version"]
    list_filter = ["channel", "device_kind", "is_active"]
    readonly_fields = ["version", "updated"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "institution", "kind", "location", "last_seen", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "institution__name"]
    raw_id_fields = ["institution", "building"]
    readonly_fields = ["last_seen", "token_rotated_at"]
    actions = ["issue_tokens"]

    @admin.action(description=_("Issue new device tokens (shown once)"))
    def issue_tokens(self, request, queryset):
        from django.contrib import messages
        from django.db import transaction

        from apps.core.audit import acting_as

        issued = []
        with transaction.atomic(), acting_as(request.user):
            for device in queryset:
                issued.append(f"{device.code}: {device.rotate_token()}")
                device.save(update_fields=["token_hash", "token_rotated_at", "mqtt_password_hash"])
        self.message_user(request, "; ".join(issued), messages.WARNING)


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ["device", "institution", "kind", "channel", "severity", "state", "opened_at", "count", "peak"]
    list_filter = ["state", "severity", "kind"]
    raw_id_fields = ["device", "institution", "hazard", "rule", "acknowledged_by", "cleared_by"]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "reason", "device_code", "detail"]
    list_filter = ["reason", "source"]
    search_fields = ["device_code", "detail", "topic"]
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
