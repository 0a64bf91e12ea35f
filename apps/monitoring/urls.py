from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.AlarmListView.as_view(), name="alarm_list"),
    path("alarms/", views.AlarmListView.as_view(), name="alarms"),
    path("alarms/<int:pk>/", views.AlarmDetailView.as_view(), name="alarm_detail"),
    path("alarms/<int:pk>/acknowledge/", views.alarm_acknowledge, name="alarm_acknowledge"),
    path("alarms/<int:pk>/clear/", views.alarm_clear, name="alarm_clear"),
    path("devices/", views.DeviceListView.as_view(), name="device_list"),
    path("devices/new/", views.device_edit, name="device_create"),
    path("devices/<int:pk>/", views.DeviceDetailView.as_view(), name="device_detail"),
    path("devices/<int:pk>/edit/", views.device_edit, name="device_edit"),
    path("devices/<int:pk>/rotate-token/", views.device_rotate_token, name="device_rotate_token"),
]
