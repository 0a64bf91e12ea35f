"""Risk model MZ-risk-2026.2 (activated; 2026.1 kept for the snapshots computed under it) and the
facility requirement table.

What changed against 2026.1 (docs/assessment.md, "Calibration"):
- an open major hazard makes the institution 重大风险 (red) whatever the score, and the page names
  the rule;
- sprinklers and the fire alarm system count only where a requirement (data, with its clause)
  asks for them for the institution's kind and size;
- beds, vulnerable residents and night staffing count only for kinds whose residents stay on site
  (no night-staffing factor for a funeral home);
- fires in the last three years count.
"""
from django.db import migrations

P = "apps.assessment.providers."
INSP = "apps.inspections.metrics.institution_compliance"
TRAIN = "apps.training.metrics.institution_compliance"
MON = "apps.monitoring.metrics.institution_device_stats"

RESIDENTIAL = ["elderly_care", "child_welfare", "minor_protection", "mental_welfare", "destitute_support",
               "relief_station"]
WITH_BEDS = [*RESIDENTIAL, "community_care"]
ELDERLY = ["elderly_care", "destitute_support", "community_care"]  # 老年人照料设施 (JGJ 450-2018)

MAJOR_RULE = "存在未整改的重大火灾隐患（重大事故隐患）的，直接判定为重大风险（红色）"
LEDGER_RULE = "属《养老机构重大事故隐患判定标准》（民办发〔2023〕13号）第四条所列情形，认定前至少判定为较大风险（橙色）"

# key, label, group, provider, metric, weight, start_at, full_at, invert, min_level, lift_rule, kinds, countermeasure
FACTORS = [
    ("colour_steel", "使用可燃芯材彩钢夹芯板", "building", P + "building_facts", "combustible_colour_steel", 8, 0, 1,
     False, "orange", LEDGER_RULE, [], "拆除或更换可燃芯材彩钢夹芯板；拆除前限制使用并加强巡查。"),
    ("no_sprinklers", "应设而未设自动喷水灭火系统", "building", P + "facility_facts", "sprinklers_missing", 5, 0, 1,
     False, "", "", [], "按规范增设自动喷水灭火系统或简易喷淋。"),
    ("no_auto_alarm", "应设而未设火灾自动报警系统", "building", P + "facility_facts", "auto_alarm_missing", 5, 0, 1,
     False, "", "", [], "增设火灾自动报警系统，居室安装独立式感烟火灾探测报警器。"),
    ("building_age", "建筑年代（年）", "building", P + "building_facts", "building_age", 3, 15, 40, False, "", "", [],
     "对老旧建筑开展电气线路和消防设施全面检测，必要时改造。"),
    ("dangerous_building", "使用C/D级危险房屋", "building", P + "building_facts", "dangerous_building", 4, 0, 1, False,
     "orange", LEDGER_RULE, [], "C/D级房屋停止住人，限期加固或搬迁。"),
    ("beds", "床位数", "people", P + "people_facts", "beds", 5, 50, 300, False, "", "", WITH_BEDS,
     "按床位规模配足消防设施和夜间值班力量。"),
    ("vulnerable_share", "失能、卧床人员占比", "people", P + "people_facts", "vulnerable_share", 5, 0.1, 0.6, False,
     "", "", WITH_BEDS, "失能卧床人员安排在低楼层、靠近出口的房间，制定一对一疏散预案。"),
    ("night_staff", "夜间每名值班人员对应住养人员数", "people", P + "people_facts", "residents_per_night_staff", 5,
     10, 40, False, "", "", RESIDENTIAL, "增加夜间值班人员，落实夜间每2小时防火巡查。"),
    ("patrol", "防火巡查不达标（含夜间巡查）", "management", INSP, "patrol_ok", 4, 0, 1, True, "", "", [],
     "落实每日防火巡查和夜间每2小时巡查，巡查记录签名留痕。"),
    ("missed_patrols", "近30日漏巡次数", "management", INSP, "missed_patrols_30d", 3, 0, 10, False, "", "", [],
     "查明漏巡原因，明确巡查责任人并纳入考核。"),
    ("inspection", "防火检查频次不达标", "management", INSP, "inspection_ok", 3, 0, 1, True, "", "", [],
     "每月至少组织一次防火检查，检查发现问题登记整改。"),
    ("drill", "疏散演练不达标", "management", TRAIN, "drill_ok", 5, 0, 1, True, "", "", [],
     "按规定频次组织灭火和应急疏散演练，重点演练卧床人员转移。"),
    ("training", "培训逾期人数", "management", TRAIN, "people_overdue", 5, 0, 5, False, "", "", [],
     "对逾期人员限期补训，落实入职必训、定期培训、转岗前培训。"),
    ("open_major", "未整改重大火灾隐患（项）", "hazards", P + "hazard_facts", "open_major", 12, 0, 1, False, "red",
     MAJOR_RULE, [], "重大火灾隐患挂牌督办，落实整改措施、责任、资金、时限和预案（五落实），整改前采取临时防范措施。"),
    ("open_general", "未整改一般隐患（项）", "hazards", P + "hazard_facts", "open_general", 5, 0, 5, False, "", "", [],
     "按隐患清单逐项整改销号。"),
    ("overdue", "逾期未整改隐患（项）", "hazards", P + "hazard_facts", "overdue", 5, 0, 3, False, "", "", [],
     "对逾期隐患发建议函或督办单，上门跟踪督促整改。"),
    ("reopened", "整改后复发的隐患（项）", "hazards", P + "hazard_facts", "reopened", 2, 0, 2, False, "", "", [],
     "开展“回头看”，查找反复出现的根源。"),
    ("fires_3y", "近三年发生火灾（起）", "hazards", P + "incident_facts", "fires_3y", 6, 0, 2, False, "", "", [],
     "复盘火灾原因，逐项落实整改和责任追究，针对起火原因开展专项检查。"),
    ("alarms_30d", "近30日电气火灾监控报警（次）", "sensors", MON, "alarms_30d", 5, 0, 10, False, "", "", [],
     "排查报警回路，整治线路老化、超负荷用电。"),
    ("offline_devices", "离线监测设备（台）", "sensors", MON, "offline_devices", 5, 0, 3, False, "", "", [],
     "督促维保单位恢复离线设备，保证监测连续。"),
]

