import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.audit import acting_as
from apps.core.testing import api_client, make_institution, page_client
from apps.hazards.choices import HazardState
from apps.hazards.models import Hazard
from apps.inspections import services
from apps.inspections.compliance import missed_patrols
from apps.inspections.models import Campaign, CampaignResponsible, DutyShift, InspectionSlot, SecurityPeriod

from .helpers import at, submitted_inspection

DAY = datetime.date(2026, 11, 10)
NOW = datetime.datetime(2026, 11, 12, 10, tzinfo=datetime.UTC)


def _patrol(user, inst, when):
    return services.start_patrol(user, inst, started_at=when)


def _full_night(user, inst, day):
    """A day round plus night rounds every 2 h from 22:00 to 06:00."""
    _patrol(user, inst, at(day, 9))
    for h in (22,):
        _patrol(user, inst, at(day, h))
    nxt = day + datetime.timedelta(days=1)
    for h in (0, 2, 4, 6):
        _patrol(user, inst, at(nxt, h))


def test_a_missed_night_patrol_is_detected_from_the_records_alone(world):
    with time_machine.travel(NOW):
        _full_night(world.home1, world.inst1, DAY)
        # The next night: rounds at 22:00 and 00:30, then nothing until 05:30 (a 5 h gap).
        nxt = DAY + datetime.timedelta(days=1)
        _patrol(world.home1, world.inst1, at(nxt, 9))
        _patrol(world.home1, world.inst1, at(nxt, 22))
        _patrol(world.home1, world.inst1, at(nxt + datetime.timedelta(days=1), 0, 30))
        _patrol(world.home1, world.inst1, at(nxt + datetime.timedelta(days=1), 5, 30))
        found = missed_patrols([world.inst1], DAY, nxt)[world.inst1.pk]
    assert [(m.kind, m.day) for m in found] == [("night", nxt)]
    assert found[0].gap_from == at(nxt + datetime.timedelta(days=1), 0, 30)
    assert found[0].gap_hours == 5.0


def test_a_night_with_rounds_every_two_hours_is_not_missed_and_no_night_rule_means_no_night_miss(world):
    with time_machine.travel(NOW):
        _full_night(world.home1, world.inst1, DAY)
        assert missed_patrols([world.inst1], DAY, DAY)[world.inst1.pk] == []
        funeral = make_institution(world.t1, "一号殡仪服务站", kind="funeral")
        type(funeral).objects.filter(pk=funeral.pk).update(created=world.inst1.created)  # entered long before
        funeral.refresh_from_db()
        _patrol(world.town1, funeral, at(DAY, 10))
        assert missed_patrols([funeral], DAY, DAY)[funeral.pk] == []
        quiet = missed_patrols([funeral], DAY, DAY + datetime.timedelta(days=1))[funeral.pk]
        assert [(m.kind, m.day) for m in quiet] == [("day", DAY + datetime.timedelta(days=1))]


def test_missed_patrols_are_shown_to_the_institution_and_its_township_but_not_to_others(world):
    with time_machine.travel(NOW):
        nxt = DAY + datetime.timedelta(days=1)
        _patrol(world.home1, world.inst1, at(nxt, 22))
        url = f"/inspections/patrols/missed/?since={DAY.isoformat()}"
        for user in (world.home1, world.town1):
            body = page_client(user).get(url).content.decode()
            assert "一号敬老院" in body
        assert "一号敬老院" not in page_client(world.town2).get(url).content.decode()
        rows = api_client(world.town1).get("/api/v1/patrols/missed/", {"since": DAY.isoformat(),
                                                                       "institution": world.inst1.pk}).json()
        assert any(r["kind"] == "night" and r["day"] == nxt.isoformat() for r in rows["results"])
        assert api_client(world.town2).get("/api/v1/patrols/missed/", {
            "institution": world.inst1.pk}).json()["count"] == 0


