from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from apps.core.api import ScopedModelViewSet, ScopedReadOnlyViewSet
from apps.core.policy import can
from apps.ledger.models import Institution
from apps.orgs.rulepages import rule_viewset

from ..filters import AssessmentFilter, FireIncidentFilter, InstitutionRiskFilter
from ..models import Assessment, FireIncident, InstitutionRisk, RiskModel
from ..risk import refresh_risk
from ..services import add_accountability, record_incident, save_risk_model
from .serializers import (
    AccountabilityActionSerializer,
    AssessmentSerializer,
    FireIncidentSerializer,
    InstitutionRiskDetailSerializer,
    InstitutionRiskSerializer,
    RiskModelSerializer,
)


class InstitutionRiskViewSet(ScopedReadOnlyViewSet):
    """Current risk of institutions in scope. The detail (by institution id) is recomputed on read."""

    queryset = InstitutionRisk.objects.select_related("institution").defer("factors")
    serializer_class = InstitutionRiskSerializer
    filterset_class = InstitutionRiskFilter
    ordering = ["-score", "institution_id"]

    def retrieve(self, request, pk=None):
        institution = get_object_or_404(Institution.objects.visible_to(request.user), pk=pk)
        refresh_risk([institution.pk])
        risk = InstitutionRisk.objects.select_related("institution").get(institution=institution)
        return Response(InstitutionRiskDetailSerializer(risk).data)


def _check(user, rule):
    if not can(user, rule):
        raise PermissionDenied("Your role may not do this.")


class FireIncidentViewSet(ScopedModelViewSet):
    """Fire incidents in scope, with their accountability actions."""

    queryset = FireIncident.objects.select_related("institution").prefetch_related("actions")
    serializer_class = FireIncidentSerializer
    filterset_class = FireIncidentFilter
    ordering = ["-occurred_at", "-id"]
    action_capabilities = {"create": "incident.record", "update": "incident.record",
                           "partial_update": "incident.record", "accountability": "incident.accountability"}

    def _save(self, serializer):
        _check(self.request.user, "incident.record")
        instance = serializer.instance or FireIncident()
        for key, value in serializer.validated_data.items():
            setattr(instance, key, value)
        try:
            serializer.instance = record_incident(self.request.user, instance)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)

    perform_create = perform_update = _save

    def perform_destroy(self, instance):
        raise PermissionDenied("Fire incidents are kept; they cannot be deleted.")

    @action(detail=True, methods=["post"])
    def accountability(self, request, pk=None):
        incident = self.get_object()
        _check(request.user, "incident.accountability")
        data = AccountabilityActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        obj = add_accountability(request.user, incident, **data.validated_data)
        return Response(AccountabilityActionSerializer(obj).data, status=status.HTTP_201_CREATED)


class AssessmentViewSet(ScopedReadOnlyViewSet):
    queryset = Assessment.objects.select_related("institution").defer("indicators")
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter
    ordering = ["-assessed_on", "-id"]



class RiskModelViewSet(rule_viewset(ScopedModelViewSet)):
    """Risk models by level: the platform default, those of the administrations above the caller and
    (bureau roles) under it, with ``administration_name`` (来源). Adding or changing one is for the
    caller's own administration (``riskmodel.override``); bands looser than a model a higher level set
    by law are refused with the reason (400), as are bands that do not fall (red > orange > yellow)."""

    queryset = RiskModel.objects.select_related("administration")
    serializer_class = RiskModelSerializer
    ordering = ["-is_active", "-created", "id"]
    write_capability = "riskmodel.override"
    service = staticmethod(save_risk_model)


router = DefaultRouter(trailing_slash=True)
router.register("risk", InstitutionRiskViewSet, basename="risk")
router.register("fire-incidents", FireIncidentViewSet, basename="fireincident")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("risk-models", RiskModelViewSet, basename="riskmodel")
urlpatterns = router.urls
