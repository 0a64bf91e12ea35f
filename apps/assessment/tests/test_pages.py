import datetime
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.assessment.models import AccountabilityAction, Assessment, AssessmentQuestion, FireIncident
from apps.assessment.risk import refresh_risk
from apps.core.testing import api_client, make_institution, page_client
from apps.hazards.services import report_hazard


def _fire(inst, days_ago=3, **kw):
    return FireIncident.objects.create(institution=inst, occurred_at=timezone.now() - datetime.timedelta(days=days_ago),
                                       place=kw.pop("place", "厨房"), handling="扑灭", **kw)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_the_institution_page_shows_the_risk_badge_and_factor_breakdown(world):
    report_hazard(world.home1, world.inst1, category="evacuation", description="通道堵塞", level="major")
    body = page_client(world.town1).get(f"/ledger/{world.inst1.pk}/").content.decode()
    assert 'id="risk-badge"' in body and 'data-level="red"' in body
    assert 'id="risk-panel"' in body and "未整改重大火灾隐患" in body
    # The rule that lifted the level is named, and yes/no factors read as the truth of their statement.
    assert 'id="risk-lifted"' in body and "直接判定为重大风险" in body
    assert "应设而未设自动喷水灭火系统" in body and "GB 50016-2014（2018年版）" in body


def test_a_township_officer_records_a_fire_with_accountability(world):
    client = page_client(world.town1)
    response = client.post("/assessment/incidents/new/", {
        "institution": world.inst1.pk, "occurred_at": "2026-01-03T02:10", "place": "二楼107室", "cause": "electrical",
        "deaths": 0, "injuries": 1, "direct_loss": "12000", "discovery": "夜班巡查发现冒烟", "handling": "扑灭并疏散"})
    assert response.status_code == 302
    incident = FireIncident.objects.get()
    assert incident.reported_by == world.town1
    client.post(incident.get_absolute_url(), {"target": "person", "name": "李四", "measure": "停职检查",
                                              "decided_on": "2026-01-10"})
    assert AccountabilityAction.objects.get().name == "李四"


def test_a_fire_in_the_future_is_refused_with_a_clear_message(world):
    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = page_client(world.town1).post("/assessment/incidents/new/", {
        "institution": world.inst1.pk, "occurred_at": future, "place": "x", "cause": "other", "deaths": 0,
        "injuries": 0, "direct_loss": "0", "handling": "x"})
    assert response.status_code == 200 and not FireIncident.objects.exists()
    assert "不能" in response.content.decode()


def test_institution_staff_may_not_hold_people_to_account(world):
    incident = _fire(world.inst1)
    response = page_client(world.home1).post(incident.get_absolute_url(), {
        "target": "person", "name": "x", "measure": "y", "decided_on": "2026-01-01"})
    assert response.status_code == 403 and not AccountabilityAction.objects.exists()


def test_incident_lists_filter_by_township_and_count_queries_constantly(world):
    _fire(world.inst1)
    _fire(world.inst2, place="锅炉房")
    client = page_client(world.leader)
    body = client.get(f"/assessment/incidents/?township={world.t2.pk}").content.decode()
    assert "锅炉房" in body and "厨房" not in body
    few = _queries(client, "/assessment/incidents/")
    for i in range(20):
        _fire(make_institution(world.t1, f"院{i}"))
    assert _queries(client, "/assessment/incidents/") == few
    api = api_client(world.leader)
    few = _queries(api, "/api/v1/fire-incidents/")
    for i in range(5):
        _fire(world.inst2, place=f"p{i}")
    assert _queries(api, "/api/v1/fire-incidents/") == few


def test_risk_and_assessment_lists_keep_query_counts_constant(world):
    client = page_client(world.leader)
    refresh_risk([world.inst1.pk, world.inst2.pk])
    Assessment.objects.create(institution=world.inst1, period="2025")
    counts = [_queries(client, "/assessment/risk/"), _queries(client, "/assessment/assessments/"),
              _queries(api_client(world.leader), "/api/v1/risk/"),
              _queries(api_client(world.leader), "/api/v1/assessments/")]
    extra = [make_institution(world.t2, f"批量{i}") for i in range(15)]
    refresh_risk([i.pk for i in extra])
    for i in extra:
        Assessment.objects.create(institution=i, period="2025")
    assert counts == [_queries(client, "/assessment/risk/"), _queries(client, "/assessment/assessments/"),
                      _queries(api_client(world.leader), "/api/v1/risk/"),
                      _queries(api_client(world.leader), "/api/v1/assessments/")]