def test_a_checkpoint_visit_records_the_time_and_a_problem_opens_a_linked_hazard(world):
    checkpoint = services.create_checkpoint(world.home1, world.inst1, name="一楼东侧安全出口", location="一楼")
    client = page_client(world.home1)
    response = client.post(f"/inspections/checkpoints/{checkpoint.pk}/", {"ok": "0", "finding": "安全出口被杂物堵塞",
                                                                         "open_hazard": "on"})
    assert response.status_code == 302
    visit = checkpoint.visits.get()
    assert visit.hazard.source == "patrol" and visit.hazard.source_object == visit
    qr = client.get(f"/inspections/checkpoints/{checkpoint.pk}/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    labels = client.get("/inspections/checkpoints/labels/").content.decode()
    assert "一楼东侧安全出口" in labels and "<svg" in labels
    other = services.create_checkpoint(world.home2, world.inst2, name="别家检查点")
    patrol = visit.round
    with pytest.raises(ValidationError):
        services.record_visit(world.home1, patrol, other)


def test_the_patrol_api_records_visits(world):
    checkpoint = services.create_checkpoint(world.home1, world.inst1, name="厨房")
    client = api_client(world.home1)
    response = client.post("/api/v1/patrols/", {"institution": world.inst1.pk}, format="json")
    assert response.status_code == 201, response.json()
    pid = response.json()["id"]
    response = client.post(f"/api/v1/patrols/{pid}/visits/", {"checkpoint": checkpoint.pk, "ok": True},
                           format="json")
    assert response.status_code == 201 and len(response.json()["visits"]) == 1
    bad = client.post(f"/api/v1/patrols/{pid}/visits/", {"checkpoint": checkpoint.pk, "ok": False}, format="json")
    assert bad.status_code == 400
    assert api_client(world.home2).post("/api/v1/patrols/", {"institution": world.inst1.pk},
                                        format="json").status_code == 400


def _campaign(world):
    with acting_as(world.admin):
        campaign = Campaign.objects.create(name="冬季消防安全专项行动", owner_org=world.bureau,
                                           institution_kinds=["elderly_care"], starts_on=datetime.date(2026, 11, 1),
                                           ends_on=datetime.date(2027, 2, 28))
        campaign.townships.set([world.t1, world.t2])
    return campaign


def test_campaign_progress_equals_counts_over_the_records(world):
    campaign = _campaign(world)
    extra = make_institution(world.t1, "三号养老院")
    make_institution(world.t1, "一号儿童之家", kind="child_welfare")  # out of scope: wrong kind
    CampaignResponsible.objects.create(campaign=campaign, institution=world.inst1, person="赵主任")
    with time_machine.travel(datetime.datetime(2026, 12, 20, 10, tzinfo=datetime.UTC)):
        submitted_inspection(world.town1, world.inst1, fail=3, fixed=1, on=datetime.date(2026, 12, 1))
        submitted_inspection(world.town2, world.inst2, fail=1, on=datetime.date(2026, 12, 2))
        submitted_inspection(world.town1, extra, on=datetime.date(2026, 10, 1))  # before the campaign
        h = Hazard.objects.filter(institution=world.inst1, fixed_on_spot=False).order_by("pk")
        Hazard.objects.filter(pk=h[0].pk).update(deadline=datetime.date(2026, 12, 10))  # overdue
        Hazard.objects.filter(pk=h[1].pk).update(rectified_at=timezone.now(), deadline=datetime.date(2027, 1, 1),
                                                 state=HazardState.AWAITING_VERIFICATION)
        Hazard.objects.create(institution=extra, category="other", description="活动前发现",
                              found_at=at(datetime.date(2026, 10, 5), 10))  # before the campaign
        progress = api_client(world.leader).get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()
        town1 = api_client(world.town1).get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()
        page = page_client(world.leader).get(campaign.get_absolute_url())
        report = page_client(world.leader).get(f"/inspections/campaigns/{campaign.pk}/report.xlsx")
    totals = progress["totals"]
    assert totals["institutions"] == 3 and totals["inspected"] == 2 and totals["inspected_share"] == 67
    assert totals["found"] == 4 and totals["rectified"] == 2 and totals["closed"] == 1 and totals["overdue"] == 1
    rows = {r["institution_name"]: r for r in progress["rows"]}
    assert rows["一号敬老院"] == {**rows["一号敬老院"], "found": 3, "rectified": 2, "closed": 1, "overdue": 1,
                                 "inspected": True, "responsible": "赵主任"}
    assert rows["三号养老院"]["inspected"] is False and rows["三号养老院"]["found"] == 0
    assert {r["institution_name"] for r in town1["rows"]} == {"一号敬老院", "三号养老院"}
    assert page.status_code == 200 and "赵主任" in page.content.decode()
    sheet = load_workbook(__import__("io").BytesIO(report.content)).active
    assert sheet.max_row == 4


def test_campaign_and_patrol_lists_keep_constant_query_counts(world):
    page, api = page_client(world.leader), api_client(world.leader)
    _campaign(world)
    _period(world)
    patrol = services.start_patrol(world.home1, world.inst1)
    services.record_visit(world.home1, patrol, services.create_checkpoint(world.home1, world.inst1, name="起点"))
    urls = ["/inspections/campaigns/", "/api/v1/campaigns/", "/inspections/patrols/", "/api/v1/patrols/",
            "/inspections/checkpoints/", "/api/v1/checkpoints/", "/inspections/security/",
            "/api/v1/duty-rosters/", "/inspections/checklists/", "/api/v1/checklists/"]

    def count(url):
        client = api if url.startswith("/api/") else page
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200, url
        return len(ctx.captured_queries)

    few = {url: count(url) for url in urls}
    for n in range(4):
        inst = make_institution(world.t1, f"批量{n}")
        _campaign(world)
        patrol = services.start_patrol(world.town1, inst)
        cp = services.create_checkpoint(world.town1, inst, name=f"点{n}")
        services.record_visit(world.town1, patrol, cp)
        _period(world, inst)
    assert {url: count(url) for url in urls} == few


def _period(world, inst=None):
    inst = inst or world.inst1
    with acting_as(world.admin):
        period = SecurityPeriod.objects.create(
            name="2027年春节安全保卫", event="春节", owner_org=world.bureau,
            starts_at=at(datetime.date(2027, 2, 5), 0), ends_at=at(datetime.date(2027, 2, 12), 0))
        period.townships.set([world.t1])
        period.key_places.set([inst])
        InspectionSlot.objects.create(period=period, institution=inst, starts_at=at(datetime.date(2027, 2, 5), 8),
                                      ends_at=at(datetime.date(2027, 2, 5), 12), assignee_name="钱科员")
        InspectionSlot.objects.create(period=period, institution=inst, starts_at=at(datetime.date(2027, 2, 6), 8),
                                      ends_at=at(datetime.date(2027, 2, 6), 12), assignee_name="钱科员")
        DutyShift.objects.create(period=period, person="孙值班", phone="13800000001", place="区民政局值班室",
                                 starts_at=at(datetime.date(2027, 2, 6), 8), ends_at=at(datetime.date(2027, 2, 6), 20))
    return period


def test_the_festival_status_board_shows_slots_done_and_missed_and_who_is_on_duty(world):
    period = _period(world)
    with time_machine.travel(at(datetime.date(2027, 2, 5), 10)):  # a patrol is recorded once it is walked
        services.start_patrol(world.home1, world.inst1, started_at=at(datetime.date(2027, 2, 5), 9))
    with time_machine.travel(at(datetime.date(2027, 2, 6), 15)):
        body = page_client(world.town1).get(period.get_absolute_url()).content.decode()
        roster = api_client(world.town1).get("/api/v1/duty-rosters/", {
            "on_duty_at": "2027-02-06T07:00:00Z"}).json()
    assert 'id="slots-done">1<' in body and 'id="slots-missed">1<' in body
    assert "孙值班" in body.split('id="on-duty"')[1].split("</div></div>")[0]
    assert [r["person"] for r in roster["results"]] == ["孙值班"]
    assert page_client(world.town2).get(period.get_absolute_url()).status_code == 404


def test_compliance_and_missed_patrol_pages_keep_constant_query_counts(world):
    client = page_client(world.leader)
    services.start_patrol(world.home1, world.inst1, started_at=at(DAY, 9))

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = ["/inspections/compliance/", "/inspections/patrols/missed/"]
    few = [count(u) for u in urls]
    for n in range(5):
        inst = make_institution(world.t2, f"合规{n}")
        services.start_patrol(world.town2, inst, started_at=at(DAY, 10))
        submitted_inspection(world.town2, inst)
    assert [count(u) for u in urls] == few


def test_the_township_compliance_page_says_what_is_missing_and_since_when(world):
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)):
        submitted_inspection(world.town1, world.inst1, on=datetime.date(2026, 9, 1))
        body = page_client(world.town1).get("/inspections/compliance/", {"township": world.t1.pk}).content.decode()
        assert "逾期自" in body and "2026-10-02" in body  # 31 days after the last inspection
        assert "从未检查" in body  # inst1b
        assert "二号养老院" not in body


