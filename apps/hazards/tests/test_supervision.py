"""Listed supervision, determination, official documents and notifications."""
import datetime
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError

from apps.core.models import AuditEntry, Notification
from apps.core.testing import api_client, page_client
from apps.hazards import documents as docs
from apps.hazards import services
from apps.hazards import supervision as sup
from apps.hazards.choices import HazardState, SupervisionState
from apps.hazards.models import NumberFormat, OfficialDocument, RuleElement, RuleSet, Supervision

from .helpers import general, in_days, listed, major, photo, rectified

OLD_FINDING = datetime.datetime(2025, 6, 1, 10, tzinfo=datetime.UTC)


def test_a_major_hazard_goes_through_supervision_pages_as_each_role(world):
    hazard = major(world)
    town1, home1 = page_client(world.town1), page_client(world.home1)
    assert 'id="action-supervise"' in town1.get(hazard.get_absolute_url()).content.decode()
    assert 'id="action-supervise"' not in home1.get(hazard.get_absolute_url()).content.decode()
    response = town1.post(f"/hazards/{hazard.pk}/supervise/", {
        "supervising_department": world.t1.pk, "responsible_party": world.inst1.name, "responsible_person": "王院长",
        "deadline": in_days(30).isoformat(), "measures": "增设疏散楼梯", "responsibility": "院长总负责",
        "funds": "80000", "emergency_plan": "夜间双人值守"})
    assert response.status_code == 302
    s = Supervision.objects.get(hazard=hazard)
    year = s.year
    assert s.number == f"〔{year}〕第1号" and s.is_listed
    assert town1.post(f"/hazards/supervisions/{s.pk}/follow-up/", {
        "visited_on": in_days(0).isoformat(), "people": "李科长、赵干事", "findings": "楼梯已开工",
        "photos": [photo()]}).status_code == 302
    assert home1.post(f"/hazards/supervisions/{s.pk}/extension/", {
        "new_deadline": in_days(60).isoformat(), "reason": "钢结构楼梯需定制"}).status_code == 302
    ext = s.extensions.get()
    assert town1.post(f"/hazards/extensions/{ext.pk}/decide/", {"approve": "1", "reason": "理由充分"}).status_code == 302
    s.refresh_from_db()
    hazard.refresh_from_db()
    assert s.deadline == in_days(60) == hazard.deadline
    # delisting before closure is refused with a reason
    response = town1.post(f"/hazards/supervisions/{s.pk}/delist/", {"note": "摘牌"}, follow=True)
    assert "隐患验收销号后才能摘牌" in response.content.decode()
    s.refresh_from_db()
    assert s.is_listed
    rectified(world, hazard, user=world.staff1)
    services.verify(world.town1, hazard)
    assert town1.post(f"/hazards/supervisions/{s.pk}/delist/", {"note": "整改到位，予以摘牌"}).status_code == 302
    s.refresh_from_db()
    assert s.state == SupervisionState.DELISTED
    page = home1.get(s.get_absolute_url()).content.decode()
    assert "楼梯已开工" in page and "钢结构楼梯需定制" in page and "理由充分" in page
    actions = set(AuditEntry.objects.for_object(s).values_list("action", flat=True))
    assert {"supervision.list", "supervision.follow_up", "supervision.request_extension",
            "supervision.decide_extension", "supervision.delist"} <= actions


def test_supervision_numbers_follow_the_configured_format(world):
    NumberFormat.objects.filter(series="supervision").update(pattern="清民督〔{year}〕{n}号")
    first = listed(world)
    second = listed(world, major(world, description="彩钢板搭建"))
    assert first.number.startswith("清民督〔") and first.number.endswith("1号")
    assert second.seq == first.seq + 1


def test_only_a_major_hazard_or_a_hard_electrical_case_is_listed_and_only_once(world):
    with pytest.raises(services.TransitionRefused) as exc:
        listed(world, general(world, category="management"))
    assert "只有重大隐患或电气疑难隐患才能挂牌督办" in exc.value.messages[0]
    listed(world, general(world, category="electrical", description="线路老化疑难问题"))  # W2.2.2
    hazard = major(world)
    listed(world, hazard)
    with pytest.raises(services.TransitionRefused):
        listed(world, hazard)
    with pytest.raises(services.TransitionRefused):  # an institution does not list
        sup.list_supervision(world.home1, major(world), supervising_department=world.t1, deadline=in_days(3),
                             responsible_person="x", measures="x", responsibility="x", emergency_plan="x")


