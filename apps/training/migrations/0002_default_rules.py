"""Default obligation and drill-frequency rules from domain.md §4 (the bureau edits them in admin)."""
from django.db import migrations

RESIDENTIAL = ["elderly_care", "child_welfare", "minor_protection", "mental_welfare", "destitute_support",
               "relief_station"]
ANY_TRAINING = ["all_staff", "onboarding", "change_of_post", "responsible_managers", "heads", "control_room"]


def forwards(apps, schema_editor):
    Rule = apps.get_model("training", "ObligationRule")
    DrillRule = apps.get_model("training", "DrillRule")
    if Rule.objects.exists():
        return
    Rule.objects.create(obligation="onboarding", name="岗前消防安全培训", categories=["onboarding", "all_staff"],
                        grace_days=0, warn_days=30)
    Rule.objects.create(obligation="periodic", name="全员消防安全培训（每年）", categories=ANY_TRAINING,
                        interval_days=365, warn_days=30)
    for kind in RESIDENTIAL:
        Rule.objects.create(obligation="periodic", name="全员消防安全培训（人员密集场所每半年）",
                            institution_kind=kind, categories=ANY_TRAINING, interval_days=182, warn_days=30)
    Rule.objects.create(obligation="change_of_post", name="转岗消防安全培训", categories=["change_of_post", "onboarding"],
                        grace_days=30, warn_days=0)
    Rule.objects.create(obligation="special", name="消防安全责任人、管理人专门培训", roles=["responsible", "manager"],
                        categories=["responsible_managers", "heads"], interval_days=365, grace_days=30,
                        warn_days=30)
    Rule.objects.create(obligation="special", name="消防控制室值班人员专门培训", roles=["control_room"],
                        categories=["control_room"], interval_days=365, grace_days=30, warn_days=30)
    Rule.objects.create(obligation="certificate", name="消防设施操作员证书有效", roles=["control_room"],
                        grace_days=30, warn_days=60)
    DrillRule.objects.create(key_units=True, interval_days=182)
    DrillRule.objects.create(key_units=None, interval_days=365)


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