def test_the_risk_list_api_shows_only_the_scope(world):
    refresh_risk([world.inst1.pk, world.inst1b.pk, world.inst2.pk])
    ids = {r["institution"] for r in api_client(world.town1).get("/api/v1/risk/").json()["results"]}
    assert ids == {world.inst1.pk, world.inst1b.pk}
    detail = api_client(world.home1).get(f"/api/v1/risk/{world.inst1.pk}/").json()
    assert {"score", "level", "factors"} <= set(detail) and len(detail["factors"]) >= 15


def test_an_assessment_suggests_countermeasures_from_the_heaviest_factors_and_is_signed(world):
    report_hazard(world.home1, world.inst1, category="evacuation", description="出口锁闭", level="major")
    client = page_client(world.home1)
    response = client.post("/assessment/assessments/new/", {"institution": world.inst1.pk, "period": "2026"})
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert "重大火灾隐患" in assessment.problems
    assert "挂牌督办" in assessment.countermeasures.splitlines()[0]
    assert assessment.level == "red" and assessment.indicators
    # Signing needs every question answered.
    client.post(assessment.get_absolute_url(), {"action": "sign"})
    assessment.refresh_from_db()
    assert not assessment.is_signed
    data = {"action": "save", "problems": assessment.problems, "weak_links": "夜间值守",
            "countermeasures": assessment.countermeasures + "\n补充：增加夜班人员"}
    for q in AssessmentQuestion.objects.all():
        data[f"q_{q.pk}"] = "yes"
    data[f"q_{AssessmentQuestion.objects.first().pk}"] = "no"
    assert client.post(assessment.get_absolute_url(), data).status_code == 302
    client.post(assessment.get_absolute_url(), {"action": "sign"})
    assessment.refresh_from_db()
    assert assessment.is_signed and assessment.signed_by == world.home1 and "补充" in assessment.countermeasures
    # A signed assessment is final.
    client.post(assessment.get_absolute_url(), {**data, "weak_links": "改了"})
    assessment.refresh_from_db()
    assert assessment.weak_links == "夜间值守"


def test_the_district_report_ranks_townships_and_exports_a_docx_that_reads_back(world):
    from docx import Document

    report_hazard(world.home2, world.inst2, category="building", description="彩钢板", level="major")
    refresh_risk([world.inst1.pk, world.inst1b.pk, world.inst2.pk])
    client = page_client(world.leader)
    body = client.get("/assessment/district/").content.decode()
    assert body.index("二号镇") < body.index("一号街道")  # t2 has the open major hazard
    response = client.get("/assessment/district/?format=docx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    doc = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "高风险区域" in text or "high-risk" in text.lower()
    township_table = doc.tables[0]
    assert township_table.rows[1].cells[1].text == "二号镇"
    assert township_table.rows[1].cells[7].text == "1"


def test_a_township_sees_only_its_township_in_the_district_report(world):
    refresh_risk([world.inst1.pk, world.inst1b.pk, world.inst2.pk])
    body = page_client(world.town1).get("/assessment/district/").content.decode()
    assert "一号街道" in body and "二号镇" not in body
    assert page_client(world.home1).get("/assessment/district/").status_code == 403


def test_outcome_figures_count_fires_deaths_and_major_hazards_by_month(world):
    _fire(world.inst1, days_ago=0, deaths=1, injuries=2)
    _fire(world.inst2, days_ago=0)
    report_hazard(world.home1, world.inst1, category="building", description="x", level="major")
    body = page_client(world.town1).get("/assessment/incidents/outcomes/").content.decode()
    month = f"{timezone.localdate():%Y-%m}"
    row = body[body.index(f"<td>{month}</td>"):].split("</tr>")[0]
    cells = [c.split("</td>")[0].split(">")[-1] for c in row.split('<td class="text-end">')[1:]]
    assert cells[:3] == ["1", "1", "2"]  # town1 sees only inst1's fire
    assert cells[4:6] == ["1", "1"]
