"""Seed the major-hazard rule sets and the number formats as data the bureau can edit in admin.

GB 35181-2017 elements and counting rule as summarised in docs/domain.md §3 (the items relevant
to civil-affairs institutions); MZ-elderly-2023 with its verified items. GB35181-2025 and
MZ-child-2024 are created inactive and empty, ready for the bureau to fill in once the texts
are checked.
"""
from django.db import migrations

GB2017 = [
    ("D1", "direct", "building", "老年人照料设施、儿童活动场所设置在不符合规范要求的楼层"),
    ("D2", "direct", "building", "人员密集场所的居住部分采用芯材燃烧性能低于A级的彩钢夹芯板搭建"),
    ("D3", "direct", "management", "在人员密集场所违反消防安全规定使用、储存易燃易爆危险品"),
    ("D4", "direct", "evacuation", "人员密集场所的安全出口数量不足或其总净宽度小于规范规定值的80%"),
    ("C1", "comprehensive", "building", "防火分区面积超过规定值的50%以上"),
    ("C2", "comprehensive", "building", "防火门、防火卷帘等防火分隔设施损坏的数量大于50%"),
    ("C3", "comprehensive", "evacuation", "疏散指示标志或应急照明损坏率大于30%（高层、地下）或50%（其他）"),
    ("C4", "comprehensive", "evacuation", "楼梯间的门损坏率超过20%（高层含人员密集场所）或50%（其他）"),
    ("C5", "comprehensive", "evacuation", "安全出口被封堵、锁闭，或疏散走道被占用"),
    ("C6", "comprehensive", "evacuation", "防烟排烟设施未设置或不能正常使用"),
    ("C7", "comprehensive", "facilities", "火灾自动报警系统不能正常运行"),
    ("C8", "comprehensive", "facilities", "消防车道被堵塞、占用"),
    ("C9", "comprehensive", "building", "防火间距被占用或小于规定值的80%"),
    ("C10", "comprehensive", "facilities", "自动喷水灭火系统未按规定设置或不能正常使用"),
]
MZ2023 = [
    ("M1", "direct", "building", "房屋经鉴定为C级、D级危险房屋仍在使用"),
    ("M2", "direct", "facilities", "消防、电气、燃气设施经主管部门或第三方评估判定不符合要求"),
    ("M3", "direct", "building", "使用易燃可燃材料芯材彩钢板搭建，或大量使用易燃可燃材料装修"),
    ("M4", "direct", "electrical", "电梯、锅炉、氧气管道等特种设备未经许可或未经检验使用"),
    ("M5", "direct", "management", "内设医疗机构或食堂未依法取得许可"),
    ("M6", "direct", "management", "特种设备作业人员无证上岗"),
]


def seed(apps, schema_editor):
    RuleSet = apps.get_model("hazards", "RuleSet")
    RuleElement = apps.get_model("hazards", "RuleElement")
    NumberFormat = apps.get_model("hazards", "NumberFormat")
    sets = [
        ("GB35181-2017", "GB 35181-2017 重大火灾隐患判定规则", "2017", "2018-01-01", True,
         {"crowded_evacuation_min": 3, "comprehensive_min": 6}, GB2017,
         "人员密集场所存在3项及以上疏散类综合判定要素即判定为重大火灾隐患；其他情形的计数规则（4/6项）未经核实，可由区局修改。"),
        ("MZ-elderly-2023", "养老机构重大事故隐患判定标准（民政部，2023）", "2023", "2023-11-27", True, {}, MZ2023,
         "共5方面22种情形；此处录入已核实条目，其余条目待核实后补充。"),
        ("GB35181-2025", "GB 35181-2025 重大火灾隐患判定规则", "2025", "2025-11-01", False,
         {"crowded_evacuation_min": 3}, [], "条文待核实后录入。"),
        ("MZ-child-2024", "儿童福利机构重大事故隐患判定标准（民办发〔2024〕14号）", "2024", None, False, {}, [],
         "共5方面28种情形，条文待核实后录入。"),
    ]
    for code, name, version, effective, active, params, elements, notes in sets:
        rule_set, _ = RuleSet.objects.get_or_create(code=code, defaults=dict(
            name=name, version=version, effective_from=effective, is_active=active, params=params, notes=notes))
        for order, (ecode, kind, group, text) in enumerate(elements):
            RuleElement.objects.get_or_create(rule_set=rule_set, code=ecode,
                                              defaults=dict(kind=kind, group=group, text=text, order=order))
    for series, pattern in [
        ("supervision", "〔{year}〕第{n}号"),
        ("suggestion_letter", "{issuer}建〔{year}〕{n}号"),
        ("supervision_order", "{issuer}督〔{year}〕{n}号"),
        ("rectification_notice", "{issuer}责改〔{year}〕{n}号"),
    ]:
        NumberFormat.objects.get_or_create(series=series, defaults={"pattern": pattern})


class Migration(migrations.Migration):
    dependencies = [("hazards", "0002_numberformat_ruleset_hazard_emergency_plan_and_more")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
