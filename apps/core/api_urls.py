from rest_framework.routers import DefaultRouter

from .api_views import AuditEntryViewSet, NotificationViewSet

router = DefaultRouter(trailing_slash=True)
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = router.urls
