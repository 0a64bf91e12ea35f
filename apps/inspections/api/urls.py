"""REST API of inspections, patrols, campaigns and festival security (lists carry an ``id`` per row)."""
import datetime

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from apps.core import policy
from apps.core.api import ScopedModelViewSet, ScopedReadOnlyViewSet
from apps.core.lean import LeanListMixin
from apps.core.services import from_serializer
from apps.inspections import services
from apps.inspections.compliance import missed_patrols
from apps.inspections.filters import (
    CampaignFilter,
    CheckpointFilter,
    DutyShiftFilter,
    InspectionFilter,
    PatrolFilter,
    TemplateFilter,
)
from apps.inspections.models import (
    Campaign,
    CampaignResponsible,
    CampaignStage,
    CampaignTask,
    ChecklistTemplate,
    Checkpoint,
    DutyShift,
    FrequencyRule,
    Inspection,
    InspectionSlot,
    PatrolRound,
    SecurityPeriod,
)
from apps.inspections.progress import campaign_progress, progress_area
from apps.ledger.models import Institution
from apps.orgs.rulepages import rule_viewset

from .serializers import (
    CampaignResponsibleSerializer,
    CampaignSerializer,
    CampaignStageWriteSerializer,
    CampaignTaskSerializer,
    ChecklistTemplateSerializer,
    CheckpointSerializer,
    DutyShiftSerializer,
    FrequencyRuleSerializer,
    InspectionSerializer,
    InspectionSlotSerializer,
    OfflineConflictSerializer,
    OfflineInspectionSerializer,
    OfflineResultSerializer,
    OfflineRoundSerializer,
    OfflineVisitSerializer,
    PatrolRoundSerializer,
    SecurityPeriodSerializer,
    SubmitSerializer,
    VisitCreateSerializer,
)


def _drf_error(exc):
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"detail": exc.messages})


def _run(fn, *args, **kwargs):
    """Call a service, turning Django's errors into 400/403 answers with a reason."""
    try:
        return fn(*args, **kwargs)
    except DjangoValidationError as exc:
        raise _drf_error(exc) from exc
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from exc


def _conflict(exc):
    """A record sent from the offline app that changed meanwhile: 409 with the reason and what is stored."""
    return Response({"detail": exc.reason, "conflict": True, "current": exc.current}, status=status.HTTP_409_CONFLICT)


class ChecklistTemplateViewSet(ScopedReadOnlyViewSet):
    """Checklist templates with their items (edited by the bureau in the admin)."""

    queryset = ChecklistTemplate.objects.prefetch_related("items")
    serializer_class = ChecklistTemplateSerializer
    filterset_class = TemplateFilter


