from rest_framework.routers import DefaultRouter

from apps.core.api import ExportMixin, ScopedModelViewSet, ScopedReadOnlyViewSet
from apps.core.api import run_service as _run
from apps.core.lean import Computed, LeanListMixin
from apps.core.services import from_serializer
from apps.ledger.filters import BuildingFilter, InstitutionFilter
from apps.ledger.models import Building, Institution, PersonChange
from apps.ledger.services import delete_building, delete_institution, save_building, save_institution
from apps.ledger.views import InstitutionListView

from .serializers import BuildingSerializer, InstitutionSerializer, PersonChangeSerializer


def _kind_display(row):
    return str(dict(Institution._meta.get_field("kind").flatchoices).get(row["kind"], row["kind"]))


class InstitutionViewSet(ExportMixin, LeanListMixin, ScopedModelViewSet):
    """Institutions of the ledger within the caller's scope. Filters as on the list page."""

    export_view = InstitutionListView
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
        obj, _m2m = from_serializer(serializer)
        serializer.instance = _run(save_institution, obj, self.request.user, changed_on=changed_on)

    def perform_update(self, serializer):
        changed_on = serializer.validated_data.pop("person_changed_on", None)
        obj, _m2m = from_serializer(serializer)
        _run(save_institution, obj, self.request.user, changed_on=changed_on)

    def perform_destroy(self, instance):
        _run(delete_institution, self.request.user, instance)


class BuildingViewSet(ScopedModelViewSet):
    queryset = Building.objects.select_related("institution")
    serializer_class = BuildingSerializer
    filterset_class = BuildingFilter
    write_capability = "ledger.edit"
    ordering = ["institution", "name"]

    def perform_create(self, serializer):
        serializer.instance = _run(save_building, self.request.user, from_serializer(serializer)[0])

    def perform_update(self, serializer):
        serializer.instance = _run(save_building, self.request.user, from_serializer(serializer)[0])

    def perform_destroy(self, instance):
        _run(delete_building, self.request.user, instance)


class PersonChangeViewSet(ScopedReadOnlyViewSet):
    queryset = PersonChange.objects.all()
    serializer_class = PersonChangeSerializer
    filterset_fields = ["institution", "role"]


router = DefaultRouter(trailing_slash=True)
router.register("institutions", InstitutionViewSet, basename="institution")
router.register("buildings", BuildingViewSet, basename="building")
router.register("person-changes", PersonChangeViewSet, basename="personchange")
urlpatterns = router.urls
