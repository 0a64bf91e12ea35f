"""History a person reads: labels, choice labels, names, local times, before → after in words."""
from apps.core.history import readable
from apps.core.models import AuditEntry
from apps.core.testing import page_client
from apps.hazards.tests.helpers import general, rectified


def test_the_loop_reads_as_words_on_the_hazard_page_and_in_the_audit_search(world):
    from apps.hazards import services

    hazard = rectified(world, general(world, description="二楼配电箱线路老化"))
    services.verify(world.town1, hazard, note="现场复核合格")
    entries = AuditEntry.objects.for_object(hazard).select_related("content_type")
    rows = dict(readable(entries))
    verify = next(e for e in rows if e.action == "hazard.verify")
    state = next(r for r in rows[verify] if r.label == "状态")
    assert (state.before, state.after) == ("待验收", "已销号")
    update = next(e for e in rows if e.action == "update" and any(r.label == "验收人" for r in rows[e]))
    verifier = next(r for r in rows[update] if r.label == "验收人")
    assert (verifier.before, verifier.after) == ("—", world.town1.display_name)
    for e, changes in rows.items():
        for r in changes:
            assert "None" not in (r.before, r.after) and "_id" not in r.label, (e.action, r)
            assert "T" not in r.after or ":" not in r.after or "+" not in r.after, r  # no ISO time stamps
    body = page_client(world.town1).get(hazard.get_absolute_url()).content.decode()
    assert "待验收</del> → <ins class=\"text-success\">已销号" in body
    assert "verified_by_id" not in body and "awaiting_verification" not in body
    admin = page_client(world.admin)
    listing = admin.get(f"/audit/?object_id={hazard.pk}").content.decode()
    assert "awaiting_verification" not in listing
    detail = admin.get(f"/audit/{verify.pk}/").content.decode()
    assert 'id="audit-changes"' in detail and "已销号" in detail and "变更前" in detail and "整改前" not in detail


def test_times_are_local_and_empty_is_a_dash(world):
    from apps.core.history import Reader
    from apps.hazards.models import Hazard

    field = Hazard._meta.get_field("rectified_at")
    reader = Reader([])
    assert reader.value(field, "2026-11-30T16:30:00+00:00") == "2026-12-01 00:30"
    assert reader.value(field, None) == "—"
    assert reader.value(Hazard._meta.get_field("fixed_on_spot"), False) == "否"
