from django.urls import path

from . import views

app_name = "inspections"
urlpatterns = [
    path("", views.InspectionListView.as_view(), name="inspection_list"),
    path("new/", views.inspection_start, name="inspection_start"),
    path("<int:pk>/", views.InspectionDetailView.as_view(), name="inspection_detail"),
    path("<int:pk>/fill/", views.inspection_fill, name="inspection_fill"),
    path("enforcement/", views.EnforcementLogView.as_view(), name="enforcement_log"),
    path("checklists/", views.TemplateListView.as_view(), name="template_list"),
    path("checklists/<int:pk>/", views.TemplateDetailView.as_view(), name="template_detail"),
    path("checkpoints/", views.CheckpointListView.as_view(), name="checkpoint_list"),
    path("checkpoints/new/", views.checkpoint_create, name="checkpoint_create"),
    path("checkpoints/labels/", views.checkpoint_labels, name="checkpoint_labels"),
    path("checkpoints/<int:pk>/", views.checkpoint_detail, name="checkpoint_detail"),
    path("checkpoints/<int:pk>/qr.svg", views.checkpoint_qr, name="checkpoint_qr"),
    path("patrols/", views.PatrolListView.as_view(), name="patrol_list"),
    path("patrols/new/", views.patrol_start, name="patrol_start"),
    path("patrols/offline/", views.patrol_offline, name="patrol_offline"),
    path("patrols/offline/sw.js", views.patrol_offline_worker, name="patrol_offline_worker"),
    path("patrols/offline/manifest.webmanifest", views.patrol_offline_manifest, name="patrol_offline_manifest"),
    path("patrols/missed/", views.missed_patrol_list, name="missed_patrols"),
    path("patrols/<int:pk>/", views.PatrolDetailView.as_view(), name="patrol_detail"),
    path("compliance/", views.compliance_page, name="compliance"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/report.xlsx", views.campaign_report, name="campaign_report"),
    path("campaigns/<int:pk>/tasks/new/", views.campaign_task_add, name="campaign_task_add"),
    path("security/", views.PeriodListView.as_view(), name="period_list"),
    path("security/new/", views.period_create, name="period_create"),
    path("security/<int:pk>/", views.PeriodDetailView.as_view(), name="period_detail"),
    path("security/<int:pk>/shifts/new/", views.period_shift_add, name="period_shift_add"),
    path("security/<int:pk>/slots/new/", views.period_slot_add, name="period_slot_add"),
]
