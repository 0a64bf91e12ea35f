from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("reports/", views.reports, name="reports"),
    path("handover/", views.handover, name="handover"),
]
