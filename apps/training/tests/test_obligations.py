"""Obligations are derived from the records at read time: built from records, checked as computed."""
import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing import api_client, page_client
from apps.training.models import ObligationRule, StaffMember
from apps.training.obligations import evaluate

from .factories import days, session, staff, today


def _status(person, kind):
    return next(o for o in person.obligations if o.kind == kind)


def _evaluate(member):
    return evaluate([StaffMember.objects.select_related("institution").get(pk=member.pk)], today())[0]


def test_a_person_hired_yesterday_without_onboarding_training_is_overdue(world):
    member = staff(world.inst1, "新员工", hired_on=today() - days(1))
    person = _evaluate(member)
    onboarding = _status(person, "onboarding")
    assert onboarding.status == "overdue" and onboarding.since == today()
    assert person.status == "overdue"
    body = page_client(world.home1).get(f"/training/compliance/institution/{world.inst1.pk}/").content.decode()
    assert f'data-person="{member.pk}" data-status="overdue"' in body
    api = api_client(world.town1).get(f"/api/v1/staff/{member.pk}/obligations/").json()
    assert api["status"] == "overdue"


def test_a_person_hired_today_has_onboarding_due_not_overdue(world):
    person = _evaluate(staff(world.inst1, "今天入职", hired_on=today()))
    assert _status(person, "onboarding").status == "due"


def test_change_of_post_training_is_due_before_the_new_post_not_after_a_grace(world):
    # 61号令第36条: training before the new post. A change in ten days: due now, due on the day of the change.
    coming = staff(world.inst1, "即将转岗", post_changed_on=today() + days(10))
    change = _status(_evaluate(coming), "change_of_post")
    assert change.status == "due" and change.due_on == today() + days(10)
    assert change.since == today() + days(10) - days(30)
    # Changed post last week without training: overdue since the day after the change (no 30-day grace).
    member = staff(world.inst1, "转岗员工", post_changed_on=today() - days(7))
    session(world.inst1, "onboarding", date=member.hired_on).attendances.create(staff=member)
    session(world.inst1, "all_staff", date=today() - days(30)).attendances.create(staff=member)
    person = _evaluate(member)
    change = _status(person, "change_of_post")
    assert change.status == "overdue" and change.since == today() - days(6)
    assert change.due_on == today() - days(7)
    assert person.status == "overdue"


def test_a_change_of_post_session_in_the_weeks_before_the_change_counts(world):
    member = staff(world.inst1, "转岗员工", post_changed_on=today() - days(7))
    session(world.inst1, "change_of_post", date=today() - days(20)).attendances.create(staff=member)
    assert _status(_evaluate(member), "change_of_post").status == "done"


def test_attending_a_session_clears_the_obligation(world):
    member = staff(world.inst1, "转岗员工", post_changed_on=today() - days(7), hired_on=today() - days(1))
    assert _evaluate(member).status == "overdue"
    onboarding = session(world.inst1, "onboarding", date=today())
    response = api_client(world.home1).post(f"/api/v1/trainings/{onboarding.pk}/attendance/",
                                            {"staff": [member.pk]}, format="json")
    assert response.status_code == 201 and response.json() == {"added": 1}
    person = _evaluate(member)
    assert _status(person, "onboarding").status == "done"
    assert _status(person, "onboarding").done_on == today()
    assert _status(person, "change_of_post").status == "done"  # an onboarding session after the change counts
    assert person.status == "done"


def test_a_change_of_post_session_long_before_the_change_does_not_count(world):
    member = staff(world.inst1, "转岗员工", post_changed_on=today() - days(45))
    session(world.inst1, "change_of_post", date=today() - days(80)).attendances.create(staff=member)
    change = _status(_evaluate(member), "change_of_post")
    assert change.status == "overdue" and change.since == today() - days(44)


def test_periodic_training_is_half_yearly_in_care_homes_and_yearly_elsewhere(world):
    from apps.ledger.models import Institution

    world.inst1b.kind = "community_care"  # not a residential kind: the yearly default applies
    Institution.objects.filter(pk=world.inst1b.pk).update(kind="community_care")
    home = staff(world.inst1, "养老院员工")
    centre = staff(world.inst1b, "中心员工")
    for member in (home, centre):
        session(member.institution, "onboarding", date=member.hired_on).attendances.create(staff=member)
        session(member.institution, "all_staff", date=today() - days(200), topic=member.name).attendances.create(
            staff=member)
    assert _status(_evaluate(home), "periodic").status == "overdue"
    periodic = _status(_evaluate(centre), "periodic")
    assert periodic.status == "done" and periodic.due_on == today() + days(165)


