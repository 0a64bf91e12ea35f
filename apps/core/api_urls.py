from rest_framework.routers import DefaultRouter

from .api_views import AuditEntryViewSet, ExportJobViewSet, NotificationViewSet

router = DefaultRouter(trailing_slash=True)
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("exports", ExportJobViewSet, basename="export-job")
urlpatterns = router.urls
