from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Organization, User


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "order"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "role", "organization", "institution", "is_active"]
    list_filter = ["role", "organization", "is_active"]
    search_fields = ["username", "full_name", "phone"]
    list_select_related = ["organization", "institution"]
    autocomplete_fields = ["institution"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Role and organisation"), {"fields": ("full_name", "phone", "role", "organization", "institution")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Role and organisation"), {"fields": ("full_name", "phone", "role", "organization", "institution")}),
    )
