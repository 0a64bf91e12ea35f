import csv
import datetime
import hashlib
import io
import json
import zipfile

import jsonschema
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from apps.assessment.models import AccountabilityAction, FireIncident
from apps.core.attachments import attach
from apps.core.models import Attachment, AuditEntry
from apps.dashboard.handover import (
    ENTITIES,
    EXCLUDED,
    PROJECT_APPS,
    HandoverError,
    entities,
    entity_map,
    export_package,
)
from apps.dashboard.handover_import import ImportFailed, import_package
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
    Hazard.objects.filter(pk=h.pk).update(found_at=timezone.now().replace(microsecond=456))
    attach(h, SimpleUploadedFile("before.png", PNG, content_type="image/png"), kind="before", user=world.home1)
    report_hazard(world.town2, world.inst2, category="electrical", description="=插线板", fixed_on_spot=True)
    old = report_hazard(world.home1, world.inst1, category="gas", description="很早以前", fixed_on_spot=True)
    Hazard.objects.filter(pk=old.pk).update(found_at=timezone.now() - datetime.timedelta(days=800),
                                            closed_at=timezone.now() - datetime.timedelta(days=790))
    fire = FireIncident.objects.create(institution=world.inst2, occurred_at=timezone.now(), place="厨房", handling="扑灭")
    AccountabilityAction.objects.create(incident=fire, target="person", name="赵六", measure="警告",
                                        decided_on=timezone.localdate())
    from apps.hazards.supervision import add_follow_up, list_supervision
    from apps.inspections.models import Checkpoint
    from apps.inspections.tests.helpers import submitted_inspection

    supervision = list_supervision(world.town1, h, supervising_department=world.t1, responsible_person="院长",
                                   measures="拆除锁具", responsibility="院长负责", emergency_plan="专人值守",
                                   deadline=timezone.localdate() + datetime.timedelta(days=20))
    add_follow_up(world.town1, supervision, visited_on=timezone.localdate(), people="街道民政办", findings="正在整改")
    submitted_inspection(world.town1, world.inst1, fail=2, fixed=1)
    Checkpoint.objects.create(institution=world.inst1, name="一楼走廊")  # a UUID token (broke the old export)
    return h, old


def _project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS and not m._meta.abstract
            and m._meta.managed and not m._meta.proxy]


@pytest.fixture
def baseline(db):
    """The rows of a freshly migrated installation (the seeded rule sets, formats …), taken before
    the test makes any; ``fresh()`` deletes everything else, as a new installation would be."""
    models = _project_models() + [m.remote_field.through for model in _project_models()
                                  for m in model._meta.many_to_many if m.remote_field.through._meta.auto_created]
    from django.contrib.auth.models import Group

    models.append(Group)
    snap = {m: set(m._default_manager.values_list("pk", flat=True)) for m in models}
    from apps.core.models import AuditChainHead

    head = list(AuditChainHead.objects.values("pk", "last_hash", "count"))

    def fresh(settings, tmp_path):
        for model, pks in snap.items():
            qs = model._default_manager.exclude(pk__in=list(pks)) if pks else model._default_manager.all()
            qs._raw_delete(qs.db)
        for row in head:
            AuditChainHead.objects.filter(pk=row["pk"]).update(last_hash=row["last_hash"], count=row["count"])
        settings.MEDIA_ROOT = tmp_path / "fresh-media"
        assert not Institution.objects.exists() and not Hazard.objects.exists()

    return fresh


def _zip(manifest_out=None, **kwargs):
    buf = io.BytesIO()
    manifest = export_package(buf, **kwargs)
    buf.seek(0)
    return buf, manifest


def _files(buf):
    zf = zipfile.ZipFile(buf)
    return {name: zf.read(name) for name in zf.namelist()}


def _rows(files, label):
    return [json.loads(line) for line in files[f"data/{label}.jsonl"].decode().splitlines()]


def test_every_model_is_handed_over_or_excluded():
    """A model added to a project app must go into the package (ENTITIES) or be excluded with a reason."""
    listed = {e.label for e in ENTITIES}
    assert not listed & set(EXCLUDED)
    missing = [m._meta.label for m in _project_models() if m._meta.label not in listed | set(EXCLUDED)]
    assert not missing, f"add to ENTITIES or EXCLUDED in apps/dashboard/handover.py: {missing}"
    assert all(len(str(reason)) > 10 for reason in EXCLUDED.values())
    assert len(entities()) == len(ENTITIES)


