"""Settings for the test suite: the production settings with fast hashing and eager tasks."""
import os

os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("AUDIT_HMAC_KEY", "test-audit-key")
os.environ.setdefault("FIRESAFE_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))
# Under pytest-xdist (``-n``) each worker gets its own var dir (imports, handover packages, backups …),
# inherited by the subprocesses a test starts; PYTEST_XDIST_WORKER is gw0, gw1 … (unset without -n).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER and os.path.basename(os.environ["FIRESAFE_VAR_DIR"]) != XDIST_WORKER:
    os.environ["FIRESAFE_VAR_DIR"] = os.path.join(os.environ["FIRESAFE_VAR_DIR"], XDIST_WORKER)

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
ALLOWED_HOSTS = ["*"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
MEDIA_ROOT = VAR_DIR / "media"  # noqa: F405
# LibreOffice takes seconds per document: only the tests of the PDF turn it on.
DOCUMENT_PDF = False
# Export jobs run in the request's thread after commit (no background thread on the test database).
EXPORT_JOB_QUEUE = "inline"