def test_the_rule_is_data_changing_it_changes_the_result(world):
    member = staff(world.inst1, "员工")
    session(world.inst1, "onboarding", date=member.hired_on).attendances.create(staff=member)
    session(world.inst1, "all_staff", date=today() - days(200)).attendances.create(staff=member)
    assert _status(_evaluate(member), "periodic").status == "overdue"
    ObligationRule.objects.filter(obligation="periodic", institution_kind="elderly_care").update(interval_days=365)
    assert _status(_evaluate(member), "periodic").status == "done"


def test_special_training_and_certificate_for_control_room_operators(world):
    member = staff(world.inst1, "值班员", roles=["control_room"], certificate_no="Z123",
                   certificate_expires=today() + days(20))
    person = _evaluate(member)
    kinds = {o.kind: o for o in person.obligations}
    assert kinds["certificate"].status == "due"  # expires within the rule's 60 days
    assert kinds["special"].status == "overdue"  # never trained, role held for over 30 days
    member.certificate_expires = today() - days(1)
    member.save()
    assert _status(_evaluate(member), "certificate").status == "overdue"


def test_responsible_persons_need_special_training(world):
    member = staff(world.inst1, "院长", roles=["responsible"])
    assert _status(_evaluate(member), "special").status == "overdue"
    session(None, "responsible_managers", date=today() - days(10)).attendances.create(staff=member)
    assert _status(_evaluate(member), "special").status == "done"


def test_people_who_left_have_no_obligations(world):
    member = staff(world.inst1, "离职员工", hired_on=today() - days(10), left_on=today() - days(2))
    assert _evaluate(member).obligations == []


@time_machine.travel(datetime.datetime(2026, 6, 1, 9, 0), tick=False)
def test_dates_come_from_the_clock_not_a_job(world):
    member = staff(world.inst1, "员工", hired_on=datetime.date(2026, 5, 31))
    assert _status(_evaluate(member), "onboarding").since == datetime.date(2026, 6, 1)
    with time_machine.travel(datetime.datetime(2026, 5, 31, 9, 0), tick=False):
        assert _status(_evaluate(member), "onboarding").status == "due"


def test_evaluating_many_people_takes_a_constant_number_of_queries(world):
    def run():
        qs = StaffMember.objects.select_related("institution")
        with CaptureQueriesContext(connection) as ctx:
            evaluate(qs, today())
        return len(ctx.captured_queries)

    staff(world.inst1, "甲")
    few = run()
    for i in range(60):
        m = staff(world.inst1 if i % 2 else world.inst2, f"员工{i}", roles=["manager"] if i % 5 == 0 else [])
        session(m.institution, "all_staff", date=today() - days(i), topic=f"t{i}").attendances.create(staff=m)
    assert run() == few


@pytest.mark.parametrize("level", ["district", "township", "institution"])
def test_compliance_pages_count_people_and_export(world, level):
    staff(world.inst1, "逾期者", hired_on=today() - days(1))
    ok = staff(world.inst1, "合规者")
    session(world.inst1, "onboarding", date=ok.hired_on).attendances.create(staff=ok)
    session(world.inst1, "all_staff", date=today() - days(10)).attendances.create(staff=ok)
    url = {"district": "/training/compliance/", "township": f"/training/compliance/township/{world.t1.pk}/",
           "institution": f"/training/compliance/institution/{world.inst1.pk}/"}[level]
    client = page_client(world.leader)
    body = client.get(url, {"status": "overdue"}).content.decode()
    assert "逾期者" in body and "合规者" not in body
    response = client.get(url, {"export": "xlsx", "people": 1})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    assert sorted(r[1] for r in rows) == ["合规者", "逾期者"]
    if level != "institution":
        summary = load_workbook(BytesIO(client.get(url, {"export": "xlsx"}).content)).active
        first = list(summary.iter_rows(min_row=2, values_only=True))[0]
        assert first[1:5] == (2, 1, 0, 1)


def test_compliance_page_queries_are_constant(world):
    client = page_client(world.town1)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/training/compliance/").status_code == 200
        return len(ctx.captured_queries)

    staff(world.inst1, "甲")
    few = count()
    for i in range(40):
        staff(world.inst1b if i % 2 else world.inst1, f"员工{i}")
    assert count() == few


