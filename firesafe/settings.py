"""FireSafe settings. Every deployment knob is an environment variable (see README)."""
import datetime
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("FIRESAFE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"
    elif env_bool("FIRESAFE_REQUIRE_SECRET_KEY"):
        # Set by firesafe/wsgi.py: the web server never runs on a made-up key.
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    else:
        # Management commands (migrate, makemigrations --check, collectstatic …) sign nothing
        # that outlives the process, so a throw-away key is enough for them.
        import secrets

        SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# Behind the TLS proxy every request is HTTPS: redirect plain HTTP and pin HTTPS with HSTS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", BEHIND_TLS_PROXY)
# /healthz is probed over plain HTTP by the proxy or the service manager on the host.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if BEHIND_TLS_PROXY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", BEHIND_TLS_PROXY)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "apps.core",
    "apps.orgs",
    "apps.ledger",
    "apps.hazards",
    "apps.inspections",
    "apps.monitoring",
    "apps.training",
    "apps.assessment",
    "apps.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.LoginRequiredByDefault",  # login by default; exemptions named there
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "apps.core.middleware.AuditContextMiddleware",
    "apps.core.middleware.BadInputMiddleware",
    # Last, as django-axes asks: turns a lockout flagged during authentication into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "firesafe.urls"
WSGI_APPLICATION = "firesafe.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "apps.core.context_processors.platform",
            ],
        },
    },
]

# Database: SQLite (WAL) by default, PostgreSQL through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'firesafe.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
# The monitoring ingest prepares its per-batch statements (PostgreSQL); 0 behind a pooler in transaction
# mode that does not keep prepared statements (PgBouncer before 1.21 or without max_prepared_statements).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DB_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django turns psycopg's preparation off (threshold None), which also ignores prepare=True. A threshold
    # no query reaches: only the statements that ask (prepare=True) are prepared, nothing else is.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "orgs.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every way in (login page, /admin/login/, the API token endpoint) authenticates through
# django.contrib.auth.authenticate(), where django-axes checks and counts failures first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed-login lockout: this many failures for one user name (from anywhere), or for one user name
# from one address, within the window. Failures are never counted per address alone, so a shared
# office address (or the proxy's) cannot lock out someone who gives the right password.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
# Address-wide: past this many failures from one client address (any user names) within the window,
# each further *failed* attempt from it is answered only after a delay that doubles from
# LOGIN_ADDRESS_DELAY_SECONDS up to LOGIN_ADDRESS_DELAY_MAX_SECONDS; a right password is never delayed.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_ADDRESS_DELAY_SECONDS = env_int("LOGIN_ADDRESS_DELAY_SECONDS", 1)
LOGIN_ADDRESS_DELAY_MAX_SECONDS = env_int("LOGIN_ADDRESS_DELAY_MAX_SECONDS", 5)


def _login_failure_limit(request, credentials):
    # Read at call time so that override_settings(LOGIN_FAILURE_LIMIT=…) holds in tests.
    from django.conf import settings

    return settings.LOGIN_FAILURE_LIMIT


def _login_cool_off(request=None):
    from django.conf import settings

    return datetime.timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)


AXES_FAILURE_LIMIT = _login_failure_limit
AXES_COOLOFF_TIME = _login_cool_off
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "username"]]
AXES_USERNAME_CALLABLE = "apps.orgs.auth.axes_username"
AXES_LOCKOUT_CALLABLE = "apps.orgs.auth.lockout_response"
# A lock lasts the window from the failure that caused it; attempts while locked do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True  # logins are in the trail already
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "password", "csrfmiddlewaretoken"]
# Client address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT reverse proxies (the documented nginx:
# 1), the right-most address in X-Forwarded-For that the proxies did not add themselves (python-ipware
# counts the proxies after the first in that header). A header with more addresses than the proxies
# account for (a forged one) gives the proxy's own address, which never locks anybody out by itself.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT - 1 if TRUSTED_PROXY_COUNT else None
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)

