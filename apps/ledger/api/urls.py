from django.db import transaction
from rest_framework.routers import DefaultRouter

from apps.core.api import ScopedModelViewSet, ScopedReadOnlyViewSet
from apps.core.audit import acting_as
from apps.core.lean import Computed, LeanListMixin
from apps.ledger.filters import BuildingFilter, InstitutionFilter
from apps.ledger.models import Building, Institution, PersonChange
from apps.ledger.services import save_institution

from .serializers import BuildingSerializer, InstitutionSerializer, PersonChangeSerializer


def _kind_display(row):
    return str(dict(Institution._meta.get_field("kind").flatchoices).get(row["kind"], row["kind"]))


class InstitutionViewSet(LeanListMixin, ScopedModelViewSet):
    """Institutions of the ledger within the caller's scope. Filters as on the list page."""

    queryset = Institution.objects.select_related("township")
    serializer_class = InstitutionSerializer
    filterset_class = InstitutionFilter
    ordering_fields = ["name", "kind", "beds", "residents", "updated", "id"]
    ordering = ["name", "id"]
    lean_fields = {"kind_display": Computed(("kind",), _kind_display)}

    def get_permissions(self):
        self.write_capability = {"create": "ledger.create", "destroy": "ledger.delete"}.get(self.action, "ledger.edit")
        return super().get_permissions()

    def perform_create(self, serializer):
        changed_on = serializer.validated_data.pop("person_changed_on", None)
        serializer.instance = save_institution(Institution(**serializer.validated_data), self.request.user,
                                               changed_on=changed_on)

    def perform_update(self, serializer):
        changed_on = serializer.validated_data.pop("person_changed_on", None)
        instance = serializer.instance
        for key, value in serializer.validated_data.items():
            setattr(instance, key, value)
        save_institution(instance, self.request.user, changed_on=changed_on)

    def perform_destroy(self, instance):
        with transaction.atomic(), acting_as(self.request.user):
            instance.delete()


class BuildingViewSet(ScopedModelViewSet):
    queryset = Building.objects.select_related("institution")
    serializer_class = BuildingSerializer
    filterset_class = BuildingFilter
    write_capability = "ledger.edit"
    ordering = ["institution", "name"]

    def perform_create(self, serializer):
        with acting_as(self.request.user):
            serializer.save()

    def perform_update(self, serializer):
        with acting_as(self.request.user):
            serializer.save()

    def perform_destroy(self, instance):
        with acting_as(self.request.user):
            instance.delete()


class PersonChangeViewSet(ScopedReadOnlyViewSet):
    queryset = PersonChange.objects.all()
    serializer_class = PersonChangeSerializer
    filterset_fields = ["institution", "role"]


router = DefaultRouter(trailing_slash=True)
router.register("institutions", InstitutionViewSet, basename="institution")
router.register("buildings", BuildingViewSet, basename="building")
router.register("person-changes", PersonChangeViewSet, basename="personchange")
urlpatterns = router.urls