def test_special_training_for_a_new_manager_counts_from_the_role_change(world):
    from apps.training.services import save_staff

    old = staff(world.inst1, "老管理人", roles=["manager"])
    veteran = staff(world.inst1, "老员工", hired_on=today() - days(3000))
    veteran.roles = ["manager"]
    save_staff(veteran, world.home1, changed_on=today() - days(3))
    special = _status(_evaluate(veteran), "special")
    assert special.status == "due" and special.since == today() - days(3)
    assert special.due_on == today() + days(27)
    old.refresh_from_db()
    assert "manager" not in old.roles  # one manager per institution: the previous one loses the role
    world.inst1.refresh_from_db()
    assert world.inst1.manager_name == "老员工"


def test_the_obligations_api_filters_by_status_across_pages(world):
    for i in range(60):
        staff(world.inst1, f"合规{i}").attendances.create(session=session(world.inst1, "onboarding", topic=f"t{i}"))
    late = staff(world.inst1, "逾期者", hired_on=today() - days(1))
    rows = api_client(world.town1).get("/api/v1/staff/obligations/", {"status": "overdue"}).json()
    assert rows["count"] == 1 and rows["results"][0]["id"] == late.pk
    assert rows["results"][0]["obligations"][0]["status"] == "overdue"


def test_drills_are_half_yearly_for_every_elderly_care_institution_and_rules_cite_their_source(world):
    from apps.ledger.models import Institution
    from apps.training.metrics import institution_compliance
    from apps.training.models import DrillRule

    from .factories import drill

    funeral = Institution.objects.create(township=world.t1, name="殡仪馆", kind="funeral", address="x")
    for inst in (world.inst1, funeral):
        assert not inst.is_key_unit
        drill(inst, date=today() - days(200))
    result = institution_compliance([world.inst1.pk, funeral.pk], today())
    assert result[world.inst1.pk]["drill_ok"] is False  # a non-key care home: every half year (须知)
    assert result[funeral.pk]["drill_ok"] is True  # another non-key unit: yearly (61号令第40条)
    assert all(r.basis for r in DrillRule.objects.filter(is_active=True))
    assert all(r.basis for r in ObligationRule.objects.filter(is_active=True))
    assert "须知" in DrillRule.objects.get(institution_kind="elderly_care").basis


def test_periodic_training_is_never_done_without_a_record(world):
    """已完成 only with a record behind it: a person with no session on record is not done."""
    member = staff(world.inst1, "新员工", hired_on=today() - days(10))
    periodic = _status(_evaluate(member), "periodic")
    assert periodic.status == "due" and periodic.done_on is None and periodic.since == member.hired_on
    assert periodic.due_on > today()


def test_the_compliance_page_names_the_users_part_of_the_tree(world):
    for user, label in ((world.home1, world.inst1.name), (world.town1, world.t1.name), (world.leader, "全区")):
        body = page_client(user).get("/training/compliance/").content.decode()
        assert f'<span id="compliance-scope">{label}</span>' in body, user
        if user != world.leader:
            assert "全区" not in body


def test_onboarding_is_not_due_before_the_start_date_and_not_done_either(world):
    """Entered ten days before starting: nothing due, nothing overdue, not 已完成; due on the start date."""
    member = staff(world.inst1, "未到岗", hired_on=today() + days(10))
    person = _evaluate(member)
    assert person.obligations == [] and person.status == "not_started" and person.starts_on == member.hired_on
    api = api_client(world.town1).get(f"/api/v1/staff/{member.pk}/obligations/").json()
    assert api["status"] == "not_started" and api["obligations"] == []
    done = api_client(world.town1).get("/api/v1/staff/obligations/", {"status": "done"}).json()["results"]
    assert member.pk not in [r["id"] for r in done]
    body = page_client(world.home1).get(f"/training/staff/{member.pk}/").content.decode()
    assert 'id="not-started"' in body and member.hired_on.isoformat() in body
    compliance = page_client(world.home1).get(f"/training/compliance/institution/{world.inst1.pk}/").content.decode()
    assert f'data-person="{member.pk}"' not in compliance
    with time_machine.travel(datetime.datetime.combine(member.hired_on, datetime.time(4)), tick=False):
        onboarding = _status(evaluate([StaffMember.objects.select_related("institution").get(pk=member.pk)],
                                      member.hired_on)[0], "onboarding")
    assert onboarding.status == "due" and onboarding.since == member.hired_on
