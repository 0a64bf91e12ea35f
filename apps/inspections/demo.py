"""Demo data: checkpoints and patrols (with a missed night round at home1's institution), inspections,
a running winter campaign with partial progress, and a Spring Festival security period with a roster.

Idempotent: each part is skipped when its marker record exists.
"""
import datetime

from django.utils import timezone

from apps.core import scope
from apps.core.audit import acting_as
from apps.ledger.choices import InstitutionKind as K

from . import services
from .models import (
    Campaign,
    CampaignResponsible,
    CampaignStage,
    CampaignTask,
    ChecklistTemplate,
    Checkpoint,
    DutyShift,
    Inspection,
    InspectionSlot,
    PatrolRound,
    SecurityPeriod,
)

CAMPAIGN_NAME = "今冬明春消防安全专项行动"
SPRING_FESTIVALS = [datetime.date(2026, 2, 17), datetime.date(2027, 2, 6), datetime.date(2028, 1, 26),
                    datetime.date(2029, 2, 13), datetime.date(2030, 2, 3)]
CHECKPOINTS = [("一楼东侧安全出口", "一楼"), ("配电房", "一楼北侧"), ("厨房燃气间", "一楼西侧"), ("二楼护理区走廊", "二楼"),
               ("消防控制室", "一楼")]


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _template(code):
    return ChecklistTemplate.objects.filter(code=code, is_active=True).order_by("-version").first()


def seed_patrols(ctx):
    """A month of patrols at home1's institution: daily and every 2 h at night, except one night."""
    inst, user = ctx["home1_institution"], ctx["users"]["home1"]
    if PatrolRound.objects.filter(institution=inst).exists():
        return
    checkpoints = [services.create_checkpoint(user, inst, name=n, location=loc, order=i)
                   for i, (n, loc) in enumerate(CHECKPOINTS)]
    extra = services.create_checkpoint(ctx["users"]["home2"], ctx["home2_institution"], name="一楼安全出口",
                                       location="一楼")
    today = ctx["today"]
    # The demo's checkpoints were set up before the month of patrols it replays (missed patrols count from the
    # first checkpoint): dated like the institutions the ledger demo backdates.
    Checkpoint.objects.filter(pk__in=[c.pk for c in [*checkpoints, extra]]).update(
        created=_at(today - datetime.timedelta(days=32), 8))
    gap_night = today - datetime.timedelta(days=3)
    for back in range(31, 0, -1):
        day = today - datetime.timedelta(days=back)
        times = [_at(day, 9), _at(day, 15)]
        nights = [0, 5] if day == gap_night else [0, 2, 4, 6]  # the gap night: nobody from 00:00 to 05:00
        times += [_at(day, 22)] + [_at(day + datetime.timedelta(days=1), h) for h in nights]
        for t in times:
            if t + datetime.timedelta(minutes=10) > timezone.now():  # rounds not walked yet (or not finished)
                continue
            patrol = services.start_patrol(user, inst, started_at=t, patroller_name="值班护理员")
            for n, cp in enumerate(checkpoints[:3] if back <= 7 else checkpoints[:1]):
                problem = back == 5 and t.hour == 15 and n == 1
                services.record_visit(user, patrol, cp, visited_at=t + datetime.timedelta(minutes=3 * n),
                                      ok=not problem, finding="配电箱前堆放纸箱" if problem else "",
                                      open_hazard=problem, category="electrical")


