from django.urls import path

from . import views

app_name = "hazards"
urlpatterns = [
    path("", views.HazardListView.as_view(), name="hazard_list"),
    path("new/", views.report, name="hazard_create"),
    path("lists/open/", views.OpenListView.as_view(), name="list_open"),
    path("lists/closed/", views.ClosedListView.as_view(), name="list_closed"),
    path("lists/responsibility/", views.ResponsibilityListView.as_view(), name="list_responsibility"),
    path("rule-sets/", views.rule_sets, name="rule_sets"),
    path("number-formats/", views.number_format_list, name="number_format_list"),
    path("number-formats/new/", views.number_format_edit, name="number_format_create"),
    path("number-formats/<int:pk>/edit/", views.number_format_edit, name="number_format_edit"),
    path("suggestions/", views.SuggestionListView.as_view(), name="suggestion_list"),
    path("suggestions/scan/", views.suggestion_scan, name="suggestion_scan"),
    path("suggestions/<int:pk>/accept/", views.suggestion_accept, name="suggestion_accept"),
    path("suggestions/<int:pk>/dismiss/", views.suggestion_dismiss, name="suggestion_dismiss"),
    path("<int:pk>/", views.HazardDetailView.as_view(), name="hazard_detail"),
    path("<int:pk>/determine/", views.determine, name="hazard_determine"),
    path("<int:pk>/supervise/", views.supervise, name="hazard_supervise"),
    path("<int:pk>/<slug:action>/", views.hazard_action, name="hazard_action"),
    path("supervisions/", views.SupervisionListView.as_view(), name="supervision_list"),
    path("supervisions/<int:pk>/", views.SupervisionDetailView.as_view(), name="supervision_detail"),
    path("supervisions/<int:pk>/follow-up/", views.follow_up, name="supervision_follow_up"),
    path("supervisions/<int:pk>/extension/", views.request_extension, name="supervision_extension"),
    path("supervisions/<int:pk>/delist/", views.delist, name="supervision_delist"),
    path("extensions/<int:pk>/decide/", views.decide_extension, name="extension_decide"),
    path("documents/", views.DocumentListView.as_view(), name="document_list"),
    path("documents/new/", views.document_create, name="document_create"),
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document_detail"),
    path("documents/<int:pk>/download/", views.document_download, name="document_download"),
    path("documents/<int:pk>/acknowledge/", views.document_acknowledge, name="document_acknowledge"),
]
