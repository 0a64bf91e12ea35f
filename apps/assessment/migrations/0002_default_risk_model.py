"""Seed the default risk model (MZ-risk-2026.1) and the self-assessment questions.

Weights are points out of 100; bands: red ≥ 60, orange ≥ 40, yellow ≥ 20, blue below.
The bureau tunes them in admin, or adds a version and activates it.
"""
from django.db import migrations

L, B, H = "apps.assessment.providers.", "building", "hazards"
INSP = "apps.inspections.metrics.institution_compliance"
TRAIN = "apps.training.metrics.institution_compliance"
MON = "apps.monitoring.metrics.institution_device_stats"

# key, label, group, provider, metric, weight, start_at, full_at, invert, min_level, countermeasure
FACTORS = [
    ("colour_steel", "彩钢夹芯板（可燃芯材）", B, L + "building_facts", "combustible_colour_steel", 10, 0, 1, False,
     "orange", "拆除或更换可燃芯材彩钢夹芯板；拆除前限制使用并加强巡查。"),
    ("no_sprinklers", "未设自动喷水灭火系统", B, L + "building_facts", "has_sprinklers", 5, 0, 1, True, "",
     "按规范增设自动喷水灭火系统或简易喷淋。"),
    ("no_auto_alarm", "未设火灾自动报警系统", B, L + "building_facts", "has_auto_alarm", 5, 0, 1, True, "",
     "增设火灾自动报警系统，居室安装独立式感烟火灾探测报警器。"),
    ("building_age", "建筑年代久远", B, L + "building_facts", "building_age", 3, 15, 40, False, "",
     "对老旧建筑开展电气线路和消防设施全面检测，必要时改造。"),
    ("dangerous_building", "C/D级危险房屋", B, L + "building_facts", "dangerous_building", 2, 0, 1, False, "orange",
     "C/D级房屋停止住人，限期加固或搬迁。"),
    ("beds", "床位规模", "people", L + "people_facts", "beds", 5, 50, 300, False, "",
     "按床位规模配足消防设施和夜间值班力量。"),
    ("vulnerable_share", "失能、卧床人员占比", "people", L + "people_facts", "vulnerable_share", 5, 0.1, 0.6, False,
     "", "失能卧床人员安排在低楼层、靠近出口的房间，制定一对一疏散预案。"),
    ("night_staff", "夜间每名值班人员对应住养人员数", "people", L + "people_facts", "residents_per_night_staff", 5,
     10, 40, False, "", "增加夜间值班人员，落实每2小时夜间防火巡查。"),
    ("patrol", "防火巡查不达标（含夜间巡查）", "management", INSP, "patrol_ok", 4, 0, 1, True, "",
     "落实每日防火巡查和夜间每2小时巡查，巡查记录签名留痕。"),
    ("missed_patrols", "近30日漏巡次数", "management", INSP, "missed_patrols_30d", 3, 0, 10, False, "",
     "查明漏巡原因，明确巡查责任人并纳入考核。"),
    ("inspection", "防火检查频次不达标", "management", INSP, "inspection_ok", 3, 0, 1, True, "",
     "每月至少组织一次防火检查，检查发现问题登记整改。"),
    ("drill", "疏散演练不达标", "management", TRAIN, "drill_ok", 5, 0, 1, True, "",
     "每半年至少组织一次灭火和应急疏散演练，重点演练卧床人员转移。"),
    ("training", "培训逾期人员", "management", TRAIN, "people_overdue", 5, 0, 5, False, "",
     "对逾期人员限期补训，落实入职必训、定期培训、转岗轮训。"),
    ("open_major", "未整改重大火灾隐患", H, L + "hazard_facts", "open_major", 15, 0, 1, False, "orange",
     "重大火灾隐患挂牌督办，落实措施、责任、资金、时限、预案，整改前采取临时防范措施。"),
    ("open_general", "未整改一般隐患", H, L + "hazard_facts", "open_general", 6, 0, 5, False, "",
     "按隐患清单逐项整改销号。"),
    ("overdue", "逾期未整改隐患", H, L + "hazard_facts", "overdue", 6, 0, 3, False, "",
     "对逾期隐患发建议函或督办单，上门跟踪督促整改。"),
    ("reopened", "反复出现（重新打开）的隐患", H, L + "hazard_facts", "reopened", 3, 0, 2, False, "",
     "开展“回头看”，查找反复出现的根源。"),
    ("alarms_30d", "近30日电气火灾监控报警", "sensors", MON, "alarms_30d", 5, 0, 10, False, "",
     "排查报警回路，整治线路老化、超负荷用电。"),
    ("offline_devices", "离线监测设备", "sensors", MON, "offline_devices", 5, 0, 3, False, "",
     "督促维保单位恢复离线设备，保证监测连续。"),
]

QUESTIONS = [
    ("b1", B, "建筑是否通过消防验收或备案？"),
    ("b2", B, "住人场所是否无可燃芯材彩钢夹芯板、无大量可燃装修？"),
    ("b3", B, "老年人、儿童居室是否设在规范允许的楼层？"),
    ("e1", "management", "安全出口、疏散通道是否畅通，无锁闭、堵塞？"),
    ("e2", "management", "应急照明和疏散指示标志是否完好有效？"),
    ("f1", B, "火灾自动报警、喷淋、消火栓等消防设施是否完好有效并每年全面检测？"),
    ("f2", B, "灭火器是否配足、在有效期内？"),
    ("el1", "sensors", "是否无私拉乱接电线、无串接插线板，医疗设备供电规范？"),
    ("el2", "sensors", "电动自行车是否未在室内停放、充电？"),
    ("m1", "management", "是否明确消防安全责任人、管理人并建立责任制？"),
    ("m2", "management", "是否落实24小时值班和夜间每2小时防火巡查？"),
    ("m3", "management", "是否每月开展防火检查并登记隐患整改？"),
    ("m4", "management", "全体员工是否按期参加消防培训？"),
    ("m5", "management", "是否每半年组织一次疏散演练，含卧床人员转移预案？"),
    ("p1", "people", "夜间值班人员是否足以疏散失能、卧床人员？"),
]


def seed(apps, schema_editor):
    RiskModel = apps.get_model("assessment", "RiskModel")
    RiskFactor = apps.get_model("assessment", "RiskFactor")
    Question = apps.get_model("assessment", "AssessmentQuestion")
    model, _ = RiskModel.objects.get_or_create(
        version="MZ-risk-2026.1",
        defaults=dict(name="民政服务机构火灾风险评估模型", is_active=True, red_from=60, orange_from=40, yellow_from=20,
                      notes="默认模型：建筑25、人员15、管理20、隐患30、监测10，共100分。"))
    for order, row in enumerate(FACTORS):
        key, label, group, provider, metric, weight, start, full, invert, min_level, measure = row
        RiskFactor.objects.get_or_create(model=model, key=key, defaults=dict(
            label=label, group=group, provider=provider, metric=metric, weight=weight, start_at=start,
            full_at=full, invert=invert, min_level=min_level, countermeasure=measure, order=order))
    for order, (code, group, text) in enumerate(QUESTIONS):
        Question.objects.get_or_create(code=code, defaults=dict(group=group, text=text, order=order))


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