def seed_campaign(ctx):
    """A running winter campaign over the whole demo district, with about 40 % of units inspected."""
    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return None
    today, rng, bureau = ctx["today"], ctx["rng"], ctx["bureau"]
    start = today - datetime.timedelta(days=30)
    end = today + datetime.timedelta(days=90)
    admin = ctx["users"]["bureau"]
    kinds = [K.ELDERLY_CARE, K.CHILD_WELFARE, K.DESTITUTE_SUPPORT, K.COMMUNITY_CARE]
    with acting_as(admin):
        campaign = Campaign.objects.create(
            name=CAMPAIGN_NAME, owner_org=bureau, institution_kinds=kinds, starts_on=start, ends_on=end,
            template=_template("winter-self-check"),
            roadmap="一、机构自评自查自改，建立问题隐患清单；\n二、乡镇（街道）逐家检查，一般隐患限期整改；\n"
                    "三、重大隐患挂牌督办，落实“五落实”；\n四、民政局抽查复核、回头看，整改销号。",
            description="聚焦用火、用电、用气安全，全面排查整治养老、儿童福利等民政服务机构火灾隐患。")
        campaign.townships.set(ctx["townships"])
        stages = [("动员部署", 0, 7), ("自查自纠", 7, 35), ("集中检查", 35, 80), ("整改销号", 80, 110),
                  ("总结验收", 110, 120)]
        for name, a, b in stages:
            CampaignStage.objects.create(campaign=campaign, name=name, starts_on=start + datetime.timedelta(days=a),
                                         ends_on=start + datetime.timedelta(days=b))
        in_scope = list(campaign.institutions_in_scope())
        CampaignResponsible.objects.bulk_create([
            CampaignResponsible(campaign=campaign, institution=i, person=i.responsible_person or "机构负责人",
                                phone=i.responsible_phone) for i in in_scope])
        for township in ctx["townships"]:
            CampaignTask.objects.create(campaign=campaign, title=f"{township.name}辖区机构逐家检查", assignee_org=township,
                                        assignee_name="分管领导", due_on=start + datetime.timedelta(days=80),
                                        done_on=today if rng.random() < 0.3 else None)
        CampaignTask.objects.create(campaign=campaign, title="完成冬季自评自查自改并上报",
                                    assignee_institution=ctx["home1_institution"], assignee_name="院长",
                                    due_on=start + datetime.timedelta(days=20))
    return campaign


