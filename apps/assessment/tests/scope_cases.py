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
