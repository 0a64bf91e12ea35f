from django.contrib import admin

from .models import AssessmentQuestion, FacilityRequirement, RiskFactor, RiskModel


class RiskFactorInline(admin.TabularInline):
    model = RiskFactor
    extra = 0
    fields = ["order", "key", "label", "group", "provider", "metric", "weight", "start_at", "full_at", "invert",
              "min_level", "lift_rule", "institution_kinds", "countermeasure", "is_active"]


@admin.register(RiskModel)
class RiskModelAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "is_active", "red_from", "orange_from", "yellow_from"]
    inlines = [RiskFactorInline]


@admin.register(AssessmentQuestion)
class AssessmentQuestionAdmin(admin.ModelAdmin):
    list_display = ["order", "code", "group", "text", "is_active"]
    list_editable = ["is_active"]


@admin.register(FacilityRequirement)
class FacilityRequirementAdmin(admin.ModelAdmin):
    list_display = ["facility", "source", "clause", "verified", "min_beds", "min_floor_area_m2", "is_active"]
    list_filter = ["facility", "verified", "is_active"]
