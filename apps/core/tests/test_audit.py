import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from apps.core.audit import acting_as, entry_digest, legacy_digest, verify_chain
from apps.core.models import AuditChainHead, AuditEntry
from apps.core.testing import page_client
from apps.ledger.models import Institution


def test_every_save_and_delete_writes_a_chained_entry(world):
    inst = world.inst1
    with acting_as(world.town1):
        inst.beds = 99
        inst.save()
    entry = AuditEntry.objects.for_object(inst).first()
    assert entry.action == "update"
    assert entry.actor_name == "t_town1"
    assert entry.before["beds"] == 60 and entry.after["beds"] == 99
    assert entry.institution_id == inst.pk
    with acting_as(world.admin):
        world.inst1b.delete()
    last = AuditEntry.objects.order_by("-id").first()
    assert last.action == "delete" and last.before["name"] == "一号儿童福利院"
    result = verify_chain()
    assert result.ok, result.problems
    assert result.checked == AuditEntry.objects.count()


def test_saving_without_changes_writes_nothing(world):
    before = AuditEntry.objects.count()
    inst = Institution.objects.get(pk=world.inst1.pk)
    inst.save()
    assert AuditEntry.objects.count() == before


def test_verify_audit_names_an_entry_edited_directly_in_the_database(world):
    target = AuditEntry.objects.order_by("id")[3]
    AuditEntry.objects.filter(pk=target.pk).update(object_repr="tampered")
    with pytest.raises(CommandError, match=f"entry {target.pk}"):
        call_command("verify_audit")


def test_verify_audit_detects_a_removed_entry(world):
    entries = list(AuditEntry.objects.order_by("id")[:5])
    AuditEntry.objects.filter(pk=entries[2].pk).delete()
    with pytest.raises(CommandError, match=f"entry {entries[3].pk}"):
        call_command("verify_audit")


def test_verify_audit_detects_the_last_entry_removed(world):
    AuditEntry.objects.order_by("-id").first().delete()
    with pytest.raises(CommandError, match="removed"):
        call_command("verify_audit")


def test_verify_audit_passes_on_an_intact_chain(world, capsys):
    call_command("verify_audit")
    assert "OK" in capsys.readouterr().out


def test_detail_page_shows_history(world):
    with acting_as(world.town1):
        world.inst1.manager_name = "新管理人"
        world.inst1.save()
    response = page_client(world.town1).get(f"/ledger/{world.inst1.pk}/")
    assert response.status_code == 200
    assert 'id="history"' in response.content.decode()
    assert "t_town1" in response.content.decode()


def test_audit_search_filters_by_user_action_and_object(world):
    with acting_as(world.town1):
        world.inst1.beds = 77
        world.inst1.save()
    client = page_client(world.leader)
    body = client.get("/audit/", {"user": "t_town1", "action": "update", "object": "一号敬老院"}).content.decode()
    assert "一号敬老院" in body
    body = client.get("/audit/", {"user": "nobody"}).content.decode()
    assert "一号敬老院" not in body


def test_audit_search_is_for_bureau_roles(world):
    assert page_client(world.town1).get("/audit/").status_code == 403
    assert page_client(world.home1).get("/audit/").status_code == 403


def test_logins_and_failed_logins_are_recorded(world, client):
    client.post("/accounts/login/", {"username": "t_town1", "password": "wrong"})
    assert AuditEntry.objects.filter(action="login_failed", actor_name="t_town1").exists()
    client.post("/accounts/login/", {"username": "t_town1", "password": "test-pass-2026"})
    assert AuditEntry.objects.filter(action="login", actor_name="t_town1").exists()


# The trail anchored outside the database ------------------------------------------------------

def _anchor():
    call_command("audit_anchor", stdout=io.StringIO())


def _verify_fails():
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())
    return str(exc.value)