def test_the_package_is_documented_validates_and_adds_up(world):
    h, old = _data(world)
    today = timezone.localdate()
    buf, manifest = _zip(since=today - datetime.timedelta(days=30), until=today, created_by="tester")
    files = _files(buf)
    stored = json.loads(files["manifest.json"])
    assert stored["format"] == "firesafe-handover" and stored["format_version"].startswith("2.")
    assert stored["created_by"] == "tester" and stored["scope"]["since"] == (today - datetime.timedelta(days=30)).isoformat()
    # every file in the zip but the manifest is listed with its sha256, and it matches
    listed = {f["path"]: f for f in stored["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for path, entry in listed.items():
        assert hashlib.sha256(files[path]).hexdigest() == entry["sha256"] and len(files[path]) == entry["size"]
    counts = {e["name"]: e["count"] for e in stored["entities"]}
    for e in stored["entities"]:
        schema = json.loads(files[e["schema"]])
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        rows = _rows(files, e["name"])
        assert len(rows) == e["count"]
        for row in rows:
            validator.validate(row)
        text = files[e["csv"]].decode("utf-8")
        assert text.startswith("\ufeff")  # Excel reads it as UTF-8
        table = list(csv.reader(io.StringIO(text[1:])))
        assert len(table) == e["count"] + 1
        english = [h for h in table[0] if h.isascii()]
        assert not english, (e["name"], english)  # every header is Chinese
        assert not schema["title"].isascii()
    hazard_ids = {row["id"] for row in _rows(files, "hazards.Hazard")}
    assert h.pk in hazard_ids and old.pk not in hazard_ids  # closed two years ago: outside the period
    assert counts["hazards.Supervision"] == 1 and counts["hazards.FollowUp"] == 1
    assert counts["inspections.Inspection"] == 1 and counts["inspections.InspectionItem"] > 2
    assert counts["inspections.Checkpoint"] == 1 and counts["assessment.FireIncident"] == 1
    assert counts["hazards.RuleSet"] > 0 and counts["hazards.NumberFormat"] > 0
    assert counts["monitoring.ThresholdRule"] > 0 and counts["core.AuditEntry"] > 0
    assert counts["core.Attachment"] == 1
    attachment = _rows(files, "core.Attachment")[0]
    assert files[f"files/{attachment['file']}"] == PNG
    users = _rows(files, "orgs.User")
    assert users and all(set(u) <= {"id", "username", "full_name", "first_name", "last_name", "role",
                                    "organization", "institution"} for u in users)
    settings_json = json.loads(files["settings.json"])
    assert settings_json["time_zone"] and settings_json["format_version"] == stored["format_version"]
    # CSV: choices in words, text that looks like a formula kept as text
    hazards_csv = files["csv/hazards.Hazard.csv"].decode("utf-8-sig")
    assert "'=插线板" in hazards_csv and "重大" in hazards_csv


def test_a_package_holds_only_what_its_user_sees(world):
    _data(world)
    _buf, manifest = _zip(user=world.town1)
    files = _files(_buf)
    institutions = {row["id"] for row in _rows(files, "ledger.Institution")}
    assert world.inst1.pk in institutions and world.inst2.pk not in institutions
    assert {row["institution"] for row in _rows(files, "hazards.Hazard")} <= institutions
    assert not _rows(files, "assessment.FireIncident")  # the fire was at inst2
    assert {row["institution"] for row in _rows(files, "core.AuditEntry")} <= institutions
    assert manifest["scope"]["user"] == world.town1.username and manifest["scope"]["everything"] is False


def _translate(row, schema, ids, label):
    """A package row with its ids translated through the import's id map (for comparing)."""
    out = {}
    for name, value in row.items():
        ref = schema["properties"][name].get("x-references")
        if name == schema["x-primary-key"] and not ref:
            out[name] = ids[label][value]
        elif schema["properties"][name].get("x-object-type-field") and value:
            ct = row[schema["properties"][name]["x-object-type-field"]]
            out[name] = str(ids[apps.get_model(*ct.split("."))._meta.label][int(value)])
        elif ref and ref != "contenttypes.ContentType" and value is not None:
            out[name] = sorted(ids[ref][v] for v in value) if isinstance(value, list) else ids[ref][value]
        else:
            out[name] = value
    return out


def _round_trip(buf, fresh, settings, tmp_path):
    before = _files(buf)
    fresh(settings, tmp_path)
    buf.seek(0)
    result = import_package(buf)
    again, _manifest = _zip()
    after = _files(again)
    manifest = json.loads(before["manifest.json"])
    for e in manifest["entities"]:
        label = e["name"]
        if label == "core.AuditEntry":
            continue  # the trail gets this installation's new entries too; compared below
        schema = json.loads(before[e["schema"]])
        old = [_translate(r, schema, result.ids, label) for r in _rows(before, label)]
        new = {r[schema["x-primary-key"]]: r for r in _rows(after, label)}
        # Derived values (a device's last values: from readings, which a package does not carry).
        derived = {spec[0] for spec in entity_map()[label].derived}
        for row in old:
            got = new[row[schema["x-primary-key"]]]
            if label == "orgs.User":
                continue  # people are found by username; the receiving account stays as it is
            assert {k: v for k, v in got.items() if k not in derived} == {
                k: v for k, v in row.items() if k not in derived}, (label, row, got)
        assert len(new) >= len(old)
    # the files, byte-equal by checksum
    sums = {f["path"]: f["sha256"] for f in manifest["files"] if f["path"].startswith("files/")}
    again_sums = {f["path"]: f["sha256"] for f in _manifest["files"] if f["path"].startswith("files/")}
    assert sums and sums.items() <= again_sums.items()
    # the trail: every entry of the package is in the receiving chain, which still verifies
    trail = _rows(before, "core.AuditEntry")
    assert AuditEntry.objects.filter(remote_addr="handover").count() == len(trail)
    from apps.core.audit import verify_chain

    assert verify_chain().ok
    return result, before, after


def test_the_package_imports_into_a_fresh_installation(baseline, world, settings, tmp_path):
    _data(world)
    hazards, institutions = Hazard.objects.count(), Institution.objects.count()
    buf, _manifest = _zip()
    result, before, after = _round_trip(buf, baseline, settings, tmp_path)
    assert result.added["hazards.Hazard"] == hazards == Hazard.objects.count() == 5
    assert result.added["ledger.Institution"] == institutions == Institution.objects.count()
    # seeded rule sets are found, not doubled
    assert result.matched["hazards.RuleSet"] == result.counts["hazards.RuleSet"]
    from apps.hazards.models import RuleSet

    assert RuleSet.objects.count() == result.counts["hazards.RuleSet"]
    assert Attachment.objects.get().file.read() == PNG
    # the people come over without a password, inactive
    from apps.orgs.models import User

    assert not User.objects.filter(is_active=True).exists()
    assert not any(u.has_usable_password() for u in User.objects.all())


def test_the_commands_export_and_import(baseline, world, tmp_path, settings):
    _data(world)
    out = tmp_path / "h.zip"
    call_command("export_handover", output=str(out), since="2020-01-01", until=timezone.localdate().isoformat())
    assert zipfile.ZipFile(out).read("manifest.json")
    baseline(settings, tmp_path)
    call_command("import_handover", str(out), check=True)
    assert not Hazard.objects.exists()  # --check keeps nothing
    call_command("import_handover", str(out))
    assert Hazard.objects.count() == 5


def _rezip(files, **changes):
    files = {**files, **changes}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    buf.seek(0)
    return buf


def test_a_damaged_or_invalid_package_is_refused_with_its_rows_and_nothing_is_kept(baseline, world, settings,
                                                                                   tmp_path):
    _data(world)
    buf, _manifest = _zip()
    files = _files(buf)
    baseline(settings, tmp_path)
    with pytest.raises(HandoverError):
        import_package(io.BytesIO(b"not a zip"))
    # a file changed after export: its checksum no longer matches
    with pytest.raises(ImportFailed) as caught:
        import_package(_rezip(files, **{"data/ledger.Institution.jsonl": b"[]"}))
    assert "data/ledger.Institution.jsonl" in str(caught.value)
    # a row that breaks its schema, with a manifest made to match: refused with file, line and field
    rows = files["data/hazards.Hazard.jsonl"].decode().splitlines()
    bad = json.loads(rows[1])
    bad["level"] = "catastrophic"
    rows[1] = json.dumps(bad, ensure_ascii=False)
    data = ("\n".join(rows) + "\n").encode()
    manifest = json.loads(files["manifest.json"])
    for f in manifest["files"]:
        if f["path"] == "data/hazards.Hazard.jsonl":
            f["sha256"], f["size"] = hashlib.sha256(data).hexdigest(), len(data)
    broken = _rezip(files, **{"data/hazards.Hazard.jsonl": data,
                              "manifest.json": json.dumps(manifest).encode()})
    with pytest.raises(ImportFailed) as caught:
        import_package(broken)
    errors = caught.value.errors
    assert {(e.file, e.line, e.field) for e in errors} == {("data/hazards.Hazard.jsonl", 2, "level")}
    assert any("not one of" in e.message for e in errors)
    assert not Institution.objects.exists() and not Attachment.objects.exists()  # all or nothing
    import os

    assert not [f for _root, _dirs, names in os.walk(tmp_path / "fresh-media") for f in names]  # files removed
    manifest["format_version"] = "9.0"
    with pytest.raises(HandoverError):
        import_package(_rezip(files, **{"manifest.json": json.dumps(manifest).encode()}))


WORLD_USERS = ("admin", "leader", "sec_elderly_user", "sec_social_user", "unit_user", "town1", "town2", "home1",
               "staff1", "home2")


def _download(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip" and response.streaming
    assert "filename*=utf-8''" in response["Content-Disposition"]
    return io.BytesIO(b"".join(response.streaming_content))


def test_each_user_downloads_only_what_they_see_and_the_export_is_in_the_trail(world):
    from apps.core.testing import page_client

    _data(world)
    for who in WORLD_USERS:
        user = getattr(world, who)
        client = page_client(user)
        page = client.get("/cockpit/handover/")
        if not user.can("handover.export"):
            assert page.status_code == 403, who
            assert client.get("/cockpit/handover/?download=1").status_code == 403
            continue
        assert page.status_code == 200 and b"handover-form" in page.content
        files = _files(_download(client.get("/cockpit/handover/", {"since": "2020-01-01", "until": ""})))
        visible = set(Institution.objects.visible_to(user).values_list("pk", flat=True))
        assert {r["id"] for r in _rows(files, "ledger.Institution")} == visible, who
        for label in ("hazards.Hazard", "inspections.Inspection", "assessment.FireIncident", "core.Attachment"):
            assert {r["institution"] for r in _rows(files, label)} <= visible, (who, label)
    assert not world.home1.can("handover.export") and world.town1.can("handover.export")
    entry = AuditEntry.objects.filter(action="handover.export").first()
    assert entry is not None and entry.after["scope"]["since"] == "2020-01-01"


def test_a_bad_period_answers_400_with_the_reason_in_chinese(world):
    from apps.core.testing import page_client

    client = page_client(world.leader)
    for query in ({"since": "bad"}, {"since": "2026-05-01", "until": "2026-04-01"}, {"since": "0001-01-01"}):
        response = client.get("/cockpit/handover/", query)
        assert response.status_code == 400 and b"handover-error" in response.content, query
        assert "日" in response.content.decode().split('id="handover-error">')[1][:80]


def test_only_the_administrator_imports_and_the_page_reports_rows(baseline, world, settings, tmp_path):
    from apps.core.testing import page_client

    _data(world)
    for who in WORLD_USERS:
        user = getattr(world, who)
        status = page_client(user).get("/cockpit/handover/import/").status_code
        assert status == (200 if who == "admin" else 403), who
        if who != "admin":
            assert page_client(user).post("/cockpit/handover/import/", {}).status_code == 403
    buf, _manifest = _zip()
    baseline(settings, tmp_path)
    from apps.orgs.models import User

    admin = User.objects.create_user("fresh-admin", role="admin")  # the administrator of the fresh installation
    client = page_client(admin)
    bad = client.post("/cockpit/handover/import/", {"package": SimpleUploadedFile("x.zip", b"PK nonsense")})
    assert bad.status_code == 400 and b"handover-import-error" in bad.content
    checked = client.post("/cockpit/handover/import/",
                          {"package": SimpleUploadedFile("h.zip", buf.getvalue()), "check": "1"})
    assert checked.status_code == 200 and b"handover-import-done" in checked.content
    assert not Hazard.objects.exists()
    done = client.post("/cockpit/handover/import/", {"package": SimpleUploadedFile("h.zip", buf.getvalue())})
    assert done.status_code == 200 and b"handover-import-counts" in done.content
    assert Hazard.objects.count() == 5
    assert AuditEntry.objects.filter(action="handover.import", actor=admin).exists()


def _dangling(files):
    """References of the package to rows that are not in it (foreign keys, lists, object ids)."""
    manifest = json.loads(files["manifest.json"])
    ids = {e["name"]: {r[json.loads(files[e["schema"]])["x-primary-key"]] for r in _rows(files, e["name"])}
           for e in manifest["entities"]}
    out = []
    for e in manifest["entities"]:
        if e["name"] == "core.AuditEntry":
            continue  # the trail names rows of its time; kept as history
        schema = json.loads(files[e["schema"]])
        for row in _rows(files, e["name"]):
            for name, prop in schema["properties"].items():
                value, ref = row[name], prop.get("x-references")
                if value in (None, "", []) or ref == "contenttypes.ContentType":
                    continue
                if prop.get("x-object-type-field"):
                    ct = row[prop["x-object-type-field"]]
                    target = apps.get_model(*ct.split("."))._meta.label
                    if int(value) not in ids.get(target, ()):
                        out.append((e["name"], row["id"], name, target, value))
                elif ref:
                    for v in value if isinstance(value, list) else [value]:
                        if v not in ids.get(ref, ()):
                            out.append((e["name"], row.get("id"), name, ref, v))
    return out


def test_the_demo_hands_over_for_several_periods_and_imports_into_a_fresh_installation(baseline, settings, tmp_path):
    from docx import Document

    call_command("seed_demo", quiet=True)
    today = timezone.localdate()
    periods = [(today - datetime.timedelta(days=30), today), (today.replace(month=1, day=1), today),
               (today - datetime.timedelta(days=730), today - datetime.timedelta(days=365)),
               (datetime.date(2000, 1, 1), datetime.date(2000, 12, 31)), (None, None)]
    whole = None
    for since, until in periods:
        buf, manifest = _zip(since=since, until=until)
        files = _files(buf)
        assert not _dangling(files), (since, until, _dangling(files)[:5])
        assert not manifest["missing_files"]
        if since is None:
            whole, whole_files = buf, files
    counts = {e["name"]: e["count"] for e in json.loads(whole_files["manifest.json"])["entities"]}
    for label in ("hazards.Hazard", "hazards.OfficialDocument", "monitoring.Device", "monitoring.Alarm",
                  "training.TrainingSession", "inspections.Inspection", "hazards.RuleSet", "hazards.NumberFormat",
                  "monitoring.ThresholdRule", "training.StaffMember"):
        assert counts[label] > 0, label
    result, before, after = _round_trip(whole, baseline, settings, tmp_path)
    assert not _dangling(after)
    # the issued documents open
    from apps.hazards.models import OfficialDocument

    documents = list(OfficialDocument.objects.exclude(file=""))
    assert len(documents) == counts["hazards.OfficialDocument"]
    for doc in documents:
        with doc.file.open("rb") as fh:
            assert Document(fh).paragraphs
        if doc.pdf:
            with doc.pdf.open("rb") as fh:
                assert fh.read(5) == b"%PDF-"


def test_the_doc_maps_every_entity_and_field():
    """docs/handover.md carries the generated mapping (``manage.py handover_doc``) of every entity."""
    from pathlib import Path

    from django.conf import settings

    from apps.dashboard.handover import DOC_START, mapping_markdown

    text = (Path(settings.BASE_DIR) / "docs" / "handover.md").read_text(encoding="utf-8")
    assert DOC_START in text
    for e in entities():
        assert f"### `{e.label}`" in text, f"run manage.py handover_doc ({e.label} is missing)"
    assert "| `found_at` |" in mapping_markdown()


def test_a_platform_that_already_holds_records_is_told_to_use_a_fresh_one(world):
    _data(world)
    buf, _manifest = _zip()
    with pytest.raises(ImportFailed) as caught:
        import_package(buf)
    messages = {e.file: e.message for e in caught.value.errors}
    assert "新安装" in messages["data/ledger.Institution.jsonl"]
    assert len(caught.value.errors) < 60  # one line per kind of record, not one per row
