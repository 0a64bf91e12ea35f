from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from . import (
            audit,  # noqa: F401  (connects the change-log signals)
            exports,  # noqa: F401  (registers the expiry of export files)
        )

        autodiscover_modules("policy")  # every app's policy.py registers its actions and fields
