from django.db.models import Count, F, Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from apps.core.api import ScopedModelViewSet, ScopedReadOnlyViewSet, run_service
from apps.core.policy import can
from apps.core.schema import page_of
from apps.core.services import from_serializer

from .. import services
from ..filters import DrillFilter, PublicityFilter, SessionFilter, StaffFilter
from ..models import (
    Attendance,
    Drill,
    DrillProblem,
    PublicityActivity,
    StaffMember,
    TrainingBatch,
    TrainingSession,
)
from ..obligations import evaluate
from .serializers import (
    AttendanceSerializer,
    BatchSerializer,
    BulkAttendanceSerializer,
    DrillProblemReadSerializer,
    DrillProblemSerializer,
    DrillSerializer,
    PersonObligationsSerializer,
    PublicitySerializer,
    SessionSerializer,
    StaffSerializer,
)

_run = run_service


class TrainingCapabilityMixin:
    """Writes need a training capability (training/policy.py); checked after the scoped lookup on details."""

    training_write = "training.record"

    @property
    def write_capability(self):
        """The role test before the body is read (``HasCapability``): 403, not a 400 about the input."""
        return self.training_write

    def check_write(self):
        if not can(self.request.user, self.training_write):
            raise PermissionDenied("您的角色无权进行此操作。")

    def save(self, obj, m2m):
        return services.save_record(self.request.user, self.training_write, obj, m2m)

    def perform_create(self, serializer):
        serializer.instance = _run(self.save, *from_serializer(serializer, **self.extra_save()))

    def perform_update(self, serializer):
        serializer.instance = _run(self.save, *from_serializer(serializer))

    def perform_destroy(self, instance):
        _run(services.remove_record, self.request.user, self.training_write, instance)

    def extra_save(self):
        return {}


