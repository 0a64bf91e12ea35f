from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "apps.assessment"
    label = "assessment"
    verbose_name = _("Assessment")

    def ready(self):
        from apps.core.audit import register_actions

        from . import signals, tasks  # noqa: F401  (registers the scheduled refresh)

        signals.connect()
        register_actions({
            "assessment.sign": _("Assessment signed"),
            "incident.record": _("Fire incident recorded"),
            "handover.export": _("Handover package exported"),
            "handover.import": _("Handover package imported"),
        })
