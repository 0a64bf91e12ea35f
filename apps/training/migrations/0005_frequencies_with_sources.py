"""Training and drill frequencies corrected, each rule with its source (issue 14, item 4).

- Change-of-post training is due BEFORE the new post (61号令第36条: 新上岗和进入新岗位的员工
  上岗前培训): no 30-day grace; a session up to 30 days before the change counts.
- Drills every half year for every elderly-care institution (民政部《养老服务机构消防安全须知》),
  not only for key units.
"""
from django.db import migrations

ORDER_61 = "《机关、团体、企业、事业单位消防安全管理规定》（公安部令第61号）"
BASIS = {
    "onboarding": ORDER_61 + "第36条：新上岗的员工进行上岗前消防安全培训",
    "change_of_post": ORDER_61 + "第36条：进入新岗位的员工进行上岗前消防安全培训",
    "periodic": ORDER_61 + "第36条：对每名员工至少每年进行一次消防安全培训",
    "periodic_residential": ORDER_61 + "第36条：公众聚集场所对员工的消防安全培训至少每半年进行一次",
    "special": ORDER_61 + "第38条：消防安全责任人、管理人，消防控制室值班、操作人员接受消防安全专门培训",
    "certificate": ORDER_61 + "第38条：消防控制室的值班、操作人员应当持证上岗",
}
ELDERLY = ["elderly_care", "destitute_support", "community_care"]
ELDERLY_DRILL = "民政部《养老服务机构消防安全须知》：每半年至少组织一次灭火和应急疏散演练"


def forwards(apps, schema_editor):
    Rule = apps.get_model("training", "ObligationRule")
    DrillRule = apps.get_model("training", "DrillRule")
    for rule in Rule.objects.filter(basis=""):
        key = rule.obligation
        if key == "periodic" and rule.institution_kind:
            key = "periodic_residential"
        rule.basis = BASIS.get(key, "")
        rule.save(update_fields=["basis"])
    Rule.objects.filter(obligation="change_of_post", grace_days=30).update(
        grace_days=0, warn_days=30, version="2026-2", name="转岗（进入新岗位）前消防安全培训")
    DrillRule.objects.filter(institution_kind="", key_units=True, basis="").update(
        basis=ORDER_61 + "第40条：消防安全重点单位至少每半年演练一次")
    DrillRule.objects.filter(institution_kind="", key_units=None, basis="").update(
        basis=ORDER_61 + "第40条：其他单位至少每年组织一次演练")
    for kind in ELDERLY:
        DrillRule.objects.get_or_create(institution_kind=kind, key_units=None, is_active=True, defaults=dict(
            interval_days=182, basis=ELDERLY_DRILL, version="2026-2"))


def backwards(apps, schema_editor):
    Rule = apps.get_model("training", "ObligationRule")
    DrillRule = apps.get_model("training", "DrillRule")
    Rule.objects.filter(obligation="change_of_post", version="2026-2").update(
        grace_days=30, warn_days=0, version="2026-1", name="转岗消防安全培训")
    DrillRule.objects.filter(institution_kind__in=ELDERLY, basis=ELDERLY_DRILL).delete()


class Migration(migrations.Migration):
    dependencies = [("training", "0004_rule_basis")]
    operations = [migrations.RunPython(forwards, backwards)]
