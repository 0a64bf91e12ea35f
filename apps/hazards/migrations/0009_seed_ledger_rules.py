"""The ledger rules shipped with the platform (issue 14 item 2): ledger facts that a standard makes a
hazard, each with the clause cited. The bureau edits or adds rules in admin (thresholds are data)."""
from django.db import migrations

ELDERLY = ["elderly_care", "destitute_support"]
RESIDENTIAL_OTHER = ["child_welfare", "minor_protection", "relief_station", "mental_welfare"]
ALL_BUT_MENTAL = ["elderly_care", "destitute_support", "community_care", "child_welfare", "minor_protection",
                  "relief_station", "funeral", "other"]

RULES = [
    ("LR-building-cd-elderly", "building_rating", {"ratings": ["C", "D"]}, ELDERLY, "building", "major",
     "{building}经鉴定为危险房屋（{detail}）仍在使用",
     "《养老机构重大事故隐患判定标准》（民办发〔2023〕13号）第四条第（一）项", ("MZ-elderly-2023", "4(1)")),
    ("LR-colour-steel-elderly", "colour_steel", {}, ELDERLY, "building", "major",
     "{building}使用易燃可燃芯材彩钢板搭建",
     "《养老机构重大事故隐患判定标准》（民办发〔2023〕13号）第四条第（三）项", ("MZ-elderly-2023", "4(3)")),
    ("LR-colour-steel-residential", "colour_steel", {}, RESIDENTIAL_OTHER, "building", "major",
     "{building}使用芯材可燃的彩钢夹芯板搭建（居住场所）",
     "GB 35181 直接判定要素：人员密集场所的居住场所采用芯材燃烧性能低于A级的彩钢夹芯板搭建（2017年版6.10；2025年版条款待核对）",
     ("GB35181-2025", "P-steel")),
    ("LR-alarm-absent", "facility_absent", {"field": "has_auto_alarm", "min_beds": 1}, ELDERLY, "facilities",
     "general", "未设置火灾自动报警系统",
     "GB 35181 综合判定要素：未按规定设置火灾自动报警系统（2017年版7.7.1）；设置范围见GB 50016（老年人照料设施），床位门槛为区局设定的数据",
     ("GB35181-2025", "P-alarm")),
    ("LR-sprinkler-absent", "facility_absent", {"field": "has_sprinklers", "min_beds": 1}, ELDERLY, "facilities",
     "general", "未设置自动喷水灭火系统",
     "GB 35181 综合判定要素：未按规定设置自动喷水灭火系统（2017年版7.4.4）；设置范围见GB 50016（老年人照料设施），床位门槛为区局设定的数据",
     ("GB35181-2025", "P-sprinkler")),
    ("LR-facility-test", "facility_test_overdue", {"days": 365}, [], "facilities", "general",
     "建筑消防设施逾期未进行年度全面检测（{detail}）",
     "《中华人民共和国消防法》第十六条第一款第（三）项：对建筑消防设施每年至少进行一次全面检测", None),
    ("LR-maintenance", "maintenance_overdue", {}, [], "facilities", "general",
     "消防设施无有效维护保养合同（{detail}）",
     "《中华人民共和国消防法》第十六条第一款第（二）项：定期组织检验、维修，确保消防设施完好有效", None),
    ("LR-operators-mental", "operators_uncertified", {}, ["mental_welfare"], "management", "major",
     "消防控制室值班人员未持有效证书：{detail}",
     "《精神卫生福利机构重大事故隐患判定标准》（民办发〔2025〕1号）：使用未取得相应资格的人员担任消防控制室值班人员",
     ("MZ-mental-2025", "A2-operators")),
    ("LR-operators", "operators_uncertified", {}, ALL_BUT_MENTAL, "management", "general",
     "消防控制室值班人员未持有效证书：{detail}",
     "GB 35181 综合判定要素：消防控制室值班人员未持证上岗（2017年版7.8.2）；消防控制室值班人员应持消防设施操作员证书（民发〔2023〕37号）",
     ("GB35181-2025", "P-operators")),
]


def seed(apps, schema_editor):
    LedgerRule = apps.get_model("hazards", "LedgerRule")
    RuleElement = apps.get_model("hazards", "RuleElement")
    for code, fact, params, kinds, category, level, description, citation, element in RULES:
        found = RuleElement.objects.filter(rule_set__code=element[0], code=element[1]).first() if element else None
        LedgerRule.objects.update_or_create(code=code, defaults=dict(
            fact=fact, params=params, institution_kinds=kinds, category=category, level=level,
            description=description, citation=citation, element=found, is_active=True))


class Migration(migrations.Migration):
    dependencies = [("hazards", "0008_ledger_rules_and_suggested_hazards")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
