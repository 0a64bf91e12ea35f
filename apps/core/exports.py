"""The one export entry point of every list: streamed at once when small, a background job when big.

``export(view, fmt)`` (called by ``ObjectListView`` and the list API's ``export`` route) counts the
rows up to ``EXPORT_SYNC_LIMIT`` (one capped count: its cost does not grow with the table). At or
below the limit the file is streamed in the request, as before. Above it an :class:`ExportJob` is
created and queued, and the caller answers with the job's page (HTML) or 202 with its URL (API).

The job stores the list view's dotted path, its query parameters and its owner; when it runs it
rebuilds the view's queryset *for the owner* (scope and filters re-applied at run time, so the file
holds only rows the owner may see then), writes the file in constant memory with progress, and
notifies the owner with a link to the job page. Only the owner sees the job or downloads the file
(anyone else: 404). Files expire after ``EXPORT_RETENTION_HOURS`` (``expire_export_jobs``, run with
the periodic jobs).
"""
import datetime
import logging
import os
import threading

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .models import ExportJob
from .notifications import scheduled

logger = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "csv": "text/csv; charset=utf-8"}


def sync_limit():
    return getattr(settings, "EXPORT_SYNC_LIMIT", 20_000)


def over_sync_limit(queryset):
    """True when ``queryset`` has more rows than ``EXPORT_SYNC_LIMIT`` (one count of at most limit+1 rows)."""
    limit = sync_limit()
    return queryset.order_by()[: limit + 1].count() > limit


def _view_path(view):
    cls = type(view)
    return f"{cls.__module__}.{cls.__qualname__}"


def _params(request):
    return {key: request.GET.getlist(key) for key in request.GET if key not in ("export", "page", "format")}


def export(view, fmt):
    """The answer to an export request on the list ``view`` (an ``ObjectListView`` whose request is set):
    a ``FileResponse`` of the rows, or the new :class:`ExportJob` when there are too many."""
    from .excel import export_response

    request = view.request
    queryset = view.get_queryset()
    if not over_sync_limit(queryset):
        return export_response(view.export_filename, view.export_columns, queryset, user=request.user, fmt=fmt)
    return create_job(request.user, view, fmt, _params(request))


def create_job(user, view, fmt, params):
    job = ExportJob.objects.create(owner=user, kind=str(view.export_filename)[:200], view=_view_path(view),
                                   params=params, format=fmt, language=translation.get_language() or "")
    queue(job)
    return job


def queue(job):
    """Run ``job`` after the current transaction commits: a Celery task with a broker; without one a
    background thread (``EXPORT_JOB_QUEUE = "auto"``); ``"inline"`` runs it at once in the caller (tests);
    ``"off"`` leaves it queued."""
    mode = getattr(settings, "EXPORT_JOB_QUEUE", "auto")
    if mode == "off":
        return
    if mode == "inline":
        run_job(job.pk)
        job.refresh_from_db()
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:
        transaction.on_commit(lambda: threading.Thread(target=_run_in_thread, args=(job.pk,), name="export-job",
                                                       daemon=True).start())
        return
    from .tasks import run_export_job

    transaction.on_commit(lambda: run_export_job.delay(job.pk))


def _run_in_thread(job_id):
    try:
        run_job(job_id)
    finally:
        connection.close()


def build_view(job):
    """The list view of ``job`` as its owner would request it, with the stored filters."""
    cls = import_string(job.view)
    query = QueryDict(mutable=True)
    for key, values in (job.params or {}).items():
        query.setlist(key, [str(v) for v in (values if isinstance(values, list) else [values])])
    request = RequestFactory().get("/", data=query)
    request.user = job.owner
    view = cls()
    view.setup(request)
    return view


def run_job(job_id):
    """Write the file of one job. Failures are stored with their reason and notified; never raised."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(
        state=ExportJob.State.RUNNING)
    if not claimed:
        return None
    job = ExportJob.objects.select_related("owner").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        tmp_path = None
        try:
            if not job.owner.is_active:
                raise ExportError(_("The account that asked for this export is no longer active."))
            view = build_view(job)
            queryset = view.get_queryset()
            total = queryset.order_by().count()
            ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
            tmp_path = _write(job, view, queryset)
            from .excel import export_filename

            name = export_filename(job.kind, job.owner)
            if job.format == "csv":
                name = name[:-5] + ".csv"
            with open(tmp_path, "rb") as fh:
                job.file.save(name, File(fh), save=False)
            job.filename = name
            job.state = ExportJob.State.DONE
            job.rows_done = ExportJob.objects.filter(pk=job.pk).values_list("rows_done", flat=True).get()
            job.rows_total = max(total, job.rows_done)
            job.finished = timezone.now()
            job.save(update_fields=["file", "filename", "state", "rows_done", "rows_total", "finished"])
            _notify(job, _("Export ready: %(name)s") % {"name": name},
                    _("%(n)d rows. The file is kept for %(h)d hours.")
                    % {"n": job.rows_done, "h": retention_hours()})
        except Exception as exc:  # noqa: BLE001 - stored and shown to the owner, never a lost job
            logger.exception("export job %s failed", job_id)
            reason = str(exc) if isinstance(exc, ExportError) else _("The export failed: %(error)s") % {
                "error": exc.__class__.__name__}
            ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.FAILED, error=reason[:500],
                                                       finished=timezone.now())
            job.refresh_from_db()
            _notify(job, _("Export failed: %(name)s") % {"name": job.kind}, reason)
        finally:
            if tmp_path and os.path.exists(tmp_path):
                os.unlink(tmp_path)
    return job


class ExportError(Exception):
    """A reason the owner can read."""


def _write(job, view, queryset):
    from .excel import _temp_file, stream_csv, stream_xlsx

    columns = view.export_columns
    if not columns:
        raise ExportError(_("This list cannot be exported."))
    tmp = _temp_file("." + job.format)
    tmp.close()

    def progress(n):
        ExportJob.objects.filter(pk=job.pk).update(rows_done=n)

    rows = queryset  # streamed in chunks by excel.export_rows (plain values when the columns allow)
    if job.format == "csv":
        n = stream_csv(tmp.name, columns, rows, progress=progress)
    else:
        n = stream_xlsx(tmp.name, job.kind, columns, rows, progress=progress)
    progress(n)
    return tmp.name


def _notify(job, title, body):
    from .notifications import notify

    notify([job.owner], f"export.{job.state}", title, body=body, url=job.get_absolute_url(), target=job)


def status(job):
    """The job as the status endpoint and the API answer it."""
    return {
        "id": job.pk,
        "list": job.kind,
        "format": job.format,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "error": job.error,
        "created": job.created.isoformat(),
        "finished": job.finished.isoformat() if job.finished else None,
        "url": reverse("export_job", args=[job.pk]),
        "download_url": reverse("export_job_download", args=[job.pk]) if job.state == ExportJob.State.DONE else None,
    }


def retention_hours():
    return getattr(settings, "EXPORT_RETENTION_HOURS", 48)


@scheduled
def expire_export_jobs():
    """Delete export jobs (and their files) older than ``EXPORT_RETENTION_HOURS``; idempotent."""
    cutoff = timezone.now() - datetime.timedelta(hours=retention_hours())
    removed = 0
    for job in ExportJob.objects.filter(created__lt=cutoff).only("pk", "file"):
        if job.file:
            try:
                job.file.delete(save=False)
            except OSError:
                logger.warning("export file %s could not be removed", job.file.name)
        job.delete()
        removed += 1
    return removed
