"""The closed loop through the service functions, the pages and the API."""
import pytest
from django.core.exceptions import ValidationError

from apps.core.models import AuditEntry, Notification
from apps.core.testing import api_client, page_client
from apps.hazards import services
from apps.hazards.choices import HazardState
from apps.hazards.models import Hazard, HazardEvent

from .helpers import general, in_days, major, photo, planned, rectified


def _snapshot(hazard):
    hazard.refresh_from_db()
    return (hazard.state, hazard.verified_by_id, hazard.closed_at, AuditEntry.objects.for_object(hazard).count(),
            HazardEvent.objects.filter(hazard=hazard).count())


def test_the_whole_loop_through_the_pages_as_the_roles_that_take_each_step(world):
    home1, staff1, town1 = page_client(world.home1), page_client(world.staff1), page_client(world.town1)
    response = home1.post("/hazards/new/", {
        "institution": world.inst1.pk, "category": "electrical", "description": "走廊插线板串接", "source":
        "self_inspection", "level": "general", "location": "二楼走廊", "photos_before": [photo()]})
    assert response.status_code == 302, response.content.decode()[:2000]
    hazard = Hazard.objects.get(description="走廊插线板串接")
    assert hazard.state == HazardState.REGISTERED
    page = home1.get(hazard.get_absolute_url()).content.decode()
    assert 'id="action-plan"' in page and 'id="action-verify"' not in page
    response = home1.post(f"/hazards/{hazard.pk}/plan/", {
        "measures": "更换合格插线板", "responsible_person": "张三", "deadline": in_days(7).isoformat()})
    assert response.status_code == 302
    response = staff1.post(f"/hazards/{hazard.pk}/rectify/", {"report": "已更换", "photos_after": [photo()]})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.AWAITING_VERIFICATION and hazard.rectified_by == world.staff1
    # the rectifier sees no verify button; the manager does
    assert 'id="action-verify"' not in staff1.get(hazard.get_absolute_url()).content.decode()
    assert 'id="action-verify"' in home1.get(hazard.get_absolute_url()).content.decode()
    assert home1.post(f"/hazards/{hazard.pk}/verify/", {"note": "现场复核合格"}).status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.CLOSED and hazard.verified_by == world.home1
    # 回头看: the township re-opens it with a reason; the history stays
    assert town1.post(f"/hazards/{hazard.pk}/reopen/", {"reason": "回头看发现又串接"}).status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.RECTIFYING and hazard.reopened_count == 1 and hazard.closed_at is None
    actions = list(hazard.events.values_list("action", flat=True))
    assert actions == ["report", "plan", "rectify", "verify", "reopen"]
    page = town1.get(hazard.get_absolute_url()).content.decode()
    assert "回头看发现又串接" in page and "现场复核合格" in page


def test_home1_verifying_its_own_major_hazard_is_refused_with_a_clear_reason_and_nothing_changes(world):
    hazard = rectified(world, major(world), user=world.home1)
    before = _snapshot(hazard)
    with pytest.raises(services.TransitionRefused) as exc:
        services.verify(world.home1, hazard)
    text = "；".join(exc.value.messages)
    assert "重大隐患只能由乡镇（街道）民政办或区民政局验收" in text
    assert _snapshot(hazard) == before
    # through the page: an error message, the hazard unchanged
    response = page_client(world.home1).post(f"/hazards/{hazard.pk}/verify/", {"note": ""}, follow=True)
    assert "重大隐患只能由乡镇（街道）民政办或区民政局验收" in response.content.decode()
    assert _snapshot(hazard) == before
    # through the API: 409 with the reason
    response = api_client(world.home1).post(f"/api/v1/hazards/{hazard.pk}/verify/", {}, format="json")
    assert response.status_code == 409 and "重大隐患" in response.json()["detail"]
    assert _snapshot(hazard) == before
    # the township office may
    services.verify(world.town1, hazard)
    assert _snapshot(hazard)[0] == HazardState.CLOSED


def test_the_rectifier_may_not_verify_a_general_hazard(world):
    hazard = rectified(world, general(world), user=world.home1)
    with pytest.raises(services.TransitionRefused) as exc:
        services.verify(world.home1, hazard)
    assert "验收人不能是整改人" in "".join(exc.value.messages)


def test_steps_out_of_order_or_by_the_wrong_role_are_refused(world):
    hazard = general(world)
    with pytest.raises(services.TransitionRefused) as exc:
        services.verify(world.town1, hazard)
    assert "不能" in "".join(exc.value.messages)
    with pytest.raises(services.TransitionRefused):
        planned(world, hazard, user=world.town1)  # the institution rectifies, not the township
    with pytest.raises(ValidationError):
        services.submit_rectification(world.home1, planned(world, hazard), report="好了", photos_after=[])
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.RECTIFYING


def test_a_major_plan_needs_funds_and_an_emergency_plan(world):
    with pytest.raises(ValidationError) as exc:
        planned(world, major(world), funds=None, emergency_plan="")
    assert set(exc.value.message_dict) == {"funds", "emergency_plan"}


