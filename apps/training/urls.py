from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("staff/", views.StaffListView.as_view(), name="staff_list"),
    path("staff/new/", views.staff_edit, name="staff_create"),
    path("staff/import/", views.StaffImportView.as_view(), name="staff_import"),
    path("staff/<int:pk>/", views.StaffDetailView.as_view(), name="staff_detail"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff_edit"),
    path("compliance/", views.compliance, name="compliance"),
    path("compliance/township/<int:pk>/", views.compliance, {"level": "township"}, name="compliance_township"),
    path("compliance/institution/<int:pk>/", views.compliance, {"level": "institution"},
         name="compliance_institution"),
    path("sessions/", views.SessionListView.as_view(), name="session_list"),
    path("sessions/new/", views.session_edit, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/attendance/", views.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/materials/", views.session_material, name="session_material"),
    path("sessions/<int:pk>/qr.png", views.session_qr, name="session_qr"),
    path("sign/<str:token>/", views.sign_in, name="sign_in"),
    path("batches/", views.BatchListView.as_view(), name="batch_list"),
    path("batches/new/", views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("drills/", views.DrillListView.as_view(), name="drill_list"),
    path("drills/new/", views.drill_edit, name="drill_create"),
    path("drills/<int:pk>/", views.DrillDetailView.as_view(), name="drill_detail"),
    path("drills/<int:pk>/edit/", views.drill_edit, name="drill_edit"),
    path("drills/<int:pk>/problems/", views.drill_problem, name="drill_problem"),
    path("publicity/", views.PublicityListView.as_view(), name="publicity_list"),
    path("publicity/new/", views.publicity_edit, name="publicity_create"),
    path("publicity/stats/", views.publicity_stats, name="publicity_stats"),
    path("publicity/<int:pk>/", views.PublicityDetailView.as_view(), name="publicity_detail"),
    path("publicity/<int:pk>/edit/", views.publicity_edit, name="publicity_edit"),
]
