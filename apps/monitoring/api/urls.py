from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from apps.core.api import ExportMixin, ScopedModelViewSet, ScopedReadOnlyViewSet, run_service
from apps.core.lean import Computed, LeanListMixin, UrlTemplate
from apps.monitoring import services
from apps.monitoring.charts import hourly_rows
from apps.monitoring.choices import CHANNEL_NAMES, CHANNELS, OPEN_ALARM_STATES
from apps.monitoring.filters import AlarmFilter, DeviceFilter
from apps.monitoring.ingest import ingest_batch
from apps.monitoring.models import Alarm, Device, Reading, ThresholdRule, hash_token, last_values_of
from apps.monitoring.views import AlarmListView, DeviceListView

from .serializers import (
    AcknowledgeSerializer,
    AlarmSerializer,
    ClearSerializer,
    DeviceSerializer,
    RangeSerializer,
    ThresholdRuleSerializer,
)

MAX_BATCH = 1000
MAX_POINTS = 10000


def _series(name):
    return inline_serializer(name, fields={
        "device": serializers.IntegerField(), "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField(), "count": serializers.IntegerField(),
        "results": serializers.ListField(child=serializers.DictField())})


def _device_offline(row):
    if not row["is_active"]:
        return False
    seen = row["last_seen"]
    return seen is None or seen < timezone.now() - timedelta(minutes=row["offline_after_minutes"])


class DeviceViewSet(ExportMixin, LeanListMixin, ScopedReadOnlyViewSet):
    """Monitoring devices within the caller's scope; ``readings`` and ``rollups`` by time range."""

    export_view = DeviceListView
    queryset = Device.objects.select_related("institution").annotate(
        open_alarms=Count("alarms", filter=Q(alarms__state__in=OPEN_ALARM_STATES))).with_last_values()
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    ordering = ["code"]
    lean_annotations = ("open_alarms",)
    lean_fields = {"offline": Computed(("is_active", "last_seen", "offline_after_minutes"), _device_offline),
                   "last_values": Computed(("last_reading",), lambda row: last_values_of(row["last_reading"]))}

    def _range(self, request):
        ser = RangeSerializer(data=request.query_params)
        ser.is_valid(raise_exception=True)
        end = ser.validated_data.get("end") or timezone.now()
        start = ser.validated_data.get("start") or end - timedelta(days=1)
        return start, end, ser.validated_data.get("channel")

    @extend_schema(parameters=[RangeSerializer], responses=_series("DeviceReadings"))
    @action(detail=True)
    def readings(self, request, pk=None):
        device = self.get_object()
        start, end, _channel = self._range(request)
        rows = (Reading.objects.filter(device=device, ts__gte=start, ts__lt=end).order_by("ts")
                .values_list("ts", *CHANNEL_NAMES)[:MAX_POINTS])
        data = [{"ts": r[0], **{c: v for c, v in zip(CHANNEL_NAMES, r[1:], strict=True) if v is not None}}
                for r in rows]
        return Response({"device": device.pk, "start": start, "end": end, "count": len(data), "results": data})

    @extend_schema(parameters=[RangeSerializer], responses=_series("DeviceRollups"))
    @action(detail=True)
    def rollups(self, request, pk=None):
        device = self.get_object()
        start, end, channel = self._range(request)
        # The hours the rollup job has not done yet come from the raw readings: exact either way.
        rows = [r for r in hourly_rows(device, start, end, [channel] if channel else None)
                if start <= r[1] < end][:MAX_POINTS]
        data = [{"channel": c, "hour": h, "min": lo, "max": hi, "avg": s / n if n else None, "count": n}
                for c, h, lo, hi, s, n in rows]
        return Response({"device": device.pk, "start": start, "end": end, "count": len(data), "results": data})


class AlarmViewSet(ExportMixin, LeanListMixin, ScopedReadOnlyViewSet):
    """Alarms within the caller's scope (filters ``township``, ``institution``, ``state``, ``severity``)."""

    export_view = AlarmListView
    queryset = Alarm.objects.select_related("device", "institution")
    serializer_class = AlarmSerializer
    filterset_class = AlarmFilter
    ordering = ["-opened_at", "-id"]
    lean_fields = {"url": UrlTemplate("monitoring:alarm_detail")}

    def _act(self, request, serializer_class, fn):
        alarm = self.get_object()
        if not request.user.can("alarm.handle"):
            raise PermissionDenied(_("Your role may not do this."))
        ser = serializer_class(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            fn(alarm, request.user, *ser.validated_data.values())
        except services.StillOverThreshold as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_409_CONFLICT)
        except ValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response(AlarmSerializer(alarm, context={"request": request}).data)

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(request, AcknowledgeSerializer, services.acknowledge)

    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        return self._act(request, ClearSerializer, services.clear)


