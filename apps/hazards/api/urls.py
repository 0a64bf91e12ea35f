from rest_framework.routers import DefaultRouter

from .views import (
    DocumentViewSet,
    ExtensionViewSet,
    HazardSuggestionViewSet,
    HazardViewSet,
    NumberFormatViewSet,
    RuleSetViewSet,
    SupervisionViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.register("hazards", HazardViewSet, basename="hazard")
router.register("supervisions", SupervisionViewSet, basename="supervision")
router.register("supervision-extensions", ExtensionViewSet, basename="supervision-extension")
router.register("official-documents", DocumentViewSet, basename="document")
router.register("hazard-rule-sets", RuleSetViewSet, basename="hazard-rule-set")
router.register("hazard-suggestions", HazardSuggestionViewSet, basename="hazard-suggestion")
router.register("number-formats", NumberFormatViewSet, basename="number-format")
urlpatterns = router.urls
