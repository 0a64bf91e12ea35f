"""Patrol rules and the daily patrol checklist corrected (issue 14, item 4), version 2.

- Night patrols at least every 2 hours for EVERY kind whose residents sleep on site (elderly care,
  destitute support, child welfare, minor protection, mental-health welfare, relief stations),
  citing GB/T 40248-2021 §7.3.5, the standard the rule rests on (61号令第25条 sets the daily patrol).
- The daily patrol checklist asks whether the fire lanes are clear (GB/T 40248-2021 §7.3.6).
Version 1 rows are kept (inactive) for the records made under them.
"""
from django.db import migrations

GBT = "GB/T 40248-2021《人员密集场所消防安全管理》"
ORDER_61 = "《机关、团体、企业、事业单位消防安全管理规定》（公安部令第61号）"
RESIDENTIAL = ["elderly_care", "destitute_support", "child_welfare", "minor_protection", "mental_welfare",
               "relief_station"]
NIGHT_BASIS = ORDER_61 + "第25条（每日防火巡查）；" + GBT + "§7.3.5（夜间防火巡查每2小时至少一次）"
FIRE_LANE = ("evacuation", "消防车道是否畅通，有无占用、堵塞、封闭", "查看院内及出入口消防车道有无停车、堆物、设置障碍",
             GBT + "§7.3.6", False)


def forwards(apps, schema_editor):
    Rule = apps.get_model("inspections", "FrequencyRule")
    Template = apps.get_model("inspections", "ChecklistTemplate")
    Item = apps.get_model("inspections", "ChecklistItem")
    if not Rule.objects.filter(version=2).exists():
        Rule.objects.filter(institution_kind__in=RESIDENTIAL, version=1).update(is_active=False)
        for kind in RESIDENTIAL:
            Rule.objects.create(institution_kind=kind, version=2, daily_patrols=1, night_interval_hours=2,
                                inspection_interval_days=31, self_assessment_interval_days=366, basis=NIGHT_BASIS)
        Rule.objects.filter(institution_kind="", version=1).update(
            basis=ORDER_61 + "第25条（每日防火巡查）、第26条（每月防火检查）（默认）")
    old = Template.objects.filter(code="daily-patrol", version=1).first()
    if old is None or Template.objects.filter(code="daily-patrol", version=2).exists():
        return
    new = Template.objects.create(code="daily-patrol", version=2, name=old.name, purpose=old.purpose,
                                  institution_kinds=old.institution_kinds,
                                  basis=ORDER_61 + "第25条；" + GBT + "§7.3.6", is_active=True)
    items = list(Item.objects.filter(template=old).order_by("order", "id"))
    Item.objects.bulk_create([
        Item(template=new, order=item.order, category=item.category, text=item.text, guidance=item.guidance,
             basis=item.basis, counts_toward_major=item.counts_toward_major) for item in items])
    category, text, guidance, basis, major = FIRE_LANE
    Item.objects.create(template=new, order=(items[-1].order if items else 0) + 10, category=category, text=text,
                        guidance=guidance, basis=basis, counts_toward_major=major)
    old.is_active = False
    old.save(update_fields=["is_active"])


def backwards(apps, schema_editor):
    Rule = apps.get_model("inspections", "FrequencyRule")
    Template = apps.get_model("inspections", "ChecklistTemplate")
    Rule.objects.filter(version=2, basis=NIGHT_BASIS).delete()
    Rule.objects.filter(institution_kind__in=RESIDENTIAL, version=1).update(is_active=True)
    Template.objects.filter(code="daily-patrol", version=2).delete()
    Template.objects.filter(code="daily-patrol", version=1).update(is_active=True)


class Migration(migrations.Migration):
    dependencies = [("inspections", "0003_patrol_office")]
    operations = [migrations.RunPython(forwards, backwards)]
