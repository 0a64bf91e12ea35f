"""Demo organisation tree, institutions and accounts (called by ``seed_demo`` first)."""
from apps.ledger.choices import InstitutionKind as K

from .choices import OrgKind, Role
from .models import Organization, User

TOWNSHIPS = ["城关街道", "东湖街道", "西山镇", "南桥镇", "北岭镇", "青石镇", "白沙乡", "柳林镇", "河口镇"]
SECTIONS = {
    "养老慈善股": [K.ELDERLY_CARE, K.COMMUNITY_CARE, K.DESTITUTE_SUPPORT],
    "社会事务股": [K.CHILD_WELFARE, K.MINOR_PROTECTION, K.RELIEF_STATION, K.MENTAL_WELFARE, K.FUNERAL, K.OTHER],
}
UNITS = ["区社会福利中心", "区殡葬管理所"]

ACCOUNTS = [
    # username, role, org name or None, label
    ("admin", Role.ADMIN, "清河区民政局", "局管理员 bureau administrator"),
    ("bureau", Role.LEADER, "清河区民政局", "局领导 bureau leader (sees all)"),
    ("yanglao", Role.SECTION, "养老慈善股", "养老慈善股 elderly-care & charity section"),
    ("shiwu", Role.SECTION, "社会事务股", "社会事务股 social-affairs section"),
    ("town1", Role.TOWNSHIP, "城关街道", "城关街道民政办 township officer"),
    ("town2", Role.TOWNSHIP, "东湖街道", "东湖街道民政办 township officer"),
    ("city", Role.LEADER, "江州市民政局", "市民政局领导 city bureau leader (sees both districts)"),
    ("bureau2", Role.LEADER, "临江区民政局", "临江区民政局领导 second district's leader"),
]
# The city above the demo district, and a second district of the city (its own townships and
# institutions, a few hazards): the tree of administrations of issue 19.
CITY = "江州市民政局"
DISTRICT2 = "临江区民政局"
TOWNSHIPS2 = ["滨江街道", "望江镇", "桃源乡"]
INSTITUTIONS2 = [  # township index, kind, name
    (0, K.ELDERLY_CARE, "滨江颐养院"), (0, K.COMMUNITY_CARE, "滨江社区日间照料中心"),
    (1, K.ELDERLY_CARE, "望江镇敬老院"), (1, K.CHILD_WELFARE, "临江区儿童福利院"),
    (2, K.DESTITUTE_SUPPORT, "桃源乡特困供养服务中心"), (2, K.ELDERLY_CARE, "桃源康养中心"),
]
HAZARDS2 = [  # institution index, category, level, description
    (0, "electrical", "major", "配电箱未设漏电保护，线路老化"),
    (2, "evacuation", "general", "二楼疏散通道堆放杂物"),
    (3, "facilities", "general", "灭火器压力不足"),
    (5, "ignition", "major", "电动自行车在楼道内充电"),
]
PEOPLE = {
    "admin": "王建国", "bureau": "李明华", "city": "孙立新", "bureau2": "黄晓东", "yanglao": "张秀兰",
    "shiwu": "刘志强", "town1": "陈海燕",
    "town2": "赵立军", "home1": "周桂芳", "home2": "吴振东",
}


