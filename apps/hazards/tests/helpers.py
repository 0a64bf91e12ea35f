import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.hazards.services import report_hazard


def photo(name="p.png"):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def in_days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def general(world, **kw):
    kw.setdefault("category", "electrical")
    kw.setdefault("description", "插线板串接使用")
    return report_hazard(world.home1, kw.pop("institution", world.inst1), **kw)


def major(world, **kw):
    kw.setdefault("category", "evacuation")
    kw.setdefault("description", "安全出口数量不足")
    return report_hazard(world.home1, kw.pop("institution", world.inst1), level="major", **kw)


def planned(world, hazard, user=None, **kw):
    from apps.hazards.services import submit_plan

    data = dict(measures="更换为合格插线板", deadline=in_days(10), responsible_person="张建华", funds=1000,
                emergency_plan="设专人值守，配置灭火器")
    data.update(kw)
    return submit_plan(user or world.home1, hazard, **data)


def rectified(world, hazard, user=None):
    from apps.hazards.services import submit_rectification

    return submit_rectification(user or world.staff1, planned(world, hazard), report="已整改完毕",
                                photos_after=[photo()])


def listed(world, hazard=None):
    from apps.hazards.supervision import list_supervision

    hazard = hazard or major(world)
    return list_supervision(world.town1, hazard, supervising_department=world.t1, deadline=in_days(30),
                            responsible_person="王院长", measures="增设安全出口", responsibility="院长负责",
                            funds=50000, emergency_plan="夜间增加巡查")
