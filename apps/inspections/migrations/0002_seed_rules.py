"""Curated checklist templates (domain.md §8) and frequency rules (domain.md §4), version 1.

The bureau edits them in the admin; a new edition is a new version, old records keep theirs.
"""
from django.db import migrations

B = "building"
E = "evacuation"
F = "facilities"
L = "electrical"
IG = "ignition"
G = "gas"
M = "management"
O = "other"
CARE = ["elderly_care", "child_welfare", "destitute_support", "mental_welfare", "minor_protection",
        "relief_station", "community_care"]

# (code, name, purpose, kinds, basis, [(category, text, guidance, basis, counts_toward_major)])
TEMPLATES = [
    ("daily-patrol", "每日防火巡查", "patrol", [], "《机关、团体、企业、事业单位消防安全管理规定》第25条", [
        (F, "用火、用电有无违章情况", "查看电动车是否室内停放充电、有无私拉乱接电线", "61号令第25条", False),
        (E, "安全出口、疏散通道是否畅通，有无锁闭", "逐一推开安全出口门", "61号令第25条", True),
        (E, "安全疏散指示标志、应急照明是否完好", "", "61号令第25条", True),
        (F, "消防设施、器材和消防安全标志是否在位、完整", "灭火器压力指针在绿区", "61号令第25条", False),
        (E, "常闭式防火门是否处于关闭状态，防火卷帘下是否堆放物品", "", "61号令第25条", True),
        (M, "消防安全重点部位人员是否在岗", "消防控制室值班员、夜班护理员", "61号令第25条", False),
    ]),
    ("monthly-inspection", "月度防火检查", "inspection", [], "GB/T 40248 7.3.7；61号令第26条", [
        (M, "消防安全责任制、责任人和管理人是否落实", "", "61号令第26条", False),
        (M, "防火巡查记录是否完整、签名", "夜间巡查每2小时一次", "GB/T 40248 7.3.5", False),
        (E, "安全出口、疏散通道、疏散楼梯是否畅通，窗户有无影响逃生的防盗网", "", "GB 35181", True),
        (F, "火灾自动报警系统是否正常运行，有无屏蔽、停用", "查看控制器故障、屏蔽记录", "GB 35181", True),
        (F, "自动喷水灭火系统、室内消火栓是否有水、可用", "", "GB 35181", True),
        (F, "灭火器是否配置齐全、在有效期内", "", "GB 50140", False),
        (L, "有无使用非3C认证或串接的插线板", "重点检查床头、护理区", "隆化火灾教训", False),
        (L, "电气线路是否老化、敷设在可燃物上", "", "", False),
        (IG, "厨房燃气、油烟道是否定期检查清洗，液化气钢瓶是否放在室内", "", "", False),
        (M, "消防控制室是否24小时双人值班、持证上岗", "", "民发〔2023〕37号", False),
        (M, "是否按规定开展消防培训和疏散演练，有卧床老人疏散预案", "", "61号令第36、40条", False),
    ]),
    ("winter-self-check", "冬季消防安全自评自查自改（用火用电用气）", "self_assessment", CARE,
     "冬春火灾防控工作部署", [
        (IG, "取暖设备是否远离可燃物，有无使用明火取暖", "", "", False),
        (IG, "有无在床上吸烟、室内焚香烧纸", "", "", False),
        (L, "居室内有无使用电热毯、小太阳等大功率电器，有无超负荷用电", "", "", False),
        (L, "防褥疮气垫床、制氧机等医疗设备是否由固定插座供电，插线板不放在被褥旁", "隆化火灾教训", "", False),
        (L, "电动自行车是否在室内、楼道停放或充电", "", "", False),
        (L, "配电箱周围有无堆放可燃物，漏电保护是否有效", "按试验按钮", "", False),
        (G, "厨房燃气管道、阀门、软管是否完好，是否安装燃气泄漏报警", "", "", False),
        (G, "液化石油气钢瓶是否存放于室内或与明火同室", "", "", True),
        (F, "独立式感烟火灾探测报警器是否完好（小型养老机构居室）", "按测试键", "", False),
        (M, "是否制定冬季夜间巡查和值班安排", "", "", False),
    ]),
    ("electrical-special", "电气火灾专项检查", "electrical", [], "GB 50116 §9.2；GB 31252", [
        (L, "电气火灾监控系统是否安装、在线，报警是否及时处置", "剩余电流报警值300–500 mA", "GB 50116 §9.2", False),
        (L, "配电线路是否穿管保护，有无临时线路", "", "", False),
        (L, "插线板是否3C认证，有无串接使用", "", "", False),
        (L, "大功率电器是否专线专用", "", "", False),
        (L, "电缆、接线端子有无过热变色", "可用测温枪", "", False),
        (L, "电气设备维护保养记录是否齐全，电工是否持证", "", "", False),
    ]),
    ("festival-security", "节日期间消防安全检查", "festival", [], "节日期间安全防范工作部署", [
        (IG, "院内及周边是否禁止燃放烟花爆竹，有无专人看护", "", "", False),
        (B, "临时搭建的舞台、彩门、帐篷等临时建筑是否使用不燃材料", "", "", False),
        (L, "节日彩灯、临时用电线路是否规范敷设、有漏电保护", "", "", False),
        (E, "大型活动场所安全出口、疏散通道是否畅通", "", "", True),
        (M, "节日期间值班值守是否落实，领导带班", "", "", False),
        (M, "应急预案、微型消防站是否准备就绪", "", "", False),
    ]),
    ("elderly-major-hazard", "养老机构重大事故隐患检查表", "major_hazard", ["elderly_care", "community_care"],
     "民政部《养老机构重大事故隐患判定标准》（2023）", [
        (B, "养老服务用房是否经鉴定为C级、D级危房", "", "判定标准", True),
        (B, "是否采用易燃可燃芯材彩钢板搭建或大量使用可燃装修材料", "", "判定标准", True),
        (B, "老年人居室是否设置在规范禁止的楼层", "", "GB 35181", True),
        (F, "消防、电气、燃气设施是否经主管部门或第三方评估判定为不合格", "", "判定标准", True),
        (E, "安全出口数量不足或宽度不足规范值80%", "", "GB 35181", True),
        (F, "电梯、锅炉、氧气管道等特种设备是否未经检验或无证运行", "", "判定标准", True),
        (M, "特种设备作业人员是否无证上岗", "", "判定标准", True),
        (M, "医疗机构、食堂是否未取得许可", "", "判定标准", True),
    ]),
]