def seed_tree_and_users(ctx):
    from apps.ledger.demo import seed_institutions

    bureau, _ = Organization.objects.get_or_create(
        name="清河区民政局", defaults={"kind": OrgKind.BUREAU, "short_name": "区民政局", "phone": "0571-8800 1000",
                                   "address": "清河区人民路 88 号"})
    sections = {}
    for order, (name, kinds) in enumerate(SECTIONS.items()):
        sections[name], _ = Organization.objects.get_or_create(
            name=name, defaults={"kind": OrgKind.SECTION, "parent": bureau, "institution_kinds": list(kinds),
                                 "order": order})
    units = [Organization.objects.get_or_create(name=n, defaults={"kind": OrgKind.UNIT, "parent": bureau,
                                                                  "order": i})[0] for i, n in enumerate(UNITS)]
    townships = [
        Organization.objects.get_or_create(
            name=n, defaults={"kind": OrgKind.TOWNSHIP, "parent": bureau, "order": i, "short_name": n[:2],
                              "phone": f"0571-8800 2{i:03d}"})[0]
        for i, n in enumerate(TOWNSHIPS)
    ]
    Organization.objects.get_or_create(name="清河区应急管理局", defaults={"kind": OrgKind.EXTERNAL})
    ctx.update(bureau=bureau, sections=sections, units=units, townships=townships)
    seed_institutions(ctx)
    district2_townships = seed_city(bureau)

    orgs = {o.name: o for o in Organization.objects.all()}
    labels = []
    for username, role, org_name, label in ACCOUNTS:
        _user(username, role=role, organization=orgs[org_name], is_staff=(username == "admin"),
              is_superuser=(username == "admin"))
        labels.append((username, label))
    home1_inst, home2_inst = ctx["home1_institution"], ctx["home2_institution"]
    _user("home1", role=Role.INSTITUTION_MANAGER, institution=home1_inst)
    _user("home2", role=Role.INSTITUTION_MANAGER, institution=home2_inst)
    labels.append(("home1", f"{home1_inst.name} 机构负责人 (城关街道)"))
    labels.append(("home2", f"{home2_inst.name} 机构负责人 (东湖街道)"))
    ctx["users"] = {u.username: u for u in User.objects.filter(username__in=PEOPLE)}
    ctx["account_labels"] = labels
    seed_district2_institutions(district2_townships, ctx)


def seed_city(bureau):
    """The city above the demo district, and its second district with sections and townships."""
    city, _ = Organization.objects.get_or_create(
        name=CITY, defaults={"kind": OrgKind.CITY, "short_name": "市民政局", "phone": "0571-8600 1000"})
    if bureau.parent_id != city.pk:
        bureau.parent = city
        bureau.save()  # the district's subtree follows (its paths)
    district2, _ = Organization.objects.get_or_create(
        name=DISTRICT2, defaults={"kind": OrgKind.BUREAU, "parent": city, "short_name": "临江区民政局"})
    for order, (name, kinds) in enumerate(SECTIONS.items()):
        Organization.objects.get_or_create(
            name=f"临江区{name}", defaults={"kind": OrgKind.SECTION, "parent": district2,
                                           "institution_kinds": list(kinds), "order": order})
    return [Organization.objects.get_or_create(
        name=n, defaults={"kind": OrgKind.TOWNSHIP, "parent": district2, "order": i, "short_name": n[:2]})[0]
        for i, n in enumerate(TOWNSHIPS2)]


def seed_district2_institutions(townships, ctx):
    from apps.hazards.models import Hazard
    from apps.hazards.services import report_hazard
    from apps.ledger.models import Institution

    rng = ctx["rng"]
    institutions = []
    for ti, kind, name in INSTITUTIONS2:
        beds = rng.choice([40, 60, 90, 120])
        inst, _ = Institution.objects.get_or_create(name=name, defaults={
            "township": townships[ti], "kind": kind, "nature": "public", "address": f"临江区{townships[ti].name}",
            "beds": beds, "residents": int(beds * 0.8), "residents_disabled": beds // 5,
            "residents_bedridden": beds // 10, "staff_count": max(6, beds // 8), "night_staff_count": 2})
        institutions.append(inst)
    leader = User.objects.get(username="bureau2")
    for ii, category, level, description in HAZARDS2:
        if not Hazard.objects.filter(institution=institutions[ii], description=description).exists():
            report_hazard(leader, institutions[ii], category=category, description=description, level=level)


def _user(username, **fields):

    from apps.core.management.commands.seed_demo import DEMO_PASSWORD

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, full_name=PEOPLE.get(username, ""))
        for key, value in fields.items():
            setattr(user, key, value)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user
