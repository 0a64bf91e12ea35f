"""Small builders for training tests."""
import datetime

from django.utils import timezone

from apps.training.models import Drill, PublicityActivity, StaffMember, TrainingSession


def today():
    return timezone.localdate()


def days(n):
    return datetime.timedelta(days=n)


def staff(institution, name="张三", **fields):
    defaults = dict(post="护理员", phone="13800000000", hired_on=today() - days(400))
    defaults.update(fields)
    return StaffMember.objects.create(institution=institution, name=name, **defaults)


def session(institution=None, category="all_staff", date=None, **fields):
    level = "institution" if institution is not None else fields.pop("organiser_level", "bureau")
    return TrainingSession.objects.create(organiser_level=level, institution=institution, category=category,
                                          topic=fields.pop("topic", "消防安全培训"), date=date or today(), **fields)


def drill(institution, date=None, **fields):
    return Drill.objects.create(institution=institution, date=date or today(), participants=10, **fields)


def publicity(township, institution=None, setting="communities", **fields):
    return PublicityActivity.objects.create(township=township, institution=institution, setting=setting,
                                            date=fields.pop("date", today()), place="社区广场",
                                            theme=fields.pop("theme", "消防宣传"), audience=50, **fields)
