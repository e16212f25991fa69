"""Settings, read from the environment (django-environ); see .env.example for every variable.

Development defaults make `make run` work with nothing set. With DEBUG=False the settings that
must not have a default (SECRET_KEY, ALLOWED_HOSTS) stop start-up with a message naming them.
"""
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)


def _required_in_production(name, dev_default):
    value = env(name, default=None)
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG=False (see .env.example)."
        )
    return dev_default


SECRET_KEY = _required_in_production(
    "SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production-7c1f0e9a5b2d"
)
ALLOWED_HOSTS = [h.strip() for h in _required_in_production("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "backoffice.apps.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "backoffice.apps.BackofficeConfig",
    "partners",
    "campaigns",
    "billing",
    "reports",
    "integrations",
    "integrations.affilae",
    "integrations.affelios",
    "integrations.affili",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "partners.middleware.UserSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

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
                "partners.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'backoffice.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the dev server, the eager Celery tasks and a second shell
    # share the file without "database is locked". synchronous=NORMAL is safe in WAL mode
    # against application crashes (only a power cut may lose the last commits): fine for the
    # embedded setup, which is not the production database.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool("POSTGRES_JIT", default=False):
    # Report queries are short aggregates whose planned cost crosses PostgreSQL's JIT threshold:
    # compiling them costs more than it saves (~130 ms on a cohort report, docs/benchmarks.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
# Reusing connections saves a connect (and, on SQLite, a WAL checkpoint) per request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Health checks cost a round trip at the start of every request (a third of a tracking
# click); off, as in Django's default: after a database restart one request per process fails
# and the next reconnects. Turn on where the database restarts often.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "partners.User"
AUTHENTICATION_BACKENDS = ["partners.auth_backend.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "partners:login"
LOGIN_REDIRECT_URL = "reports:dashboard"

# Time: everything is stored in UTC; business dates (billing periods, "today" in reports,
# cash-out schedule days) are taken in the program's time zone.
USE_TZ = True
TIME_ZONE = "UTC"
PROGRAM_TIME_ZONE = env("PROGRAM_TIME_ZONE", default="UTC")
LANGUAGE_CODE = "en"
USE_I18N = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Affiliate documents are never served by URL: only by a view that checks the affiliate.
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # the ingestion API reads its own, larger limit
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# E-mail
# EMAIL_URL (smtp+tls://user:password@host:587, consolemail://, filemail://...) becomes
# Django 6.1's MAILERS["default"]; the EMAIL_* settings are deprecated there.
# Production defaults to Django's own default (SMTP on localhost): the console backend would
# drop every e-mail silently, and `check --deploy` rejects it (mail.E001).
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_mailer_options = {}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    _mailer_options = {
        "host": _email.get("EMAIL_HOST") or "localhost",
        "port": _email.get("EMAIL_PORT") or 25,
        "username": _email.get("EMAIL_HOST_USER") or None,
        "password": _email.get("EMAIL_HOST_PASSWORD") or None,
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": env.int("EMAIL_TIMEOUT", default=20),
    }
elif _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    _mailer_options = {"file_path": _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")}
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _mailer_options}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Affiliate Program <affiliates@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in e-mails (unlock, set password) are built from this.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
PROGRAM_NAME = env("PROGRAM_NAME", default="Northwind Partners")

# Sessions: database-backed so that a user's sessions can be listed and terminated.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Account security
LOCKOUT_MAX_ATTEMPTS = env.int("LOCKOUT_MAX_ATTEMPTS", default=5)
UNLOCK_LINK_MAX_AGE = env.int("UNLOCK_LINK_MAX_AGE", default=24 * 3600)
SET_PASSWORD_LINK_MAX_AGE = env.int("SET_PASSWORD_LINK_MAX_AGE", default=3 * 24 * 3600)
# Django's token generator (password reset and team invitations) reads this one.
PASSWORD_RESET_TIMEOUT = SET_PASSWORD_LINK_MAX_AGE
OTP_TOTP_ISSUER = PROGRAM_NAME
OTP_TOTP_THROTTLE_FACTOR = env.int("OTP_TOTP_THROTTLE_FACTOR", default=1)
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Key for secrets we must read back (statistic tokens, operator secrets, integration
# credentials). Defaults to one derived from SECRET_KEY; set it explicitly in production
# so that rotating SECRET_KEY does not make stored secrets unreadable.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)

# Reverse proxy: how many proxies in front of us append to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# `manage.py seed_demo` runs these in order; each returns (name, value) lines to print.
# Order matters: reports rebuild the stats of everything seeded before them.
DEMO_SEEDERS = ["partners.services.demo.demo_seed", "campaigns.services.demo.seed", "billing.services.demo.seed",
                "integrations.demo.seed", "reports.demo.seed"]

# Tracking links: GET /<prefix><code>. The prefix is "" (links at the root, e.g. /a1b2c3d4e5)
# or a path such as "go/". The tag <affiliate id>_<visit id> goes to the landing in TRACKING_TAG_PARAM.
TRACKING_PATH_PREFIX = env("TRACKING_PATH_PREFIX", default="")
TRACKING_TAG_PARAM = env("TRACKING_TAG_PARAM", default="stag")
# Base URL printed in tracking links when a brand has no tracking host of its own.
TRACKING_BASE_URL = env("TRACKING_BASE_URL", default="").rstrip("/")
# PostgreSQL: a click's INSERT does not wait for the disk flush (synchronous_commit off for
# that statement). A database crash may lose the last fraction of a second of visits (those
# players then arrive organic); in exchange the redirect is much faster. False = full durability.
TRACKING_ASYNC_COMMIT = env.bool("TRACKING_ASYNC_COMMIT", default=True)
# PostgreSQL: a click takes a visit id reserved in advance and its row is written in bulk by a
# background thread of the process every ~0.5 s (campaigns/services/visit_buffer.py), so the
# redirect waits on no INSERT. On by default in production (DEBUG=False), off in development
# and tests (a visit exists when its request returns). A process that dies without exiting
# cleanly (SIGKILL, OOM, worker timeout) loses its last ~0.5 s of visits (those players then
# arrive organic): the same kind of trade as TRACKING_ASYNC_COMMIT. False = one direct INSERT
# per click; other databases (SQLite) always insert directly.
TRACKING_BUFFERED_WRITES = env.bool("TRACKING_BUFFERED_WRITES", default=not DEBUG)

# Operator ingestion API
INGESTION_MAX_BODY_BYTES = env.int("INGESTION_MAX_BODY_BYTES", default=20 * 1024 * 1024)
INGESTION_MAX_ITEMS = env.int("INGESTION_MAX_ITEMS", default=10_000)

# Postbacks
POSTBACK_TIMEOUT_SECONDS = env.float("POSTBACK_TIMEOUT_SECONDS", default=10.0)
# Delays before the 2nd, 3rd ... attempt (Svix's schedule); after the last one a delivery fails.
POSTBACK_RETRY_SCHEDULE = env.list(
    "POSTBACK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
POSTBACK_DISABLE_AFTER_FAILURES = env.int("POSTBACK_DISABLE_AFTER_FAILURES", default=25)
# Development and tests only: let postbacks reach private/loopback addresses.
POSTBACK_ALLOW_PRIVATE_TARGETS = env.bool("POSTBACK_ALLOW_PRIVATE_TARGETS", default=False)

# Celery: with no broker configured, tasks run eagerly in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
    # OpenAPI schemas by drf-spectacular (the Partner Report API's: reports.api.schema).
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# Production hardening (DEBUG=False). Behind a TLS-terminating proxy set
# SECURE_PROXY_SSL_HEADER via SECURE_PROXY_SSL=true.
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    if env.bool("SECURE_PROXY_SSL", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Statistic tokens ride in feed URLs (?token=...): request lines are redacted before output.
    "filters": {"redact_secrets": {"()": "backoffice.log_filters.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Django's default config stops django.server from propagating: give it our handler (and
    # so the redaction) explicitly.
    "loggers": {"django.server": {"level": "INFO", "handlers": ["console"], "propagate": False}},
}

# Periodic jobs (django_celery_beat's DatabaseScheduler installs these entries at start-up).
# Each is also a management command an operator can run by hand.
CELERY_BEAT_SCHEDULE = {
    # Postback retries that came due, and anything the on-commit fast path missed
    # (manage.py deliver_postbacks --once). `expires`: a tick nobody picked up is dropped.
    "deliver-due-postbacks": {
        "task": "campaigns.deliver_due_postbacks",
        "schedule": 5.0,
        "options": {"expires": 10},
    },
    # Close completed billing periods and issue bills (manage.py run_billing). 00:30 in
    # CELERY_TIMEZONE (UTC); a period closes once its last day has ended in the program time
    # zone, so west of UTC it is billed on the next day's run. Safe to run twice.
    "run-billing": {
        "task": "billing.run_billing",
        "schedule": crontab(hour=0, minute=30),
    },
    # Automatic cash-out schedules due today in the program time zone (manage.py
    # run_cashout_schedules --date, also to replay a date the worker missed). 01:00 UTC. Safe to
    # run twice: one run per schedule and date.
    "run-cashout-schedules": {
        "task": "billing.run_cashout_schedules",
        "schedule": crontab(hour=1, minute=0),
    },
    # Stats rollups of raw rows written in bulk since the previous pass (manage.py
    # refresh_stats; manage.py rebuild_stats recomputes a whole range). Safe to run twice.
    "refresh-stats": {
        "task": "reports.refresh_stats",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
    # Nightly safety net for the minute pass (manage.py rebuild_stats --from ... --to ...).
    "rebuild-recent-stats": {
        "task": "reports.rebuild_recent_stats",
        "schedule": crontab(hour=2, minute=0),
    },
    # Integrations: each connection has its own interval (Connection.sync_interval_minutes);
    # this minute tick queues the ones that are due (manage.py sync_integrations runs them now).
    "sync-due-connections": {
        "task": "integrations.sync_due_connections",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
}

# Report API and token feeds: calls per statistic token per window (seconds); 429 beyond.
REPORT_API_RATE_LIMIT = env.int("REPORT_API_RATE_LIMIT", default=60)
REPORT_API_RATE_WINDOW = env.int("REPORT_API_RATE_WINDOW", default=60)

# Reports: grouped rows the report page shows before offering a file instead; groups a report
# read from the raw tables (player, country, cohort, tag groupers) may have on the page/API
# (400 beyond, suggesting async=true) and in a file (exports, requested reports).
REPORT_PAGE_MAX_ROWS = env.int("REPORT_PAGE_MAX_ROWS", default=50_000)
REPORT_MAX_RAW_GROUPS = env.int("REPORT_MAX_RAW_GROUPS", default=100_000)
REPORT_MAX_RAW_FILE_GROUPS = env.int("REPORT_MAX_RAW_FILE_GROUPS", default=1_000_000)

# A sync run holds its connection's lock this long past its last checkpoint; a run that dies
# without releasing it blocks the connection no longer than this.
INTEGRATIONS_LOCK_SECONDS = env.int("INTEGRATIONS_LOCK_SECONDS", default=30 * 60)