def _legacy_recompute(from_entry):
    """What a database administrator can do with the product's own unkeyed digest."""
    prev = AuditEntry.objects.filter(id__lt=from_entry.id).order_by("-id").values_list("hash", flat=True).first()
    for entry in AuditEntry.objects.filter(id__gte=from_entry.id).order_by("id"):
        entry.prev_hash = prev or "0" * 64
        entry.key_id = ""
        entry.hash = legacy_digest(entry)
        AuditEntry.objects.filter(pk=entry.pk).update(prev_hash=entry.prev_hash, key_id="", hash=entry.hash)
        prev = entry.hash
    AuditChainHead.objects.filter(pk=1).update(last_hash=prev)


def test_entries_are_keyed_and_cover_the_actor_id(world, settings):
    with acting_as(world.town1):
        world.inst1.beds = 70
        world.inst1.save()
    entry = AuditEntry.objects.filter(actor=world.town1).get()
    assert entry.key_id == settings.AUDIT_HMAC_KEY_ID and entry_digest(entry) == entry.hash
    AuditEntry.objects.filter(pk=entry.pk).update(actor_id=world.town2.pk)
    assert f"entry {entry.pk}" in _verify_fails()
    with override_settings(AUDIT_HMAC_KEY="another-key"):
        entry.refresh_from_db()
        assert entry_digest(entry) != entry.hash


def test_the_last_entries_removed_and_the_head_rewritten_are_found_by_the_checkpoint(world):
    _anchor()
    entries = list(AuditEntry.objects.order_by("-id")[:3])
    keep = AuditEntry.objects.filter(id__lt=entries[-1].id).order_by("-id").first()
    AuditEntry.objects.filter(id__in=[e.id for e in entries]).delete()
    AuditChainHead.objects.filter(pk=1).update(last_hash=keep.hash, count=AuditEntry.objects.count())
    message = _verify_fails()
    assert f"the entries after entry {keep.id} up to entry {entries[0].id} are missing" in message


def test_an_emptied_trail_is_found_by_the_checkpoint(world):
    _anchor()
    count = AuditEntry.objects.count()
    AuditEntry.objects.all().delete()
    AuditChainHead.objects.all().delete()
    message = _verify_fails()
    assert f"{count} entries" in message and "the trail is empty" in message


def test_a_chain_recomputed_with_the_unkeyed_digest_is_found(world):
    _anchor()
    target = AuditEntry.objects.order_by("id")[3]
    AuditEntry.objects.filter(pk=target.pk).update(object_repr="tampered")
    target.refresh_from_db()
    _legacy_recompute(target)
    message = _verify_fails()
    assert "old unkeyed digest" in message
    assert "rewritten (recomputed)" in message  # the checkpoint's hash no longer matches


def test_a_chain_recomputed_without_the_key_is_found(world):
    _anchor()
    target = AuditEntry.objects.order_by("id")[3]
    AuditEntry.objects.filter(pk=target.pk).update(object_repr="tampered")
    with override_settings(AUDIT_HMAC_KEY="guessed-key"):  # same key id, wrong key
        prev = AuditEntry.objects.filter(id__lt=target.id).order_by("-id").values_list("hash", flat=True).first()
        for entry in AuditEntry.objects.filter(id__gte=target.id).order_by("id"):
            entry.prev_hash = prev
            entry.hash = entry_digest(entry)
            AuditEntry.objects.filter(pk=entry.pk).update(prev_hash=prev, hash=entry.hash)
            prev = entry.hash
        AuditChainHead.objects.filter(pk=1).update(last_hash=prev)
    message = _verify_fails()
    assert f"entry {target.pk}: content does not match" in message
    assert "rewritten (recomputed)" in message


def test_an_entry_removed_before_a_checkpoint_is_found(world):
    _anchor()
    victim = AuditEntry.objects.order_by("id")[2]
    AuditEntry.objects.filter(pk=victim.pk).delete()
    assert "previous hash does not match" in _verify_fails()


