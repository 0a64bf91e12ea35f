"""Demo hazards: every state across the demo institutions, some overdue, major hazards under
listed supervision with follow-ups, extensions and issued documents (idempotent, fast)."""
import datetime

from django.utils import timezone

from .choices import HazardState
from .models import Hazard

MARKER = "【演示】"
DESCRIPTIONS = {
    "electrical": ["多个插线板串接使用，插线板放置在床铺旁", "电动自行车在楼道内充电", "配电箱周围堆放纸箱等可燃物",
                   "老人房间使用大功率电暖器", "防褥疮气垫床电源线临时拉接"],
    "evacuation": ["疏散走道堆放轮椅和杂物", "应急照明灯损坏3处", "疏散指示标志被遮挡"],
    "facilities": ["室内消火栓箱内水带缺失", "灭火器压力不足已过期", "火灾自动报警系统控制器显示故障",
                   "独立式烟感报警器未安装电池"],
    "ignition": ["厨房液化气钢瓶放在室内", "员工在宿舍内吸烟", "动火作业未办理审批"],
    "building": ["屋顶加建彩钢板房芯材为聚苯乙烯", "老年人居室设置在地下一层"],
    "gas": ["燃气软管老化开裂", "燃气报警器未与切断阀联动"],
    "management": ["夜间巡查记录缺失", "消防控制室仅1人值班", "未制定卧床老人疏散预案"],
}
# Major hazards with the rule set and elements that make them major, first applicable option taken:
# the elements ticked match the hazard (an elderly-care home's combustible colour steel is Art. 4 (3)
# of the civil-affairs standard; elsewhere the GB 35181-2025 element).
MAJOR = [
    ("building", "屋顶加建彩钢板房芯材为聚苯乙烯", [("MZ-elderly-2023", ["4(3)"]), ("GB35181-2025", ["P-steel"])]),
    ("building", "老年人居室设置在地下一层", [("GB35181-2025", ["P-floor"])]),
    ("facilities", "火灾自动报警系统故障停用，消防控制室值班人员无证，安全出口不足且疏散指示标志损坏过半",
     [("GB35181-2025", ["P-alarm", "P-operators", "P-exits", "P-signs"])]),
    ("building", "主楼经鉴定为C级危险房屋仍在使用", [("MZ-elderly-2023", ["4(1)"])]),
]
# A locked exit is put right on the spot (61号令 art. 30), recorded as such and never listed.
LOCKED_EXIT = "二楼安全出口上锁，当场开锁并落实专人管理钥匙"


def determination_for(hazard, options):
    """The first (rule set, elements) of ``options`` that applies to the finding, or (None, [])."""
    from .models import RuleElement
    from .supervision import applicable_rule_sets

    applicable = {rs.code: rs for rs in applicable_rule_sets(hazard)}
    for code, element_codes in options:
        if code in applicable:
            elements = list(RuleElement.objects.filter(rule_set=applicable[code], code__in=element_codes))
            if len(elements) == len(element_codes):
                return applicable[code], elements
    return None, []


def seed(ctx):
    seed_district(ctx)
    seed_city_listing(ctx)


# A major hazard of 清河区 listed for supervision by the city (市级挂牌督办): the district, the township
# and the institution see it; only the city delists it.
CITY_LISTED = "新建护理楼将老年人居室设置在地下一层，群众多次投诉至市民政局"