def seed_inspections(ctx, campaign):
    """Inspections by townships (enforcement records) on part of the campaign's units, plus self-inspections."""
    if Inspection.objects.exists():
        return
    rng, today, users = ctx["rng"], ctx["today"], ctx["users"]
    monthly, winter = _template("monthly-inspection"), _template("winter-self-check")
    town_users = {u.organization_id: u for u in users.values() if scope.reaches_through(u, "township_id")}
    in_scope = list(campaign.institutions_in_scope()) if campaign else list(ctx["institutions"])
    rng.shuffle(in_scope)
    for n, inst in enumerate(in_scope[: max(4, len(in_scope) * 2 // 5)]):
        officer = town_users.get(inst.township_id) or users["admin"]  # the read-mostly leader records nothing
        day = today - datetime.timedelta(days=rng.randint(1, 25))
        inspection = services.start_inspection(officer, inst, monthly, inspected_on=day, campaign=campaign)
        items = list(inspection.items.all())
        fails = rng.sample(range(len(items)), k=rng.choice([0, 1, 1, 2]))
        results = {}
        for i, item in enumerate(items):
            if i in fails:
                results[item.pk] = {"result": "fail", "note": "现场检查发现，已拍照留存", "fixed_on_spot": i == fails[0] and n % 3 == 0}
            else:
                results[item.pk] = {"result": "pass"}
        services.submit_inspection(officer, inspection, results, inspector_name=officer.display_name,
                                   responsible_name=inst.responsible_person or "机构负责人")
    home1 = ctx["home1_institution"]
    inspection = services.start_inspection(users["home1"], home1, winter, inspected_on=today - datetime.timedelta(days=10))
    results = {}
    for i, item in enumerate(inspection.items.all()):
        results[item.pk] = {"result": "fail", "note": "床头使用串接插线板"} if i == 3 else {"result": "pass"}
    services.submit_inspection(users["home1"], inspection, results, inspector_name=users["home1"].display_name,
                               responsible_name=home1.responsible_person or "院长")


def seed_festival(ctx):
    """The next Spring Festival's security period with key places, slots and a duty roster."""
    if SecurityPeriod.objects.filter(event="春节").exists():
        return
    today, bureau = ctx["today"], ctx["bureau"]
    festival = next((d for d in SPRING_FESTIVALS if d >= today - datetime.timedelta(days=7)), SPRING_FESTIVALS[-1])
    start = _at(festival - datetime.timedelta(days=1), 0)
    end = _at(festival + datetime.timedelta(days=7), 0)
    key_places = [i for i in ctx["institutions"] if i.kind in (K.ELDERLY_CARE, K.CHILD_WELFARE)][:6]
    if ctx["home1_institution"] not in key_places:
        key_places.insert(0, ctx["home1_institution"])
    people = [("周建华", "13900001001"), ("吴丽娟", "13900001002"), ("郑志明", "13900001003"), ("王海燕", "13900001004")]
    with acting_as(ctx["users"]["bureau"]):
        period = SecurityPeriod.objects.create(
            name=f"{festival.year}年春节期间消防安全保卫", event="春节", owner_org=bureau, starts_at=start, ends_at=end,
            readiness_template=_template("festival-security"))
        period.townships.set(ctx["townships"])
        period.key_places.set(key_places)
        for d in range(8):
            day = festival - datetime.timedelta(days=1) + datetime.timedelta(days=d)
            for n, (hour_from, hour_to) in enumerate(((8, 12), (14, 18), (20, 23))):
                inst = key_places[(d * 3 + n) % len(key_places)]
                InspectionSlot.objects.create(period=period, institution=inst, starts_at=_at(day, hour_from),
                                              ends_at=_at(day, hour_to), assignee_name=people[n][0])
            for n, (hour_from, hours) in enumerate(((8, 12), (20, 12))):
                person, phone = people[(d + n) % len(people)]
                DutyShift.objects.create(period=period, person=person, phone=phone, place="区民政局值班室",
                                         starts_at=_at(day, hour_from),
                                         ends_at=_at(day, hour_from) + datetime.timedelta(hours=hours))
            DutyShift.objects.create(period=period, person="微型消防站队员", phone="13900001009",
                                     place=key_places[0].name, institution=key_places[0],
                                     starts_at=_at(day, 18), ends_at=_at(day, 18) + datetime.timedelta(hours=8),
                                     is_stationed_patrol=True)


CITY_CAMPAIGN_NAME = "江州市民政服务机构消防安全专项整治行动"


def seed_city_campaign(ctx):
    """A campaign launched by the city: it reaches every township of both districts; each district sees
    its own part, the city its progress per district (the inspections recorded within its dates count)."""
    from apps.orgs.demo import CITY
    from apps.orgs.models import Organization

    city = Organization.objects.filter(name=CITY).first()
    if city is None or Campaign.objects.filter(name=CITY_CAMPAIGN_NAME).exists():
        return None
    today = ctx["today"]
    start = today - datetime.timedelta(days=35)  # before the district's own: listed after it
    with acting_as(ctx["users"].get("city")):
        campaign = Campaign.objects.create(
            name=CITY_CAMPAIGN_NAME, owner_org=city, starts_on=start, ends_on=today + datetime.timedelta(days=55),
            roadmap="一、各区民政局组织辖区机构全面自查；\n二、区、街道逐家检查，建立隐患清单；\n"
                    "三、重大隐患由市民政局挂牌督办；\n四、市民政局分区通报进度、抽查复核。",
            description="全市养老、儿童福利、救助管理等民政服务机构消防安全专项整治，分区统计进度。")
        campaign.townships.set(Organization.objects.filter(kind="township", path__startswith=city.path))
        for name, a, b in (("部署发动", 0, 10), ("排查整治", 10, 70), ("督导检查", 70, 85), ("总结通报", 85, 90)):
            CampaignStage.objects.create(campaign=campaign, name=name, starts_on=start + datetime.timedelta(days=a),
                                         ends_on=start + datetime.timedelta(days=b))
    return campaign


def seed(ctx):
    seed_patrols(ctx)
    seed_city_campaign(ctx)
    campaign = seed_campaign(ctx) or Campaign.objects.filter(name=CAMPAIGN_NAME).first()
    seed_inspections(ctx, campaign)
    seed_festival(ctx)
