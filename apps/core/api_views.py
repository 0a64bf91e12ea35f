import django_filters
from django.utils import timezone
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .api import HasCapability
from .models import AuditEntry, Notification


class AuditEntrySerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = ["id", "time", "actor_name", "organization_name", "action", "object_type", "object_id",
                  "object_repr", "institution", "before", "after", "request_id", "remote_addr", "prev_hash", "hash"]

    def get_object_type(self, obj) -> str:
        ct = obj.content_type
        return f"{ct.app_label}.{ct.model}" if ct else ""


class AuditEntryFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="actor_name", lookup_expr="iexact")
    action = django_filters.CharFilter(field_name="action")
    object_id = django_filters.CharFilter(field_name="object_id")
    object_type = django_filters.CharFilter(method="filter_type")
    since = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lte")

    class Meta:
        model = AuditEntry
        fields = ["institution"]

    def filter_type(self, queryset, name, value):
        app, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app, content_type__model=model)


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The trail, read-only, for bureau roles."""

    serializer_class = AuditEntrySerializer
    permission_classes = [HasCapability]
    read_capability = "audit.search"
    filterset_class = AuditEntryFilterSet
    ordering = ["-id"]

    def get_queryset(self):
        return AuditEntry.objects.visible_to(self.request.user).select_related("content_type").order_by("-id")


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "verb", "title", "body", "url", "target_id", "created", "read_at"]


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The requesting user's own notifications."""

    serializer_class = NotificationSerializer

    queryset = Notification.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user)

    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        note = self.get_object()
        if note.read_at is None:
            note.read_at = timezone.now()
            note.save(update_fields=["read_at"])
        return Response(NotificationSerializer(note).data)
