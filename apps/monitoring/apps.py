from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = _("Electrical-fire monitoring")

    def ready(self):
        from apps.core.audit import register_actions
        from apps.hazards.services import CLOSE_GUARDS, register_close_guard

        from . import jobs  # noqa: F401  (registers the periodic checks)
        from .services import sensor_close_guard

        if sensor_close_guard not in CLOSE_GUARDS:
            register_close_guard(sensor_close_guard)
        register_actions({
            "monitoring.alarm.acknowledge": _("Alarm acknowledged"),
            "monitoring.alarm.clear": _("Alarm cleared"),
            "monitoring.device.rotate_token": _("Device token rotated"),
            "monitoring.deadletter.replay": _("Rejected message replayed"),
        })
