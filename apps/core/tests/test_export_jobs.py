"""Exports above EXPORT_SYNC_LIMIT become background jobs: scope re-applied, owner-only download,
progress page, failure reason, notification, expiry, CSV and xlsx, page and API."""
import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from apps.core.exports import expire_export_jobs, run_job
from apps.core.models import ExportJob, Notification
from apps.core.testing import api_client, page_client
from apps.hazards.models import Hazard
from apps.hazards.tests.helpers import general


@pytest.fixture
def small_limit(settings):
    settings.EXPORT_SYNC_LIMIT = 2
    settings.EXPORT_JOB_QUEUE = "inline"


def _hazards(world):
    for i in range(3):
        general(world, description=f"一号院隐患{i}")
    general(world, institution=world.inst2, description="二号院隐患")


def _download(client, job):
    response = client.get(f"/exports/{job.pk}/download/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_below_the_limit_the_file_is_streamed_at_once(world, settings):
    settings.EXPORT_SYNC_LIMIT = 10
    _hazards(world)
    response = page_client(world.leader).get("/hazards/", {"export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    assert not ExportJob.objects.exists()


def test_above_the_limit_the_export_becomes_a_job_with_a_page_and_a_notification(world, small_limit):
    _hazards(world)
    client = page_client(world.leader)
    response = client.get("/hazards/", {"export": "xlsx"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert job.owner == world.leader and job.state == "done" and job.rows_done == 4 == job.rows_total
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert f"/exports/{job.pk}/download/" in page and "js/export-job.js" in page and "<script>" not in page
    status = client.get(f"/exports/{job.pk}/status/").json()
    assert status["state"] == "done" and status["download_url"] == f"/exports/{job.pk}/download/"
    ws = load_workbook(io.BytesIO(_download(client, job))).active
    assert ws.max_row == 5  # header + 4 hazards
    note = Notification.objects.get(recipient=world.leader, verb="export.done")
    assert note.url == f"/exports/{job.pk}/"


def test_queued_job_page_says_queued_and_shows_no_link(world, small_limit, settings):
    settings.EXPORT_JOB_QUEUE = "off"
    _hazards(world)
    client = page_client(world.leader)
    client.get("/hazards/", {"export": "csv"})
    job = ExportJob.objects.get()
    assert job.state == "queued" and job.format == "csv"
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert "导出已排队" in page
    assert client.get(f"/exports/{job.pk}/status/").json()["download_url"] is None
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404


def test_the_job_holds_only_the_owners_rows_and_the_filters_with_scope_applied_at_run_time(world, small_limit,
                                                                                            settings):
    settings.EXPORT_SYNC_LIMIT = 1
    _hazards(world)
    settings.EXPORT_JOB_QUEUE = "off"
    client = page_client(world.town1)
    client.get("/hazards/", {"export": "csv", "township": [world.t1.pk, world.t2.pk]})
    job = ExportJob.objects.get()
    run_job(job.pk)
    job.refresh_from_db()
    text = _download(client, job).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert len(rows) == 3 and "二号院隐患" not in text  # town1 never sees inst2's hazard


def test_the_filters_of_the_list_apply_to_the_job(world, small_limit):
    _hazards(world)
    client = page_client(world.leader)
    client.get("/hazards/", {"export": "csv", "institution": world.inst1.pk})
    job = ExportJob.objects.get()
    assert job.params == {"institution": [str(world.inst1.pk)]}
    text = _download(client, job).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 4 and "二号院隐患" not in text


@pytest.mark.parametrize("who", ["leader", "admin", "town1", "home2"])
def test_only_the_owner_sees_or_downloads_the_job(world, small_limit, who):
    _hazards(world)
    page_client(world.town1).get("/hazards/", {"export": "xlsx"})
    job = ExportJob.objects.get()
    if who == "town1":
        return
    other = page_client(getattr(world, who))
    for url in (f"/exports/{job.pk}/", f"/exports/{job.pk}/status/", f"/exports/{job.pk}/download/"):
        assert other.get(url).status_code == 404
    api = api_client(getattr(world, who))
    assert api.get(f"/api/v1/exports/{job.pk}/").status_code == 404
    assert api.get(f"/api/v1/exports/{job.pk}/download/").status_code == 404
    assert api.get("/api/v1/exports/").json()["results"] == []


def test_a_failed_job_shows_its_reason(world, small_limit, monkeypatch):
    _hazards(world)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("apps.core.excel.stream_xlsx", broken)
    client = page_client(world.leader)
    client.get("/hazards/", {"export": "xlsx"})
    job = ExportJob.objects.get()
    assert job.state == "failed" and job.error == "导出失败：RuntimeError"
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert "导出失败" in page and "RuntimeError" in page
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404
    assert Notification.objects.filter(recipient=world.leader, verb="export.failed").exists()


def test_an_owner_no_longer_active_gets_no_file(world, small_limit, settings):
    settings.EXPORT_JOB_QUEUE = "off"
    _hazards(world)
    page_client(world.leader).get("/hazards/", {"export": "xlsx"})
    job = ExportJob.objects.get()
    type(world.leader).objects.filter(pk=world.leader.pk).update(is_active=False)
    run_job(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and "不再有效" in job.error


def test_the_api_answers_202_with_the_job_above_the_limit_and_the_file_below(world, small_limit, settings):
    _hazards(world)
    api = api_client(world.leader)
    response = api.get("/api/v1/hazards/export/", {"export": "csv"})
    assert response.status_code == 202
    body = response.json()
    job = ExportJob.objects.get()
    assert body["state"] == "done" and response["Location"] == f"/api/v1/exports/{job.pk}/"
    assert api.get(body["api_url"]).json()["rows_done"] == 4
    file = api.get(body["api_download_url"])
    assert file.status_code == 200 and "二号院隐患" in b"".join(file.streaming_content).decode("utf-8-sig")
    settings.EXPORT_SYNC_LIMIT = 100
    response = api.get("/api/v1/hazards/export/", {"export": "xlsx", "institution": world.inst2.pk})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert ws.max_row == 2


def test_the_api_refuses_an_unknown_format_with_a_reason(world):
    response = api_client(world.leader).get("/api/v1/hazards/export/", {"export": "pdf"})
    assert response.status_code == 400 and "export" in response.json()


@pytest.mark.parametrize("url", ["/api/v1/institutions/export/", "/api/v1/devices/export/",
                                 "/api/v1/alarms/export/"])
def test_other_lists_export_through_the_same_route(world, url):
    response = api_client(world.leader).get(url, {"export": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_expired_jobs_and_their_files_are_removed(world, small_limit):
    _hazards(world)
    page_client(world.leader).get("/hazards/", {"export": "xlsx"})
    job = ExportJob.objects.get()
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    assert expire_export_jobs() == 0
    ExportJob.objects.filter(pk=job.pk).update(created=timezone.now() - datetime.timedelta(hours=49))
    assert expire_export_jobs() == 1
    assert not ExportJob.objects.exists() and not storage.exists(name)


def test_queueing_a_job_takes_a_constant_number_of_queries(world, small_limit, settings):
    settings.EXPORT_JOB_QUEUE = "off"
    client = page_client(world.leader)
    counts = []
    for n in (3, 30):
        while Hazard.objects.count() < n:
            general(world)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/hazards/", {"export": "xlsx"}).status_code == 302
        counts.append(len(ctx))
    assert counts[0] == counts[1]


def test_a_running_job_writes_a_constant_number_of_queries_per_row_count(world, small_limit, settings):
    settings.EXPORT_JOB_QUEUE = "off"
    client = page_client(world.leader)
    counts = []
    for n in (3, 30):
        while Hazard.objects.count() < n:
            general(world)
        client.get("/hazards/", {"export": "csv"})
        job = ExportJob.objects.order_by("-id").first()
        with CaptureQueriesContext(connection) as ctx:
            run_job(job.pk)
        counts.append(len(ctx))
        job.refresh_from_db()
        assert job.state == "done" and job.rows_done == n
    assert counts[0] == counts[1]


def test_a_big_export_reads_plain_values_that_equal_the_objects(world):
    """The lean read of an export (values_list, no model objects) gives exactly the cells the objects
    give: choice labels in the active language, related names, the overdue flag, empty dates; a column
    that needs the object (a callable without values/compute) falls back to reading objects."""
    from django.utils import translation

    from apps.core.excel import Column, _lean_plan, export_rows
    from apps.hazards.views import hazard_columns, responsibility_columns

    _hazards(world)
    late = general(world, description="逾期隐患")
    Hazard.objects.filter(pk=late.pk).update(deadline=timezone.localdate() - datetime.timedelta(days=3))
    Hazard.objects.filter(description="二号院隐患").update(state="closed", closed_at=timezone.now())
    queryset = Hazard.objects.select_related("institution__township").order_by("-found_at", "-pk")
    columns = hazard_columns()
    with translation.override("zh-hans"):
        assert _lean_plan(Hazard, columns) is not None
        lean = list(export_rows(columns, queryset))
        objects = [[col.value(h) for col in columns] for h in queryset]
    assert lean == objects and len(lean) == 5
    assert any(row[12] is True for row in lean) and any(row[12] is False for row in lean)
    assert _lean_plan(Hazard, responsibility_columns()) is None
    assert _lean_plan(Hazard, [Column("x", "institution")]) is None  # a related object is shown as text
    with CaptureQueriesContext(connection) as ctx:
        list(export_rows(columns, queryset))
    assert len(ctx.captured_queries) <= 1