# The trail (apps.core.audit): every entry is authenticated with HMAC-SHA256 under a key that is
# not in the database. AUDIT_HMAC_KEY_ID names the current key (stored per entry); keys retired by a
# rotation stay readable through AUDIT_HMAC_OLD_KEYS="id:key,id:key". See docs/audit.md.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY") or ("insecure-development-audit-key" if DEBUG else "")
AUDIT_HMAC_KEY_ID = env_str("AUDIT_HMAC_KEY_ID", "dev" if DEBUG and not env_str("AUDIT_HMAC_KEY") else "k1")
AUDIT_HMAC_OLD_KEYS = dict(item.split(":", 1) for item in env_list("AUDIT_HMAC_OLD_KEYS") if ":" in item)
if not AUDIT_HMAC_KEY and env_bool("FIRESAFE_REQUIRE_SECRET_KEY"):
    # Set by firesafe/wsgi.py: the web server never writes a trail nobody could verify.
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set when DEBUG is off.")
# Signed checkpoints of the trail (manage.py audit_anchor, hourly in beat) are appended here: a file
# outside the database (best on another machine or an append-only mount), and optionally to syslog
# (AUDIT_ANCHOR_SYSLOG: "/dev/log" or "host:514") and a webhook (AUDIT_ANCHOR_WEBHOOK: a URL the signed
# checkpoint is POSTed to as JSON, within WEBHOOK_TIMEOUT_SECONDS; a failure is reported, the file keeps it).
AUDIT_ANCHOR_FILE = env_str("AUDIT_ANCHOR_FILE", str(VAR_DIR / "audit-anchor.jsonl"))
AUDIT_ANCHOR_SYSLOG = env_str("AUDIT_ANCHOR_SYSLOG")
AUDIT_ANCHOR_WEBHOOK = env_str("AUDIT_ANCHOR_WEBHOOK")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": env_str("FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded photos, attachments and issued documents are never served from a public URL: the
# file view (apps.core.files) checks login and scope, then hands the bytes over. Behind nginx it
# answers with `X-Accel-Redirect: <prefix><stored name>` and nginx sends the file from an
# `internal` location (deploy/nginx/firesafe.conf); without a prefix Django streams it.
FILES_X_ACCEL_PREFIX = env_str("FILES_X_ACCEL_PREFIX")

# Content Security Policy (django-csp). Scripts only from this site: pages carry no inline
# script (behaviour lives in static/js/, declared with data attributes). Inline *styles* stay
# allowed: ECharts writes style attributes into its tooltips and the pages colour badges and
# bars from data; style injection cannot run code. Nothing is loaded from other hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Uploads: size limit per file and accepted types (checked in apps.core.uploads).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 20 * 1024 * 1024)

CACHE_URL = env_str("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.pagination.exception_handler",
}
# API tokens (django-rest-knox): one per client login, stored as a digest, expiring.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # knox's swappable token model (referenced by orgs.TokenClient)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": datetime.timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 7 * 24)),
    "TOKEN_LIMIT_PER_USER": env_int("API_TOKEN_LIMIT_PER_USER", 20),
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FireSafe API",
    "DESCRIPTION": "民政消防安全监管平台 REST API. Token from POST /api/v1/auth/token/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name (state, level, category) get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "HazardStateEnum": "apps.hazards.choices.HazardState",
        "HazardLevelEnum": "apps.hazards.choices.HazardLevel",
        "HazardCategoryEnum": "apps.hazards.choices.HazardCategory",
        "SupervisionStateEnum": "apps.hazards.choices.SupervisionState",
        "ExtensionStateEnum": "apps.hazards.choices.ExtensionState",
        "InspectionStateEnum": "apps.inspections.choices.InspectionState",
        "AlarmStateEnum": "apps.monitoring.choices.AlarmState",
        "RiskLevelEnum": "apps.assessment.choices.RiskLevel",
        "AssessmentStateEnum": "apps.assessment.choices.AssessmentState",
        "SessionCategoryEnum": "apps.training.choices.SessionCategory",
        "DeviceKindEnum": "apps.monitoring.choices.DeviceKind",
        "RuleChannelEnum": "apps.monitoring.choices.RuleChannel",
    },
}

