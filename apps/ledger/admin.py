from django.contrib import admin

from .models import Building, Institution, PersonChange


class BuildingInline(admin.TabularInline):
    model = Building
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "township", "beds", "residents", "is_key_unit"]
    list_filter = ["kind", "township", "nature", "is_key_unit"]
    search_fields = ["name", "address", "credit_code"]
    list_select_related = ["township"]
    inlines = [BuildingInline]


admin.site.register(PersonChange)
