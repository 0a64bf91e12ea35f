from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("reports/", views.reports, name="reports"),
    path("handover/", views.handover, name="handover"),
    path("handover/import/", views.handover_import, name="handover_import"),
    path("institutions/<int:pk>/file/", views.institution_file, name="institution_file"),
]