# facility, kinds, min beds, min floor area, smoke alarms suffice below (m²), source, clause, verified, note
REQUIREMENTS = [
    ("auto_alarm", ELDERLY, None, None, 500, "GB 50016-2014（2018年版）", "§8.4.1 第7款", True,
     "老年人照料设施应设火灾自动报警系统；条文说明：单体总建筑面积小于500 m²时可采用独立式感烟火灾探测报警器。"),
    ("auto_alarm", ["child_welfare"], None, None, None, "GB 50016-2014（2018年版）", "§8.4.1 第7款", False,
     "“大、中型幼儿园的儿童用房等场所……其他儿童活动场所”：儿童福利机构按儿童活动场所对待，待核实。"),
    ("sprinklers", ELDERLY, None, None, None, "GB 50016-2014（2018年版）", "§8.3.4 第5款", False,
     "“大、中型幼儿园，老年人照料设施”应设自动灭火系统，宜采用自动喷水灭火系统；条款号待与正式文本核对。"),
]


def seed(apps, schema_editor):
    RiskModel = apps.get_model("assessment", "RiskModel")
    RiskFactor = apps.get_model("assessment", "RiskFactor")
    Requirement = apps.get_model("assessment", "FacilityRequirement")
    if not Requirement.objects.exists():
        for facility, kinds, beds, area, alt, source, clause, verified, note in REQUIREMENTS:
            Requirement.objects.create(facility=facility, institution_kinds=kinds, min_beds=beds,
                                       min_floor_area_m2=area, alternative_below_m2=alt, source=source,
                                       clause=clause, verified=verified, note=note)
    if RiskModel.objects.filter(version="MZ-risk-2026.2").exists():
        return
    RiskModel.objects.filter(is_active=True).update(is_active=False)
    model = RiskModel.objects.create(
        version="MZ-risk-2026.2", name="民政服务机构火灾风险评估模型", is_active=True, red_from=60, orange_from=40,
        yellow_from=20,
        notes="建筑25、人员15、管理20、隐患与火灾30、监测10，共100分；未整改重大火灾隐患直接判定为重大风险。")
    RiskFactor.objects.bulk_create([
        RiskFactor(model=model, key=key, label=label, group=group, provider=provider, metric=metric, weight=weight,
                   start_at=start, full_at=full, invert=invert, min_level=min_level, lift_rule=rule,
                   institution_kinds=kinds, countermeasure=measure, order=order)
        for order, (key, label, group, provider, metric, weight, start, full, invert, min_level, rule, kinds,
                    measure) in enumerate(FACTORS)])


def unseed(apps, schema_editor):
    RiskModel = apps.get_model("assessment", "RiskModel")
    RiskModel.objects.filter(version="MZ-risk-2026.2").delete()
    RiskModel.objects.filter(version="MZ-risk-2026.1").update(is_active=True)
    apps.get_model("assessment", "FacilityRequirement").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("assessment", "0004_risk_kinds_lift_rules_facility_requirements")]
    operations = [migrations.RunPython(seed, unseed)]