def test_send_back_needs_a_reason_and_returns_to_rectifying(world):
    hazard = rectified(world, general(world))
    with pytest.raises(ValidationError):
        services.send_back(world.town1, hazard, reason="")
    services.send_back(world.town1, hazard, reason="照片不清晰")
    hazard.refresh_from_db()
    assert hazard.state == HazardState.RECTIFYING
    assert Notification.objects.filter(recipient=world.staff1, verb="hazard.sent_back").exists()


def test_a_close_guard_refuses_closure_with_its_reason(world):
    hazard = rectified(world, general(world, requires_sensor_verification=True))
    guard = services.register_close_guard(
        lambda h: "传感器读数尚未恢复正常" if h.requires_sensor_verification else None)
    try:
        with pytest.raises(services.TransitionRefused) as exc:
            services.verify(world.town1, hazard)
        assert "传感器读数尚未恢复正常" in exc.value.messages
        page = page_client(world.town1).get(hazard.get_absolute_url()).content.decode()
        assert "传感器读数尚未恢复正常" in page and 'id="action-verify"' not in page
    finally:
        services.CLOSE_GUARDS.remove(guard)
    services.verify(world.town1, hazard)


def test_progress_notes_with_photos_at_any_time(world):
    hazard = general(world)
    event = services.add_note(world.town1, hazard, text="已电话督促", photos=[photo()])
    page = page_client(world.home1).get(hazard.get_absolute_url()).content.decode()
    assert "已电话督促" in page and event.pk
    hazard.refresh_from_db()
    assert hazard.state == HazardState.REGISTERED


def test_the_page_links_to_the_source_record(world):
    hazard = services.report_hazard(world.town1, world.inst1, category="other", description="巡查发现",
                                    source="inspection", source_object=world.inst1b)
    page = page_client(world.town1).get(hazard.get_absolute_url()).content.decode()
    assert f'href="{world.inst1b.get_absolute_url()}" id="source-link"' in page


def test_the_whole_loop_through_the_api(world):
    home1, staff1, town1 = api_client(world.home1), api_client(world.staff1), api_client(world.town1)
    r = home1.post("/api/v1/hazards/", {"institution": world.inst1.pk, "category": "gas",
                                        "description": "液化气钢瓶放在室内", "level": "major"}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = home1.post(f"/api/v1/hazards/{pk}/photos/", {"kind": "before", "photos": [photo()]}, format="multipart")
    assert r.status_code == 201
    r = home1.post(f"/api/v1/hazards/{pk}/plan/", {"measures": "移出室外", "responsible_person": "李四",
                                                   "deadline": in_days(5).isoformat(), "funds": "200",
                                                   "emergency_plan": "专人看守"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "rectifying"
    r = staff1.post(f"/api/v1/hazards/{pk}/rectify/", {"report": "已移出", "photos_after": [photo()]},
                    format="multipart")
    assert r.status_code == 200 and r.json()["state"] == "awaiting_verification", r.content
    r = town1.post(f"/api/v1/hazards/{pk}/send-back/", {"reason": "钢瓶仍在楼内"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "rectifying"
    r = staff1.post(f"/api/v1/hazards/{pk}/rectify/", {"report": "已移至室外专用间", "photos_after": [photo()]},
                    format="multipart")
    assert r.status_code == 200
    assert town1.get(f"/api/v1/hazards/{pk}/").json()["actions"] == ["verify", "send_back", "note"]
    r = town1.post(f"/api/v1/hazards/{pk}/verify/", {"note": "合格"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "closed"
    r = town1.post(f"/api/v1/hazards/{pk}/reopen/", {"reason": "回头看"}, format="json")
    assert r.json()["reopened_count"] == 1
    detail = town1.get(f"/api/v1/hazards/{pk}/").json()
    assert [e["action"] for e in detail["events"]] == ["report", "plan", "rectify", "send_back", "rectify",
                                                       "verify", "reopen"]
    assert {p["kind"] for p in detail["photos"]} == {"before", "after"}


def test_bad_api_input_answers_400_with_reasons(world):
    hazard = general(world)
    r = api_client(world.home1).post(f"/api/v1/hazards/{hazard.pk}/plan/", {"measures": ""}, format="json")
    assert r.status_code == 400 and "measures" in r.json() and "deadline" in r.json()
    r = api_client(world.home1).post(f"/api/v1/hazards/{hazard.pk}/photos/",
                                     {"kind": "before", "photos": [photo("x.txt")]}, format="multipart")
    assert r.status_code == 400


def test_an_empty_post_is_a_bad_request_not_a_blank_form(world):
    hazard = general(world)
    response = page_client(world.home1).post(f"/hazards/{hazard.pk}/plan/", {})
    assert response.status_code == 400 and "请更正以下错误" in response.content.decode()
    hazard.refresh_from_db()
    assert hazard.state == HazardState.REGISTERED
