"""The bureau edits the rule data here: checklist templates (with items) and frequency rules."""
from django.contrib import admin

from apps.core.audit import acting_as

from .models import (
    Campaign,
    CampaignResponsible,
    CampaignStage,
    CampaignTask,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    DutyShift,
    FrequencyRule,
    InspectionSlot,
    SecurityPeriod,
)


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        with acting_as(request.user):
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        with acting_as(request.user):
            super().save_formset(request, form, formset, change)


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 1
    fields = ["order", "category", "text", "guidance", "basis", "counts_toward_major"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(AuditedAdmin):
    list_display = ["name", "code", "version", "purpose", "is_active"]
    list_filter = ["purpose", "is_active"]
    search_fields = ["name", "code"]
    inlines = [ChecklistItemInline]


@admin.register(FrequencyRule)
class FrequencyRuleAdmin(AuditedAdmin):
    list_display = ["institution_kind", "version", "is_active", "daily_patrols", "night_interval_hours",
                    "inspection_interval_days", "self_assessment_interval_days"]
    list_filter = ["is_active"]


@admin.register(Checkpoint)
class CheckpointAdmin(AuditedAdmin):
    list_display = ["name", "institution", "location", "is_active"]
    search_fields = ["name", "institution__name"]
    raw_id_fields = ["institution"]


class StageInline(admin.TabularInline):
    model = CampaignStage
    extra = 0


class ResponsibleInline(admin.TabularInline):
    model = CampaignResponsible
    extra = 0
    raw_id_fields = ["institution"]


class TaskInline(admin.TabularInline):
    model = CampaignTask
    extra = 0
    raw_id_fields = ["assignee_institution"]


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    list_display = ["name", "owner_org", "starts_on", "ends_on"]
    filter_horizontal = ["townships"]
    inlines = [StageInline, ResponsibleInline, TaskInline]


class SlotInline(admin.TabularInline):
    model = InspectionSlot
    extra = 0
    raw_id_fields = ["institution"]


class ShiftInline(admin.TabularInline):
    model = DutyShift
    extra = 0
    raw_id_fields = ["institution"]


@admin.register(SecurityPeriod)
class SecurityPeriodAdmin(AuditedAdmin):
    list_display = ["name", "event", "owner_org", "starts_at", "ends_at"]
    filter_horizontal = ["townships", "key_places"]
    inlines = [SlotInline, ShiftInline]
