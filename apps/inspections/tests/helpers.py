"""Builders for the inspections tests."""
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.inspections import services
from apps.inspections.models import ChecklistTemplate


def ensure_rules():
    """Re-seed the rule data of the data migration (transactional tests flush it)."""
    import importlib

    from django.apps import apps

    importlib.import_module("apps.inspections.migrations.0002_seed_rules").seed(apps, None)


def template(code="monthly-inspection"):
    ensure_rules()
    return ChecklistTemplate.objects.get(code=code, version=1)


def png(name="photo.png"):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def submitted_inspection(user, institution, *, fail=0, fixed=0, code="monthly-inspection", on=None, kind=None,
                         campaign=None):
    """An inspection with ``fail`` failed items (the first ``fixed`` of them fixed on the spot)."""
    inspection = services.start_inspection(user, institution, template(code), kind=kind, inspected_on=on,
                                           campaign=campaign)
    results = {}
    for n, item in enumerate(inspection.items.all()):
        if n < fail:
            results[item.pk] = {"result": "fail", "note": f"问题{n}", "fixed_on_spot": n < fixed}
        else:
            results[item.pk] = {"result": "pass"}
    return services.submit_inspection(user, inspection, results, inspector_name="检查员", responsible_name="负责人")


def at(day, hh, mm=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hh, mm)))


def night_rounds(user, institution, day, hours=(9, 22, 23, 1, 3, 5)):
    """Patrol rounds on ``day`` (hours < 12 after 22:00 fall on the next morning)."""
    out = []
    for h in hours:
        d = day + datetime.timedelta(days=1) if h < 12 and h in (0, 1, 2, 3, 4, 5) and 22 in hours else day
        if h == 9:
            d = day
        out.append(services.start_patrol(user, institution, started_at=at(d, h, 30 if h == 22 else 0)))
    return out
