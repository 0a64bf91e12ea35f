from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from apps.core import scope
from apps.core.api import ScopedReadOnlyViewSet
from apps.orgs.models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "short_name", "kind", "parent", "code", "institution_kinds", "phone", "address"]


class OrganizationViewSet(ScopedReadOnlyViewSet):
    """The organisation tree (read-only)."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_fields = ["kind", "parent"]
    search_fields = ["name"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    organization = serializers.IntegerField(allow_null=True)
    institution = serializers.IntegerField(allow_null=True)
    sees_everything = serializers.BooleanField()


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """Who the token belongs to: user, role and organisation."""
    u = request.user
    return Response({
        "id": u.pk, "username": u.username, "full_name": u.full_name, "role": u.role,
        "organization": u.organization_id, "institution": u.institution_id, "sees_everything": scope.sees_all(u),
    })


router = DefaultRouter(trailing_slash=True)
router.register("organizations", OrganizationViewSet, basename="organization")
urlpatterns = [path("me/", me, name="api-me"), *router.urls]
