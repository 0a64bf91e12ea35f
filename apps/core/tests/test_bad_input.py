"""Hostile input answers 400 with a reason (never 500): ids, 64-bit overflow, deep JSON, impossible dates."""
import json

import pytest
from rest_framework.test import APIClient

from apps.core.badinput import MAX_JSON_DEPTH, json_depth_exceeded, valid_id
from apps.core.testing import api_client, page_client

pytestmark = pytest.mark.django_db
HUGE = 2**70


def _client(user):
    client = api_client(user)
    client.raise_request_exception = False  # a 500 is an answer to check, not a test crash
    return client


def _page(user):
    client = page_client(user)
    client.raise_request_exception = False
    return client


def _reason(response):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body and all(body.values()), body
    return json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("url", ["/api/v1/risk/abc/", f"/api/v1/hazards/{HUGE}/", "/api/v1/institutions/1e5/",
                                 f"/api/v1/devices/{HUGE}/readings/"])
def test_a_bad_id_in_the_path_is_a_400_with_a_reason(world, url):
    assert "正整数" in _reason(_client(world.admin).get(url))


def test_a_text_id_in_the_body_is_a_400_naming_the_field(world):
    response = _client(world.town1).post("/api/v1/supervisions/", {"hazard": "abc"}, format="json")
    assert "hazard" in response.json() and "正整数" in _reason(response)


@pytest.mark.parametrize("query", [{"device": "-4.3e87"}, {"device": str(HUGE)}, {"device": "abc"}])
def test_a_filter_beyond_64_bits_is_a_400_on_the_api_and_a_form_error_on_the_page(world, query):
    assert "device" in json.loads(_reason(_client(world.admin).get("/api/v1/alarms/", query)))
    assert _page(world.admin).get("/monitoring/alarms/", query).status_code == 200


def test_the_risk_filter_by_institution_takes_only_a_storable_id(world):
    assert "institution" in json.loads(_reason(_client(world.admin).get("/api/v1/risk/", {"institution": HUGE})))
    assert _page(world.admin).get("/assessment/", {"institution": HUGE}).status_code == 200


def test_a_list_of_ids_beyond_64_bits_is_a_400(world):
    from apps.training.models import TrainingSession

    session = TrainingSession.objects.create(organiser_level="institution", institution=world.inst1,
                                             category="all_staff", topic="消防培训", date="2026-11-01")
    response = _client(world.home1).post(f"/api/v1/trainings/{session.pk}/attendance/", {"staff": [HUGE]},
                                         format="json")
    assert "staff" in json.loads(_reason(response))


def test_a_page_that_reads_an_id_from_the_query_answers_400_not_500(world):
    response = _page(world.home1).get("/inspections/checkpoints/labels/", {"institution": "abc"})
    assert response.status_code == 400 and "类型不对" in response.content.decode()


def test_json_nested_50000_deep_is_a_400_with_a_reason(world):
    deep = "[" * 50000 + "]" * 50000
    response = _client(world.town1).post("/api/v1/supervisions/", deep, content_type="application/json")
    assert "嵌套" in _reason(response)
    nested = json.dumps({"hazard": 1, "measures": json.loads("[" * 100 + "]" * 100)})
    assert "嵌套" in _reason(_client(world.town1).post("/api/v1/supervisions/", nested,
                                                      content_type="application/json"))


def test_a_json_list_where_an_object_is_expected_is_a_400(world):
    from apps.hazards.tests.helpers import listed

    supervision = listed(world)
    client = _client(world.town1)
    assert client.post("/api/v1/auth/token/", [None, None], format="json").status_code == 400
    assert client.post("/api/v1/supervisions/", [None], format="json").status_code == 400
    _reason(client.post(f"/api/v1/supervisions/{supervision.pk}/follow-ups/", [None, None], format="json"))
    response = client.post(f"/api/v1/supervisions/{supervision.pk}/follow-ups/", {
        "visited_on": [None, None], "people": "李", "findings": "推进中"}, format="json")
    assert "visited_on" in json.loads(_reason(response))


