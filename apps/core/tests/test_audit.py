import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.audit import acting_as, verify_chain
from apps.core.models import AuditEntry
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
    ok, checked, message, _ = verify_chain()
    assert ok, message
    assert checked == AuditEntry.objects.count()


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
