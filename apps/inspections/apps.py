from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "apps.inspections"
    label = "inspections"
    verbose_name = _("Inspections and patrols")

    def ready(self):
        from apps.core.audit import register_actions

        from . import reminders  # noqa: F401  (registers the periodic notice)

        register_actions({
            "inspection.submit": _("Inspection submitted"),
            "inspection.enforce": _("Enforcement inspection submitted"),
        })
