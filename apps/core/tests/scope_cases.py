from apps.core.scopecases import ScopeCase


def _entry_of_inst1(w):
    from apps.core.models import AuditEntry

    return AuditEntry.objects.filter(institution=w.inst1).order_by("id").first()


def _photo_of_inst1(w):
    from apps.core.testing import attach_test_photo

    return attach_test_photo(w.inst1, w.home1)


CASES = [
    ScopeCase("attachment-file", lambda w: _photo_of_inst1(w).url),
    ScopeCase("audit-entry-page", lambda w: f"/audit/{_entry_of_inst1(w).pk}/", readers=("admin", "leader", "town1", "home1")),
    ScopeCase("audit-entry-api", lambda w: f"/api/v1/audit/{_entry_of_inst1(w).pk}/", api=True,
              readers=("admin", "leader"), outsiders=()),
]