# Background work: Celery + Redis in production; eager (in-process) when no broker is set.
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL")
# Eager tasks never reach a broker; "memory://" keeps kombu from looking for one on localhost.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "notify-deadlines": {"task": "apps.core.tasks.run_scheduled_notifications", "schedule": 3600.0},
    "audit-anchor": {"task": "apps.core.tasks.anchor_audit_trail", "schedule": 3600.0},
    # Risk goes stale at local midnight: refreshed here (and queued by the first request that finds
    # it stale), never recomputed for every institution inside a request.
    "refresh-risk-daily": {"task": "apps.assessment.tasks.refresh_stale_risk",
                           "schedule": crontab(hour=0, minute=1)},
    # Today's province cockpit, built once risk is refreshed (before that, a request of the new day
    # is served the last figures with their time and queues its own rebuild: apps/dashboard/cache.py).
    "warm-cockpit-daily": {"task": "apps.dashboard.tasks.warm_province", "schedule": crontab(hour=0, minute=15)},
}
# How the first cockpit request of a new day queues its rebuild: "auto" (Celery with a broker, a
# background thread without one) or "off" (only recorded).
COCKPIT_REBUILD_QUEUE = env_str("COCKPIT_REBUILD_QUEUE", "auto")
# How a request queues a refresh of stale risk: "auto" (Celery with a broker, a background thread
# without one) or "off" (only recorded; the scheduled job refreshes).
RISK_REFRESH_QUEUE = env_str("RISK_REFRESH_QUEUE", "auto")
# The list API counts exactly up to this many rows, then answers the planner's estimate.
API_EXACT_COUNT_LIMIT = env_int("API_EXACT_COUNT_LIMIT", 10_000)
# From this many rows expected by the planner, the estimate is answered without the capped count.
API_ESTIMATED_COUNT_FROM = env_int("API_ESTIMATED_COUNT_FROM", 100_000)
# A list export of more rows than this becomes a background job (apps/core/exports.py); its file is
# kept this many hours. "auto": a Celery task with a broker, a background thread without one.
EXPORT_SYNC_LIMIT = env_int("EXPORT_SYNC_LIMIT", 20_000)
EXPORT_RETENTION_HOURS = env_int("EXPORT_RETENTION_HOURS", 48)
EXPORT_JOB_QUEUE = env_str("EXPORT_JOB_QUEUE", "auto")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend" if DEBUG
                        else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "firesafe@localhost")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)

# MQTT ingest (electrical-fire monitoring).
MQTT_HOST = env_str("MQTT_HOST", "127.0.0.1")
MQTT_PORT = env_int("MQTT_PORT", 1883)
MQTT_USERNAME = env_str("MQTT_USERNAME")
MQTT_PASSWORD = env_str("MQTT_PASSWORD")
# The broker authenticates devices and its ACL (manage.py mosquitto_acl) lets each publish only to its own
# topics: then a device's own topic proves who sent a message without a token in the payload (ThingsBoard
# and vendor formats carry none). Leave off on a broker that lets anyone publish anywhere.
MQTT_TOPIC_AUTHENTICATED = env_bool("MQTT_TOPIC_AUTHENTICATED", False)
# Device time further than this from the platform's receive time is a wrong clock: the reading is flagged
# (a clock ahead, or before 2000, is stored and evaluated at receive time) and the device page says so.
MONITORING_CLOCK_SKEW_SECONDS = env_int("MONITORING_CLOCK_SKEW_SECONDS", 300)

SITE_NAME = env_str("SITE_NAME", "民政消防安全监管平台")
# Official documents get a PDF next to the .docx where LibreOffice (soffice) is installed.
DOCUMENT_PDF = env_bool("DOCUMENT_PDF", True)

# Where `manage.py backup` writes its archives when no --output is given.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))

# Covering indexes (INCLUDE) exist on PostgreSQL only; on SQLite they are plain indexes, on purpose.
# HSTS preload (security.W021) is for public host names on the browsers' preload list; a bureau's
# intranet host cannot be listed, so HSTS is sent without the preload token.
SILENCED_SYSTEM_CHECKS = ["models.W040", "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "celery": {"level": "WARNING"}},
}

VAR_DIR.mkdir(parents=True, exist_ok=True)