def test_an_edited_checkpoint_file_is_reported(world, settings):
    _anchor()
    path = Path(settings.AUDIT_ANCHOR_FILE)
    path.write_text(path.read_text().replace('"count":', '"count":1'))
    assert "line 1: not a checkpoint signed" in _verify_fails()


def test_anchor_and_verify_pass_on_an_intact_trail_and_checkpoints_accumulate(world, settings):
    _anchor()
    world.inst1.beds = 71
    world.inst1.save()
    _anchor()
    lines = Path(settings.AUDIT_ANCHOR_FILE).read_text().splitlines()
    assert len(lines) == 2
    last = json.loads(lines[-1])
    assert last["count"] == AuditEntry.objects.count()
    assert last["last_id"] == AuditEntry.objects.order_by("-id").first().id and last["hmac"]
    out = io.StringIO()
    call_command("verify_audit", stdout=out, stderr=io.StringIO())
    assert "2 checkpoints" in out.getvalue()


def test_anchor_refuses_a_trail_that_does_not_verify(world, settings):
    _anchor()
    world.inst1.beds = 73
    world.inst1.save()  # a new entry after the checkpoint, then altered
    AuditEntry.objects.filter(pk=AuditEntry.objects.order_by("-id").first().pk).update(object_repr="x")
    with pytest.raises(CommandError, match="Not anchored"):
        _anchor()
    assert len(Path(settings.AUDIT_ANCHOR_FILE).read_text().splitlines()) == 1


def test_a_rotated_key_still_verifies_older_entries(world, settings):
    old_key = settings.AUDIT_HMAC_KEY
    _anchor()
    with override_settings(AUDIT_HMAC_KEY="rotated-key", AUDIT_HMAC_KEY_ID="k2",
                           AUDIT_HMAC_OLD_KEYS={settings.AUDIT_HMAC_KEY_ID: old_key}):
        world.inst1.beds = 72
        world.inst1.save()
        assert AuditEntry.objects.order_by("-id").first().key_id == "k2"
        _anchor()
        call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())
    # without the retired key, older entries cannot be checked and verify says which key is missing
    with override_settings(AUDIT_HMAC_KEY="rotated-key", AUDIT_HMAC_KEY_ID="k2", AUDIT_HMAC_OLD_KEYS={}):
        assert "not configured" in _verify_fails()


def test_legacy_entries_are_verified_the_old_way_and_signed_once_with_a_record(world):
    first = AuditEntry.objects.order_by("id").first()
    _legacy_recompute(first)  # as the trail was before the key: every entry plain SHA-256
    assert "old unkeyed digest" in _verify_fails()
    old_head = AuditChainHead.objects.get(pk=1).last_hash
    out = io.StringIO()
    call_command("audit_sign_legacy", stdout=out)
    assert "Re-signed" in out.getvalue()
    assert not AuditEntry.objects.filter(key_id="").exists()
    signed = AuditEntry.objects.get(action="audit.legacy_signed")
    assert signed.after["old_last_hash"] == old_head
    call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())


def test_legacy_signing_refuses_a_broken_old_chain(world):
    first = AuditEntry.objects.order_by("id").first()
    _legacy_recompute(first)
    AuditEntry.objects.filter(pk=first.pk).update(object_repr="tampered")
    with pytest.raises(CommandError, match=f"entry {first.pk}"):
        call_command("audit_sign_legacy", stdout=io.StringIO())
    assert AuditEntry.objects.filter(key_id="").count() == AuditEntry.objects.count()


def test_the_anchor_is_scheduled_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["audit-anchor"]
    assert entry["task"] == "apps.core.tasks.anchor_audit_trail" and entry["schedule"] == 3600.0


def test_the_anchor_task_appends_a_checkpoint(world, settings):
    from apps.core.tasks import anchor_audit_trail

    assert anchor_audit_trail() == AuditEntry.objects.count()
    assert Path(settings.AUDIT_ANCHOR_FILE).exists()


def test_exports_are_recorded(world):
    response = page_client(world.leader).get("/ledger/?export=xlsx")
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="export").get()
    assert entry.actor_id == world.leader.pk
    assert entry.after["path"] == "/ledger/?export=xlsx" and entry.after["file"].endswith(".xlsx")


