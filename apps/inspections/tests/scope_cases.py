"""Every page and endpoint of the inspections app about an object of inst1 (see apps.core.scopecases)."""
import datetime

from apps.core.scopecases import ScopeCase

FILLERS = ("admin", "home1", "staff1")


def _inspection(w, submitted=True):
    from apps.inspections.models import Inspection

    found = Inspection.objects.filter(institution=w.inst1, state="submitted" if submitted else "draft").first()
    if found:
        return found
    from .helpers import submitted_inspection, template

    if submitted:
        return submitted_inspection(w.town1, w.inst1, fail=1)
    from apps.inspections import services

    return services.start_inspection(w.home1, w.inst1, template())


def _checkpoint(w):
    from apps.inspections import services
    from apps.inspections.models import Checkpoint

    return Checkpoint.objects.filter(institution=w.inst1).first() or services.create_checkpoint(
        w.home1, w.inst1, name="一楼走廊")


def _patrol(w):
    from apps.inspections import services
    from apps.inspections.models import PatrolRound

    found = PatrolRound.objects.filter(institution=w.inst1).first()
    if found:
        return found
    patrol = services.start_patrol(w.home1, w.inst1)
    services.record_visit(w.home1, patrol, _checkpoint(w))
    return patrol


OFFLINE_ROUND = "5b0f1d2e-1c9a-4c55-9a57-0d8e0a0f0001"
OFFLINE_VISIT = "5b0f1d2e-1c9a-4c55-9a57-0d8e0a0f0002"
OFFLINE_STARTED = "2026-11-20T21:00:00+08:00"


def _offline_round(w):
    from django.utils.dateparse import parse_datetime

    from apps.inspections import services

    return services.sync_round(w.home1, key=OFFLINE_ROUND, institution=w.inst1,
                               started_at=parse_datetime(OFFLINE_STARTED))[0]


def _offline_visit_data(w):
    cp = _checkpoint(w)
    return {"key": OFFLINE_VISIT, "round_key": OFFLINE_ROUND, "checkpoint": cp.pk, "ok": True,
            "visited_at": "2026-11-20T21:05:00+08:00", "checkpoint_name": cp.name, "checkpoint_location": cp.location}


def _offline_checklist_data(w):
    from apps.inspections.models import ChecklistTemplate

    tpl = ChecklistTemplate.objects.get(code="daily-patrol", is_active=True)
    return {"key": "5b0f1d2e-1c9a-4c55-9a57-0d8e0a0f0003", "institution": w.inst1.pk, "template": tpl.pk,
            "inspected_on": "2026-11-20", "inspector_name": "夜班王", "responsible_name": "李院长",
            "results": [{"item": i.pk, "result": "pass"} for i in tpl.items.all()]}


def _campaign(w):
    from apps.core.audit import acting_as
    from apps.inspections.models import Campaign, CampaignTask

    found = Campaign.objects.filter(name="一号街道专项行动").first()
    if found:
        return found
    with acting_as(w.town1):
        campaign = Campaign.objects.create(name="一号街道专项行动", owner_org=w.t1, starts_on=datetime.date(2026, 1, 1),
                                           ends_on=datetime.date(2026, 12, 31))
        campaign.townships.set([w.t1])
        CampaignTask.objects.create(campaign=campaign, title="全面排查", assignee_institution=w.inst1,
                                    assignee_name="李院长", due_on=datetime.date(2026, 6, 30))
    return campaign


def _stage(w):
    from apps.inspections.models import CampaignStage

    campaign = _campaign(w)
    return CampaignStage.objects.get_or_create(campaign=campaign, name="排查阶段", defaults={
        "starts_on": campaign.starts_on, "ends_on": campaign.ends_on})[0]


def _responsible(w):
    from apps.inspections.models import CampaignResponsible

    return CampaignResponsible.objects.get_or_create(campaign=_campaign(w), institution=w.inst1,
                                                     defaults={"person": "李院长"})[0]


def _task(w):
    return _campaign(w).tasks.first()


def _period(w):
    from django.utils import timezone

    from apps.core.audit import acting_as
    from apps.inspections.models import DutyShift, SecurityPeriod

    found = SecurityPeriod.objects.filter(name="一号街道春节安保").first()
    if found:
        return found
    now = timezone.now()
    with acting_as(w.town1):
        period = SecurityPeriod.objects.create(name="一号街道春节安保", event="春节", owner_org=w.t1, starts_at=now,
                                               ends_at=now + datetime.timedelta(days=3))
        period.townships.set([w.t1])
        period.key_places.set([w.inst1])
        DutyShift.objects.create(period=period, person="值班员", phone="13800000000", place="一号敬老院",
                                 institution=w.inst1, starts_at=now, ends_at=now + datetime.timedelta(hours=8))
    return period


def _shift(w):
    return _period(w).shifts.first()


