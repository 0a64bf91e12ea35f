from apps.core.scopecases import ScopeCase

OFFICE_WRITERS = ("admin", "sec_elderly_user", "town1")


def _incident(w):
    import datetime

    from django.utils import timezone

    from apps.assessment.models import FireIncident

    return FireIncident.objects.get_or_create(
        institution=w.inst1, place="厨房", defaults=dict(
            occurred_at=timezone.now() - datetime.timedelta(days=3), cause="electrical", handling="员工使用灭火器扑灭"))[0]


def _assessment(w):
    from apps.assessment.models import Assessment

    return Assessment.objects.get_or_create(institution=w.inst1, period="2026")[0]


CASES = [
    ScopeCase("risk-page", lambda w: f"/assessment/risk/{w.inst1.pk}/"),
    ScopeCase("risk-api", lambda w: f"/api/v1/risk/{w.inst1.pk}/", api=True),
    ScopeCase("incident-page", lambda w: f"/assessment/incidents/{_incident(w).pk}/"),
    ScopeCase("incident-edit-page", lambda w: f"/assessment/incidents/{_incident(w).pk}/edit/",
              readers=(*OFFICE_WRITERS, "home1")),
    ScopeCase("incident-accountability-post", lambda w: f"/assessment/incidents/{_incident(w).pk}/", method="post",
              data=lambda w: {"target": "person", "name": "张三", "measure": "诫勉谈话", "decided_on": "2026-01-05"},
              readers=OFFICE_WRITERS, ok=(302,)),
    ScopeCase("incident-api", lambda w: f"/api/v1/fire-incidents/{_incident(w).pk}/", api=True),
    ScopeCase("incident-api-patch", lambda w: f"/api/v1/fire-incidents/{_incident(w).pk}/", method="patch",
              data=lambda w: {"injuries": 1}, api=True, readers=(*OFFICE_WRITERS, "home1")),
    ScopeCase("incident-api-accountability", lambda w: f"/api/v1/fire-incidents/{_incident(w).pk}/accountability/",
              method="post", api=True, readers=OFFICE_WRITERS, ok=(201,),
              data=lambda w: {"target": "unit", "name": "一号敬老院", "measure": "约谈", "decided_on": "2026-01-05"}),
    ScopeCase("assessment-page", lambda w: f"/assessment/assessments/{_assessment(w).pk}/"),
    ScopeCase("assessment-save-post", lambda w: f"/assessment/assessments/{_assessment(w).pk}/", method="post",
              data=lambda w: {"action": "save", "problems": "p", "weak_links": "w", "countermeasures": "c"},
              readers=(*OFFICE_WRITERS, "home1", "staff1"), ok=(302,)),
    ScopeCase("assessment-api", lambda w: f"/api/v1/assessments/{_assessment(w).pk}/", api=True),
]


# Risk models by level: a district's model is seen by everyone under it (it applies to them) and by the
# levels above; the other district's whole cast gets 404 (``other_district``, test_scope_matrix).
def _risk_model(w):
    from apps.assessment.models import RiskModel

    return RiskModel.objects.get_or_create(version=f"范围测试-{w.bureau.pk}", defaults={
        "name": "范围测试模型", "administration": w.bureau, "is_active": False})[0]


_EVERYONE = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1", "sec_social_user", "unit_user",
             "town2", "home2")
CASES += [
    ScopeCase("risk-model-list", lambda w: "/assessment/risk-models/", readers=_EVERYONE, outsiders=()),
    ScopeCase("risk-model-api", lambda w: f"/api/v1/risk-models/{_risk_model(w).pk}/", api=True,
              readers=_EVERYONE, outsiders=(), extra={"other_district": _EVERYONE[1:]}),
    ScopeCase("risk-model-edit-page", lambda w: f"/assessment/risk-models/{_risk_model(w).pk}/edit/",
              readers=("admin",), outsiders=(), extra={"other_district": _EVERYONE[1:]}),
]