class DeviceTokenAuthentication(BaseAuthentication):
    """``Authorization: Device <token>``: authenticates a device (not a user)."""

    keyword = b"device"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Invalid device token header."))
        device = Device.objects.filter(token_hash=hash_token(parts[1].decode("latin-1")), is_active=True).first()
        if device is None:
            raise AuthenticationFailed(_("Invalid device token."))
        return (None, device)

    def authenticate_header(self, request):
        return "Device"


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Device <token>`: the device's own token (not a user's)."}


_READING = {
    "type": "object",
    "required": ["ts", "values"],
    "properties": {
        "device": {"type": "string", "description": "device code; the token's device when left out"},
        "ts": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
               "description": "ISO 8601 with a time zone, or epoch seconds; from the year 2000 on"},
        "values": {"type": "object", "minProperties": 1, "additionalProperties": False,
                   "properties": {name: {"type": "number", "minimum": lo, "maximum": hi}
                                  for name, (lo, hi) in CHANNELS.items()},
                   "description": "channel → value (see docs/ingest.md)"},
    },
}
_BATCH = {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": _READING}
_RESULT = {
    "type": "object",
    "required": ["stored", "duplicates", "rejected", "results"],
    "properties": {
        "stored": {"type": "integer"}, "duplicates": {"type": "integer"}, "rejected": {"type": "integer"},
        "results": {"type": "array", "items": {
            "type": "object", "required": ["index", "status"],
            "properties": {"index": {"type": "integer"}, "status": {"type": "string",
                                                                    "enum": ["stored", "duplicate", "rejected"]},
                           "reason": {"type": "string"}, "detail": {"type": "string"}}}},
    },
}
_DETAIL = {"type": "object", "required": ["detail"], "properties": {"detail": {}}}


class IngestView(APIView):
    """POST a batch of readings as the device; answers one result per item (stored/duplicate/rejected)."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = []

    @extend_schema(
        operation_id="ingest_readings",
        request={"application/json": {"oneOf": [
            _BATCH, {"type": "object", "required": ["readings"], "properties": {"readings": _BATCH}}]}},
        responses={
            200: OpenApiResponse(_RESULT, description="at least one reading stored or already stored"),
            400: OpenApiResponse({"anyOf": [_RESULT, _DETAIL]}, description="nothing stored: the reasons"),
            401: OpenApiResponse(_DETAIL, description="no or wrong device token"),
            403: OpenApiResponse(_RESULT, description="every reading named another device"),
            413: OpenApiResponse(_DETAIL, description=f"more than {MAX_BATCH} readings"),
        },
        examples=[OpenApiExample("one reading", request_only=True, value={"readings": [
            {"ts": "2026-11-30T08:00:00+08:00", "values": {"ia": 12.5, "t1": 31.0}}]})],
    )
    def post(self, request):
        device = request.auth
        if not isinstance(device, Device):
            raise AuthenticationFailed(_("Invalid device token."))
        body = request.data
        items = body.get("readings") if isinstance(body, dict) else body
        if not isinstance(items, list) or not items:
            return Response({"detail": _("Send a list of readings (or {\"readings\": [...]}).")},
                            status=status.HTTP_400_BAD_REQUEST)
        if len(items) > MAX_BATCH:
            return Response({"detail": _("At most %(n)s readings per request.") % {"n": MAX_BATCH}},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        result = ingest_batch(items, source="http", auth_device=device)
        code = status.HTTP_200_OK if result.stored or result.duplicates else status.HTTP_400_BAD_REQUEST
        if any(it.reason == "other_device" for it in result.items) and not result.stored and not result.duplicates:
            code = status.HTTP_403_FORBIDDEN
        return Response({"stored": result.stored, "duplicates": result.duplicates, "rejected": result.rejected,
                         "results": result.as_dicts()}, status=code)


class ThresholdRuleViewSet(ScopedModelViewSet):
    """Alarm thresholds by level: the platform default, those of the administrations above the
    caller and (bureau roles) under it, with ``administration_name`` (来源). Adding or changing one
    is for the caller's own administration (``threshold.override``); a rule loosening one a higher
    level set by law is refused with a reason (400)."""

    queryset = ThresholdRule.objects.select_related("administration")
    serializer_class = ThresholdRuleSerializer
    ordering = ["channel", "device_kind", "id"]
    write_capability = "threshold.override"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def _save(self, serializer):
        rule = serializer.instance or ThresholdRule()
        for key, value in serializer.validated_data.items():
            setattr(rule, key, value)
        serializer.instance = run_service(services.save_threshold_rule, self.request.user, rule)

    perform_create = perform_update = _save


router = DefaultRouter(trailing_slash=True)
router.register("devices", DeviceViewSet, basename="monitoring-device")
router.register("alarms", AlarmViewSet, basename="monitoring-alarm")
router.register("thresholds", ThresholdRuleViewSet, basename="monitoring-threshold")
urlpatterns = [path("ingest/readings/", IngestView.as_view(), name="monitoring-ingest"), *router.urls]