def _district_period(w):
    """A bureau-run period over both townships: its rows inherit the scope of their own place."""
    from django.utils import timezone

    from apps.core.audit import acting_as
    from apps.inspections.models import DutyShift, InspectionSlot, SecurityPeriod

    found = SecurityPeriod.objects.filter(name="全区春节安保").first()
    if found:
        return found
    now = timezone.now()
    with acting_as(w.admin):
        period = SecurityPeriod.objects.create(name="全区春节安保", event="春节", owner_org=w.bureau, starts_at=now,
                                               ends_at=now + datetime.timedelta(days=3))
        period.townships.set([w.t1, w.t2])
        period.key_places.set([w.inst1, w.inst2])
        for inst in (w.inst1, w.inst2):
            InspectionSlot.objects.create(period=period, institution=inst, starts_at=now,
                                          ends_at=now + datetime.timedelta(hours=4))
            DutyShift.objects.create(period=period, person="值班员", phone="13800000000", place=inst.name,
                                     institution=inst, starts_at=now, ends_at=now + datetime.timedelta(hours=8))
    return period


def _district_campaign(w):
    from apps.core.audit import acting_as
    from apps.inspections.models import Campaign, CampaignTask

    found = Campaign.objects.filter(name="全区专项行动").first()
    if found:
        return found
    with acting_as(w.admin):
        campaign = Campaign.objects.create(name="全区专项行动", owner_org=w.bureau, starts_on=datetime.date(2026, 1, 1),
                                           ends_on=datetime.date(2026, 12, 31))
        campaign.townships.set([w.t1, w.t2])
        for inst in (w.inst1, w.inst2):
            CampaignTask.objects.create(campaign=campaign, title=f"{inst.name}自查", assignee_institution=inst,
                                        assignee_name="院长", due_on=datetime.date(2026, 6, 30))
        for town in (w.t1, w.t2):
            CampaignTask.objects.create(campaign=campaign, title=f"{town.name}逐家检查", assignee_org=town,
                                        assignee_name="主任", due_on=datetime.date(2026, 6, 30))
    return campaign


def _district_row(w, related, **match):
    return getattr(_district_period(w), related).get(**match) if related in ("slots", "shifts") else \
        _district_campaign(w).tasks.get(**match)


OFFICE_READERS = ("admin", "leader", "town1")
OFFICE_OUTSIDERS = ("town2", "home2")
WRITERS = ("admin", "sec_elderly_user", "town1", "home1", "staff1")

