"""Date and count rules (apps.core.daterules): the page and the API refuse the same value with the same message."""
import datetime
import html

import pytest
from django.utils import timezone

from apps.core.daterules import RULES, errors_for
from apps.core.testing import api_client, page_client

pytestmark = pytest.mark.django_db


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def refused_alike(page_response, api_response, field, model, words):
    """The page shows the form again with the API's message for ``field``; nothing of ``model`` saved."""
    assert api_response.status_code == 400, api_response.content
    message = api_response.json()[field][0]
    assert words in message, message
    assert page_response.status_code in (200, 400), page_response.status_code  # the form, shown again
    assert message in html.unescape(page_response.content.decode())
    assert not model.objects.exists()


def _supervision_data(world, **kw):
    data = {"supervising_department": world.t1.pk, "responsible_party": world.inst1.name,
            "responsible_person": "王院长", "deadline": days(30).isoformat(), "measures": "增设疏散楼梯",
            "responsibility": "院长总负责", "funds": "80000", "emergency_plan": "夜间双人值守"}
    data.update(kw)
    return data


def test_a_supervision_deadline_in_the_past_is_refused_on_the_page_and_in_the_api(world):
    from apps.hazards.models import Supervision
    from apps.hazards.tests.helpers import major

    hazard = major(world)
    page = page_client(world.town1).post(f"/hazards/{hazard.pk}/supervise/",
                                         _supervision_data(world, deadline=days(-1).isoformat()))
    api = api_client(world.town1).post("/api/v1/supervisions/", {
        "hazard": hazard.pk, **_supervision_data(world, deadline=days(-1).isoformat())}, format="json")
    refused_alike(page, api, "deadline", Supervision, "不能早于今天")


def test_negative_funds_are_refused_on_the_page_and_in_the_api(world):
    from apps.hazards.models import Supervision
    from apps.hazards.tests.helpers import major

    hazard = major(world)
    page = page_client(world.town1).post(f"/hazards/{hazard.pk}/supervise/", _supervision_data(world, funds="-5"))
    api = api_client(world.town1).post("/api/v1/supervisions/", {
        "hazard": hazard.pk, **_supervision_data(world, funds="-5")}, format="json")
    refused_alike(page, api, "funds", Supervision, "不能为负数")


def test_a_follow_up_dated_in_the_future_is_refused_on_the_page_and_in_the_api(world):
    from apps.hazards.models import FollowUp
    from apps.hazards.tests.helpers import listed

    supervision = listed(world)
    data = {"visited_on": days(3).isoformat(), "people": "李科长", "findings": "楼梯已开工"}
    page = page_client(world.town1).post(f"/hazards/supervisions/{supervision.pk}/follow-up/", data)
    api = api_client(world.town1).post(f"/api/v1/supervisions/{supervision.pk}/follow-ups/", data, format="json")
    refused_alike(page, api, "visited_on", FollowUp, "不能晚于今天")


def test_an_inspection_dated_in_the_future_is_refused_on_the_page_and_in_the_api(world):
    from apps.inspections.models import Inspection
    from apps.inspections.tests.helpers import template

    tpl = template("winter-self-check")
    page = page_client(world.home1).post("/inspections/new/", {
        "institution": world.inst1.pk, "template": tpl.pk, "inspected_on": days(2).isoformat()})
    api = api_client(world.home1).post("/api/v1/inspections/", {
        "institution": world.inst1.pk, "template": tpl.pk, "inspected_on": days(2).isoformat()}, format="json")
    refused_alike(page, api, "inspected_on", Inspection, "不能晚于今天")
    today = api_client(world.home1).post("/api/v1/inspections/", {
        "institution": world.inst1.pk, "template": tpl.pk, "inspected_on": days(0).isoformat()}, format="json")
    assert today.status_code == 201, today.content


def test_a_drill_evacuating_more_residents_than_live_there_is_refused_on_the_page_and_in_the_api(world):
    from apps.training.models import Drill

    data = {"institution": world.inst1.pk, "date": days(0).isoformat(), "kind": "combined", "scenario": "day",
            "participants": 3, "residents_evacuated": world.inst1.residents + 1, "bedridden_evacuated": 0}
    page = page_client(world.home1).post("/training/drills/new/", data)
    api = api_client(world.home1).post("/api/v1/drills/", data, format="json")
    refused_alike(page, api, "residents_evacuated", Drill, "不能超过")