RULES = [
    # (kind, daily patrols, night interval hours, inspection days, self-assessment days, basis)
    ("", 1, None, 31, 366, "61号令第25、26条（默认）"),
    ("elderly_care", 1, 2, 31, 366, "61号令第25条；GB/T 40248 7.3.5：养老机构夜间至少每2小时巡查一次"),
    ("child_welfare", 1, 2, 31, 366, "61号令第25条；儿童福利机构夜间至少每2小时巡查一次"),
    ("destitute_support", 1, 2, 31, 366, "特困供养机构参照养老机构"),
]


def seed(apps, schema_editor):
    Template = apps.get_model("inspections", "ChecklistTemplate")
    Item = apps.get_model("inspections", "ChecklistItem")
    Rule = apps.get_model("inspections", "FrequencyRule")
    for code, name, purpose, kinds, basis, items in TEMPLATES:
        template, created = Template.objects.get_or_create(
            code=code, version=1, defaults=dict(name=name, purpose=purpose, institution_kinds=kinds, basis=basis))
        if created:
            Item.objects.bulk_create([
                Item(template=template, order=(i + 1) * 10, category=cat, text=text, guidance=guidance, basis=b,
                     counts_toward_major=major)
                for i, (cat, text, guidance, b, major) in enumerate(items)
            ])
    for kind, daily, night, insp, sa, basis in RULES:
        Rule.objects.get_or_create(institution_kind=kind, version=1, defaults=dict(
            daily_patrols=daily, night_interval_hours=night, inspection_interval_days=insp,
            self_assessment_interval_days=sa, basis=basis))


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
