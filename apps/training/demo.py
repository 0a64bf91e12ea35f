"""Demo staff, trainings, drills and publicity across the past year (idempotent, bulk and fast).

Every institution gets a staff register whose people are a realistic mix of compliant, due and
overdue (home1's institution has each status); the named responsible person and manager of
the ledger are in the register with their roles.
"""
import datetime

from apps.ledger.choices import RESIDENTIAL_KINDS
from apps.ledger.demo import GIVEN, SURNAMES

from .models import Attendance, Drill, PublicityActivity, StaffMember, TrainingBatch, TrainingSession

D = datetime.timedelta
POSTS = ["护理员", "护理员", "护理员", "厨师", "保安", "电工", "保洁员", "行政文员", "康复师", "医生"]
# profile -> days since the last all-staff training (residential, other); None: no training
PROFILES = ["ok", "ok", "ok", "ok", "ok", "due", "overdue", "ok", "new", "post", "ok", "due"]
TOPICS = ["消防安全“四个能力”培训", "灭火器与室内消火栓实操", "初起火灾扑救与疏散引导", "电动自行车充电安全",
          "夜间火灾应急处置", "卧床老人疏散转移方法", "厨房用火用气安全", "消防设施日常检查"]
THEMES = ["冬春火灾防控宣传", "“119”消防宣传月", "家庭用火用电安全", "电动自行车安全充电", "校园消防安全第一课",
          "农村秸秆焚烧防火", "企业消防安全主体责任", "老年人居家防火"]
PLACES = {"enterprises": "工业园区", "villages": "村委会", "communities": "社区广场", "schools": "中心小学",
          "families": "入户走访"}


