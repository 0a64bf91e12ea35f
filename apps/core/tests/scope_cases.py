from apps.core.scopecases import ScopeCase


def _entry_of_inst1(w):
    from apps.core.models import AuditEntry

    return AuditEntry.objects.filter(institution=w.inst1).order_by("id").first()


def _photo_of_inst1(w):
    from apps.core.testing import attach_test_photo

    return attach_test_photo(w.inst1, w.home1)


def _export_job_of_home1(w):
    """A finished export of home1's hazard register (its file exists)."""
    from django.test import override_settings

    from apps.core.exports import create_job
    from apps.hazards.views import HazardListView

    with override_settings(EXPORT_JOB_QUEUE="inline"):
        return create_job(w.home1, HazardListView(), "csv", {})


# An export job is its owner's alone: every other user, inside the scope of inst1 or not, gets 404.
_NOT_OWNER = ("admin", "leader", "sec_elderly_user", "town1", "staff1", "sec_social_user", "unit_user",
              "town2", "home2")

CASES = [
    ScopeCase("attachment-file", lambda w: _photo_of_inst1(w).url),
    ScopeCase("audit-entry-page", lambda w: f"/audit/{_entry_of_inst1(w).pk}/", readers=("admin", "leader", "town1", "home1")),
    ScopeCase("audit-entry-api", lambda w: f"/api/v1/audit/{_entry_of_inst1(w).pk}/", api=True,
              readers=("admin", "leader"), outsiders=()),
    ScopeCase("export-job-page", lambda w: f"/exports/{_export_job_of_home1(w).pk}/", readers=("home1",),
              outsiders=_NOT_OWNER),
    ScopeCase("export-job-status", lambda w: f"/exports/{_export_job_of_home1(w).pk}/status/", readers=("home1",),
              outsiders=_NOT_OWNER),
    ScopeCase("export-job-download", lambda w: f"/exports/{_export_job_of_home1(w).pk}/download/",
              readers=("home1",), outsiders=_NOT_OWNER),
    ScopeCase("export-job-api", lambda w: f"/api/v1/exports/{_export_job_of_home1(w).pk}/", api=True,
              readers=("home1",), outsiders=_NOT_OWNER),
    ScopeCase("export-job-api-download", lambda w: f"/api/v1/exports/{_export_job_of_home1(w).pk}/download/",
              api=True, readers=("home1",), outsiders=_NOT_OWNER),
]