class InspectionViewSet(LeanListMixin, ScopedModelViewSet):
    """Inspections in the caller's scope. POST starts one; POST ``{id}/submit/`` records results, photos,
    signatures and opens a hazard per failed item not fixed on the spot."""

    queryset = Inspection.objects.select_related("institution", "office").prefetch_related("items")
    serializer_class = InspectionSerializer
    filterset_class = InspectionFilter
    http_method_names = ["get", "post", "head", "options"]
    ordering = ["-inspected_on", "-id"]
    lean_nested = {"items": ("inspection", "order", "id")}

    def perform_create(self, serializer):
        data = serializer.validated_data
        if not self.request.user.can("inspection.record", serializer.validated_data["institution"]):
            raise PermissionDenied()
        serializer.instance = _run(services.start_inspection, self.request.user, data["institution"],
                                   data["template"], kind=data.get("kind"), inspected_on=data.get("inspected_on"),
                                   campaign=data.get("campaign"))

    @extend_schema(request=OfflineInspectionSerializer, responses={
        200: OfflineResultSerializer, 201: OfflineResultSerializer, 409: OfflineConflictSerializer})
    @action(detail=False, methods=["post"], url_path="offline")
    def offline(self, request):
        """A checklist filled in without signal (the day's patrol checklist or a self-inspection on the offline
        app): started and submitted at once, signed at the phone's ``recorded_at``, stored once per ``key``
        (200 when stored before, 409 when the checklist changed since the phone loaded it)."""
        body = OfflineInspectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        institution = Institution.objects.visible_to(request.user).filter(pk=data["institution"]).first()
        if institution is None:
            raise NotFound()
        template = ChecklistTemplate.objects.filter(pk=data["template"]).first()
        if template is None:
            raise serializers.ValidationError({"template": _("The checklist no longer exists.")})
        known = Inspection.objects.filter(client_key=data["key"]).values_list("institution_id", flat=True).first()
        if known is not None and not Institution.objects.visible_to(request.user).filter(pk=known).exists():
            raise NotFound()
        results = {}
        for row in data["results"]:
            row = dict(row)
            item_id = row.pop("item")
            row["photos"] = request.FILES.getlist(f"photo-{item_id}")
            results[item_id] = row
        try:
            inspection, created = _run(
                services.sync_inspection, request.user, key=data["key"], institution=institution, template=template,
                inspected_on=data["inspected_on"], results=results, inspector_name=data["inspector_name"],
                responsible_name=data["responsible_name"], summary=data["summary"], recorded_at=data["recorded_at"])
        except services.SyncConflict as exc:
            return _conflict(exc)
        return Response({"id": inspection.pk, "key": data["key"], "created": created,
                         "url": inspection.get_absolute_url()},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=SubmitSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        inspection = self.get_object()
        if not request.user.can("inspection.submit", inspection):  # before the body is read
            raise PermissionDenied("；".join(str(r) for r in policy.refusals(request.user, "inspection.submit",
                                                                             inspection)))
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = {}
        for row in body.validated_data["results"]:
            row = dict(row)
            item_id = str(row.pop("item"))
            row["photo"] = request.FILES.get(f"photo-{item_id}")
            results[item_id] = row
        _run(services.submit_inspection, request.user, inspection, results,
             inspector_name=body.validated_data["inspector_name"],
             responsible_name=body.validated_data["responsible_name"], summary=body.validated_data["summary"])
        inspection = self.get_queryset().get(pk=inspection.pk)
        return Response(self.get_serializer(inspection).data)


class CheckpointViewSet(ScopedModelViewSet):
    queryset = Checkpoint.objects.select_related("institution")
    serializer_class = CheckpointSerializer
    filterset_class = CheckpointFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = _run(services.create_checkpoint, self.request.user, data["institution"],
                                   name=data["name"], location=data.get("location", ""), order=data.get("order", 0))

    def perform_update(self, serializer):
        serializer.instance = _run(services.update_checkpoint, self.request.user, serializer.instance,
                                   **serializer.validated_data)

    def perform_destroy(self, instance):
        _run(services.delete_checkpoint, self.request.user, instance)


class PatrolRoundViewSet(ScopedModelViewSet):
    """Patrol rounds with the time at each checkpoint. POST ``{id}/visits/`` records a checkpoint;
    GET ``missed/`` lists missed patrols derived from the records (``?since=YYYY-MM-DD``)."""

    queryset = PatrolRound.objects.select_related("institution").prefetch_related("visits")
    serializer_class = PatrolRoundSerializer
    filterset_class = PatrolFilter
    http_method_names = ["get", "post", "head", "options"]
    ordering = ["-started_at", "-id"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = _run(services.start_patrol, self.request.user, data["institution"],
                                   patroller_name=data.get("patroller_name", ""), started_at=data.get("started_at"),
                                   supervisor_name=data.get("supervisor_name", ""))

    @extend_schema(request=VisitCreateSerializer)
    @action(detail=True, methods=["post"])
    def visits(self, request, pk=None):
        patrol = self.get_object()
        body = VisitCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        checkpoint = Checkpoint.objects.visible_to(request.user).filter(pk=data["checkpoint"]).first()
        if checkpoint is None:
            raise serializers.ValidationError({"checkpoint": "检查点不存在。"})
        _run(services.record_visit, request.user, patrol, checkpoint, visited_at=data.get("visited_at"),
             ok=data["ok"], finding=data["finding"], photo=data.get("photo"), open_hazard=data["open_hazard"])
        return Response(self.get_serializer(self.get_queryset().get(pk=patrol.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=OfflineRoundSerializer, responses={200: OfflineResultSerializer, 201: OfflineResultSerializer,
                                                                 409: OfflineConflictSerializer})
    @action(detail=False, methods=["post"], url_path="offline")
    def offline_round(self, request):
        """A round recorded without signal, sent later: stored once per ``key`` with its own start time
        (200 when this key was stored before, 409 when stored with other facts)."""
        body = OfflineRoundSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        institution = Institution.objects.visible_to(request.user).filter(pk=data["institution"]).first()
        if institution is None:
            raise NotFound()
        known = PatrolRound.objects.filter(client_key=data["key"]).values_list("institution_id", flat=True).first()
        if known is not None and not Institution.objects.visible_to(request.user).filter(pk=known).exists():
            raise NotFound()
        try:
            patrol, created = _run(services.sync_round, request.user, key=data["key"], institution=institution,
                                   started_at=data["started_at"], patroller_name=data["patroller_name"],
                                   supervisor_name=data["supervisor_name"])
        except services.SyncConflict as exc:
            return _conflict(exc)
        return Response({"id": patrol.pk, "key": data["key"], "created": created, "url": patrol.get_absolute_url()},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=OfflineVisitSerializer, responses={200: OfflineResultSerializer, 201: OfflineResultSerializer,
                                                                 409: OfflineConflictSerializer})
    @action(detail=False, methods=["post"], url_path="offline-visits")
    def offline_visit(self, request):
        """A checkpoint visit recorded without signal, after its round: stored once per ``key`` with its
        own time; 409 with what changed when the checkpoint was renamed, moved or retired meanwhile."""
        body = OfflineVisitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        patrol = self.get_queryset().filter(client_key=data["round_key"]).first()
        if patrol is None:
            raise NotFound(_("The round of this visit has not arrived (send the round first)."))
        checkpoint = Checkpoint.objects.visible_to(request.user).filter(pk=data["checkpoint"]).first()
        if checkpoint is None:
            raise serializers.ValidationError({"checkpoint": _("The checkpoint no longer exists.")})
        try:
            visit, created = _run(services.sync_visit, request.user, key=data["key"], patrol=patrol,
                                  checkpoint=checkpoint, visited_at=data["visited_at"], ok=data["ok"],
                                  finding=data["finding"], photo=data.get("photo"), open_hazard=data["open_hazard"],
                                  seen_name=data.get("checkpoint_name"), seen_location=data.get("checkpoint_location"),
                                  force=data["force"])
        except services.SyncConflict as exc:
            return _conflict(exc)
        return Response({"id": visit.pk, "key": data["key"], "created": created, "url": visit.get_absolute_url()},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses=inline_serializer("MissedPatrols", fields={
        "count": serializers.IntegerField(),
        "results": inline_serializer("MissedPatrol", many=True, fields={
            "institution": serializers.IntegerField(), "kind": serializers.CharField(),
            "day": serializers.DateField(), "gap_from": serializers.DateTimeField(allow_null=True),
            "gap_to": serializers.DateTimeField(allow_null=True), "gap_hours": serializers.FloatField(allow_null=True),
            "rounds": serializers.IntegerField()}),
    }))
    @action(detail=False, methods=["get"])
    def missed(self, request):
        today = timezone.localdate()
        try:
            since = datetime.date.fromisoformat(request.query_params.get("since", ""))
        except ValueError:
            since = today - datetime.timedelta(days=30)
        since = max(since, today - datetime.timedelta(days=92))
        qs = Institution.objects.visible_to(request.user).filter(is_active=True).only("id", "kind")
        for key in ("township", "institution"):
            value = request.query_params.get(key)
            if value and value.isdigit():
                qs = qs.filter(**{"township_id" if key == "township" else "pk": value})
        found = missed_patrols(list(qs), since, today)
        rows = [{"institution": m.institution_id, "kind": m.kind, "day": m.day, "gap_from": m.gap_from,
                 "gap_to": m.gap_to, "gap_hours": m.gap_hours, "rounds": m.rounds}
                for misses in found.values() for m in misses]
        rows.sort(key=lambda r: (r["day"], r["institution"]), reverse=True)
        return Response({"count": len(rows), "results": rows})


class CampaignViewSet(ScopedModelViewSet):
    """Campaigns (专项行动). GET ``{id}/progress/`` answers the progress per unit computed from the records."""

    queryset = Campaign.objects.select_related("owner_org").prefetch_related("townships", "stages")
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    write_capability = "campaign.run"  # the role, before the body is read; the object in the service

    def perform_create(self, serializer):
        serializer.instance = _run(services.save_drive, self.request.user, *from_serializer(serializer))

    def perform_update(self, serializer):
        serializer.instance = _run(services.save_drive, self.request.user, *from_serializer(serializer))

    def perform_destroy(self, instance):
        _run(services.remove_drive, self.request.user, instance)

    @extend_schema(parameters=[OpenApiParameter("area", int, description=(
        "An organisation the caller sees (a district, a township): only the institutions under it; "
        "the roll-up is then one level below it."))],
        responses=inline_serializer("CampaignProgress", fields={
        "totals": serializers.DictField(),
        "rollup": inline_serializer("CampaignProgressRollup", many=True, fields={
            "unit": serializers.IntegerField(allow_null=True), "unit_name": serializers.CharField(),
            "unit_kind": serializers.CharField(), "institutions": serializers.IntegerField(),
            "inspected": serializers.IntegerField(), "inspected_share": serializers.IntegerField(),
            "found": serializers.IntegerField(), "rectified": serializers.IntegerField(),
            "closed": serializers.IntegerField(), "overdue": serializers.IntegerField()}),
        "rows": inline_serializer("CampaignProgressRow", many=True, fields={
            "institution": serializers.IntegerField(), "institution_name": serializers.CharField(),
            "township": serializers.CharField(), "responsible": serializers.CharField(),
            "inspected": serializers.BooleanField(), "found": serializers.IntegerField(),
            "rectified": serializers.IntegerField(), "closed": serializers.IntegerField(),
            "overdue": serializers.IntegerField()}),
    }))
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        campaign = self.get_object()
        try:
            area = progress_area(request.user, request.query_params.get("area"))
        except LookupError:
            raise NotFound(_("No such organisation in your scope.")) from None
        data = campaign_progress(campaign, request.user, timezone.localdate(), area)
        rollup = [{"unit": g["unit_id"], "unit_name": g["unit"].name if g["unit"] else "",
                   "unit_kind": g["unit"].kind if g["unit"] else "", "institutions": g["institutions"],
                   "inspected": g["inspected"], "inspected_share": g["inspected_share"], "found": g["found"],
                   "rectified": g["rectified"], "closed": g["closed"], "overdue": g["overdue"]}
                  for g in data["rollup"]]
        rows = [{"institution": r["institution"].pk, "institution_name": r["institution"].name,
                 "township": r["institution"].township.name, "responsible": r["responsible"],
                 "inspected": r["inspected"], "found": r["found"], "rectified": r["rectified"],
                 "closed": r["closed"], "overdue": r["overdue"]} for r in data["rows"]]
        return Response({"totals": data["totals"], "rollup": rollup, "rows": rows})


class _OwnedChildViewSet(ScopedModelViewSet):
    """A row of a campaign or a security period: written by ``services.save_drive_row``."""

    write_capability = "campaign.run"  # the role, before the body is read; the drive in the service

    def perform_create(self, serializer):
        serializer.instance = _run(services.save_drive_row, self.request.user, *from_serializer(serializer))

    def perform_update(self, serializer):
        serializer.instance = _run(services.save_drive_row, self.request.user, *from_serializer(serializer))

    def perform_destroy(self, instance):
        _run(services.remove_drive_row, self.request.user, instance)


class CampaignTaskViewSet(_OwnedChildViewSet):
    queryset = CampaignTask.objects.select_related("campaign")
    serializer_class = CampaignTaskSerializer
    filterset_fields = ["campaign", "assignee_org", "assignee_institution"]


class CampaignResponsibleViewSet(_OwnedChildViewSet):
    """The named person in charge of a campaign at each institution in scope."""

    queryset = CampaignResponsible.objects.select_related("campaign", "institution")
    serializer_class = CampaignResponsibleSerializer
    filterset_fields = ["campaign", "institution"]


class CampaignStageViewSet(_OwnedChildViewSet):
    """The timetable stages (排查时间表) of a campaign."""

    queryset = CampaignStage.objects.select_related("campaign")
    serializer_class = CampaignStageWriteSerializer
    filterset_fields = ["campaign"]


class SecurityPeriodViewSet(ScopedModelViewSet):
    queryset = SecurityPeriod.objects.select_related("owner_org").prefetch_related("townships", "key_places")
    serializer_class = SecurityPeriodSerializer
    write_capability = "campaign.run"

    def perform_create(self, serializer):
        serializer.instance = _run(services.save_drive, self.request.user, *from_serializer(serializer))

    def perform_update(self, serializer):
        serializer.instance = _run(services.save_drive, self.request.user, *from_serializer(serializer))

    def perform_destroy(self, instance):
        _run(services.remove_drive, self.request.user, instance)


class DutyShiftViewSet(_OwnedChildViewSet):
    """The duty roster (值班值守); ``?on_duty_at=<ISO time>`` answers who is on duty then."""

    parent_field = "period"
    queryset = DutyShift.objects.select_related("period")
    serializer_class = DutyShiftSerializer
    filterset_class = DutyShiftFilter


class InspectionSlotViewSet(_OwnedChildViewSet):
    parent_field = "period"
    queryset = InspectionSlot.objects.select_related("period")
    serializer_class = InspectionSlotSerializer
    filterset_fields = ["period", "institution"]



class FrequencyRuleViewSet(rule_viewset(ScopedModelViewSet)):
    """Patrol/inspection frequencies by level: the platform default, those of the administrations
    above the caller and (bureau roles) under it, with ``administration_name`` (来源). Adding or
    changing one is for the caller's own administration (``frequency.override``); a rule asking less
    than one a higher level set by law is refused with the reason (400)."""

    queryset = FrequencyRule.objects.select_related("administration")
    serializer_class = FrequencyRuleSerializer
    ordering = ["institution_kind", "-version", "id"]
    write_capability = "frequency.override"
    service = staticmethod(services.save_frequency_rule)


router = DefaultRouter(trailing_slash=True)
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("checklists", ChecklistTemplateViewSet, basename="checklist")
router.register("checkpoints", CheckpointViewSet, basename="checkpoint")
router.register("patrols", PatrolRoundViewSet, basename="patrol")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("campaign-tasks", CampaignTaskViewSet, basename="campaigntask")
router.register("campaign-responsibles", CampaignResponsibleViewSet, basename="campaignresponsible")
router.register("campaign-stages", CampaignStageViewSet, basename="campaignstage")
router.register("security-periods", SecurityPeriodViewSet, basename="securityperiod")
router.register("duty-rosters", DutyShiftViewSet, basename="dutyshift")
router.register("inspection-slots", InspectionSlotViewSet, basename="inspectionslot")
router.register("frequency-rules", FrequencyRuleViewSet, basename="frequencyrule")
urlpatterns = router.urls
