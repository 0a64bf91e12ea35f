from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("", views.InstitutionListView.as_view(), name="institution_list"),
    path("new/", views.InstitutionCreateView.as_view(), name="institution_create"),
    path("import/", views.ImportView.as_view(), name="institution_import"),
    path("<int:pk>/", views.InstitutionDetailView.as_view(), name="institution_detail"),
    path("<int:pk>/edit/", views.InstitutionUpdateView.as_view(), name="institution_edit"),
    path("<int:pk>/buildings/new/", views.building_edit, name="building_create"),
    path("<int:pk>/buildings/<int:building_pk>/edit/", views.building_edit, name="building_edit"),
]