class StaffViewSet(TrainingCapabilityMixin, ScopedModelViewSet):
    """The staff register. ``/api/v1/staff/obligations/`` gives every person's computed obligations."""

    queryset = StaffMember.objects.select_related("institution")
    serializer_class = StaffSerializer
    filterset_class = StaffFilter
    ordering = ["institution", "sort_name", "id"]
    training_write = "training.staff_edit"

    def save(self, obj, m2m):
        # The old roles are read from the database by save_staff.
        return services.save_staff(obj, self.request.user)

    @extend_schema(responses=page_of("PersonObligationsPage", PersonObligationsSerializer(many=True)))
    @action(detail=False, methods=["get"], serializer_class=PersonObligationsSerializer)
    def obligations(self, request):
        qs = self.filter_queryset(self.get_queryset()).annotate(inst_kind=F("institution__kind"))
        wanted = request.query_params.get("status")
        # Everyone filtered is evaluated at once (two queries), then the status filter and paging apply.
        people = evaluate(qs, timezone.localdate())
        if wanted:
            people = [p for p in people if p.status == wanted]
        page = self.paginate_queryset(people)
        data = PersonObligationsSerializer(page if page is not None else people, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(operation_id="v1_staff_person_obligations")
    @action(detail=True, methods=["get"], url_path="obligations", serializer_class=PersonObligationsSerializer)
    def person_obligations(self, request, pk=None):
        staff = self.get_object()
        return Response(PersonObligationsSerializer(evaluate([staff], timezone.localdate())[0]).data)


class SessionViewSet(TrainingCapabilityMixin, ScopedModelViewSet):
    """Training sessions. POST ``{id}/attendance/`` with ``{"staff": [ids]}`` records many at once."""

    queryset = TrainingSession.objects.all()
    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    ordering = ["-date", "-id"]

    def get_queryset(self):
        return super().get_queryset().annotate(attendance_count=Count("attendances"))

    def extra_save(self):
        data = {"created_by": self.request.user}
        if self.request.user.organization_id:
            data["organizer_org_id"] = self.request.user.organization_id
        return data

    def _check_manage(self, session):
        if not services.may_manage_session(self.request.user, session):
            raise PermissionDenied("您的角色无权进行此操作。")

    def save(self, obj, m2m):
        return services.save_session(self.request.user, obj, m2m)

    @extend_schema(methods=["GET"], responses=AttendanceSerializer(many=True))
    @extend_schema(methods=["POST"], request=BulkAttendanceSerializer,
                   responses={201: inline_serializer("AttendanceAdded", fields={"added": serializers.IntegerField()})})
    @action(detail=True, methods=["get", "post"], serializer_class=BulkAttendanceSerializer, pagination_class=None)
    def attendance(self, request, pk=None):
        session = self.get_object()
        if request.method == "GET":
            rows = Attendance.objects.visible_to(request.user).filter(session=session).select_related("staff")
            return Response(AttendanceSerializer(rows, many=True).data)
        self._check_manage(session)
        body = BulkAttendanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        from django.core.exceptions import ValidationError

        try:
            added = services.record_attendance(session, body.validated_data["staff"], request.user)
        except ValidationError as exc:
            return Response({"staff": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"added": added}, status=status.HTTP_201_CREATED)


class AttendanceViewSet(ScopedReadOnlyViewSet):
    queryset = Attendance.objects.select_related("staff")
    serializer_class = AttendanceSerializer
    filterset_fields = ["session", "staff"]
    ordering = ["-id"]


class BatchViewSet(TrainingCapabilityMixin, ScopedModelViewSet):
    queryset = TrainingBatch.objects.prefetch_related("institutions")
    serializer_class = BatchSerializer
    training_write = "training.batch"

    def save(self, obj, m2m):
        return services.save_batch(self.request.user, obj, m2m)

    def extra_save(self):
        from apps.orgs.models import Organization

        return {"organizer_org": self.request.user.organization or Organization.objects.filter(
            kind="bureau").first()}

    @extend_schema(responses=inline_serializer("NotAttendedStaff", {
        "id": serializers.IntegerField(), "name": serializers.CharField(), "institution": serializers.IntegerField(),
        "institution_name": serializers.CharField(), "roles": serializers.ListField(child=serializers.CharField())},
        many=True))
    @action(detail=True, methods=["get"], url_path="not-attended", serializer_class=serializers.Serializer,
            pagination_class=None)
    def not_attended(self, request, pk=None):
        from ..views import batch_invitees

        batch = self.get_object()
        invited, attended = batch_invitees(batch, request.user)
        return Response([{"id": s.pk, "name": s.name, "institution": s.institution_id,
                          "institution_name": s.institution.name, "roles": s.roles}
                         for s in invited if s.pk not in attended])


class DrillViewSet(TrainingCapabilityMixin, ScopedModelViewSet):
    """Drills. POST ``{id}/problems/`` with ``{"description", "to_hazard"}`` opens a linked hazard."""

    queryset = Drill.objects.select_related("institution").prefetch_related(
        Prefetch("problems", queryset=DrillProblem.objects.order_by("id")))
    serializer_class = DrillSerializer
    filterset_class = DrillFilter
    ordering = ["-date", "-id"]

    def extra_save(self):
        return {"created_by": self.request.user}

    @action(detail=True, methods=["post"], serializer_class=DrillProblemSerializer)
    def problems(self, request, pk=None):
        drill = self.get_object()
        self.check_write()
        body = DrillProblemSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        from django.core.exceptions import ValidationError

        try:
            problem = services.add_drill_problem(drill, request.user, body.validated_data["description"],
                                                 to_hazard=body.validated_data["to_hazard"],
                                                 category=body.validated_data["category"])
        except ValidationError as exc:
            return Response(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(DrillProblemReadSerializer(problem).data, status=status.HTTP_201_CREATED)


class PublicityViewSet(TrainingCapabilityMixin, ScopedModelViewSet):
    queryset = PublicityActivity.objects.all()
    serializer_class = PublicitySerializer
    filterset_class = PublicityFilter
    ordering = ["-date", "-id"]

    def extra_save(self):
        data = {"created_by": self.request.user}
        if self.request.user.organization_id:
            data["organizer_org_id"] = self.request.user.organization_id
        return data

    @extend_schema(responses=inline_serializer("PublicityStats", {
        "by_setting": serializers.ListField(child=serializers.DictField()),
        "by_township": serializers.ListField(child=serializers.DictField())}))
    @action(detail=False, methods=["get"], serializer_class=serializers.Serializer)
    def stats(self, request):
        qs = self.filter_queryset(self.get_queryset())
        return Response({
            "by_setting": list(qs.values("setting").annotate(n=Count("id")).order_by("setting")),
            "by_township": list(qs.values("township", "township__name").annotate(n=Count("id"))
                                .order_by("township__name")),
        })


router = DefaultRouter(trailing_slash=True)
router.register("staff", StaffViewSet, basename="staff")
router.register("trainings", SessionViewSet, basename="training")
router.register("training-attendance", AttendanceViewSet, basename="training-attendance")
router.register("training-batches", BatchViewSet, basename="training-batch")
router.register("drills", DrillViewSet, basename="drill")
router.register("publicity", PublicityViewSet, basename="publicity")
urlpatterns = router.urls
