"""Demo institutions: at least 60 of every kind across the demo townships (idempotent)."""
import datetime
from decimal import Decimal

from django.utils import timezone

from .choices import ColourSteel, OperatingNature, SafetyRating, StructureType
from .choices import InstitutionKind as K
from .models import Building, Institution

# kind -> (name patterns, share). {t} is the township's short name.
PATTERNS = {
    K.ELDERLY_CARE: ["{t}敬老院", "{t}颐养院", "{t}康乐养老院", "{t}福寿老年公寓", "{t}夕阳红护理院", "{t}安康养护中心",
                     "{t}松鹤养老院"],
    K.COMMUNITY_CARE: ["{t}社区居家养老服务中心", "{t}日间照料中心", "{t}老年助餐点"],
    K.DESTITUTE_SUPPORT: ["{t}特困人员供养服务中心"],
    K.CHILD_WELFARE: ["{t}儿童福利院", "{t}儿童之家"],
    K.MINOR_PROTECTION: ["{t}未成年人救助保护工作站"],
    K.RELIEF_STATION: ["{t}救助管理站"],
    K.MENTAL_WELFARE: ["{t}精神康复托养中心"],
    K.FUNERAL: ["{t}殡仪服务站", "{t}公益性公墓管理处"],
    K.OTHER: ["{t}婚姻登记服务点"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = ["建华", "秀英", "国强", "丽娟", "志明", "海燕", "春梅", "立新", "桂兰", "文斌", "晓东", "玉兰", "德胜",
         "红霞", "永刚", "美玲", "宏伟", "雪梅", "振华", "淑珍"]
ROADS = ["人民路", "解放路", "建设路", "新华街", "河滨路", "文化路", "青年路", "和平街", "兴业路", "团结路"]
CONTRACTORS = ["清河安泰消防技术服务有限公司", "华东消防设施维保有限公司", "平安消防工程有限公司", ""]


def _person(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng):
    return f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def seed_institutions(ctx):
    rng, today = ctx["rng"], ctx["today"]
    townships, units = ctx["townships"], ctx["units"]
    plan = []
    for ti, township in enumerate(townships):
        short = township.name.replace("街道", "").replace("镇", "").replace("乡", "")
        kinds = [K.ELDERLY_CARE, K.ELDERLY_CARE, K.COMMUNITY_CARE, K.ELDERLY_CARE]
        kinds += [[K.CHILD_WELFARE, K.DESTITUTE_SUPPORT, K.FUNERAL, K.RELIEF_STATION, K.MINOR_PROTECTION,
                   K.MENTAL_WELFARE, K.COMMUNITY_CARE, K.OTHER, K.ELDERLY_CARE][ti]]
        kinds += [[K.DESTITUTE_SUPPORT, K.FUNERAL, K.CHILD_WELFARE, K.COMMUNITY_CARE, K.ELDERLY_CARE,
                   K.DESTITUTE_SUPPORT, K.FUNERAL, K.COMMUNITY_CARE, K.MINOR_PROTECTION][ti]]
        kinds += [K.ELDERLY_CARE, K.COMMUNITY_CARE]
        used = set()
        for k in kinds:
            patterns = [p for p in PATTERNS[k] if p not in used] or PATTERNS[k]
            pattern = patterns[0]
            used.add(pattern)
            plan.append((township, k, pattern.format(t=short)))
    created = []
    for i, (township, kind, name) in enumerate(plan):
        residential = kind in {K.ELDERLY_CARE, K.CHILD_WELFARE, K.DESTITUTE_SUPPORT, K.MENTAL_WELFARE,
                               K.MINOR_PROTECTION, K.RELIEF_STATION}
        beds = rng.choice([30, 45, 60, 80, 120, 150, 200, 260]) if residential else rng.choice([0, 0, 10, 20])
        residents = int(beds * rng.uniform(0.55, 0.95))
        staff = max(4, beds // 6 + rng.randint(0, 6)) if residential else rng.randint(3, 12)
        inst, was_created = Institution.objects.get_or_create(
            township=township, name=name,
            defaults=dict(
                kind=kind,
                nature=rng.choice([OperatingNature.PUBLIC, OperatingNature.PRIVATE, OperatingNature.PUBLIC_PRIVATE]),
                operator_unit=units[0] if kind == K.CHILD_WELFARE and i % 2 == 0 else (
                    units[1] if kind == K.FUNERAL else None),
                address=f"清河区{township.name}{rng.choice(ROADS)}{rng.randint(1, 300)}号",
                latitude=Decimal("30.25") + Decimal(rng.randint(0, 4000)) / 100000,
                longitude=Decimal("120.15") + Decimal(rng.randint(0, 4000)) / 100000,
                licence_no=f"清民养备{2018 + i % 7}{i:04d}" if kind == K.ELDERLY_CARE else "",
                is_key_unit=residential and beds >= 100,
                beds=beds, residents=residents,
                residents_disabled=int(residents * rng.uniform(0.1, 0.4)) if residential else 0,
                residents_bedridden=int(residents * rng.uniform(0.05, 0.25)) if residential else 0,
                staff_count=staff, night_staff_count=max(1, staff // 5) if residential else 0,
                has_sprinklers=beds >= 80 or rng.random() < 0.3,
                has_auto_alarm=beds >= 60 or rng.random() < 0.4,
                has_smoke_alarms=rng.random() < 0.8,
                has_hydrants=rng.random() < 0.7,
                extinguisher_count=rng.randint(6, 60),
                has_emergency_lighting=rng.random() < 0.85,
                has_smoke_control=beds >= 150,
                has_control_room=beds >= 150,
                has_micro_station=rng.random() < 0.6,
                has_electrical_monitoring=i % 3 == 0,
                responsible_person=_person(rng), responsible_phone=_phone(rng),
                manager_name=_person(rng), manager_phone=_phone(rng),
                maintenance_contractor=rng.choice(CONTRACTORS),
                maintenance_contract_until=today + datetime.timedelta(days=rng.randint(-60, 400)),
                last_facility_test=today - datetime.timedelta(days=rng.randint(20, 500)),
            ),
        )
        if was_created:
            # The demo's records reach back months: the institutions were entered on the platform before them.
            Institution.objects.filter(pk=inst.pk).update(created=timezone.now() - datetime.timedelta(days=400))
        if was_created:
            _buildings(inst, rng)
        created.append(inst)
    ctx["institutions"] = created
    ctx["home1_institution"] = next(i for i in created if i.township == townships[0] and i.kind == K.ELDERLY_CARE)
    ctx["home2_institution"] = next(i for i in created if i.township == townships[1] and i.kind == K.ELDERLY_CARE)


def _buildings(inst, rng):
    count = 1 if inst.beds < 80 else 2
    for n in range(count):
        floors = rng.randint(2, 6)
        Building.objects.create(
            institution=inst, name=["主楼", "综合楼", "附楼"][n], usage=["居住", "居住及办公", "食堂及活动"][n],
            floors_above=floors, floors_below=rng.choice([0, 0, 1]), height_m=Decimal(floors * 3 + 1),
            area_m2=Decimal(rng.randint(800, 6000)), year_built=rng.randint(1988, 2022),
            structure=rng.choice([StructureType.REINFORCED_CONCRETE, StructureType.BRICK_CONCRETE]),
            fire_resistance=rng.choice(["1", "2", "2", "3"]),
            colour_steel=ColourSteel.COMBUSTIBLE if rng.random() < 0.12 else ColourSteel.NONE,
            safety_rating=rng.choice([SafetyRating.A, SafetyRating.B, SafetyRating.B, SafetyRating.C]),
            resident_floors="1-%d" % min(floors, 4), fire_acceptance=rng.random() < 0.85,
        )