# Year 1 with a zone east of UTC falls before year 1 in UTC: refused with a reason (the time cannot be held),
# never a 500.
@pytest.mark.parametrize("ts", [1e20, -1e20, "0001-01-01T00:00:00+08:00"])
def test_ingest_with_an_impossible_time_rejects_the_reading_with_a_reason(world, ts):
    from apps.monitoring.tests.conftest import make_device

    device = make_device(world.inst1)
    client = APIClient()
    client.raise_request_exception = False
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.token}")
    response = client.post("/api/v1/ingest/readings/", [{"ts": ts, "values": {"t1": 30.0}}], format="json")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    detail = body["results"][0]["detail"] if "results" in body else json.dumps(body, ensure_ascii=False)
    assert "ts" in detail or "time" in detail or "范围" in detail, body


@pytest.mark.parametrize("ts", [0, "1970-01-01T08:00:00+08:00"])
def test_ingest_from_a_clock_reset_is_stored_at_receive_time_and_flagged(world, ts):
    """A device clock reset (1970, year 1) is a wrong clock, not a wrong reading: stored and evaluated at
    the platform's receive time, the device's clock flagged (docs/ingest.md)."""
    from apps.monitoring.models import Device, Reading
    from apps.monitoring.tests.conftest import make_device

    device = make_device(world.inst1)
    client = APIClient()
    client.raise_request_exception = False
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.token}")
    response = client.post("/api/v1/ingest/readings/", [{"ts": ts, "values": {"t1": 30.0}}], format="json")
    assert response.status_code == 200, response.content[:300]
    assert Reading.objects.get(device=device).ts.year >= 2026
    assert Device.objects.get(pk=device.pk).clock_is_wrong


def test_the_handover_page_answers_400_for_year_one(world):
    response = _page(world.admin).get("/cockpit/handover/", {"since": "0001-01-01", "until": "0001-01-02"})
    assert response.status_code == 400


def test_the_ingest_endpoint_is_in_the_published_schema(world):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/ingest/readings/"]["post"]
    assert {"200", "400", "401", "413"} <= set(operation["responses"])
    assert operation["security"] == [{"deviceToken": []}]
    assert "deviceToken" in schema["components"]["securitySchemes"]


def test_the_depth_and_id_checks_themselves():
    assert not json_depth_exceeded(json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH))
    assert json_depth_exceeded(json.loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)))
    assert valid_id("12") and valid_id(2**63 - 1)
    assert not any(valid_id(v) for v in ("0", "-1", "1e5", "abc", "١٢", str(2**63), None, ""))


def test_a_reading_range_before_any_reading_is_a_400_not_a_time_the_schema_cannot_hold(world):
    from apps.monitoring.tests.conftest import make_device

    device = make_device(world.inst1)
    for action in ("readings", "rollups"):
        response = _client(world.admin).get(f"/api/v1/devices/{device.pk}/{action}/",
                                            {"start": "0527-06-14T09:34:00Z"})
        assert "start" in json.loads(_reason(response))


def test_a_staff_phone_the_ledger_would_refuse_is_refused_before_it_reaches_the_ledger(world):
    """Found by schemathesis: a manager's phone copied from the staff register broke the schema."""
    response = _client(world.home1).post("/api/v1/staff/", {
        "institution": world.inst1.pk, "name": "甲", "post": "安全办主任", "hired_on": "2026-01-01",
        "phone": "\U0004f797_uS", "roles": ["manager"]}, format="json")
    assert "phone" in json.loads(_reason(response))
    world.inst1.refresh_from_db()
    assert world.inst1.manager_phone != "\U0004f797_uS"


def test_a_json_true_where_the_form_wants_a_date_is_a_400_naming_the_field(world):
    """Found by schemathesis: the document form got ``true`` for its deadline and answered 500."""
    response = api_client(world.town1).post("/api/v1/official-documents/", {
        "kind": "suggestion_letter", "institution": world.inst1.pk, "requirements": "整改", "deadline": True},
        format="json")
    assert response.status_code == 400 and "deadline" in response.json()


def test_ingest_of_year_one_in_utc_is_never_a_server_error(world):
    from apps.monitoring.tests.conftest import make_device

    device = make_device(world.inst1)
    client = APIClient()
    client.raise_request_exception = False
    client.credentials(HTTP_AUTHORIZATION=f"Device {device.token}")
    response = client.post("/api/v1/ingest/readings/", [{"ts": "0001-01-01T00:00:00Z", "values": {"t1": 30.0}}],
                           format="json")
    assert response.status_code in (200, 400), response.content[:300]
    assert response.json()
