import datetime
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from apps.assessment.models import AccountabilityAction, FireIncident
from apps.core.attachments import attach
from apps.core.models import Attachment
from apps.core.testing import page_client
from apps.dashboard.handover import HandoverError, export_package, import_package
from apps.hazards.models import Hazard
from apps.hazards.services import report_hazard
from apps.ledger.models import Building, Institution


def _png():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


def _data(world):
    Building.objects.create(institution=world.inst1, name="主楼", colour_steel="combustible")
    h = report_hazard(world.home1, world.inst1, category="evacuation", description="出口锁闭", level="major",
                      measures="拆除锁具", responsible_person="王五", deadline=timezone.localdate())
    # 456 µs: under a millisecond, which Django's own JSON encoder would cut off (and then
    # write "…:13Z" instead of "…:13.000Z" the second time round)
    Hazard.objects.filter(pk=h.pk).update(found_at=timezone.now().replace(microsecond=456))
    attach(h, SimpleUploadedFile("before.png", PNG, content_type="image/png"), kind="before", user=world.home1)
    report_hazard(world.town2, world.inst2, category="electrical", description="插线板", fixed_on_spot=True)
    old = report_hazard(world.home1, world.inst1, category="gas", description="很早以前", fixed_on_spot=True)
    Hazard.objects.filter(pk=old.pk).update(found_at=timezone.now() - datetime.timedelta(days=800),
                                            closed_at=timezone.now() - datetime.timedelta(days=790))
    fire = FireIncident.objects.create(institution=world.inst2, occurred_at=timezone.now(), place="厨房", handling="扑灭")
    AccountabilityAction.objects.create(incident=fire, target="person", name="赵六", measure="警告",
                                        decided_on=timezone.localdate())
    from apps.hazards.supervision import add_follow_up, list_supervision
    from apps.inspections.tests.helpers import submitted_inspection

    supervision = list_supervision(world.town1, h, supervising_department=world.t1, responsible_person="院长",
                                   measures="拆除锁具", responsibility="院长负责", emergency_plan="专人值守",
                                   deadline=timezone.localdate() + datetime.timedelta(days=20))
    add_follow_up(world.town1, supervision, visited_on=timezone.localdate(), people="街道民政办", findings="正在整改")

    submitted_inspection(world.town1, world.inst1, fail=2, fixed=1)
    return h, old


def _empty_database():
    """flush, as a fresh database would be; on PostgreSQL fire the test transaction's deferred checks first."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _files(package):
    zf = zipfile.ZipFile(io.BytesIO(package))
    return {name: zf.read(name) for name in zf.namelist()}


def test_the_package_holds_the_period_and_is_reproducible(world):
    h, old = _data(world)
    today = timezone.localdate()
    since = today - datetime.timedelta(days=30)
    first, second = _files(export_package(since, today)), _files(export_package(since, today))
    data = {k: v for k, v in first.items() if k.startswith("data/")}
    assert data == {k: v for k, v in second.items() if k.startswith("data/")}
    manifest = json.loads(first["manifest.json"])
    counts = {s["model"]: s["count"] for s in manifest["sections"]}
    # the one closed two years ago is outside the period
    hazard_pks = {row["pk"] for row in json.loads(first["data/hazards.Hazard.json"])}
    assert h.pk in hazard_pks and old.pk not in hazard_pks
    assert counts["ledger.Institution"] == 3 and counts["assessment.FireIncident"] == 1
    assert counts["core.Attachment"] == 1 and len(manifest["files"]) == 1
    # The enforcement record with its items, the hazard it opened, and the checklist it used.
    assert counts["inspections.Inspection"] == 1 and counts["inspections.InspectionItem"] > 2
    assert counts["hazards.Hazard"] == 4 and "inspections.ChecklistTemplate" in counts
    # The major hazard's listed supervision, its follow-up visit and the hazard's events.
    assert counts["hazards.Supervision"] == 1 and counts["hazards.FollowUp"] == 1
    assert counts["hazards.HazardEvent"] >= 1
    users = json.loads(first["data/orgs.User.json"])
    assert all("password" not in row["fields"] for row in users)
    assert "handover.xlsx" in first


def test_the_package_round_trips_into_an_emptied_database_with_nothing_missing(world, settings, tmp_path):
    _data(world)
    today = timezone.localdate()
    since = today - datetime.timedelta(days=365)
    package = export_package(since, today)
    before = _files(package)
    _empty_database()
    settings.MEDIA_ROOT = tmp_path / "fresh-media"
    assert not Institution.objects.exists() and not Hazard.objects.exists()
    counts = import_package(package)
    assert counts["hazards.Hazard"] == 4
    after = _files(export_package(since, today))
    for name, content in before.items():
        if name.startswith("data/") or name.startswith("files/"):
            assert after[name] == content, name
    assert Attachment.objects.get().file.read() == PNG
    # A second import is refused as a whole: nothing is overwritten.
    with pytest.raises(HandoverError):
        import_package(package)


def test_the_commands_export_and_import(world, tmp_path):
    _data(world)
    out = tmp_path / "h.zip"
    call_command("export_handover", since="2020-01-01", until=timezone.localdate().isoformat(), output=str(out))
    assert zipfile.ZipFile(out).read("manifest.json")
    _empty_database()
    call_command("import_handover", str(out))
    assert Hazard.objects.count() == 5


def test_a_damaged_package_is_refused(world):
    with pytest.raises(HandoverError):
        import_package(b"not a zip")
    package = _files(export_package(datetime.date(2020, 1, 1), timezone.localdate()))
    package["data/ledger.Institution.json"] = b"[]"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in package.items():
            zf.writestr(name, content)
    with pytest.raises(HandoverError):
        import_package(buf.getvalue())


def test_the_bureau_downloads_the_package_and_others_may_not(world):
    _data(world)
    response = page_client(world.leader).get("/cockpit/handover/?since=2026-01-01&until=2026-12-31")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert page_client(world.town1).get("/cockpit/handover/?since=2026-01-01&until=2026-12-31").status_code == 403
    assert page_client(world.leader).get("/cockpit/handover/?since=bad").status_code == 400
