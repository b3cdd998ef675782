"""Flock settings: one file, every value from the environment (see .env.example)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name} (see .env.example).")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is too small; use {minimum} or more.")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------
# Production is the default: a deploy that forgets a variable must not run in
# debug mode on a known key. `make dev`/`make test` set DJANGO_DEBUG=true.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key" if DEBUG else None)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env_str("FLOCK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "contacts",
    "segments",
    "mailing",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Writes of API, admin, unsubscribe and webhook requests carry that cause.
    "contacts.changes.ChangeCauseMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
try:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flock"),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
# JIT compilation costs 50-200 ms up front on the one-off segment counts that
# Flock runs all day, more than it ever saves on them.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c jit=off".strip()
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://...).")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contacts:list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- I18N -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Redis and Celery -------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE: dict = {
    # Claims of a killed worker go back to pending; retries that are due get sent.
    "deliveries-release": {"task": "mailing.tasks.deliveries_release", "schedule": 60.0},
    # Imports whose worker was killed go on where their last batch ended.
    "imports-resume": {"task": "contacts.tasks.imports_resume_task", "schedule": 60.0},
    # A registered custom field gets its index; a deleted one loses it.
    "contact-indexes": {"task": "contacts.tasks.contact_indexes_task", "schedule": 60.0},
    # Segment membership: the journal, then "within N days" rules moved with the clock.
    "membership-clock": {"task": "segments.tasks.membership_clock_task", "schedule": 60.0},
    # A full reconcile that should find nothing to repair (and logs what it does).
    "membership-drift": {"task": "segments.tasks.membership_drift_task", "schedule": 3600.0},
    "segment-events-prune": {"task": "segments.tasks.events_prune_task", "schedule": 86400.0},
}
# Entry/exit events older than this are deleted by the beat, daily.
SEGMENT_EVENTS_RETENTION_DAYS = env_int("FLOCK_SEGMENT_EVENTS_RETENTION_DAYS", 365, minimum=1)

# --- Email ------------------------------------------------------------------
# Development sends over real SMTP to the local sink started by `make dev`.
# Production sets EMAIL_HOST & co., or ANYMAIL_ESP (e.g. "postmark") with that
# ESP's credentials in ANYMAIL_* variables.
ANYMAIL_ESP = env_str("ANYMAIL_ESP", "")
if ANYMAIL_ESP:
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Flock <hello@flock.localhost>")
# Sending (docs/design.md#sending): batch size per claim, how long a claim lasts, retries.
SEND_BATCH_SIZE = env_int("FLOCK_SEND_BATCH_SIZE", 500, minimum=1)
SEND_LEASE_SECONDS = env_int("FLOCK_SEND_LEASE_SECONDS", 300)
SEND_MAX_ATTEMPTS = env_int("FLOCK_SEND_MAX_ATTEMPTS", 5, minimum=1)
# A batch in flight looks for a pause or cancel, and marks what the server accepted
# (mailing.journal), this often (seconds).
SEND_STATUS_CHECK_SECONDS = 1.0
# Where workers journal the messages the server accepted (mailing.journal): a Redis
# that keeps its data (noeviction, Redis's default; persistence if it may restart).
SEND_JOURNAL_URL = env_str("FLOCK_SEND_JOURNAL_URL", REDIS_URL)
# Send tasks queued per mailing: one per worker process you run.
SEND_TASKS_PER_MAILING = env_int("FLOCK_SEND_TASKS_PER_MAILING", 2)
# Optional mailto: in List-Unsubscribe; only set it if that mailbox is processed.
UNSUBSCRIBE_MAILTO = env_str("FLOCK_UNSUBSCRIBE_MAILTO", "")
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_ESP"
}

# --- CSV imports (docs/design.md#imports) ------------------------------------
# Uploaded files wait here until their import is done; web and workers must share it.
IMPORT_DIR = Path(env_str("FLOCK_IMPORT_DIR", str(BASE_DIR / ".data" / "imports")))
# The largest file accepted, as uploaded (a .csv.gz counts packed).
IMPORT_MAX_BYTES = env_int("FLOCK_IMPORT_MAX_BYTES", 150 * 1024 * 1024, minimum=1)
# Rows per batch: one transaction each, with the job's progress.
IMPORT_BATCH = env_int("FLOCK_IMPORT_BATCH", 5000, minimum=1)
# An import of at least this many rows into an empty contact table builds the
# indexes once at the end instead of row by row (contacts.db.IndexesSetAside).
IMPORT_BULK_MIN_ROWS = env_int("FLOCK_IMPORT_BULK_MIN_ROWS", 50_000, minimum=1)
# Processes that check a bulk load's rows beside the one that writes them (each
# reads the file and checks every n-th batch): one per core is about right.
IMPORT_PROCESSES = env_int("FLOCK_IMPORT_PROCESSES", 2, minimum=1)

# --- Cache -----------------------------------------------------------------
# A real shared cache: the API's per-token rate limits must hold across
# processes and servers (a per-process LocMemCache would multiply them).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("FLOCK_CACHE_URL", REDIS_URL),
        "KEY_PREFIX": "flock",
    }
}

# --- REST API ---------------------------------------------------------------
# Requests per token (or signed-in user): a number per second, minute, hour or day.
API_RATE = env_str("FLOCK_API_RATE", "6000/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_RATE):
    raise ImproperlyConfigured(
        f"FLOCK_API_RATE={API_RATE!r} is not a rate; use a number per second, min, hour "
        "or day, e.g. 6000/min."
    )
# The largest JSON body the API reads (1,000 contacts with custom fields fit easily),
# with or without Content-Length; api/parsers.py applies it, as a JSON 413. Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE keeps its 2.5 MB default for the dashboard's forms.
API_MAX_BODY_BYTES = env_int("FLOCK_API_MAX_BODY_BYTES", 5 * 1024 * 1024)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in, JSON out: lists are plain arrays (docs/design.md#api), errors `{"errors": [...]}`.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Flock API",
    "DESCRIPTION": (
        "Contacts, smart segments and mailings. Authenticate with "
        "`Authorization: Token <key>` (`manage.py drf_create_token USERNAME`) or a "
        'dashboard session. Errors come as `{"errors": [{"path": ..., "message": ...}]}`.'
    ),
    "VERSION": "1.0.0",
    # Paths work with and without a trailing slash; the schema lists them without.
    "PREPROCESSING_HOOKS": ["api.schema.without_slash_duplicates"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_shared_parts",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ContactStatusEnum": "api.serializers.contacts.STATUS_CHOICES",
        "MailingStatusEnum": "mailing.models.Mailing.Status",
        "UpsertStatusEnum": "api.serializers.contacts.UPSERT_STATUSES",
        "ImportTargetEnum": "contacts.imports.mapping.TARGETS",
    },
    # Row ids in paths (api/urls.py IdConverter): up to 18 digits, so always a bigint.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Segments ---------------------------------------------------------------
SEGMENT_MAX_DEPTH = env_int("FLOCK_SEGMENT_MAX_DEPTH", 5)
SEGMENT_MAX_CONDITIONS = env_int("FLOCK_SEGMENT_MAX_CONDITIONS", 50)

# --- Contacts list ----------------------------------------------------------
CONTACTS_PER_PAGE = env_int("FLOCK_CONTACTS_PER_PAGE", 50)

# --- Security (production) --------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOG_LEVEL = env_str("FLOCK_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"FLOCK_LOG_LEVEL={LOG_LEVEL!r} is not a log level; use DEBUG, INFO, WARNING or ERROR."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
