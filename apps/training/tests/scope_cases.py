from apps.core.scopecases import ScopeCase

RECORDERS = ("admin", "sec_elderly_user", "town1", "home1", "staff1")
STAFF_EDITORS = ("admin", "sec_elderly_user", "town1", "home1")


def _staff(w):
    from apps.training.models import StaffMember

    return StaffMember.objects.get_or_create(institution=w.inst1, name="范围测试", defaults=dict(
        post="护理员", phone="13811112222", hired_on="2024-01-01"))[0]


def _session(w):
    from apps.training.models import TrainingSession

    return TrainingSession.objects.get_or_create(institution=w.inst1, topic="范围测试培训", defaults=dict(
        organiser_level="institution", category="all_staff", date="2026-01-10"))[0]


def _attendance(w):
    from apps.training.models import Attendance
    from apps.training.services import record_attendance

    row = Attendance.objects.filter(session=_session(w)).first()
    if row is None:
        record_attendance(_session(w), [_staff(w).pk], w.home1)
        row = Attendance.objects.filter(session=_session(w)).first()
    return row


def _drill(w):
    from apps.training.models import Drill

    return Drill.objects.get_or_create(institution=w.inst1, date="2026-01-12")[0]


def _publicity(w):
    from apps.training.models import PublicityActivity

    return PublicityActivity.objects.get_or_create(institution=w.inst1, theme="范围测试宣传", defaults=dict(
        township=w.t1, setting="residents", date="2026-01-15", place="活动室", audience=30))[0]


CASES = [
    ScopeCase("staff-page", lambda w: f"/training/staff/{_staff(w).pk}/"),
    ScopeCase("staff-edit-page", lambda w: f"/training/staff/{_staff(w).pk}/edit/", readers=STAFF_EDITORS),
    ScopeCase("staff-edit-post", lambda w: f"/training/staff/{_staff(w).pk}/edit/", method="post",
              data=lambda w: {"institution": w.inst1.pk, "name": "范围测试", "post": "厨师", "phone": "13811112222",
                              "hired_on": "2024-01-01"}, readers=("town1",), ok=(302,)),
    ScopeCase("institution-compliance-page", lambda w: f"/training/compliance/institution/{w.inst1.pk}/"),
    ScopeCase("township-compliance-page", lambda w: f"/training/compliance/township/{w.t1.pk}/",
              readers=("admin", "leader", "town1"), outsiders=("town2", "home2", "unit_user")),
    ScopeCase("session-page", lambda w: f"/training/sessions/{_session(w).pk}/"),
    ScopeCase("session-edit-page", lambda w: f"/training/sessions/{_session(w).pk}/edit/", readers=RECORDERS),
    ScopeCase("session-attendance-post", lambda w: f"/training/sessions/{_session(w).pk}/attendance/",
              method="post", data=lambda w: {"staff": [_staff(w).pk]}, readers=("home1",), ok=(302,)),
    ScopeCase("session-qr", lambda w: f"/training/sessions/{_session(w).pk}/qr.png"),
    ScopeCase("drill-page", lambda w: f"/training/drills/{_drill(w).pk}/"),
    ScopeCase("drill-edit-page", lambda w: f"/training/drills/{_drill(w).pk}/edit/", readers=RECORDERS),
    ScopeCase("drill-problem-post", lambda w: f"/training/drills/{_drill(w).pk}/problems/", method="post",
              data=lambda w: {"description": "疏散通道堵塞", "category": "evacuation"}, readers=("home1",),
              ok=(302,)),
    ScopeCase("publicity-page", lambda w: f"/training/publicity/{_publicity(w).pk}/"),
    ScopeCase("publicity-edit-page", lambda w: f"/training/publicity/{_publicity(w).pk}/edit/", readers=RECORDERS),
    ScopeCase("staff-api", lambda w: f"/api/v1/staff/{_staff(w).pk}/", api=True),
    ScopeCase("staff-obligations-api", lambda w: f"/api/v1/staff/{_staff(w).pk}/obligations/", api=True),
    ScopeCase("staff-api-patch", lambda w: f"/api/v1/staff/{_staff(w).pk}/", method="patch",
              data=lambda w: {"post": "保安"}, api=True, readers=STAFF_EDITORS),
    ScopeCase("training-api", lambda w: f"/api/v1/trainings/{_session(w).pk}/", api=True),
    ScopeCase("training-attendance-api", lambda w: f"/api/v1/trainings/{_session(w).pk}/attendance/", api=True),
    ScopeCase("training-attendance-api-post", lambda w: f"/api/v1/trainings/{_session(w).pk}/attendance/",
              method="post", data=lambda w: {"staff": [_staff(w).pk]}, api=True, readers=("home1",),
              ok=(201,)),
    ScopeCase("training-attendance-row-api", lambda w: f"/api/v1/training-attendance/{_attendance(w).pk}/", api=True),
    ScopeCase("drill-api", lambda w: f"/api/v1/drills/{_drill(w).pk}/", api=True),
    ScopeCase("drill-api-patch", lambda w: f"/api/v1/drills/{_drill(w).pk}/", method="patch",
              data=lambda w: {"participants": 12}, api=True, readers=RECORDERS),
    ScopeCase("drill-problems-api-post", lambda w: f"/api/v1/drills/{_drill(w).pk}/problems/", method="post",
              data=lambda w: {"description": "应急照明损坏"}, api=True, readers=("staff1",), ok=(201,)),
    ScopeCase("publicity-api", lambda w: f"/api/v1/publicity/{_publicity(w).pk}/", api=True),
]