def _name(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng):
    return f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def seed(ctx):
    if StaffMember.objects.exists():
        return
    rng, today = ctx["rng"], ctx["today"]
    institutions = ctx["institutions"]
    home1 = ctx["home1_institution"]
    bureau = ctx["bureau"]

    # --- Staff ---
    plans = []  # (staff, profile)
    for inst in institutions:
        residential = inst.kind in RESIDENTIAL_KINDS
        n = max(5, min(inst.staff_count or 6, 14))
        people = []
        if inst.responsible_person:
            people.append((inst.responsible_person, inst.responsible_phone, "院长", ["responsible"]))
        if inst.manager_name:
            people.append((inst.manager_name, inst.manager_phone, "安全办主任", ["manager", "patroller"]))
        if inst.has_control_room:
            people.append((_name(rng), _phone(rng), "消防控制室值班员", ["control_room"]))
            people.append((_name(rng), _phone(rng), "消防控制室值班员", ["control_room", "micro_station"]))
        while len(people) < n:
            roles = ["micro_station"] if rng.random() < 0.2 else (["patroller"] if rng.random() < 0.2 else [])
            people.append((_name(rng), _phone(rng), rng.choice(POSTS), roles))
        for i, (name, phone, post, roles) in enumerate(people):
            profile = PROFILES[i % len(PROFILES)] if inst.pk == home1.pk else rng.choice(PROFILES)
            if set(roles) & {"responsible", "manager", "control_room"} and profile in ("new", "post"):
                profile = "ok"
            hired = today.replace(day=1) - D(days=rng.randint(200, 3000))
            hired = hired.replace(day=1)
            staff = StaffMember(institution=inst, name=name, phone=phone, post=post, roles=roles, hired_on=hired)
            if profile == "new":
                staff.hired_on = today - D(days=rng.randint(1, 5))
            if profile == "post":
                staff.post_changed_on = today - D(days=rng.randint(3, 12))
            if "control_room" in roles:
                staff.certificate_no = f"消操{rng.randint(100000, 999999)}"
                staff.certificate_expires = today + D(days=rng.choice([20, 200, 600, -10]))
            plans.append((staff, profile, residential))
        if rng.random() < 0.3:
            plans.append((StaffMember(institution=inst, name=_name(rng), phone=_phone(rng), post="护理员",
                                      hired_on=today - D(days=900), left_on=today - D(days=rng.randint(10, 200))),
                          "left", residential))
    StaffMember.objects.bulk_create([p[0] for p in plans])

    # --- Sessions and attendance ---
    sessions = {}

    def session_for(inst, category, date, topic=None):
        key = (inst.pk, category, date)
        if key not in sessions:
            sessions[key] = TrainingSession(
                organiser_level="institution", institution=inst, category=category, date=date,
                topic=topic or ("岗前消防安全培训" if category == "onboarding" else rng.choice(TOPICS)),
                hours=rng.choice([1, 1.5, 2, 3]), trainer=_name(rng), place="本院会议室")
        return sessions[key]

    links = []
    for staff, profile, residential in plans:
        inst = staff.institution
        if profile != "new":
            links.append((session_for(inst, "onboarding", staff.hired_on), staff))
        if profile == "left":
            continue
        ago = {"ok": rng.randint(10, 120), "new": None, "post": rng.randint(10, 120),
               "due": 165 if residential else 350, "overdue": 220 if residential else 400}[profile]
        if ago is not None:
            # all-staff sessions of an institution fall on a few shared dates
            date = today - D(days=ago)
            date = date - D(days=date.day % 7)
            links.append((session_for(inst, "all_staff", date), staff))
    # A bureau batch for responsible persons and managers: most have attended.
    batch_insts = [i for i in institutions if i.township_id in {t.pk for t in ctx["townships"][:4]}]
    batch = TrainingBatch.objects.create(
        name=f"{today.year}年度消防安全责任人、管理人培训（第一批）", category="responsible_managers",
        organizer_org=bureau, invited_roles=["responsible", "manager"], deadline=today + D(days=30),
        notes="按机构类别分批组织，未参训人员须参加下一场次。")
    batch.institutions.set(batch_insts)
    bureau_sessions = [
        TrainingSession(organiser_level="bureau", organizer_org=bureau, batch=batch, category="responsible_managers",
                        topic="消防安全责任人、管理人履职能力培训", date=today - D(days=d), hours=3, trainer="区消防救援大队",
                        place="区民政局三楼会议室") for d in (60, 45)]
    heads = TrainingSession(organiser_level="bureau", organizer_org=bureau, category="heads",
                            topic="民政服务机构负责人消防安全专题培训", date=today - D(days=200), hours=2,
                            trainer="区消防救援大队", place="区民政局报告厅")
    control = TrainingSession(organiser_level="bureau", organizer_org=bureau, category="control_room",
                              topic="消防控制室值班操作培训", date=today - D(days=90), hours=4, trainer="消防技术服务机构",
                              place="区社会福利中心")
    TrainingSession.objects.bulk_create(list(sessions.values()) + bureau_sessions + [heads, control])
    batch_ids = {i.pk for i in batch_insts}
    for staff, profile, _res in plans:
        roles = set(staff.roles or [])
        if profile == "left":
            continue
        if roles & {"responsible", "manager"}:
            if staff.institution_id in batch_ids and rng.random() < 0.75:
                links.append((rng.choice(bureau_sessions), staff))
            elif rng.random() < 0.5:
                links.append((heads, staff))
        if "control_room" in roles and rng.random() < 0.8:
            links.append((control, staff))
    seen = set()
    rows = []
    for s, staff in links:
        if (s.pk, staff.pk) not in seen:
            seen.add((s.pk, staff.pk))
            rows.append(Attendance(session=s, staff=staff, method=rng.choice(["register", "register", "qr"])))
    Attendance.objects.bulk_create(rows)

    # --- Drills ---
    from .choices import DrillScenario

    drills = []
    for inst in institutions:
        residential = inst.kind in RESIDENTIAL_KINDS
        count = rng.choice([0, 1, 2, 2, 3]) if inst.pk != home1.pk else 3
        for k in range(count):
            date = today - D(days=rng.randint(15, 360) if k else rng.randint(15, 240))
            scenario = rng.choice([DrillScenario.DAY, DrillScenario.NIGHT, DrillScenario.BEDRIDDEN,
                                   DrillScenario.KITCHEN, DrillScenario.ELECTRICAL]) if residential else \
                DrillScenario.DAY
            evac = int(inst.residents * rng.uniform(0.3, 0.9)) if residential else 0
            bedridden = min(inst.residents_bedridden, evac) if scenario == DrillScenario.BEDRIDDEN else \
                min(inst.residents_bedridden, evac) // 3
            drills.append(Drill(
                institution=inst, date=date, kind=rng.choice(["evacuation", "combined", "fire"]), scenario=scenario,
                scenario_detail="模拟夜间22时二楼居室电气线路起火" if scenario == DrillScenario.NIGHT else "",
                participants=rng.randint(8, 40), residents_evacuated=evac, bedridden_evacuated=bedridden,
                evacuation_seconds=rng.randint(150, 600), summary="演练按预案组织，人员分工明确。"))
    Drill.objects.bulk_create(drills)
    home1_drill = next((d for d in drills if d.institution_id == home1.pk), None)
    if home1_drill is not None:
        from .services import add_drill_problem

        user = ctx["users"].get("home1")
        add_drill_problem(home1_drill, user, "夜间疏散时二楼东侧防火门被杂物阻挡，延误疏散约1分钟。", to_hazard=True,
                          category="evacuation")

    # --- Publicity ---
    settings_ = list(PLACES)
    acts = []
    for t in ctx["townships"]:
        for _k in range(rng.randint(4, 9)):
            setting = rng.choice(settings_)
            acts.append(PublicityActivity(
                setting=setting, organizer_org=t, township=t, date=today - D(days=rng.randint(1, 360)),
                place=f"{t.name}{PLACES[setting]}", theme=rng.choice(THEMES), audience=rng.randint(20, 300)))
    for inst in institutions:
        if inst.kind in RESIDENTIAL_KINDS and (rng.random() < 0.5 or inst.pk == home1.pk):
            for _k in range(rng.randint(1, 3)):
                acts.append(PublicityActivity(
                    setting="residents", township_id=inst.township_id, institution=inst,
                    date=today - D(days=rng.randint(1, 360)), place="院内活动室",
                    theme=rng.choice(["老年人防火常识讲座", "安全用电小课堂", "火灾逃生自救演示"]),
                    audience=max(5, int(inst.residents * rng.uniform(0.3, 0.8)))))
    PublicityActivity.objects.bulk_create(acts)
