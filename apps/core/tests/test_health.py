"""/healthz: ok/not ok for anyone, which check failed only for a superuser."""
import json

import pytest
from django.db import OperationalError

from apps.core import health
from apps.core.testing import page_client

MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_it_answers_only_ok_to_anonymous_callers(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_without_detail_when_the_database_fails(db, client, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("could not connect to server: secret-host:5432")

    monkeypatch.setattr(health, "connection", BrokenConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    assert b"secret-host" not in response.content


def test_it_fails_when_the_cache_does_not_answer(db, client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": DEAD_REDIS}}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}


def test_it_fails_when_the_cache_loses_what_was_written(db, client, monkeypatch):
    monkeypatch.setattr(health.cache, "get", lambda key, default=None: None)
    assert client.get("/healthz").status_code == 503


def test_it_fails_when_the_configured_broker_is_unreachable(db, client, settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}


def test_it_does_not_ask_for_a_broker_when_none_is_configured(settings):
    settings.CELERY_BROKER_URL = "memory://"
    assert health.broker_url() is None
    assert health.check_broker() is None


@pytest.mark.services
def test_it_reaches_a_running_broker(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert health.check_broker() is None


def _static_root(tmp_path, manifest=True, hashed_file=True):
    root = tmp_path / "staticfiles"
    (root / "css").mkdir(parents=True)
    if manifest:
        paths = {health.STATIC_PROBE_ASSET: "css/app.0123456789ab.css"}
        (root / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "x"}))
    if hashed_file:
        (root / "css" / "app.0123456789ab.css").write_text("body{}")
    return root


@pytest.mark.parametrize("manifest,hashed_file", [(False, False), (True, False)])
def test_it_fails_without_a_usable_static_manifest(db, client, settings, tmp_path, manifest, hashed_file):
    settings.STATIC_ROOT = _static_root(tmp_path, manifest, hashed_file)
    settings.STORAGES = MANIFEST_STORAGE
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}


def test_it_is_ok_with_a_manifest_that_resolves_the_probe_asset(db, client, settings, tmp_path):
    settings.STATIC_ROOT = _static_root(tmp_path)
    settings.STORAGES = MANIFEST_STORAGE
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_superuser_sees_which_check_failed(world, settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    response = page_client(world.admin).get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == checks["cache"] == checks["static"] == "ok"
    assert checks["broker"] != "ok"


def test_other_logged_in_users_see_no_detail(world, settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    response = page_client(world.leader).get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
