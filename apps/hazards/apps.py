from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HazardsConfig(AppConfig):
    name = "apps.hazards"
    label = "hazards"
    verbose_name = _("Hazards")

    def ready(self):
        from apps.core.audit import register_actions

        from . import scheduled  # noqa: F401  (registers the date-driven notifications)

        register_actions({
            "hazard.report": _("Hazard reported"),
            "hazard.plan": _("Rectification plan submitted"),
            "hazard.rectify": _("Rectification submitted"),
            "hazard.verify": _("Verified and closed"),
            "hazard.send_back": _("Sent back"),
            "hazard.reopen": _("Re-opened (re-check)"),
            "hazard.note": _("Progress note"),
            "hazard.determine": _("Major-hazard determination"),
            "supervision.list": _("Listed for supervision"),
            "supervision.follow_up": _("Follow-up visit"),
            "supervision.request_extension": _("Extension requested"),
            "supervision.decide_extension": _("Extension decided"),
            "supervision.delist": _("Delisted"),
            "document.issue": _("Document issued"),
            "document.acknowledge": _("Receipt acknowledged"),
            "hazards.rule_set_load": _("Rule set loaded"),
            "hazard.suggest": _("Hazard suggested from the ledger"),
            "hazard.suggestion_accept": _("Suggested hazard accepted"),
            "hazard.suggestion_dismiss": _("Suggested hazard dismissed"),
        })
        self._connect_ledger_signals()

    @staticmethod
    def _connect_ledger_signals():
        """A change in the ledger re-runs the ledger rules for its institution (after the commit)."""
        from django.db.models.signals import post_delete, post_save

        from .ledger_rules import institution_saved, ledger_part_changed

        post_save.connect(institution_saved, sender="ledger.Institution", dispatch_uid="hazards-scan-institution")
        for model in ("ledger.Building", "training.StaffMember"):
            post_save.connect(ledger_part_changed, sender=model, dispatch_uid=f"hazards-scan-{model}-save")
            post_delete.connect(ledger_part_changed, sender=model, dispatch_uid=f"hazards-scan-{model}-delete")