def test_last_nights_missed_patrol_is_notified_once_to_the_institution_and_its_township(world):
    from apps.core.models import Notification
    from apps.inspections.reminders import notify_missed_night_patrols

    nxt = DAY + datetime.timedelta(days=1)
    with time_machine.travel(at(nxt, 12)):
        _patrol(world.home1, world.inst1, at(DAY, 22))
        for h in (0, 2, 4, 6):
            _patrol(world.home1, world.inst1, at(nxt, h))
        _patrol(world.home2, world.inst2, at(DAY, 22))  # then nothing all night
        assert notify_missed_night_patrols(nxt) > 0
        again = notify_missed_night_patrols(nxt)
    assert again == 0
    notified = set(Notification.objects.filter(verb="patrol.missed").values_list("recipient__username", flat=True))
    assert {"t_town2", "t_home2"} <= notified
    assert not notified & {"t_home1", "t_staff1"}  # inst1 patrolled every 2 h
    town1_titles = [n.title for n in Notification.objects.filter(recipient=world.town1)]
    assert town1_titles and all("一号儿童福利院" in t for t in town1_titles)  # inst1b has no records at all
    assert "漏巡" in Notification.objects.filter(recipient=world.home2).first().title


def test_a_township_sets_up_a_security_period_with_a_roster_on_its_pages(world):
    client = page_client(world.town1)
    response = client.post("/inspections/security/new/", {
        "name": "元宵节安保", "event": "元宵节", "townships": [world.t1.pk], "starts_at": "2027-02-20T00:00",
        "ends_at": "2027-02-21T00:00", "key_places": [world.inst1.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    period = SecurityPeriod.objects.get(event="元宵节")
    assert period.owner_org == world.t1
    bad = client.post(f"/inspections/security/{period.pk}/shifts/new/", {
        "person": "赵值班", "phone": "13800000009", "place": "街道值班室", "starts_at": "2027-02-20T20:00",
        "ends_at": "2027-02-20T08:00"})
    assert bad.status_code == 400 and "结束时间早于开始时间" in bad.content.decode()
    ok = client.post(f"/inspections/security/{period.pk}/shifts/new/", {
        "person": "赵值班", "phone": "13800000009", "place": "街道值班室", "starts_at": "2027-02-20T08:00",
        "ends_at": "2027-02-20T20:00"})
    assert ok.status_code == 302 and period.shifts.get().person == "赵值班"
    assert page_client(world.home1).get(f"/inspections/security/{period.pk}/shifts/new/").status_code == 403
    assert page_client(world.town2).get(f"/inspections/security/{period.pk}/shifts/new/").status_code == 404


def test_the_campaign_owner_names_people_in_charge_through_the_api(world):
    campaign = _campaign(world)
    data = {"campaign": campaign.pk, "institution": world.inst1.pk, "person": "钱主任", "phone": "13800000002"}
    assert api_client(world.town1).post("/api/v1/campaign-responsibles/", data, format="json").status_code == 403
    response = api_client(world.admin).post("/api/v1/campaign-responsibles/", data, format="json")
    assert response.status_code == 201
    stage = api_client(world.admin).post("/api/v1/campaign-stages/", {
        "campaign": campaign.pk, "name": "集中检查", "starts_on": "2026-12-01", "ends_on": "2026-12-31"},
        format="json")
    assert stage.status_code == 201
    progress = api_client(world.town1).get(f"/api/v1/campaigns/{campaign.pk}/progress/").json()
    assert {r["institution_name"]: r["responsible"] for r in progress["rows"]}["一号敬老院"] == "钱主任"


def test_no_patrol_is_missed_before_the_institution_was_entered(world):
    """A newly imported institution has no missed patrols from before it existed on the platform."""
    import datetime

    from django.utils import timezone

    from apps.inspections.compliance import missed_patrols
    from apps.ledger.models import Institution

    today = timezone.localdate()
    Institution.objects.filter(pk=world.inst1.pk).update(created=timezone.now())
    inst = Institution.objects.get(pk=world.inst1.pk)
    found = missed_patrols([inst], today - datetime.timedelta(days=30), today)
    assert all(m.day >= today for m in found[inst.pk])
    older = Institution.objects.get(pk=world.inst2.pk)
    assert len(missed_patrols([older], today - datetime.timedelta(days=30), today)[older.pk]) >= 30


def test_missed_patrols_count_from_the_first_checkpoint_not_only_from_the_entry(world):
    """Entered long ago, its first checkpoint set up three days ago: no patrol is missed before it."""
    today = timezone.localdate()
    older = make_institution(world.t1, "早已录入敬老院")
    type(older).objects.filter(pk=older.pk).update(created=timezone.now() - datetime.timedelta(days=400))
    first = services.create_checkpoint(world.town1, older, name="配电间")
    services.create_checkpoint(world.town1, older, name="楼梯间")
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    type(first).objects.filter(pk=first.pk).update(created=three_days_ago)
    inst = type(older).objects.get(pk=older.pk)
    found = missed_patrols([inst], today - datetime.timedelta(days=30), today)[inst.pk]
    assert found and min(m.day for m in found) == timezone.localdate(three_days_ago)
    # Without a checkpoint the daily round is still owed from the day of entry.
    assert len(missed_patrols([world.inst2], today - datetime.timedelta(days=30), today)[world.inst2.pk]) >= 30
    body = page_client(world.town1).get("/inspections/patrols/missed/", {"institution": inst.pk}).content.decode()
    assert (today - datetime.timedelta(days=10)).isoformat() not in body