def seed_city_listing(ctx):
    from apps.orgs.demo import CITY
    from apps.orgs.models import Organization

    from . import services, supervision

    if Hazard.objects.filter(description=MARKER + CITY_LISTED).exists():
        return
    users, today = ctx["users"], ctx["today"]
    city, town1, admin = users.get("city"), users["town1"], users["admin"]
    city_org = Organization.objects.filter(name=CITY).first()
    township = ctx["townships"][0]
    inst = next((i for i in ctx["institutions"] if i.township_id == township.pk
                 and i.pk != ctx["home1_institution"].pk), None)
    if city is None or city_org is None or inst is None:
        return
    found_at = timezone.now() - datetime.timedelta(days=12)
    hazard = services.report_hazard(admin, inst, category="building", description=MARKER + CITY_LISTED,
                                    source="inspection", location="主楼北侧", found_at=found_at)
    rule_set, elements = determination_for(hazard, MAJOR[1][2])
    if rule_set is None:
        return
    det = supervision.determine(town1, hazard, rule_set=rule_set, elements=elements, crowded_place=True,
                                decided_level="major",
                                basis=f"经3人集体讨论，依据{rule_set.number}判定为{rule_set.get_hazard_term_display()}")
    from .models import Determination, Supervision

    Determination.objects.filter(pk=det.pk).update(decided_at=found_at + datetime.timedelta(days=1))
    s = supervision.list_supervision(
        city, hazard, supervising_department=city_org, deadline=today + datetime.timedelta(days=90),
        responsible_person=inst.responsible_person or "机构负责人", responsible_phone=inst.responsible_phone,
        measures="地下一层停止作为老年人居室，老人迁至地上楼层", responsibility="机构负责人总负责，区民政局、街道督促落实",
        funds=300000, emergency_plan="整改期间停用北侧居室，夜间双人值守")
    listed_at = found_at + datetime.timedelta(days=2)
    Supervision.objects.filter(pk=s.pk).update(listed_at=listed_at)
    supervision.add_follow_up(town1, s, visited_on=min(today, listed_at.date() + datetime.timedelta(days=3)),
                              people="街道民政办 李科长", findings="已约谈机构负责人，整改方案报区、市民政局",
                              photos=[_photo()()])


