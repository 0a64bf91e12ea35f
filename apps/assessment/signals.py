"""Keep the stored current risk fresh: recompute an institution when one of its inputs changes.

Input models are named as data (label → path to the institution id); models of apps not
installed yet are skipped. Bulk writes (the scale generator) send no signals and call
``refresh_risk`` themselves.
"""
from django.apps import apps
from django.db.models.signals import post_delete, post_save

# model label -> attribute path to the institution id
RISK_INPUTS = {
    "ledger.Institution": "pk",
    "ledger.Building": "institution_id",
    "hazards.Hazard": "institution_id",
    "assessment.FireIncident": "institution_id",
    "inspections.PatrolRound": "institution_id",
    "inspections.Inspection": "institution_id",
    "training.Drill": "institution_id",
    "training.StaffMember": "institution_id",
    "monitoring.Alarm": "institution_id",
    "monitoring.Device": "institution_id",
}


def _institution_id(instance, path):
    value = instance
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _recompute(sender, instance, raw=False, **kwargs):
    if raw:
        return
    from .models import InstitutionRisk, RiskModel
    from .risk import refresh_risk

    iid = _institution_id(instance, RISK_INPUTS[sender._meta.label])
    if iid is None or not RiskModel.objects.filter(is_active=True).exists():
        return
    if kwargs.get("signal") is post_delete and sender._meta.label == "ledger.Institution":
        return
    from apps.ledger.models import Institution

    if not Institution.objects.filter(pk=iid).exists():
        InstitutionRisk.objects.filter(institution_id=iid).delete()
        return
    refresh_risk([iid])


def connect():
    for label in RISK_INPUTS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        post_save.connect(_recompute, sender=model, dispatch_uid=f"risk-{label}-save")
        post_delete.connect(_recompute, sender=model, dispatch_uid=f"risk-{label}-delete")
