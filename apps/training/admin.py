from django.contrib import admin

from .models import DrillRule, ObligationRule


@admin.register(ObligationRule)
class ObligationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "obligation", "institution_kind", "interval_days", "grace_days", "warn_days",
                    "version", "is_active"]
    list_filter = ["obligation", "institution_kind", "is_active"]


@admin.register(DrillRule)
class DrillRuleAdmin(admin.ModelAdmin):
    list_display = ["institution_kind", "key_units", "interval_days", "basis", "version", "is_active"]
