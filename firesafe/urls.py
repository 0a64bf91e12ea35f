from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core import files as core_files
from apps.core import views as core_views
from apps.core.api import OwnTokenDetailView, OwnTokenListView, TokenView
from apps.dashboard import views as dashboard_views
from apps.orgs.views import FireSafeLoginView, api_tokens

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/tokens/", OwnTokenListView.as_view(), name="api-own-tokens"),
    path("auth/tokens/<str:token_key>/", OwnTokenDetailView.as_view(), name="api-own-token"),
    path("", include("apps.orgs.api.urls")),
    path("", include("apps.ledger.api.urls")),
    path("", include("apps.core.api_urls")),
    path("", include("apps.hazards.api.urls")),
    path("", include("apps.inspections.api.urls")),
    path("", include("apps.monitoring.api.urls")),
    path("", include("apps.training.api.urls")),
    path("", include("apps.assessment.api.urls")),
    path("", include("apps.dashboard.api.urls")),
]

urlpatterns = [
    path("", dashboard_views.todo_home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", FireSafeLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/tokens/", api_tokens, name="api_tokens"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", core_views.AuditSearchView.as_view(), name="audit_list"),
    path("audit/<int:pk>/", core_views.audit_entry_detail, name="audit_detail"),
    path("files/attachments/<int:pk>/", core_files.attachment_file, name="attachment_file"),
    path("notifications/", core_views.notifications_page, name="notifications"),
    path("notifications/<int:pk>/", core_views.notification_open, name="notification_open"),
    path("exports/<int:pk>/", core_views.export_job_page, name="export_job"),
    path("exports/<int:pk>/status/", core_views.export_job_status, name="export_job_status"),
    path("exports/<int:pk>/download/", core_views.export_job_download, name="export_job_download"),
    path("orgs/", include("apps.orgs.urls")),
    path("ledger/", include("apps.ledger.urls")),
    path("hazards/", include("apps.hazards.urls")),
    path("inspections/", include("apps.inspections.urls")),
    path("monitoring/", include("apps.monitoring.urls")),
    path("training/", include("apps.training.urls")),
    path("assessment/", include("apps.assessment.urls")),
    path("cockpit/", include("apps.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "apps.core.views.page_not_found"
# No route serves MEDIA_ROOT, in any mode: files go through apps.core.files (login and scope).