def test_document_downloads_are_recorded_on_the_page_and_the_api(world):
    from apps.core.testing import api_client
    from apps.hazards.tests.scope_cases import _document

    doc = _document(world)
    assert page_client(world.town1).get(f"/hazards/documents/{doc.pk}/download/").status_code == 200
    assert api_client(world.home1).get(f"/api/v1/official-documents/{doc.pk}/download/").status_code == 200
    entries = list(AuditEntry.objects.filter(action="download").order_by("id"))
    assert [(e.actor_id, e.object_id, e.institution_id) for e in entries] == [
        (world.town1.pk, str(doc.pk), world.inst1.pk), (world.home1.pk, str(doc.pk), world.inst1.pk)]
    assert entries[1].after["path"] == f"/api/v1/official-documents/{doc.pk}/download/"


def test_the_legacy_digest_is_the_one_earlier_versions_wrote(db):
    """Entries written before the key must still verify the old way (digest computed by the old code)."""
    import datetime

    entry = AuditEntry(time=datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC), actor_name="town1",
                       organization_name="一号镇", action="update", object_id="7", object_repr="一号养老院",
                       institution_id=7, before={"beds": 60}, after={"beds": 99}, request_id="r-1",
                       remote_addr="10.0.0.1", prev_hash="0" * 64, key_id="")
    assert legacy_digest(entry) == entry_digest(entry) == (
        "69991443ea1dece11213d1245d64d267ffde3c1f072256d3a6c0adf86c43a0d9")


def test_the_checkpoint_also_goes_to_syslog_when_configured(world, settings):
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    try:
        settings.AUDIT_ANCHOR_SYSLOG = f"127.0.0.1:{sock.getsockname()[1]}"
        _anchor()
        message = sock.recv(65536).decode()
    finally:
        sock.close()
    line = Path(settings.AUDIT_ANCHOR_FILE).read_text().strip()
    assert "firesafe-audit-anchor" in message and line in message


class _CheckpointReceiver:
    """A one-shot HTTP server on 127.0.0.1 in a thread, answering ``status`` to each POST."""

    def __init__(self, status=204):
        import http.server
        import threading

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers["Content-Type"], body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/anchor"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_the_checkpoint_is_posted_to_the_webhook_when_configured(world, settings):
    from apps.core.anchor import read_checkpoints

    with _CheckpointReceiver() as receiver:
        settings.AUDIT_ANCHOR_WEBHOOK = receiver.url
        _anchor()
    assert len(receiver.received) == 1
    content_type, body = receiver.received[0]
    assert content_type.startswith("application/json")
    posted = json.loads(body)
    assert posted == json.loads(Path(settings.AUDIT_ANCHOR_FILE).read_text())
    assert posted["count"] == AuditEntry.objects.count() and posted["hmac"]
    assert read_checkpoints()[0] == [posted]  # signed with the trail's key


@pytest.mark.parametrize("status", [500, None])
def test_a_failed_webhook_is_reported_and_the_file_keeps_the_checkpoint(world, settings, status):
    if status is None:  # nobody listening: the port of a server that is gone
        with _CheckpointReceiver() as gone:
            url = gone.url
    else:
        receiver = _CheckpointReceiver(status)
        url = receiver.url
    settings.AUDIT_ANCHOR_WEBHOOK = url
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    try:
        if status is not None:
            receiver.__enter__()
        with pytest.raises(CommandError, match="not delivered to AUDIT_ANCHOR_WEBHOOK"):
            _anchor()
    finally:
        if status is not None:
            receiver.__exit__()
    lines = Path(settings.AUDIT_ANCHOR_FILE).read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["count"] == AuditEntry.objects.count()
    out = io.StringIO()
    call_command("verify_audit", stdout=out, stderr=io.StringIO())
    assert "1 checkpoint" in out.getvalue()