def test_supervisions_are_visible_up_the_tree(world):
    s = listed(world)
    for user in (world.home1, world.town1, world.leader, world.sec_elderly_user):
        ids = [r["id"] for r in api_client(user).get("/api/v1/supervisions/").json()["results"]]
        assert ids == [s.pk], user
    for user in (world.home2, world.town2, world.sec_social_user):
        assert api_client(user).get("/api/v1/supervisions/").json()["results"] == []


def test_supervision_through_the_api(world):
    hazard = major(world)
    town1 = api_client(world.town1)
    r = town1.post("/api/v1/supervisions/", {
        "hazard": hazard.pk, "supervising_department": world.t1.pk, "responsible_person": "王院长",
        "deadline": in_days(20).isoformat(), "measures": "增设出口", "responsibility": "院长",
        "emergency_plan": "值守"}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = town1.post(f"/api/v1/supervisions/{pk}/follow-ups/", {"visited_on": in_days(0).isoformat(),
                                                              "people": "李", "findings": "推进中",
                                                              "photos": [photo()]}, format="multipart")
    assert r.status_code == 201
    r = api_client(world.home1).post(f"/api/v1/supervisions/{pk}/extensions/",
                                     {"new_deadline": in_days(40).isoformat(), "reason": "材料未到"}, format="json")
    assert r.status_code == 201
    r = town1.post(f"/api/v1/supervision-extensions/{r.json()['id']}/decide/", {"approve": "0", "reason": "不可延期"},
                   format="json")
    assert r.status_code == 200 and r.json()["state"] == "refused"
    r = town1.post(f"/api/v1/supervisions/{pk}/delist/", {"note": "x"}, format="json")
    assert r.status_code == 409 and "销号后才能摘牌" in r.json()["detail"]
    detail = town1.get(f"/api/v1/supervisions/{pk}/").json()
    assert len(detail["follow_ups"]) == 1 and detail["extensions"][0]["state"] == "refused"


def test_a_person_decides_and_the_decision_with_its_basis_is_kept(world):
    hazard = general(world, found_at=OLD_FINDING)  # found under GB 35181-2017
    gb = RuleSet.objects.get(code="GB35181-2017")
    evac = RuleElement.objects.filter(rule_set=gb, code__in=["7.3.3", "7.3.6", "7.3.9"])
    client = page_client(world.town1)
    data = {"rule_set": gb.pk, "elements": [e.pk for e in evac], "crowded_place": "on"}
    page = client.post(f"/hazards/{hazard.pk}/determine/", {**data, "suggest": "1"}).content.decode()
    assert 'id="suggestion"' in page and "判定为重大火灾隐患" in page
    hazard.refresh_from_db()
    assert hazard.level == "general"  # a suggestion changes nothing
    response = client.post(f"/hazards/{hazard.pk}/determine/", {**data, "decide": "1", "decided_level": "major",
                                                                "basis": "集体讨论3人一致认定"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    det = hazard.determinations.get()
    assert hazard.level == "major" and det.decided_by == world.town1 and det.suggested_level == "major"
    assert det.basis == "集体讨论3人一致认定" and det.elements.count() == 3
    assert page_client(world.home1).get(f"/hazards/{hazard.pk}/determine/").status_code == 403
    r = api_client(world.town1).post(f"/api/v1/hazards/{hazard.pk}/determine/", {
        "rule_set": gb.pk, "elements": [], "decided_level": "general", "basis": "复核后降级"}, format="json")
    assert r.status_code == 201 and r.json()["suggested_level"] == "general"


def test_an_issued_document_is_numbered_recorded_and_its_docx_carries_the_record(world):
    from docx import Document

    s = listed(world)
    hazard = s.hazard
    client = page_client(world.town1)
    response = client.post("/hazards/documents/new/", {
        "kind": "supervision_order", "institution": world.inst1.pk, "hazards": [hazard.pk], "supervision": s.pk,
        "requirements": "一、立即增设安全出口\n二、整改期间落实夜间值守", "deadline": in_days(30).isoformat()})
    assert response.status_code == 302, response.content.decode()[:3000]
    document = OfficialDocument.objects.get()
    assert document.number == f"一号街道督〔{document.year}〕1号" or document.number.endswith("〔%d〕1号" % document.year)
    assert AuditEntry.objects.for_object(document).filter(action="document.issue").exists()
    content = client.get(f"/hazards/documents/{document.pk}/download/")
    body = b"".join(content.streaming_content)
    word = Document(io.BytesIO(body))
    text = "\n".join(p.text for p in word.paragraphs)
    form = {row.cells[0].text: row.cells[1].text for row in word.tables[0].rows}
    assert "火灾隐患整改督办单" in text and document.number in text
    assert form["被督办单位"] == world.inst1.name and form["挂牌督办编号"] == s.number
    assert "立即增设安全出口" in form["整改要求"] and form["督办部门"] == world.t1.name
    assert hazard.description in form["隐患情况"]
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.document_issued").exists()
    # the recipient acknowledges receipt; others may not
    assert client.post(f"/hazards/documents/{document.pk}/acknowledge/").status_code == 403
    page_client(world.home1).post(f"/hazards/documents/{document.pk}/acknowledge/")
    document.refresh_from_db()
    assert document.acknowledged_by == world.home1
    second = docs.issue_document(world.town1, kind="supervision_order", institution=world.inst1,
                                 requirements="再次督办", hazards=[hazard])
    assert second.seq == 2


def test_documents_through_the_api(world):
    hazard = general(world)
    r = api_client(world.town1).post("/api/v1/official-documents/", {
        "kind": "suggestion_letter", "institution": world.inst1.pk, "hazards": [hazard.pk],
        "requirements": "建议加强巡查"}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert api_client(world.home1).get(f"/api/v1/official-documents/{pk}/download/").status_code == 200
    r = api_client(world.home1).post(f"/api/v1/official-documents/{pk}/acknowledge/", {}, format="json")
    assert r.status_code == 200 and r.json()["acknowledged_at"]
    r = api_client(world.home1).post("/api/v1/official-documents/", {
        "kind": "suggestion_letter", "institution": world.inst1.pk, "requirements": "x"}, format="json")
    assert r.status_code == 403  # an institution may not issue (the role before the input)
    with pytest.raises(services.TransitionRefused):
        docs.issue_document(world.town1, kind="suggestion_letter", institution=world.inst1, requirements="x",
                            hazards=[general(world, institution=world.inst2)])


def test_notifications_for_assignment_verification_listing(world):
    hazard = services.report_hazard(world.town1, world.inst1, category="gas", description="燃气管老化")
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.assigned").count() == 1
    rectified(world, hazard)
    assert Notification.objects.filter(recipient=world.town1, verb="hazard.verification_requested").exists()
    listed(world)
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.major_listed").exists()
    assert Notification.objects.filter(recipient=world.leader, verb="hazard.major_listed").exists()


def test_deadline_reminders_come_once_then_as_a_daily_digest(world):
    hazard = general(world)
    services.submit_plan(world.home1, hazard, measures="m", responsible_person="p", deadline=in_days(3))
    services.deadline_reminders()
    services.deadline_reminders()
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.deadline_soon").count() == 1
    with time_machine.travel(in_days(4), tick=False):
        services.deadline_reminders()
        services.deadline_reminders()
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.overdue").count() == 1
    assert Notification.objects.filter(recipient=world.town1, verb="hazard.overdue").count() == 1
    assert Notification.objects.filter(verb="hazard.overdue_digest").count() == 0
    for day in (6, 7):
        with time_machine.travel(in_days(day), tick=False):
            services.deadline_reminders()
            services.deadline_reminders()
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.overdue").count() == 1
    assert Notification.objects.filter(recipient=world.home1, verb="hazard.overdue_digest").count() == 2
    from apps.core.notifications import run_scheduled

    assert "apps.hazards.scheduled.hazard_deadline_reminders" in run_scheduled()


def test_a_bad_extension_changes_nothing(world):
    s = listed(world)
    with pytest.raises(ValidationError):
        sup.request_extension(world.home1, s, new_deadline=in_days(1), reason="x")
    assert not s.extensions.exists()
    assert Supervision.objects.get(pk=s.pk).hazard.state == HazardState.REGISTERED
