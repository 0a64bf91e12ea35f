"""Stored files are served only through views that check login and scope (issue 11)."""
import os

import pytest
from django.test import Client
from django.urls import resolve
from django.urls.exceptions import Resolver404

from apps.core.testing import attach_test_photo, page_client, png_bytes


@pytest.fixture
def photo(world):
    return attach_test_photo(world.inst1, world.home1)


def _document(world):
    from apps.hazards.documents import issue_document

    return issue_document(world.town1, kind="suggestion_letter", institution=world.inst1, requirements="文件测试")


def test_the_owner_and_everyone_above_it_get_the_photo(world, photo):
    for user in (world.home1, world.town1, world.sec_elderly_user, world.leader, world.admin):
        response = page_client(user).get(photo.url)
        assert response.status_code == 200, user.username
        assert b"".join(response.streaming_content) == png_bytes()
        assert response["Content-Type"] == "image/png"
        assert "sandbox" in response["Content-Security-Policy"]


def test_an_outsider_gets_404_for_the_photo(world, photo):
    for user in world.outsiders:
        assert page_client(user).get(photo.url).status_code == 404, user.username


def test_an_anonymous_visitor_is_sent_to_login_for_a_photo(world, photo):
    response = Client().get(photo.url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_photo_keeps_its_chinese_name_for_download(world, photo):
    response = page_client(world.home1).get(photo.url + "?download=1")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png" in response["Content-Disposition"]


def test_stored_names_are_unguessable(world, photo):
    doc = _document(world)
    for name in (photo.file.name, doc.file.name):
        stem = os.path.splitext(os.path.basename(name))[0]
        assert len(stem) == 32 and int(stem, 16) >= 0, name
    assert "suggestion" not in doc.file.name


@pytest.mark.parametrize("debug", [False, True])
def test_no_url_serves_media_root_in_any_mode(world, photo, settings, debug):
    import importlib

    import firesafe.urls

    settings.DEBUG = debug
    urls = importlib.reload(firesafe.urls)  # the URL table as it is built in this mode
    try:
        doc = _document(world)
        for name in (photo.file.name, doc.file.name):
            for prefix in ("/media/", "/"):
                with pytest.raises(Resolver404):
                    resolve(prefix + name, urlconf=urls)
            assert page_client(world.admin).get("/media/" + name).status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(firesafe.urls)


def _document_with_pdf(world):
    from django.core.files.base import ContentFile

    doc = _document(world)
    doc.pdf.save("x.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return doc


PAGE_ROUTES = {
    "document .docx": lambda d: f"/hazards/documents/{d.pk}/download/",
    "document .pdf": lambda d: f"/hazards/documents/{d.pk}/download/?format=pdf",
}
API_ROUTES = {
    "API document .docx": lambda d: f"/api/v1/official-documents/{d.pk}/download/",
    "API document .pdf": lambda d: f"/api/v1/official-documents/{d.pk}/pdf/",
}


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_document_pages_serve_the_owner_refuse_an_outsider_and_send_anonymous_to_login(world, route):
    url = PAGE_ROUTES[route](_document_with_pdf(world))
    for user in (world.home1, world.town1, world.leader):
        response = page_client(user).get(url)
        assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;"), user
    for user in world.outsiders:
        assert page_client(user).get(url).status_code == 404, user.username
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("route", API_ROUTES)
def test_document_api_serves_the_owner_refuses_an_outsider_and_an_anonymous_caller(world, route):
    from rest_framework.test import APIClient

    from apps.core.testing import api_client

    url = API_ROUTES[route](_document_with_pdf(world))
    assert api_client(world.home1).get(url).status_code == 200
    assert api_client(world.town1).get(url).status_code == 200
    for user in world.outsiders:
        assert api_client(user).get(url).status_code == 404, user.username
    assert APIClient().get(url).status_code in (401, 403)


def test_downloads_of_documents_and_explicit_photo_downloads_are_in_the_trail(world, photo):
    from apps.core.models import AuditEntry

    doc = _document(world)
    client = page_client(world.home1)  # (logging in is itself in the trail)
    before = AuditEntry.objects.count()
    client.get(photo.url)  # shown on a page: not a download
    assert AuditEntry.objects.count() == before
    client.get(photo.url + "?download=1")
    client.get(f"/hazards/documents/{doc.pk}/download/")
    assert AuditEntry.objects.count() == before + 2


def test_behind_nginx_the_view_answers_with_x_accel_redirect(world, photo, settings):
    settings.FILES_X_ACCEL_PREFIX = "/protected/"
    response = page_client(world.home1).get(photo.url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected/" + photo.file.name
    assert response.content == b""  # nginx sends the bytes
    assert page_client(world.home2).get(photo.url).status_code == 404


def test_a_record_whose_file_is_gone_is_404_not_500(world, photo):
    photo.file.storage.delete(photo.file.name)
    assert page_client(world.home1).get(photo.url).status_code == 404
