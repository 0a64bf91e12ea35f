import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
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


class ExportJobSerializer(serializers.Serializer):
    """An export job as ``apps.core.exports.status`` answers it."""

    id = serializers.IntegerField()
    list = serializers.CharField()
    format = serializers.ChoiceField(choices=["xlsx", "csv"])
    state = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    state_label = serializers.CharField()
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()
    finished = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField()
    download_url = serializers.CharField(allow_null=True)
    api_url = serializers.CharField()
    api_download_url = serializers.CharField(allow_null=True)


def job_body(job):
    from django.urls import reverse

    from .exports import status
    from .models import ExportJob

    body = status(job)
    body["api_url"] = reverse("export-job-detail", args=[job.pk])
    body["api_download_url"] = (reverse("export-job-download", args=[job.pk])
                                if job.state == ExportJob.State.DONE else None)
    return body


class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own export jobs (a list export above ``EXPORT_SYNC_LIMIT`` rows); anyone else's: 404."""

    serializer_class = ExportJobSerializer

    def get_queryset(self):
        from .models import ExportJob

        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return ExportJob.objects.none()
        return ExportJob.objects.filter(owner=self.request.user).order_by("-created", "-id")

    def initial(self, request, *args, **kwargs):
        from django.utils.translation import gettext as _

        from .badinput import valid_id

        super().initial(request, *args, **kwargs)
        pk = self.kwargs.get("pk")
        if pk is not None and not valid_id(pk):
            raise serializers.ValidationError({"id": [_("The id must be a positive whole number.")]})

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([job_body(job) for job in page])

    def retrieve(self, request, *args, **kwargs):
        return Response(job_body(self.get_object()))

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        from django.http import Http404

        from .audit import record_download
        from .files import serve_file
        from .models import ExportJob

        job = self.get_object()
        if job.state != ExportJob.State.DONE or not job.file:
            raise Http404
        response = serve_file(job.file, filename=job.filename, as_attachment=True)
        record_download(job.filename, rows=job.rows_done, job=job.pk)
        return response
