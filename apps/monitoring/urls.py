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
    path("thresholds/", views.threshold_list, name="threshold_list"),
    path("thresholds/new/", views.threshold_edit, name="threshold_create"),
    path("thresholds/<int:pk>/edit/", views.threshold_edit, name="threshold_edit"),
    path("dead-letters/", views.dead_letter_list, name="dead_letter_list"),
    path("dead-letters/replay/", views.dead_letter_replay, name="dead_letter_replay_filtered"),
    path("dead-letters/<int:pk>/", views.dead_letter_detail, name="dead_letter_detail"),
    path("dead-letters/<int:pk>/replay/", views.dead_letter_replay, name="dead_letter_replay"),
]