CASES = [
    ScopeCase("inspection-page", lambda w: f"/inspections/{_inspection(w).pk}/"),
    # The draft is home1's self-inspection: filled in by its inspector, the institution, or the bureau
    # (inspection.submit); other offices that see it get 403 from the policy (the policy matrix).
    ScopeCase("inspection-fill-page", lambda w: f"/inspections/{_inspection(w, False).pk}/fill/",
              readers=FILLERS),
    ScopeCase("inspection-api", lambda w: f"/api/v1/inspections/{_inspection(w).pk}/", api=True),
    ScopeCase("inspection-api-submit", lambda w: f"/api/v1/inspections/{_inspection(w, False).pk}/submit/",
              method="post", data=lambda w: {}, api=True, readers=FILLERS, ok=(400,)),
    ScopeCase("inspection-list-by-institution", lambda w: f"/inspections/?institution={w.inst1.pk}",
              outsiders=()),
    ScopeCase("checkpoint-page", lambda w: f"/inspections/checkpoints/{_checkpoint(w).pk}/"),
    ScopeCase("checkpoint-qr", lambda w: f"/inspections/checkpoints/{_checkpoint(w).pk}/qr.svg"),
    ScopeCase("checkpoint-labels", lambda w: f"/inspections/checkpoints/labels/?institution={w.inst1.pk}",
              setup=_checkpoint),
    ScopeCase("checkpoint-api", lambda w: f"/api/v1/checkpoints/{_checkpoint(w).pk}/", api=True),
    ScopeCase("patrol-page", lambda w: f"/inspections/patrols/{_patrol(w).pk}/"),
    ScopeCase("patrol-api", lambda w: f"/api/v1/patrols/{_patrol(w).pk}/", api=True),
    ScopeCase("patrol-api-visit", lambda w: f"/api/v1/patrols/{_patrol(w).pk}/visits/", method="post",
              data=lambda w: {"checkpoint": _checkpoint(w).pk, "ok": True}, api=True, readers=WRITERS, ok=(201,)),
    # Patrols without signal: the round and its visits as the phone sends them (sent again: stored once).
    ScopeCase("patrol-offline-page", lambda w: "/inspections/patrols/offline/", readers=WRITERS, outsiders=()),
    ScopeCase("patrol-offline-api-round", lambda w: "/api/v1/patrols/offline/", method="post", api=True,
              data=lambda w: {"key": OFFLINE_ROUND, "institution": w.inst1.pk, "started_at": OFFLINE_STARTED},
              readers=WRITERS, ok=(200, 201)),
    ScopeCase("patrol-offline-api-visit", lambda w: "/api/v1/patrols/offline-visits/", method="post", api=True,
              data=_offline_visit_data, setup=_offline_round, readers=WRITERS, ok=(200, 201)),
    ScopeCase("inspection-offline-api", lambda w: "/api/v1/inspections/offline/", method="post", api=True,
              data=_offline_checklist_data, readers=WRITERS, ok=(200, 201)),
    ScopeCase("campaign-page", lambda w: f"/inspections/campaigns/{_campaign(w).pk}/",
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("campaign-report", lambda w: f"/inspections/campaigns/{_campaign(w).pk}/report.xlsx",
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("campaign-api", lambda w: f"/api/v1/campaigns/{_campaign(w).pk}/", api=True,
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("campaign-api-progress", lambda w: f"/api/v1/campaigns/{_campaign(w).pk}/progress/", api=True,
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    # Progress narrowed to a part of the tree (?area=): the township of inst1 (town2 and home2 see neither
    # the campaign nor the township: 404).
    ScopeCase("campaign-page-area", lambda w: f"/inspections/campaigns/{_campaign(w).pk}/?area={w.t1.pk}",
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("campaign-api-progress-area",
              lambda w: f"/api/v1/campaigns/{_campaign(w).pk}/progress/?area={w.t1.pk}", api=True,
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("campaign-task-api", lambda w: f"/api/v1/campaign-tasks/{_task(w).pk}/", api=True,
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("campaign-task-add-page", lambda w: f"/inspections/campaigns/{_campaign(w).pk}/tasks/new/",
              readers=("admin", "town1"), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("security-period-page", lambda w: f"/inspections/security/{_period(w).pk}/",
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("security-period-api", lambda w: f"/api/v1/security-periods/{_period(w).pk}/", api=True,
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("duty-roster-api", lambda w: f"/api/v1/duty-rosters/{_shift(w).pk}/", api=True,
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("security-shift-add-page", lambda w: f"/inspections/security/{_period(w).pk}/shifts/new/",
              readers=("admin", "town1"), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("security-slot-add-page", lambda w: f"/inspections/security/{_period(w).pk}/slots/new/",
              readers=("admin", "town1"), outsiders=OFFICE_OUTSIDERS),
    # Child records of a district-wide period or campaign: every role, by the row's own place.
    ScopeCase("district-slot-api", lambda w: f"/api/v1/inspection-slots/{_district_row(w, 'slots', institution=w.inst1).pk}/",
              api=True),
    ScopeCase("district-shift-api", lambda w: f"/api/v1/duty-rosters/{_district_row(w, 'shifts', institution=w.inst1).pk}/",
              api=True),
    ScopeCase("district-institution-task-api",
              lambda w: f"/api/v1/campaign-tasks/{_district_row(w, 'tasks', assignee_institution=w.inst1).pk}/", api=True),
    ScopeCase("district-township-task-api",
              lambda w: f"/api/v1/campaign-tasks/{_district_row(w, 'tasks', assignee_org=w.t1).pk}/", api=True,
              readers=("admin", "leader", "town1", "home1", "staff1"),
              outsiders=("sec_social_user", "unit_user", "town2", "home2")),
    ScopeCase("campaign-stage-api", lambda w: f"/api/v1/campaign-stages/{_stage(w).pk}/", api=True,
              readers=OFFICE_READERS + ("home1",), outsiders=OFFICE_OUTSIDERS),
    ScopeCase("campaign-responsible-api", lambda w: f"/api/v1/campaign-responsibles/{_responsible(w).pk}/",
              api=True),
]


# Frequencies by level: a district's rule is seen by everyone under it (it applies to them) and by the
# levels above; the other district's whole cast gets 404 (``other_district``, test_scope_matrix).
def _frequency(w):
    from apps.inspections.models import FrequencyRule

    return FrequencyRule.objects.get_or_create(basis="范围测试频次", administration=w.bureau,
                                               defaults={"daily_patrols": 2})[0]


_EVERYONE = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1", "sec_social_user", "unit_user",
             "town2", "home2")
_CAST = _EVERYONE[1:]
CASES += [
    ScopeCase("frequency-list", lambda w: "/inspections/frequencies/", readers=_EVERYONE, outsiders=()),
    ScopeCase("frequency-api", lambda w: f"/api/v1/frequency-rules/{_frequency(w).pk}/", api=True,
              readers=_EVERYONE, outsiders=(), extra={"other_district": _CAST}),
    ScopeCase("frequency-edit-page", lambda w: f"/inspections/frequencies/{_frequency(w).pk}/edit/",
              readers=("admin",), outsiders=(), extra={"other_district": _CAST}),
]
