from django.contrib import admin

from .models import AuditEntry, WebhookEndpoint


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only."""

    list_display = ["time", "actor_name", "action", "object_repr"]
    list_filter = ["action"]
    search_fields = ["actor_name", "object_repr"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "format", "organization", "is_active"]
