from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("", views.RiskListView.as_view(), name="risk_list"),
    path("risk/", views.RiskListView.as_view(), name="risk_list_alias"),
    path("risk/refresh/", views.refresh_scope, name="risk_refresh"),
    path("risk/<int:pk>/", views.risk_detail, name="risk_detail"),
    path("risk-models/", views.risk_model_list, name="risk_model_list"),
    path("risk-models/new/", views.risk_model_edit, name="risk_model_create"),
    path("risk-models/<int:pk>/edit/", views.risk_model_edit, name="risk_model_edit"),
    path("incidents/", views.IncidentListView.as_view(), name="incident_list"),
    path("incidents/new/", views.incident_edit, name="incident_create"),
    path("incidents/outcomes/", views.outcome_figures, name="outcomes"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="incident_detail"),
    path("incidents/<int:pk>/edit/", views.incident_edit, name="incident_edit"),
    path("assessments/", views.AssessmentListView.as_view(), name="assessment_list"),
    path("assessments/new/", views.assessment_start, name="assessment_create"),
    path("assessments/<int:pk>/", views.AssessmentDetailView.as_view(), name="assessment_detail"),
    path("district/", views.district_report, name="district_report"),
]
