"""Demo data of the assessment app: fires with accountability, assessments, risk history (idempotent)."""
import datetime
from decimal import Decimal

from django.utils import timezone

from .choices import AccountabilityTarget, IncidentCause
from .models import (
    AccountabilityAction,
    Assessment,
    AssessmentAnswer,
    AssessmentQuestion,
    FireIncident,
    RiskSnapshot,
)
from .risk import refresh_risk

FIRES = [
    # days ago, place, cause, detail, deaths, injuries, loss, discovery, handling, accountability
    (400, "二楼护理区配电箱", IncidentCause.ELECTRICAL, "配电箱内接线端子松动过热引燃绝缘层", 0, 0, "8600",
     "电气火灾监控装置报警，值班员赶到现场发现冒烟", "切断电源，用二氧化碳灭火器扑灭；转移同层12名老人",
     [(AccountabilityTarget.UNIT, "维保单位", "约谈并责令对全部配电箱进行检测")]),
    (210, "厨房排油烟管道", IncidentCause.COOKING, "油烟管道长期未清洗，油垢被灶火引燃", 0, 1, "23000",
     "厨师发现排烟罩起火", "关闭燃气阀门，微型消防站队员用灭火毯和干粉灭火器扑灭，119到场复查",
     [(AccountabilityTarget.PERSON, "后勤负责人", "诫勉谈话"), (AccountabilityTarget.UNIT, "本机构",
                                                            "发出督办单，限期清洗油烟管道")]),
    (75, "一楼107室床边", IncidentCause.ELECTRICAL, "防褥疮气垫床插线板串接过载", 0, 0, "1200",
     "夜间巡查人员闻到焦味", "拔除插头，更换合格插座；排查全院插线板使用情况",
     [(AccountabilityTarget.PERSON, "当班护理员", "批评教育并重新培训")]),
]


def seed(ctx):
    rng, today, now = ctx["rng"], ctx["today"], ctx["now"]
    institutions = ctx["institutions"]
    users = ctx.get("users") or {}
    ids = [i.pk for i in institutions]
    refresh_risk(ids)
    _fires(ctx, institutions, now, users)
    _assessments(ctx, institutions, users)
    _history(ids, today, rng)


def _fires(ctx, institutions, now, users):
    if FireIncident.objects.filter(institution__in=institutions).exists():
        return
    targets = [ctx["home1_institution"], institutions[3], institutions[7 % len(institutions)]]
    recorder = users.get("town1")
    for inst, (days, place, cause, detail, deaths, injuries, loss, found, handled, actions) in zip(
            targets, FIRES, strict=False):
        incident = FireIncident.objects.create(
            institution=inst, occurred_at=now - datetime.timedelta(days=days, hours=3), place=place, cause=cause,
            cause_detail=detail, deaths=deaths, injuries=injuries, direct_loss=Decimal(loss), discovery=found,
            handling=handled, reported_by=recorder)
        for target, name, measure in actions:
            AccountabilityAction.objects.create(incident=incident, target=target, name=name, measure=measure,
                                                decided_on=(incident.occurred_at + datetime.timedelta(days=10)).date())


def _assessments(ctx, institutions, users):
    from .risk import score_institutions
    from .services import suggestions

    period = str(ctx["today"].year)
    questions = list(AssessmentQuestion.objects.filter(is_active=True))
    chosen = [ctx["home1_institution"], ctx["home2_institution"], *institutions[:4]]
    results = score_institutions([i.pk for i in chosen])
    signer = users.get("home1")
    for n, inst in enumerate(dict.fromkeys(chosen)):
        if Assessment.objects.filter(institution=inst, period=period).exists():
            continue
        r = results[inst.pk]
        a = Assessment.objects.create(institution=inst, period=period, score=Decimal(str(r.score)), level=r.level,
                                      indicators=r.factors_json(), **suggestions(r))
        for q in questions:
            AssessmentAnswer.objects.create(assessment=a, question=q, answer="no" if (q.pk + n) % 5 == 0 else "yes")
        if inst == ctx["home1_institution"] and signer is not None:
            a.state, a.signed_by, a.signer_name, a.signed_at = "signed", signer, signer.display_name, timezone.now()
            a.save()


def _history(ids, today, rng):
    """Monthly snapshots for the last six months (demo only), ending at today's computed level."""
    from .models import InstitutionRisk, RiskModel

    model = RiskModel.objects.filter(is_active=True).first()
    if model is None:
        return
    current = {r.institution_id: r for r in InstitutionRisk.objects.filter(institution_id__in=ids)}
    rows = []
    for iid, risk in current.items():
        score = float(risk.score)
        for months in range(6, 0, -1):
            day = (today.replace(day=1) - datetime.timedelta(days=30 * (months - 1))).replace(day=1)
            if day >= today:
                continue
            score_then = max(0.0, min(100.0, score + rng.uniform(-8, 12) * months / 3))
            rows.append(RiskSnapshot(institution_id=iid, day=day, score=Decimal(f"{score_then:.2f}"),
                                     level=model.level_for(Decimal(f"{score_then:.2f}")),
                                     model_version=model.version))
    RiskSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