def seed_district(ctx):
    home1_inst = ctx["home1_institution"]
    if Hazard.objects.filter(institution=home1_inst, description__startswith=MARKER).exists():
        return
    from . import documents, services, supervision
    from .models import Determination, RuleSet, Supervision

    rng, today, users = ctx["rng"], ctx["today"], ctx["users"]
    admin, leader, town1 = users["admin"], users["bureau"], users["town1"]
    home1, home2 = users.get("home1"), users.get("home2")
    townships = ctx["townships"]
    photo = _photo()
    created = []

    def actors(inst):
        rectifier = home1 if inst == home1_inst else home2 if inst == ctx["home2_institution"] else admin
        verifier = town1 if inst.township_id == townships[0].pk else leader
        return rectifier, verifier

    def run(inst, category, text, state, *, level="general", overdue=False, source="self_inspection"):
        rectifier, verifier = actors(inst)
        hazard = services.report_hazard(
            rectifier, inst, category=category, description=MARKER + text, source=source, level=level,
            location=rng.choice(["一楼走廊", "二楼东侧", "厨房", "配电间", "老人居室", "屋顶"]),
            found_at=timezone.now() - datetime.timedelta(days=rng.randint(5, 40)),
            fixed_on_spot=(state == "spot"), photos_after=[photo()] if state == "spot" else ())
        if state in ("spot", HazardState.REGISTERED):
            return hazard
        services.submit_plan(rectifier, hazard, measures=f"针对“{text}”制定整改措施并落实到人",
                             deadline=today + datetime.timedelta(days=rng.randint(5, 40)),
                             responsible_person=inst.manager_name or "机构负责人",
                             responsible_phone=inst.manager_phone, funds=rng.choice([500, 2000, 8000, 50000]),
                             interim_safeguards="安排专人看守，增加巡查频次", emergency_plan="落实夜间双人值守和疏散预案")
        if overdue:
            Hazard.objects.filter(pk=hazard.pk).update(deadline=today - datetime.timedelta(days=rng.randint(2, 20)))
            hazard.refresh_from_db()
        if state == HazardState.RECTIFYING:
            services.add_note(rectifier, hazard, text="已采购材料，正在施工")
            return hazard
        services.submit_rectification(rectifier, hazard, report="已按方案整改完毕，请验收", photos_after=[photo()])
        if state == HazardState.AWAITING_VERIFICATION:
            return hazard
        if state == "sent_back":
            services.send_back(verifier, hazard, reason="整改后照片不能反映整改效果，请补充")
            return hazard
        services.verify(verifier, hazard, note="现场复核，整改到位")
        if state == "reopened":
            services.reopen(verifier, hazard, reason="回头看发现问题反弹",
                            deadline=today + datetime.timedelta(days=10))
        return hazard

    states = [HazardState.REGISTERED, HazardState.RECTIFYING, HazardState.AWAITING_VERIFICATION,
              HazardState.CLOSED, "spot", "sent_back", "reopened"]
    institutions = ctx["institutions"][:36]
    for i, inst in enumerate(institutions):
        for j in range(2 if inst not in (home1_inst, ctx["home2_institution"]) else 0):
            category = rng.choice([c for c in DESCRIPTIONS if c != "building"])
            state = states[(i + j) % len(states)]
            created.append(run(inst, category, rng.choice(DESCRIPTIONS[category]), state,
                               overdue=(state == HazardState.RECTIFYING and (i + j) % 3 == 0),
                               source=rng.choice(["self_inspection", "inspection", "patrol", "public_report"])))
    # home1's and home2's institutions: one of every state, some overdue
    for inst in (home1_inst, ctx["home2_institution"]):
        for k, state in enumerate(states):
            category = list(DESCRIPTIONS)[k % len(DESCRIPTIONS)]
            created.append(run(inst, category, DESCRIPTIONS[category][0], state, overdue=(k == 1)))

    # Locked exits found and fixed on the spot: recorded, not listed.
    for inst in (home1_inst, *institutions[6:8]):
        created.append(run(inst, "evacuation", LOCKED_EXIT, "spot", source="inspection"))

    # Major hazards under listed supervision: a determination whose elements match the hazard,
    # listing after the determination, follow-ups after the listing, and documents.
    majors = [(home1_inst, *MAJOR[0]), (home1_inst, *MAJOR[1])]
    majors += [(inst, *MAJOR[1 + n % 3]) for n, inst in enumerate(institutions[3:6])]
    for n, (inst, category, text, options) in enumerate(majors):
        in_force = set(RuleSet.objects.applicable(inst.kind, today).values_list("code", flat=True))
        if not any(code in in_force for code, _codes in options):
            category, text, options = MAJOR[1]  # a case every kind's rule sets cover
        rectifier, verifier = actors(inst)
        hazard = run(inst, category, text, HazardState.RECTIFYING, level="general", source="inspection")
        office = town1 if inst.township_id == townships[0].pk else leader
        rule_set, elements = determination_for(hazard, options)
        if rule_set is None:
            continue
        det = supervision.determine(office, hazard, rule_set=rule_set, elements=elements, crowded_place=True,
                                    decided_level="major",
                                    basis=f"经3人集体讨论，依据{rule_set.number}判定为{rule_set.get_hazard_term_display()}")
        found_on = timezone.localtime(hazard.found_at)
        Determination.objects.filter(pk=det.pk).update(decided_at=found_on + datetime.timedelta(days=1))
        s = supervision.list_supervision(
            office, hazard, supervising_department=inst.township, deadline=today + datetime.timedelta(days=60),
            responsible_person=inst.responsible_person or "机构负责人", responsible_phone=inst.responsible_phone,
            measures="拆除彩钢板房 / 增设疏散出口，重新布置老人居室", responsibility="机构负责人总负责，后勤主管具体落实",
            funds=rng.choice([30000, 80000, 150000]), emergency_plan="整改期间停止使用相关部位，夜间双人值守")
        listed_at = found_on + datetime.timedelta(days=2)
        Supervision.objects.filter(pk=s.pk).update(listed_at=listed_at)
        listed_on = listed_at.date()
        for days, findings in ((1, "现场核实隐患，督促制定方案"), (7, "整改方案已落实，施工进行中")):
            supervision.add_follow_up(office if office != leader else admin, s,
                                      visited_on=min(today, listed_on + datetime.timedelta(days=days)),
                                      people="民政办 李科长、王干事", findings=findings, photos=[photo()])
        issuer = town1 if inst.township_id == townships[0].pk else admin
        documents.issue_document(issuer, kind="supervision_order", institution=inst, hazards=[hazard],
                                 supervision=s, deadline=s.deadline,
                                 requirements="一、按整改方案落实“五落实”\n二、整改期间落实临时防范措施\n三、每周报送整改进展")
        if n == 0:
            supervision.request_extension(rectifier, s, new_deadline=today + datetime.timedelta(days=90),
                                          reason="彩钢板拆除需另行审批，工期延长")
    documents.issue_document(town1, kind="rectification_notice", institution=home1_inst,
                             hazards=[h for h in created if h.institution_id == home1_inst.pk and h.is_open][:2],
                             deadline=today + datetime.timedelta(days=15), requirements="请立即整改所列隐患并书面报告")
    # The ledger rules over the demo ledger (the signals' scans wait for the commit of the seeding).
    from .ledger_rules import scan

    scan()


def _photo():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (180, 60, 40)).save(buf, format="JPEG")
    data = buf.getvalue()
    return lambda: SimpleUploadedFile("demo.jpg", data, content_type="image/jpeg")
