import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Alarm, DeadLetter, Device, PayloadProfile, ThresholdRule


class ProfileTestForm(forms.Form):
    topic = forms.CharField(label=_("Topic"), required=False, max_length=300,
                            widget=forms.TextInput(attrs={"size": 60}))
    sample = forms.CharField(label=_("Sample payload"), max_length=100_000,
                             widget=forms.Textarea(attrs={"rows": 12, "cols": 90}))


@admin.register(PayloadProfile)
class PayloadProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "topic", "time_format", "priority", "is_active", "test_box_link"]
    list_filter = ["is_active"]
    readonly_fields = ["updated", "test_box_link"]
    fieldsets = [
        (None, {"fields": ["name", "code", "is_active", "priority", "topic", "test_box_link"]}),
        (_("Where things are"), {"fields": ["records", "device", "time", "time_format", "values", "flat_fallback",
                                            "seq", "token", "event", "event_channel", "user_is_token"]}),
        (_("Property array"), {"fields": ["properties", "property_key", "property_value", "property_unit",
                                          "property_time"]}),
        (_("Channels and values"), {"fields": ["channels", "scale", "placeholders", "unknown_keys"]}),
    ]

    @admin.display(description=_("Test box"))
    def test_box_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:monitoring_payloadprofile_test", args=[obj.pk]),
                           _("Try a sample payload"))

    def get_urls(self):
        extra = [path("<int:pk>/test/", self.admin_site.admin_view(self.test_box),
                      name="monitoring_payloadprofile_test")]
        return extra + super().get_urls()

    def test_box(self, request, pk):
        """What a pasted sample payload becomes under this profile (nothing is stored)."""
        from .adapters import preview

        obj = get_object_or_404(PayloadProfile, pk=pk)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        form = ProfileTestForm(request.POST or None)
        results = None
        if request.method == "POST" and form.is_valid():
            results = preview(form.cleaned_data["sample"], obj.as_profile(), topic=form.cleaned_data["topic"])
            for r in results:
                if r.get("ok"):
                    r["values_text"] = json.dumps(r["values"], ensure_ascii=False)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": obj,
                   "title": _("Test box: %(name)s") % {"name": obj.name}, "form": form, "results": results}
        return TemplateResponse(request, "admin/monitoring/payloadprofile/test_box.html", context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from .ingest import forget_profiles

        forget_profiles()


@admin.register(ThresholdRule)
class ThresholdRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "device_kind", "channel", "threshold", "consecutive", "severity", "clear_after_minutes",
                    "hazard_after_minutes", "hazard_after_repeats", "verify_days", "is_active", "version",
                    "administration", "overridable"]
    list_filter = ["channel", "device_kind", "is_active", "overridable"]
    readonly_fields = ["version", "updated"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "institution", "kind", "location", "last_seen", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "institution__name"]
    raw_id_fields = ["institution", "building"]
    readonly_fields = ["last_seen", "token_rotated_at", "clock_offset_seconds", "seq_missing"]
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
    list_display = ["received_at", "source", "reason", "device_code", "detail", "replay_result"]
    list_filter = ["reason", "source"]
    search_fields = ["device_code", "detail", "topic"]
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