def test_a_drill_dated_in_the_future_is_refused_on_the_page_and_in_the_api(world):
    from apps.training.models import Drill

    data = {"institution": world.inst1.pk, "date": days(1).isoformat(), "kind": "combined", "scenario": "day",
            "participants": 10, "residents_evacuated": 5, "bedridden_evacuated": 0}
    page = page_client(world.home1).post("/training/drills/new/", data)
    api = api_client(world.home1).post("/api/v1/drills/", data, format="json")
    refused_alike(page, api, "date", Drill, "演练")


def test_a_training_session_dated_in_the_future_is_refused_on_the_page_and_in_the_api(world):
    from apps.training.models import TrainingSession

    data = {"organiser_level": "township", "category": "heads", "topic": "机构负责人培训",
            "date": days(5).isoformat(), "hours": "2", "trainer": "消防大队", "place": "街道会议室"}
    page = page_client(world.town1).post("/training/sessions/new/", data)
    api = api_client(world.town1).post("/api/v1/trainings/", data, format="json")
    refused_alike(page, api, "date", TrainingSession, "不能晚于今天")


def test_a_security_period_ending_before_it_starts_is_refused_on_the_page_and_in_the_api(world):
    from apps.inspections.models import SecurityPeriod

    data = {"name": "元宵节安保", "event": "元宵节", "townships": [world.t1.pk], "starts_at": "2027-02-21T00:00",
            "ends_at": "2027-02-20T00:00", "key_places": [world.inst1.pk]}
    page = page_client(world.town1).post("/inspections/security/new/", data)
    api = api_client(world.town1).post("/api/v1/security-periods/", {
        **data, "starts_at": "2027-02-21T00:00:00+08:00", "ends_at": "2027-02-20T00:00:00+08:00"}, format="json")
    refused_alike(page, api, "ends_at", SecurityPeriod, "结束")


def test_a_deadline_that_passed_since_does_not_block_other_edits(world):
    """"Not in the past" applies when a deadline is set, not to every later save of the record."""
    from apps.hazards.models import Supervision
    from apps.hazards.tests.helpers import listed

    supervision = listed(world)
    Supervision.objects.filter(pk=supervision.pk).update(deadline=days(-10))
    stored = Supervision.objects.get(pk=supervision.pk)
    stored.measures = "改为钢结构楼梯"
    stored.full_clean(exclude=["listed_by", "delisted_by"])  # no error: the deadline did not change
    stored.deadline = days(-5)
    with pytest.raises(Exception) as exc:
        stored.full_clean(exclude=["listed_by", "delisted_by"])
    assert "deadline" in exc.value.message_dict


def test_times_allow_a_small_clock_skew_and_today_counts_as_not_in_the_future():
    from apps.inspections.models import PatrolVisit
    from apps.training.models import TrainingSession

    now = timezone.now()
    assert not errors_for(PatrolVisit, {"visited_at": now + datetime.timedelta(minutes=2)})
    assert errors_for(PatrolVisit, {"visited_at": now + datetime.timedelta(hours=1)})
    assert not errors_for(TrainingSession, {"date": timezone.localdate()})


def test_every_rule_names_real_fields():
    from django.apps import apps

    for label, rules in RULES.items():
        model = apps.get_model(label)
        for rule in rules:
            for attr in ("field", "start", "end", "total"):
                path = getattr(rule, attr, None)
                if path:
                    target = model
                    *relations, name = path.split(".")
                    for relation in relations:
                        target = target._meta.get_field(relation).related_model
                    target._meta.get_field(name)  # raises FieldDoesNotExist


def test_a_record_of_work_with_a_mistyped_ancient_year_is_refused_by_the_api():
    """Found by schemathesis: a fire dated 0556 was stored and answered in pre-1901 local mean time."""
    from apps.assessment.models import FireIncident

    ancient = datetime.datetime(556, 7, 12, 3, 46, tzinfo=datetime.UTC)
    assert dict(errors_for(FireIncident, {"occurred_at": ancient})).keys() == {"occurred_at"}
    assert not errors_for(FireIncident, {"occurred_at": timezone.now() - datetime.timedelta(days=400)})


def test_the_incident_api_refuses_year_556(world):
    from apps.assessment.models import FireIncident

    incident = FireIncident.objects.create(institution=world.inst1, occurred_at=timezone.now(), place="配电箱",
                                           cause="electrical")
    response = api_client(world.admin).patch(f"/api/v1/fire-incidents/{incident.pk}/",
                                             {"occurred_at": "0556-07-12T03:46:27Z"}, format="json")
    assert response.status_code == 400 and "occurred_at" in response.json()
    incident.refresh_from_db()
    assert incident.occurred_at.year == timezone.now().year
